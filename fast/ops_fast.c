/* ops_fast.c - the fast backend: every op of ops.h with OpenMP threads and SIMD.
 *
 * Contracts are those of ops.h; ops_ref.c is the specification each op is checked against.
 *
 * Determinism: every output element is reduced by one thread, in an order fixed by the op's sizes
 * alone (never by the thread count or the partition), so results are the same bits on any number
 * of threads. Row reductions use 16 fixed lanes (element i goes to lane i % 16) summed by a fixed
 * tree; matrix products sum over their inner index in order.
 *
 * SIMD: plain loops the compiler vectorises. The hot kernels (delta rule, attention) are written
 * once as always-inline templates and instantiated for AVX-512 and AVX2 with FMA, chosen at run
 * time through q35_cpu(); the portable instance (no FMA, any architecture) is what other CPUs run.
 * The GELUs and the gates use libm's tanhf/erff/expf/log1pf; attention's softmax, the delta rule's
 * decays and the sigmoid-gated elementwise ops (silu, sigmoid_mul, swiglu) use a vectorised exp of
 * about 1 ulp. */
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu.h"
#include "matmul.h"
#include "ops.h"

#define INLINE static inline __attribute__((always_inline))

/* Below this many elements an op runs on the calling thread: waking threads costs more. */
enum { PAR_MIN = 1 << 15 };

static int thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_X86_CLONES 1
#define TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))
#define TARGET_AVX2 __attribute__((target("avx2,fma")))

/* 2: AVX-512 + FMA, 1: AVX2 + FMA, 0: portable. */
static int isa_level(void) {
    const q35_cpu_features *f = q35_cpu();
    if (f->avx512f && f->fma) return 2;
    if (f->avx2 && f->fma) return 1;
    return 0;
}
#endif

/* a*b + c, fused in the FMA instances (a compile-time constant once inlined). */
INLINE float madd(float a, float b, float c, int fma) { return fma ? __builtin_fmaf(a, b, c) : a * b + c; }

static float sigmoidf_(float x) { return 1.0f / (1.0f + expf(-x)); }

/* ------------------------------------------------------------------------------------------ */
/* Row reductions in 16 fixed lanes                                                            */

INLINE float lanes_sum(float *acc) {
    for (int w = 8; w >= 1; w >>= 1)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0];
}

/* sum x[i]^2 */
static float sum_sq(const float *x, int n) {
    float acc[16] = { 0 };
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] += x[i + l] * x[i + l];
    for (int l = 0; i + l < n; l++) acc[l] += x[i + l] * x[i + l];
    return lanes_sum(acc);
}

/* sum x[i] */
static float sum_(const float *x, int n) {
    float acc[16] = { 0 };
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] += x[i + l];
    for (int l = 0; i + l < n; l++) acc[l] += x[i + l];
    return lanes_sum(acc);
}

/* sum (x[i] - m)^2 */
static float sum_sq_dev(const float *x, float m, int n) {
    float acc[16] = { 0 };
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] += (x[i + l] - m) * (x[i + l] - m);
    for (int l = 0; i + l < n; l++) acc[l] += (x[i + l] - m) * (x[i + l] - m);
    return lanes_sum(acc);
}

/* Weights are read through a small stack buffer, WCHUNK elements at a time. */
enum { WCHUNK = 512 };

/* exp(x) for x <= 0 (Cephes' expf: Cody-Waite reduction and a degree-6 polynomial; measured
 * at most 1.01 ulp on [-87, 0], libm's expf 0.5),
 * branch-free so loops over it vectorise; below -87.3 (e^x < 2^-126) it is 0. */
INLINE float exp_neg(float x, int fma) {
    float xc = x < -87.3f ? -87.3f : x;
    float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = madd(n, -0.693359375f, xc, fma);
    r = madd(n, 2.12194440e-4f, r, fma);
    float p = 1.9875691500e-4f;
    p = madd(p, r, 1.3981999507e-3f, fma);
    p = madd(p, r, 8.3334519073e-3f, fma);
    p = madd(p, r, 4.1665795894e-2f, fma);
    p = madd(p, r, 1.6666665459e-1f, fma);
    p = madd(p, r, 5.0000001201e-1f, fma);
    p = madd(p, r * r, r, fma) + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < -87.3f ? 0.0f : p * scale;
}

/* ------------------------------------------------------------------------------------------ */
/* Matrix product template                                                                     */

/* C[mr,nr] = (acc ? C : 0) + A[mr,k] B[k,nr] for one block of at most 4 x 32, A[r,p] at
 * A[r*lda + p*aps]; each element sums over p = 0..k-1 in order. */
INLINE void gemm_block(float *C, size_t ldc, const float *A, size_t lda, size_t aps, const float *B, size_t ldb,
                       int mr, int nr, int k, int acc, int fma) {
    float c[4][32];
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) c[r][j] = acc ? C[r * ldc + j] : 0.0f;
    for (int p = 0; p < k; p++) {
        const float *b = B + p * ldb;
        for (int r = 0; r < mr; r++) {
            float a = A[r * lda + p * aps];
            for (int j = 0; j < nr; j++) c[r][j] = madd(a, b[j], c[r][j], fma);
        }
    }
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) C[r * ldc + j] = c[r][j];
}

/* C[m,n] (row stride ldc) = (acc ? C : 0) + A[m,k] B[k,n] (row stride ldb), A[i,p] at
 * A[i*lda + p*aps]. lower: only blocks holding some element j <= i are computed (the others are
 * left as they were). */
INLINE void gemm_(float *C, size_t ldc, const float *A, size_t lda, size_t aps, const float *B, size_t ldb, int m,
                  int n, int k, int acc, int lower, int fma) {
    for (int i = 0; i < m; i += 4)
        for (int j = 0; j < (lower && i + 4 < n ? i + 4 : n); j += 32) {
            int mr = m - i < 4 ? m - i : 4, nr = n - j < 32 ? n - j : 32;
            float *c = C + i * ldc + j;
            const float *a = A + i * lda, *b = B + j;
            if (mr == 4 && nr == 32) gemm_block(c, ldc, a, lda, aps, b, ldb, 4, 32, k, acc, fma);
            else gemm_block(c, ldc, a, lda, aps, b, ldb, mr, nr, k, acc, fma);
        }
}

/* out[r*ldo] = Q[r,:] . k for R rows of D (row stride D), each in 16 lanes summed by a fixed tree:
 * a key is read once for 4 rows, and nothing is transposed. */
INLINE void dots(float *out, size_t ldo, const float *Q, int R, const float *k, int D, int fma) {
    for (int r0 = 0; r0 < R; r0 += 4) {
        int mr = R - r0 < 4 ? R - r0 : 4;
        float acc[4][16] = { { 0 } };
        int i = 0;
        for (; i + 16 <= D; i += 16)
            for (int r = 0; r < 4; r++) /* rows past R repeat row R-1: no branch in the loop */
                for (int l = 0; l < 16; l++)
                    acc[r][l] = madd(Q[(size_t)(r0 + (r < mr ? r : mr - 1)) * D + i + l], k[i + l], acc[r][l], fma);
        for (int r = 0; r < mr; r++) {
            for (int l = 0; i + l < D; l++) acc[r][l] = madd(Q[(size_t)(r0 + r) * D + i + l], k[i + l], acc[r][l], fma);
            out[(r0 + r) * ldo] = lanes_sum(acc[r]);
        }
    }
}

INLINE void gemm(float *C, size_t ldc, const float *A, size_t lda, const float *B, size_t ldb, int m, int n, int k,
                 int acc, int fma) {
    gemm_(C, ldc, A, lda, 1, B, ldb, m, n, k, acc, 0, fma);
}

/* ------------------------------------------------------------------------------------------ */
/* Gated delta rule                                                                            */

enum { CHUNK = 64 };
/* Below this many tokens the token loop is used: on one Zen 4 core (16 heads of 128 x 128) the
 * loop costs ~66 us a token at any T, the chunked form 150 us at T = 1, 40 us a token at T = 4 and
 * 25-35 us a token from T = 8 up. */
enum { CHUNK_MIN_T = 4 };

static size_t delta_thread_floats(int Dk, int Dv) {
    /* Kt [Dk][CHUNK], P and A [CHUNK][CHUNK], V' [CHUNK][Dv], G, beta and a row of decays [CHUNK] */
    return (size_t)CHUNK * Dk + 2 * (size_t)CHUNK * CHUNK + (size_t)CHUNK * Dv + 3 * CHUNK;
}

/* The token loop of ops.h for one value head (o rows of stride ldo), in the reference's order:
 * S *= decay while r = S^T k sums over i; then S += k d^T while o = S^T q sums over i.
 * w: 2*Dv floats. */
INLINE void delta_head_steps(float *o, size_t ldo, float *S, const float *q, const float *k, const float *v,
                             size_t ld_qk, size_t ld_v, const float *g, const float *beta, size_t ldg, int T, int Dk,
                             int Dv, float *w, int fma) {
    float *r = w, *d = w + Dv;
    for (int t = 0; t < T; t++) {
        const float *qt = q + t * ld_qk, *kt = k + t * ld_qk, *vt = v + t * ld_v;
        float decay = expf(g[t * ldg]), bt = beta[t * ldg];
        for (int e = 0; e < Dv; e++) r[e] = 0.0f;
        for (int i = 0; i < Dk; i++) {
            float *Si = S + (size_t)i * Dv, ki = kt[i];
            for (int e = 0; e < Dv; e++) {
                Si[e] *= decay;
                r[e] = madd(Si[e], ki, r[e], fma);
            }
        }
        for (int e = 0; e < Dv; e++) d[e] = (vt[e] - r[e]) * bt;
        float *ot = o + t * ldo;
        for (int e = 0; e < Dv; e++) ot[e] = 0.0f;
        for (int i = 0; i < Dk; i++) {
            float *Si = S + (size_t)i * Dv, ki = kt[i], qi = qt[i];
            for (int e = 0; e < Dv; e++) {
                Si[e] = madd(ki, d[e], Si[e], fma);
                ot[e] = madd(Si[e], qi, ot[e], fma);
            }
        }
    }
}

/* The chunked form (spec section 3.4) for one value head, chunks of CHUNK tokens; the last chunk
 * holds exactly the tokens present (padding tokens would have beta = 0, g = 0: no effect). Per
 * chunk of n tokens, with G the in-chunk cumulative g and S the incoming state:
 *   P = Q K^T, A = K K^T, R = K S
 *   V'_t = beta_t (v_t - e^{G_t} R_t) - sum_{s<t} beta_t A[t,s] e^{G_t-G_s} V'_s   ((I + A') V' = U - Wk S)
 *   O_t  = e^{G_t} (S^T q_t) + sum_{s<=t} P[t,s] e^{G_t-G_s} V'_s
 *   S   <- e^{G_n} S + sum_s e^{G_n-G_s} k_s (x) V'_s
 * Only G_t - G_s with s <= t is exponentiated (never above 0). w: delta_thread_floats floats. */
INLINE void delta_head_chunked(float *o, size_t ldo, float *S, const float *q, const float *k, const float *v,
                               size_t ld_qk, size_t ld_v, const float *g, const float *beta, size_t ldg, int T,
                               int Dk, int Dv, float *w, int fma) {
    float *Kt = w, *P = Kt + (size_t)CHUNK * Dk, *A = P + CHUNK * CHUNK, *Vp = A + CHUNK * CHUNK;
    float *G = Vp + (size_t)CHUNK * Dv, *bc = G + CHUNK, *dec = bc + CHUNK;
    for (int c0 = 0; c0 < T; c0 += CHUNK) {
        int n = T - c0 < CHUNK ? T - c0 : CHUNK;
        const float *Q = q + c0 * ld_qk, *K = k + c0 * ld_qk, *V = v + c0 * ld_v;
        float *O = o + c0 * ldo;
        float acc = 0.0f;
        for (int t = 0; t < n; t++) {
            acc += g[(c0 + t) * ldg];
            G[t] = acc;
            bc[t] = beta[(c0 + t) * ldg];
        }
        for (int s = 0; s < n; s++)
            for (int i = 0; i < Dk; i++) Kt[(size_t)i * CHUNK + s] = K[s * ld_qk + i];
        gemm_(P, CHUNK, Q, ld_qk, 1, Kt, CHUNK, n, n, Dk, 0, 1, fma); /* only s <= t is read */
        gemm_(A, CHUNK, K, ld_qk, 1, Kt, CHUNK, n, n, Dk, 0, 1, fma); /* only s < t is read */
        gemm(Vp, Dv, K, ld_qk, S, Dv, n, Dv, Dk, 0, fma);  /* R = K S */
        gemm(O, ldo, Q, ld_qk, S, Dv, n, Dv, Dk, 0, fma);  /* Q S */
        for (int t = 0; t < n; t++) {
            float *vp = Vp + (size_t)t * Dv;
            const float *vt = V + t * ld_v;
            float eg = expf(G[t]), bt = bc[t];
            for (int s = 0; s <= t; s++) dec[s] = exp_neg(G[t] - G[s], fma);
            for (int e = 0; e < Dv; e++) vp[e] = bt * (vt[e] - eg * vp[e]);
            for (int s = 0; s < t; s++) {
                float a = -(bt * A[t * CHUNK + s] * dec[s]);
                const float *vs = Vp + (size_t)s * Dv;
                for (int e = 0; e < Dv; e++) vp[e] = madd(a, vs[e], vp[e], fma);
            }
            /* the masked, decayed scores of row t, and the decay of the inter-chunk term */
            for (int s = 0; s <= t; s++) P[t * CHUNK + s] *= dec[s];
            for (int s = t + 1; s < n; s++) P[t * CHUNK + s] = 0.0f;
            float *ot = O + t * ldo;
            for (int e = 0; e < Dv; e++) ot[e] *= eg;
        }
        gemm(O, ldo, P, CHUNK, Vp, Dv, n, Dv, n, 1, fma);
        float gn = G[n - 1], egn = expf(gn);
        for (size_t i = 0; i < (size_t)Dk * Dv; i++) S[i] *= egn;
        for (int s = 0; s < n; s++) {
            float f = expf(gn - G[s]);
            for (int i = 0; i < Dk; i++) Kt[(size_t)i * CHUNK + s] *= f;
        }
        gemm(S, Dv, Kt, CHUNK, Vp, Dv, Dk, Dv, n, 1, fma);
    }
}

/* One value head, all T tokens: the chunked form for T >= CHUNK_MIN_T, else the token loop. */
INLINE void delta_head(float *o, size_t ldo, float *S, const float *q, const float *k, const float *v, size_t ld_qk,
                       size_t ld_v, const float *g, const float *beta, size_t ldg, int T, int Dk, int Dv, float *w,
                       int fma) {
    if (T >= CHUNK_MIN_T) delta_head_chunked(o, ldo, S, q, k, v, ld_qk, ld_v, g, beta, ldg, T, Dk, Dv, w, fma);
    else delta_head_steps(o, ldo, S, q, k, v, ld_qk, ld_v, g, beta, ldg, T, Dk, Dv, w, fma);
}

typedef void delta_head_fn(float *, size_t, float *, const float *, const float *, const float *, size_t, size_t,
                           const float *, const float *, size_t, int, int, int, float *);

static void delta_head_portable(float *o, size_t ldo, float *S, const float *q, const float *k, const float *v,
                                size_t ld_qk, size_t ld_v, const float *g, const float *beta, size_t ldg, int T, int Dk,
                                int Dv, float *w) {
    delta_head(o, ldo, S, q, k, v, ld_qk, ld_v, g, beta, ldg, T, Dk, Dv, w, 0);
}
#ifdef HAVE_X86_CLONES
TARGET_AVX2 static void delta_head_avx2(float *o, size_t ldo, float *S, const float *q, const float *k,
                                        const float *v, size_t ld_qk, size_t ld_v, const float *g, const float *beta,
                                        size_t ldg, int T, int Dk, int Dv, float *w) {
    delta_head(o, ldo, S, q, k, v, ld_qk, ld_v, g, beta, ldg, T, Dk, Dv, w, 1);
}
TARGET_AVX512 static void delta_head_avx512(float *o, size_t ldo, float *S, const float *q, const float *k,
                                            const float *v, size_t ld_qk, size_t ld_v, const float *g,
                                            const float *beta, size_t ldg, int T, int Dk, int Dv, float *w) {
    delta_head(o, ldo, S, q, k, v, ld_qk, ld_v, g, beta, ldg, T, Dk, Dv, w, 1);
}
#endif

static delta_head_fn *delta_head_kernel(void) {
#ifdef HAVE_X86_CLONES
    int lvl = isa_level();
    if (lvl == 2) return delta_head_avx512;
    if (lvl == 1) return delta_head_avx2;
#endif
    return delta_head_portable;
}

/* o [T,Hv,Dv]; S [Hv,Dk,Dv]; q,k rows of stride ld_qk; v rows of stride ld_v; g, beta [T,Hv].
 * One value head per task (heads are independent), each thread on its own slice of scratch. */
static void fast_delta_rule(float *o, float *S, const float *q, const float *k, const float *v, int ld_qk, int ld_v,
                            const float *g, const float *beta, int T, int Hk, int Hv, int Dk, int Dv, float *scratch) {
    delta_head_fn *fn = delta_head_kernel();
    int rep = Hv / Hk;
    size_t per = delta_thread_floats(Dk, Dv);
#pragma omp parallel for schedule(static) num_threads(q35_get_threads())
    for (int h = 0; h < Hv; h++) {
        int kh = h / rep;
        fn(o + (size_t)h * Dv, (size_t)Hv * Dv, S + (size_t)h * Dk * Dv, q + (size_t)kh * Dk, k + (size_t)kh * Dk,
           v + (size_t)h * Dv, (size_t)ld_qk, (size_t)ld_v, g + h, beta + h, (size_t)Hv, T, Dk, Dv,
           scratch + per * (size_t)thread_id());
    }
}

static size_t fast_delta_scratch(int Dk, int Dv) { return delta_thread_floats(Dk, Dv) * (size_t)q35_get_threads(); }

/* ------------------------------------------------------------------------------------------ */
/* Attention (flash style: online softmax over key tiles)                                      */

/* Rows (query vectors) per work item and keys per tile. Items of at most DOT_ROWS rows (decode)
 * score a key by dot products; larger ones score a key tile as a product with Q^T. */
enum { ROWS = 64, KTILE = 64, DOT_ROWS = 8 };

static size_t attn_thread_floats(int D) {
    /* Q or Q^T [ROWS*D], O [ROWS][D], scores [KTILE][ROWS] */
    return 2 * (size_t)ROWS * D + (size_t)KTILE * ROWS;
}

/* Softmax attention for R <= ROWS query rows over one head's keys: row r is qrow[r], sees keys
 * 0..lim[r]-1 (lim[r] >= 1; key j at K + j*ks, value j at V + j*ks) and writes orow[r]. Scores
 * are kept key-major (Sc[jj][r]) so the online softmax runs across rows in SIMD; each row's
 * max, sum and output are updated tile by tile in key order, tiles at multiples of KTILE.
 * w: attn_thread_floats(D) floats. */
INLINE void attn_rows(float *const *orow, const float *const *qrow, const int *lim, int R, const float *K,
                      const float *V, size_t ks, int D, float scale, float *w, int fma) {
    float *Q = w, *Ob = Q + (size_t)ROWS * D, *Sc = Ob + (size_t)ROWS * D;
    /* per row: running max and sum, the tile's max and correction, the keys visible (on the
     * stack, so the compiler sees they do not alias the scores and vectorises across rows) */
    float mx[ROWS], sum[ROWS], mt[ROWS], corr[ROWS];
    int vis[ROWS], dot = R <= DOT_ROWS, nkeys = 0;
    for (int r = 0; r < R; r++) {
        for (int i = 0; i < D; i++) {
            if (dot) Q[(size_t)r * D + i] = qrow[r][i];
            else Q[(size_t)i * ROWS + r] = qrow[r][i];
            Ob[(size_t)r * D + i] = 0.0f;
        }
        mx[r] = -INFINITY, sum[r] = 0.0f, vis[r] = lim[r];
        if (lim[r] > nkeys) nkeys = lim[r];
    }
    for (int j0 = 0; j0 < nkeys; j0 += KTILE) {
        int nk = nkeys - j0 < KTILE ? nkeys - j0 : KTILE;
        if (dot)
            for (int jj = 0; jj < nk; jj++) dots(Sc + jj * ROWS, 1, Q, R, K + (j0 + jj) * ks, D, fma);
        else
            gemm(Sc, ROWS, K + j0 * ks, ks, Q, ROWS, nk, R, D, 0, fma);
        /* key j0+jj is visible to row r iff j0+jj < lim[r]; the first tile has key 0 for all */
        for (int r = 0; r < R; r++) mt[r] = mx[r];
        for (int jj = 0; jj < nk; jj++)
            for (int r = 0; r < R; r++) {
                float v = Sc[jj * ROWS + r] * scale;
                Sc[jj * ROWS + r] = v;
                mt[r] = j0 + jj < vis[r] && v > mt[r] ? v : mt[r];
            }
        for (int r = 0; r < R; r++) {
            corr[r] = exp_neg(mx[r] - mt[r], fma); /* 0 on the first tile (mx = -inf) */
            mx[r] = mt[r];
            sum[r] *= corr[r];
        }
        for (int jj = 0; jj < nk; jj++)
            for (int r = 0; r < R; r++) {
                float p = j0 + jj < vis[r] ? exp_neg(Sc[jj * ROWS + r] - mx[r], fma) : 0.0f;
                Sc[jj * ROWS + r] = p;
                sum[r] += p;
            }
        for (int r = 0; r < R; r++)
            if (corr[r] != 1.0f)
                for (int i = 0; i < D; i++) Ob[(size_t)r * D + i] *= corr[r];
        gemm_(Ob, D, Sc, 1, ROWS, V + j0 * ks, ks, R, D, nk, 1, 0, fma); /* O += P V, P[r,jj] = Sc[jj][r] */
    }
    for (int r = 0; r < R; r++) {
        float inv = 1.0f / sum[r];
        for (int i = 0; i < D; i++) orow[r][i] = Ob[(size_t)r * D + i] * inv;
    }
}

typedef void attn_rows_fn(float *const *, const float *const *, const int *, int, const float *, const float *, size_t,
                          int, float, float *);

static void attn_rows_portable(float *const *orow, const float *const *qrow, const int *lim, int R, const float *K,
                               const float *V, size_t ks, int D, float scale, float *w) {
    attn_rows(orow, qrow, lim, R, K, V, ks, D, scale, w, 0);
}
#ifdef HAVE_X86_CLONES
TARGET_AVX2 static void attn_rows_avx2(float *const *orow, const float *const *qrow, const int *lim, int R,
                                       const float *K, const float *V, size_t ks, int D, float scale, float *w) {
    attn_rows(orow, qrow, lim, R, K, V, ks, D, scale, w, 1);
}
TARGET_AVX512 static void attn_rows_avx512(float *const *orow, const float *const *qrow, const int *lim, int R,
                                           const float *K, const float *V, size_t ks, int D, float scale, float *w) {
    attn_rows(orow, qrow, lim, R, K, V, ks, D, scale, w, 1);
}
#endif

static attn_rows_fn *attn_rows_kernel(void) {
#ifdef HAVE_X86_CLONES
    int lvl = isa_level();
    if (lvl == 2) return attn_rows_avx512;
    if (lvl == 1) return attn_rows_avx2;
#endif
    return attn_rows_portable;
}

/* o [T,Hq,D]; q [T,Hq,D] rows of stride ld_q; K, V [Hkv,cap,D].
 * A work item is one kv head, up to ROWS of the query heads that share it and a block of tokens:
 * the group's heads read each key tile once. Items are fixed by the sizes, never by the threads. */
static void fast_attention(float *o, const float *q, int ld_q, const float *K, const float *V, int cap, int n_past,
                           int T, int Hq, int Hkv, int D, float scale, float *scratch) {
    attn_rows_fn *fn = attn_rows_kernel();
    int group = Hq / Hkv;
    int hb = group < ROWS ? group : ROWS, nhb = (group + hb - 1) / hb;
    int tb = ROWS / hb, ntb = (T + tb - 1) / tb;
    int items = Hkv * nhb * ntb;
    size_t per = attn_thread_floats(D);
#pragma omp parallel for schedule(dynamic, 1) num_threads(q35_get_threads())
    for (int it = 0; it < items; it++) {
        int kv = it / (nhb * ntb), h0 = kv * group + (it / ntb % nhb) * hb, t0 = it % ntb * tb;
        int nh = kv * group + group - h0 < hb ? kv * group + group - h0 : hb, nt = T - t0 < tb ? T - t0 : tb;
        float *orow[ROWS];
        const float *qrow[ROWS];
        int lim[ROWS], R = 0;
        for (int t = t0; t < t0 + nt; t++)
            for (int h = h0; h < h0 + nh; h++, R++) {
                orow[R] = o + ((size_t)t * Hq + h) * D;
                qrow[R] = q + (size_t)t * ld_q + (size_t)h * D;
                lim[R] = n_past + t + 1; /* causal */
            }
        fn(orow, qrow, lim, R, K + (size_t)kv * cap * D, V + (size_t)kv * cap * D, (size_t)D, D, scale,
           scratch + per * (size_t)thread_id());
    }
}

/* o [T,H,D]; q, k, v [T,H,D]. A work item is one head and a block of ROWS tokens. */
static void fast_attention_full(float *o, const float *q, const float *k, const float *v, int T, int H, int D,
                                float scale, float *scratch) {
    attn_rows_fn *fn = attn_rows_kernel();
    int ntb = (T + ROWS - 1) / ROWS, items = H * ntb;
    size_t per = attn_thread_floats(D);
#pragma omp parallel for schedule(dynamic, 1) num_threads(q35_get_threads())
    for (int it = 0; it < items; it++) {
        int h = it / ntb, t0 = it % ntb * ROWS, R = T - t0 < ROWS ? T - t0 : ROWS;
        float *orow[ROWS];
        const float *qrow[ROWS];
        int lim[ROWS];
        for (int r = 0; r < R; r++) {
            orow[r] = o + ((size_t)(t0 + r) * H + h) * D;
            qrow[r] = q + ((size_t)(t0 + r) * H + h) * D;
            lim[r] = T;
        }
        fn(orow, qrow, lim, R, k + (size_t)h * D, v + (size_t)h * D, (size_t)H * D, D, scale,
           scratch + per * (size_t)thread_id());
    }
}

static size_t fast_attn_scratch(int n_keys, int D) {
    (void)n_keys; /* key tiles are fixed in size */
    return attn_thread_floats(D) * (size_t)q35_get_threads();
}

/* ------------------------------------------------------------------------------------------ */
/* Norms                                                                                       */

/* y[r,:] = x[r,:] / sqrt(mean(x[r,:]^2) + eps) * (1 + w); rows at r*ld. In place allowed. */
static void fast_rmsnorm(float *y, const float *x, const q35_tensor *w, int R, int n, int ld, float eps) {
#pragma omp parallel for schedule(static) num_threads(q35_get_threads()) if ((size_t)R * n > PAR_MIN)
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * ld;
        float *yr = y + (size_t)r * ld;
        float inv = 1.0f / sqrtf(sum_sq(xr, n) / (float)n + eps);
        float wb[WCHUNK];
        for (int i0 = 0; i0 < n; i0 += WCHUNK) {
            int m = n - i0 < WCHUNK ? n - i0 : WCHUNK;
            q35_read_f32(wb, w, i0, m);
            for (int i = 0; i < m; i++) yr[i0 + i] = (xr[i0 + i] * inv) * (1.0f + wb[i]);
        }
    }
}

/* x[t*ld + h*n + i] *= scale / sqrt(sum_i x^2 + eps), in place. */
static void fast_l2norm(float *x, int T, int nh, int n, int ld, float eps, float scale) {
#pragma omp parallel for schedule(static) num_threads(q35_get_threads()) if ((size_t)T * nh * n > PAR_MIN)
    for (int r = 0; r < T * nh; r++) {
        float *xr = x + (size_t)(r / nh) * ld + (size_t)(r % nh) * n;
        float inv = 1.0f / sqrtf(sum_sq(xr, n) + eps);
        for (int i = 0; i < n; i++) xr[i] = (xr[i] * inv) * scale;
    }
}

/* y[r,:] = x[r,:] / sqrt(mean(x^2) + eps) * w * silu(z[r,:]); x,z,y [R,n]. */
static void fast_gated_rmsnorm(float *y, const float *x, const float *z, const q35_tensor *w, int R, int n, float eps) {
#pragma omp parallel for schedule(static) num_threads(q35_get_threads()) if ((size_t)R * n > PAR_MIN / 8)
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * n, *zr = z + (size_t)r * n;
        float *yr = y + (size_t)r * n;
        float inv = 1.0f / sqrtf(sum_sq(xr, n) / (float)n + eps);
        float wb[WCHUNK];
        for (int i0 = 0; i0 < n; i0 += WCHUNK) {
            int m = n - i0 < WCHUNK ? n - i0 : WCHUNK;
            q35_read_f32(wb, w, i0, m);
            for (int i = 0; i < m; i++)
                yr[i0 + i] = (wb[i] * (xr[i0 + i] * inv)) * (zr[i0 + i] * sigmoidf_(zr[i0 + i]));
        }
    }
}

/* y = (x - mean) / sqrt(var + eps) * w + b per row of n; x,y [R,n]. In place allowed. */
static void fast_layernorm(float *y, const float *x, const q35_tensor *w, const q35_tensor *b, int R, int n,
                           float eps) {
#pragma omp parallel for schedule(static) num_threads(q35_get_threads()) if ((size_t)R * n > PAR_MIN)
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * n;
        float *yr = y + (size_t)r * n;
        float mean = sum_(xr, n) / (float)n;
        float var = sum_sq_dev(xr, mean, n) / (float)n;
        float inv = 1.0f / sqrtf(var + eps);
        float wb[WCHUNK], bb[WCHUNK];
        for (int i0 = 0; i0 < n; i0 += WCHUNK) {
            int m = n - i0 < WCHUNK ? n - i0 : WCHUNK;
            q35_read_f32(wb, w, i0, m);
            q35_read_f32(bb, b, i0, m);
            for (int i = 0; i < m; i++) yr[i0 + i] = ((xr[i0 + i] - mean) * inv) * wb[i] + bb[i];
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Per-token and elementwise ops (no reductions: the same bits as the reference)               */

/* y[T,H] = E[ids[t], :] */
static void fast_embed(float *y, const q35_tensor *E, const int *ids, int T, int H) {
#pragma omp parallel for schedule(static) num_threads(q35_get_threads()) if ((size_t)T * H > PAR_MIN)
    for (int t = 0; t < T; t++) q35_read_f32(y + (size_t)t * H, E, (int64_t)ids[t] * H, H);
}

/* Channels per block of conv1d: the block's taps and history stay in registers across tokens. */
enum { CONV_BLOCK = 64 };

/* y[t,c] = sum_j w[c,j] xx[c,t+1+j] where xx[c,:] = window[c,:] then x[:,c]; window <- last K of xx.
 * Blocks of channels in parallel; within a block the channel loop vectorises. */
static void fast_conv1d(float *y, float *window, const float *x, const q35_tensor *w, int T, int C, int K) {
    int nb = (C + CONV_BLOCK - 1) / CONV_BLOCK;
#pragma omp parallel for schedule(static) num_threads(q35_get_threads()) if ((size_t)T * C > PAR_MIN / 4)
    for (int b = 0; b < nb; b++) {
        int c0 = b * CONV_BLOCK, nc = C - c0 < CONV_BLOCK ? C - c0 : CONV_BLOCK;
        float wt[K][CONV_BLOCK], hist[K][CONV_BLOCK], row[K]; /* taps and history, channel-minor */
        for (int c = 0; c < nc; c++) {
            q35_read_f32(row, w, (int64_t)(c0 + c) * K, K);
            for (int j = 0; j < K; j++) wt[j][c] = row[j], hist[j][c] = window[(size_t)(c0 + c) * K + j];
        }
        for (int t = 0; t < T; t++) {
            const float *xt = x + (size_t)t * C + c0;
            for (int j = 0; j + 1 < K; j++) /* slide the history: the oldest input leaves */
                for (int c = 0; c < nc; c++) hist[j][c] = hist[j + 1][c];
            for (int c = 0; c < nc; c++) hist[K - 1][c] = xt[c];
            float *yt = y + (size_t)t * C + c0;
            for (int c = 0; c < nc; c++) {
                float acc = 0.0f;
                for (int j = 0; j < K; j++) acc += wt[j][c] * hist[j][c];
                yt[c] = acc;
            }
        }
        for (int c = 0; c < nc; c++)
            for (int j = 0; j < K; j++) window[(size_t)(c0 + c) * K + j] = hist[j][c];
    }
}

/* g[t,h] = -exp(A_log[h]) softplus(a + dt_bias[h]); beta = sigmoid(b). a,b,g,beta [T,Hv]. */
static void fast_gdn_gates(float *g, float *beta, const float *a, const float *b, const q35_tensor *A_log,
                           const q35_tensor *dt_bias, int T, int Hv) {
#pragma omp parallel for schedule(static) num_threads(q35_get_threads()) if ((size_t)T * Hv > PAR_MIN / 8)
    for (int t = 0; t < T; t++)
        for (int h = 0; h < Hv; h++) {
            size_t i = (size_t)t * Hv + h;
            float A = expf(q35_get_f32(A_log, h)), u = a[i] + q35_get_f32(dt_bias, h);
            g[i] = -A * (u > 20.0f ? u : log1pf(expf(u)));
            beta[i] = sigmoidf_(b[i]);
        }
}

/* x[t*ld + h*D + i], i < R: rotate-half pairs (i, i + R/2) by cos/sin [T,R]. In place. */
static void fast_rope(float *x, const float *cos, const float *sin, int T, int nh, int D, int ld, int R) {
    int half = R / 2;
#pragma omp parallel for schedule(static) num_threads(q35_get_threads()) if ((size_t)T * nh * R > PAR_MIN)
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

/* y[r*ldy + i] = x[r*ldx + i] */
static void fast_copy_rows(float *y, int ldy, const float *x, int ldx, int R, int n) {
#pragma omp parallel for schedule(static) num_threads(q35_get_threads()) if ((size_t)R * n > 4 * PAR_MIN)
    for (int r = 0; r < R; r++) memcpy(y + (size_t)r * ldy, x + (size_t)r * ldx, (size_t)n * sizeof(float));
}

/* The sigmoid-gated elementwise ops on n, one vectorised loop per ISA: sigmoid(g) from exp_neg of
 * -|g| (never overflows: 1/(1+e) for g >= 0, e/(1+e) below), within 2 ulp of libm's. Threads
 * above PAR_MIN/8 elements. */
enum { SIG_SILU, SIG_MUL, SIG_SWIGLU };

/* SIG_SILU: y = x sigmoid(x); SIG_MUL: y = x sigmoid(g); SIG_SWIGLU: y = g sigmoid(g) u. */
INLINE void sig_loop(float *y, const float *x, const float *g, const float *u, int n, int mode, int fma) {
    for (int i = 0; i < n; i++) {
        float gi = mode == SIG_SILU ? x[i] : g[i];
        float e = exp_neg(-fabsf(gi), fma);
        float sg = (gi >= 0.0f ? 1.0f : e) / (1.0f + e);
        y[i] = mode == SIG_SILU ? x[i] * sg : mode == SIG_MUL ? x[i] * sg : (gi * sg) * u[i];
    }
}

typedef void sig_fn(float *y, const float *x, const float *g, const float *u, int n, int mode);
static void sig_portable(float *y, const float *x, const float *g, const float *u, int n, int mode) {
    if (mode == SIG_SILU) sig_loop(y, x, g, u, n, SIG_SILU, 0);
    else if (mode == SIG_MUL) sig_loop(y, x, g, u, n, SIG_MUL, 0);
    else sig_loop(y, x, g, u, n, SIG_SWIGLU, 0);
}
#ifdef HAVE_X86_CLONES
TARGET_AVX2 static void sig_avx2(float *y, const float *x, const float *g, const float *u, int n, int mode) {
    if (mode == SIG_SILU) sig_loop(y, x, g, u, n, SIG_SILU, 1);
    else if (mode == SIG_MUL) sig_loop(y, x, g, u, n, SIG_MUL, 1);
    else sig_loop(y, x, g, u, n, SIG_SWIGLU, 1);
}
TARGET_AVX512 static void sig_avx512(float *y, const float *x, const float *g, const float *u, int n, int mode) {
    if (mode == SIG_SILU) sig_loop(y, x, g, u, n, SIG_SILU, 1);
    else if (mode == SIG_MUL) sig_loop(y, x, g, u, n, SIG_MUL, 1);
    else sig_loop(y, x, g, u, n, SIG_SWIGLU, 1);
}
#endif

/* Runs the ISA's loop over n elements, in blocks across threads (each element alone: same bits). */
static void sig_run(float *y, const float *x, const float *g, const float *u, int n, int mode) {
    sig_fn *fn = sig_portable;
#ifdef HAVE_X86_CLONES
    int lvl = isa_level();
    fn = lvl == 2 ? sig_avx512 : lvl == 1 ? sig_avx2 : sig_portable;
#endif
    enum { BLK = 4096 };
    int nb = (n + BLK - 1) / BLK;
#pragma omp parallel for schedule(static) num_threads(q35_get_threads()) if (n > PAR_MIN / 8)
    for (int b = 0; b < nb; b++) {
        size_t o = (size_t)b * BLK;
        int m = n - (int)o < BLK ? n - (int)o : BLK;
        fn(y + o, x ? x + o : NULL, g ? g + o : NULL, u ? u + o : NULL, m, mode);
    }
}

static void fast_silu(float *y, const float *x, int n) { sig_run(y, x, NULL, NULL, n, SIG_SILU); }

static void fast_sigmoid_mul(float *y, const float *x, const float *gate, int n) {
    sig_run(y, x, gate, NULL, n, SIG_MUL);
}

static void fast_swiglu(float *y, const float *gate, const float *up, int n) {
    sig_run(y, NULL, gate, up, n, SIG_SWIGLU);
}

static void fast_add(float *y, const float *a, const float *b, int n) {
#pragma omp parallel for schedule(static) num_threads(q35_get_threads()) if (n > 4 * PAR_MIN)
    for (int i = 0; i < n; i++) y[i] = a[i] + b[i];
}

/* y[t,i] += b[i]; y [T,n] */
static void fast_bias_add(float *y, const q35_tensor *b, int T, int n) {
#pragma omp parallel for schedule(static) num_threads(q35_get_threads()) if ((size_t)T * n > 4 * PAR_MIN)
    for (int t = 0; t < T; t++) {
        float bb[WCHUNK];
        for (int i0 = 0; i0 < n; i0 += WCHUNK) {
            int m = n - i0 < WCHUNK ? n - i0 : WCHUNK;
            q35_read_f32(bb, b, i0, m);
            float *yt = y + (size_t)t * n + i0;
            for (int i = 0; i < m; i++) yt[i] += bb[i];
        }
    }
}

static void fast_gelu_tanh(float *y, const float *x, int n) {
    const float k = 0.7978845608028654f; /* sqrt(2/pi) */
#pragma omp parallel for schedule(static) num_threads(q35_get_threads()) if (n > PAR_MIN / 8)
    for (int i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + tanhf(k * (x[i] + 0.044715f * x[i] * x[i] * x[i])));
}

static void fast_gelu_erf(float *y, const float *x, int n) {
#pragma omp parallel for schedule(static) num_threads(q35_get_threads()) if (n > PAR_MIN / 8)
    for (int i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.7071067811865476f));
}

/* Every op but the matrix product and the kernels' name: the two fast tables share them. */
#define FAST_OPS_COMMON \
    .embed = fast_embed, \
    .rmsnorm = fast_rmsnorm, \
    .conv1d = fast_conv1d, \
    .silu = fast_silu, \
    .l2norm = fast_l2norm, \
    .gdn_gates = fast_gdn_gates, \
    .delta_rule = fast_delta_rule, \
    .delta_scratch = fast_delta_scratch, \
    .gated_rmsnorm = fast_gated_rmsnorm, \
    .rope = fast_rope, \
    .attention = fast_attention, \
    .attn_scratch = fast_attn_scratch, \
    .copy_rows = fast_copy_rows, \
    .sigmoid_mul = fast_sigmoid_mul, \
    .swiglu = fast_swiglu, \
    .add = fast_add, \
    .layernorm = fast_layernorm, \
    .bias_add = fast_bias_add, \
    .gelu_tanh = fast_gelu_tanh, \
    .gelu_erf = fast_gelu_erf, \
    .attention_full = fast_attention_full,

const q35_ops q35_ops_fast = {
    .name = "fast",
    .kernels = q35_fast_kernels,
    .linear = q35_fast_linear,
    FAST_OPS_COMMON
};

/* Opt-in: the same ops with the matrix products of bf16 weights taking x rounded to bf16
 * (vdpbf16ps where the CPU has it): llama.cpp's precision, not the goldens'. */
const q35_ops q35_ops_fast_bf16 = {
    .name = "fast-bf16",
    .kernels = q35_fast_bf16x_kernels,
    .linear = q35_fast_linear_bf16x,
    FAST_OPS_COMMON
};
