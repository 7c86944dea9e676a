/* run.h - running an evaluation: the items selected (limit, shard), their prompts and tokens as
 * lm-evaluation-harness makes them, log-likelihood or generative scoring, a per-item log (resumable,
 * mergeable across shards), and results.json, report.md and chart.svg computed from that log. */
#ifndef Q35_EVAL_RUN_H
#define Q35_EVAL_RUN_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "dataset.h"

typedef struct {
    const char *out_dir; /* the run directory (created); NULL with dry_run */
    FILE *dry_run;       /* non-NULL: write each item's prompt and tokens there, read no weights */
    int resume;          /* continue the run in out_dir */
    int progress_tty;    /* redraw one progress line (else a line every 50 items) */
    int shard_k, shard_n;/* run shard k of n (1-based); n <= 1: everything */
} q35_eval_opts;

/* What a run directory's run.json holds: what a resume or a merge must find the same. */
typedef struct {
    char config_hash[65], model_fp[65];
    char model_size[16]; /* "0.8b", "2b", "4b" or "other" (by the text model's width) */
    char version[32];
    int shard_k, shard_n;
} q35_eval_run_info;

/* Runs c. Returns 0, or -1 with err (bad data, a model error, a run directory that holds another
 * configuration's run). */
int q35_eval_run(const q35_eval_config *c, const q35_eval_opts *o, char *err, size_t errlen);

/* Merges the shard run directories dirs[n] (all shards of one run: same configuration hash, model
 * fingerprint and q35 version, each shard once, every item logged exactly once) into out_dir:
 * samples.jsonl in the single run's item order, run.json, config.yaml, and the results, report and
 * chart a single run writes. data overrides the dataset path of the shards' config (NULL: theirs).
 * 0, or -1 with err naming what is missing, doubled or different. */
int q35_eval_merge(char *const *dirs, int n, const char *out_dir, const char *data, char *err, size_t errlen);

/* The dataset c names (format, path, filters, subject subset) into d. -1 with err. */
int q35_eval_load_data(q35_mc_set *d, const q35_eval_config *c, char *err, size_t errlen);
/* Reads dir/run.json. -1 with err when it is missing or incomplete. */
int q35_eval_read_run_info(const char *dir, q35_eval_run_info *ri, char *err, size_t errlen);

/* The 95% Wilson score interval of k successes in n trials into lo, hi (0, 0 when n = 0). */
void q35_wilson95(double k, int n, double *lo, double *hi);

#endif
