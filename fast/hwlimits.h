/* hwlimits.h - what this machine can do at most: memory read bandwidth and arithmetic peaks.
 *
 * Measured in the process that benchmarks the model, with the same OpenMP thread count, so a
 * benchmark can say how close it comes: decode is bound by reading the weights (bandwidth),
 * prefill by the multiply-adds (peak of the instructions its kernels use). The SIMD width follows
 * q35_cpu() (so Q35_KERNELS caps it as it caps the kernels). Off x86-64 portable C loops give an
 * estimate (what the compiler makes of them), and the BF16 peak is 0. Nothing here prints. */
#ifndef Q35_FAST_HWLIMITS_H
#define Q35_FAST_HWLIMITS_H

#include <stddef.h>

/* Read bandwidth in bytes/s, STREAM-like: a buffer of `bytes` (rounded down to whole cache
 * lines per thread; at least 1 MiB is used) is split into one contiguous part per thread, each
 * part first touched by the thread that later reads it, then summed with vector loads
 * (AVX-512 or AVX2 as the CPU allows); the best of at least 3 repeats within ~0.25 s. The
 * first touch dominates the time: ~0.3 s for 256 MiB, 1-4 s for 1 GiB in a VM. Make `bytes`
 * many times the last-level cache the threads share. The buffer is freed before returning,
 * though the process's peak RSS keeps it (measure the peak RSS you care about first).
 * threads: OpenMP threads (< 1: OpenMP's default). Returns -1 when the buffer can't be allocated. */
double q35_measure_read_bw(int threads, size_t bytes);

/* FP32 fused multiply-add peak in GFLOP/s (10^9 flop/s): every thread runs many independent
 * accumulator chains of FMAs on registers (AVX-512 when the CPU has it, else AVX2+FMA, else a
 * portable loop), counted as 2 flops per lane per FMA. Best of 3 runs of ~0.1 s.
 * threads: as q35_measure_read_bw. */
double q35_measure_fma_peak(int threads);

/* BF16 dot-product peak in GFLOP/s with vdpbf16ps (AVX512_BF16): each fp32 lane adds two bf16
 * products per instruction, counted as 4 flops per lane. 0 when the CPU (or Q35_KERNELS) does
 * not offer AVX512_BF16. Best of 3 runs of ~0.1 s. threads: as q35_measure_read_bw. */
double q35_measure_bf16_peak(int threads);

/* The CPU's name: the first "model name" of /proc/cpuinfo (e.g. "AMD EPYC 9R14 96-Core
 * Processor"), copied into buf[n] (always NUL-terminated when n > 0), or "unknown" when it
 * can't be read. Returns buf. */
const char *q35_cpu_name(char *buf, size_t n);

#endif
