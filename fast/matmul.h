/* matmul.h - the fast backend's matrix products: y[T,out] = x[T,in] W^T, W in its stored dtype.
 *
 * One entry point for decode (T = 1: a matrix-vector product streaming W once across all threads)
 * and prefill (T > 1: blocked products reusing each weight tile over many tokens). Kernels are
 * chosen once at run time by CPU features (cpu.h). Every output element is reduced in an order
 * fixed by (T, in) alone, so results are the same bits for any thread count. */
#ifndef Q35_FAST_MATMUL_H
#define Q35_FAST_MATMUL_H

#include "tensor.h"

/* y[T,out] = x[T,in] W^T ; W [out,in] F32, BF16 or F16 (straight from the mmap, never copied).
 * Runs on q35_get_threads() threads. No allocation. */
void q35_fast_linear(float *y, const float *x, const q35_tensor *W, int T, int in, int out);

#endif
