/* vision.h - the Qwen3.5 vision tower: patch rows -> image embeddings for the language model.
 *
 * Patch embedding, learned position table resampled to each image's grid, depth pre-LN blocks
 * (2D rotary attention within each image, tanh-GELU MLP), and the 2x2 patch merger to the text
 * width. All numbers go through the op table, as in text.c. */
#ifndef Q35_VISION_H
#define Q35_VISION_H

#include <stddef.h>

#include "image.h"
#include "ops.h"
#include "text.h"
#include "trace.h"
#include "weights.h"

/* Rows of merged output for the images of grids [n][3] (t, h, w in patches): sum t*h*w/4. */
int q35_vision_tokens(const q35_vision_config *v, const int (*grids)[3], int n);

/* The learned position embeddings bilinearly resampled (align-corners) to each grid, rows in 2x2
 * merge-block order: out [sum t*h*w, Dv]. -1 when out of memory. */
int q35_vision_pos_embed(float *out, const q35_model *m, const int (*grids)[3], int n);

/* Rotary angles [sum t*h*w, hd/2] = [row * inv_freq | col * inv_freq], rows in block order.
 * -1 when out of memory. */
int q35_vision_rope_angles(float *out, const q35_model *m, const int (*grids)[3], int n);

/* The number of merged tokens of each image of b into counts[b->n]; returns their sum. */
/* Traces what preprocessing gives the model for batch b (the golden "preproc." tensors, the
 * caller sets the prefix): pixel_values, image_grid_thw, vision.pos_embed_interp and
 * vision.rot_pos_emb, and with the prompt ids (ids, L; NULL to skip) the multimodal positions
 * text.mrope_position_ids and text.mrope_deltas. -1 with err when the ids and images disagree. */
int q35_vision_trace_inputs(const q35_trace *tr, const q35_model *m, const q35_image_batch *b, const int *ids, int L,
                            char *err, size_t errlen);

int q35_vision_token_counts(int *counts, const q35_vision_config *v, const q35_image_batch *b);

/* Runs the tower. pixels [N, C*T*p*p] (N = sum t*h*w, from q35_preprocess), grids [n][3].
 * out [N/4, out_hidden_size]. Traced names: vision.patch_embed, vision.blocks_input,
 * vision.rope_cos/sin, vision.blocks.{j}.norm1/attn_out/norm2/mlp_out/output, vision.merger_norm,
 * vision.merger_out. Returns -1 with err on bad grids or OOM. */
int q35_vision_forward(float *out, const q35_model *m, const q35_ops *ops, const float *pixels,
                       const int (*grids)[3], int n, const q35_trace *tr, char *err, size_t errlen);

/* Prefill with images: runs the tower on b (traced; or takes b->embeds when given), puts its rows on the image tokens of ids in
 * order, and runs the text model at the multimodal positions; s->rope_delta is left set for the
 * decode steps that follow. Arguments as q35_text_forward. */
int q35_prefill_with_images(q35_text_state *s, const q35_ops *ops, const q35_image_batch *b, const int *ids, int L,
                            float *logits, int logit_rows, const q35_trace *tr, char *err, size_t errlen);

#endif
