/* bench.h - `q35 bench`: prefill and decode speed of a checkpoint, with the machine's limits
 * measured in the same run. */
#ifndef Q35_CLI_BENCH_H
#define Q35_CLI_BENCH_H

/* q35 bench MODEL_DIR [--backend NAME] [--threads N] [--prompt N] [--gen N] [--repeat R]
 *                     [--image WxH] [--json] [--no-limits]
 * argv holds the arguments after "bench". Prints a table (or one JSON object with --json) on
 * stdout, progress on stderr. Returns 0 done, 1 failed (model unreadable, out of memory), 2 bad
 * usage. */
int q35_cmd_bench(int argc, char **argv);

#endif
