/* policy.h - which tolerance a tensor must meet: defaults per dtype and kind, overridable by YAML.
 *
 * A policy is an ordered list of rules; the first rule that applies to a tensor decides it, and
 * reports name it. The defaults, in order:
 *   integer   ids, positions, grids (an integer dtype on either side): exact, as integers
 *   logits    names ending in "logits", both sides float32: max_rel <= 1e-4, cosine >= 0.99999
 *   low-precision  either side stored in bf16 or f16: max_rel <= 1e-2, cosine >= 0.999
 *             (bf16 keeps 8 significant bits: one rounding is up to 2^-9 = 2e-3 relative)
 *   float32   everything else: max_rel <= 2e-4, cosine >= 0.99999
 * A YAML file (format: q35-tolerances/1) puts its rules before the defaults:
 *   rules:
 *     - name: "my logits"          # optional; default "FILE rule N"
 *       match: "\\.logits$"        # POSIX extended regex on the canonical name (default: every name)
 *       dtype: bf16                # optional: f32, bf16, f16, f64 or int: the lower-precision side's dtype
 *       max_rel: 1e-3              # each bar optional; a rule must set at least one
 *       cosine: 0.9999
 *       atol: 1e-4                 # with rtol: every element |ours - golden| <= atol + rtol |golden|
 *       rtol: 1e-3
 *       top1_min: 0.99             # logits only: top-1 agreement rate
 *       kl_max: 1e-3               # logits only: max over positions of KL(golden || ours)
 * A NaN or Inf on one side only fails under every rule. */
#ifndef Q35_POLICY_H
#define Q35_POLICY_H

#include <stddef.h>

#include "compare.h"
#include "logits.h"
#include "tensor.h"

typedef struct {
    char name[96];
    char *pattern;           /* owned; NULL: every name */
    void *regex;             /* compiled pattern (regex_t *) */
    int dtype;               /* -1 any, else a q35_dtype of the lower-precision side (Q35_I64 = int) */
    int exact;               /* integers: every element equal */
    double max_rel, cosine;  /* < 0: not checked */
    double atol, rtol;       /* allclose when either >= 0 */
    double top1_min, kl_max; /* logits; < 0: not checked */
} q35_tol_rule;

typedef struct {
    q35_tol_rule *rules;
    int n;
    char source[256];        /* the YAML file, or "" for the defaults alone */
} q35_policy;

/* The default rules, with the float32 bar tol, the logits bar tol_logits and the cosine bar
 * min_cos (the command-line --tol, --tol-logits, --min-cos). Returns -1 only when out of memory. */
int q35_policy_default(q35_policy *p, double tol, double tol_logits, double min_cos, char *err, size_t errlen);

/* Reads a YAML policy file and puts its rules before p's. Returns -1 with err naming the file and
 * rule for unknown keys, wrong types, bad regexes, negative bars or a rule without a bar. */
int q35_policy_load(q35_policy *p, const char *path, char *err, size_t errlen);

/* The rule that applies to a tensor named name whose sides have dtypes ours and gold. Never NULL
 * for a policy that holds the defaults. */
const q35_tol_rule *q35_policy_rule(const q35_policy *p, const char *name, q35_dtype ours, q35_dtype gold);

/* Whether a tensor meets rule r. c: its metrics (NULL for a top-k logits row, judged by its logits
 * metrics alone); lg: logits metrics or NULL; allclose_bad: elements outside atol + rtol |golden|
 * (q35_allclose_bad; only read when the rule sets atol or rtol). A top-k row under a rule without
 * top1_min or kl_max is held to the defaults' top1 >= 1 and KL <= 1e-4. */
int q35_rule_pass(const q35_tol_rule *r, const q35_cmp *c, const q35_logit_cmp *lg, int64_t allclose_bad);

/* A one-line description of r's bars ("max_rel <= 2e-04, cosine >= 0.99999") into buf. */
void q35_rule_describe(char *buf, size_t n, const q35_tol_rule *r);

void q35_policy_free(q35_policy *p);

#endif
