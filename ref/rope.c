/* rope.c - rotary position tables. */
#include "rope.h"

#include <math.h>

void q35_rope_inv_freq(float *inv_freq, double theta, int R) {
    for (int i = 0; i < R / 2; i++) {
        float expo = (float)(2 * i) / (float)R; /* arange(0, R, 2).float() / R */
        inv_freq[i] = 1.0f / powf((float)theta, expo);
    }
}

void q35_text_rope_tables(float *cos, float *sin, const int64_t *pos, int T, const q35_text_config *c) {
    int R = c->rotary_dim, half = R / 2;
    float inv[512];
    q35_rope_inv_freq(inv, c->rope_theta, R);
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < half; i++) {
            int axis = 0; /* T */
            if (i % 3 == 1 && i < 3 * c->mrope_section[1]) axis = 1;      /* H */
            else if (i % 3 == 2 && i < 3 * c->mrope_section[2]) axis = 2; /* W */
            float f = (float)pos[(int64_t)axis * T + t] * inv[i];
            cos[(int64_t)t * R + i] = cos[(int64_t)t * R + i + half] = cosf(f);
            sin[(int64_t)t * R + i] = sin[(int64_t)t * R + i + half] = sinf(f);
        }
    }
}
