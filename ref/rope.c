/* rope.c - rotary position tables. */
#include "rope.h"

#include <math.h>

#include "util.h"

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

int q35_mrope_positions(int64_t *pos, int64_t *delta, const int *ids, int L, const q35_config *c,
                        const int (*grids)[3], int n_images, char *err, size_t errlen) {
    int64_t cur = 0, maxp = -1;
    int img = 0, ms = c->vision.spatial_merge_size > 0 ? c->vision.spatial_merge_size : 1;
    for (int i = 0; i < L;) {
        if (ids[i] != c->image_token_id) {
            pos[i] = pos[L + i] = pos[2 * L + i] = cur;
            maxp = cur++;
            i++;
            continue;
        }
        if (img >= n_images)
            return q35_fail(err, errlen, "token %d starts image %d, but only %d image%s given", i, img + 1, n_images,
                            n_images == 1 ? " was" : "s were");
        int gt = grids[img][0], gh = grids[img][1] / ms, gw = grids[img][2] / ms, count = gt * gh * gw;
        for (int k = 0; k < count; k++)
            if (i + k >= L || ids[i + k] != c->image_token_id)
                return q35_fail(err, errlen, "image %d needs %d consecutive image tokens from position %d, found %d", img,
                                count, i, k);
        for (int t = 0, k = 0; t < gt; t++)
            for (int y = 0; y < gh; y++)
                for (int x = 0; x < gw; x++, k++) {
                    pos[i + k] = cur + t, pos[L + i + k] = cur + y, pos[2 * L + i + k] = cur + x;
                    int64_t m = cur + (t > y ? (t > x ? t : x) : (y > x ? y : x));
                    if (m > maxp) maxp = m;
                }
        cur = maxp + 1;
        i += count;
        img++;
    }
    if (img != n_images)
        return q35_fail(err, errlen, "%d image%s given, but the prompt has image tokens for %d", n_images,
                        n_images == 1 ? "" : "s", img);
    *delta = maxp + 1 - L;
    return 0;
}
