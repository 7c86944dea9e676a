/* alias.h - alias maps: another implementation's tensor names and layouts -> our canonical ones.
 *
 * A map is YAML (format: q35-aliases/1; golden/aliases/README.md documents it):
 *   params:  { key_heads: linear_num_key_heads, ... }   # config.json keys (text_config first) or numbers
 *   aliases: - theirs: "Kcur-{L}#1"                     # {X} matches a decimal integer
 *              ours: "text.layers.{L}.self_attn.k_norm" # without the phase prefix
 *              transform: [ {transpose: [1, 0]}, {view: ours}, {untile_heads: {axis: 0, groups: key_heads}} ]
 *              note: "..."
 * The first alias whose pattern matches a name wins. Transforms are applied to their tensor in
 * order; each only moves elements (any dtype), so values are compared exactly as they were stored:
 *   transpose: axes      numpy.transpose(t, axes)
 *   view: [d, ...]|ours  row-major reshape (one -1 allowed; a size may be a param name); "ours" = our shape
 *   untile_heads: {axis, groups[, heads, head_size]}  heads on axis stored tiled (their j = i*G + k) ->
 *                        grouped (our h = k*(H/G) + i); with heads and head_size only the last
 *                        heads * head_size entries of the axis are heads (of head_size entries each),
 *                        the entries before them stay (q and k channels before the v channels).
 *                        groups, heads and head_size: numbers or param names. */
#ifndef Q35_ALIAS_H
#define Q35_ALIAS_H

#include <stddef.h>

#include "tensor.h"

enum { Q35_XF_TRANSPOSE, Q35_XF_VIEW, Q35_XF_VIEW_OURS, Q35_XF_UNTILE };

/* A size in a transform: a number, or (when < -1) the param numbered -2 - value. */
typedef struct {
    int op;
    int n;                        /* transpose: axes; view: dims (-1: inferred) */
    int64_t v[Q35_MAX_DIMS];
    int axis;                     /* untile_heads */
    int64_t groups;               /* untile_heads: key-head groups */
    int64_t heads, head_size;     /* untile_heads on the tail of the axis only; 0: the whole axis */
} q35_xform;

typedef struct {
    char *theirs, *ours, *note;
    q35_xform *xf;
    int nxf;
} q35_alias;

typedef struct {
    q35_alias *a;
    int n;
    char *implementation;
    char *param_name[16], *param_key[16]; /* key: a config key, or a number as text */
    int64_t param_val[16];                /* resolved; -1 until q35_alias_resolve */
    int nparams;
    char path[512];
} q35_alias_map;

/* Reads a map; -1 with err naming the file and the alias for unknown keys, wrong types, unknown
 * transforms, placeholders in ours that theirs does not define, or params used but not declared. */
int q35_alias_load(q35_alias_map *m, const char *path, char *err, size_t errlen);
/* Resolves params from a checkpoint directory or config.json (config may be NULL), then from
 * NAME=VALUE overrides. A param left unresolved is an error only when a transform uses it. */
int q35_alias_resolve(q35_alias_map *m, const char *config, const char *const *overrides, int noverrides, char *err,
                      size_t errlen);
/* The first alias at index >= from matching their name: writes our name (no phase prefix) to
 * ours, returns its index; -1 when none matches. (One name can stand for several of ours: llama.cpp
 * calls both attention outputs attn_output-N; q35_compare_files takes the first alias whose
 * tensor exists in our dump.) */
int q35_alias_match(const q35_alias_map *m, int from, const char *theirs, char *ours, size_t n);
/* Applies alias idx's transforms to in, given our tensor's shape (for view: ours). On success *buf
 * is a new buffer (free it; NULL when no transform) and *out views it (or in). -1 with err when a
 * shape does not fit (wrong axes, numel mismatch, heads not divisible by groups). */
int q35_alias_apply(const q35_alias_map *m, int idx, const q35_tensor *in, const q35_tensor *ours, void **buf,
                    q35_tensor *out, char *err, size_t errlen);
void q35_alias_free(q35_alias_map *m);

#endif
