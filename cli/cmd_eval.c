/* cmd_eval.c - q35 eval: a YAML-configured benchmark run (eval/). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "run.h"

static const char *usage_eval =
    "usage: q35 eval CONFIG.yaml [--model DIR] [--data PATH] [--out RUN_DIR] [--resume] [--limit N]\n"
    "                [--shard K/N] [--set KEY=VALUE]... [--backend NAME] [--threads N] [--images DIR]\n"
    "                [--dry-run] [--tokenizer FILE]\n"
    "       q35 eval merge RUN_DIR... --out RUN_DIR [--data PATH]\n"
    "       q35 eval diff RUN_A RUN_B [--json] [--list N]\n"
    "\n"
    "Runs the multiple-choice benchmark CONFIG describes (eval/configs/: MMLU as lm-evaluation-harness\n"
    "0.4.x scores it, 0- or 5-shot, plain or through the chat template; MMLU-Redux generative as the\n"
    "card's evaluations prompt it; MMLU-Pro, C-Eval, GPQA from JSONL/CSV exports). Each item's exact\n"
    "prompt, token ids and score go to a log as it finishes; the report is computed from that log.\n"
    "\n"
    "  --model DIR        the checkpoint (config key model)\n"
    "  --data PATH        the dataset (dataset.path): a directory or file of the config's format\n"
    "  --images DIR       the images of a dataset that names them (dataset.images; POPE, VQAv2: COCO val2014)\n"
    "  --annotations FILE VQAv2's annotations (dataset.annotations; --data gives its questions file)\n"
    "  --out RUN_DIR      where the run goes (default runs/<config name>, with a shard\n"
    "                     runs/<config name>.shard-K-of-N): config.yaml (the effective configuration),\n"
    "                     run.json, samples.jsonl (one line per item, fsync'd as it finishes),\n"
    "                     results.json, report.md, chart.svg\n"
    "  --resume           continue the run in RUN_DIR: logged items are skipped, a torn last line is\n"
    "                     redone; refused when the configuration, model, shard or q35 version differ\n"
    "  --limit N          the first N items of each subject (config key limit)\n"
    "  --shard K/N        run the K-th of N shares (1-based): every N-th item of the run's sequence,\n"
    "                     so each share holds every subject. Without --shard, a Slurm job array's\n"
    "                     SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (and SLURM_ARRAY_TASK_MIN)\n"
    "                     choose it. Then q35 eval merge the shard directories.\n"
    "  --set KEY=VALUE    override any key, e.g. --set prompt.num_fewshot=0 (repeatable)\n"
    "  --dry-run          read no weights: print per item the exact prompt text, its token ids and\n"
    "                     the scored continuations' ids (or the sampling settings), one JSON line each\n"
    "  --tokenizer FILE   the tokenizer.json (with --dry-run, instead of a model)\n"
    "  --backend NAME     fast (default), ref, fast-bf16;  --threads N\n"
    "\n"
    "merge: writes into --out exactly what one machine running the whole benchmark writes, after\n"
    "checking that the shards share configuration, model and q35 version and log every item once.\n"
    "diff: item by item, two runs of the same benchmark (backends, ports, settings): the changed\n"
    "items, McNemar's exact test, the accuracy difference with its 95% interval.\n"
    "\n"
    "Config keys (README, \"q35 eval\"): ";

static int cmd_eval_merge(int argc, char **argv) {
    const char *out = NULL, *data = NULL;
    char *dirs[256];
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--out") || !strcmp(argv[i], "--data")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "q35 eval merge: %s needs a value\n", argv[i]);
                return 2;
            }
            *(!strcmp(argv[i], "--out") ? &out : &data) = argv[i + 1];
            i++;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "q35 eval merge: unknown option %s (q35 eval --help)\n", argv[i]);
            return 2;
        } else if (n < 256) {
            dirs[n++] = argv[i];
        }
    }
    if (!out || n == 0) {
        fprintf(stderr, "usage: q35 eval merge RUN_DIR... --out RUN_DIR [--data PATH]\n");
        return 2;
    }
    char err[ERRLEN];
    if (q35_eval_merge(dirs, n, out, data, err, sizeof err) != 0) {
        fprintf(stderr, "q35 eval merge: %s\n", err);
        return 1;
    }
    fprintf(stderr, "q35 eval merge: %d shards -> %s/results.json, %s/report.md\n", n, out, out);
    return 0;
}

/* "K/N" with 1 <= K <= N <= 100000, each decimal digits only (no blank, no sign: cli_digits). */
static int parse_shard(const char *v, int *k, int *n) {
    const char *slash = strchr(v, '/');
    char ks[16];
    uint64_t a, b;
    if (!slash || (size_t)(slash - v) >= sizeof ks) return -1;
    memcpy(ks, v, (size_t)(slash - v));
    ks[slash - v] = 0;
    if (cli_digits(ks, 1, 100000, &a) != 0 || cli_digits(slash + 1, 1, 100000, &b) != 0 || a > b) return -1;
    *k = (int)a, *n = (int)b;
    return 0;
}

/* The shard from Slurm's job array variables: 0 when none are set, -1 when they are malformed. */
static int slurm_shard(int *k, int *n) {
    const char *id = getenv("SLURM_ARRAY_TASK_ID"), *cnt = getenv("SLURM_ARRAY_TASK_COUNT"),
               *min = getenv("SLURM_ARRAY_TASK_MIN");
    if (!id || !cnt) return 0;
    uint64_t i, c, m = 0; /* digits only, as Slurm writes them; an int's range */
    if (cli_digits(id, 0, INT_MAX, &i) != 0 || cli_digits(cnt, 1, INT_MAX, &c) != 0) return -1;
    if (min && *min && cli_digits(min, 0, INT_MAX, &m) != 0) return -1;
    if (i < m || i - m >= c) return -1;
    *k = (int)(i - m + 1), *n = (int)c;
    return 1;
}

int cmd_eval(int argc, char **argv) {
    if (argc >= 1 && !strcmp(argv[0], "diff")) return cmd_eval_diff(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "merge")) return cmd_eval_merge(argc - 1, argv + 1);
    if (wants_help(argc, argv) || argc < 1) {
        FILE *f = argc < 1 ? stderr : stdout;
        fputs(usage_eval, f);
        fprintf(f, "%s.\n", q35_eval_config_keys());
        return argc < 1 ? 2 : 0;
    }
    char err[ERRLEN];
    q35_eval_config c;
    if (q35_eval_config_load(&c, argv[0], err, sizeof err) != 0) {
        fprintf(stderr, "q35 eval: %s\n", err);
        return 2;
    }
    const char *out = NULL;
    q35_eval_opts o = { 0 };
    int dry = 0, rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char kv[4200];
        kv[0] = 0;
        if (strcmp(a, "--resume") == 0) o.resume = 1;
        else if (strcmp(a, "--dry-run") == 0) dry = 1;
        else if (strcmp(a, "--model") && strcmp(a, "--data") && strcmp(a, "--out") && strcmp(a, "--limit") &&
                 strcmp(a, "--set") && strcmp(a, "--backend") && strcmp(a, "--threads") && strcmp(a, "--tokenizer") &&
                 strcmp(a, "--shard") && strcmp(a, "--images") && strcmp(a, "--annotations")) {
            fprintf(stderr, "q35 eval: unknown option %s (q35 eval --help)\n", a);
            goto done;
        } else if (!v) {
            fprintf(stderr, "q35 eval: %s needs a value\n", a);
            goto done;
        } else {
            i++;
            if (!strcmp(a, "--out")) out = v;
            else if (!strcmp(a, "--shard")) {
                if (parse_shard(v, &o.shard_k, &o.shard_n) != 0) {
                    fprintf(stderr, "q35 eval: --shard %s: expected K/N with 1 <= K <= N\n", v);
                    goto done;
                }
            }
            else if (!strcmp(a, "--set")) snprintf(kv, sizeof kv, "%s", v);
            else if (!strcmp(a, "--model")) snprintf(kv, sizeof kv, "model=%s", v);
            else if (!strcmp(a, "--data")) snprintf(kv, sizeof kv, "dataset.path=%s", v);
            else if (!strcmp(a, "--images")) snprintf(kv, sizeof kv, "dataset.images=%s", v);
            else if (!strcmp(a, "--annotations")) snprintf(kv, sizeof kv, "dataset.annotations=%s", v);
            else if (!strcmp(a, "--limit")) snprintf(kv, sizeof kv, "limit=%s", v);
            else if (!strcmp(a, "--backend")) snprintf(kv, sizeof kv, "backend=%s", v);
            else if (!strcmp(a, "--threads")) snprintf(kv, sizeof kv, "threads=%s", v);
            else snprintf(kv, sizeof kv, "tokenizer=%s", v);
            if (kv[0] && q35_eval_config_set(&c, kv, err, sizeof err) != 0) {
                fprintf(stderr, "q35 eval: %s\n", err);
                goto done;
            }
        }
    }
    if (!o.shard_n) {
        int sl = slurm_shard(&o.shard_k, &o.shard_n);
        if (sl < 0) {
            fprintf(stderr, "q35 eval: SLURM_ARRAY_TASK_ID/COUNT/MIN do not name a task of the array\n");
            goto done;
        }
        if (sl > 0) fprintf(stderr, "q35 eval: shard %d/%d from the Slurm job array\n", o.shard_k, o.shard_n);
    }
    if (q35_eval_config_finish(&c, err, sizeof err) != 0) {
        fprintf(stderr, "q35 eval: %s: %s\n", argv[0], err);
        goto done;
    }
    char defdir[4200];
    if (!out && !dry) {
        const char *base = strrchr(argv[0], '/');
        base = base ? base + 1 : argv[0];
        const char *dot = strrchr(base, '.');
        int len = snprintf(defdir, sizeof defdir, "runs/%.*s", dot ? (int)(dot - base) : (int)strlen(base), base);
        if (o.shard_n > 1) snprintf(defdir + len, sizeof defdir - (size_t)len, ".shard-%d-of-%d", o.shard_k, o.shard_n);
        if (access("runs", F_OK) != 0 && mkdir("runs", 0777) != 0) {
            fprintf(stderr, "q35 eval: cannot create runs/; give --out DIR\n");
            goto done;
        }
        out = defdir;
    }
    o.out_dir = out;
    o.dry_run = dry ? stdout : NULL;
    o.progress_tty = isatty(2);
    rc = q35_eval_run(&c, &o, err, sizeof err) == 0 ? 0 : 1;
    if (rc) fprintf(stderr, "q35 eval: %s\n", err);
    else if (!dry) fprintf(stderr, "q35 eval: %s/results.json and %s/report.md written\n", out, out);
done:
    q35_eval_config_free(&c);
    return rc;
}
