/* alias.c - loading alias maps, matching names, moving elements into our layout. */
#include "alias.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"
#include "yamljson.h"

void q35_alias_free(q35_alias_map *m) {
    for (int i = 0; i < m->n; i++) free(m->a[i].theirs), free(m->a[i].ours), free(m->a[i].note), free(m->a[i].xf);
    free(m->a);
    free(m->implementation);
    for (int i = 0; i < m->nparams; i++) free(m->param_name[i]), free(m->param_key[i]);
    memset(m, 0, sizeof *m);
}

/* 1 when d is an integer that int64_t holds (a cast of anything else is undefined). */
static int is_int64(double d) { return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == (double)(int64_t)d; }

static int int_list(const cJSON *j, int64_t *v, int *n, int allow_neg1) {
    *n = 0;
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) > Q35_MAX_DIMS) return -1;
    for (const cJSON *e = j->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || !is_int64(e->valuedouble)) return -1;
        int64_t x = (int64_t)e->valuedouble;
        if (x < (allow_neg1 ? -1 : 0)) return -1;
        v[(*n)++] = x;
    }
    return 0;
}

/* The placeholder names in a pattern, checked for balance; -1 when malformed. */
static int placeholders(const char *p, char names[8][32], int *n) {
    *n = 0;
    for (const char *s = p; *s; s++) {
        if (*s == '}') return -1;
        if (*s != '{') continue;
        const char *e = strchr(s, '}');
        if (!e || e == s + 1 || e - s - 1 >= 32 || *n == 8) return -1;
        snprintf(names[(*n)++], 32, "%.*s", (int)(e - s - 1), s + 1);
        s = e;
    }
    return 0;
}

/* A size: a positive number, or a declared param name (stored as -2 - its index). */
static int parse_size(const q35_alias_map *m, const cJSON *j, int64_t *out, int allow_neg1) {
    if (cJSON_IsNumber(j)) {
        double v = j->valuedouble;
        if (!is_int64(v) || v < (allow_neg1 ? -1 : 1) || v == 0) return -1;
        *out = (int64_t)v;
        return 0;
    }
    if (!cJSON_IsString(j)) return -1;
    for (int k = 0; k < m->nparams; k++)
        if (strcmp(m->param_name[k], j->valuestring) == 0) {
            *out = -2 - k;
            return 0;
        }
    return -1;
}

static int parse_xform(q35_alias_map *m, q35_xform *x, const cJSON *j, char *why, size_t wl) {
    memset(x, 0, sizeof *x);
    if (!cJSON_IsObject(j) || !j->child || j->child->next) {
        snprintf(why, wl, "each transform is a one-key mapping (transpose, view or untile_heads)");
        return -1;
    }
    const cJSON *v = j->child;
    if (strcmp(v->string, "transpose") == 0) {
        x->op = Q35_XF_TRANSPOSE;
        if (int_list(v, x->v, &x->n, 0) != 0 || x->n == 0) {
            snprintf(why, wl, "transpose needs a list of axes");
            return -1;
        }
        for (int a = 0; a < x->n; a++) { /* a permutation of 0..n-1 */
            int dup = x->v[a] >= x->n;
            for (int b = 0; b < a; b++) dup |= x->v[a] == x->v[b];
            if (dup) {
                snprintf(why, wl, "transpose axes must be a permutation of 0..%d", x->n - 1);
                return -1;
            }
        }
    } else if (strcmp(v->string, "view") == 0) {
        if (cJSON_IsString(v) && strcmp(v->valuestring, "ours") == 0) {
            x->op = Q35_XF_VIEW_OURS;
        } else {
            x->op = Q35_XF_VIEW;
            int neg = 0;
            if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0 || cJSON_GetArraySize(v) > Q35_MAX_DIMS) {
                snprintf(why, wl, "view needs a list of sizes (one -1 allowed, or param names) or \"ours\"");
                return -1;
            }
            for (const cJSON *e = v->child; e; e = e->next)
                if (parse_size(m, e, &x->v[x->n++], 1) != 0) {
                    snprintf(why, wl, "view sizes are positive numbers, -1 or declared params");
                    return -1;
                }
            for (int a = 0; a < x->n; a++) neg += x->v[a] == -1;
            if (neg > 1) {
                snprintf(why, wl, "view allows one -1");
                return -1;
            }
        }
    } else if (strcmp(v->string, "untile_heads") == 0) {
        x->op = Q35_XF_UNTILE;
        const cJSON *ax = cJSON_GetObjectItemCaseSensitive(v, "axis"), *g = cJSON_GetObjectItemCaseSensitive(v, "groups");
        const cJSON *hs = cJSON_GetObjectItemCaseSensitive(v, "heads"), *sz = cJSON_GetObjectItemCaseSensitive(v, "head_size");
        if (!cJSON_IsObject(v) || !cJSON_IsNumber(ax) || ax->valuedouble < 0 || ax->valuedouble >= Q35_MAX_DIMS) {
            snprintf(why, wl, "untile_heads needs {axis: N, groups: NUMBER or PARAM[, heads: .., head_size: ..]}");
            return -1;
        }
        x->axis = (int)ax->valuedouble;
        if (!g || parse_size(m, g, &x->groups, 0) != 0) {
            snprintf(why, wl, "untile_heads groups must be a number >= 1 or a param declared under params");
            return -1;
        }
        if (!hs != !sz || (hs && (parse_size(m, hs, &x->heads, 0) != 0 || parse_size(m, sz, &x->head_size, 0) != 0))) {
            snprintf(why, wl, "untile_heads heads and head_size go together, numbers or declared params");
            return -1;
        }
        for (const cJSON *f = v->child; f; f = f->next)
            if (strcmp(f->string, "axis") && strcmp(f->string, "groups") && strcmp(f->string, "heads") &&
                strcmp(f->string, "head_size")) {
                snprintf(why, wl, "untile_heads: unknown key '%.40s'", f->string);
                return -1;
            }
    } else {
        snprintf(why, wl, "unknown transform '%s' (have: transpose, view, untile_heads)", v->string);
        return -1;
    }
    return 0;
}

int q35_alias_load(q35_alias_map *m, const char *path, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    snprintf(m->path, sizeof m->path, "%s", path);
    cJSON *root = q35_yaml_load(path, err, errlen);
    if (!root) return -1;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *impl = cJSON_GetObjectItemCaseSensitive(root, "implementation");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
    const cJSON *al = cJSON_GetObjectItemCaseSensitive(root, "aliases");
    char why[200] = "";
    int k = 0;
    if (!cJSON_IsObject(root) || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, "q35-aliases/1") != 0) {
        q35_fail(err, errlen, "%s: not an alias map (needs format: q35-aliases/1)", path);
        goto fail;
    }
    for (const cJSON *e = root->child; e; e = e->next)
        if (strcmp(e->string, "format") && strcmp(e->string, "implementation") && strcmp(e->string, "params") &&
            strcmp(e->string, "aliases") && strcmp(e->string, "notes")) {
            q35_fail(err, errlen, "%s: unknown key '%s' (have: format, implementation, notes, params, aliases)", path, e->string);
            goto fail;
        }
    if (impl && cJSON_IsString(impl)) m->implementation = strdup(impl->valuestring);
    if (params && !cJSON_IsNull(params)) {
        if (!cJSON_IsObject(params) || cJSON_GetArraySize(params) > 16) {
            q35_fail(err, errlen, "%s: params must be a mapping of at most 16 names", path);
            goto fail;
        }
        for (const cJSON *p = params->child; p; p = p->next) {
            char num[32];
            if (!cJSON_IsString(p) && !(cJSON_IsNumber(p) && is_int64(p->valuedouble))) {
                q35_fail(err, errlen, "%s: param %s must be a config key or an integer", path, p->string);
                goto fail;
            }
            if (cJSON_IsNumber(p)) snprintf(num, sizeof num, "%lld", (long long)p->valuedouble);
            m->param_name[m->nparams] = strdup(p->string);
            m->param_key[m->nparams] = strdup(cJSON_IsString(p) ? p->valuestring : num);
            m->param_val[m->nparams++] = -1;
        }
    }
    if (!cJSON_IsArray(al) || cJSON_GetArraySize(al) == 0) {
        q35_fail(err, errlen, "%s: \"aliases\" must be a non-empty list", path);
        goto fail;
    }
    if (!(m->a = calloc((size_t)cJSON_GetArraySize(al), sizeof *m->a))) {
        q35_fail(err, errlen, "out of memory");
        goto fail;
    }
    for (const cJSON *e = al->child; e; e = e->next, k++) {
        q35_alias *a = &m->a[m->n++];
        const cJSON *th = cJSON_GetObjectItemCaseSensitive(e, "theirs"), *ou = cJSON_GetObjectItemCaseSensitive(e, "ours");
        const cJSON *tf = cJSON_GetObjectItemCaseSensitive(e, "transform"), *no = cJSON_GetObjectItemCaseSensitive(e, "note");
        if (!cJSON_IsObject(e) || !cJSON_IsString(th) || !cJSON_IsString(ou)) {
            snprintf(why, sizeof why, "needs string keys theirs and ours");
            goto bad_alias;
        }
        for (const cJSON *f = e->child; f; f = f->next)
            if (strcmp(f->string, "theirs") && strcmp(f->string, "ours") && strcmp(f->string, "transform") &&
                strcmp(f->string, "note")) {
                snprintf(why, sizeof why, "unknown key '%.60s' (have: theirs, ours, transform, note)", f->string);
                goto bad_alias;
            }
        a->theirs = strdup(th->valuestring);
        a->ours = strdup(ou->valuestring);
        if (cJSON_IsString(no)) a->note = strdup(no->valuestring);
        char tn[8][32], on[8][32];
        int ntn, non;
        if (placeholders(a->theirs, tn, &ntn) != 0 || placeholders(a->ours, on, &non) != 0) {
            snprintf(why, sizeof why, "unbalanced or empty {placeholder}");
            goto bad_alias;
        }
        for (int i = 0; i < non; i++) {
            int found = 0;
            for (int j = 0; j < ntn; j++) found |= strcmp(on[i], tn[j]) == 0;
            if (!found) {
                snprintf(why, sizeof why, "ours uses {%.31s}, which theirs does not define", on[i]);
                goto bad_alias;
            }
        }
        if (tf && !cJSON_IsNull(tf)) {
            if (!cJSON_IsArray(tf)) {
                snprintf(why, sizeof why, "transform must be a list");
                goto bad_alias;
            }
            if (!(a->xf = calloc((size_t)cJSON_GetArraySize(tf) + 1, sizeof *a->xf))) {
                snprintf(why, sizeof why, "out of memory");
                goto bad_alias;
            }
            for (const cJSON *x = tf->child; x; x = x->next)
                if (parse_xform(m, &a->xf[a->nxf++], x, why, sizeof why) != 0) goto bad_alias;
        }
        if (!a->theirs || !a->ours) {
            snprintf(why, sizeof why, "out of memory");
            goto bad_alias;
        }
    }
    cJSON_Delete(root);
    return 0;
bad_alias:
    q35_fail(err, errlen, "%s: aliases[%d]: %s", path, k, why);
fail:
    cJSON_Delete(root);
    q35_alias_free(m);
    return -1;
}

int q35_alias_resolve(q35_alias_map *m, const char *config, const char *const *overrides, int noverrides, char *err,
                      size_t errlen) {
    cJSON *cfg = NULL;
    if (config) {
        char p[4200];
        struct stat sb;
        if (stat(config, &sb) == 0 && S_ISDIR(sb.st_mode)) snprintf(p, sizeof p, "%s/config.json", config);
        else snprintf(p, sizeof p, "%s", config);
        if (!(cfg = q35_read_json_object(p, 16u << 20, 0, err, errlen))) return -1;
    }
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(cfg, "text_config");
    for (int i = 0; i < m->nparams; i++) {
        char *end;
        long long v = strtoll(m->param_key[i], &end, 10);
        if (*end == 0 && end != m->param_key[i]) {
            m->param_val[i] = v;
            continue;
        }
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(tc, m->param_key[i]);
        if (!cJSON_IsNumber(x)) x = cJSON_GetObjectItemCaseSensitive(cfg, m->param_key[i]);
        if (cJSON_IsNumber(x) && is_int64(x->valuedouble)) m->param_val[i] = (int64_t)x->valuedouble; /* else unresolved */
    }
    cJSON_Delete(cfg);
    for (int o = 0; o < noverrides; o++) {
        const char *eq = strchr(overrides[o], '=');
        char *end;
        long long v = eq ? strtoll(eq + 1, &end, 10) : 0;
        if (!eq || *end || end == eq + 1 || v < 1) return q35_fail(err, errlen, "--param %s: want NAME=POSITIVE_INTEGER", overrides[o]);
        int k;
        for (k = 0; k < m->nparams; k++)
            if (strlen(m->param_name[k]) == (size_t)(eq - overrides[o]) && strncmp(m->param_name[k], overrides[o], (size_t)(eq - overrides[o])) == 0)
                break;
        if (k == m->nparams) return q35_fail(err, errlen, "--param %s: %s declares no such param", overrides[o], m->path);
        m->param_val[k] = v;
    }
    return 0;
}

int q35_alias_match(const q35_alias_map *m, int from, const char *theirs, char *ours, size_t n) {
    for (int i = from < 0 ? 0 : from; i < m->n; i++) {
        const char *p = m->a[i].theirs, *s = theirs;
        char names[8][32], vals[8][24];
        int nv = 0, ok = 1;
        while (*p && ok) {
            if (*p == '{') {
                const char *e = strchr(p, '}');
                int len = 0;
                while (s[len] >= '0' && s[len] <= '9' && len < 20) len++;
                if (!len || nv == 8) ok = 0;
                else {
                    snprintf(names[nv], 32, "%.*s", (int)(e - p - 1), p + 1);
                    snprintf(vals[nv++], 24, "%.*s", len, s);
                    s += len;
                    p = e + 1;
                }
            } else if (*p++ != *s++) {
                ok = 0;
            }
        }
        if (!ok || *s) continue;
        size_t u = 0; /* our name with the values substituted */
        for (const char *q = m->a[i].ours; *q && u + 1 < n;) {
            if (*q == '{') {
                const char *e = strchr(q, '}');
                for (int k = 0; k < nv; k++)
                    if (strlen(names[k]) == (size_t)(e - q - 1) && strncmp(names[k], q + 1, (size_t)(e - q - 1)) == 0)
                        u += (size_t)snprintf(ours + u, n - u, "%s", vals[k]);
                q = e + 1;
            } else {
                ours[u++] = *q++;
            }
            if (u >= n) u = n - 1;
        }
        ours[u] = 0;
        return i;
    }
    return -1;
}

/* A size's value: the number, or its param's (-1 when unresolved). */
static int64_t size_val(const q35_alias_map *m, int64_t v) { return v < -1 ? m->param_val[-2 - v] : v; }

/* The name of the first unresolved param among sizes v[0..n), or NULL. */
static const char *unresolved(const q35_alias_map *m, const int64_t *v, int n) {
    for (int i = 0; i < n; i++)
        if (v[i] < -1 && m->param_val[-2 - v[i]] < 1) return m->param_name[-2 - v[i]];
    return NULL;
}

/* Row-major strides of shape (in elements). */
static void strides(int64_t *st, const int64_t *shape, int nd) {
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; d--) st[d] = s, s *= shape[d];
}

int q35_alias_apply(const q35_alias_map *m, int idx, const q35_tensor *in, const q35_tensor *ours, void **buf,
                    q35_tensor *out, char *err, size_t errlen) {
    const q35_alias *a = &m->a[idx];
    *buf = NULL;
    *out = *in;
    size_t es = q35_dtype_size(in->dtype);
    int64_t n = q35_numel(in);
    char shape[64];
    for (int x = 0; x < a->nxf; x++) {
        const q35_xform *f = &a->xf[x];
        q35_shape_str(shape, sizeof shape, out);
        if (f->op == Q35_XF_VIEW || f->op == Q35_XF_VIEW_OURS) {
            q35_tensor t = *out;
            if (f->op == Q35_XF_VIEW_OURS) {
                t.ndim = ours->ndim;
                memcpy(t.shape, ours->shape, sizeof t.shape);
                int64_t p = 1; /* a dump's shape, still never multiplied unchecked */
                for (int d = 0; d < t.ndim; d++)
                    if (t.shape[d] < 0 || __builtin_mul_overflow(p, t.shape[d], &p)) {
                        free(*buf), *buf = NULL;
                        return q35_fail(err, errlen, "%s: aliases[%d] (theirs %s): view ours: our shape overflows", m->path, idx,
                                        a->theirs);
                    }
            } else {
                int64_t known = 1;
                int neg = -1;
                const char *u = unresolved(m, f->v, f->n);
                if (u) {
                    free(*buf), *buf = NULL;
                    return q35_fail(err, errlen, "%s: param %s is unknown: give --model CHECKPOINT or --param %s=N", m->path, u, u);
                }
                t.ndim = f->n;
                for (int d = 0; d < f->n; d++) {
                    t.shape[d] = size_val(m, f->v[d]);
                    if (t.shape[d] < 0) neg = d;
                    else if (__builtin_mul_overflow(known, t.shape[d], &known)) {
                        free(*buf), *buf = NULL;
                        return q35_fail(err, errlen, "%s: aliases[%d] (theirs %s): view sizes multiply past 2^63 (overflow) for their %s",
                                        m->path, idx, a->theirs, shape);
                    }
                }
                if (neg >= 0) t.shape[neg] = known ? n / known : 0;
            }
            if (q35_numel(&t) != n) {
                char want[64];
                q35_shape_str(want, sizeof want, &t);
                free(*buf), *buf = NULL;
                return q35_fail(err, errlen, "view %s of their %s (%s): element counts differ", want, shape, a->theirs);
            }
            *out = t;
            continue;
        }
        char *dst = malloc((size_t)(n ? n : 1) * es);
        if (!dst) {
            free(*buf), *buf = NULL;
            return q35_fail(err, errlen, "out of memory");
        }
        const char *src = out->data;
        int64_t ist[Q35_MAX_DIMS];
        strides(ist, out->shape, out->ndim);
        q35_tensor t = *out;
        if (f->op == Q35_XF_TRANSPOSE) {
            if (f->n != out->ndim) {
                free(dst), free(*buf), *buf = NULL;
                return q35_fail(err, errlen, "transpose with %d axes of their %s (%s), which has %d", f->n, shape, a->theirs,
                                out->ndim);
            }
            int64_t pst[Q35_MAX_DIMS], idxv[Q35_MAX_DIMS] = {0};
            for (int d = 0; d < f->n; d++) t.shape[d] = out->shape[f->v[d]], pst[d] = ist[f->v[d]];
            for (int64_t o = 0; o < n; o++) {
                int64_t off = 0;
                for (int d = 0; d < t.ndim; d++) off += idxv[d] * pst[d];
                memcpy(dst + (size_t)o * es, src + (size_t)off * es, es);
                for (int d = t.ndim - 1; d >= 0; d--) { /* next output index */
                    if (++idxv[d] < t.shape[d]) break;
                    idxv[d] = 0;
                }
            }
        } else { /* untile_heads */
            int ax = f->axis;
            int64_t sizes[3] = { f->groups, f->heads, f->head_size };
            const char *u = unresolved(m, sizes, 3);
            if (u) {
                free(dst), free(*buf), *buf = NULL;
                return q35_fail(err, errlen, "%s: param %s is unknown: give --model CHECKPOINT or --param %s=N", m->path, u, u);
            }
            int64_t G = size_val(m, f->groups), S = ax < out->ndim ? out->shape[ax] : 0;
            int64_t H = f->heads ? size_val(m, f->heads) : S, hs = f->heads ? size_val(m, f->head_size) : 1, Hhs;
            if (__builtin_mul_overflow(H, hs, &Hhs)) { /* a wrapped product would pass the bounds check below */
                free(dst), free(*buf), *buf = NULL;
                return q35_fail(err, errlen, "%s: aliases[%d] (theirs %s): untile_heads heads %lld * head_size %lld overflows",
                                m->path, idx, a->theirs, (long long)H, (long long)hs);
            }
            if (ax >= out->ndim || H % G != 0 || Hhs > S) {
                free(dst), free(*buf), *buf = NULL;
                return q35_fail(err, errlen, "untile_heads axis %d of their %s (%s): not %lld heads%s in %lld groups", ax,
                                shape, a->theirs, (long long)H, f->heads ? " at its end" : "", (long long)G);
            }
            int64_t r = H / G, pre = S - Hhs, inner = ist[ax], outer = n ? n / (S * inner) : 0; /* n > 0: S, inner > 0 */
            for (int64_t o = 0; o < outer; o++)
                for (int64_t sd = 0; sd < S; sd++) {
                    int64_t ss = sd; /* the source entry of our entry sd */
                    if (sd >= pre) {
                        int64_t h = (sd - pre) / hs, e = (sd - pre) % hs, j = (h % r) * G + h / r;
                        ss = pre + j * hs + e;
                    }
                    memcpy(dst + (size_t)((o * S + sd) * inner) * es, src + (size_t)((o * S + ss) * inner) * es,
                           (size_t)inner * es);
                }
        }
        free(*buf);
        *buf = dst;
        t.data = dst;
        *out = t;
    }
    return 0;
}
