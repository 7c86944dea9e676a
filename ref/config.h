/* config.h - a Hugging Face Qwen3.5 config.json as C structs.
 *
 * Both layouts are read: Qwen3_5ForConditionalGeneration (top level with "text_config" and
 * "vision_config") and the flat text-only Qwen3_5ForCausalLM ("model_type": "qwen3_5_text").
 * Keys that are absent take transformers' defaults (Qwen3_5TextConfig / Qwen3_5VisionConfig). */
#ifndef Q35_CONFIG_H
#define Q35_CONFIG_H

#include <stddef.h>

#define Q35_MAX_LAYERS 256

typedef struct {
    int vocab_size;
    int hidden_size;        /* H */
    int intermediate_size;  /* I, SwiGLU width */
    int num_layers;
    unsigned char is_full[Q35_MAX_LAYERS]; /* 1: full_attention, 0: linear_attention (Gated DeltaNet) */

    /* gated full attention */
    int num_heads;          /* Hq */
    int num_kv_heads;       /* Hkv */
    int head_dim;           /* Dh (explicit in the config, not H/Hq) */
    double rope_theta;
    double partial_rotary_factor;
    int rotary_dim;         /* R = (int)(Dh * partial_rotary_factor), even */
    int mrope_section[3];   /* T, H, W frequency-slot counts; sum == R/2 */
    int mrope_interleaved;

    /* Gated DeltaNet */
    int lin_num_k_heads;    /* Hk */
    int lin_num_v_heads;    /* Hv, a multiple of Hk */
    int lin_k_dim;          /* Dk */
    int lin_v_dim;          /* Dv */
    int conv_kernel;        /* linear_conv_kernel_dim */

    double rms_norm_eps;
    int tie_word_embeddings;
    int max_position_embeddings;
    int eos_token_id;       /* first one when the config gives a list; -1 when absent */
} q35_text_config;

typedef struct {
    int present;            /* a vision_config was given */
    int depth;
    int hidden_size;
    int num_heads;
    int intermediate_size;
    int in_channels;
    int patch_size;
    int temporal_patch_size;
    int spatial_merge_size;
    int out_hidden_size;
    int num_position_embeddings;
    char hidden_act[32];
    double rope_theta;
} q35_vision_config;

typedef struct {
    char architecture[64];  /* architectures[0], "" when absent */
    char model_type[32];    /* top-level model_type */
    q35_text_config text;
    q35_vision_config vision;
    int image_token_id, video_token_id, vision_start_token_id, vision_end_token_id;
    int mtp_num_hidden_layers;
} q35_config;

/* Fills c with transformers' defaults (Qwen3_5Config / Qwen3_5TextConfig / Qwen3_5VisionConfig):
 * what a config.json that names no key means. vision.present is 0. */
void q35_config_defaults(q35_config *c);

/* Parses config.json text. source names the file in messages. Returns 0, or -1 with err
 * ("config.json: num_attention_heads (6) is not a multiple of num_key_value_heads (4)").
 * Besides types and consistency, every key the computation depends on must describe what q35
 * implements, and a message names the key: model_type qwen3_5 / qwen3_5_text (text_config's
 * qwen3_5_text, vision_config's qwen3_5 / qwen3_5_vision), hidden_act silu (vision:
 * gelu_pytorch_tanh), attention_bias false, mamba_ssm_dtype float32, no num_experts, rope_type
 * default (vision: axial), layer_types of linear_attention / full_attention, an empty
 * deepstack_visual_indexes, vision in_channels 3. */
int q35_config_parse(q35_config *c, const char *json, const char *source, char *err, size_t errlen);

/* Reads and parses a file (path to config.json, or a directory holding one). */
int q35_config_load(q35_config *c, const char *path, char *err, size_t errlen);

/* Checks the consistency of c (head counts divide, mrope sections sum to R/2, positive sizes,
 * layer count within Q35_MAX_LAYERS, ...). Called by parse; exposed for configs built in code. */
int q35_config_validate(const q35_config *c, const char *source, char *err, size_t errlen);

/* Derived sizes of the Gated DeltaNet. */
static inline int q35_lin_key_dim(const q35_text_config *t) { return t->lin_num_k_heads * t->lin_k_dim; }
static inline int q35_lin_value_dim(const q35_text_config *t) { return t->lin_num_v_heads * t->lin_v_dim; }
static inline int q35_lin_conv_dim(const q35_text_config *t) { return 2 * q35_lin_key_dim(t) + q35_lin_value_dim(t); }

/* Writes c as a Hugging Face config.json (ConditionalGeneration layout when vision is present,
 * else the flat text layout) to path. */
int q35_config_save(const q35_config *c, const char *path, char *err, size_t errlen);

#endif
