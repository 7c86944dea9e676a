/* weights.c - binds checkpoint tensor names to q35_model fields, checking every shape. */
#include "weights.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LM "model.language_model."

/* A growing message buffer: missing names, unknown names. */
typedef struct {
    char *s;
    size_t len, cap;
    int count;
} msgbuf;

static void mb_add(msgbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof tmp) n = sizeof tmp - 1;
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + (size_t)n + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) return;
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, tmp, (size_t)n + 1);
    b->len += (size_t)n;
    b->count++;
}

typedef struct {
    q35_model *m;
    unsigned char *used; /* per st entry: bound to a field */
    msgbuf missing;
    char *err;
    size_t errlen;
    int failed; /* a shape or dtype error was written to err */
} binder;

static void shape_fmt(char *buf, size_t n, int ndim, const int64_t *shape) {
    q35_tensor t;
    memset(&t, 0, sizeof t);
    t.ndim = ndim;
    for (int i = 0; i < ndim; i++) t.shape[i] = shape[i];
    q35_shape_str(buf, n, &t);
}

/* Binds name (shape given as ndim sizes) into *out. Missing names are collected; a wrong shape or
 * a non-float dtype is an error (the first one is kept). */
static void bind(binder *b, q35_tensor *out, const char *name, int ndim, ...) {
    int64_t shape[Q35_MAX_DIMS];
    va_list ap;
    va_start(ap, ndim);
    for (int i = 0; i < ndim; i++) shape[i] = va_arg(ap, int64_t);
    va_end(ap);
    const q35_st_entry *e = q35_st_find(&b->m->st, name);
    if (!e) {
        mb_add(&b->missing, "%s%s", b->missing.count ? ", " : "", name);
        return;
    }
    b->used[e - b->m->st.entries] = 1;
    if (b->failed) return;
    int ok = e->t.ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = e->t.shape[i] == shape[i];
    if (!ok) {
        char have[128], want[128];
        q35_shape_str(have, sizeof have, &e->t);
        shape_fmt(want, sizeof want, ndim, shape);
        snprintf(b->err, b->errlen, "%s: tensor %s has shape %s, config says %s",
                 b->m->st.files[e->file].path, name, have, want);
        b->failed = 1;
        return;
    }
    if (e->t.dtype != Q35_F32 && e->t.dtype != Q35_BF16 && e->t.dtype != Q35_F16) {
        snprintf(b->err, b->errlen, "%s: tensor %s has dtype %s; weights must be F32, BF16 or F16",
                 b->m->st.files[e->file].path, name, q35_dtype_name(e->t.dtype));
        b->failed = 1;
        return;
    }
    *out = e->t;
}

static void bind_layer(binder *b, int i) {
    const q35_text_config *t = &b->m->cfg.text;
    q35_layer_weights *L = &b->m->layers[i];
    int64_t H = t->hidden_size, I = t->intermediate_size;
    char n[256];
#define NAME(suffix) (snprintf(n, sizeof n, LM "layers.%d." suffix, i), n)
    bind(b, &L->input_norm, NAME("input_layernorm.weight"), 1, H);
    bind(b, &L->post_norm, NAME("post_attention_layernorm.weight"), 1, H);
    bind(b, &L->gate_proj, NAME("mlp.gate_proj.weight"), 2, I, H);
    bind(b, &L->up_proj, NAME("mlp.up_proj.weight"), 2, I, H);
    bind(b, &L->down_proj, NAME("mlp.down_proj.weight"), 2, H, I);
    if (t->is_full[i]) {
        int64_t Hq = t->num_heads, Hkv = t->num_kv_heads, D = t->head_dim;
        bind(b, &L->q_proj, NAME("self_attn.q_proj.weight"), 2, Hq * 2 * D, H);
        bind(b, &L->k_proj, NAME("self_attn.k_proj.weight"), 2, Hkv * D, H);
        bind(b, &L->v_proj, NAME("self_attn.v_proj.weight"), 2, Hkv * D, H);
        bind(b, &L->o_proj, NAME("self_attn.o_proj.weight"), 2, H, Hq * D);
        bind(b, &L->q_norm, NAME("self_attn.q_norm.weight"), 1, D);
        bind(b, &L->k_norm, NAME("self_attn.k_norm.weight"), 1, D);
    } else {
        int64_t C = q35_lin_conv_dim(t), Vd = q35_lin_value_dim(t), Hv = t->lin_num_v_heads;
        bind(b, &L->in_proj_qkv, NAME("linear_attn.in_proj_qkv.weight"), 2, C, H);
        bind(b, &L->in_proj_z, NAME("linear_attn.in_proj_z.weight"), 2, Vd, H);
        bind(b, &L->in_proj_a, NAME("linear_attn.in_proj_a.weight"), 2, Hv, H);
        bind(b, &L->in_proj_b, NAME("linear_attn.in_proj_b.weight"), 2, Hv, H);
        bind(b, &L->conv1d, NAME("linear_attn.conv1d.weight"), 3, C, (int64_t)1, (int64_t)t->conv_kernel);
        bind(b, &L->dt_bias, NAME("linear_attn.dt_bias"), 1, Hv);
        bind(b, &L->A_log, NAME("linear_attn.A_log"), 1, Hv);
        bind(b, &L->lin_norm, NAME("linear_attn.norm.weight"), 1, (int64_t)t->lin_v_dim);
        bind(b, &L->out_proj, NAME("linear_attn.out_proj.weight"), 2, H, Vd);
    }
#undef NAME
}

static void bind_vision(binder *b) {
    const q35_vision_config *v = &b->m->cfg.vision;
    q35_vision_weights *w = &b->m->vis;
    int64_t D = v->hidden_size, I = v->intermediate_size, m4 = D * v->spatial_merge_size * v->spatial_merge_size;
    int64_t O = v->out_hidden_size, P = v->patch_size, T = v->temporal_patch_size;
    char n[256];
    bind(b, &w->patch_w, "model.visual.patch_embed.proj.weight", 5, D, (int64_t)v->in_channels, T, P, P);
    /* a Conv3d with stride = kernel is a linear map over the flattened patch */
    w->patch_w.ndim = 2;
    w->patch_w.shape[1] = v->in_channels * T * P * P;
    bind(b, &w->patch_b, "model.visual.patch_embed.proj.bias", 1, D);
    bind(b, &w->pos_embed, "model.visual.pos_embed.weight", 2, (int64_t)v->num_position_embeddings, D);
    for (int j = 0; j < v->depth; j++) {
        q35_vision_block *k = &w->blocks[j];
#define NAME(suffix) (snprintf(n, sizeof n, "model.visual.blocks.%d." suffix, j), n)
        bind(b, &k->norm1_w, NAME("norm1.weight"), 1, D);
        bind(b, &k->norm1_b, NAME("norm1.bias"), 1, D);
        bind(b, &k->norm2_w, NAME("norm2.weight"), 1, D);
        bind(b, &k->norm2_b, NAME("norm2.bias"), 1, D);
        bind(b, &k->qkv_w, NAME("attn.qkv.weight"), 2, 3 * D, D);
        bind(b, &k->qkv_b, NAME("attn.qkv.bias"), 1, 3 * D);
        bind(b, &k->proj_w, NAME("attn.proj.weight"), 2, D, D);
        bind(b, &k->proj_b, NAME("attn.proj.bias"), 1, D);
        bind(b, &k->fc1_w, NAME("mlp.linear_fc1.weight"), 2, I, D);
        bind(b, &k->fc1_b, NAME("mlp.linear_fc1.bias"), 1, I);
        bind(b, &k->fc2_w, NAME("mlp.linear_fc2.weight"), 2, D, I);
        bind(b, &k->fc2_b, NAME("mlp.linear_fc2.bias"), 1, D);
#undef NAME
    }
    bind(b, &w->merger_norm_w, "model.visual.merger.norm.weight", 1, D);
    bind(b, &w->merger_norm_b, "model.visual.merger.norm.bias", 1, D);
    bind(b, &w->merger_fc1_w, "model.visual.merger.linear_fc1.weight", 2, m4, m4);
    bind(b, &w->merger_fc1_b, "model.visual.merger.linear_fc1.bias", 1, m4);
    bind(b, &w->merger_fc2_w, "model.visual.merger.linear_fc2.weight", 2, O, m4);
    bind(b, &w->merger_fc2_b, "model.visual.merger.linear_fc2.bias", 1, O);
}

void q35_model_close(q35_model *m) {
    if (!m) return;
    q35_st_close(&m->st);
    free(m->layers);
    free(m->vis.blocks);
    free(m->dir);
    free(m->warnings);
    memset(m, 0, sizeof *m);
}

int q35_model_open(q35_model *m, const char *dir, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    if (q35_config_load(&m->cfg, dir, err, errlen) != 0) return -1;
    if (q35_st_open(&m->st, dir, err, errlen) != 0) return -1;
    m->dir = strdup(dir);
    const q35_text_config *t = &m->cfg.text;
    m->layers = calloc((size_t)t->num_layers, sizeof *m->layers);
    if (m->cfg.vision.present) m->vis.blocks = calloc((size_t)m->cfg.vision.depth, sizeof *m->vis.blocks);
    binder b = { .m = m, .used = calloc((size_t)m->st.n + 1, 1), .err = err, .errlen = errlen };
    if (!m->layers || !b.used || !m->dir || (m->cfg.vision.present && !m->vis.blocks)) {
        snprintf(err, errlen, "%s: out of memory", dir);
        free(b.used);
        q35_model_close(m);
        return -1;
    }
    int64_t V = t->vocab_size, H = t->hidden_size;
    bind(&b, &m->embed, LM "embed_tokens.weight", 2, V, H);
    bind(&b, &m->final_norm, LM "norm.weight", 1, H);
    for (int i = 0; i < t->num_layers; i++) bind_layer(&b, i);
    if (m->cfg.vision.present) bind_vision(&b);
    /* lm_head.weight is used when present (untied checkpoints), else the embedding. */
    if (q35_st_find(&m->st, "lm_head.weight")) {
        bind(&b, &m->lm_head, "lm_head.weight", 2, V, H);
    } else if (t->tie_word_embeddings) {
        m->lm_head = m->embed;
        m->lm_head_tied = 1;
    } else {
        mb_add(&b.missing, "%s%s", b.missing.count ? ", " : "", "lm_head.weight (config has tie_word_embeddings false)");
    }

    msgbuf unknown = {0};
    for (int i = 0; i < m->st.n; i++) {
        const char *name = m->st.entries[i].name;
        m->weight_bytes += m->st.entries[i].nbytes;
        int visual = strncmp(name, "model.visual.", 13) == 0, mtp = strncmp(name, "mtp.", 4) == 0;
        m->n_visual += visual;
        m->n_mtp += mtp;
        if (b.used[i] || visual || mtp) continue;
        if (unknown.count < 20) mb_add(&unknown, "%s%s", unknown.count ? ", " : "", name);
        else unknown.count++;
    }
    free(b.used);
    if (!b.failed && b.missing.count) {
        snprintf(err, errlen, "%s: %d tensor%s missing: %s", dir, b.missing.count,
                 b.missing.count > 1 ? "s" : "", b.missing.s);
        b.failed = 1;
    }
    free(b.missing.s);
    if (b.failed) {
        free(unknown.s);
        q35_model_close(m);
        return -1;
    }
    if (unknown.count) {
        size_t n = unknown.len + 128;
        m->warnings = malloc(n);
        if (m->warnings)
            snprintf(m->warnings, n, "%s: %d tensor%s not used by the model: %s%s", dir, unknown.count,
                     unknown.count > 1 ? "s" : "", unknown.s, unknown.count > 20 ? ", ..." : "");
    }
    free(unknown.s);
    return 0;
}
