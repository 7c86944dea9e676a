/* verify.h - run a model through every phase of a golden set and compare every tensor.
 *
 * A golden set directory holds manifest.json, golden.safetensors and checkpoint_f32/ and/or
 * checkpoint_bf16/ (layout in golden/data/README.md). Phases, by name prefix:
 *   prefill.   the prompt on empty caches, then the caches (prefill.cache.*)
 *   decode{s}. one token each on top of the caches; the token is our own greedy choice from the
 *              previous logits, so decode{s}.input_ids checks greedy decoding too
 *   full., long.  a prompt on empty caches, no decode
 *   bf16w.     the prompt with checkpoint_bf16's weights
 * The model is --model DIR when given, else checkpoint_f32 when present, else checkpoint_bf16. */
#ifndef Q35_VERIFY_H
#define Q35_VERIFY_H

#include <stdio.h>

#include "ops.h"

typedef struct {
    const char *golden_dir;
    const char *model_dir;   /* NULL: the set's own checkpoint */
    const q35_ops *ops;
    double tol;              /* max_rel bar for every float tensor but logits (2e-4) */
    double tol_logits;       /* max_rel bar for *.logits (1e-4) */
    double min_cos;          /* cosine bar (0.99999) */
    int failures_only;       /* print only the rows that do not pass */
} q35_verify_opts;

typedef struct {
    int passed, failed, missing, unsupported;
    char first_fail[256];
    char worst[256];         /* float tensor with the largest max_rel */
    double worst_rel;
} q35_verify_result;

/* Fills defaults (tolerances above, reference ops). */
void q35_verify_defaults(q35_verify_opts *o);

/* Runs the set, printing the per-tensor table and a summary to out. Returns 0 when every golden
 * tensor was produced and passed, 1 when any failed or was not produced, 2 when all that ran
 * passed but some goldens need parts not implemented yet (counted in r->unsupported), and -1
 * with err when the set or model cannot be read. */
int q35_verify(const q35_verify_opts *o, FILE *out, q35_verify_result *r, char *err, size_t errlen);

#endif
