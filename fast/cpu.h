/* cpu.h - what this CPU can do, read once (cpuid), and the kernel family chosen from it. */
#ifndef Q35_FAST_CPU_H
#define Q35_FAST_CPU_H

typedef struct {
    int avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512bf16;
} q35_cpu_features;

/* The features of the running CPU (cached after the first call). All zero off x86-64.
 * Q35_KERNELS=portable|avx2|avx512 in the environment caps what is used (for tests and bench). */
const q35_cpu_features *q35_cpu(void);

/* The kernel family in use: "avx512" (AVX-512 F+BW+VL), "avx2-fma" (AVX2+FMA+F16C) or "portable". */
const char *q35_fast_kernels(void);

#endif
