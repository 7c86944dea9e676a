/* compare.c - metrics between a tensor and its golden. */
#include "compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


/* out[0..n) = t's elements [start, start + n) as double. */
static void read_f64(double *out, const q35_tensor *t, int64_t start, int64_t n) {
    if (t->dtype == Q35_F32) {
        float f[1024];
        memcpy(f, (const char *)t->data + 4 * start, (size_t)n * 4);
        for (int64_t k = 0; k < n; k++) out[k] = f[k];
    } else if (t->dtype == Q35_F64) {
        memcpy(out, (const char *)t->data + 8 * start, (size_t)n * 8);
    } else {
        for (int64_t k = 0; k < n; k++) out[k] = q35_get_f64(t, start + k);
    }
}

/* Element i of t as a 64-bit integer in *v: an integer dtype's value, or a float that is exactly an
 * integer in int64's range. 0 for any other float (fractional, NaN, Inf, out of range). */
static int exact_int(const q35_tensor *t, int64_t i, int64_t *v) {
    if (t->dtype == Q35_I64) return memcpy(v, (const char *)t->data + 8 * i, 8), 1;
    if (t->dtype == Q35_I32) {
        int32_t x;
        memcpy(&x, (const char *)t->data + 4 * i, 4);
        return *v = x, 1;
    }
    double f = q35_get_f64(t, i); /* exact for every float dtype */
    if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0) || f != trunc(f)) return 0;
    return *v = (int64_t)f, 1;
}

/* |x - y| without overflow, rounded to double only at the end (nonzero whenever x != y). */
static double int_distance(int64_t x, int64_t y) {
    return x >= y ? (double)((uint64_t)x - (uint64_t)y) : (double)((uint64_t)y - (uint64_t)x);
}

/* Partial sums of one chunk of elements. */
typedef struct {
    double dot, na, ng, sum_abs, sum_sq, max_abs, max_golden, rtol_needed;
    int64_t worst, mismatches, nan_ours, nan_gold, first_nan_ours, first_nan_gold;
    int nonfinite;
} part;

/* The metrics' sums over elements [i0, i1). */
static void compare_range(part *p, const q35_tensor *ours, const q35_tensor *gold, int is_int, int64_t i0, int64_t i1) {
    memset(p, 0, sizeof *p);
    p->first_nan_ours = p->first_nan_gold = -1;
    double ab[1024], gb[1024]; /* blocks converted to double: one pass over memory */
    for (int64_t b0 = i0; b0 < i1; b0 += 1024) {
        int64_t m = i1 - b0 < 1024 ? i1 - b0 : 1024;
        read_f64(ab, ours, b0, m);
        read_f64(gb, gold, b0, m);
        for (int64_t k = 0; k < m; k++) {
            int64_t i = b0 + k;
            double a = ab[k], g = gb[k], d = fabs(a - g);
            if (is_int) { /* as integers, never through double: it merges the int64s above 2^53 */
                int64_t x, y;
                if (exact_int(ours, i, &x) && exact_int(gold, i, &y)) {
                    d = int_distance(x, y);
                    p->mismatches += x != y;
                } else {
                    p->mismatches++; /* a float that is not an integer equals no integer */
                }
            }
            if (!isfinite(a)) {
                if (p->first_nan_ours < 0) p->first_nan_ours = i;
                p->nan_ours++;
            }
            if (!isfinite(g)) {
                if (p->first_nan_gold < 0) p->first_nan_gold = i;
                p->nan_gold++;
            }
            if (isfinite(a) != isfinite(g)) p->nonfinite = 1; /* on one side only */
            if (isfinite(d)) {
                p->sum_abs += d;
                p->sum_sq += d * d;
                if (g != 0 && d > p->rtol_needed * fabs(g)) p->rtol_needed = d / fabs(g);
            }
            if (d > p->max_abs || (isnan(d) && !isnan(p->max_abs))) {
                p->max_abs = d;
                p->worst = i;
            }
            if (fabs(g) > p->max_golden) p->max_golden = fabs(g);
            p->dot += a * g;
            p->na += a * a;
            p->ng += g * g;
        }
    }
}

void q35_compare(q35_cmp *r, const q35_tensor *ours, const q35_tensor *gold) {
    memset(r, 0, sizeof *r);
    r->shape_ok = ours->ndim == gold->ndim;
    for (int i = 0; r->shape_ok && i < gold->ndim; i++) r->shape_ok = ours->shape[i] == gold->shape[i];
    r->is_int = q35_dtype_is_int(ours->dtype) || q35_dtype_is_int(gold->dtype); /* whichever side */
    if (!r->shape_ok) return;
    int64_t n = q35_numel(gold);
    r->n = n;
    r->first_nan_ours = r->first_nan_gold = -1;
    /* Fixed chunks, merged in order: the result does not depend on the number of threads. */
    enum { CHUNK = 1 << 20, MAXCH = 4096 };
    int64_t chunk = n / MAXCH + 1 > CHUNK ? n / MAXCH + 1 : CHUNK;
    int nch = (int)((n + chunk - 1) / chunk);
    part one, *parts = nch > 1 ? malloc((size_t)nch * sizeof *parts) : &one;
    if (!parts) parts = &one, nch = 1, chunk = n; /* out of memory: one thread */
    if (nch <= 1) {
        compare_range(&one, ours, gold, r->is_int, 0, n);
        nch = 1;
    } else {
#pragma omp parallel for schedule(dynamic, 1)
        for (int c = 0; c < nch; c++)
            compare_range(&parts[c], ours, gold, r->is_int, (int64_t)c * chunk, c + 1 == nch ? n : (int64_t)(c + 1) * chunk);
    }
    double dot = 0, na = 0, ng = 0, sum_abs = 0, sum_sq = 0;
    for (int c = 0; c < nch; c++) {
        const part *p = &parts[c];
        dot += p->dot, na += p->na, ng += p->ng, sum_abs += p->sum_abs, sum_sq += p->sum_sq;
        r->mismatches += p->mismatches, r->nan_ours += p->nan_ours, r->nan_gold += p->nan_gold;
        r->nonfinite |= p->nonfinite;
        if (r->first_nan_ours < 0) r->first_nan_ours = p->first_nan_ours;
        if (r->first_nan_gold < 0) r->first_nan_gold = p->first_nan_gold;
        if (p->max_abs > r->max_abs || (isnan(p->max_abs) && !isnan(r->max_abs))) r->max_abs = p->max_abs, r->worst = p->worst;
        if (p->max_golden > r->max_golden) r->max_golden = p->max_golden;
        if (p->rtol_needed > r->rtol_needed) r->rtol_needed = p->rtol_needed;
    }
    if (parts != &one) free(parts);
    r->max_rel = r->max_abs / (r->max_golden > 1.0 ? r->max_golden : 1.0);
    r->mean_abs = n ? sum_abs / (double)n : 0;
    r->rmse = n ? sqrt(sum_sq / (double)n) : 0;
    r->nmse = ng > 0 ? sum_sq / ng : (sum_sq > 0 ? INFINITY : 0);
    if (na == 0 && ng == 0) r->cosine = 1.0;
    else if (na == 0 || ng == 0) r->cosine = 0.0;
    else r->cosine = dot / (sqrt(na) * sqrt(ng));
}

int64_t q35_allclose_bad(const q35_tensor *ours, const q35_tensor *gold, double atol, double rtol) {
    int64_t n = q35_numel(gold), bad = 0;
    if (atol < 0) atol = 0;
    if (rtol < 0) rtol = 0;
    for (int64_t i = 0; i < n; i++) {
        double a = q35_get_f64(ours, i), g = q35_get_f64(gold, i);
        bad += !(fabs(a - g) <= atol + rtol * fabs(g)) && !(a == g);
    }
    return bad;
}

int q35_cmp_pass(const q35_cmp *r, double tol, double min_cos) {
    if (!r->shape_ok || r->nonfinite) return 0;
    if (r->is_int) return r->mismatches == 0;
    return r->max_rel <= tol && r->cosine >= min_cos && !isnan(r->max_abs);
}
