/* matmul.c - y = x W^T for the fast backend (portable first version). */
#include "matmul.h"

#include "ops.h"

static float dot_f32(const float *x, const float *w, int n) {
    float acc = 0.0f;
    for (int i = 0; i < n; i++) acc += x[i] * w[i];
    return acc;
}

void q35_fast_linear(float *y, const float *x, const q35_tensor *W, int T, int in, int out) {
#pragma omp parallel for schedule(static) num_threads(q35_get_threads())
    for (int o = 0; o < out; o++) {
        float wrow[in];
        q35_read_f32(wrow, W, (int64_t)o * in, in);
        for (int t = 0; t < T; t++) y[(size_t)t * out + o] = dot_f32(x + (size_t)t * in, wrow, in);
    }
}
