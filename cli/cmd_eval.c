/* cmd_eval.c - q35 eval: a YAML-configured benchmark run (eval/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "run.h"

static const char *usage_eval =
    "usage: q35 eval CONFIG.yaml [--model DIR] [--data DIR] [--out RUN_DIR] [--resume] [--limit N]\n"
    "                [--set KEY=VALUE]... [--backend NAME] [--threads N] [--dry-run] [--tokenizer FILE]\n"
    "\n"
    "Runs the benchmark CONFIG describes (eval/configs/). Today: MMLU as lm-evaluation-harness 0.4.x\n"
    "scores it (task mmlu: the per-subject description, k shots from the dev split in file order,\n"
    "\"Answer:\", the log-likelihood of \" A\"..\" D\" with the harness's request split; acc per subject,\n"
    "the micro average over items overall).\n"
    "\n"
    "  --model DIR        the checkpoint (config key model)\n"
    "  --data DIR         the dataset directory (dataset.path): test/ or test_sample/ and dev/ CSVs\n"
    "  --out RUN_DIR      where the run goes (default runs/<config name>): config.yaml (the effective\n"
    "                     configuration), run.json, samples.jsonl (one line per item, fsync'd as it\n"
    "                     finishes), results.json, report.md\n"
    "  --resume           continue the run in RUN_DIR: logged items are skipped, a torn last line is\n"
    "                     redone; refused when the configuration, model or q35 version differ\n"
    "  --limit N          the first N items of each subject (config key limit)\n"
    "  --set KEY=VALUE    override any key, e.g. --set prompt.num_fewshot=0 (repeatable)\n"
    "  --dry-run          read no weights: print per item the exact context, the continuations, the\n"
    "                     token ids lm-eval scores and the gold index, one JSON line each\n"
    "  --tokenizer FILE   the tokenizer.json (with --dry-run, instead of a model)\n"
    "  --backend NAME     fast (default), ref, fast-bf16;  --threads N\n"
    "\n"
    "Config keys: task, model, backend, threads, tokenizer, dataset.path, dataset.format,\n"
    "prompt.num_fewshot, scoring, limit, seed (README, \"q35 eval\").\n";

int cmd_eval(int argc, char **argv) {
    if (wants_help(argc, argv) || argc < 1) {
        fputs(usage_eval, argc < 1 ? stderr : stdout);
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
                 strcmp(a, "--set") && strcmp(a, "--backend") && strcmp(a, "--threads") && strcmp(a, "--tokenizer")) {
            fprintf(stderr, "q35 eval: unknown option %s (q35 eval --help)\n", a);
            goto done;
        } else if (!v) {
            fprintf(stderr, "q35 eval: %s needs a value\n", a);
            goto done;
        } else {
            i++;
            if (!strcmp(a, "--out")) out = v;
            else if (!strcmp(a, "--set")) snprintf(kv, sizeof kv, "%s", v);
            else if (!strcmp(a, "--model")) snprintf(kv, sizeof kv, "model=%s", v);
            else if (!strcmp(a, "--data")) snprintf(kv, sizeof kv, "dataset.path=%s", v);
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
    char defdir[4200];
    if (!out && !dry) {
        const char *base = strrchr(argv[0], '/');
        base = base ? base + 1 : argv[0];
        const char *dot = strrchr(base, '.');
        snprintf(defdir, sizeof defdir, "runs/%.*s", dot ? (int)(dot - base) : (int)strlen(base), base);
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
