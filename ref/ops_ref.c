/* ops_ref.c - the FP32 scalar reference of every Qwen3.5 language-model op.
 *
 * Plain loops, one thread, no SIMD, compiled with -ffp-contract=off: each line rounds exactly as
 * written. This file together with text.c is the readable specification of the model; the
 * contracts (shapes, layouts) are in ops.h. Sums accumulate in float32, as the model's float32
 * computation in transformers does. */
#include <math.h>
#include <string.h>

#include "ops.h"

static const char *ref_kernels(void) { return "scalar fp32"; }

static float sigmoidf_(float x) { return 1.0f / (1.0f + expf(-x)); }

/* PyTorch's softplus with beta 1 and threshold 20: linear above the threshold. */
static float softplusf_(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

static void ref_embed(float *y, const q35_tensor *E, const int *ids, int T, int H) {
    for (int t = 0; t < T; t++) q35_read_f32(y + (size_t)t * H, E, (int64_t)ids[t] * H, H);
}

static void ref_rmsnorm(float *y, const float *x, const q35_tensor *w, int R, int n, int ld, float eps) {
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * ld;
        float *yr = y + (size_t)r * ld;
        float ss = 0.0f;
        for (int i = 0; i < n; i++) ss += xr[i] * xr[i];
        float inv = 1.0f / sqrtf(ss / (float)n + eps);
        for (int i = 0; i < n; i++) yr[i] = (xr[i] * inv) * (1.0f + q35_get_f32(w, i));
    }
}

/* sum_i x[i] * W[row + i], W converted element by element in its own dtype. */
static float dot_row(const float *x, const q35_tensor *W, int64_t row, int n) {
    float acc = 0.0f;
    if (W->dtype == Q35_BF16) {
        const uint16_t *w = (const uint16_t *)W->data + row;
        for (int i = 0; i < n; i++) acc += x[i] * q35_bf16_to_f32(w[i]);
    } else if (W->dtype == Q35_F32) {
        const float *w = (const float *)W->data + row;
        for (int i = 0; i < n; i++) acc += x[i] * w[i];
    } else {
        for (int i = 0; i < n; i++) acc += x[i] * q35_get_f32(W, row + i);
    }
    return acc;
}

static void ref_linear(float *y, const float *x, const q35_tensor *W, int T, int in, int out) {
    for (int t = 0; t < T; t++)
        for (int o = 0; o < out; o++)
            y[(size_t)t * out + o] = dot_row(x + (size_t)t * in, W, (int64_t)o * in, in);
}

static void ref_conv1d(float *y, float *window, const float *x, const q35_tensor *w, int T, int C, int K) {
    for (int c = 0; c < C; c++) {
        float *win = window + (size_t)c * K;
        for (int t = 0; t < T; t++) {
            /* shift the new input in: win holds the K most recent inputs, oldest first */
            memmove(win, win + 1, (size_t)(K - 1) * sizeof(float));
            win[K - 1] = x[(size_t)t * C + c];
            float acc = 0.0f;
            for (int j = 0; j < K; j++) acc += q35_get_f32(w, (int64_t)c * K + j) * win[j];
            y[(size_t)t * C + c] = acc;
        }
    }
}

static void ref_silu(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = x[i] * sigmoidf_(x[i]);
}

static void ref_l2norm(float *x, int T, int nh, int n, int ld, float eps, float scale) {
    for (int r = 0; r < T * nh; r++) {
        float *xr = x + (size_t)(r / nh) * ld + (size_t)(r % nh) * n;
        float ss = 0.0f;
        for (int i = 0; i < n; i++) ss += xr[i] * xr[i];
        float inv = 1.0f / sqrtf(ss + eps);
        for (int i = 0; i < n; i++) xr[i] = (xr[i] * inv) * scale;
    }
}

static void ref_gdn_gates(float *g, float *beta, const float *a, const float *b,
                          const q35_tensor *A_log, const q35_tensor *dt_bias, int T, int Hv) {
    for (int t = 0; t < T; t++)
        for (int h = 0; h < Hv; h++) {
            size_t i = (size_t)t * Hv + h;
            float A = expf(q35_get_f32(A_log, h));
            g[i] = -A * softplusf_(a[i] + q35_get_f32(dt_bias, h));
            beta[i] = sigmoidf_(b[i]);
        }
}

static void ref_delta_rule(float *o, float *S, const float *q, const float *k, const float *v,
                           int ld_qk, int ld_v, const float *g, const float *beta,
                           int T, int Hk, int Hv, int Dk, int Dv, float *scratch) {
    (void)scratch; /* the token loop needs none */
    int rep = Hv / Hk;
    for (int t = 0; t < T; t++) {
        for (int h = 0; h < Hv; h++) {
            int kh = h / rep;
            float *Sh = S + (size_t)h * Dk * Dv;
            const float *qt = q + (size_t)t * ld_qk + (size_t)kh * Dk;
            const float *kt = k + (size_t)t * ld_qk + (size_t)kh * Dk;
            const float *vt = v + (size_t)t * ld_v + (size_t)h * Dv;
            float *ot = o + ((size_t)t * Hv + h) * Dv;
            float decay = expf(g[(size_t)t * Hv + h]), bt = beta[(size_t)t * Hv + h];
            for (int i = 0; i < Dk * Dv; i++) Sh[i] *= decay;
            for (int e = 0; e < Dv; e++) {
                float r = 0.0f; /* (S^T k)_e */
                for (int i = 0; i < Dk; i++) r += Sh[(size_t)i * Dv + e] * kt[i];
                float d = (vt[e] - r) * bt;
                for (int i = 0; i < Dk; i++) Sh[(size_t)i * Dv + e] += kt[i] * d;
            }
            for (int e = 0; e < Dv; e++) {
                float acc = 0.0f;
                for (int i = 0; i < Dk; i++) acc += Sh[(size_t)i * Dv + e] * qt[i];
                ot[e] = acc;
            }
        }
    }
}

static void ref_gated_rmsnorm(float *y, const float *x, const float *z, const q35_tensor *w,
                              int R, int n, float eps) {
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * n, *zr = z + (size_t)r * n;
        float *yr = y + (size_t)r * n;
        float ss = 0.0f;
        for (int i = 0; i < n; i++) ss += xr[i] * xr[i];
        float inv = 1.0f / sqrtf(ss / (float)n + eps);
        for (int i = 0; i < n; i++)
            yr[i] = (q35_get_f32(w, i) * (xr[i] * inv)) * (zr[i] * sigmoidf_(zr[i]));
    }
}

static void ref_rope(float *x, const float *cos, const float *sin, int T, int nh, int D, int ld, int R) {
    int half = R / 2;
    for (int t = 0; t < T; t++)
        for (int h = 0; h < nh; h++) {
            float *xh = x + (size_t)t * ld + (size_t)h * D;
            const float *c = cos + (size_t)t * R, *s = sin + (size_t)t * R;
            for (int i = 0; i < half; i++) {
                float a = xh[i], b = xh[i + half];
                xh[i] = a * c[i] - b * s[i];
                xh[i + half] = b * c[i] + a * s[i];
            }
        }
}

/* One query row over nk keys: o[D] = softmax(q . k_j * scale) weighted sum of v_j, where key and
 * value j sit at K + j*stride and V + j*stride. p: nk floats of scratch. */
static void attend(float *o, const float *q, const float *K, const float *V, size_t stride, int nk, int D, float scale,
                   float *p) {
    float mx = -INFINITY;
    for (int j = 0; j < nk; j++) {
        float s = 0.0f;
        for (int i = 0; i < D; i++) s += q[i] * K[(size_t)j * stride + i];
        p[j] = s * scale;
        if (p[j] > mx) mx = p[j];
    }
    float sum = 0.0f;
    for (int j = 0; j < nk; j++) { p[j] = expf(p[j] - mx); sum += p[j]; }
    for (int i = 0; i < D; i++) o[i] = 0.0f;
    for (int j = 0; j < nk; j++) {
        float pj = p[j] / sum;
        for (int i = 0; i < D; i++) o[i] += pj * V[(size_t)j * stride + i];
    }
}

static void ref_attention(float *o, const float *q, int ld_q, const float *K, const float *V, int cap,
                          int n_past, int T, int Hq, int Hkv, int D, float scale, float *p) {
    int group = Hq / Hkv;
    for (int t = 0; t < T; t++)
        for (int h = 0; h < Hq; h++) /* causal: keys 0..n_past+t of kv head h / group */
            attend(o + ((size_t)t * Hq + h) * D, q + (size_t)t * ld_q + (size_t)h * D, K + (size_t)(h / group) * cap * D,
                   V + (size_t)(h / group) * cap * D, (size_t)D, n_past + t + 1, D, scale, p);
}

/* One thread, one score row: nk floats. */
static size_t ref_attn_scratch(int n_keys, int D) {
    (void)D;
    return (size_t)(n_keys > 0 ? n_keys : 1);
}

static size_t ref_delta_scratch(int Dk, int Dv) {
    (void)Dk, (void)Dv;
    return 0;
}

static void ref_copy_rows(float *y, int ldy, const float *x, int ldx, int R, int n) {
    for (int r = 0; r < R; r++) memcpy(y + (size_t)r * ldy, x + (size_t)r * ldx, (size_t)n * sizeof(float));
}

static void ref_sigmoid_mul(float *y, const float *x, const float *gate, int n) {
    for (int i = 0; i < n; i++) y[i] = x[i] * sigmoidf_(gate[i]);
}

static void ref_swiglu(float *y, const float *gate, const float *up, int n) {
    for (int i = 0; i < n; i++) y[i] = (gate[i] * sigmoidf_(gate[i])) * up[i];
}

static void ref_add(float *y, const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++) y[i] = a[i] + b[i];
}

static void ref_layernorm(float *y, const float *x, const q35_tensor *w, const q35_tensor *b, int R, int n,
                          float eps) {
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * n;
        float *yr = y + (size_t)r * n;
        float mean = 0.0f, var = 0.0f;
        for (int i = 0; i < n; i++) mean += xr[i];
        mean /= (float)n;
        for (int i = 0; i < n; i++) var += (xr[i] - mean) * (xr[i] - mean);
        var /= (float)n;
        float inv = 1.0f / sqrtf(var + eps);
        for (int i = 0; i < n; i++) yr[i] = ((xr[i] - mean) * inv) * q35_get_f32(w, i) + q35_get_f32(b, i);
    }
}

static void ref_bias_add(float *y, const q35_tensor *b, int T, int n) {
    for (int t = 0; t < T; t++)
        for (int i = 0; i < n; i++) y[(size_t)t * n + i] += q35_get_f32(b, i);
}

static void ref_gelu_tanh(float *y, const float *x, int n) {
    const float k = 0.7978845608028654f; /* sqrt(2/pi) */
    for (int i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + tanhf(k * (x[i] + 0.044715f * x[i] * x[i] * x[i])));
}

static void ref_gelu_erf(float *y, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.7071067811865476f));
}

static void ref_attention_full(float *o, const float *q, const float *k, const float *v, int T, int H, int D,
                               float scale, float *p) {
    for (int t = 0; t < T; t++)
        for (int h = 0; h < H; h++) /* every row sees every row */
            attend(o + ((size_t)t * H + h) * D, q + ((size_t)t * H + h) * D, k + (size_t)h * D, v + (size_t)h * D,
                   (size_t)H * D, T, D, scale, p);
}

const q35_ops q35_ops_ref = {
    .name = "ref",
    .kernels = ref_kernels,
    .embed = ref_embed,
    .rmsnorm = ref_rmsnorm,
    .linear = ref_linear,
    .conv1d = ref_conv1d,
    .silu = ref_silu,
    .l2norm = ref_l2norm,
    .gdn_gates = ref_gdn_gates,
    .delta_rule = ref_delta_rule,
    .gated_rmsnorm = ref_gated_rmsnorm,
    .rope = ref_rope,
    .attention = ref_attention,
    .attn_scratch = ref_attn_scratch,
    .delta_scratch = ref_delta_scratch,
    .copy_rows = ref_copy_rows,
    .sigmoid_mul = ref_sigmoid_mul,
    .swiglu = ref_swiglu,
    .add = ref_add,
    .layernorm = ref_layernorm,
    .bias_add = ref_bias_add,
    .gelu_tanh = ref_gelu_tanh,
    .gelu_erf = ref_gelu_erf,
    .attention_full = ref_attention_full,
};
