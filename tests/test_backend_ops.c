/* test_backend_ops.c - every op of every registered backend against the reference, case by case.
 *
 * In the manner of ggml's test-backend-ops: a table of cases (op, sizes, input range) with awkward
 * shapes (one row, sizes off the vector width, long rows, T = 1 and T = 300, a cache with n_past > 0).
 * Each case builds its inputs from a fixed seed, runs the op on the reference and on the backend
 * under test, and compares the outputs by NMSE and max-rel (max|a - b| / max(1, max|b|), the
 * golden tools' measure). Every output buffer sits between guard floats that must come back
 * untouched. The backend must also give the same bits on 1, 2, 3 and 4 threads. The whole table
 * runs once per kernel family: the machine's own, then capped to AVX2 and to portable C
 * (Q35_KERNELS caps the CPU features in the forked test process, before anything reads them). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "q35.h"
#include "testutil.h"

/* ---- inputs ---- */

static uint64_t rng;
static float frand(float lo, float hi) { /* xorshift64*, uniform in [lo, hi) */
    rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
    return lo + (hi - lo) * (float)((rng * 2685821657736338717ull) >> 40) / 16777216.0f;
}
static float *rand_buf(size_t n, float lo, float hi) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++) p[i] = frand(lo, hi);
    return p;
}

/* A weight tensor of n random values in dtype dt (data owned by the caller: free(t.data)). */
static q35_tensor rand_weight(q35_dtype dt, int64_t rows, int64_t cols, float lo, float hi) {
    size_t n = (size_t)(rows * cols);
    void *d = malloc((n ? n : 1) * q35_dtype_size(dt));
    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < n; i++) {
        float v = frand(lo, hi);
        if (dt == Q35_F32) ((float *)d)[i] = v;
        else if (dt == Q35_BF16) ((uint16_t *)d)[i] = q35_f32_to_bf16(v);
        else ((uint16_t *)d)[i] = q35_f32_to_f16(v);
    }
    q35_tensor t = { .dtype = dt, .ndim = 2, .shape = { rows, cols }, .data = d };
    if (rows == 1) t.ndim = 1, t.shape[0] = cols;
    return t;
}

/* ---- guarded outputs ---- */

enum { GUARD = 16 };
static const uint32_t SENTINEL = 0x7fc0beefu; /* a NaN no op computes */

/* n floats preceded and followed by GUARD sentinels; the n floats start as init (or zero). */
static float *guarded(size_t n, const float *init) {
    float *p = malloc((n + 2 * GUARD) * sizeof(float));
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < GUARD; i++) {
        memcpy(p + i, &SENTINEL, 4);
        memcpy(p + GUARD + n + i, &SENTINEL, 4);
    }
    if (init) memcpy(p + GUARD, init, n * sizeof(float));
    else memset(p + GUARD, 0, n * sizeof(float));
    return p + GUARD;
}
static void guard_check(const float *x, size_t n, const char *what) {
    for (int i = 0; i < GUARD; i++) {
        ck_assert_msg(memcmp(x - GUARD + i, &SENTINEL, 4) == 0, "%s: wrote before its output buffer", what);
        ck_assert_msg(memcmp(x + n + i, &SENTINEL, 4) == 0, "%s: wrote past its output buffer", what);
    }
}
static void guarded_free(float *x) { free(x - GUARD); }

/* ---- the cases ---- */

typedef struct {
    const char *name;
    int op;        /* which runner */
    int s[8];      /* sizes, meaning per op (below) */
    float lo, hi;  /* input range */
    double nmse, max_rel; /* bars */
} op_case;

enum { EMBED, RMSNORM, LINEAR, CONV1D, SILU, L2NORM, GATES, DELTA, GATED_NORM, ROPE, ATTN, COPY_ROWS, SIGMUL, SWIGLU,
       ADD, LAYERNORM, BIAS_ADD, GELU_TANH, GELU_ERF, ATTN_FULL };

/* The bars: NMSE 1e-10 and max-rel 1e-5 where the backend only sums in another order (a handful of
 * float32 roundings of each output); the delta rule in its chunked form takes another path through
 * the same algebra (a triangular solve and products of decays instead of the token loop) and
 * attention sums exponentials in tiles: 1e-9 / 5e-5 there. The model end to end must still pass
 * every golden set at max-rel 2e-4 (test_text). */
#define EX 1e-10, 1e-5
#define ALG 1e-9, 5e-5
/* fast-bf16's products of bf16 weights round each x to bf16 first (relative error up to 2^-9,
 * mean square (2^-9)^2 / 3 = 1.3e-6 of each product): NMSE 4e-6 and max-rel 1e-2 for those cases.
 * The bound that says rounding is the only difference is checked exactly by bf16x_rounding_only. */
#define BFX_NMSE 4e-6
#define BFX_MAX_REL 1e-2
static const op_case cases[] = {
    /* embed: s = V, H, T, dtype */
    { "embed bf16 T=7 H=33", EMBED, { 50, 33, 7, Q35_BF16 }, -1, 1, EX },
    { "embed f32 T=1 H=1024", EMBED, { 20, 1024, 1, Q35_F32 }, -1, 1, EX },
    /* rmsnorm: R, n, ld, in place */
    { "rmsnorm 1x1024", RMSNORM, { 1, 1024, 1024, 0 }, -3, 3, EX },
    { "rmsnorm 300x96 in place", RMSNORM, { 300, 96, 96, 1 }, -3, 3, EX },
    { "rmsnorm 37x48 ld 100", RMSNORM, { 37, 48, 100, 0 }, -3, 3, EX },
    /* linear: T, in, out, dtype */
    { "linear f32 1x96->1000", LINEAR, { 1, 96, 1000, Q35_F32 }, -1, 1, EX },
    { "linear bf16 1x1024->300", LINEAR, { 1, 1024, 300, Q35_BF16 }, -1, 1, EX },
    { "linear bf16 5x33->5", LINEAR, { 5, 33, 5, Q35_BF16 }, -1, 1, EX },
    { "linear f16 3x130->17", LINEAR, { 3, 130, 17, Q35_F16 }, -1, 1, EX },
    { "linear f32 300x96->160", LINEAR, { 300, 96, 160, Q35_F32 }, -1, 1, EX },
    { "linear bf16 300x256->97", LINEAR, { 300, 256, 97, Q35_BF16 }, -1, 1, EX },
    { "linear bf16 67x1031->65", LINEAR, { 67, 1031, 65, Q35_BF16 }, -1, 1, EX },
    { "linear bf16 2x4100->9 long rows", LINEAR, { 2, 4100, 9, Q35_BF16 }, -1, 1, EX },
    { "linear f32 13x1->7", LINEAR, { 13, 1, 7, Q35_F32 }, -1, 1, EX },
    /* conv1d: T, C, K */
    { "conv1d T=1 C=6144", CONV1D, { 1, 6144, 4 }, -2, 2, EX },
    { "conv1d T=300 C=37", CONV1D, { 300, 37, 4 }, -2, 2, EX },
    { "conv1d T=5 C=100 K=2", CONV1D, { 5, 100, 2 }, -2, 2, EX },
    /* elementwise: n (wide range: the exponentials' tails) */
    { "silu 1", SILU, { 1 }, -30, 30, EX },
    { "silu 10007", SILU, { 10007 }, -30, 30, EX },
    { "sigmoid_mul 4099", SIGMUL, { 4099 }, -30, 30, EX },
    { "swiglu 3584*3", SWIGLU, { 3584 * 3 }, -30, 30, EX },
    { "add 1025", ADD, { 1025 }, -5, 5, EX },
    { "gelu_tanh 3071", GELU_TANH, { 3071 }, -12, 12, EX },
    { "gelu_erf 4097", GELU_ERF, { 4097 }, -12, 12, EX },
    /* l2norm: T, nh, n, ld */
    { "l2norm 1x16x128", L2NORM, { 1, 16, 128, 6144 }, -2, 2, EX },
    { "l2norm 300x2x24 ld 156", L2NORM, { 300, 2, 24, 156 }, -2, 2, EX },
    /* gdn gates: T, Hv (a spans the softplus threshold at 20) */
    { "gdn_gates 1x16", GATES, { 1, 16 }, -30, 30, EX },
    { "gdn_gates 300x6", GATES, { 300, 6 }, -30, 30, EX },
    /* delta rule: T, Hk, Hv, Dk, Dv, state starts non-zero */
    { "delta T=1 16x128x128", DELTA, { 1, 16, 16, 128, 128, 1 }, -1, 1, ALG },
    { "delta T=300 2/6 heads 24x16", DELTA, { 300, 2, 6, 24, 16, 0 }, -1, 1, ALG },
    { "delta T=130 2/4 heads 32x32 from state", DELTA, { 130, 2, 4, 32, 32, 1 }, -1, 1, ALG },
    { "delta T=64 1/1 head 128x128", DELTA, { 64, 1, 1, 128, 128, 0 }, -1, 1, ALG },
    { "delta T=7 1/2 heads 5x3", DELTA, { 7, 1, 2, 5, 3, 1 }, -1, 1, ALG },
    /* gated rmsnorm: R, n */
    { "gated_rmsnorm 1x128", GATED_NORM, { 1, 128 }, -3, 3, EX },
    { "gated_rmsnorm 1800x16", GATED_NORM, { 1800, 16 }, -3, 3, EX },
    /* rope: T, nh, D, ld, R */
    { "rope 1x8x256 R=64", ROPE, { 1, 8, 256, 2048, 64 }, -2, 2, EX },
    { "rope 300x6x48 R=12 ld 300", ROPE, { 300, 6, 48, 300, 12 }, -2, 2, EX },
    /* attention: n_past, T, Hq, Hkv, D */
    { "attention decode n_past=300", ATTN, { 300, 1, 8, 2, 256 }, -1, 1, ALG },
    { "attention prefill T=300", ATTN, { 0, 300, 6, 2, 48 }, -1, 1, ALG },
    { "attention T=37 n_past=70", ATTN, { 70, 37, 4, 4, 33 }, -1, 1, ALG },
    { "attention T=1 n_past=0", ATTN, { 0, 1, 2, 1, 16 }, -1, 1, ALG },
    { "attention wide scores T=65", ATTN, { 5, 65, 4, 1, 64 }, -6, 6, ALG },
    /* copy_rows: R, n, ldy, ldx */
    { "copy_rows 300x48 from 96", COPY_ROWS, { 300, 48, 48, 96 }, -1, 1, EX },
    { "copy_rows 1x1", COPY_ROWS, { 1, 1, 1, 1 }, -1, 1, EX },
    { "copy_rows 7x256 into 512", COPY_ROWS, { 7, 256, 512, 256 }, -1, 1, EX },
    /* layernorm: R, n; bias_add: T, n */
    { "layernorm 1x768", LAYERNORM, { 1, 768 }, -3, 5, EX },
    { "layernorm 584x48", LAYERNORM, { 584, 48 }, -3, 5, EX },
    { "bias_add 300x97", BIAS_ADD, { 300, 97 }, -1, 1, EX },
    /* attention_full: T, H, D */
    { "attention_full 264x3x16", ATTN_FULL, { 264, 3, 16 }, -1, 1, ALG },
    { "attention_full 1x2x64", ATTN_FULL, { 1, 2, 64 }, -1, 1, ALG },
    { "attention_full 1030x1x64", ATTN_FULL, { 1030, 1, 64 }, -2, 2, ALG },
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

/* One op's outputs, concatenated (and guard-checked). */
typedef struct { float *v; size_t n; } outputs;

static void out_take(outputs *o, float *x, size_t n, const char *what) {
    guard_check(x, n, what);
    o->v = realloc(o->v, (o->n + n) * sizeof(float));
    ck_assert_ptr_nonnull(o->v);
    memcpy(o->v + o->n, x, n * sizeof(float));
    o->n += n;
    guarded_free(x);
}

/* Runs case c on ops with the inputs seeded by the case index; returns its outputs. */
static outputs run_case(const q35_ops *ops, int ci) {
    const op_case *c = &cases[ci];
    const int *s = c->s;
    outputs out = { 0 };
    rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(ci + 1) * 0x100000001b3ull;
    float lo = c->lo, hi = c->hi;
    switch (c->op) {
    case EMBED: {
        q35_tensor E = rand_weight((q35_dtype)s[3], s[0], s[1], lo, hi);
        int ids[64];
        for (int t = 0; t < s[2]; t++) ids[t] = (t * 7 + 3) % s[0];
        float *y = guarded((size_t)s[2] * s[1], NULL);
        ops->embed(y, &E, ids, s[2], s[1]);
        out_take(&out, y, (size_t)s[2] * s[1], c->name);
        free((void *)E.data);
        break;
    }
    case RMSNORM: {
        size_t n = (size_t)s[0] * s[2];
        float *x = rand_buf(n, lo, hi);
        q35_tensor w = rand_weight(Q35_F32, 1, s[1], -0.5f, 0.5f);
        float *y = guarded(n, x);
        ops->rmsnorm(y, s[3] ? y : x, &w, s[0], s[1], s[2], 1e-6f);
        out_take(&out, y, n, c->name);
        free(x), free((void *)w.data);
        break;
    }
    case LINEAR: {
        float *x = rand_buf((size_t)s[0] * s[1], lo, hi);
        q35_tensor W = rand_weight((q35_dtype)s[3], s[2], s[1], -0.5f, 0.5f);
        float *y = guarded((size_t)s[0] * s[2], NULL);
        ops->linear(y, x, &W, s[0], s[1], s[2]);
        out_take(&out, y, (size_t)s[0] * s[2], c->name);
        free(x), free((void *)W.data);
        break;
    }
    case CONV1D: {
        int T = s[0], C = s[1], K = s[2];
        float *x = rand_buf((size_t)T * C, lo, hi), *w0 = rand_buf((size_t)C * K, lo, hi);
        q35_tensor w = rand_weight(Q35_BF16, C, K, -1, 1);
        float *win = guarded((size_t)C * K, w0), *y = guarded((size_t)T * C, NULL);
        ops->conv1d(y, win, x, &w, T, C, K);
        out_take(&out, y, (size_t)T * C, c->name);
        out_take(&out, win, (size_t)C * K, c->name);
        free(x), free(w0), free((void *)w.data);
        break;
    }
    case SILU: case SIGMUL: case SWIGLU: case ADD: case GELU_TANH: case GELU_ERF: {
        size_t n = (size_t)s[0];
        float *a = rand_buf(n, lo, hi), *b = rand_buf(n, lo, hi), *y = guarded(n, NULL);
        if (c->op == SILU) ops->silu(y, a, (int)n);
        if (c->op == SIGMUL) ops->sigmoid_mul(y, a, b, (int)n);
        if (c->op == SWIGLU) ops->swiglu(y, a, b, (int)n);
        if (c->op == ADD) ops->add(y, a, b, (int)n);
        if (c->op == GELU_TANH) ops->gelu_tanh(y, a, (int)n);
        if (c->op == GELU_ERF) ops->gelu_erf(y, a, (int)n);
        out_take(&out, y, n, c->name);
        free(a), free(b);
        break;
    }
    case L2NORM: {
        size_t n = (size_t)s[0] * s[3];
        float *x0 = rand_buf(n, lo, hi), *x = guarded(n, x0);
        ops->l2norm(x, s[0], s[1], s[2], s[3], 1e-6f, 0.0883883f);
        out_take(&out, x, n, c->name);
        free(x0);
        break;
    }
    case GATES: {
        size_t n = (size_t)s[0] * s[1];
        float *a = rand_buf(n, lo, hi), *b = rand_buf(n, lo, hi);
        q35_tensor A = rand_weight(Q35_F32, 1, s[1], -1, 1.5f), dt = rand_weight(Q35_F32, 1, s[1], -2, 2);
        float *g = guarded(n, NULL), *beta = guarded(n, NULL);
        ops->gdn_gates(g, beta, a, b, &A, &dt, s[0], s[1]);
        out_take(&out, g, n, c->name);
        out_take(&out, beta, n, c->name);
        free(a), free(b), free((void *)A.data), free((void *)dt.data);
        break;
    }
    case DELTA: {
        int T = s[0], Hk = s[1], Hv = s[2], Dk = s[3], Dv = s[4], C = 2 * Hk * Dk + Hv * Dv;
        float *mix = rand_buf((size_t)T * C, lo, hi);
        q35_ops_ref.l2norm(mix, T, Hk, Dk, C, 1e-6f, 1.0f / sqrtf((float)Dk));
        q35_ops_ref.l2norm(mix + Hk * Dk, T, Hk, Dk, C, 1e-6f, 1.0f);
        float *g = rand_buf((size_t)T * Hv, -2.0f, 0.0f), *beta = rand_buf((size_t)T * Hv, 0.0f, 1.0f);
        size_t ns = (size_t)Hv * Dk * Dv;
        float *S0 = rand_buf(ns, -0.3f, 0.3f);
        if (!s[5]) memset(S0, 0, ns * sizeof(float));
        float *S = guarded(ns, S0), *o = guarded((size_t)T * Hv * Dv, NULL);
        float *scratch = malloc((ops->delta_scratch(Dk, Dv) + 1) * sizeof(float));
        ops->delta_rule(o, S, mix, mix + Hk * Dk, mix + 2 * Hk * Dk, C, C, g, beta, T, Hk, Hv, Dk, Dv, scratch);
        out_take(&out, o, (size_t)T * Hv * Dv, c->name);
        out_take(&out, S, ns, c->name);
        free(mix), free(g), free(beta), free(S0), free(scratch);
        break;
    }
    case GATED_NORM: {
        size_t n = (size_t)s[0] * s[1];
        float *x = rand_buf(n, lo, hi), *z = rand_buf(n, lo, hi), *y = guarded(n, NULL);
        q35_tensor w = rand_weight(Q35_BF16, 1, s[1], 0.5f, 1.5f);
        ops->gated_rmsnorm(y, x, z, &w, s[0], s[1], 1e-6f);
        out_take(&out, y, n, c->name);
        free(x), free(z), free((void *)w.data);
        break;
    }
    case ROPE: {
        int T = s[0], R = s[4];
        size_t n = (size_t)T * s[3];
        float *x0 = rand_buf(n, lo, hi), *cs = rand_buf((size_t)T * R, -1, 1), *sn = rand_buf((size_t)T * R, -1, 1);
        float *x = guarded(n, x0);
        ops->rope(x, cs, sn, T, s[1], s[2], s[3], R);
        out_take(&out, x, n, c->name);
        free(x0), free(cs), free(sn);
        break;
    }
    case ATTN: {
        int np = s[0], T = s[1], Hq = s[2], Hkv = s[3], D = s[4], cap = np + T + 3;
        float *q = rand_buf((size_t)T * Hq * D, lo, hi);
        float *K = rand_buf((size_t)Hkv * cap * D, lo, hi), *V = rand_buf((size_t)Hkv * cap * D, -1, 1);
        float *o = guarded((size_t)T * Hq * D, NULL);
        float *scratch = malloc((ops->attn_scratch(np + T, D) + 1) * sizeof(float));
        ops->attention(o, q, Hq * D, K, V, cap, np, T, Hq, Hkv, D, 1.0f / sqrtf((float)D), scratch);
        out_take(&out, o, (size_t)T * Hq * D, c->name);
        free(q), free(K), free(V), free(scratch);
        break;
    }
    case COPY_ROWS: {
        int R = s[0], n = s[1], ldy = s[2], ldx = s[3];
        float *x = rand_buf((size_t)R * ldx, lo, hi), *y0 = rand_buf((size_t)R * ldy, lo, hi);
        float *y = guarded((size_t)R * ldy, y0);
        ops->copy_rows(y, ldy, x, ldx, R, n);
        out_take(&out, y, (size_t)R * ldy, c->name);
        free(x), free(y0);
        break;
    }
    case LAYERNORM: case BIAS_ADD: {
        size_t n = (size_t)s[0] * s[1];
        float *x = rand_buf(n, lo, hi);
        q35_tensor w = rand_weight(Q35_BF16, 1, s[1], 0.5f, 1.5f), b = rand_weight(Q35_F32, 1, s[1], -1, 1);
        float *y = guarded(n, x);
        if (c->op == LAYERNORM) ops->layernorm(y, x, &w, &b, s[0], s[1], 1e-6f);
        else ops->bias_add(y, &b, s[0], s[1]);
        out_take(&out, y, n, c->name);
        free(x), free((void *)w.data), free((void *)b.data);
        break;
    }
    case ATTN_FULL: {
        int T = s[0], H = s[1], D = s[2];
        size_t n = (size_t)T * H * D;
        float *q = rand_buf(n, lo, hi), *k = rand_buf(n, lo, hi), *v = rand_buf(n, -1, 1), *o = guarded(n, NULL);
        float *scratch = malloc((ops->attn_scratch(T, D) + 1) * sizeof(float));
        ops->attention_full(o, q, k, v, T, H, D, 1.0f / sqrtf((float)D), scratch);
        out_take(&out, o, n, c->name);
        free(q), free(k), free(v), free(scratch);
        break;
    }
    default:
        ck_abort_msg("case %s: no runner", c->name);
    }
    return out;
}

/* Every op of the table has a case: a new op without one fails here. */
START_TEST(every_op_has_a_case) {
    int seen[ATTN_FULL + 1] = { 0 };
    for (int i = 0; i < N_CASES; i++) seen[cases[i].op] = 1;
    for (int op = 0; op <= ATTN_FULL; op++) ck_assert_msg(seen[op], "op %d has no case", op);
    /* and no entry of any registered table is left empty */
    for (const char *bk[] = { "ref", "fast", "fast-bf16", NULL }, **b = bk; *b; b++) {
        const q35_ops *o = q35_backend(*b);
        ck_assert_ptr_nonnull(o);
#define HAS(f) ck_assert_msg(o->f != NULL, "backend %s has no %s", *b, #f)
        HAS(name), HAS(kernels), HAS(embed), HAS(rmsnorm), HAS(linear), HAS(conv1d), HAS(silu), HAS(l2norm);
        HAS(gdn_gates), HAS(delta_rule), HAS(delta_scratch), HAS(gated_rmsnorm), HAS(rope), HAS(attention);
        HAS(attn_scratch), HAS(copy_rows), HAS(sigmoid_mul), HAS(swiglu), HAS(add), HAS(layernorm), HAS(bias_add);
        HAS(gelu_tanh), HAS(gelu_erf), HAS(attention_full);
#undef HAS
    }
}
END_TEST

static const char *families[] = { "native", "avx2", "portable" };

/* Case _i of the table on every registered backend but ref, in kernel family f. */
static void check_case(int ci, const char *family) {
    if (strcmp(family, "native") != 0) setenv("Q35_KERNELS", family, 1);
    const op_case *c = &cases[ci];
    q35_set_threads(4);
    outputs want = run_case(&q35_ops_ref, ci);
    for (const char *bk[] = { "fast", "fast-bf16", NULL }, **b = bk; *b; b++) {
        const q35_ops *ops = q35_backend(*b);
        ck_assert_ptr_nonnull(ops);
        double bar_nmse = c->nmse, bar_rel = c->max_rel;
        if (ops == &q35_ops_fast_bf16 && c->op == LINEAR && c->s[3] == Q35_BF16) bar_nmse = BFX_NMSE, bar_rel = BFX_MAX_REL;
        q35_set_threads(1);
        outputs got = run_case(ops, ci);
        ck_assert_int_eq(got.n, want.n);
        double num = 0, den = 0, max_abs = 0, max_ref = 0;
        for (size_t i = 0; i < want.n; i++) {
            ck_assert_msg(isfinite(got.v[i]) == isfinite(want.v[i]), "%s [%s, %s]: element %zu is %g, ref %g", c->name,
                          *b, ops->kernels(), i, (double)got.v[i], (double)want.v[i]);
            double d = (double)got.v[i] - want.v[i];
            num += d * d, den += (double)want.v[i] * want.v[i];
            if (fabs(d) > max_abs) max_abs = fabs(d);
            if (fabs(want.v[i]) > max_ref) max_ref = fabs(want.v[i]);
        }
        double nmse = den > 0 ? num / den : num, max_rel = max_abs / (max_ref > 1 ? max_ref : 1);
        ck_assert_msg(nmse <= bar_nmse && max_rel <= bar_rel, "%s [%s, %s]: nmse %.3g (bar %.0g), max_rel %.3g (bar %.0g)",
                      c->name, *b, ops->kernels(), nmse, bar_nmse, max_rel, bar_rel);
        for (int th = 2; th <= 4; th++) { /* the same bits on any thread count */
            q35_set_threads(th);
            outputs again = run_case(ops, ci);
            ck_assert_int_eq(again.n, got.n);
            for (size_t i = 0; i < got.n; i++)
                ck_assert_msg(memcmp(&again.v[i], &got.v[i], 4) == 0, "%s [%s, %s]: element %zu is %a on %d threads, %a on 1",
                              c->name, *b, ops->kernels(), i, (double)again.v[i], th, (double)got.v[i]);
            free(again.v);
        }
        free(got.v);
    }
    free(want.v);
}

START_TEST(native) { check_case(_i, "native"); }
END_TEST
START_TEST(avx2) { check_case(_i, "avx2"); }
END_TEST
START_TEST(portable) { check_case(_i, "portable"); }
END_TEST

/* fast-bf16's product differs from the exact one by the rounding of x to bf16 alone: against a
 * double-precision dot product of the RNE-rounded x (q35_f32_to_bf16) with W, every output is
 * within the FP32 accumulation bound gamma_m * sum |xr_k w_k|, m = in/16 + 5 roundings per output
 * (a lane's adds and the 4-level tree), the bound the exact kernels meet against x itself. A
 * truncating rounding, a lost pair or a wrong tail would be off by ~2^-9 of the sum, 2000 times
 * this. Run on the machine's own family and with Q35_KERNELS capped (the loop index: native,
 * avx2), where fast-bf16 is the exact product and x is not rounded: then the same bound holds
 * against x itself. */
START_TEST(bf16x_rounding_only) {
    if (_i == 1) setenv("Q35_KERNELS", "avx2", 1);
    const q35_cpu_features *f = q35_cpu();
    int dot = f->avx512bf16 && strcmp(q35_fast_kernels(), "avx512") == 0;
    ck_assert_str_eq(q35_ops_fast_bf16.kernels(), dot ? "avx512-bf16dot" : q35_fast_kernels());
    static const int shapes[][3] = { { 1, 1031, 65 }, { 67, 1031, 65 }, { 7, 4100, 9 }, { 13, 33, 70 }, { 3, 1, 5 } };
    for (int si = 0; si < 5; si++) {
        int T = shapes[si][0], in = shapes[si][1], out = shapes[si][2];
        rng = 0x1234567ull + (uint64_t)si;
        float *x = rand_buf((size_t)T * in, -3, 3);
        q35_tensor W = rand_weight(Q35_BF16, out, in, -0.5f, 0.5f);
        float *y = guarded((size_t)T * out, NULL);
        q35_set_threads(2);
        q35_ops_fast_bf16.linear(y, x, &W, T, in, out);
        guard_check(y, (size_t)T * out, "bf16x linear");
        double gamma = (in / 16 + 5) * 0x1p-24, worst = 0;
        for (int t = 0; t < T; t++)
            for (int o = 0; o < out; o++) {
                double z = 0, mag = 0;
                for (int k = 0; k < in; k++) {
                    float xk = x[(size_t)t * in + k];
                    double xr = dot ? (double)q35_bf16_to_f32(q35_f32_to_bf16(xk)) : xk;
                    double p = xr * q35_bf16_to_f32(((const uint16_t *)W.data)[(size_t)o * in + k]);
                    z += p, mag += fabs(p);
                }
                double e = fabs((double)y[(size_t)t * out + o] - z) / (gamma * mag);
                if (e > worst) worst = e;
            }
        ck_assert_msg(worst <= 1, "T=%d in=%d out=%d: error %.3g of the FP32 bound", T, in, out, worst);
        guarded_free(y), free(x), free((void *)W.data);
    }
}
END_TEST

/* The registry: the backends by name, unknown names refused, the kernels named. */
START_TEST(registry) {
    ck_assert_ptr_eq(q35_backend("ref"), &q35_ops_ref);
    ck_assert_ptr_eq(q35_backend("fast"), &q35_ops_fast);
    ck_assert_ptr_eq(q35_backend("fast-bf16"), &q35_ops_fast_bf16);
    ck_assert_ptr_null(q35_backend("Fast"));
    ck_assert_ptr_null(q35_backend(NULL));
    ck_assert_ptr_nonnull(q35_backend(Q35_DEFAULT_BACKEND));
    const char *k = q35_ops_fast.kernels();
    ck_assert_msg(!strcmp(k, "avx512") || !strcmp(k, "avx2-fma") || !strcmp(k, "portable"),
                  "kernels '%s'", k);
    q35_set_threads(3);
    ck_assert_int_eq(q35_get_threads(), 3);
}
END_TEST

int main(void) {
    Suite *s = suite_create("backend_ops");
    TCase *tc = tcase_create("table");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, every_op_has_a_case);
    tcase_add_test(tc, registry);
    tcase_add_loop_test(tc, bf16x_rounding_only, 0, 2);
    TCase *fam[3];
    for (int f = 0; f < 3; f++) {
        fam[f] = tcase_create(families[f]);
        tcase_set_timeout(fam[f], 300);
        suite_add_tcase(s, fam[f]);
    }
    tcase_add_loop_test(fam[0], native, 0, N_CASES);
    tcase_add_loop_test(fam[1], avx2, 0, N_CASES);
    tcase_add_loop_test(fam[2], portable, 0, N_CASES);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
