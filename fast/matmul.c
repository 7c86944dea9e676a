/* matmul.c - y[T,out] = x[T,in] W^T for the fast backend: SIMD dot-product tiles chosen at run time.
 *
 * Every output is a dot product of two contiguous rows (x[t,:] and W[o,:]), so the kernels work in
 * "dot form": a tile of MR tokens x NR weight rows keeps MR*NR vector accumulators, each weight
 * vector is widened to f32 once in registers and reused by the MR tokens, and the whole of `in` is
 * reduced before the tile is stored. The weights are read straight from their tensor.
 *
 * The reduction order of one element is fixed by `in` and the kernel family alone: lane j of a
 * V-lane accumulator takes k = j, j+V, j+2V, ... in increasing k, one fused multiply-add each (the
 * last, partial vector zero-padded), and the lanes are summed by the halving tree (lane i + lane
 * i+V/2, ...). Tiles at the edges run the same code on duplicated rows (results dropped), threads
 * only decide which tiles they compute, so y is the same bits for any thread count, any T and any
 * position in a tile: decode (T = 1) and prefill agree bit for bit. */
#include "matmul.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu.h"
#include "ops.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* The most tokens and rows any family's tile takes. */
#define MR_MAX 8
#define NR_MAX 8

/* One tile: yr[r][t*ldy] = dot(x + t*ldx, wr[r]) for tokens t < mr (fixed per function) and rows
 * r < nr, every vector `in` long. wr has the family's nr entries: those past nr repeat a valid row
 * (computed, not stored), so every tile runs the same code. */
typedef void (*tile_fn)(float *const *yr, size_t ldy, const void *x, size_t ldx, const char *const *wr,
                        int nr, int in);

/* A kernel family: its tile shape for prefill (mr tokens x nr rows) and its tiles by dtype (F32,
 * BF16, F16) and token count - 1; and for decode (one token) a tile of nr1 rows: more weight
 * streams at once, where nothing is reused. Every tile reduces an output the same way. x_bf16:
 * the tiles take x rounded to bf16 (a uint16_t row per token, converted a token tile at a time)
 * instead of float rows. */
typedef struct {
    int mr, nr;
    tile_fn tile[3][MR_MAX];
    int nr1;
    tile_fn tile1[3];
    int x_bf16;
} family;

/* ---- portable C: 16 lanes, the same order as AVX-512 (without FMA unless the compiler fuses) ---- */

#define P_LANES 16
#define P_MR 4
#define P_NR 1
#define P_CHUNK 256 /* weights converted to f32 at a time, reused by the tile's tokens */

/* The halving-tree sum of 16 lanes (the order every family uses, over its own lane count). */
static float hsum16(const float *a) {
    float s8[8], s4[4];
    for (int i = 0; i < 8; i++) s8[i] = a[i] + a[i + 8];
    for (int i = 0; i < 4; i++) s4[i] = s8[i] + s8[i + 4];
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

/* Widens w[0..n) of dtype dt to f32. */
static void widen_portable(float *dst, const char *w, int dt, int n) {
    if (dt == Q35_F32) {
        memcpy(dst, w, (size_t)n * sizeof(float));
        return;
    }
    const uint16_t *h = (const uint16_t *)(const void *)w;
    for (int i = 0; i < n; i++) dst[i] = dt == Q35_BF16 ? q35_bf16_to_f32(h[i]) : q35_f16_to_f32(h[i]);
}

/* A portable tile of mr tokens x 1 row (nr is 1: the driver steps rows one by one). */
static inline void tile_portable(float *y, size_t ldy, const float *x, size_t ldx, const char *w, int dt,
                                 int mr, int in) {
    float acc[P_MR][P_LANES] = { { 0 } };
    float wf[P_CHUNK];
    for (int k0 = 0; k0 < in; k0 += P_CHUNK) {
        int n = in - k0 < P_CHUNK ? in - k0 : P_CHUNK;
        widen_portable(wf, w + (size_t)k0 * (dt == Q35_F32 ? 4 : 2), dt, n);
        for (int t = 0; t < mr; t++) {
            const float *xt = x + (size_t)t * ldx + k0;
            int i = 0;
            for (; i + P_LANES <= n; i += P_LANES) /* whole lane groups: the compiler vectorises */
                for (int j = 0; j < P_LANES; j++) acc[t][j] += xt[i + j] * wf[i + j];
            for (; i < n; i++) acc[t][i % P_LANES] += xt[i] * wf[i];
        }
    }
    for (int t = 0; t < mr; t++) y[(size_t)t * ldy] = hsum16(acc[t]);
}

#define P_TILE(name, dt, mr)                                                                          \
    static void name(float *const *yr, size_t ldy, const void *x, size_t ldx, const char *const *wr,   \
                     int nr, int in) {                                                                 \
        (void)nr;                                                                                      \
        tile_portable(yr[0], ldy, (const float *)x, ldx, wr[0], dt, mr, in);                           \
    }
P_TILE(p_f32_1, Q35_F32, 1) P_TILE(p_f32_2, Q35_F32, 2) P_TILE(p_f32_3, Q35_F32, 3) P_TILE(p_f32_4, Q35_F32, 4)
P_TILE(p_bf16_1, Q35_BF16, 1) P_TILE(p_bf16_2, Q35_BF16, 2) P_TILE(p_bf16_3, Q35_BF16, 3) P_TILE(p_bf16_4, Q35_BF16, 4)
P_TILE(p_f16_1, Q35_F16, 1) P_TILE(p_f16_2, Q35_F16, 2) P_TILE(p_f16_3, Q35_F16, 3) P_TILE(p_f16_4, Q35_F16, 4)

static const family fam_portable = {
    P_MR, P_NR,
    { { p_f32_1, p_f32_2, p_f32_3, p_f32_4 },
      { p_bf16_1, p_bf16_2, p_bf16_3, p_bf16_4 },
      { p_f16_1, p_f16_2, p_f16_3, p_f16_4 } },
    P_NR, { p_f32_1, p_bf16_1, p_f16_1 },
    0,
};

#if defined(__x86_64__)

/* ---- AVX-512: 16 lanes, tiles of 4 tokens x 6 rows (24 accumulators + 4 x vectors + 1 weight) ----
 *
 * bf16 weights are widened in registers (zero-extend, shift) and multiplied in FP32 with FMA, not
 * with vdpbf16ps: to keep the activations' precision that instruction needs x split into two bf16
 * halves (hi + lo), i.e. two vdpbf16ps per 32 weights and token - as many instructions as the two
 * FMAs here, at the same rate on Zen 4 (BF16 peak measured at twice the FP32 FMA peak in flops) -
 * and it would still lose 8 bits of x. The widening is shared by the tile's 4 tokens; measured,
 * these tiles run prefill at 85-90% of the FP32 FMA peak per core (CPU time), so nothing is left
 * for the split to win. zmm beats the 8-lane AVX2 tiles here (~97 vs ~78 GFLOP/s per core). */

#define TGT512 __attribute__((target("avx512f,avx512bw,avx512vl")))
#define Z_MR 6  /* prefill: 6 tokens x 4 rows, 24 accumulators; 6 x vectors + 1 weight: 31 of 32 registers */
#define Z_NR 4
#define Z_NR1 6 /* decode: 1 token x 6 rows (6 weight streams) */

/* 16 weights from element k of row w, widened to f32 (bf16: zero-extend and shift by 16). */
static inline __attribute__((always_inline)) TGT512 __m512 w16(const char *w, int dt, int k) {
    if (dt == Q35_F32) return _mm512_loadu_ps((const float *)(const void *)w + k);
    __m256i h = _mm256_loadu_si256((const __m256i *)(const void *)((const uint16_t *)(const void *)w + k));
    if (dt == Q35_BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    return _mm512_cvtph_ps(h);
}

/* The same for the lanes in m only, the others 0. */
static inline __attribute__((always_inline)) TGT512 __m512 w16_mask(const char *w, int dt, int k, __mmask16 m) {
    if (dt == Q35_F32) return _mm512_maskz_loadu_ps(m, (const float *)(const void *)w + k);
    __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)(const void *)w + k);
    if (dt == Q35_BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    return _mm512_cvtph_ps(h);
}

/* The halving-tree sum of 16 lanes: 8 + 8, 4 + 4, 2 + 2, 1 + 1 (as hsum16). */
static inline __attribute__((always_inline)) TGT512 float hsum512(__m512 v) {
    __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));
    b = _mm_add_ss(b, _mm_movehdup_ps(b));
    return _mm_cvtss_f32(b);
}

/* A tile of mr (compile-time) tokens x Z_NR rows; rows past nr repeat the last valid row. */
static inline __attribute__((always_inline)) TGT512 void tile512(float *const *yr, size_t ldy,
                                                                  const float *x, size_t ldx,
                                                                  const char *const *wr, int dt, int mr,
                                                                  int NR, int nr, int in) {
    const float *xt[Z_MR];
    for (int t = 0; t < mr; t++) xt[t] = x + (size_t)t * ldx;
    __m512 acc[Z_MR][Z_NR1];
    for (int t = 0; t < mr; t++)
        for (int r = 0; r < NR; r++) acc[t][r] = _mm512_setzero_ps();
    int k = 0;
    for (; k + 16 <= in; k += 16) {
        __m512 xv[Z_MR];
        for (int t = 0; t < mr; t++) xv[t] = _mm512_loadu_ps(xt[t] + k);
        for (int r = 0; r < NR; r++) {
            __m512 wv = w16(wr[r], dt, k);
            for (int t = 0; t < mr; t++) acc[t][r] = _mm512_fmadd_ps(wv, xv[t], acc[t][r]);
        }
    }
    if (k < in) {
        __mmask16 m = (__mmask16)((1u << (in - k)) - 1);
        __m512 xv[Z_MR];
        for (int t = 0; t < mr; t++) xv[t] = _mm512_maskz_loadu_ps(m, xt[t] + k);
        for (int r = 0; r < NR; r++) {
            __m512 wv = w16_mask(wr[r], dt, k, m);
            for (int t = 0; t < mr; t++) acc[t][r] = _mm512_fmadd_ps(wv, xv[t], acc[t][r]);
        }
    }
    for (int t = 0; t < mr; t++)
        for (int r = 0; r < nr && r < NR; r++) yr[r][(size_t)t * ldy] = hsum512(acc[t][r]);
}

#define Z_TILE(name, dt, mr, NR)                                                                      \
    static TGT512 void name(float *const *yr, size_t ldy, const void *x, size_t ldx,                 \
                            const char *const *wr, int nr, int in) {                                   \
        tile512(yr, ldy, (const float *)x, ldx, wr, dt, mr, NR, nr, in);                               \
    }
#define Z_TILES(p, dt)                                                                                \
    Z_TILE(p##_1, dt, 1, Z_NR) Z_TILE(p##_2, dt, 2, Z_NR) Z_TILE(p##_3, dt, 3, Z_NR)                   \
    Z_TILE(p##_4, dt, 4, Z_NR) Z_TILE(p##_5, dt, 5, Z_NR) Z_TILE(p##_6, dt, 6, Z_NR)                   \
    Z_TILE(p##_dec, dt, 1, Z_NR1)
Z_TILES(z_f32, Q35_F32)
Z_TILES(z_bf16, Q35_BF16)
Z_TILES(z_f16, Q35_F16)
#define Z_ROW(p) { p##_1, p##_2, p##_3, p##_4, p##_5, p##_6 }

static const family fam_avx512 = {
    Z_MR, Z_NR,
    { Z_ROW(z_f32), Z_ROW(z_bf16), Z_ROW(z_f16) },
    Z_NR1, { z_f32_dec, z_bf16_dec, z_f16_dec },
    0,
};

/* ---- AVX2 + FMA: 8 lanes, tiles of 3 tokens x 4 rows (12 accumulators in 16 registers) ---- */

#define TGT256 __attribute__((target("avx2,fma,f16c")))
#define Y_MR 3
#define Y_NR 4

/* 8 weights from element k of row w, widened to f32. */
static inline __attribute__((always_inline)) TGT256 __m256 w8(const char *w, int dt, int k) {
    if (dt == Q35_F32) return _mm256_loadu_ps((const float *)(const void *)w + k);
    __m128i h = _mm_loadu_si128((const __m128i *)(const void *)((const uint16_t *)(const void *)w + k));
    if (dt == Q35_BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    return _mm256_cvtph_ps(h);
}

/* The n < 8 weights from element k, zero-padded to 8 lanes (AVX2 has no 16-bit masked load). */
static inline __attribute__((always_inline)) TGT256 __m256 w8_tail(const char *w, int dt, int k, int n) {
    size_t es = dt == Q35_F32 ? 4 : 2;
    char buf[32] = { 0 };
    memcpy(buf, w + (size_t)k * es, (size_t)n * es);
    return w8(buf, dt, 0);
}

/* The halving-tree sum of 8 lanes: 4 + 4, 2 + 2, 1 + 1. */
static inline __attribute__((always_inline)) TGT256 float hsum256(__m256 v) {
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));
    b = _mm_add_ss(b, _mm_movehdup_ps(b));
    return _mm_cvtss_f32(b);
}

/* A tile of mr (compile-time) tokens x Y_NR rows; rows past nr repeat the last valid row. */
static inline __attribute__((always_inline)) TGT256 void tile256(float *const *yr, size_t ldy,
                                                                  const float *x, size_t ldx,
                                                                  const char *const *wr, int dt, int mr,
                                                                  int nr, int in) {
    const float *xt[Y_MR];
    for (int t = 0; t < mr; t++) xt[t] = x + (size_t)t * ldx;
    __m256 acc[Y_MR][Y_NR];
    for (int t = 0; t < mr; t++)
        for (int r = 0; r < Y_NR; r++) acc[t][r] = _mm256_setzero_ps();
    int k = 0;
    for (; k + 8 <= in; k += 8) {
        __m256 xv[Y_MR];
        for (int t = 0; t < mr; t++) xv[t] = _mm256_loadu_ps(xt[t] + k);
        for (int r = 0; r < Y_NR; r++) {
            __m256 wv = w8(wr[r], dt, k);
            for (int t = 0; t < mr; t++) acc[t][r] = _mm256_fmadd_ps(wv, xv[t], acc[t][r]);
        }
    }
    if (k < in) {
        int n = in - k;
        __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256 xv[Y_MR];
        for (int t = 0; t < mr; t++) xv[t] = _mm256_maskload_ps(xt[t] + k, m);
        for (int r = 0; r < Y_NR; r++) {
            __m256 wv = w8_tail(wr[r], dt, k, n);
            for (int t = 0; t < mr; t++) acc[t][r] = _mm256_fmadd_ps(wv, xv[t], acc[t][r]);
        }
    }
    for (int t = 0; t < mr; t++)
        for (int r = 0; r < nr; r++) yr[r][(size_t)t * ldy] = hsum256(acc[t][r]);
}

#define Y_TILE(name, dt, mr)                                                                          \
    static TGT256 void name(float *const *yr, size_t ldy, const void *x, size_t ldx,                 \
                            const char *const *wr, int nr, int in) {                                   \
        tile256(yr, ldy, (const float *)x, ldx, wr, dt, mr, nr, in);                                   \
    }
Y_TILE(y_f32_1, Q35_F32, 1) Y_TILE(y_f32_2, Q35_F32, 2) Y_TILE(y_f32_3, Q35_F32, 3)
Y_TILE(y_bf16_1, Q35_BF16, 1) Y_TILE(y_bf16_2, Q35_BF16, 2) Y_TILE(y_bf16_3, Q35_BF16, 3)
Y_TILE(y_f16_1, Q35_F16, 1) Y_TILE(y_f16_2, Q35_F16, 2) Y_TILE(y_f16_3, Q35_F16, 3)

static const family fam_avx2 = {
    Y_MR, Y_NR,
    { { y_f32_1, y_f32_2, y_f32_3 }, { y_bf16_1, y_bf16_2, y_bf16_3 }, { y_f16_1, y_f16_2, y_f16_3 } },
    Y_NR, { y_f32_1, y_bf16_1, y_f16_1 },
    0,
};


/* ---- AVX-512 BF16 (opt-in, q35_fast_linear_bf16x): x rounded to bf16, vdpbf16ps ----
 *
 * The product llama.cpp and most servers compute for bf16 weights: each activation rounded to the
 * nearest bf16 (8 significant bits), pairs of bf16 products (exact in FP32) accumulated in FP32 by
 * vdpbf16ps, 32 weights per instruction with no widening: twice the FP32 FMA rate on Zen 4. Lane j
 * of an accumulator takes the pairs (k, k+1) with k = 2j, 2j+32, ... in increasing k (the tail
 * zero-padded), lanes summed by the halving tree: fixed by `in` alone, as for the exact tiles. */

#define TGTBF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

/* 32 bf16 values from element k of row p (uint16_t), as the instruction's operand type. */
static inline __attribute__((always_inline)) TGTBF16 __m512bh bh32(const uint16_t *p, int k) {
    return (__m512bh)_mm512_loadu_si512((const void *)(p + k));
}

static inline __attribute__((always_inline)) TGTBF16 __m512bh bh32_mask(const uint16_t *p, int k, __mmask32 m) {
    return (__m512bh)_mm512_maskz_loadu_epi16(m, (const void *)(p + k));
}

/* A tile of mr (compile-time) tokens x NR rows of bf16 weights, x in bf16 rows of stride ldx. */
static inline __attribute__((always_inline)) TGTBF16 void tile_bf16dot(float *const *yr, size_t ldy,
                                                                        const uint16_t *x, size_t ldx,
                                                                        const char *const *wr, int mr, int NR,
                                                                        int nr, int in) {
    const uint16_t *xt[Z_MR], *w[Z_NR1];
    for (int t = 0; t < mr; t++) xt[t] = x + (size_t)t * ldx;
    for (int r = 0; r < NR; r++) w[r] = (const uint16_t *)(const void *)wr[r];
    __m512 acc[Z_MR][Z_NR1];
    for (int t = 0; t < mr; t++)
        for (int r = 0; r < NR; r++) acc[t][r] = _mm512_setzero_ps();
    int k = 0;
    for (; k + 32 <= in; k += 32) {
        __m512bh xv[Z_MR];
        for (int t = 0; t < mr; t++) xv[t] = bh32(xt[t], k);
        for (int r = 0; r < NR; r++) {
            __m512bh wv = bh32(w[r], k);
            for (int t = 0; t < mr; t++) acc[t][r] = _mm512_dpbf16_ps(acc[t][r], wv, xv[t]);
        }
    }
    if (k < in) {
        __mmask32 m = (__mmask32)((1ull << (in - k)) - 1);
        __m512bh xv[Z_MR];
        for (int t = 0; t < mr; t++) xv[t] = bh32_mask(xt[t], k, m);
        for (int r = 0; r < NR; r++) {
            __m512bh wv = bh32_mask(w[r], k, m);
            for (int t = 0; t < mr; t++) acc[t][r] = _mm512_dpbf16_ps(acc[t][r], wv, xv[t]);
        }
    }
    for (int t = 0; t < mr; t++)
        for (int r = 0; r < nr && r < NR; r++) yr[r][(size_t)t * ldy] = hsum512(acc[t][r]);
}

/* xb[t*in + k] = bf16(x[t*ldx + k]) rounded to nearest even, t < mr, k < in. */
static TGTBF16 void x_to_bf16_512(uint16_t *xb, const float *x, size_t ldx, int mr, int in) {
    for (int t = 0; t < mr; t++) {
        const float *xt = x + (size_t)t * ldx;
        uint16_t *bt = xb + (size_t)t * in;
        int k = 0;
        for (; k + 32 <= in; k += 32)
            _mm512_storeu_si512((void *)(bt + k),
                                (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(xt + k + 16), _mm512_loadu_ps(xt + k)));
        if (k < in) {
            int n = in - k;
            __mmask16 lo = (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1);
            __mmask16 hi = (__mmask16)(n > 16 ? (1u << (n - 16)) - 1 : 0);
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, xt + k + 16), _mm512_maskz_loadu_ps(lo, xt + k));
            _mm512_mask_storeu_epi16((void *)(bt + k), (__mmask32)((1ull << n) - 1), (__m512i)v);
        }
    }
}

#define B_TILE(name, mr, NR)                                                                          \
    static TGTBF16 void name(float *const *yr, size_t ldy, const void *x, size_t ldx,                \
                             const char *const *wr, int nr, int in) {                                  \
        tile_bf16dot(yr, ldy, (const uint16_t *)x, ldx, wr, mr, NR, nr, in);                           \
    }
B_TILE(b_1, 1, Z_NR) B_TILE(b_2, 2, Z_NR) B_TILE(b_3, 3, Z_NR) B_TILE(b_4, 4, Z_NR) B_TILE(b_5, 5, Z_NR)
B_TILE(b_6, 6, Z_NR) B_TILE(b_dec, 1, Z_NR1)

/* Only bf16 weights: the driver sends F32 and F16 to the exact families. */
static const family fam_bf16dot = {
    Z_MR, Z_NR,
    { { 0 }, { b_1, b_2, b_3, b_4, b_5, b_6 }, { 0 } },
    Z_NR1, { 0, b_dec, 0 },
    1,
};

#endif /* __x86_64__ */

/* The family q35_fast_kernels() names (q35_cpu() probes the CPU once, so this is cheap per call). */
static const family *pick_family(void) {
#if defined(__x86_64__)
    const char *k = q35_fast_kernels();
    if (strcmp(k, "avx512") == 0) return &fam_avx512;
    if (strcmp(k, "avx2-fma") == 0) return &fam_avx2;
#endif
    return &fam_portable;
}

/* Bytes of weight rows one thread keeps hot in L2 while every token tile passes over them. */
#define ROW_BLOCK_BYTES (256 * 1024)

/* The longest rows x_bf16 families take: a token tile of them is converted on the stack. */
#define XB_MAX_IN 16384

/* Converts mr rows of x (stride ldx) to bf16 rows of `in` in xb (the family's x_bf16 form). */
static void convert_x(const family *F, uint16_t *xb, const float *x, size_t ldx, int mr, int in) {
#if defined(__x86_64__)
    if (F == &fam_bf16dot) {
        x_to_bf16_512(xb, x, ldx, mr, in);
        return;
    }
#endif
    (void)F, (void)xb, (void)x, (void)ldx, (void)mr, (void)in;
}

/* Tokens [t0,t1) x rows [r0,r1) of y. The rows go in blocks (for T > mr: blocks that stay in L2
 * while every token tile passes over them; for T <= mr: all of them). A block is cut into the
 * family's nr contiguous parts, and tile j takes row j of each part: the nr weight streams each run
 * through a long contiguous stretch of memory, which the hardware prefetchers follow far better
 * than nr rows side by side (2x the bandwidth for a 1024-wide bf16 matrix-vector product). */
static void run_block(const family *F, int di, float *y, const float *x, const char *w, size_t ldw, int T,
                      int t0, int t1, int r0, int r1, int in, int out) {
    int rb = r1 - r0, NR = T == 1 ? F->nr1 : F->nr;
    tile_fn const *tiles = F->tile[di];
    uint16_t xb[F->x_bf16 ? MR_MAX * XB_MAX_IN : 1]; /* 256 KB of stack where used, 2 bytes elsewhere */
    if (t1 - t0 > F->mr) {
        rb = (int)(ROW_BLOCK_BYTES / ldw);
        if (rb < NR) rb = NR;
    }
    for (int b0 = r0; b0 < r1; b0 += rb) {
        int nb = b0 + rb < r1 ? rb : r1 - b0;
        int q = nb / NR, rem = nb % NR; /* parts of q + 1 rows, then of q */
        for (int t = t0; t < t1; t += F->mr) {
            int m = t1 - t < F->mr ? t1 - t : F->mr;
            const void *xt = x + (size_t)t * in;
            if (F->x_bf16) {
                convert_x(F, xb, x + (size_t)t * in, (size_t)in, m, in);
                xt = xb;
            }
            for (int j = 0; j < q + (rem > 0); j++) {
                int n = j < q ? NR : rem;
                float *yr[NR_MAX];
                const char *wr[NR_MAX];
                for (int i = 0; i < NR; i++) {
                    int part = i < n ? i : n - 1;
                    int row = b0 + part * q + (part < rem ? part : rem) + j;
                    yr[i] = y + (size_t)t * out + row;
                    wr[i] = w + (size_t)row * ldw;
                }
                tile_fn tile = T == 1 ? F->tile1[di] : tiles[m - 1];
                tile(yr, (size_t)out, xt, (size_t)in, wr, n, in);
            }
        }
    }
}

/* y = x W^T with family F (tiles for W's dtype present). */
static void linear_with(const family *F, float *y, const float *x, const q35_tensor *W, int T, int in, int out) {
    if (T <= 0 || out <= 0) return;
    if (in <= 0) {
        memset(y, 0, (size_t)T * (size_t)out * sizeof(float));
        return;
    }
    int di = W->dtype == Q35_F32 ? 0 : W->dtype == Q35_BF16 ? 1 : 2;
    size_t ldw = (size_t)in * (di == 0 ? 4 : 2);
    const char *w = (const char *)W->data;
    /* Work is split over rows (each thread streams its own contiguous rows) unless there are too
     * few to go round, then over tokens; either way no dot product is split. */
    int nth = q35_get_threads();
    if ((double)T * in * out < 65536) nth = 1; /* a parallel region costs more than the work */
    int by_rows = out >= 2 * F->nr * nth || T < 2 * F->mr;
#pragma omp parallel num_threads(nth)
    {
        int id = 0, n = 1;
#ifdef _OPENMP
        id = omp_get_thread_num();
        n = omp_get_num_threads();
#endif
        if (by_rows) {
            int r0 = (int)((int64_t)out * id / n), r1 = (int)((int64_t)out * (id + 1) / n);
            if (r0 < r1) run_block(F, di, y, x, w, ldw, T, 0, T, r0, r1, in, out);
        } else {
            int t0 = (int)((int64_t)T * id / n), t1 = (int)((int64_t)T * (id + 1) / n);
            if (t0 < t1) run_block(F, di, y, x, w, ldw, T, t0, t1, 0, out, in, out);
        }
    }
}

void q35_fast_linear(float *y, const float *x, const q35_tensor *W, int T, int in, int out) {
    linear_with(pick_family(), y, x, W, T, in, out);
}

/* The bf16-dot family where this CPU has it (and Q35_KERNELS leaves it), else NULL. */
static const family *bf16dot_family(void) {
#if defined(__x86_64__)
    const q35_cpu_features *f = q35_cpu();
    if (f->avx512bf16 && strcmp(q35_fast_kernels(), "avx512") == 0) return &fam_bf16dot;
#endif
    return NULL;
}

void q35_fast_linear_bf16x(float *y, const float *x, const q35_tensor *W, int T, int in, int out) {
    const family *F = bf16dot_family();
    if (F && W->dtype == Q35_BF16 && in <= XB_MAX_IN) linear_with(F, y, x, W, T, in, out);
    else q35_fast_linear(y, x, W, T, in, out);
}

const char *q35_fast_bf16x_kernels(void) {
    return bf16dot_family() ? "avx512-bf16dot" : q35_fast_kernels();
}
