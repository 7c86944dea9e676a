/* compare.c - metrics between a tensor and its golden. */
#include "compare.h"

#include <math.h>
#include <string.h>

void q35_compare(q35_cmp *r, const q35_tensor *ours, const q35_tensor *gold) {
    memset(r, 0, sizeof *r);
    r->shape_ok = ours->ndim == gold->ndim;
    for (int i = 0; r->shape_ok && i < gold->ndim; i++) r->shape_ok = ours->shape[i] == gold->shape[i];
    r->is_int = gold->dtype == Q35_I64;
    if (!r->shape_ok) return;
    int64_t n = q35_numel(gold);
    r->n = n;
    double dot = 0, na = 0, ng = 0;
    for (int64_t i = 0; i < n; i++) {
        double a, g;
        if (r->is_int) {
            int64_t gi, ai;
            memcpy(&gi, (const char *)gold->data + 8 * i, 8);
            if (ours->dtype == Q35_I64) memcpy(&ai, (const char *)ours->data + 8 * i, 8);
            else ai = (int64_t)q35_get_f32(ours, i);
            if (ai != gi) r->mismatches++;
            a = (double)ai;
            g = (double)gi;
        } else {
            a = q35_get_f32(ours, i);
            g = q35_get_f32(gold, i);
        }
        if (!isfinite(a) && isfinite(g)) r->nonfinite = 1;
        double d = fabs(a - g);
        if (d > r->max_abs || (isnan(d) && !isnan(r->max_abs))) {
            r->max_abs = d;
            r->worst = i;
        }
        if (fabs(g) > r->max_golden) r->max_golden = fabs(g);
        dot += a * g;
        na += a * a;
        ng += g * g;
    }
    r->max_rel = r->max_abs / (r->max_golden > 1.0 ? r->max_golden : 1.0);
    if (na == 0 && ng == 0) r->cosine = 1.0;
    else if (na == 0 || ng == 0) r->cosine = 0.0;
    else r->cosine = dot / (sqrt(na) * sqrt(ng));
}

int q35_cmp_pass(const q35_cmp *r, double tol, double min_cos) {
    if (!r->shape_ok || r->nonfinite) return 0;
    if (r->is_int) return r->mismatches == 0;
    return r->max_rel <= tol && r->cosine >= min_cos && !isnan(r->max_abs);
}
