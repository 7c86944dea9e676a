/* hwlimits.c - the machine's read bandwidth and FP32 / BF16 arithmetic peaks, measured with OpenMP.
 *
 * The SIMD kernels carry target attributes and are chosen at run time from q35_cpu(), as the rest
 * of fast/ does: no -march, and off x86-64 only the portable loops are compiled. */
#include "hwlimits.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu.h"

#if defined(__x86_64__) && !defined(Q35_LIMITS_PORTABLE)
#define LIMITS_X86 1
#include <immintrin.h>
#else
#define LIMITS_X86 0
#endif

/* Keeps the sums and accumulators observable, so no loop is optimised away. */
static volatile float sink;

/* Monotonic wall-clock seconds. */
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The thread count a parallel region will get for `threads` (< 1: OpenMP's default). */
static int team_size(int threads) {
#ifdef _OPENMP
    return threads >= 1 ? threads : omp_get_max_threads();
#else
    (void)threads;
    return 1;
#endif
}

/* ---- read bandwidth ---- */

/* Floats per block the sum kernels take whole: 1024 floats = 4 KiB. */
#define READ_BLOCK 1024

/* Sum of p[0..n), n a multiple of READ_BLOCK, p 64-byte aligned: portable, 16 independent lanes. */
static float sum_portable(const float *p, size_t n) {
    float acc[16] = { 0 };
    for (size_t i = 0; i < n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += p[i + j];
    float s = 0;
    for (int j = 0; j < 16; j++) s += acc[j];
    return s;
}

#if LIMITS_X86
/* The same with AVX-512 loads: 8 accumulators, 512 bytes per iteration. */
__attribute__((target("avx512f"))) static float sum_avx512(const float *p, size_t n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t i = 0; i < n; i += 128) {
        a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
        a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
        a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
        a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
        a4 = _mm512_add_ps(a4, _mm512_load_ps(p + i + 64));
        a5 = _mm512_add_ps(a5, _mm512_load_ps(p + i + 80));
        a6 = _mm512_add_ps(a6, _mm512_load_ps(p + i + 96));
        a7 = _mm512_add_ps(a7, _mm512_load_ps(p + i + 112));
    }
    a0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                       _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    return _mm512_reduce_add_ps(a0);
}

/* The same with AVX2 loads: 8 accumulators, 256 bytes per iteration. */
__attribute__((target("avx2"))) static float sum_avx2(const float *p, size_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t i = 0; i < n; i += 64) {
        a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
        a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
        a4 = _mm256_add_ps(a4, _mm256_load_ps(p + i + 32));
        a5 = _mm256_add_ps(a5, _mm256_load_ps(p + i + 40));
        a6 = _mm256_add_ps(a6, _mm256_load_ps(p + i + 48));
        a7 = _mm256_add_ps(a7, _mm256_load_ps(p + i + 56));
    }
    a0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                       _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    float l[8];
    _mm256_storeu_ps(l, a0);
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}
#endif

typedef float (*sum_fn)(const float *, size_t);

/* The widest sum kernel this CPU (as capped by Q35_KERNELS) runs. */
static sum_fn pick_sum(void) {
#if LIMITS_X86
    const q35_cpu_features *f = q35_cpu();
    if (f->avx512f) return sum_avx512;
    if (f->avx2) return sum_avx2;
#endif
    return sum_portable;
}

double q35_measure_read_bw(int threads, size_t bytes) {
    if (bytes < ((size_t)1 << 20)) bytes = (size_t)1 << 20;
    const size_t align = (size_t)2 << 20; /* huge-page aligned, so the kernel can back it with THP */
    bytes = (bytes + align - 1) / align * align;
    void *mem = NULL;
    if (posix_memalign(&mem, align, bytes) != 0) return -1;
#ifdef MADV_HUGEPAGE
    madvise(mem, bytes, MADV_HUGEPAGE); /* advice only: fine if refused */
#endif
    float *buf = mem;
    const size_t nfloat = bytes / sizeof(float);
    const int nt = team_size(threads);
    const sum_fn sum = pick_sum();
    double best = 0, t_start = 0, t_total = 0;
    size_t per = 0;
    int stop = 0;

#pragma omp parallel num_threads(nt)
    {
#ifdef _OPENMP
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
#else
        const int t = 0, T = 1;
#endif
#pragma omp single
        per = nfloat / (size_t)T / READ_BLOCK * READ_BLOCK;
        float *p = buf + (size_t)t * per;
        for (size_t i = 0; i < per; i++) p[i] = (float)(i & 7); /* first touch by the reader */
        float local = 0;
#pragma omp barrier
#pragma omp single
        t_total = now_s();
        /* At least 3 repeats, then until ~0.25 s of reading, at most 20. */
        for (int r = 0; r < 20; r++) {
#pragma omp single
            t_start = now_s(); /* the single's closing barrier is the starting line */
            local += sum(p, per);
#pragma omp barrier
#pragma omp single
            {
                double t1 = now_s(), dt = t1 - t_start;
                double bw = dt > 0 ? (double)per * (double)T * sizeof(float) / dt : 0;
                if (bw > best) best = bw;
                stop = r >= 2 && t1 - t_total > 0.25;
            }
            if (stop) break;
        }
#pragma omp critical
        sink += local;
    }
    free(mem);
    return best;
}

/* ---- arithmetic peaks ---- */

/* A kernel runs `iters` iterations of independent multiply-add chains on registers and returns
 * a value depending on all of them; flops_per_iter says what one iteration counts. */
typedef float (*peak_fn)(long iters, float a, float b);

/* Portable: 64 chains acc = acc * a + b, 2 flops each per iteration. */
#define PORTABLE_CHAINS 64
static float fma_portable(long iters, float a, float b) {
    float acc[PORTABLE_CHAINS];
    for (int j = 0; j < PORTABLE_CHAINS; j++) acc[j] = (float)j;
    for (long i = 0; i < iters; i++)
        for (int j = 0; j < PORTABLE_CHAINS; j++) acc[j] = acc[j] * a + b;
    float s = 0;
    for (int j = 0; j < PORTABLE_CHAINS; j++) s += acc[j];
    return s;
}

#if LIMITS_X86
/* 16 chains of 512-bit FMAs: 16 x 16 lanes x 2 = 512 flops per iteration. */
__attribute__((target("avx512f"))) static float fma_avx512(long iters, float a, float b) {
    const __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b);
    __m512 c[16];
    for (int j = 0; j < 16; j++) c[j] = _mm512_set1_ps((float)j);
    for (long i = 0; i < iters; i++) {
        c[0] = _mm512_fmadd_ps(c[0], va, vb); c[1] = _mm512_fmadd_ps(c[1], va, vb);
        c[2] = _mm512_fmadd_ps(c[2], va, vb); c[3] = _mm512_fmadd_ps(c[3], va, vb);
        c[4] = _mm512_fmadd_ps(c[4], va, vb); c[5] = _mm512_fmadd_ps(c[5], va, vb);
        c[6] = _mm512_fmadd_ps(c[6], va, vb); c[7] = _mm512_fmadd_ps(c[7], va, vb);
        c[8] = _mm512_fmadd_ps(c[8], va, vb); c[9] = _mm512_fmadd_ps(c[9], va, vb);
        c[10] = _mm512_fmadd_ps(c[10], va, vb); c[11] = _mm512_fmadd_ps(c[11], va, vb);
        c[12] = _mm512_fmadd_ps(c[12], va, vb); c[13] = _mm512_fmadd_ps(c[13], va, vb);
        c[14] = _mm512_fmadd_ps(c[14], va, vb); c[15] = _mm512_fmadd_ps(c[15], va, vb);
    }
    for (int j = 1; j < 16; j++) c[0] = _mm512_add_ps(c[0], c[j]);
    return _mm512_reduce_add_ps(c[0]);
}

/* 12 chains of 256-bit FMAs: 12 x 8 lanes x 2 = 192 flops per iteration. */
__attribute__((target("avx2,fma"))) static float fma_avx2(long iters, float a, float b) {
    const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
    __m256 c[12];
    for (int j = 0; j < 12; j++) c[j] = _mm256_set1_ps((float)j);
    for (long i = 0; i < iters; i++) {
        c[0] = _mm256_fmadd_ps(c[0], va, vb); c[1] = _mm256_fmadd_ps(c[1], va, vb);
        c[2] = _mm256_fmadd_ps(c[2], va, vb); c[3] = _mm256_fmadd_ps(c[3], va, vb);
        c[4] = _mm256_fmadd_ps(c[4], va, vb); c[5] = _mm256_fmadd_ps(c[5], va, vb);
        c[6] = _mm256_fmadd_ps(c[6], va, vb); c[7] = _mm256_fmadd_ps(c[7], va, vb);
        c[8] = _mm256_fmadd_ps(c[8], va, vb); c[9] = _mm256_fmadd_ps(c[9], va, vb);
        c[10] = _mm256_fmadd_ps(c[10], va, vb); c[11] = _mm256_fmadd_ps(c[11], va, vb);
    }
    for (int j = 1; j < 12; j++) c[0] = _mm256_add_ps(c[0], c[j]);
    float l[8];
    _mm256_storeu_ps(l, c[0]);
    return l[0] + l[1] + l[2] + l[3] + l[4] + l[5] + l[6] + l[7];
}

/* 16 chains of vdpbf16ps: each fp32 lane adds two bf16 products, 16 x 16 lanes x 4 = 1024 flops
 * per iteration. a and b are rounded to bf16 (b scales the second operand). */
__attribute__((target("avx512f,avx512bf16"))) static float bf16_avx512(long iters, float a, float b) {
    const __m512bh va = _mm512_cvtne2ps_pbh(_mm512_set1_ps(a), _mm512_set1_ps(a));
    const __m512bh vb = _mm512_cvtne2ps_pbh(_mm512_set1_ps(b), _mm512_set1_ps(b));
    __m512 c[16];
    for (int j = 0; j < 16; j++) c[j] = _mm512_set1_ps((float)j);
    for (long i = 0; i < iters; i++) {
        c[0] = _mm512_dpbf16_ps(c[0], va, vb); c[1] = _mm512_dpbf16_ps(c[1], va, vb);
        c[2] = _mm512_dpbf16_ps(c[2], va, vb); c[3] = _mm512_dpbf16_ps(c[3], va, vb);
        c[4] = _mm512_dpbf16_ps(c[4], va, vb); c[5] = _mm512_dpbf16_ps(c[5], va, vb);
        c[6] = _mm512_dpbf16_ps(c[6], va, vb); c[7] = _mm512_dpbf16_ps(c[7], va, vb);
        c[8] = _mm512_dpbf16_ps(c[8], va, vb); c[9] = _mm512_dpbf16_ps(c[9], va, vb);
        c[10] = _mm512_dpbf16_ps(c[10], va, vb); c[11] = _mm512_dpbf16_ps(c[11], va, vb);
        c[12] = _mm512_dpbf16_ps(c[12], va, vb); c[13] = _mm512_dpbf16_ps(c[13], va, vb);
        c[14] = _mm512_dpbf16_ps(c[14], va, vb); c[15] = _mm512_dpbf16_ps(c[15], va, vb);
    }
    for (int j = 1; j < 16; j++) c[0] = _mm512_add_ps(c[0], c[j]);
    return _mm512_reduce_add_ps(c[0]);
}
#endif

/* Seconds of one parallel run of fn(iters) on nt threads (all start after a barrier, the clock
 * stops when the last one ends). */
static double peak_run(peak_fn fn, int nt, long iters) {
    /* a and b come through a volatile so the chains can't be folded at compile time; with
     * |a| < 1 every chain converges to b / (1 - a): no overflow, no denormals. */
    static volatile float va = 0.999f, vb = 0.001f;
    const float a = va, b = vb;
    double t0 = 0, t1 = 0;
#pragma omp parallel num_threads(nt)
    {
#pragma omp single
        t0 = now_s();
        float r = fn(iters, a, b);
#pragma omp barrier
#pragma omp single
        t1 = now_s();
#pragma omp critical
        sink += r;
    }
    return t1 - t0;
}

/* GFLOP/s of fn on `threads` threads: iterations calibrated on one thread for ~0.1 s a run,
 * then the best of 3 runs. */
static double peak_measure(peak_fn fn, double flops_per_iter, int threads) {
    const int nt = team_size(threads);
    long iters = 1L << 14;
    double dt = 0;
    while ((dt = peak_run(fn, 1, iters)) < 0.01 && iters < (1L << 40)) iters *= 4;
    if (dt > 0) iters = (long)((double)iters * 0.1 / dt) + 1;
    double best = 0;
    for (int r = 0; r < 3; r++) {
        dt = peak_run(fn, nt, iters);
        double g = dt > 0 ? (double)nt * (double)iters * flops_per_iter / dt * 1e-9 : 0;
        if (g > best) best = g;
    }
    return best;
}

double q35_measure_fma_peak(int threads) {
#if LIMITS_X86
    const q35_cpu_features *f = q35_cpu();
    if (f->avx512f) return peak_measure(fma_avx512, 16.0 * 16 * 2, threads);
    if (f->avx2 && f->fma) return peak_measure(fma_avx2, 12.0 * 8 * 2, threads);
#endif
    return peak_measure(fma_portable, PORTABLE_CHAINS * 2.0, threads);
}

double q35_measure_bf16_peak(int threads) {
#if LIMITS_X86
    const q35_cpu_features *f = q35_cpu();
    if (f->avx512f && f->avx512bf16) return peak_measure(bf16_avx512, 16.0 * 16 * 4, threads);
#endif
    (void)threads;
    return 0;
}

const char *q35_cpu_name(char *buf, size_t n) {
    if (!buf || n == 0) return buf;
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return buf;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *v = strchr(line, ':');
        if (!v) continue;
        v++;
        while (*v == ' ' || *v == '\t') v++;
        size_t len = strcspn(v, "\r\n");
        while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t')) len--;
        if (len == 0) continue;
        snprintf(buf, n, "%.*s", (int)len, v);
        break;
    }
    fclose(f);
    return buf;
}
