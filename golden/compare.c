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

void q35_compare(q35_cmp *r, const q35_tensor *ours, const q35_tensor *gold) {
    memset(r, 0, sizeof *r);
    r->shape_ok = ours->ndim == gold->ndim;
    for (int i = 0; r->shape_ok && i < gold->ndim; i++) r->shape_ok = ours->shape[i] == gold->shape[i];
    r->is_int = q35_dtype_is_int(gold->dtype);
    if (!r->shape_ok) return;
    int64_t n = q35_numel(gold);
    r->n = n;
    r->first_nan_ours = r->first_nan_gold = -1;
    double dot = 0, na = 0, ng = 0, sum_abs = 0, sum_sq = 0;
    double ab[1024], gb[1024]; /* blocks converted to double: one pass over memory, at its speed */
    for (int64_t i0 = 0; i0 < n; i0 += 1024) {
        int64_t m = n - i0 < 1024 ? n - i0 : 1024;
        read_f64(ab, ours, i0, m);
        read_f64(gb, gold, i0, m);
        for (int64_t k = 0; k < m; k++) {
        int64_t i = i0 + k;
        double a = ab[k], g = gb[k];
        if (r->is_int && a != g) r->mismatches++;
        if (!isfinite(a)) {
            if (r->first_nan_ours < 0) r->first_nan_ours = i;
            r->nan_ours++;
        }
        if (!isfinite(g)) {
            if (r->first_nan_gold < 0) r->first_nan_gold = i;
            r->nan_gold++;
        }
        if (isfinite(a) != isfinite(g)) r->nonfinite = 1; /* on one side only */
        double d = fabs(a - g);
        if (isfinite(d)) {
            sum_abs += d;
            sum_sq += d * d;
            if (g != 0 && d > r->rtol_needed * fabs(g)) r->rtol_needed = d / fabs(g);
        }
        if (d > r->max_abs || (isnan(d) && !isnan(r->max_abs))) {
            r->max_abs = d;
            r->worst = i;
        }
        if (fabs(g) > r->max_golden) r->max_golden = fabs(g);
        dot += a * g;
        na += a * a;
        ng += g * g;
        }
    }
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

double q35_cmp_tol(const char *name, double tol, double tol_logits) {
    size_t len = strlen(name);
    return len >= 6 && strcmp(name + len - 6, "logits") == 0 ? tol_logits : tol;
}
