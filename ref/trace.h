/* trace.h - the tracing hook: every intermediate tensor reported under its canonical name.
 *
 * The model calls q35_trace_emit for each intermediate (and only when a hook is set, so tracing
 * costs nothing otherwise). Names are the golden names (golden/data/README.md): a phase prefix
 * ("prefill.", "decode0.", ...) followed by "text.layers.3.self_attn.q_norm", "logits", ... */
#ifndef Q35_TRACE_H
#define Q35_TRACE_H

#include <stddef.h>

#include "tensor.h"

typedef void (*q35_trace_fn)(void *ctx, const char *name, const q35_tensor *t);
/* Teacher forcing: may overwrite buf (n floats) with the golden value of name; returns 1 if it did. */
typedef int (*q35_force_fn)(void *fctx, const char *name, float *buf, int64_t n);

typedef struct {
    q35_trace_fn on_tensor;
    void *ctx;
    char prefix[64];     /* prepended to every name, e.g. "prefill." */
    q35_force_fn force;  /* optional: teacher forcing at each layer's entry */
    void *fctx;
} q35_trace;

/* 1 when tr has a hook (callers skip building trace-only tensors otherwise). */
static inline int q35_tracing(const q35_trace *tr) { return tr && tr->on_tensor; }

/* Reports x (float32, ndim sizes given as ints) under prefix + name. No-op without a hook. */
void q35_trace_f32(const q35_trace *tr, const char *name, const float *x, int ndim, ...);
/* Reports any tensor view under prefix + name. */
void q35_trace_tensor(const q35_trace *tr, const char *name, const q35_tensor *t);

/* At a layer's entry: lets the force hook replace buf (n floats, the layer's input) with the
 * golden tensor prefix + name. Returns 1 when replaced, 0 otherwise (no hook, no such golden). */
int q35_trace_force(const q35_trace *tr, const char *name, float *buf, int64_t n);

/* Reports token ids as prefix + "input_ids", I64 [1, n] (the golden layout). */
void q35_trace_ids(const q35_trace *tr, const int *ids, int n);

/* A collector: a hook that keeps a float32 (or I64) copy of every tensor it is given, in order,
 * optionally only those whose name matches a POSIX extended regex. */
typedef struct {
    char *name;
    q35_tensor t;        /* t.data owned */
} q35_trace_item;

typedef struct {
    q35_trace_item *items;
    int n, cap;
    void *regex;         /* regex_t*, or NULL to keep all */
    int oom;             /* a copy failed for lack of memory */
} q35_trace_store;

/* Initialises an empty store; only_regex may be NULL. Returns -1 with err for a bad regex. */
int q35_trace_store_init(q35_trace_store *s, const char *only_regex, char *err, size_t errlen);
/* The hook function to put in q35_trace.on_tensor (ctx = the store). A name seen again replaces
 * the earlier tensor. */
void q35_trace_store_hook(void *ctx, const char *name, const q35_tensor *t);
/* The item named name, or NULL. */
const q35_trace_item *q35_trace_store_find(const q35_trace_store *s, const char *name);
/* Writes every item (in order) to a safetensors file. */
int q35_trace_store_save(const q35_trace_store *s, const char *path, char *err, size_t errlen);
void q35_trace_store_free(q35_trace_store *s);

#endif
