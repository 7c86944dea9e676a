/* text.h - the Qwen3.5 language model: prefill and decode with caches.
 *
 * The model is described once here and every number is computed through a q35_ops table, so the
 * same code runs the scalar reference and the fast path. A forward over T tokens continues from
 * whatever the state holds: the conv window and the delta-rule state of each Gated DeltaNet layer,
 * and the K/V cache of each full-attention layer. Prefilling N tokens at once, or one by one, or in
 * any split, gives the same result up to float32 rounding. */
#ifndef Q35_TEXT_H
#define Q35_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "ops.h"
#include "trace.h"
#include "weights.h"

typedef struct {
    const q35_model *m;
    int n_past;            /* tokens in the caches */
    int64_t rope_delta;    /* default position of token n is n + rope_delta (0 for text) */
    int cap;               /* K/V cache capacity in tokens (grows on demand) */
    float **conv;          /* per layer: [C, K] window of pre-conv inputs, NULL on full layers */
    float **S;             /* per layer: [Hv, Dk, Dv] delta-rule state, NULL on full layers */
    float **K, **V;        /* per layer: [Hkv, cap, Dh], NULL on linear layers */
    /* scratch for up to max_T tokens */
    int max_T;
    float *x, *xn, *mix, *mlp_g, *mlp_u, *cosb, *sinb, *scores;
    float *a1, *a2, *a3, *a4, *a5, *a6, *a7;
    /* image embeddings waiting for their image tokens (q35_text_set_image_embeds) */
    const float *img_rows;
    int img_n, img_used;
} q35_text_state;

/* Prepares empty caches for m (not copied: m must outlive s). Returns -1 with err on OOM. */
int q35_text_state_init(q35_text_state *s, const q35_model *m, char *err, size_t errlen);
/* Empties the caches (n_past = 0, states zeroed) without freeing them. */
void q35_text_state_reset(q35_text_state *s);
void q35_text_state_free(q35_text_state *s);

/* Image embeddings [n_rows, H] (the vision tower's merged output, images in prompt order) for the
 * following forwards: the j-th image token they see takes row j. rows must stay valid until used.
 * A model with a vision tower refuses image tokens that have no row. */
void q35_text_set_image_embeds(q35_text_state *s, const float *rows, int n_rows);

/* Runs T tokens through the model on top of the caches, then advances n_past by T.
 *   ids [T]         token ids, each in [0, vocab)
 *   pos [3, T]      mRoPE positions (rows T, H, W), or NULL for n_past + rope_delta + t on all rows
 *   logits          [logit_rows, V] output, or NULL; logit_rows = T (every token) or 1 (last token)
 *   tr              trace hook or NULL; names as in golden/data/README.md (text.*, logits)
 * Returns 0, or -1 with err (bad token id, out of memory). */
int q35_text_forward(q35_text_state *s, const q35_ops *ops, const int *ids, int T, const int64_t *pos,
                     float *logits, int logit_rows, const q35_trace *tr, char *err, size_t errlen);

/* Reports the caches under the golden names: cache.layers.{i}.conv_state [1,C,K],
 * .recurrent_state [1,Hv,Dk,Dv], .key / .value [1,Hkv,n_past,Dh]. */
void q35_text_trace_cache(const q35_text_state *s, const q35_trace *tr);

#endif
