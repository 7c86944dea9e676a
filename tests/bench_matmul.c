/* bench_matmul.c - the fast backend's matrix products (q35_fast_linear) against this machine's limits
 * (make bench). Not a pass/fail test: it prints figures only.
 *
 * For every kernel family the CPU offers (each in a child process with Q35_KERNELS set, since the
 * family is chosen once per process), at 1 thread and at the backend's default thread count:
 *  - decode (T = 1) on the 0.8B model's bf16 shapes, in GB/s of weights read, against the read
 *    bandwidth measured the same way (q35_measure_read_bw: 1 GiB, one stretch per thread); the
 *    weights rotate through copies of 512 MiB in all, so they come from memory, not the L3;
 *  - prefill (T = 512) on the same shapes, in GFLOP/s, against the FP32 FMA peak (and the BF16
 *    dot-product peak where the CPU has one);
 *  - the error on a few outputs against a double-precision dot product, beside the error of a plain
 *    float loop, both as max |y - exact| / sum |x_k w_k| (1 ulp of the sum is about 6e-8);
 *  - whether 1, 2, 3 and 16 threads give the same bits, and T = 1 the same bits as T = 512.
 * Weights are allocated like the bandwidth probe's buffer (2 MiB aligned, transparent huge pages
 * where the kernel offers them), so the two compare like for like. About 30 s on 2 cores. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpu.h"
#include "hwlimits.h"
#include "matmul.h"
#include "ops.h"
#include "tensor.h"

typedef struct {
    const char *name;
    int in, out;
} shape;

/* The 0.8B model's linear layers (hidden 1024, MLP 3584, LM head over the 248320-token vocabulary). */
static const shape shapes[] = {
    { "mlp up/gate 1024->3584", 1024, 3584 },
    { "mlp down    3584->1024", 3584, 1024 },
    { "attn qkv    1024->6144", 1024, 6144 },
    { "lm head     1024->248320", 1024, 248320 },
};
#define N_SHAPES (int)(sizeof shapes / sizeof shapes[0])
#define PREFILL_T 512
#define POOL_BYTES ((size_t)512 << 20)

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A 2 MiB-aligned buffer of n bytes, huge pages requested (as hwlimits' probe); exits on failure. */
static void *alloc_pool(size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, (size_t)2 << 20, n) != 0) {
        fprintf(stderr, "bench_matmul: cannot allocate %zu bytes\n", n);
        exit(1);
    }
#ifdef MADV_HUGEPAGE
    madvise(p, n, MADV_HUGEPAGE);
#endif
    return p;
}

/* xorshift64: reproducible values in [-1, 1). */
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2 - 1);
}

/* Seconds of the fastest of `reps` calls of y = x W^T, W at w + (rep % copies) * stride bytes. */
typedef void (*linear_fn)(float *y, const float *x, const q35_tensor *W, int T, int in, int out);

static double time_linear(linear_fn lin, float *y, const float *x, q35_tensor W, size_t stride, int copies,
                          int reps, int T, int in, int out) {
    const char *base = W.data;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        W.data = base + (size_t)(r % copies) * stride;
        double t0 = now();
        lin(y, x, &W, T, in, out);
        double d = now() - t0;
        if (d < best) best = d;
    }
    return best;
}

/* Worst max |y - exact| / sum |x_k w_k| over rows `rows` of W for tokens t of x: of y (the
 * kernel's output, T x out), in *kern, and of a plain float loop, in *plain. */
static void errors(const float *y, const float *x, const q35_tensor *W, int T, int in, int out,
                   double *kern, double *plain) {
    int toks[2] = { 0, T - 1 };
    *kern = *plain = 0;
    for (int ti = 0; ti < 2; ti++) {
        const float *xt = x + (size_t)toks[ti] * in;
        for (int i = 0; i < 16; i++) {
            int o = (int)((int64_t)i * (out - 1) / 15);
            double exact = 0, mag = 0;
            float loop = 0;
            for (int k = 0; k < in; k++) {
                double w = q35_get_f64(W, (int64_t)o * in + k);
                exact += (double)xt[k] * w;
                mag += fabs((double)xt[k] * w);
                loop += xt[k] * (float)w;
            }
            if (mag == 0) continue;
            double e = fabs(y[(size_t)toks[ti] * out + o] - exact) / mag, p = fabs(loop - exact) / mag;
            if (e > *kern) *kern = e;
            if (p > *plain) *plain = p;
        }
    }
}

/* The benchmark for the family this process runs (Q35_KERNELS already applied). */
static void run_family(void) {
    int nmax = q35_get_threads();
    int portable = strcmp(q35_fast_kernels(), "portable") == 0;
    int bf16x = strcmp(q35_fast_bf16x_kernels(), q35_fast_kernels()) != 0; /* vdpbf16ps in use */
    printf("== kernels %s\n", q35_fast_kernels());
    /* The limits first: the probe's 1 GiB buffer is gone before the weights are made. */
    int ths[2] = { 1, nmax }, nth = nmax > 1 ? 2 : 1;
    double bws[2], fmas[2], bf16s[2];
    for (int ti = 0; ti < nth; ti++) {
        bws[ti] = q35_measure_read_bw(ths[ti], (size_t)1 << 30);
        fmas[ti] = q35_measure_fma_peak(ths[ti]);
        bf16s[ti] = q35_measure_bf16_peak(ths[ti]);
    }
    char *pool = alloc_pool(POOL_BYTES);
    uint16_t *h = (uint16_t *)(void *)pool;
    for (size_t i = 0; i < POOL_BYTES / 2; i++) h[i] = q35_f32_to_bf16(0.05f * rnd());
    int T = PREFILL_T;
    float *x = malloc((size_t)T * 3584 * sizeof(float));
    float *y = malloc((size_t)248320 * sizeof(float) > (size_t)T * 6144 * sizeof(float)
                          ? (size_t)248320 * sizeof(float) : (size_t)T * 6144 * sizeof(float));
    float *y2 = malloc((size_t)T * 6144 * sizeof(float));
    if (!x || !y || !y2) {
        fprintf(stderr, "bench_matmul: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < (size_t)T * 3584; i++) x[i] = rnd();
    q35_tensor W = { 0 };
    W.dtype = Q35_BF16;
    W.data = pool;

    for (int ti = 0; ti < nth; ti++) {
        int th = ths[ti];
        double bw = bws[ti], fma = fmas[ti], bf16 = bf16s[ti];
        q35_set_threads(th);
        printf("-- %d thread%s: read bandwidth %.1f GB/s, FP32 FMA peak %.1f GFLOP/s", th, th > 1 ? "s" : "",
               bw / 1e9, fma);
        if (bf16 > 0) printf(", BF16 dot peak %.1f GFLOP/s", bf16);
        printf("\n");
        for (int s = 0; s < N_SHAPES; s++) {
            const shape *sh = &shapes[s];
            size_t bytes = (size_t)sh->in * sh->out * 2;
            int copies = (int)(POOL_BYTES / bytes);
            double d = time_linear(q35_fast_linear, y, x, W, bytes, copies, copies > 1 ? 2 * copies : 3, 1, sh->in, sh->out);
            printf("decode  bf16 %-26s %8.3f ms %6.1f GB/s  %3.0f%% of read bandwidth\n", sh->name, d * 1e3,
                   bytes / d / 1e9, 100 * bytes / d / bw);
        }
        for (int s = 0; s < N_SHAPES - 1; s++) {
            const shape *sh = &shapes[s];
            int t = portable ? 128 : T; /* the portable loops are slower: fewer tokens */
            double flop = 2.0 * t * sh->in * sh->out;
            double d = time_linear(q35_fast_linear, y, x, W, 0, 1, 3, t, sh->in, sh->out);
            printf("prefill bf16 %-26s T=%d %8.3f ms %6.1f GFLOP/s  %3.0f%% of FMA peak", sh->name, t, d * 1e3,
                   flop / d / 1e9, 100 * flop / d / 1e9 / fma);
            if (bf16 > 0) printf(", %3.0f%% of BF16 peak", 100 * flop / d / 1e9 / bf16);
            printf("\n");
            if (bf16x) { /* the opt-in product with x rounded to bf16 (fast-bf16) */
                d = time_linear(q35_fast_linear_bf16x, y, x, W, 0, 1, 3, t, sh->in, sh->out);
                printf("  x->bf16 %-26s T=%d %8.3f ms %6.1f GFLOP/s  %3.0f%% of BF16 peak\n", sh->name, t, d * 1e3,
                       flop / d / 1e9, 100 * flop / d / 1e9 / bf16);
            }
        }
    }

    /* Exactness and determinism, on every weight dtype, at T = 1 and a prefill chunk. */
    static const q35_dtype dts[] = { Q35_F32, Q35_BF16, Q35_F16 };
    for (int di = 0; di < 3; di++) {
        q35_tensor V = { 0 };
        V.dtype = dts[di];
        V.data = pool;
        int in = 1000, out = 777, t = portable ? 9 : 67;
        for (size_t i = 0; i < (size_t)in * out; i++) {
            float v = 0.05f * rnd();
            if (V.dtype == Q35_F32) ((float *)(void *)pool)[i] = v;
            else if (V.dtype == Q35_BF16) h[i] = q35_f32_to_bf16(v);
            else h[i] = q35_f32_to_f16(v);
        }
        double ek, ep;
        int same_threads = 1, same_t1 = 1;
        q35_set_threads(1);
        q35_fast_linear(y, x, &V, t, in, out);
        errors(y, x, &V, t, in, out, &ek, &ep);
        static const int more[] = { 2, 3, 16 };
        for (int i = 0; i < 3; i++) {
            q35_set_threads(more[i]);
            q35_fast_linear(y2, x, &V, t, in, out);
            same_threads &= memcmp(y, y2, (size_t)t * out * sizeof(float)) == 0;
        }
        int toks[2] = { 0, t - 1 };
        for (int i = 0; i < 2; i++) {
            q35_fast_linear(y2, x + (size_t)toks[i] * in, &V, 1, in, out);
            same_t1 &= memcmp(y + (size_t)toks[i] * out, y2, (size_t)out * sizeof(float)) == 0;
        }
        printf("error %-4s in=%d out=%d T=%d: kernel %.1e, plain float loop %.1e (max |err| / sum |x w|); "
               "same bits for 1/2/3/16 threads: %s, for T=1 and T=%d: %s\n",
               q35_dtype_name(V.dtype), in, out, t, ek, ep, same_threads ? "yes" : "NO", t,
               same_t1 ? "yes" : "NO");
    }
    q35_set_threads(0);
    free(x);
    free(y);
    free(y2);
    free(pool);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--family") == 0) {
        run_family();
        return 0;
    }
    /* One child per family this CPU offers, widest first: q35_cpu() reads Q35_KERNELS once. */
    const q35_cpu_features *f = q35_cpu();
    const char *fams[3];
    int n = 0;
    if (f->avx512f && f->avx512bw && f->avx512vl) fams[n++] = "avx512";
    if (f->avx2 && f->fma && f->f16c) fams[n++] = "avx2";
    fams[n++] = "portable";
    for (int i = 0; i < n; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            setenv("Q35_KERNELS", fams[i], 1);
            execl("/proc/self/exe", argv[0], "--family", (char *)NULL);
            perror("bench_matmul: exec");
            _exit(1);
        }
        if (pid > 0) waitpid(pid, NULL, 0);
    }
    return 0;
}
