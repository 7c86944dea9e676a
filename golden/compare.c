/* compare.c - metrics between a tensor and its golden. */
#include "compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"
#include "util.h"

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
    for (int64_t i = 0; i < n; i++) {
        double a = q35_get_f64(ours, i), g = q35_get_f64(gold, i);
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
            if (g != 0 && d / fabs(g) > r->rtol_needed) r->rtol_needed = d / fabs(g);
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
    r->max_rel = r->max_abs / (r->max_golden > 1.0 ? r->max_golden : 1.0);
    r->mean_abs = n ? sum_abs / (double)n : 0;
    r->rmse = n ? sqrt(sum_sq / (double)n) : 0;
    r->nmse = ng > 0 ? sum_sq / ng : (sum_sq > 0 ? INFINITY : 0);
    if (na == 0 && ng == 0) r->cosine = 1.0;
    else if (na == 0 || ng == 0) r->cosine = 0.0;
    else r->cosine = dot / (sqrt(na) * sqrt(ng));
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


static int by_offset(const void *a, const void *b) {
    const q35_st_entry *x = *(const q35_st_entry *const *)a, *y = *(const q35_st_entry *const *)b;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    uintptr_t p = (uintptr_t)x->t.data, q = (uintptr_t)y->t.data;
    return p < q ? -1 : p > q;
}

int q35_compare_files(const q35_compare_opts *o, FILE *out, q35_compare_result *r, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    q35_st a, b;
    if (q35_st_open(&a, o->ours, err, errlen) != 0) return -1;
    if (q35_st_open(&b, o->theirs, err, errlen) != 0) {
        q35_st_close(&a);
        return -1;
    }
    const q35_st_entry **order = malloc(((size_t)a.n + 1) * sizeof *order);
    char (*status)[8] = calloc((size_t)a.n + 1, sizeof *status);
    int rc = -1, first = -1;
    if (!order || !status) {
        q35_fail(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < a.n; i++) order[i] = &a.entries[i];
    qsort(order, (size_t)a.n, sizeof *order, by_offset); /* the order the dump was written in */

    fprintf(out, "compare %s (order) with %s; bars: max_rel <= %.1e (logits %.1e), cosine >= %.5f\n", o->ours, o->theirs,
            o->tol, o->tol_logits, o->min_cos);
    fprintf(out, "%-6s %-58s %-16s %10s %10s %12s %10s\n", "status", "name", "shape", "max_abs", "max_rel", "cosine", "rmse");
    for (int i = 0; i < a.n; i++) {
        const q35_st_entry *e = order[i], *g = q35_st_find(&b, e->name);
        char shape[64];
        q35_shape_str(shape, sizeof shape, &e->t);
        if (!g) {
            r->only_ours++;
            snprintf(status[i], sizeof status[i], "-");
            continue;
        }
        q35_cmp c;
        q35_compare(&c, &e->t, &g->t);
        int pass = q35_cmp_pass(&c, q35_cmp_tol(e->name, o->tol, o->tol_logits), o->min_cos);
        r->compared++;
        snprintf(status[i], sizeof status[i], "%s", pass ? "ok" : "FAIL");
        if (!pass) {
            r->failed++;
            if (first < 0) first = i;
        }
        if (o->failures_only && pass) continue;
        if (!c.shape_ok) {
            char other[64];
            q35_shape_str(other, sizeof other, &g->t);
            fprintf(out, "%-6s %-58s %s != %s\n", "FAIL", e->name, shape, other);
        } else {
            fprintf(out, "%-6s %-58s %-16s %10.3e %10.3e %12.9f %10.3e", status[i], e->name, shape, c.max_abs, c.max_rel,
                    c.cosine, c.rmse);
            if (c.nan_ours || c.nan_gold)
                fprintf(out, "  NaN/Inf: %lld in ours (first at %lld), %lld in theirs (first at %lld)", (long long)c.nan_ours,
                        (long long)c.first_nan_ours, (long long)c.nan_gold, (long long)c.first_nan_gold);
            fputc('\n', out);
        }
    }
    for (int i = 0; i < b.n; i++) r->only_theirs += q35_st_find(&a, b.entries[i].name) == NULL;
    if (r->compared == 0) {
        q35_fail(err, errlen, "%s and %s share no tensor name", o->ours, o->theirs);
        goto done;
    }
    fprintf(out, "summary: %d compared, %d failed; %d only in %s, %d only in %s\n", r->compared, r->failed, r->only_ours,
            o->ours, r->only_theirs, o->theirs);
    if (first >= 0) {
        snprintf(r->first_fail, sizeof r->first_fail, "%s", order[first]->name);
        fprintf(out, "first divergence: %s\n", order[first]->name);
        int shown = 0;
        for (int i = first - 1; i >= 0 && shown < 3; i--)
            if (strcmp(status[i], "-") != 0) {
                fprintf(out, "  before it: %-4s %s\n", status[i], order[i]->name);
                shown++;
            }
    }
    rc = r->failed ? 1 : 0;
done:
    free(order);
    free(status);
    q35_st_close(&a);
    q35_st_close(&b);
    return rc;
}
