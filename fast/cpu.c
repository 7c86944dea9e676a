/* cpu.c - CPU features by cpuid, and the kernel family they allow. */
#include "cpu.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

static q35_cpu_features feats;
static int probed;

const q35_cpu_features *q35_cpu(void) {
    if (probed) return &feats;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    feats.avx2 = __builtin_cpu_supports("avx2");
    feats.fma = __builtin_cpu_supports("fma");
    feats.avx512f = __builtin_cpu_supports("avx512f");
    feats.avx512bw = __builtin_cpu_supports("avx512bw");
    feats.avx512vl = __builtin_cpu_supports("avx512vl");
    unsigned a, b, c, d;
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) feats.avx512bf16 = (a >> 5) & 1;
    if (__get_cpuid(1, &a, &b, &c, &d)) feats.f16c = (c >> 29) & 1;
    const char *cap = getenv("Q35_KERNELS");
    if (cap && strcmp(cap, "portable") == 0) memset(&feats, 0, sizeof feats);
    else if (cap && strcmp(cap, "avx2") == 0) feats.avx512f = feats.avx512bw = feats.avx512vl = feats.avx512bf16 = 0;
    else if (cap && strcmp(cap, "avx512") == 0) feats.avx512bf16 = 0;
#endif
    probed = 1;
    return &feats;
}

const char *q35_fast_kernels(void) {
    const q35_cpu_features *f = q35_cpu();
    /* AVX512_BF16 is reported by q35_cpu() but names no family: the matrix products keep exact FP32
     * arithmetic, and vdpbf16ps would need the activations split in two bf16 halves, which on Zen 4
     * costs as many instructions as widening the weights and FMA (fast/matmul.c). */
    if (f->avx512f && f->avx512bw && f->avx512vl) return "avx512";
    if (f->avx2 && f->fma && f->f16c) return "avx2-fma";
    return "portable";
}
