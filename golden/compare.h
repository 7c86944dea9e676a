/* compare.h - honest metrics between a tensor and its golden.
 *
 *   max_abs  = max |a - g|
 *   max_rel  = max_abs / max(1, max |g|)   (the normalised error the bars are stated in)
 *   cosine   = <a, g> / (|a| |g|)           (1 when both are all zero), in double
 *   mean_abs = mean |a - g|;  rmse = sqrt(mean (a - g)^2)
 *   nmse     = sum (a - g)^2 / sum g^2      (the error energy relative to the golden's)
 *   rtol_needed = max |a - g| / |g| over elements with g != 0: with atol = 0, the smallest rtol
 *              that passes |a - g| <= atol + rtol |g| (atol_needed = max_abs with rtol = 0)
 * Shapes must match exactly. When either side has an integer dtype (ids, positions, grids), every
 * element must be the same integer, whichever side holds it: two integers compare as 64-bit
 * integers (never through double, where 2^53 + 1 == 2^53), and a float equals an integer only when
 * it is exactly that integer (1.00001 is no id, and a float32 that rounded a large id names
 * another). An implementation may store integers as floats, so a float side is no failure by
 * itself. A NaN or Inf on one side only is always a failure. */
#ifndef Q35_COMPARE_H
#define Q35_COMPARE_H

#include <stdio.h>

#include "tensor.h"

typedef struct {
    int shape_ok;      /* same ndim and sizes */
    int is_int;        /* either side has an integer dtype: compared exactly, as integers */
    int64_t n;         /* elements compared */
    int64_t mismatches;/* is_int: elements that are not the same integer */
    int nonfinite;     /* a NaN or Inf in ours where the golden is finite */
    double max_abs, max_rel, cosine, max_golden;
    double mean_abs, rmse, nmse, rtol_needed;
    int64_t worst;     /* flat index of max_abs */
    int64_t nan_ours, nan_gold;     /* NaN or Inf counts on each side */
    int64_t first_nan_ours, first_nan_gold; /* their first flat index, -1 when none */
} q35_cmp;

/* Compares ours against gold (any dtypes; exactly, as integers, when either side is an integer
 * dtype; max_abs then the exact integer distance, rounded to double). */
void q35_compare(q35_cmp *r, const q35_tensor *ours, const q35_tensor *gold);

/* Elements with |ours - gold| > atol + rtol |gold| (negative atol/rtol count as 0); NaN counts. */
int64_t q35_allclose_bad(const q35_tensor *ours, const q35_tensor *gold, double atol, double rtol);

/* Pass/fail under tolerances: shape_ok, no mismatches, finite, max_rel <= tol, cosine >= min_cos. */
int q35_cmp_pass(const q35_cmp *r, double tol, double min_cos);

#endif
