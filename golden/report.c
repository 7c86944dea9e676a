/* report.c - rows of a compare/verify run and the three ways to show them. */
#include "report.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *status_name[] = { "ok", "FAIL", "MISSING", "unsupported", "only_ours", "only_theirs" };

void q35_report_init(q35_report *r, const char *kind) {
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->first_fail = r->worst = -1;
}

void q35_report_free(q35_report *r) {
    for (int i = 0; i < r->n; i++) free(r->rows[i].name), free(r->rows[i].theirs);
    free(r->rows);
    for (int i = 0; i < r->nprov; i++) free(r->prov[i][0]), free(r->prov[i][1]);
    memset(r, 0, sizeof *r);
}

void q35_report_prov(q35_report *r, const char *key, const char *fmt, ...) {
    if (r->nprov >= 32) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *k = strdup(key), *v = strdup(buf);
    if (!k || !v) {
        free(k), free(v);
        r->oom = 1;
        return;
    }
    r->prov[r->nprov][0] = k;
    r->prov[r->nprov++][1] = v;
}

q35_row *q35_report_add(q35_report *r, const char *name, q35_row_status st) {
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 256;
        q35_row *rows = realloc(r->rows, (size_t)cap * sizeof *rows);
        if (!rows) {
            r->oom = 1;
            return NULL;
        }
        r->rows = rows;
        r->cap = cap;
    }
    q35_row *w = &r->rows[r->n];
    memset(w, 0, sizeof *w);
    if (!(w->name = strdup(name))) {
        r->oom = 1;
        return NULL;
    }
    w->status = st;
    r->n++;
    return w;
}

static void set_rule(q35_row *w, const q35_tol_rule *rule) {
    snprintf(w->rule, sizeof w->rule, "%s", rule ? rule->name : "(none)");
    if (rule) q35_rule_describe(w->bars, sizeof w->bars, rule);
}

q35_row *q35_report_compare(q35_report *r, const q35_policy *p, const char *name, const char *theirs_name,
                            const q35_tensor *ours, const q35_tensor *gold) {
    q35_row *w = q35_report_add(r, name, Q35_ROW_FAIL);
    if (!w) return NULL;
    if (theirs_name && strcmp(theirs_name, name) != 0 && !(w->theirs = strdup(theirs_name))) r->oom = 1;
    q35_shape_str(w->shape, sizeof w->shape, ours);
    snprintf(w->dtype_ours, sizeof w->dtype_ours, "%s", q35_dtype_name(ours->dtype));
    snprintf(w->dtype_theirs, sizeof w->dtype_theirs, "%s", q35_dtype_name(gold->dtype));
    const q35_tol_rule *rule = q35_policy_rule(p, name, ours->dtype, gold->dtype);
    set_rule(w, rule);
    q35_compare(&w->c, ours, gold);
    w->has_cmp = 1;
    if (!w->c.shape_ok) {
        q35_shape_str(w->shape_theirs, sizeof w->shape_theirs, gold);
        snprintf(w->note, sizeof w->note, "shape %s in ours, %s in theirs", w->shape, w->shape_theirs);
        return w;
    }
    if (rule && (rule->atol >= 0 || rule->rtol >= 0)) w->allclose_bad = q35_allclose_bad(ours, gold, rule->atol, rule->rtol);
    if (q35_ends_with(name, "logits") && !w->c.is_int && ours->ndim >= 1) {
        q35_logit_src so = { .full = ours }, sg = { .full = gold };
        char e[200];
        if (q35_compare_logits(&w->lg, &so, &sg, e, sizeof e) == 0) w->has_logits = 1;
        else snprintf(w->note, sizeof w->note, "%s", e);
    }
    if (w->c.nan_ours || w->c.nan_gold)
        snprintf(w->note, sizeof w->note, "NaN/Inf: %lld in ours (first at %lld), %lld in theirs (first at %lld)",
                 (long long)w->c.nan_ours, (long long)w->c.first_nan_ours, (long long)w->c.nan_gold,
                 (long long)w->c.first_nan_gold);
    if (rule && q35_rule_pass(rule, &w->c, w->has_logits ? &w->lg : NULL, w->allclose_bad)) w->status = Q35_ROW_OK;
    return w;
}

q35_row *q35_report_compare_topk(q35_report *r, const q35_policy *p, const char *name, const q35_logit_src *ours,
                                 const q35_logit_src *gold) {
    q35_row *w = q35_report_add(r, name, Q35_ROW_FAIL);
    if (!w) return NULL;
    const q35_tensor *to = ours->full ? ours->full : ours->lp, *tg = gold->full ? gold->full : gold->lp;
    q35_shape_str(w->shape, sizeof w->shape, to);
    q35_shape_str(w->shape_theirs, sizeof w->shape_theirs, tg);
    snprintf(w->dtype_ours, sizeof w->dtype_ours, "%s", ours->full ? q35_dtype_name(to->dtype) : "topk");
    snprintf(w->dtype_theirs, sizeof w->dtype_theirs, "%s", gold->full ? q35_dtype_name(tg->dtype) : "topk");
    const q35_tol_rule *rule = q35_policy_rule(p, name, to->dtype, tg->dtype);
    set_rule(w, rule);
    char e[200];
    if (q35_compare_logits(&w->lg, ours, gold, e, sizeof e) != 0) {
        snprintf(w->note, sizeof w->note, "%s", e);
        return w;
    }
    w->has_logits = 1;
    snprintf(w->note, sizeof w->note, "top-%d form: KL over the golden's top-%d + the rest (a lower bound)", w->lg.k,
             w->lg.k);
    if (rule && q35_rule_pass(rule, NULL, &w->lg, 0)) w->status = Q35_ROW_OK;
    return w;
}

int q35_report_finish(q35_report *r) {
    r->compared = r->passed = r->failed = r->missing = r->unsupported = r->only_ours = r->only_theirs = 0;
    r->first_fail = r->worst = -1;
    double worst = -1;
    for (int i = 0; i < r->n; i++) {
        const q35_row *w = &r->rows[i];
        switch (w->status) {
        case Q35_ROW_OK: r->passed++, r->compared++; break;
        case Q35_ROW_FAIL: r->failed++, r->compared++; break;
        case Q35_ROW_MISSING: r->missing++; break;
        case Q35_ROW_UNSUPPORTED: r->unsupported++; break;
        case Q35_ROW_ONLY_OURS: r->only_ours++; break;
        case Q35_ROW_ONLY_THEIRS: r->only_theirs++; break;
        }
        if ((w->status == Q35_ROW_FAIL || w->status == Q35_ROW_MISSING) && r->first_fail < 0) r->first_fail = i;
        if (w->has_cmp && w->c.shape_ok && !w->c.is_int && w->c.max_rel >= worst) {
            worst = w->c.max_rel;
            r->worst = i;
        }
    }
    return (r->failed || r->missing || r->oom) ? 1 : 0;
}

const char *q35_report_verdict(const q35_report *r) {
    return r->failed || r->missing || r->oom ? "fail" : r->unsupported ? "incomplete" : "pass";
}

void q35_name_layer(char *buf, size_t n, const char *name) {
    const char *t = strstr(name, "text.layers."), *v = strstr(name, "vision.blocks.");
    if (t) snprintf(buf, n, "text layer %d", atoi(t + 12));
    else if (v && v[14] >= '0' && v[14] <= '9') snprintf(buf, n, "vision block %d", atoi(v + 14));
    else if (strstr(name, ".cache.layers.")) snprintf(buf, n, "cache of text layer %d", atoi(strstr(name, ".cache.layers.") + 14));
    else snprintf(buf, n, "%s", "");
}

/* The index of the k-th compared row before row i (k = 1, 2, ...), or -1. */
static int compared_before(const q35_report *r, int i, int k) {
    for (int j = i - 1; j >= 0; j--)
        if ((r->rows[j].status == Q35_ROW_OK || r->rows[j].status == Q35_ROW_FAIL) && --k == 0) return j;
    return -1;
}

void q35_report_print(const q35_report *r, FILE *out, int color, int failures_only) {
    const char *red = color ? "\033[31m" : "", *green = color ? "\033[32m" : "", *yellow = color ? "\033[33m" : "",
               *off = color ? "\033[0m" : "";
    for (int i = 0; i < r->nprov; i++) fprintf(out, "%-16s %s\n", r->prov[i][0], r->prov[i][1]);
    const char *v = q35_report_verdict(r);
    int bad = strcmp(v, "pass") != 0;
    fprintf(out, "verdict: %s%s%s (%d compared: %d passed, %d failed; %d missing, %d unsupported)\n", bad ? red : green,
            !strcmp(v, "pass") ? "PASS" : !strcmp(v, "fail") ? "FAIL" : "INCOMPLETE", off, r->compared, r->passed, r->failed,
            r->missing, r->unsupported);
    if (r->first_fail >= 0) {
        const q35_row *w = &r->rows[r->first_fail];
        char layer[64];
        q35_name_layer(layer, sizeof layer, w->name);
        fprintf(out, "first divergence: %s%s%s%s%s%s\n", red, w->name, off, layer[0] ? " (" : "", layer, layer[0] ? ")" : "");
        for (int k = 3; k >= 1; k--) {
            int j = compared_before(r, r->first_fail, k);
            if (j >= 0) fprintf(out, "  before it: %-4s %s\n", status_name[r->rows[j].status], r->rows[j].name);
        }
        int prev = compared_before(r, r->first_fail, 1);
        if (prev >= 0 && r->rows[prev].status == Q35_ROW_OK)
            fprintf(out, "  (the tensor just before it passes: the error starts here)\n");
    }
    fprintf(out, "%-6s %-58s %-16s %10s %10s %12s %10s  %s\n", "status", "name", "shape", "max_abs", "max_rel", "cosine",
            "rmse", "rule");
    for (int i = 0; i < r->n; i++) {
        const q35_row *w = &r->rows[i];
        if (failures_only && w->status == Q35_ROW_OK) continue;
        if (w->status == Q35_ROW_ONLY_OURS || w->status == Q35_ROW_ONLY_THEIRS) continue;
        const char *c = w->status == Q35_ROW_OK ? "" : w->status == Q35_ROW_FAIL || w->status == Q35_ROW_MISSING ? red : yellow;
        const char *st = w->status == Q35_ROW_UNSUPPORTED ? "unsup" : w->status == Q35_ROW_MISSING ? "MISS" : status_name[w->status];
        fprintf(out, "%s%-6s%s %-58s %-16s", c, st, off, w->name, w->shape);
        if (w->has_cmp && w->c.shape_ok)
            fprintf(out, " %10.3e %10.3e %12.9f %10.3e  %s", w->c.max_abs, w->c.max_rel, w->c.cosine, w->c.rmse, w->rule);
        else if (w->has_logits)
            fprintf(out, " %10s %10s %12s %10s  %s", "", "", "", "", w->rule);
        if (w->theirs) fprintf(out, "  <- %s", w->theirs);
        fputc('\n', out);
        if (w->has_logits)
            fprintf(out, "       logits: %d positions, top1 %.4f, top5 %.4f, top10 %.4f, KL(theirs||ours) mean %.3e p99 %.3e max "
                         "%.3e, KL(ours||theirs) max %.3e, first argmax difference %d\n",
                    w->lg.positions, w->lg.top1, w->lg.top5, w->lg.top10, w->lg.kl_go_mean, w->lg.kl_go_p99, w->lg.kl_go_max,
                    w->lg.kl_og_max, w->lg.first_argmax_diff);
        if (w->note[0] && w->status != Q35_ROW_OK) fprintf(out, "       %s\n", w->note);
    }
    fprintf(out, "summary: %d compared, %d passed, %d failed, %d missing, %d unsupported; %d only in ours, %d only in theirs",
            r->compared, r->passed, r->failed, r->missing, r->unsupported, r->only_ours, r->only_theirs);
    if (r->worst >= 0) fprintf(out, "; worst max_rel %.3e (%s)", r->rows[r->worst].c.max_rel, r->rows[r->worst].name);
    fputc('\n', out);
}

/* ---- JSON ---- */

static cJSON *num(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }
static cJSON *str_or_null(const char *s) { return s && *s ? cJSON_CreateString(s) : cJSON_CreateNull(); }

static cJSON *kl_obj(double mean, double p99, double mx) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "mean", num(mean));
    cJSON_AddItemToObject(o, "p99", num(p99));
    cJSON_AddItemToObject(o, "max", num(mx));
    return o;
}

static cJSON *row_json(const q35_row *w) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "name", cJSON_CreateString(w->name));
    cJSON_AddItemToObject(o, "theirs", str_or_null(w->theirs));
    cJSON_AddItemToObject(o, "status", cJSON_CreateString(status_name[w->status]));
    cJSON_AddItemToObject(o, "shape", str_or_null(w->shape));
    cJSON_AddItemToObject(o, "shape_theirs", str_or_null(w->shape_theirs));
    cJSON_AddItemToObject(o, "dtype_ours", str_or_null(w->dtype_ours));
    cJSON_AddItemToObject(o, "dtype_theirs", str_or_null(w->dtype_theirs));
    if (w->rule[0]) {
        cJSON *ru = cJSON_CreateObject();
        cJSON_AddItemToObject(ru, "name", cJSON_CreateString(w->rule));
        cJSON_AddItemToObject(ru, "bars", cJSON_CreateString(w->bars));
        cJSON_AddItemToObject(o, "rule", ru);
    } else {
        cJSON_AddItemToObject(o, "rule", cJSON_CreateNull());
    }
    if (w->has_cmp && w->c.shape_ok) {
        const q35_cmp *c = &w->c;
        cJSON *m = cJSON_CreateObject();
        cJSON_AddItemToObject(m, "max_abs", num(c->max_abs));
        cJSON_AddItemToObject(m, "max_rel", num(c->max_rel));
        cJSON_AddItemToObject(m, "mean_abs", num(c->mean_abs));
        cJSON_AddItemToObject(m, "rmse", num(c->rmse));
        cJSON_AddItemToObject(m, "nmse", num(c->nmse));
        cJSON_AddItemToObject(m, "cosine", num(c->cosine));
        cJSON_AddItemToObject(m, "atol_needed", num(c->max_abs));
        cJSON_AddItemToObject(m, "rtol_needed", num(c->rtol_needed));
        cJSON_AddItemToObject(m, "mismatches", cJSON_CreateNumber((double)c->mismatches));
        cJSON_AddItemToObject(m, "nan_ours", cJSON_CreateNumber((double)c->nan_ours));
        cJSON_AddItemToObject(m, "nan_theirs", cJSON_CreateNumber((double)c->nan_gold));
        cJSON_AddItemToObject(m, "first_nan_ours", cJSON_CreateNumber((double)c->first_nan_ours));
        cJSON_AddItemToObject(m, "first_nan_theirs", cJSON_CreateNumber((double)c->first_nan_gold));
        cJSON_AddItemToObject(m, "allclose_bad", cJSON_CreateNumber((double)w->allclose_bad));
        cJSON_AddItemToObject(o, "metrics", m);
    } else {
        cJSON_AddItemToObject(o, "metrics", cJSON_CreateNull());
    }
    if (w->has_logits) {
        const q35_logit_cmp *l = &w->lg;
        cJSON *m = cJSON_CreateObject();
        cJSON_AddItemToObject(m, "positions", cJSON_CreateNumber(l->positions));
        cJSON_AddItemToObject(m, "compact", cJSON_CreateBool(l->compact));
        cJSON_AddItemToObject(m, "k", cJSON_CreateNumber(l->k));
        cJSON_AddItemToObject(m, "top1", num(l->top1));
        cJSON_AddItemToObject(m, "top5", num(l->top5));
        cJSON_AddItemToObject(m, "top10", num(l->top10));
        cJSON_AddItemToObject(m, "kl_theirs_ours", kl_obj(l->kl_go_mean, l->kl_go_p99, l->kl_go_max));
        cJSON_AddItemToObject(m, "kl_ours_theirs", kl_obj(l->kl_og_mean, l->kl_og_p99, l->kl_og_max));
        cJSON_AddItemToObject(m, "first_argmax_diff", cJSON_CreateNumber(l->first_argmax_diff));
        cJSON_AddItemToObject(m, "max_abs_logprob", num(l->max_abs_logprob));
        cJSON_AddItemToObject(o, "logits", m);
    } else {
        cJSON_AddItemToObject(o, "logits", cJSON_CreateNull());
    }
    cJSON_AddItemToObject(o, "note", str_or_null(w->note));
    return o;
}

/* Writes text to path atomically (util.h's q35_write_file_atomic). */
static int write_text(const char *path, const char *text, char *err, size_t errlen) {
    return q35_write_file_atomic(path, text, strlen(text), err, errlen);
}

int q35_report_write_json(const q35_report *r, const char *path, char *err, size_t errlen) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return q35_fail(err, errlen, "out of memory");
    cJSON_AddItemToObject(o, "schema", cJSON_CreateString("q35-report/1"));
    cJSON_AddItemToObject(o, "kind", cJSON_CreateString(r->kind));
    cJSON_AddItemToObject(o, "verdict", cJSON_CreateString(q35_report_verdict(r)));
    cJSON *pv = cJSON_CreateObject();
    for (int i = 0; i < r->nprov; i++) cJSON_AddItemToObject(pv, r->prov[i][0], cJSON_CreateString(r->prov[i][1]));
    cJSON_AddItemToObject(o, "provenance", pv);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddItemToObject(s, "compared", cJSON_CreateNumber(r->compared));
    cJSON_AddItemToObject(s, "passed", cJSON_CreateNumber(r->passed));
    cJSON_AddItemToObject(s, "failed", cJSON_CreateNumber(r->failed));
    cJSON_AddItemToObject(s, "missing", cJSON_CreateNumber(r->missing));
    cJSON_AddItemToObject(s, "unsupported", cJSON_CreateNumber(r->unsupported));
    cJSON_AddItemToObject(s, "only_ours", cJSON_CreateNumber(r->only_ours));
    cJSON_AddItemToObject(s, "only_theirs", cJSON_CreateNumber(r->only_theirs));
    if (r->worst >= 0) {
        cJSON *w = cJSON_CreateObject();
        cJSON_AddItemToObject(w, "name", cJSON_CreateString(r->rows[r->worst].name));
        cJSON_AddItemToObject(w, "max_rel", num(r->rows[r->worst].c.max_rel));
        cJSON_AddItemToObject(s, "worst", w);
    } else {
        cJSON_AddItemToObject(s, "worst", cJSON_CreateNull());
    }
    cJSON_AddItemToObject(o, "summary", s);
    if (r->first_fail >= 0) {
        const q35_row *w = &r->rows[r->first_fail];
        char layer[64];
        q35_name_layer(layer, sizeof layer, w->name);
        cJSON *fd = cJSON_CreateObject(), *before = cJSON_CreateArray();
        cJSON_AddItemToObject(fd, "name", cJSON_CreateString(w->name));
        cJSON_AddItemToObject(fd, "layer", str_or_null(layer));
        cJSON_AddItemToObject(fd, "status", cJSON_CreateString(status_name[w->status]));
        for (int k = 3; k >= 1; k--) {
            int j = compared_before(r, r->first_fail, k);
            if (j < 0) continue;
            cJSON *b = cJSON_CreateObject();
            cJSON_AddItemToObject(b, "name", cJSON_CreateString(r->rows[j].name));
            cJSON_AddItemToObject(b, "status", cJSON_CreateString(status_name[r->rows[j].status]));
            cJSON_AddItemToArray(before, b);
        }
        cJSON_AddItemToObject(fd, "before", before);
        cJSON_AddItemToObject(o, "first_divergence", fd);
    } else {
        cJSON_AddItemToObject(o, "first_divergence", cJSON_CreateNull());
    }
    cJSON *ts = cJSON_CreateArray();
    for (int i = 0; i < r->n; i++) cJSON_AddItemToArray(ts, row_json(&r->rows[i]));
    cJSON_AddItemToObject(o, "tensors", ts);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text) return q35_fail(err, errlen, "out of memory");
    int rc = write_text(path, text, err, errlen);
    free(text);
    return rc;
}

/* ---- Markdown ---- */

typedef struct {
    char *buf;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = b->buf ? vsnprintf(b->buf + b->len, room, fmt, ap) : -1;
        va_end(ap);
        if (n >= 0 && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? 2 * b->cap : 1 << 16;
        while (n >= 0 && cap - b->len <= (size_t)n) cap *= 2;
        char *p = realloc(b->buf, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->buf = p;
        b->cap = cap;
    }
}

static void md_row(sbuf *b, const q35_row *w) {
    const char *st = status_name[w->status];
    sb_printf(b, "| %s | `%s` | %s |", st, w->name, w->shape);
    if (w->has_cmp && w->c.shape_ok)
        sb_printf(b, " %.3e | %.3e | %.9f | %.3e |", w->c.max_abs, w->c.max_rel, w->c.cosine, w->c.rmse);
    else if (w->has_logits)
        sb_printf(b, " top1 %.4f | KL max %.2e | | |", w->lg.top1, w->lg.kl_go_max);
    else
        sb_printf(b, " | | | |");
    sb_printf(b, " %s |\n", w->rule);
}

int q35_report_write_markdown(const q35_report *r, const char *path, char *err, size_t errlen) {
    sbuf b = {0};
    const char *v = q35_report_verdict(r);
    const char *V = !strcmp(v, "pass") ? "PASS" : !strcmp(v, "fail") ? "FAIL" : "INCOMPLETE";
    int bad = r->failed || r->missing;
    sb_printf(&b, "# q35 %s report: %s\n\n", r->kind, V);
    sb_printf(&b, "**Verdict: %s.** %d tensors compared: %d passed, %d failed; %d goldens not produced, %d need parts "
                  "q35 lacks; %d only in ours, %d only in theirs.\n\n",
              V, r->compared, r->passed, r->failed, r->missing, r->unsupported, r->only_ours,
              r->only_theirs);
    if (r->first_fail >= 0) {
        const q35_row *w = &r->rows[r->first_fail];
        char layer[64];
        q35_name_layer(layer, sizeof layer, w->name);
        sb_printf(&b, "**First divergence:** `%s`%s%s%s.", w->name, layer[0] ? " (" : "", layer, layer[0] ? ")" : "");
        int j = compared_before(r, r->first_fail, 1);
        if (j >= 0) sb_printf(&b, " The tensor just before it, `%s`, %s.", r->rows[j].name,
                              r->rows[j].status == Q35_ROW_OK ? "passes: the error starts here" : "fails too");
        sb_printf(&b, "\n\n");
    }
    if (r->worst >= 0)
        sb_printf(&b, "Largest error: max_rel %.3e in `%s`.\n\n", r->rows[r->worst].c.max_rel, r->rows[r->worst].name);
    sb_printf(&b, "## Provenance\n\n| | |\n|---|---|\n");
    for (int i = 0; i < r->nprov; i++) sb_printf(&b, "| %s | `%s` |\n", r->prov[i][0], r->prov[i][1]);
    sb_printf(&b, "\n## Metrics\n\nmax_rel = max|ours - golden| / max(1, max|golden|); cosine in double; "
                  "rmse = sqrt(mean (ours - golden)^2). Each tensor is judged by the first rule of the tolerance "
                  "policy that applies to it (column *rule*).\n\n");
    const char *head = "| status | tensor | shape | max_abs | max_rel | cosine | rmse | rule |\n"
                       "|---|---|---|---|---|---|---|---|\n";
    if (bad) {
        sb_printf(&b, "## Failures\n\n%s", head);
        for (int i = 0; i < r->n; i++)
            if (r->rows[i].status == Q35_ROW_FAIL || r->rows[i].status == Q35_ROW_MISSING) md_row(&b, &r->rows[i]);
        sb_printf(&b, "\n");
    }
    int nlog = 0;
    for (int i = 0; i < r->n; i++) nlog += r->rows[i].has_logits;
    if (nlog) {
        sb_printf(&b, "## Logits\n\n| tensor | positions | top-1 | top-5 | top-10 | KL(theirs‖ours) mean / p99 / max | "
                      "KL(ours‖theirs) max | first argmax difference |\n|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < r->n; i++) {
            const q35_row *w = &r->rows[i];
            if (!w->has_logits) continue;
            sb_printf(&b, "| `%s`%s | %d | %.4f | %.4f | %.4f | %.2e / %.2e / %.2e | %.2e | %d |\n", w->name,
                      w->lg.compact ? " (top-k)" : "", w->lg.positions, w->lg.top1, w->lg.top5, w->lg.top10,
                      w->lg.kl_go_mean, w->lg.kl_go_p99, w->lg.kl_go_max, w->lg.kl_og_max, w->lg.first_argmax_diff);
        }
        sb_printf(&b, "\n");
    }
    sb_printf(&b, "## Every tensor, in execution order\n\n<details><summary>%d rows</summary>\n\n%s", r->n, head);
    for (int i = 0; i < r->n; i++)
        if (r->rows[i].status != Q35_ROW_ONLY_OURS && r->rows[i].status != Q35_ROW_ONLY_THEIRS) md_row(&b, &r->rows[i]);
    sb_printf(&b, "\n</details>\n");
    if (b.oom) {
        free(b.buf);
        return q35_fail(err, errlen, "out of memory");
    }
    int rc = write_text(path, b.buf, err, errlen);
    free(b.buf);
    return rc;
}
