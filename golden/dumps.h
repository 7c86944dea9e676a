/* dumps.h - comparing two dumps tensor by tensor (q35 compare).
 *
 * A dump is a safetensors file (what q35 forward --dump and golden/tools/hf_dump.py write) or a
 * directory of .npy files (npy.h), the usual way other implementations save tensors. */
#ifndef Q35_DUMPS_H
#define Q35_DUMPS_H

#include <stddef.h>

#include "policy.h"
#include "report.h"
#include "safetensors.h"

typedef struct {
    const char *ours, *theirs;   /* dumps; ours sets the execution order */
    const q35_policy *policy;
    const char *names;           /* alias map (alias.h) applied to theirs' names, or NULL */
    const char *phase;           /* prefix of alias-mapped names; NULL: "prefill" */
    const char *config;          /* checkpoint directory or config.json for the map's params, or NULL */
    const char *const *params;   /* NAME=VALUE overrides of the map's params */
    int nparams;
} q35_compare_opts;

/* Opens a dump: a directory of .npy files when q35_npy_is_dir(path), else safetensors. */
int q35_dump_open(q35_st *st, const char *path, char *err, size_t errlen);

/* Compares every tensor of ours with theirs' tensor of the same canonical name (after the alias
 * map, when given), in ours' execution order (the order the dump was written), adding one row
 * each to rep, then one row per tensor found on one side only. Logits in top-k form on either
 * side (NAME.topk_ids + NAME.topk_logprobs, logits.h) are compared as one row NAME.topk. Adds the
 * provenance lines (files, map, policy). A tensor whose shape differs, or whose alias transform
 * does not fit, is a failing row with the reason in its note. Returns 0 when every compared tensor
 * passes, 1 when one fails, -1 with err when a dump or the map cannot be read or the two share no
 * tensor. */
int q35_compare_files(const q35_compare_opts *o, q35_report *rep, char *err, size_t errlen);

#endif
