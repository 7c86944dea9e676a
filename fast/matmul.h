/* matmul.h - the fast backend's matrix products: y[T,out] = x[T,in] W^T, W in its stored dtype.
 *
 * One entry point for decode (T = 1: a matrix-vector product streaming W once across all threads)
 * and prefill (T > 1: tiles of tokens x rows reusing each weight vector over several tokens, row
 * blocks kept in L2 over all tokens). Kernels are chosen once at run time by CPU features (cpu.h:
 * AVX-512, AVX2+FMA or portable C). The arithmetic is FP32 (bf16/f16 weights widened exactly in
 * registers, fused multiply-adds), and every output element is reduced in an order fixed by `in`
 * and the kernel family alone: the same bits for any thread count and any T (decode = prefill). */
#ifndef Q35_FAST_MATMUL_H
#define Q35_FAST_MATMUL_H

#include "tensor.h"

/* y[T,out] = x[T,in] W^T ; W [out,in] F32, BF16 or F16 (straight from the mmap, never copied);
 * x and y float32, not overlapping. Nothing is done for T or out < 1; in < 1 gives zeros.
 * Runs on q35_get_threads() threads (one for tiny products). No allocation, a few KB of stack. */
void q35_fast_linear(float *y, const float *x, const q35_tensor *W, int T, int in, int out);

/* The same product with each x rounded to the nearest bf16 first, as llama.cpp and most servers
 * compute bf16 models: vdpbf16ps on CPUs with AVX512_BF16, about twice the FP32 rate; bf16
 * weights only, `in` <= 16384. Elsewhere (another CPU, weight dtype or longer rows) it is exactly
 * q35_fast_linear. Not held to the goldens' tolerances: each x loses up to 2^-9 of itself, so
 * |y - exact| <= 2^-9 sum |x_k w_k| plus FP32 rounding. Same bits for any thread count and T. */
void q35_fast_linear_bf16x(float *y, const float *x, const q35_tensor *W, int T, int in, int out);

/* "avx512-bf16dot" where q35_fast_linear_bf16x uses vdpbf16ps, else q35_fast_kernels(). */
const char *q35_fast_bf16x_kernels(void);

#endif
