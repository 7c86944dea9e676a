/* vision.c - the vision tower, described once over the op table. */
#include "vision.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rope.h"
#include "util.h"

int q35_vision_tokens(const q35_vision_config *v, const int (*grids)[3], int n) {
    int m2 = v->spatial_merge_size * v->spatial_merge_size, total = 0;
    for (int i = 0; i < n; i++) total += grids[i][0] * grids[i][1] * grids[i][2] / m2;
    return total;
}

/* For each patch row in 2x2 merge-block order: its image, patch row and patch column. [N][3], or NULL. */
static int (*patch_coords(const q35_vision_config *v, const int (*grids)[3], int n, int *N))[3] {
    int ms = v->spatial_merge_size, total = 0;
    for (int i = 0; i < n; i++) total += grids[i][0] * grids[i][1] * grids[i][2];
    int (*c)[3] = malloc((size_t)(total ? total : 1) * sizeof *c);
    if (!c) return NULL;
    size_t r = 0;
    for (int i = 0; i < n; i++)
        for (int t = 0; t < grids[i][0]; t++)
            for (int br = 0; br < grids[i][1] / ms; br++)
                for (int bc = 0; bc < grids[i][2] / ms; bc++)
                    for (int ir = 0; ir < ms; ir++)
                        for (int ic = 0; ic < ms; ic++, r++) {
                            c[r][0] = i;
                            c[r][1] = br * ms + ir;
                            c[r][2] = bc * ms + ic;
                        }
    *N = total;
    return c;
}

/* torch.linspace(0, end, steps) in float32: the first half counts up from 0, the second down from end. */
static float linspace_at(float end, int steps, int i) {
    if (steps == 1) return 0.0f;
    float step = end / (float)(steps - 1);
    return i < steps / 2 ? (float)i * step : end - (float)(steps - 1 - i) * step;
}

int q35_vision_pos_embed(float *out, const q35_model *m, const int (*grids)[3], int n) {
    const q35_vision_config *v = &m->cfg.vision;
    int side = (int)lround(sqrt((double)v->num_position_embeddings)), D = v->hidden_size;
    int N;
    float *tap = malloc((size_t)D * sizeof(float));
    int (*pc)[3] = patch_coords(v, grids, n, &N);
    for (int r = 0; tap && pc && r < N; r++) {
        int img = pc[r][0], row = pc[r][1], col = pc[r][2];
        float sh = linspace_at((float)(side - 1), grids[img][1], row), sw = linspace_at((float)(side - 1), grids[img][2], col);
        int fh = (int)sh, fw = (int)sw; /* the integer cast floors these non-negative values */
        int ch = fh + 1 < side ? fh + 1 : side - 1, cw = fw + 1 < side ? fw + 1 : side - 1;
        float dh = sh - (float)fh, dw = sw - (float)fw;
        int idx[4] = { fh * side + fw, fh * side + cw, ch * side + fw, ch * side + cw };
        float wt[4] = { (1.0f - dh) * (1.0f - dw), (1.0f - dh) * dw, dh * (1.0f - dw), dh * dw };
        float *o = out + (size_t)r * D;
        for (int k = 0; k < 4; k++) {
            q35_read_f32(tap, &m->vis.pos_embed, (int64_t)idx[k] * D, D);
            for (int d = 0; d < D; d++) o[d] = k ? o[d] + tap[d] * wt[k] : tap[d] * wt[k];
        }
    }
    int rc = tap && pc ? 0 : -1;
    free(tap);
    free(pc);
    return rc;
}

int q35_vision_rope_angles(float *out, const q35_model *m, const int (*grids)[3], int n) {
    const q35_vision_config *v = &m->cfg.vision;
    int hd = v->hidden_size / v->num_heads, q = hd / 4;
    float inv[1024];
    q35_rope_inv_freq(inv, v->rope_theta, hd / 2);
    int N;
    int (*pc)[3] = patch_coords(v, grids, n, &N);
    for (int r = 0; pc && r < N; r++) {
        float *o = out + (size_t)r * (hd / 2);
        for (int i = 0; i < q; i++) {
            o[i] = (float)pc[r][1] * inv[i];
            o[q + i] = (float)pc[r][2] * inv[i];
        }
    }
    int rc = pc ? 0 : -1;
    free(pc);
    return rc;
}

int q35_vision_forward(float *out, const q35_model *m, const q35_ops *ops, const float *pixels,
                       const int (*grids)[3], int n, const q35_trace *tr, char *err, size_t errlen) {
    const q35_vision_config *v = &m->cfg.vision;
    const q35_vision_weights *w = &m->vis;
    if (!v->present || !w->blocks) return q35_fail(err, errlen, "%s: the model has no vision tower", m->dir);
    int D = v->hidden_size, H = v->num_heads, hd = D / H, I = v->intermediate_size, ms = v->spatial_merge_size;
    int in_dim = (int)w->patch_w.shape[1], O = v->out_hidden_size, m4 = D * ms * ms;
    int N = 0, maxseg = 0;
    for (int i = 0; i < n; i++) {
        if (grids[i][0] < 1 || grids[i][1] < 1 || grids[i][2] < 1 || grids[i][1] % ms || grids[i][2] % ms)
            return q35_fail(err, errlen, "image %d: grid (%d, %d, %d) is not a whole number of %dx%d merge blocks", i,
                            grids[i][0], grids[i][1], grids[i][2], ms, ms);
        int seg = grids[i][1] * grids[i][2];
        N += grids[i][0] * seg;
        if (seg > maxseg) maxseg = seg;
    }
    size_t ND = (size_t)N * D;
    float *x = malloc(ND * sizeof(float)), *xn = malloc(ND * sizeof(float)), *pos = malloc(ND * sizeof(float));
    float *qkv = malloc(ND * 3 * sizeof(float)), *q = malloc(ND * sizeof(float)), *k = malloc(ND * sizeof(float));
    float *vv = malloc(ND * sizeof(float)), *o = malloc(ND * sizeof(float)), *h = malloc((size_t)N * I * sizeof(float));
    float *ang = malloc((size_t)N * (hd / 2) * sizeof(float)), *cosb = malloc((size_t)N * hd * sizeof(float));
    float *sinb = malloc((size_t)N * hd * sizeof(float)), *scores = malloc((ops->attn_scratch(maxseg, hd) + 1) * sizeof(float));
    float *mh = malloc((size_t)(N / (ms * ms)) * m4 * sizeof(float));
    int rc = -1;
    if (!x || !xn || !pos || !qkv || !q || !k || !vv || !o || !h || !ang || !cosb || !sinb || !scores || !mh) {
        q35_fail(err, errlen, "out of memory for %d image patches", N);
        goto done;
    }
    char name[128];
#define TRACE(suffix, buf, rows, cols) q35_trace_f32(tr, "vision." suffix, buf, 2, rows, cols)

    ops->linear(x, pixels, &w->patch_w, N, in_dim, D);
    ops->bias_add(x, &w->patch_b, N, D);
    TRACE("patch_embed", x, N, D);
    if (q35_vision_pos_embed(pos, m, grids, n) != 0 || q35_vision_rope_angles(ang, m, grids, n) != 0) {
        q35_fail(err, errlen, "out of memory for %d image patches", N);
        goto done;
    }
    ops->add(x, x, pos, N * D);
    TRACE("blocks_input", x, N, D);
    for (int r = 0; r < N; r++) /* cat(emb, emb): rotate_half over the whole head */
        for (int i = 0; i < hd / 2; i++) {
            float a = ang[(size_t)r * (hd / 2) + i];
            cosb[(size_t)r * hd + i] = cosb[(size_t)r * hd + i + hd / 2] = cosf(a);
            sinb[(size_t)r * hd + i] = sinb[(size_t)r * hd + i + hd / 2] = sinf(a);
        }
    TRACE("rope_cos", cosb, N, hd);
    TRACE("rope_sin", sinb, N, hd);
    float scale = (float)(1.0 / sqrt((double)hd));
    for (int j = 0; j < v->depth; j++) {
        const q35_vision_block *b = &w->blocks[j];
        if (j == 0) snprintf(name, sizeof name, "vision.blocks_input"); /* teacher forcing: the golden input */
        else snprintf(name, sizeof name, "vision.blocks.%d.output", j - 1);
        q35_trace_force(tr, name, x, (int64_t)N * D);
        ops->layernorm(xn, x, &b->norm1_w, &b->norm1_b, N, D, 1e-6f);
        snprintf(name, sizeof name, "vision.blocks.%d.norm1", j), q35_trace_f32(tr, name, xn, 2, N, D);
        ops->linear(qkv, xn, &b->qkv_w, N, D, 3 * D);
        ops->bias_add(qkv, &b->qkv_b, N, 3 * D);
        /* rows are [q | k | v], each heads x hd */
        ops->copy_rows(q, D, qkv, 3 * D, N, D);
        ops->copy_rows(k, D, qkv + D, 3 * D, N, D);
        ops->copy_rows(vv, D, qkv + 2 * D, 3 * D, N, D);
        ops->rope(q, cosb, sinb, N, H, hd, D, hd);
        ops->rope(k, cosb, sinb, N, H, hd, D, hd);
        size_t at = 0; /* bidirectional attention within each image (each temporal group) */
        for (int i = 0; i < n; i++)
            for (int t = 0; t < grids[i][0]; t++) {
                int seg = grids[i][1] * grids[i][2];
                ops->attention_full(o + at * D, q + at * D, k + at * D, vv + at * D, seg, H, hd, scale, scores);
                at += (size_t)seg;
            }
        ops->linear(xn, o, &b->proj_w, N, D, D);
        ops->bias_add(xn, &b->proj_b, N, D);
        snprintf(name, sizeof name, "vision.blocks.%d.attn_out", j), q35_trace_f32(tr, name, xn, 2, N, D);
        ops->add(x, x, xn, N * D);
        ops->layernorm(xn, x, &b->norm2_w, &b->norm2_b, N, D, 1e-6f);
        snprintf(name, sizeof name, "vision.blocks.%d.norm2", j), q35_trace_f32(tr, name, xn, 2, N, D);
        ops->linear(h, xn, &b->fc1_w, N, D, I);
        ops->bias_add(h, &b->fc1_b, N, I);
        ops->gelu_tanh(h, h, N * I);
        ops->linear(xn, h, &b->fc2_w, N, I, D);
        ops->bias_add(xn, &b->fc2_b, N, D);
        snprintf(name, sizeof name, "vision.blocks.%d.mlp_out", j), q35_trace_f32(tr, name, xn, 2, N, D);
        ops->add(x, x, xn, N * D);
        snprintf(name, sizeof name, "vision.blocks.%d.output", j), q35_trace_f32(tr, name, x, 2, N, D);
    }
    snprintf(name, sizeof name, "vision.blocks.%d.output", v->depth - 1);
    q35_trace_force(tr, name, x, (int64_t)N * D);
    /* merger: LayerNorm per patch, then each 2x2 block's rows side by side */
    ops->layernorm(xn, x, &w->merger_norm_w, &w->merger_norm_b, N, D, 1e-6f);
    TRACE("merger_norm", xn, N, D);
    int NM = N / (ms * ms);
    ops->linear(mh, xn, &w->merger_fc1_w, NM, m4, m4);
    ops->bias_add(mh, &w->merger_fc1_b, NM, m4);
    ops->gelu_erf(mh, mh, NM * m4);
    ops->linear(out, mh, &w->merger_fc2_w, NM, m4, O);
    ops->bias_add(out, &w->merger_fc2_b, NM, O);
    TRACE("merger_out", out, NM, O);
#undef TRACE
    rc = 0;
done:
    free(x), free(xn), free(pos), free(qkv), free(q), free(k), free(vv), free(o), free(h);
    free(ang), free(cosb), free(sinb), free(scores), free(mh);
    return rc;
}

int q35_vision_token_counts(int *counts, const q35_vision_config *v, const q35_image_batch *b) {
    int m2 = v->spatial_merge_size * v->spatial_merge_size, total = 0;
    for (int k = 0; k < b->n; k++) total += counts[k] = b->grids[k][0] * b->grids[k][1] * b->grids[k][2] / m2;
    return total;
}

int q35_prefill_with_images(q35_text_state *s, const q35_ops *ops, const q35_image_batch *b, const int *ids, int L,
                            float *logits, int logit_rows, const q35_trace *tr, char *err, size_t errlen) {
    const q35_model *m = s->m;
    const int(*grids)[3] = (const int(*)[3])b->grids;
    int rows = q35_vision_tokens(&m->cfg.vision, grids, b->n), rc = -1;
    float *merged = malloc((size_t)(rows > 0 ? rows : 1) * m->cfg.vision.out_hidden_size * sizeof(float));
    int64_t *pos = malloc((size_t)3 * L * sizeof *pos), delta;
    if (!merged || !pos) q35_fail(err, errlen, "out of memory");
    else if ((b->embeds ? (memcpy(merged, b->embeds, (size_t)rows * m->cfg.vision.out_hidden_size * sizeof(float)), 0)
                        : q35_vision_forward(merged, m, ops, b->pixels, grids, b->n, tr, err, errlen)) == 0 &&
             q35_mrope_positions(pos, &delta, ids, L, &m->cfg, grids, b->n, err, errlen) == 0) {
        q35_text_set_image_embeds(s, merged, rows);
        rc = q35_text_forward(s, ops, ids, L, pos, logits, logit_rows, tr, err, errlen);
        q35_text_set_image_embeds(s, NULL, 0);
        if (rc == 0) s->rope_delta = delta;
    }
    free(merged);
    free(pos);
    return rc;
}

int q35_vision_trace_inputs(const q35_trace *tr, const q35_model *m, const q35_image_batch *b, const int *ids, int L,
                            char *err, size_t errlen) {
    if (!q35_tracing(tr)) return 0;
    int n = b->n, D = m->cfg.vision.hidden_size, hd = D / m->cfg.vision.num_heads, rc = 0;
    q35_trace_f32(tr, "pixel_values", b->pixels, 2, b->npatch, b->row);
    int64_t *gt = malloc((size_t)(n ? n : 1) * 3 * sizeof *gt);
    float *buf = malloc((size_t)(b->npatch ? b->npatch : 1) * D * sizeof(float));
    int64_t *pos = ids ? malloc((size_t)3 * (L ? L : 1) * sizeof *pos) : NULL, delta;
    if (!gt || !buf || (ids && !pos)) rc = q35_fail(err, errlen, "out of memory");
    if (rc == 0) {
        for (int k = 0; k < n * 3; k++) gt[k] = b->grids[k / 3][k % 3];
        q35_tensor t = { .dtype = Q35_I64, .ndim = 2, .shape = { n, 3 }, .data = gt };
        q35_trace_tensor(tr, "image_grid_thw", &t);
        if (q35_vision_pos_embed(buf, m, (const int (*)[3])b->grids, n) == 0)
            q35_trace_f32(tr, "vision.pos_embed_interp", buf, 2, b->npatch, D);
        if (q35_vision_rope_angles(buf, m, (const int (*)[3])b->grids, n) == 0)
            q35_trace_f32(tr, "vision.rot_pos_emb", buf, 2, b->npatch, hd / 2);
    }
    if (rc == 0 && ids) {
        rc = q35_mrope_positions(pos, &delta, ids, L, &m->cfg, (const int (*)[3])b->grids, n, err, errlen);
        if (rc == 0) {
            q35_tensor pt = { .dtype = Q35_I64, .ndim = 3, .shape = { 3, 1, L }, .data = pos };
            q35_trace_tensor(tr, "text.mrope_position_ids", &pt);
            q35_tensor dt = { .dtype = Q35_I64, .ndim = 2, .shape = { 1, 1 }, .data = &delta };
            q35_trace_tensor(tr, "text.mrope_deltas", &dt);
        }
    }
    free(gt);
    free(buf);
    free(pos);
    return rc;
}
