/* mkmodel.h - random-weight checkpoints of the real Qwen3.5 sizes.
 *
 * Speed and memory do not depend on the weights' values, so a checkpoint with the released names,
 * shapes, dtypes and file layout, filled from a seeded generator, stands in for a real one wherever
 * values do not matter. Same preset, seed and dtype: the same bytes. */
#ifndef Q35_MKMODEL_H
#define Q35_MKMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Fills c with a preset's configuration: "0.8b", "2b", "4b" (the released configs), or "tiny"
 * (the same structure, a few MB, for end-to-end tests). Returns -1 with err for an unknown name. */
int q35_preset_config(q35_config *c, const char *preset, char *err, size_t errlen);

typedef struct {
    const char *out_dir;      /* created if missing; must not already hold a config.json */
    uint64_t seed;
    int f32;                  /* 1: every tensor F32; 0: as released (BF16; A_log and linear_attn.norm F32) */
    uint64_t max_shard_bytes; /* shard above this size (0: 2e9, as the released files) */
    /* progress: called after each tensor with bytes done and total; may be NULL */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
    /* a tokenizer.json to copy in (its ids must fit the vocabulary), with tokenizer_config.json and
     * chat_template.jinja beside it; NULL: no tokenizer files */
    const char *tokenizer;
} q35_mkmodel_opts;

/* Writes config.json, generation_config.json (the card's sampling defaults for the size),
 * preprocessor_config.json, the weights (model.safetensors, or model-0000i-of-0000n.safetensors +
 * model.safetensors.index.json) and, with o->tokenizer, tokenizer.json, tokenizer_config.json and
 * chat_template.jinja (the size's Qwen3.5 template).
 * Every text, vision and mtp tensor of the released checkpoints is written. */
int q35_mkmodel(const q35_config *c, const q35_mkmodel_opts *o, char *err, size_t errlen);

#endif
