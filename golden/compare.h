/* compare.h - honest metrics between a tensor and its golden.
 *
 *   max_abs  = max |a - g|
 *   max_rel  = max_abs / max(1, max |g|)   (the normalised error the bars are stated in)
 *   cosine   = <a, g> / (|a| |g|)           (1 when both are all zero), in double
 * Shapes must match exactly; integer goldens (ids, positions) must match exactly. */
#ifndef Q35_COMPARE_H
#define Q35_COMPARE_H

#include "tensor.h"

typedef struct {
    int shape_ok;      /* same ndim and sizes */
    int is_int;        /* the golden is I64: compared exactly */
    int64_t n;         /* elements compared */
    int64_t mismatches;/* I64: elements that differ */
    int nonfinite;     /* a NaN or Inf in ours where the golden is finite */
    double max_abs, max_rel, cosine, max_golden;
    int64_t worst;     /* flat index of max_abs */
} q35_cmp;

/* Compares ours against gold (any dtypes; I64 goldens exactly). */
void q35_compare(q35_cmp *r, const q35_tensor *ours, const q35_tensor *gold);

/* Pass/fail under tolerances: shape_ok, no mismatches, finite, max_rel <= tol, cosine >= min_cos. */
int q35_cmp_pass(const q35_cmp *r, double tol, double min_cos);

#endif
