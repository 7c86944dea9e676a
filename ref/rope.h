/* rope.h - rotary position tables.
 *
 * Text: interleaved multimodal RoPE (mRoPE). Each token has three positions (T, H, W); frequency
 * slot i of the R/2 slots takes its angle from H when i % 3 == 1 and i < 3*section[1], from W when
 * i % 3 == 2 and i < 3*section[2], else from T. For text alone the three rows are equal and this is
 * plain partial RoPE. */
#ifndef Q35_ROPE_H
#define Q35_ROPE_H

#include <stdint.h>

#include "config.h"

/* inv_freq[i] = 1 / theta^(2i/R), i < R/2, in float32 as transformers computes it. */
void q35_rope_inv_freq(float *inv_freq, double theta, int R);

/* cos, sin [T, R] in the cat(f, f) layout for positions pos [3, T] (rows T, H, W). */
void q35_text_rope_tables(float *cos, float *sin, const int64_t *pos, int T, const q35_text_config *c);

/* Multimodal positions of a prompt [3, L] (rows T, H, W): text tokens (vision_start/end included)
 * count up by one; the k-th run of image tokens takes image k's merged grid (gh = h/merge,
 * gw = w/merge, gh*gw tokens) at (s, s + row, s + col), s being the next text position, and text
 * resumes at the largest position so far + 1. *delta = max position + 1 - L: decode token n sits at
 * n + delta. Returns -1 with err when the image token runs do not match the grids. */
int q35_mrope_positions(int64_t *pos, int64_t *delta, const int *ids, int L, const q35_config *c,
                        const int (*grids)[3], int n_images, char *err, size_t errlen);

#endif
