/* weights.h - a checkpoint directory bound to the model's fields.
 *
 * q35_model_open reads config.json and the safetensors (single file or sharded), then binds every
 * model.language_model.* tensor to a field below, checking its shape against the config. The
 * tensors stay in the file's dtype and are read through the mmap: opening a model copies no
 * weights. */
#ifndef Q35_WEIGHTS_H
#define Q35_WEIGHTS_H

#include <stddef.h>

#include "config.h"
#include "safetensors.h"
#include "tensor.h"

typedef struct {
    q35_tensor input_norm, post_norm;      /* [H], (1 + w) */
    q35_tensor gate_proj, up_proj;         /* [I, H] */
    q35_tensor down_proj;                  /* [H, I] */
    /* Gated DeltaNet (linear_attention) */
    q35_tensor in_proj_qkv;                /* [2Kd + Vd, H] */
    q35_tensor in_proj_z;                  /* [Vd, H] */
    q35_tensor in_proj_a, in_proj_b;       /* [Hv, H] */
    q35_tensor conv1d;                     /* [C, 1, K] */
    q35_tensor dt_bias, A_log;             /* [Hv] */
    q35_tensor lin_norm;                   /* [Dv], plain w */
    q35_tensor out_proj;                   /* [H, Vd] */
    /* gated full attention */
    q35_tensor q_proj;                     /* [Hq * 2 * Dh, H], per head [query | gate] */
    q35_tensor k_proj, v_proj;             /* [Hkv * Dh, H] */
    q35_tensor o_proj;                     /* [H, Hq * Dh] */
    q35_tensor q_norm, k_norm;             /* [Dh], (1 + w) */
} q35_layer_weights;

typedef struct {
    q35_tensor norm1_w, norm1_b, norm2_w, norm2_b; /* [Dv] LayerNorms */
    q35_tensor qkv_w, qkv_b;                       /* [3 Dv, Dv], [3 Dv]: rows [q | k | v], each heads x hd */
    q35_tensor proj_w, proj_b;                     /* [Dv, Dv], [Dv] */
    q35_tensor fc1_w, fc1_b, fc2_w, fc2_b;         /* [Iv, Dv], [Iv], [Dv, Iv], [Dv] */
} q35_vision_block;

typedef struct {
    q35_tensor patch_w;                            /* Conv3d weight viewed as [Dv, C*T*p*p] */
    q35_tensor patch_b;                            /* [Dv] */
    q35_tensor pos_embed;                          /* [n*n, Dv] learned grid */
    q35_vision_block *blocks;                      /* cfg.vision.depth */
    q35_tensor merger_norm_w, merger_norm_b;       /* [Dv] */
    q35_tensor merger_fc1_w, merger_fc1_b;         /* [4 Dv, 4 Dv], [4 Dv] */
    q35_tensor merger_fc2_w, merger_fc2_b;         /* [O, 4 Dv], [O] */
} q35_vision_weights;

typedef struct {
    q35_config cfg;
    q35_st st;                             /* the mmapped checkpoint */
    char *dir;                             /* owned */
    q35_tensor embed;                      /* [V, H] */
    q35_tensor final_norm;                 /* [H] */
    q35_tensor lm_head;                    /* [V, H]: lm_head.weight, or embed when tied */
    int lm_head_tied;                      /* 1 when lm_head is the embedding */
    q35_layer_weights *layers;             /* cfg.text.num_layers */
    q35_vision_weights vis;                /* bound when the config has a vision_config */
    int n_visual, n_mtp;                   /* model.visual.* and mtp.* tensors in the checkpoint */
    char *warnings;                        /* owned, NULL or one message listing unknown tensors */
    size_t weight_bytes;                   /* bytes of all tensors in the checkpoint */
} q35_model;

/* Opens a checkpoint directory (config.json + model.safetensors, or shards + index).
 * Errors: config problems, a tensor with the wrong shape or dtype (name, file shape, expected
 * shape), and all missing tensors named in one message. Unknown tensor names do not fail: they are
 * listed in m->warnings. On error m is left closed. */
int q35_model_open(q35_model *m, const char *dir, char *err, size_t errlen);

/* Releases the mapping and everything owned. Safe on a zeroed or closed model. */
void q35_model_close(q35_model *m);

#endif
