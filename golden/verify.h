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
#include "policy.h"
#include "report.h"

typedef struct {
    const char *golden_dir;
    const char *model_dir;   /* NULL: the set's own checkpoint */
    const q35_ops *ops;
    const q35_policy *policy;/* NULL: the defaults (policy.h) */
    int teacher_force;       /* each text layer / vision block fed the golden input of that layer */
    int hash_model;          /* provenance: SHA-256 of every weight file (reads them all once) */
    FILE *progress;          /* one line per phase, or NULL */
} q35_verify_opts;

/* Fills defaults (reference ops, default policy, no teacher forcing). */
void q35_verify_defaults(q35_verify_opts *o);

/* Runs the set, adding one row per golden tensor to rep in execution order (and provenance:
 * golden set, manifest SHA-256, transformers version, model, backend, threads, q35 version).
 * Returns 0 when every golden tensor was produced and passed, 1 when any failed, was not
 * produced, or needs parts not implemented yet (rows "unsupported": never a pass), and -1 with
 * err when the set or model cannot be read.
 * With teacher_force, every decoder layer's input (text.layers.N.input), the final norm's input,
 * every vision block's input and the merger's input are replaced by the golden tensors before the
 * layer runs, so each row shows the error that layer itself adds; caches then hold the state the
 * forced layers produced. */
int q35_verify(const q35_verify_opts *o, q35_report *rep, char *err, size_t errlen);

#endif
