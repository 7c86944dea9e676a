/* text.c - the Qwen3.5 language model, described once over the op table.
 *
 * Per layer: x += mixer(rmsnorm(x)); x += mlp(rmsnorm(x)). The mixer is a Gated DeltaNet
 * (linear_attention) or gated full attention, by config layer_types. Every tensor the golden sets
 * record is reported to the trace hook under its golden name. */
#include "text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rope.h"
#include "util.h"

#define MAXF(a, b) ((a) > (b) ? (a) : (b))

static void free_ptrs(float **p, int n) {
    if (!p) return;
    for (int i = 0; i < n; i++) free(p[i]);
    free(p);
}

/* The run-state buffers with their widths per token, for allocation and freeing alike. */
typedef struct { float **p; size_t w; } run_buf;

static size_t run_bufs(q35_text_state *s, run_buf *b) {
    const q35_text_config *c = &s->m->cfg.text;
    size_t H = c->hidden_size, I = c->intermediate_size, R = c->rotary_dim, C = q35_lin_conv_dim(c);
    size_t Vd = q35_lin_value_dim(c), Hv = c->lin_num_v_heads;
    size_t qd = (size_t)c->num_heads * c->head_dim, kvd = (size_t)c->num_kv_heads * c->head_dim;
    run_buf all[] = {
        { &s->x, H },          { &s->xn, H },          { &s->mix, H },         { &s->mlp_gate, I },
        { &s->mlp_up, I },     { &s->rope_cos, R },    { &s->rope_sin, R },    { &s->lin_qkv, C },
        { &s->lin_conv, C },   { &s->lin_z, Vd },      { &s->lin_a, Hv },      { &s->lin_b, Hv },
        { &s->lin_g, Hv },     { &s->lin_beta, Hv },   { &s->lin_core, Vd },   { &s->lin_normed, Vd },
        { &s->att_qg, 2 * qd }, { &s->att_q, qd },     { &s->att_gate, qd },   { &s->att_k, kvd },
        { &s->att_v, kvd },    { &s->att_o, qd },
    };
    size_t n = sizeof all / sizeof all[0];
    if (b) memcpy(b, all, sizeof all);
    return n;
}

static void free_scratch(q35_text_state *s) {
    run_buf b[32];
    size_t n = run_bufs(s, b);
    for (size_t i = 0; i < n; i++) {
        free(*b[i].p);
        *b[i].p = NULL;
    }
    free(s->scratch);
    s->scratch = NULL;
    s->scratch_n = 0;
    s->max_T = 0;
}

void q35_text_state_free(q35_text_state *s) {
    if (!s || !s->m) return;
    int L = s->m->cfg.text.num_layers;
    free_ptrs(s->conv, L);
    free_ptrs(s->S, L);
    free_ptrs(s->K, L);
    free_ptrs(s->V, L);
    free_scratch(s);
    memset(s, 0, sizeof *s);
}

/* Grows the K/V caches to hold at least need tokens (layout [Hkv, cap, Dh] is re-spread). */
static int grow_kv(q35_text_state *s, int need) {
    if (need <= s->cap) return 0;
    const q35_text_config *c = &s->m->cfg.text;
    int cap = MAXF(need, s->cap * 2);
    if (cap < 64) cap = 64;
    size_t hd = (size_t)c->head_dim;
    for (int i = 0; i < c->num_layers; i++) {
        if (!c->is_full[i]) continue;
        float **caches[2] = { &s->K[i], &s->V[i] };
        for (int j = 0; j < 2; j++) {
            float *n = calloc((size_t)c->num_kv_heads * cap * hd, sizeof(float));
            if (!n) return -1;
            if (*caches[j])
                for (int h = 0; h < c->num_kv_heads; h++)
                    memcpy(n + (size_t)h * cap * hd, *caches[j] + (size_t)h * s->cap * hd,
                           (size_t)s->n_past * hd * sizeof(float));
            free(*caches[j]);
            *caches[j] = n;
        }
    }
    s->cap = cap;
    return 0;
}

/* Run-state buffers for T tokens. */
static int grow_run_state(q35_text_state *s, int T) {
    if (T <= s->max_T) return 0;
    run_buf b[32];
    size_t n = run_bufs(s, b);
    for (size_t i = 0; i < n; i++) {
        float *p = realloc(*b[i].p, (size_t)T * MAXF(b[i].w, 1) * sizeof(float));
        if (!p) return -1;
        *b[i].p = p;
    }
    s->max_T = T;
    return 0;
}

/* The backend's per-thread scratch for attention over n_keys keys and for the delta rule. */
static int grow_op_scratch(q35_text_state *s, const q35_ops *ops, int n_keys) {
    const q35_text_config *c = &s->m->cfg.text;
    size_t need = MAXF(ops->attn_scratch(n_keys, c->head_dim), ops->delta_scratch(c->lin_k_dim, c->lin_v_dim));
    if (need <= s->scratch_n) return 0;
    float *p = realloc(s->scratch, MAXF(need, 1) * sizeof(float));
    if (!p) return -1;
    s->scratch = p;
    s->scratch_n = need;
    return 0;
}

int q35_text_state_init(q35_text_state *s, const q35_model *m, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    s->m = m;
    const q35_text_config *c = &m->cfg.text;
    int L = c->num_layers;
    s->conv = calloc((size_t)L, sizeof(float *));
    s->S = calloc((size_t)L, sizeof(float *));
    s->K = calloc((size_t)L, sizeof(float *));
    s->V = calloc((size_t)L, sizeof(float *));
    int ok = s->conv && s->S && s->K && s->V;
    for (int i = 0; ok && i < L; i++) {
        if (c->is_full[i]) continue;
        s->conv[i] = calloc((size_t)q35_lin_conv_dim(c) * c->conv_kernel, sizeof(float));
        s->S[i] = calloc((size_t)c->lin_num_v_heads * c->lin_k_dim * c->lin_v_dim, sizeof(float));
        ok = s->conv[i] && s->S[i];
    }
    if (!ok || grow_kv(s, 64) != 0) {
        snprintf(err, errlen, "out of memory allocating the model's caches");
        q35_text_state_free(s);
        return -1;
    }
    return 0;
}

void q35_text_state_reset(q35_text_state *s) {
    const q35_text_config *c = &s->m->cfg.text;
    for (int i = 0; i < c->num_layers; i++) {
        if (s->conv[i]) memset(s->conv[i], 0, (size_t)q35_lin_conv_dim(c) * c->conv_kernel * sizeof(float));
        if (s->S[i]) memset(s->S[i], 0, (size_t)c->lin_num_v_heads * c->lin_k_dim * c->lin_v_dim * sizeof(float));
    }
    s->n_past = 0;
    s->rope_delta = 0;
    q35_text_set_image_embeds(s, NULL, 0);
}

int q35_text_state_copy(q35_text_state *dst, const q35_text_state *src, char *err, size_t errlen) {
    if (dst->m != src->m) return q35_fail(err, errlen, "states of two different models");
    if (grow_kv(dst, src->n_past) != 0) return q35_fail(err, errlen, "out of memory growing the K/V cache");
    const q35_text_config *c = &src->m->cfg.text;
    size_t hd = (size_t)c->head_dim;
    for (int i = 0; i < c->num_layers; i++) {
        if (src->conv[i]) memcpy(dst->conv[i], src->conv[i], (size_t)q35_lin_conv_dim(c) * c->conv_kernel * sizeof(float));
        if (src->S[i])
            memcpy(dst->S[i], src->S[i], (size_t)c->lin_num_v_heads * c->lin_k_dim * c->lin_v_dim * sizeof(float));
        if (!src->K[i]) continue;
        for (int h = 0; h < c->num_kv_heads; h++) { /* the first n_past rows of each head */
            memcpy(dst->K[i] + (size_t)h * dst->cap * hd, src->K[i] + (size_t)h * src->cap * hd,
                   (size_t)src->n_past * hd * sizeof(float));
            memcpy(dst->V[i] + (size_t)h * dst->cap * hd, src->V[i] + (size_t)h * src->cap * hd,
                   (size_t)src->n_past * hd * sizeof(float));
        }
    }
    dst->n_past = src->n_past;
    dst->rope_delta = src->rope_delta;
    q35_text_set_image_embeds(dst, NULL, 0);
    return 0;
}

/* Gated DeltaNet token mixer: out[T,H] from the normed input xn[T,H]. */
static void gated_deltanet(q35_text_state *s, const q35_ops *ops, int li, const float *xn, float *out,
                           int T, const q35_trace *tr) {
    const q35_text_config *c = &s->m->cfg.text;
    const q35_layer_weights *w = &s->m->layers[li];
    int H = c->hidden_size, C = q35_lin_conv_dim(c), Kd = q35_lin_key_dim(c), Vd = q35_lin_value_dim(c);
    int Hk = c->lin_num_k_heads, Hv = c->lin_num_v_heads, Dk = c->lin_k_dim, Dv = c->lin_v_dim;
    float *qkv = s->lin_qkv, *z = s->lin_z, *a = s->lin_a, *b = s->lin_b, *mixed = s->lin_conv;
    float *o = s->lin_core, *y = s->lin_normed;
    char name[128];
#define TRACE(suffix, ...) \
    (snprintf(name, sizeof name, "text.layers.%d.linear_attn." suffix, li), q35_trace_f32(tr, name, __VA_ARGS__))

    ops->linear(qkv, xn, &w->in_proj_qkv, T, H, C);
    TRACE("in_proj_qkv", qkv, 3, 1, T, C);
    ops->linear(z, xn, &w->in_proj_z, T, H, Vd);
    TRACE("in_proj_z", z, 3, 1, T, Vd);
    ops->linear(b, xn, &w->in_proj_b, T, H, Hv);
    TRACE("in_proj_b", b, 3, 1, T, Hv);
    ops->linear(a, xn, &w->in_proj_a, T, H, Hv);
    TRACE("in_proj_a", a, 3, 1, T, Hv);

    ops->conv1d(mixed, s->conv[li], qkv, &w->conv1d, T, C, c->conv_kernel);
    if (q35_tracing(tr)) { /* the golden is channel-major [1, C, T] */
        float *tp = malloc((size_t)T * C * sizeof(float));
        if (tp) {
            for (int t = 0; t < T; t++)
                for (int ch = 0; ch < C; ch++) tp[(size_t)ch * T + t] = mixed[(size_t)t * C + ch];
            TRACE("conv1d_raw", tp, 3, 1, C, T);
            free(tp);
        }
    }
    ops->silu(mixed, mixed, T * C);

    /* q and k are L2-normalised per head; q is then scaled by 1/sqrt(Dk) */
    float qscale = (float)(1.0 / sqrt((double)Dk));
    ops->l2norm(mixed, T, Hk, Dk, C, 1e-6f, qscale);
    ops->l2norm(mixed + Kd, T, Hk, Dk, C, 1e-6f, 1.0f);
    ops->gdn_gates(s->lin_g, s->lin_beta, a, b, &w->A_log, &w->dt_bias, T, Hv);
    ops->delta_rule(o, s->S[li], mixed, mixed + Kd, mixed + 2 * Kd, C, C, s->lin_g, s->lin_beta, T, Hk, Hv, Dk, Dv,
                    s->scratch);
    TRACE("core_attn_out", o, 2, T * Hv, Dv);
    TRACE("z_rows", z, 2, T * Hv, Dv);
    ops->gated_rmsnorm(y, o, z, &w->lin_norm, T * Hv, Dv, (float)c->rms_norm_eps);
    TRACE("gated_norm_out", y, 2, T * Hv, Dv);
    ops->linear(out, y, &w->out_proj, T, Vd, H);
#undef TRACE
}

/* Gated full attention token mixer: out[T,H] from xn[T,H]; appends to the K/V cache. */
static void gated_attention(q35_text_state *s, const q35_ops *ops, int li, const float *xn, float *out,
                            int T, const q35_trace *tr) {
    const q35_text_config *c = &s->m->cfg.text;
    const q35_layer_weights *w = &s->m->layers[li];
    int H = c->hidden_size, Hq = c->num_heads, Hkv = c->num_kv_heads, D = c->head_dim, R = c->rotary_dim;
    float *qg = s->att_qg, *q = s->att_q, *k = s->att_k, *v = s->att_v, *gate = s->att_gate, *o = s->att_o;
    char name[128];
#define TRACE(suffix, ...) \
    (snprintf(name, sizeof name, "text.layers.%d.self_attn." suffix, li), q35_trace_f32(tr, name, __VA_ARGS__))

    ops->linear(qg, xn, &w->q_proj, T, H, Hq * 2 * D);
    TRACE("q_proj", qg, 3, 1, T, Hq * 2 * D);
    ops->linear(k, xn, &w->k_proj, T, H, Hkv * D);
    TRACE("k_proj", k, 3, 1, T, Hkv * D);
    ops->linear(v, xn, &w->v_proj, T, H, Hkv * D);
    TRACE("v_proj", v, 3, 1, T, Hkv * D);

    /* q_proj rows are per head [query (D) | gate (D)]: split them */
    ops->copy_rows(q, D, qg, 2 * D, T * Hq, D);
    ops->copy_rows(gate, D, qg + D, 2 * D, T * Hq, D);
    ops->rmsnorm(q, q, &w->q_norm, T * Hq, D, D, (float)c->rms_norm_eps);
    TRACE("q_norm", q, 4, 1, T, Hq, D);
    ops->rmsnorm(k, k, &w->k_norm, T * Hkv, D, D, (float)c->rms_norm_eps);
    TRACE("k_norm", k, 4, 1, T, Hkv, D);
    ops->rope(q, s->rope_cos, s->rope_sin, T, Hq, D, Hq * D, R);
    ops->rope(k, s->rope_cos, s->rope_sin, T, Hkv, D, Hkv * D, R);

    /* append to the cache, laid out [Hkv, cap, D] */
    for (int h = 0; h < Hkv; h++) {
        size_t dst = ((size_t)h * s->cap + s->n_past) * D;
        ops->copy_rows(s->K[li] + dst, D, k + (size_t)h * D, Hkv * D, T, D);
        ops->copy_rows(s->V[li] + dst, D, v + (size_t)h * D, Hkv * D, T, D);
    }
    ops->attention(o, q, Hq * D, s->K[li], s->V[li], s->cap, s->n_past, T, Hq, Hkv, D,
                   (float)(1.0 / sqrt((double)D)), s->scratch);
    ops->sigmoid_mul(o, o, gate, T * Hq * D);
    TRACE("gated_attn", o, 3, 1, T, Hq * D);
    ops->linear(out, o, &w->o_proj, T, Hq * D, H);
#undef TRACE
}

void q35_text_set_image_embeds(q35_text_state *s, const float *rows, int n_rows) {
    s->img_rows = rows;
    s->img_n = n_rows;
    s->img_used = 0;
}

int q35_text_forward(q35_text_state *s, const q35_ops *ops, const int *ids, int T, const int64_t *pos,
                     float *logits, int logit_rows, const q35_trace *tr, char *err, size_t errlen) {
    const q35_model *m = s->m;
    const q35_text_config *c = &m->cfg.text;
    int H = c->hidden_size, I = c->intermediate_size, V = c->vocab_size;
    float eps = (float)c->rms_norm_eps;
    if (T <= 0) {
        snprintf(err, errlen, "no tokens to run");
        return -1;
    }
    for (int t = 0; t < T; t++)
        if (ids[t] < 0 || ids[t] >= V) {
            snprintf(err, errlen, "token id %d (position %d) is outside the vocabulary [0, %d)", ids[t], t, V);
            return -1;
        }
    int n_img = 0, vl = m->cfg.vision.present;
    for (int t = 0; vl && t < T; t++) n_img += ids[t] == m->cfg.image_token_id || ids[t] == m->cfg.video_token_id;
    if (n_img > s->img_n - s->img_used) {
        snprintf(err, errlen, "the tokens hold %d image tokens, but only %d image embeddings are waiting (give the images)",
                 n_img, s->img_n - s->img_used);
        return -1;
    }
    if (grow_run_state(s, T) != 0 || grow_kv(s, s->n_past + T) != 0 || grow_op_scratch(s, ops, s->n_past + T) != 0) {
        snprintf(err, errlen, "out of memory for %d tokens", T);
        return -1;
    }
    int64_t *own_pos = NULL;
    if (!pos) {
        own_pos = malloc((size_t)3 * T * sizeof(int64_t));
        if (!own_pos) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (int r = 0; r < 3; r++)
            for (int t = 0; t < T; t++) own_pos[(size_t)r * T + t] = s->n_past + s->rope_delta + t;
        pos = own_pos;
    }
    float *x = s->x, *xn = s->xn, *mix = s->mix;

    ops->embed(x, &m->embed, ids, T, H);
    q35_trace_f32(tr, "text.embed_tokens", x, 3, 1, T, H);
    for (int t = 0; n_img && t < T; t++) /* image tokens take the vision tower's rows, in order */
        if (ids[t] == m->cfg.image_token_id || ids[t] == m->cfg.video_token_id)
            memcpy(x + (size_t)t * H, s->img_rows + (size_t)s->img_used++ * H, (size_t)H * sizeof(float));
    if (q35_tracing(tr)) {
        q35_tensor pt = { .dtype = Q35_I64, .ndim = 3, .shape = { 3, 1, T }, .data = pos };
        q35_trace_tensor(tr, "text.position_ids", &pt);
    }
    q35_text_rope_tables(s->rope_cos, s->rope_sin, pos, T, c);
    q35_trace_f32(tr, "text.rope_cos", s->rope_cos, 3, 1, T, c->rotary_dim);
    q35_trace_f32(tr, "text.rope_sin", s->rope_sin, 3, 1, T, c->rotary_dim);
    free(own_pos);

    char name[128];
#define TRACE(suffix, buf) \
    (snprintf(name, sizeof name, "text.layers.%d." suffix, li), q35_trace_f32(tr, name, buf, 3, 1, T, H))
    for (int li = 0; li < c->num_layers; li++) {
        const q35_layer_weights *w = &m->layers[li];
        snprintf(name, sizeof name, "text.layers.%d.input", li);
        q35_trace_force(tr, name, x, (int64_t)T * H); /* teacher forcing: the golden input */
        TRACE("input", x);
        ops->rmsnorm(xn, x, &w->input_norm, T, H, H, eps);
        TRACE("input_norm", xn);
        if (c->is_full[li]) gated_attention(s, ops, li, xn, mix, T, tr);
        else gated_deltanet(s, ops, li, xn, mix, T, tr);
        TRACE("attn_out", mix);
        ops->add(x, x, mix, T * H);
        TRACE("post_attn_residual", x);
        ops->rmsnorm(xn, x, &w->post_norm, T, H, H, eps);
        TRACE("post_attn_norm", xn);
        ops->linear(s->mlp_gate, xn, &w->gate_proj, T, H, I);
        ops->linear(s->mlp_up, xn, &w->up_proj, T, H, I);
        ops->swiglu(s->mlp_gate, s->mlp_gate, s->mlp_up, T * I);
        ops->linear(mix, s->mlp_gate, &w->down_proj, T, I, H);
        TRACE("mlp_out", mix);
        ops->add(x, x, mix, T * H);
        TRACE("output", x);
    }
#undef TRACE
    snprintf(name, sizeof name, "text.layers.%d.output", c->num_layers - 1);
    q35_trace_force(tr, name, x, (int64_t)T * H);
    ops->rmsnorm(xn, x, &m->final_norm, T, H, H, eps);
    q35_trace_f32(tr, "text.final_norm", xn, 3, 1, T, H);
    if (logits) {
        int rows = logit_rows >= T ? T : 1;
        ops->linear(logits, xn + (size_t)(T - rows) * H, &m->lm_head, rows, H, V);
        q35_trace_f32(tr, "logits", logits, 3, 1, rows, V);
    }
    s->n_past += T;
    return 0;
}

void q35_text_trace_cache(const q35_text_state *s, const q35_trace *tr) {
    if (!q35_tracing(tr)) return;
    const q35_text_config *c = &s->m->cfg.text;
    char name[128];
    for (int i = 0; i < c->num_layers; i++) {
        if (!c->is_full[i]) {
            snprintf(name, sizeof name, "cache.layers.%d.conv_state", i);
            q35_trace_f32(tr, name, s->conv[i], 3, 1, q35_lin_conv_dim(c), c->conv_kernel);
            snprintf(name, sizeof name, "cache.layers.%d.recurrent_state", i);
            q35_trace_f32(tr, name, s->S[i], 4, 1, c->lin_num_v_heads, c->lin_k_dim, c->lin_v_dim);
            continue;
        }
        /* [Hkv, cap, D] -> [1, Hkv, n_past, D] */
        size_t D = c->head_dim, n = (size_t)c->num_kv_heads * s->n_past * D;
        float *buf = malloc((n ? n : 1) * sizeof(float));
        if (!buf) continue;
        const float *src[2] = { s->K[i], s->V[i] };
        const char *what[2] = { "key", "value" };
        for (int j = 0; j < 2; j++) {
            for (int h = 0; h < c->num_kv_heads; h++)
                memcpy(buf + (size_t)h * s->n_past * D, src[j] + (size_t)h * s->cap * D,
                       (size_t)s->n_past * D * sizeof(float));
            snprintf(name, sizeof name, "cache.layers.%d.%s", i, what[j]);
            q35_trace_f32(tr, name, buf, 4, 1, c->num_kv_heads, s->n_past, (int)D);
        }
        free(buf);
    }
}
