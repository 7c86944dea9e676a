/* run.h - running an evaluation: items, prompts and tokens exactly as lm-evaluation-harness makes
 * them, scored by log-likelihood, logged item by item (resumable), summarised in results.json and
 * report.md. */
#ifndef Q35_EVAL_RUN_H
#define Q35_EVAL_RUN_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

typedef struct {
    const char *out_dir; /* the run directory (created); NULL with dry_run */
    FILE *dry_run;       /* non-NULL: write each item's prompt and tokens there, read no weights */
    int resume;          /* continue the run in out_dir */
    int progress_tty;    /* redraw one progress line (else a line every 50 items) */
} q35_eval_opts;

/* Runs c. Returns 0, or -1 with err (bad data, a model error, a run directory that holds another
 * configuration's run). */
int q35_eval_run(const q35_eval_config *c, const q35_eval_opts *o, char *err, size_t errlen);

/* The 95% Wilson score interval of k successes in n trials into lo, hi (0, 0 when n = 0). */
void q35_wilson95(int k, int n, double *lo, double *hi);

#endif
