/* trace.c - emitting traced tensors and collecting them. */
#include "trace.h"
#include "util.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

void q35_trace_tensor(const q35_trace *tr, const char *name, const q35_tensor *t) {
    if (!q35_tracing(tr)) return;
    char full[256];
    snprintf(full, sizeof full, "%s%s", tr->prefix, name);
    tr->on_tensor(tr->ctx, full, t);
}

void q35_trace_f32(const q35_trace *tr, const char *name, const float *x, int ndim, ...) {
    if (!q35_tracing(tr)) return;
    int64_t shape[Q35_MAX_DIMS];
    va_list ap;
    va_start(ap, ndim);
    for (int i = 0; i < ndim && i < Q35_MAX_DIMS; i++) shape[i] = va_arg(ap, int);
    va_end(ap);
    q35_tensor t = q35_view_f32(x, ndim, shape);
    q35_trace_tensor(tr, name, &t);
}

int q35_trace_force(const q35_trace *tr, const char *name, float *buf, int64_t n) {
    if (!tr || !tr->force) return 0;
    char full[256];
    snprintf(full, sizeof full, "%s%s", tr->prefix, name);
    return tr->force(tr->fctx, full, buf, n);
}

void q35_trace_ids(const q35_trace *tr, const int *ids, int n) {
    if (!q35_tracing(tr)) return;
    int64_t *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return;
    for (int i = 0; i < n; i++) v[i] = ids[i];
    q35_tensor t = { .dtype = Q35_I64, .ndim = 2, .shape = { 1, n }, .data = v };
    q35_trace_tensor(tr, "input_ids", &t);
    free(v);
}

int q35_trace_store_init(q35_trace_store *s, const char *only_regex, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    if (!only_regex) return 0;
    regex_t *re = malloc(sizeof *re);
    if (!re) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (q35_regex_safe(only_regex, err, errlen) != 0) return free(re), -1;
    int rc = regcomp(re, only_regex, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[256];
        regerror(rc, re, msg, sizeof msg);
        snprintf(err, errlen, "bad --only regex '%s': %s", only_regex, msg);
        free(re);
        return -1;
    }
    s->regex = re;
    return 0;
}

void q35_trace_store_hook(void *ctx, const char *name, const q35_tensor *t) {
    q35_trace_store *s = ctx;
    if (s->regex && regexec((regex_t *)s->regex, name, 0, NULL, 0) != 0) return;
    int64_t n = q35_numel(t);
    int keep_int = t->dtype == Q35_I64;
    size_t bytes = (size_t)n * (keep_int ? 8 : 4);
    void *copy = malloc(bytes ? bytes : 1);
    char *nm = strdup(name);
    if (!copy || !nm) {
        free(copy);
        free(nm);
        s->oom = 1;
        return;
    }
    if (keep_int) memcpy(copy, t->data, bytes);
    else q35_read_f32(copy, t, 0, n);
    q35_tensor c = *t;
    c.dtype = keep_int ? Q35_I64 : Q35_F32;
    c.data = copy;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->items[i].name, name) == 0) {
            free((void *)s->items[i].t.data);
            free(nm);
            s->items[i].t = c;
            return;
        }
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        q35_trace_item *items = realloc(s->items, (size_t)cap * sizeof *items);
        if (!items) {
            free(copy);
            free(nm);
            s->oom = 1;
            return;
        }
        s->items = items;
        s->cap = cap;
    }
    s->items[s->n].name = nm;
    s->items[s->n].t = c;
    s->n++;
}

const q35_trace_item *q35_trace_store_find(const q35_trace_store *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->items[i].name, name) == 0) return &s->items[i];
    return NULL;
}

int q35_trace_store_save(const q35_trace_store *s, const char *path, char *err, size_t errlen) {
    const char **names = malloc(((size_t)s->n + 1) * sizeof *names);
    q35_tensor *ts = malloc(((size_t)s->n + 1) * sizeof *ts);
    int rc = -1;
    if (!names || !ts) {
        snprintf(err, errlen, "%s: out of memory", path);
    } else {
        for (int i = 0; i < s->n; i++) {
            names[i] = s->items[i].name;
            ts[i] = s->items[i].t;
        }
        rc = q35_st_save(path, names, ts, s->n, err, errlen);
    }
    free(names);
    free(ts);
    return rc;
}

void q35_trace_store_free(q35_trace_store *s) {
    for (int i = 0; i < s->n; i++) {
        free(s->items[i].name);
        free((void *)s->items[i].t.data);
    }
    free(s->items);
    if (s->regex) {
        regfree((regex_t *)s->regex);
        free(s->regex);
    }
    memset(s, 0, sizeof *s);
}
