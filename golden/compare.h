/* compare.h - honest metrics between a tensor and its golden.
 *
 *   max_abs  = max |a - g|
 *   max_rel  = max_abs / max(1, max |g|)   (the normalised error the bars are stated in)
 *   cosine   = <a, g> / (|a| |g|)           (1 when both are all zero), in double
 *   mean_abs = mean |a - g|;  rmse = sqrt(mean (a - g)^2)
 *   nmse     = sum (a - g)^2 / sum g^2      (the error energy relative to the golden's)
 *   rtol_needed = max |a - g| / |g| over elements with g != 0: with atol = 0, the smallest rtol
 *              that passes |a - g| <= atol + rtol |g| (atol_needed = max_abs with rtol = 0)
 * Shapes must match exactly; integer goldens (ids, positions) must match exactly. A NaN or Inf on
 * one side only is always a failure. */
#ifndef Q35_COMPARE_H
#define Q35_COMPARE_H

#include <stdio.h>

#include "tensor.h"

typedef struct {
    int shape_ok;      /* same ndim and sizes */
    int is_int;        /* the golden is I64: compared exactly */
    int64_t n;         /* elements compared */
    int64_t mismatches;/* I64: elements that differ */
    int nonfinite;     /* a NaN or Inf in ours where the golden is finite */
    double max_abs, max_rel, cosine, max_golden;
    double mean_abs, rmse, nmse, rtol_needed;
    int64_t worst;     /* flat index of max_abs */
    int64_t nan_ours, nan_gold;     /* NaN or Inf counts on each side */
    int64_t first_nan_ours, first_nan_gold; /* their first flat index, -1 when none */
} q35_cmp;

/* Compares ours against gold (any dtypes; I64 goldens exactly). */
void q35_compare(q35_cmp *r, const q35_tensor *ours, const q35_tensor *gold);

/* Pass/fail under tolerances: shape_ok, no mismatches, finite, max_rel <= tol, cosine >= min_cos. */
int q35_cmp_pass(const q35_cmp *r, double tol, double min_cos);

/* The max_rel bar for a tensor name: tol_logits for names ending in "logits", else tol. */
double q35_cmp_tol(const char *name, double tol, double tol_logits);

/* --- comparing two dumps (q35 compare) --- */

typedef struct {
    const char *ours, *theirs;   /* safetensors files; ours sets the execution order */
    double tol, tol_logits, min_cos;
    int failures_only;
} q35_compare_opts;

typedef struct {
    int compared, failed, only_ours, only_theirs;
    char first_fail[256];
} q35_compare_result;

/* Compares every tensor of ours that theirs also holds, in ours' file order (a dump's order is
 * execution order), printing one row each, then the first divergence with the tensors just
 * before it. Returns 0 when all compared tensors pass, 1 when one fails, -1 with err when a
 * file cannot be read or the two share no tensor. */
int q35_compare_files(const q35_compare_opts *o, FILE *out, q35_compare_result *r, char *err, size_t errlen);

#endif
