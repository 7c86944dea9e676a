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
    /* run state for up to max_T tokens: [T, width] each, named after what it holds */
    int max_T;
    float *x;                    /* residual stream [T,H] */
    float *xn;                   /* normed input of the mixer or the MLP [T,H] */
    float *mix;                  /* mixer or MLP output [T,H] */
    float *mlp_gate, *mlp_up;    /* [T,I]; mlp_gate becomes silu(gate) * up */
    float *rope_cos, *rope_sin;  /* [T,rotary_dim] */
    float *lin_qkv;              /* Gated DeltaNet: in_proj_qkv output [T,Cc], before the conv */
    float *lin_conv;             /* conv + SiLU: q | k | v per token [T,Cc] */
    float *lin_z;                /* in_proj_z [T,Cv] */
    float *lin_a, *lin_b;        /* in_proj_a, in_proj_b [T,Hv] */
    float *lin_g, *lin_beta;     /* decay and beta gates [T,Hv] */
    float *lin_core;             /* delta-rule output [T,Hv,Dv] */
    float *lin_normed;           /* gated RMSNorm output [T,Cv] */
    float *att_qg;               /* gated attention: q_proj output, per head [query | gate] [T,Hq,2D] */
    float *att_q, *att_gate;     /* the two halves [T,Hq,D] */
    float *att_k, *att_v;        /* [T,Hkv,D] */
    float *att_o;                /* attention output, then gated [T,Hq,D] */
    float *scratch;              /* the backend's per-thread scratch (attention, delta rule) */
    size_t scratch_n;            /* floats in scratch */
    /* image embeddings waiting for their image tokens (q35_text_set_image_embeds) */
    const float *img_rows;
    int img_n, img_used;
} q35_text_state;

/* Prepares empty caches for m (not copied: m must outlive s). Returns -1 with err on OOM. */
int q35_text_state_init(q35_text_state *s, const q35_model *m, char *err, size_t errlen);
/* Empties the caches (n_past = 0, states zeroed) without freeing them. */
void q35_text_state_reset(q35_text_state *s);
void q35_text_state_free(q35_text_state *s);
/* Makes dst hold what src holds (caches, n_past, rope offset; no pending image rows): a snapshot
 * of a shared prefix, restored before each continuation. Both states of the same model. -1 with
 * err on out of memory. */
int q35_text_state_copy(q35_text_state *dst, const q35_text_state *src, char *err, size_t errlen);

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
