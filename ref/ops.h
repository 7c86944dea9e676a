/* ops.h - the op table: one signature per layer op of Qwen3.5.
 *
 * text.c describes the model once and calls every op through a q35_ops table. ops_ref.c fills it
 * with the plain FP32 scalar reference; a fast implementation fills another table with the same
 * contracts and is checked against the reference op by op.
 *
 * Conventions: output first, then inputs, then sizes. Activations are float32, row-major, rows
 * are tokens. Weights are q35_tensor views in the checkpoint's dtype (F32, BF16 or F16) and are
 * converted as they are read. No op allocates. Output buffers never alias inputs unless the
 * comment says "in place allowed". */
#ifndef Q35_OPS_H
#define Q35_OPS_H

#include "tensor.h"

typedef struct q35_ops {
    const char *name;
    /* What the kernels are on this machine ("scalar fp32", "avx512-bf16", ...): fixed after the
     * first call. */
    const char *(*kernels)(void);

    /* y[T,H] = E[ids[t], :] ; E [V,H] */
    void (*embed)(float *y, const q35_tensor *E, const int *ids, int T, int H);

    /* Zero-centred RMSNorm over rows of n: y[r,:] = x[r,:] / sqrt(mean(x[r,:]^2) + eps) * (1 + w)
     * x,y: R rows of n, row r at offset r*ld (ld >= n) in both; w [n]. In place allowed. */
    void (*rmsnorm)(float *y, const float *x, const q35_tensor *w, int R, int n, int ld, float eps);

    /* y[T,out] = x[T,in] W^T ; W [out,in] (PyTorch Linear layout), no bias. */
    void (*linear)(float *y, const float *x, const q35_tensor *W, int T, int in, int out);

    /* Causal depthwise conv over time, before the activation:
     * y[t,c] = sum_{j<K} w[c,j] * xx[c, t+j] where xx[c,:] = window[c,1:] (its last K-1 columns)
     * followed by x[:,c];
     * then window[c,:] <- the last K inputs of channel c (cached history + x; oldest first).
     * x,y [T,C]; w [C,1,K] or [C,K]; window [C,K] (the HF conv_state layout; its first column
     * is the oldest and is not used by the next step). */
    void (*conv1d)(float *y, float *window, const float *x, const q35_tensor *w, int T, int C, int K);

    /* y[n] = x[n] * sigmoid(x[n]). In place allowed. */
    void (*silu)(float *y, const float *x, int n);

    /* L2 normalisation of each head vector of n, in place:
     *   x[t,h,:] *= scale / sqrt(sum(x[t,h,:]^2) + eps),  element i of (t,h) at x[t*ld + h*n + i]
     * T tokens (row stride ld >= nh*n), nh heads per token. */
    void (*l2norm)(float *x, int T, int nh, int n, int ld, float eps, float scale);

    /* Gated DeltaNet gates, per token t and value head h:
     *   g[t,h] = -exp(A_log[h]) * softplus(a[t,h] + dt_bias[h])   (softplus linear above 20)
     *   beta[t,h] = sigmoid(b[t,h])
     * a,b,g,beta [T,Hv]; A_log, dt_bias [Hv]. */
    void (*gdn_gates)(float *g, float *beta, const float *a, const float *b,
                      const q35_tensor *A_log, const q35_tensor *dt_bias, int T, int Hv);

    /* The gated delta rule, recurrent form, token by token from the state S:
     *   per value head h (key head kh = h / (Hv/Hk), repeat-interleave):
     *   S_h <- S_h * exp(g[t,h]);  d = beta[t,h] * (v[t,h,:] - S_h^T k[t,kh,:]);
     *   S_h <- S_h + k[t,kh,:] (x) d;  o[t,h,:] = S_h^T q[t,kh,:]
     * o [T,Hv,Dv]; S [Hv,Dk,Dv] (float32, updated in place); q,k rows of stride ld_qk (already
     * L2-normalised, q scaled by 1/sqrt(Dk)), v rows of stride ld_v: q[t*ld_qk + kh*Dk + i].
     * A backend may compute it in the equivalent chunked form (spec section 3.4).
     * scratch: at least delta_scratch(Dk, Dv) floats. */
    void (*delta_rule)(float *o, float *S, const float *q, const float *k, const float *v,
                       int ld_qk, int ld_v, const float *g, const float *beta,
                       int T, int Hk, int Hv, int Dk, int Dv, float *scratch);

    /* Floats of scratch delta_rule needs for heads of Dk x Dv, with the backend's current threads. */
    size_t (*delta_scratch)(int Dk, int Dv);

    /* Gated RMSNorm with a plain weight, per row of n:
     *   y[r,:] = x[r,:] / sqrt(mean(x[r,:]^2) + eps) * w * silu(z[r,:])
     * x,z,y [R,n]; w [n]. */
    void (*gated_rmsnorm)(float *y, const float *x, const float *z, const q35_tensor *w,
                          int R, int n, float eps);

    /* Rotary embedding (rotate_half / NeoX pairing) on the first R dims of each head, in place:
     * for i < R/2: (x_i, x_{i+R/2}) <- (x_i c_i - x_{i+R/2} s_i, x_{i+R/2} c_i + x_i s_i),
     * with c = cos[t, i], s = sin[t, i]. Head h of token t at x[t*ld + h*D] (ld >= nh*D);
     * cos, sin [T, R] (cat(f, f) layout; only the first R/2 of each row are read). */
    void (*rope)(float *x, const float *cos, const float *sin, int T, int nh, int D, int ld, int R);

    /* Causal attention of T new queries over a cache of n_past + T keys, GQA:
     *   head h uses kv head h / (Hq/Hkv); scores = q.k * scale; key j visible to query t iff
     *   j <= n_past + t; softmax; o = sum p v.
     * o [T,Hq,D]; q [T,Hq,D] (row stride ld_q); K, V [Hkv, cap, D] (cache, first n_past+T rows
     * filled); scratch: at least attn_scratch(n_past + T, D) floats (the backend's own need for
     * its current thread count: threads never share scratch). */
    void (*attention)(float *o, const float *q, int ld_q, const float *K, const float *V, int cap,
                      int n_past, int T, int Hq, int Hkv, int D, float scale, float *scratch);

    /* Floats of scratch that attention and attention_full need for n_keys keys of head dim D,
     * with the number of threads the backend runs now (q35_set_threads). */
    size_t (*attn_scratch)(int n_keys, int D);

    /* A block of rows copied between strided buffers: y[r*ldy + i] = x[r*ldx + i], r < R, i < n.
     * Splits q from its gate, appends keys and values to the cache, splits the vision qkv.
     * y and x do not overlap. */
    void (*copy_rows)(float *y, int ldy, const float *x, int ldx, int R, int n);

    /* y[n] = x[n] * sigmoid(gate[n]). In place allowed (y == x). */
    void (*sigmoid_mul)(float *y, const float *x, const float *gate, int n);

    /* y[n] = silu(gate[n]) * up[n]. In place allowed (y == gate). */
    void (*swiglu)(float *y, const float *gate, const float *up, int n);

    /* y[n] = a[n] + b[n]. In place allowed. */
    void (*add)(float *y, const float *a, const float *b, int n);

    /* --- vision tower --- */

    /* LayerNorm over rows of n: y = (x - mean) / sqrt(var + eps) * w + b (biased variance).
     * x,y [R,n]; w,b [n]. In place allowed. */
    void (*layernorm)(float *y, const float *x, const q35_tensor *w, const q35_tensor *b, int R, int n, float eps);

    /* y[t, i] += b[i]. y [T,n]; b [n]. */
    void (*bias_add)(float *y, const q35_tensor *b, int T, int n);

    /* GELU, tanh approximation: y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). In place allowed. */
    void (*gelu_tanh)(float *y, const float *x, int n);

    /* GELU, exact: y = 0.5 x (1 + erf(x / sqrt(2))). In place allowed. */
    void (*gelu_erf)(float *y, const float *x, int n);

    /* Bidirectional attention of T rows over the same T rows, per head, no mask:
     * o [T,H,D]; q, k, v [T,H,D]; scratch: at least attn_scratch(T, D) floats. */
    void (*attention_full)(float *o, const float *q, const float *k, const float *v, int T, int H, int D,
                           float scale, float *scratch);
} q35_ops;

/* The scalar FP32 reference (ops_ref.c). */
extern const q35_ops q35_ops_ref;
/* OpenMP + SIMD, kernels chosen at run time by CPU features (fast/). */
extern const q35_ops q35_ops_fast;
/* fast with the products of bf16 weights on activations rounded to bf16 (vdpbf16ps where the
 * CPU has AVX512_BF16): about 1.7x the prefill rate, llama.cpp's precision. Opt-in, never the
 * default and not held to the goldens' tolerances (fast/matmul.h states its error bound). */
extern const q35_ops q35_ops_fast_bf16;

/* The registered backends by name ("ref", "fast", "fast-bf16"), NULL when unknown. */
const q35_ops *q35_backend(const char *name);
/* "ref, fast, fast-bf16": the names q35_backend knows, for messages. */
const char *q35_backend_names(void);
/* The backend the command line uses when none is named. */
#define Q35_DEFAULT_BACKEND "fast"
/* Threads the parallel backends use from now on (n >= 1; 0 = every core). The reference is
 * single-threaded whatever this says. Results do not depend on it, bit for bit. */
void q35_set_threads(int n);
int q35_get_threads(void);

#endif
