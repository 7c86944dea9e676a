/* policy.c - tolerance rules: defaults, YAML overrides, the rule for a tensor. */
#include "policy.h"

#include <cJSON.h>
#include <regex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "yamljson.h"

static q35_tol_rule blank_rule(const char *name) {
    q35_tol_rule r;
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "%s", name);
    r.dtype = -1;
    r.max_rel = r.cosine = r.atol = r.rtol = r.top1_min = r.kl_max = -1;
    return r;
}

static int set_pattern(q35_tol_rule *r, const char *pattern, char *err, size_t errlen) {
    if (q35_regex_safe(pattern, err, errlen) != 0) return -1;
    regex_t *re = malloc(sizeof *re);
    if (!re || !(r->pattern = strdup(pattern))) {
        free(re);
        return q35_fail(err, errlen, "out of memory");
    }
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[160];
        regerror(rc, re, msg, sizeof msg);
        free(re);
        return q35_fail(err, errlen, "bad regex '%s': %s", pattern, msg);
    }
    r->regex = re;
    return 0;
}

static void rule_free(q35_tol_rule *r) {
    if (r->regex) regfree(r->regex);
    free(r->regex);
    free(r->pattern);
    r->regex = NULL;
    r->pattern = NULL;
}

void q35_policy_free(q35_policy *p) {
    for (int i = 0; i < p->n; i++) rule_free(&p->rules[i]);
    free(p->rules);
    memset(p, 0, sizeof *p);
}

int q35_policy_default(q35_policy *p, double tol, double tol_logits, double min_cos, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    if (!(p->rules = calloc(5, sizeof *p->rules))) return q35_fail(err, errlen, "out of memory");
    q35_tol_rule r = blank_rule("integer (exact)");
    r.dtype = Q35_I64;
    r.exact = 1;
    p->rules[p->n++] = r;
    r = blank_rule("logits, top-k form");
    r.top1_min = 1.0;
    r.kl_max = 1e-4;
    if (set_pattern(&r, "logits\\.topk$", err, errlen) != 0) return rule_free(&r), q35_policy_free(p), -1;
    p->rules[p->n++] = r;
    r = blank_rule("logits, float32");
    r.dtype = Q35_F32;
    r.max_rel = tol_logits;
    r.cosine = min_cos;
    if (set_pattern(&r, "logits$", err, errlen) != 0) return rule_free(&r), q35_policy_free(p), -1;
    p->rules[p->n++] = r;
    r = blank_rule("bf16/f16 side");
    r.dtype = Q35_BF16; /* stands for either 16-bit float */
    r.max_rel = 1e-2;
    r.cosine = 0.999;
    p->rules[p->n++] = r;
    r = blank_rule("float32");
    r.max_rel = tol;
    r.cosine = min_cos;
    p->rules[p->n++] = r;
    return 0;
}

static int parse_dtype(const char *s, int *dt) {
    if (strcmp(s, "f32") == 0) *dt = Q35_F32;
    else if (strcmp(s, "bf16") == 0 || strcmp(s, "f16") == 0) *dt = Q35_BF16;
    else if (strcmp(s, "f64") == 0) *dt = Q35_F64;
    else if (strcmp(s, "int") == 0) *dt = Q35_I64;
    else return -1;
    return 0;
}

int q35_policy_load(q35_policy *p, const char *path, char *err, size_t errlen) {
    cJSON *root = q35_yaml_load(path, err, errlen);
    if (!root) return -1;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(root, "rules");
    int rc = -1, n = cJSON_GetArraySize(rules), k = 0;
    q35_tol_rule *all = NULL;
    if (!cJSON_IsObject(root)) {
        q35_fail(err, errlen, "%s: a tolerance policy is a YAML mapping with \"rules\"", path);
        goto done;
    }
    if (fmt && !(cJSON_IsString(fmt) && strcmp(fmt->valuestring, "q35-tolerances/1") == 0)) {
        q35_fail(err, errlen, "%s: format must be q35-tolerances/1", path);
        goto done;
    }
    for (const cJSON *e = root->child; e; e = e->next)
        if (strcmp(e->string, "format") != 0 && strcmp(e->string, "rules") != 0) {
            q35_fail(err, errlen, "%s: unknown key '%s' (have: format, rules)", path, e->string);
            goto done;
        }
    if (!cJSON_IsArray(rules) || n == 0) {
        q35_fail(err, errlen, "%s: \"rules\" must be a non-empty list", path);
        goto done;
    }
    if (!(all = calloc((size_t)(n + p->n), sizeof *all))) {
        q35_fail(err, errlen, "out of memory");
        goto done;
    }
    for (const cJSON *it = rules->child; it; it = it->next, k++) {
        char dflt[96];
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        snprintf(dflt, sizeof dflt, "%.70s rule %d", base, k + 1);
        q35_tol_rule r = blank_rule(dflt);
        int bars = 0;
        if (!cJSON_IsObject(it)) {
            q35_fail(err, errlen, "%s: rule %d is not a mapping", path, k + 1);
            goto bad;
        }
        for (const cJSON *f = it->child; f; f = f->next) {
            const char *key = f->string;
            double *num = strcmp(key, "max_rel") == 0 ? &r.max_rel : strcmp(key, "cosine") == 0 ? &r.cosine
                        : strcmp(key, "atol") == 0 ? &r.atol : strcmp(key, "rtol") == 0 ? &r.rtol
                        : strcmp(key, "top1_min") == 0 ? &r.top1_min : strcmp(key, "kl_max") == 0 ? &r.kl_max : NULL;
            if (num) {
                if (!cJSON_IsNumber(f) || !isfinite(f->valuedouble) || f->valuedouble < 0) {
                    q35_fail(err, errlen, "%s: rule %d: %s must be a finite number >= 0", path, k + 1, key);
                    goto bad;
                }
                if ((num == &r.cosine || num == &r.top1_min) && f->valuedouble > 1) { /* no comparison could pass */
                    q35_fail(err, errlen, "%s: rule %d: %s must be at most 1, got %g", path, k + 1, key, f->valuedouble);
                    goto bad;
                }
                *num = f->valuedouble;
                bars++;
            } else if (strcmp(key, "name") == 0 && cJSON_IsString(f)) {
                snprintf(r.name, sizeof r.name, "%s", f->valuestring);
            } else if (strcmp(key, "match") == 0 && cJSON_IsString(f)) {
                char e2[256];
                if (set_pattern(&r, f->valuestring, e2, sizeof e2) != 0) {
                    q35_fail(err, errlen, "%s: rule %d: %s", path, k + 1, e2);
                    goto bad;
                }
            } else if (strcmp(key, "dtype") == 0 && cJSON_IsString(f)) {
                if (parse_dtype(f->valuestring, &r.dtype) != 0) {
                    q35_fail(err, errlen, "%s: rule %d: dtype '%s' (have: f32, bf16, f16, f64, int)", path, k + 1,
                             f->valuestring);
                    goto bad;
                }
            } else if (strcmp(key, "exact") == 0 && cJSON_IsBool(f)) {
                r.exact = cJSON_IsTrue(f);
                bars += r.exact;
            } else {
                q35_fail(err, errlen,
                         "%s: rule %d: bad key '%s' (have: name, match, dtype, max_rel, cosine, atol, rtol, top1_min, "
                         "kl_max, exact; strings for name/match/dtype, numbers for the bars)",
                         path, k + 1, key);
                goto bad;
            }
        }
        if (!bars) {
            q35_fail(err, errlen, "%s: rule %d sets no bar (max_rel, cosine, atol/rtol, top1_min, kl_max or exact)", path,
                     k + 1);
            goto bad;
        }
        all[k] = r;
        continue;
    bad:
        rule_free(&r);
        for (int j = 0; j < k; j++) rule_free(&all[j]);
        goto done;
    }
    memcpy(all + n, p->rules, (size_t)p->n * sizeof *all);
    free(p->rules);
    p->rules = all;
    p->n += n;
    all = NULL;
    snprintf(p->source, sizeof p->source, "%s", path);
    rc = 0;
done:
    free(all);
    cJSON_Delete(root);
    return rc;
}

/* The lower-precision of two dtypes, folded to the rule classes (int, bf16 for any 16-bit float).
 * Symmetric: an integer dtype on either side makes the tensor an integer one (q35_compare then
 * compares it exactly). */
static int dtype_class(q35_dtype ours, q35_dtype gold) {
    if (q35_dtype_is_int(ours) || q35_dtype_is_int(gold)) return Q35_I64;
    if (ours == Q35_BF16 || ours == Q35_F16 || gold == Q35_BF16 || gold == Q35_F16) return Q35_BF16;
    if (ours == Q35_F64 && gold == Q35_F64) return Q35_F64;
    return Q35_F32;
}

const q35_tol_rule *q35_policy_rule(const q35_policy *p, const char *name, q35_dtype ours, q35_dtype gold) {
    int cls = dtype_class(ours, gold);
    for (int i = 0; i < p->n; i++) {
        const q35_tol_rule *r = &p->rules[i];
        if (r->dtype >= 0 && r->dtype != cls && !(r->dtype == Q35_F32 && cls == Q35_F64)) continue;
        if (r->regex && regexec(r->regex, name, 0, NULL, 0) != 0) continue;
        return r;
    }
    return NULL;
}

int q35_rule_pass(const q35_tol_rule *r, const q35_cmp *c, const q35_logit_cmp *lg, int64_t allclose_bad) {
    if (c) {
        if (!c->shape_ok || c->nonfinite || c->max_abs != c->max_abs) return 0;
        if (c->is_int) return c->mismatches == 0;
        if (r->exact && c->max_abs != 0) return 0;
        if (r->max_rel >= 0 && !(c->max_rel <= r->max_rel)) return 0;
        if (r->cosine >= 0 && !(c->cosine >= r->cosine)) return 0;
        if ((r->atol >= 0 || r->rtol >= 0) && allclose_bad != 0) return 0;
    }
    if (lg) {
        double top1 = r->top1_min, kl = r->kl_max;
        if (!c && top1 < 0 && kl < 0) top1 = 1.0, kl = 1e-4;
        if (top1 >= 0 && !(lg->top1 >= top1)) return 0;
        if (kl >= 0 && !(lg->kl_go_max <= kl)) return 0;
    }
    return 1;
}

void q35_rule_describe(char *buf, size_t n, const q35_tol_rule *r) {
    size_t u = 0;
    buf[0] = 0;
#define ADD(...) (u += (size_t)snprintf(buf + u, u < n ? n - u : 0, __VA_ARGS__), u = u < n ? u : n)
    if (r->exact) ADD("exact");
    if (r->max_rel >= 0) ADD("%smax_rel <= %.1e", u ? ", " : "", r->max_rel);
    if (r->cosine >= 0) ADD("%scosine >= %.6g", u ? ", " : "", r->cosine);
    if (r->atol >= 0 || r->rtol >= 0)
        ADD("%s|d| <= %.1e + %.1e |golden|", u ? ", " : "", r->atol > 0 ? r->atol : 0, r->rtol > 0 ? r->rtol : 0);
    if (r->top1_min >= 0) ADD("%stop1 >= %.4g", u ? ", " : "", r->top1_min);
    if (r->kl_max >= 0) ADD("%sKL <= %.1e", u ? ", " : "", r->kl_max);
#undef ADD
}
