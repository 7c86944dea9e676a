/* test_config.c - config.json in both layouts, transformers' defaults, save/parse round trips, and
 * one test per consistency error. Runs from the repository root (golden/data/...). */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "testutil.h"

static char err[2048];

#define SMALL_TEXT "golden/data/small_text/checkpoint_f32/config.json"
#define SMALL_VL "golden/data/small_vl/checkpoint_f32/config.json"

/* The released Qwen3.5-0.8B config.json (spec section 1). */
static const char *cfg_08b =
    "{\"architectures\": [\"Qwen3_5ForConditionalGeneration\"], \"model_type\": \"qwen3_5\","
    " \"image_token_id\": 248056, \"video_token_id\": 248057, \"vision_start_token_id\": 248053,"
    " \"vision_end_token_id\": 248054, \"tie_word_embeddings\": true, \"transformers_version\": \"4.57.0.dev0\","
    " \"text_config\": {\"model_type\": \"qwen3_5_text\", \"vocab_size\": 248320, \"hidden_size\": 1024,"
    "  \"intermediate_size\": 3584, \"num_hidden_layers\": 24, \"num_attention_heads\": 8, \"num_key_value_heads\": 2,"
    "  \"head_dim\": 256, \"hidden_act\": \"silu\", \"rms_norm_eps\": 1e-06, \"attention_bias\": false,"
    "  \"attention_dropout\": 0.0, \"attn_output_gate\": true, \"full_attention_interval\": 4,"
    "  \"layer_types\": [\"linear_attention\", \"linear_attention\", \"linear_attention\", \"full_attention\","
    "   \"linear_attention\", \"linear_attention\", \"linear_attention\", \"full_attention\","
    "   \"linear_attention\", \"linear_attention\", \"linear_attention\", \"full_attention\","
    "   \"linear_attention\", \"linear_attention\", \"linear_attention\", \"full_attention\","
    "   \"linear_attention\", \"linear_attention\", \"linear_attention\", \"full_attention\","
    "   \"linear_attention\", \"linear_attention\", \"linear_attention\", \"full_attention\"],"
    "  \"linear_conv_kernel_dim\": 4, \"linear_key_head_dim\": 128, \"linear_value_head_dim\": 128,"
    "  \"linear_num_key_heads\": 16, \"linear_num_value_heads\": 16, \"max_position_embeddings\": 262144,"
    "  \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 10000000, \"partial_rotary_factor\": 0.25,"
    "   \"mrope_section\": [11, 11, 10], \"mrope_interleaved\": true}, \"partial_rotary_factor\": 0.25,"
    "  \"mamba_ssm_dtype\": \"float32\", \"mtp_num_hidden_layers\": 1, \"mtp_use_dedicated_embeddings\": false,"
    "  \"mlp_only_layers\": [], \"tie_word_embeddings\": true, \"dtype\": \"bfloat16\", \"eos_token_id\": 248044,"
    "  \"use_cache\": true},"
    " \"vision_config\": {\"model_type\": \"qwen3_5\", \"depth\": 12, \"hidden_size\": 768, \"hidden_act\": \"gelu_pytorch_tanh\","
    "  \"intermediate_size\": 3072, \"num_heads\": 12, \"in_channels\": 3, \"patch_size\": 16, \"spatial_merge_size\": 2,"
    "  \"temporal_patch_size\": 2, \"out_hidden_size\": 1024, \"num_position_embeddings\": 2304,"
    "  \"deepstack_visual_indexes\": []}}";

static void parse_ok(q35_config *c, const char *json) {
    ck_assert_msg(q35_config_parse(c, json, "config.json", err, sizeof err) == 0, "%s\n  in %s", err, json);
}

/* ---- the shipped and the released configs ---- */

START_TEST(small_text_flat_layout) {
    q35_config c;
    ck_assert_msg(q35_config_load(&c, "golden/data/small_text/checkpoint_f32", err, sizeof err) == 0, "%s", err);
    const q35_text_config *t = &c.text;
    ck_assert_str_eq(c.architecture, "Qwen3_5ForCausalLM");
    ck_assert_str_eq(c.model_type, "qwen3_5_text");
    ck_assert_int_eq(c.vision.present, 0);
    ck_assert_int_eq(t->vocab_size, 1000);
    ck_assert_int_eq(t->hidden_size, 96);
    ck_assert_int_eq(t->intermediate_size, 160);
    ck_assert_int_eq(t->num_layers, 8);
    for (int i = 0; i < 8; i++) ck_assert_int_eq(t->is_full[i], i == 3 || i == 7);
    ck_assert_int_eq(t->num_heads, 6);
    ck_assert_int_eq(t->num_kv_heads, 2);
    ck_assert_int_eq(t->head_dim, 48);
    ck_assert_int_eq(t->rotary_dim, 12);
    ck_assert_int_eq(t->mrope_section[0], 2);
    ck_assert_int_eq(t->mrope_section[1], 2);
    ck_assert_int_eq(t->mrope_section[2], 2);
    ck_assert_int_eq(t->mrope_interleaved, 1);
    ck_assert_int_eq(t->lin_num_k_heads, 2);
    ck_assert_int_eq(t->lin_k_dim, 24);
    ck_assert_int_eq(t->lin_num_v_heads, 6);
    ck_assert_int_eq(t->lin_v_dim, 16);
    ck_assert_int_eq(t->conv_kernel, 4);
    ck_assert_int_eq(t->tie_word_embeddings, 0);
    ck_assert_double_eq(t->rope_theta, 1e7);
    ck_assert_double_eq(t->rms_norm_eps, 1e-6);
    ck_assert_int_eq(t->max_position_embeddings, 4096);
    ck_assert_int_eq(t->eos_token_id, 998);
}
END_TEST

START_TEST(small_vl_composite_layout) {
    q35_config c;
    ck_assert_msg(q35_config_load(&c, SMALL_VL, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(c.architecture, "Qwen3_5ForConditionalGeneration");
    ck_assert_str_eq(c.model_type, "qwen3_5");
    ck_assert_int_eq(c.text.num_layers, 4);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(c.text.is_full[i], i == 3);
    ck_assert_int_eq(c.text.hidden_size, 96);
    ck_assert_int_eq(c.text.tie_word_embeddings, 1);
    ck_assert_int_eq(c.vision.present, 1);
    ck_assert_int_eq(c.vision.depth, 3);
    ck_assert_int_eq(c.vision.hidden_size, 48);
    ck_assert_int_eq(c.vision.num_heads, 3);
    ck_assert_int_eq(c.vision.intermediate_size, 96);
    ck_assert_int_eq(c.vision.out_hidden_size, 96);
    ck_assert_int_eq(c.vision.num_position_embeddings, 36);
    ck_assert_int_eq(c.vision.patch_size, 16);
    ck_assert_int_eq(c.vision.temporal_patch_size, 2);
    ck_assert_int_eq(c.vision.spatial_merge_size, 2);
    ck_assert_str_eq(c.vision.hidden_act, "gelu_pytorch_tanh");
    ck_assert_double_eq(c.vision.rope_theta, 10000.0);
    ck_assert_int_eq(c.image_token_id, 990);
    ck_assert_int_eq(c.video_token_id, 991);
    ck_assert_int_eq(c.vision_start_token_id, 988);
    ck_assert_int_eq(c.vision_end_token_id, 989);
}
END_TEST

START_TEST(real_0_8b_config) {
    q35_config c;
    parse_ok(&c, cfg_08b);
    const q35_text_config *t = &c.text;
    ck_assert_int_eq(t->vocab_size, 248320);
    ck_assert_int_eq(t->hidden_size, 1024);
    ck_assert_int_eq(t->intermediate_size, 3584);
    ck_assert_int_eq(t->num_layers, 24);
    for (int i = 0; i < 24; i++) ck_assert_int_eq(t->is_full[i], (i + 1) % 4 == 0); /* 3, 7, ..., 23 */
    ck_assert_int_eq(t->num_heads, 8);
    ck_assert_int_eq(t->num_kv_heads, 2);
    ck_assert_int_eq(t->head_dim, 256);
    ck_assert_int_eq(t->rotary_dim, 64);
    ck_assert_int_eq(t->mrope_section[0], 11);
    ck_assert_int_eq(t->mrope_section[1], 11);
    ck_assert_int_eq(t->mrope_section[2], 10);
    ck_assert_double_eq(t->rope_theta, 1e7);
    ck_assert_int_eq(t->lin_num_k_heads, 16);
    ck_assert_int_eq(t->lin_num_v_heads, 16);
    ck_assert_int_eq(q35_lin_key_dim(t), 2048);
    ck_assert_int_eq(q35_lin_value_dim(t), 2048);
    ck_assert_int_eq(q35_lin_conv_dim(t), 6144);
    ck_assert_int_eq(t->tie_word_embeddings, 1);
    ck_assert_int_eq(t->max_position_embeddings, 262144);
    ck_assert_int_eq(t->eos_token_id, 248044);
    ck_assert_int_eq(c.mtp_num_hidden_layers, 1);
    ck_assert_int_eq(c.vision.present, 1);
    ck_assert_int_eq(c.vision.depth, 12);
    ck_assert_int_eq(c.vision.hidden_size, 768);
    ck_assert_int_eq(c.vision.num_heads, 12);
    ck_assert_int_eq(c.vision.intermediate_size, 3072);
    ck_assert_int_eq(c.vision.out_hidden_size, 1024);
    ck_assert_int_eq(c.vision.num_position_embeddings, 2304);
    ck_assert_int_eq(c.image_token_id, 248056);
    ck_assert_int_eq(c.vision_end_token_id, 248054);
}
END_TEST

/* ---- defaults and fallbacks ---- */

START_TEST(defaults_text) {
    /* Qwen3_5TextConfig() */
    q35_config c;
    parse_ok(&c, "{\"model_type\": \"qwen3_5_text\"}");
    const q35_text_config *t = &c.text;
    ck_assert_int_eq(c.vision.present, 0);
    ck_assert_int_eq(t->vocab_size, 248320);
    ck_assert_int_eq(t->hidden_size, 4096);
    ck_assert_int_eq(t->intermediate_size, 12288);
    ck_assert_int_eq(t->num_layers, 32);
    for (int i = 0; i < 32; i++) ck_assert_int_eq(t->is_full[i], (i + 1) % 4 == 0);
    ck_assert_int_eq(t->num_heads, 16);
    ck_assert_int_eq(t->num_kv_heads, 4);
    ck_assert_int_eq(t->head_dim, 256);
    ck_assert_double_eq(t->rope_theta, 10000.0);
    ck_assert_double_eq(t->partial_rotary_factor, 0.25);
    ck_assert_int_eq(t->rotary_dim, 64);
    ck_assert_int_eq(t->mrope_section[0], 11);
    ck_assert_int_eq(t->mrope_section[1], 11);
    ck_assert_int_eq(t->mrope_section[2], 10);
    ck_assert_int_eq(t->lin_num_k_heads, 16);
    ck_assert_int_eq(t->lin_num_v_heads, 32);
    ck_assert_int_eq(t->lin_k_dim, 128);
    ck_assert_int_eq(t->lin_v_dim, 128);
    ck_assert_int_eq(t->conv_kernel, 4);
    ck_assert_double_eq(t->rms_norm_eps, 1e-6);
    ck_assert_int_eq(t->tie_word_embeddings, 0);
    ck_assert_int_eq(t->max_position_embeddings, 32768);
    ck_assert_int_eq(t->eos_token_id, -1);
    ck_assert_int_eq(c.mtp_num_hidden_layers, 0);
    /* q35_config_defaults is what an empty config means */
    q35_config d;
    q35_config_defaults(&d);
    parse_ok(&c, "{}");
    ck_assert_mem_eq(&c, &d, sizeof c);
}
END_TEST

START_TEST(defaults_composite) {
    /* Qwen3_5Config(): token ids, an untied head, Qwen3_5VisionConfig() (its out_hidden_size 3584 set to
     * the text width, which transformers' own defaults leave inconsistent) */
    q35_config c;
    parse_ok(&c, "{\"model_type\": \"qwen3_5\", \"text_config\": {\"hidden_size\": 3584},"
                 " \"vision_config\": {\"model_type\": \"qwen3_5\"}}");
    const q35_vision_config *v = &c.vision;
    ck_assert_int_eq(c.text.hidden_size, 3584);
    ck_assert_int_eq(c.text.num_layers, 32);
    ck_assert_int_eq(c.text.tie_word_embeddings, 0);
    ck_assert_int_eq(c.image_token_id, 248056);
    ck_assert_int_eq(c.video_token_id, 248057);
    ck_assert_int_eq(c.vision_start_token_id, 248053);
    ck_assert_int_eq(c.vision_end_token_id, 248054);
    ck_assert_int_eq(v->present, 1);
    ck_assert_int_eq(v->depth, 27);
    ck_assert_int_eq(v->hidden_size, 1152);
    ck_assert_int_eq(v->num_heads, 16);
    ck_assert_int_eq(v->intermediate_size, 4304);
    ck_assert_int_eq(v->in_channels, 3);
    ck_assert_int_eq(v->patch_size, 16);
    ck_assert_int_eq(v->temporal_patch_size, 2);
    ck_assert_int_eq(v->spatial_merge_size, 2);
    ck_assert_int_eq(v->out_hidden_size, 3584);
    ck_assert_int_eq(v->num_position_embeddings, 2304);
    ck_assert_str_eq(v->hidden_act, "gelu_pytorch_tanh");
    ck_assert_double_eq(v->rope_theta, 10000.0);
    /* without vision_config no vision tower is described */
    parse_ok(&c, "{\"model_type\": \"qwen3_5\", \"text_config\": {}}");
    ck_assert_int_eq(c.vision.present, 0);
    ck_assert_int_eq(c.text.hidden_size, 4096);
}
END_TEST

START_TEST(interval_without_layer_types) {
    q35_config c;
    parse_ok(&c, "{\"num_hidden_layers\": 6, \"full_attention_interval\": 3}");
    for (int i = 0; i < 6; i++) ck_assert_int_eq(c.text.is_full[i], i == 2 || i == 5);
    parse_ok(&c, "{\"num_hidden_layers\": 3, \"full_attention_interval\": 1}");
    for (int i = 0; i < 3; i++) ck_assert_int_eq(c.text.is_full[i], 1);
    /* no interval either: every 4th */
    parse_ok(&c, "{\"num_hidden_layers\": 8}");
    for (int i = 0; i < 8; i++) ck_assert_int_eq(c.text.is_full[i], i == 3 || i == 7);
    /* layer_types wins over the interval */
    parse_ok(&c, "{\"num_hidden_layers\": 3, \"full_attention_interval\": 3,"
                 " \"layer_types\": [\"full_attention\", \"linear_attention\", \"linear_attention\"]}");
    ck_assert_int_eq(c.text.is_full[0], 1);
    ck_assert_int_eq(c.text.is_full[2], 0);
    /* inside text_config too */
    parse_ok(&c, "{\"text_config\": {\"num_hidden_layers\": 4, \"full_attention_interval\": 2}}");
    for (int i = 0; i < 4; i++) ck_assert_int_eq(c.text.is_full[i], i % 2 == 1);
}
END_TEST

START_TEST(legacy_rope_keys) {
    q35_config c;
    /* top-level keys when there is no rope dict */
    parse_ok(&c, "{\"rope_theta\": 5000, \"partial_rotary_factor\": 0.5}");
    ck_assert_double_eq(c.text.rope_theta, 5000);
    ck_assert_int_eq(c.text.rotary_dim, 128);
    /* the dict's own keys win; the top-level ones fill the gaps */
    parse_ok(&c, "{\"rope_theta\": 5000, \"partial_rotary_factor\": 0.5,"
                 " \"rope_parameters\": {\"rope_theta\": 7000, \"mrope_section\": [22, 21, 21]}}");
    ck_assert_double_eq(c.text.rope_theta, 7000);
    ck_assert_int_eq(c.text.rotary_dim, 128);
    parse_ok(&c, "{\"rope_theta\": 5000, \"rope_parameters\": {\"partial_rotary_factor\": 0.125,"
                 " \"mrope_section\": [6, 5, 5]}}");
    ck_assert_double_eq(c.text.rope_theta, 5000);
    ck_assert_int_eq(c.text.rotary_dim, 32);
    /* the old name rope_scaling, with "type" */
    parse_ok(&c, "{\"rope_scaling\": {\"type\": \"default\", \"rope_theta\": 3000, \"mrope_section\": [16, 8, 8],"
                 " \"mrope_interleaved\": false}}");
    ck_assert_double_eq(c.text.rope_theta, 3000);
    ck_assert_int_eq(c.text.mrope_section[0], 16);
    ck_assert_int_eq(c.text.mrope_interleaved, 0);
    /* vision: rope_parameters.rope_theta, else the legacy key */
    parse_ok(&c, "{\"text_config\": {\"hidden_size\": 3584}, \"vision_config\": {\"rope_theta\": 500}}");
    ck_assert_double_eq(c.vision.rope_theta, 500);
    parse_ok(&c, "{\"text_config\": {\"hidden_size\": 3584}, \"vision_config\": {\"rope_theta\": 500,"
                 " \"rope_parameters\": {\"rope_type\": \"axial\", \"rope_theta\": 600}}}");
    ck_assert_double_eq(c.vision.rope_theta, 600);
}
END_TEST

START_TEST(mrope_section_default_follows_transformers) {
    /* transformers' [11, 11, 10] in the interleaved layout, clipped to the rotary dim */
    q35_config c;
    parse_ok(&c, "{\"head_dim\": 48}"); /* R = 12: slots T H W T H W */
    ck_assert_int_eq(c.text.rotary_dim, 12);
    ck_assert_int_eq(c.text.mrope_section[0], 2);
    ck_assert_int_eq(c.text.mrope_section[1], 2);
    ck_assert_int_eq(c.text.mrope_section[2], 2);
    parse_ok(&c, "{\"head_dim\": 16, \"partial_rotary_factor\": 1.0}"); /* R = 16: T H W T H W T H */
    ck_assert_int_eq(c.text.mrope_section[0], 3);
    ck_assert_int_eq(c.text.mrope_section[1], 3);
    ck_assert_int_eq(c.text.mrope_section[2], 2);
    parse_ok(&c, "{\"head_dim\": 512}"); /* R = 128: past slot 33 everything is T */
    ck_assert_int_eq(c.text.mrope_section[0], 43);
    ck_assert_int_eq(c.text.mrope_section[1], 11);
    ck_assert_int_eq(c.text.mrope_section[2], 10);
}
END_TEST

START_TEST(eos_forms) {
    q35_config c;
    parse_ok(&c, "{\"eos_token_id\": [7, 8]}");
    ck_assert_int_eq(c.text.eos_token_id, 7);
    parse_ok(&c, "{\"eos_token_id\": 9}");
    ck_assert_int_eq(c.text.eos_token_id, 9);
    parse_ok(&c, "{\"eos_token_id\": null}");
    ck_assert_int_eq(c.text.eos_token_id, -1);
    parse_ok(&c, "{\"eos_token_id\": []}");
    ck_assert_int_eq(c.text.eos_token_id, -1);
}
END_TEST

START_TEST(composite_tie_flag) {
    /* Qwen3_5ForConditionalGeneration reads the top-level flag (default false), never text_config's */
    q35_config c;
    parse_ok(&c, "{\"tie_word_embeddings\": true, \"text_config\": {\"tie_word_embeddings\": false}}");
    ck_assert_int_eq(c.text.tie_word_embeddings, 1);
    parse_ok(&c, "{\"tie_word_embeddings\": false, \"text_config\": {\"tie_word_embeddings\": true}}");
    ck_assert_int_eq(c.text.tie_word_embeddings, 0);
    parse_ok(&c, "{\"text_config\": {\"tie_word_embeddings\": true}}");
    ck_assert_int_eq(c.text.tie_word_embeddings, 0);
    /* the flat text model has its own */
    parse_ok(&c, "{\"tie_word_embeddings\": true}");
    ck_assert_int_eq(c.text.tie_word_embeddings, 1);
}
END_TEST

START_TEST(composite_ignores_top_level_text_keys) {
    q35_config c;
    parse_ok(&c, "{\"hidden_size\": 8, \"text_config\": {\"hidden_size\": 64}}");
    ck_assert_int_eq(c.text.hidden_size, 64);
    parse_ok(&c, "{\"model_type\": \"qwen3_5\", \"hidden_size\": 8}");
    ck_assert_int_eq(c.text.hidden_size, 4096);
}
END_TEST

/* ---- save ---- */

/* Saves and loads back; every field must survive (a's names must be those of its layout). */
static void round_trip(const q35_config *a) {
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(path, sizeof path, "%s/config.json", dir);
    q35_config b;
    ck_assert_msg(q35_config_save(a, path, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(q35_config_load(&b, dir, err, sizeof err) == 0, "%s", err);
    ck_assert_mem_eq(&a->text, &b.text, sizeof a->text);
    ck_assert_mem_eq(&a->vision, &b.vision, sizeof a->vision);
    ck_assert_mem_eq(a, &b, sizeof b);
    tu_rm_rf(dir);
}

START_TEST(round_trip_real_0_8b) {
    q35_config a;
    parse_ok(&a, cfg_08b);
    round_trip(&a);
}
END_TEST

START_TEST(round_trip_small_sets) {
    q35_config a;
    ck_assert_msg(q35_config_load(&a, SMALL_TEXT, err, sizeof err) == 0, "%s", err);
    round_trip(&a);
    ck_assert_msg(q35_config_load(&a, SMALL_VL, err, sizeof err) == 0, "%s", err);
    round_trip(&a);
}
END_TEST

START_TEST(round_trip_unusual_values) {
    /* no eos, a layer pattern with no interval, non-interleaved flag, odd rope numbers, vision theta */
    q35_config a;
    parse_ok(&a, "{\"architectures\": [\"Qwen3_5ForConditionalGeneration\"], \"model_type\": \"qwen3_5\","
                 " \"text_config\": {\"vocab_size\": 500, \"hidden_size\": 64, \"num_hidden_layers\": 5,"
                 " \"layer_types\": [\"full_attention\", \"linear_attention\", \"full_attention\", \"full_attention\","
                 " \"linear_attention\"], \"num_attention_heads\": 4, \"num_key_value_heads\": 1, \"head_dim\": 40,"
                 " \"rms_norm_eps\": 1.2345678901234567e-05, \"rope_parameters\": {\"rope_theta\": 12345.678901234567,"
                 " \"partial_rotary_factor\": 0.3, \"mrope_section\": [6, 0, 0], \"mrope_interleaved\": false}},"
                 " \"vision_config\": {\"hidden_size\": 32, \"num_heads\": 2, \"out_hidden_size\": 64, \"depth\": 1,"
                 " \"num_position_embeddings\": 16, \"rope_parameters\": {\"rope_theta\": 5000.5}},"
                 " \"image_token_id\": 1, \"video_token_id\": 2, \"vision_start_token_id\": 3, \"vision_end_token_id\": 4}");
    ck_assert_int_eq(a.text.rotary_dim, 12);
    ck_assert_int_eq(a.text.eos_token_id, -1);
    round_trip(&a);
    /* an all-linear stack, flat */
    parse_ok(&a, "{\"architectures\": [\"Qwen3_5ForCausalLM\"], \"model_type\": \"qwen3_5_text\","
                 " \"num_hidden_layers\": 2, \"layer_types\": [\"linear_attention\", \"linear_attention\"],"
                 " \"eos_token_id\": 0, \"tie_word_embeddings\": true}");
    round_trip(&a);
}
END_TEST

/* The written file has the keys of the released config.json (spec section 1). */
static void has_keys(const cJSON *o, const char *where, const char *const *keys) {
    for (int i = 0; keys[i]; i++)
        ck_assert_msg(cJSON_GetObjectItemCaseSensitive(o, keys[i]), "%s lacks %s", where, keys[i]);
}

START_TEST(save_layouts) {
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(path, sizeof path, "%s/config.json", dir);
    q35_config a;
    parse_ok(&a, cfg_08b);
    ck_assert_msg(q35_config_save(&a, path, err, sizeof err) == 0, "%s", err);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *root = cJSON_Parse(buf);
    ck_assert_ptr_nonnull(root);
    static const char *const top[] = { "architectures", "model_type", "image_token_id", "video_token_id",
                                       "vision_start_token_id", "vision_end_token_id", "tie_word_embeddings",
                                       "transformers_version", "text_config", "vision_config", NULL };
    static const char *const text[] = {
        "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
        "num_key_value_heads", "head_dim", "hidden_act", "rms_norm_eps", "attention_bias", "attn_output_gate",
        "full_attention_interval", "layer_types", "linear_conv_kernel_dim", "linear_key_head_dim",
        "linear_value_head_dim", "linear_num_key_heads", "linear_num_value_heads", "max_position_embeddings",
        "rope_parameters", "partial_rotary_factor", "mamba_ssm_dtype", "mtp_num_hidden_layers",
        "mtp_use_dedicated_embeddings", "dtype", "eos_token_id", "mlp_only_layers", "use_cache", "model_type", NULL
    };
    static const char *const vision[] = { "model_type", "depth", "hidden_size", "hidden_act", "intermediate_size",
                                          "num_heads", "in_channels", "patch_size", "spatial_merge_size",
                                          "temporal_patch_size", "out_hidden_size", "num_position_embeddings",
                                          "deepstack_visual_indexes", NULL };
    static const char *const rope[] = { "rope_type", "rope_theta", "partial_rotary_factor", "mrope_section",
                                        "mrope_interleaved", NULL };
    has_keys(root, "top level", top);
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(root, "text_config");
    has_keys(tc, "text_config", text);
    has_keys(cJSON_GetObjectItemCaseSensitive(tc, "rope_parameters"), "rope_parameters", rope);
    has_keys(cJSON_GetObjectItemCaseSensitive(root, "vision_config"), "vision_config", vision);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(root, "model_type")->valuestring, "qwen3_5");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(tc, "dtype")->valuestring, "bfloat16");
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "architectures"), 0)->valuestring,
                     "Qwen3_5ForConditionalGeneration");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(tc, "full_attention_interval")->valueint, 4);
    cJSON_Delete(root);

    /* text only: the flat Qwen3_5ForCausalLM layout */
    ck_assert_msg(q35_config_load(&a, SMALL_TEXT, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(q35_config_save(&a, path, err, sizeof err) == 0, "%s", err);
    f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    root = cJSON_Parse(buf);
    ck_assert_ptr_nonnull(root);
    has_keys(root, "flat layout", text);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(root, "text_config"));
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(root, "vision_config"));
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(root, "model_type")->valuestring, "qwen3_5_text");
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "architectures"), 0)->valuestring,
                     "Qwen3_5ForCausalLM");
    cJSON_Delete(root);
    tu_rm_rf(dir);
}
END_TEST

START_TEST(save_refuses_invalid) {
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(path, sizeof path, "%s/config.json", dir);
    q35_config a;
    q35_config_defaults(&a);
    a.text.num_kv_heads = 3;
    ck_assert_int_eq(q35_config_save(&a, path, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "num_key_value_heads (3)"), "%s", err);
    q35_config_defaults(&a);
    snprintf(path, sizeof path, "%s/missing/config.json", dir);
    ck_assert_int_eq(q35_config_save(&a, path, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "missing/config.json") && strstr(err, "cannot create"), "%s", err);
    tu_rm_rf(dir);
}
END_TEST

START_TEST(load_errors) {
    q35_config c;
    ck_assert_int_eq(q35_config_load(&c, "/nonexistent/dir", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "/nonexistent/dir"), "%s", err);
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    ck_assert_int_eq(q35_config_load(&c, dir, err, sizeof err), -1); /* a directory without config.json */
    ck_assert_msg(strstr(err, "config.json"), "%s", err);
    snprintf(path, sizeof path, "%s/config.json", dir);
    tu_write_file(path, "{\"hidden_size\": 6}\0junk", 23);
    ck_assert_int_eq(q35_config_load(&c, path, err, sizeof err), -1);
    ck_assert_msg(strstr(err, path) && strstr(err, "NUL"), "%s", err);
    tu_rm_rf(dir);
}
END_TEST

/* ---- one test per consistency error: -1, the file named, the keys named ---- */

static void expect_bad(const char *json, const char *frag) {
    q35_config c;
    ck_assert_msg(q35_config_parse(&c, json, "bad/config.json", err, sizeof err) == -1, "accepted: %s", json);
    ck_assert_msg(strncmp(err, "bad/config.json: ", 17) == 0, "no file name: %s", err);
    ck_assert_msg(strstr(err, frag), "'%s' not in: %s", frag, err);
}

#define BAD(name, json, frag) \
    START_TEST(name) { expect_bad(json, frag); } \
    END_TEST

/* not a config at all */
BAD(err_not_json, "not json", "not valid JSON")
BAD(err_truncated_json, "{\"hidden_size\": 96,", "not valid JSON")
BAD(err_trailing_text, "{} trailing", "not valid JSON")
BAD(err_not_an_object, "[1]", "not a JSON object")
/* wrong JSON types */
BAD(err_string_for_int, "{\"hidden_size\": \"1024\"}", "hidden_size must be an integer, got \"1024\"")
BAD(err_fraction_for_int, "{\"hidden_size\": 10.5}", "hidden_size must be an integer, got 10.5")
BAD(err_null_for_int, "{\"head_dim\": null}", "head_dim must be an integer, got null")
BAD(err_string_for_number, "{\"rms_norm_eps\": \"x\"}", "rms_norm_eps must be a number")
BAD(err_int_for_bool, "{\"tie_word_embeddings\": 1}", "tie_word_embeddings must be true or false")
BAD(err_eos_type, "{\"eos_token_id\": [1, \"2\"]}", "eos_token_id must be an integer or a list of integers")
BAD(err_text_config_type, "{\"text_config\": 5}", "text_config must be an object")
BAD(err_vision_config_type, "{\"text_config\": {}, \"vision_config\": []}", "vision_config must be an object")
BAD(err_rope_parameters_type, "{\"rope_parameters\": [1]}", "rope_parameters must be an object")
BAD(err_section_named, "{\"text_config\": {\"num_attention_heads\": \"x\"}}",
    "text_config.num_attention_heads must be an integer")
BAD(err_vision_section_named, "{\"text_config\": {}, \"vision_config\": {\"depth\": true}}",
    "vision_config.depth must be an integer")
/* sizes */
BAD(err_hidden_zero, "{\"hidden_size\": 0}", "hidden_size must be positive, got 0")
BAD(err_vocab_negative, "{\"vocab_size\": -1}", "vocab_size must be positive, got -1")
BAD(err_conv_kernel_zero, "{\"linear_conv_kernel_dim\": 0}", "linear_conv_kernel_dim must be positive")
BAD(err_layers_zero, "{\"num_hidden_layers\": 0, \"layer_types\": []}", "num_hidden_layers must be positive")
BAD(err_too_many_layers, "{\"num_hidden_layers\": 300}", "num_hidden_layers (300) exceeds")
BAD(err_implausible_size, "{\"hidden_size\": 100000000}", "hidden_size (100000000) is implausibly large")
/* heads */
BAD(err_kv_heads_not_divisor, "{\"num_attention_heads\": 6, \"num_key_value_heads\": 4}",
    "num_attention_heads (6) is not a multiple of num_key_value_heads (4)")
BAD(err_linear_heads_not_divisor, "{\"linear_num_key_heads\": 3, \"linear_num_value_heads\": 8}",
    "linear_num_value_heads (8) is not a multiple of linear_num_key_heads (3)")
/* rope */
BAD(err_rotary_odd, "{\"head_dim\": 10, \"partial_rotary_factor\": 0.3}", "must be even")
BAD(err_rotary_factor_above_one, "{\"partial_rotary_factor\": 1.5}", "partial_rotary_factor must be in (0, 1]")
BAD(err_rotary_factor_zero, "{\"rope_parameters\": {\"partial_rotary_factor\": 0}}", "partial_rotary_factor")
BAD(err_mrope_sum, "{\"rope_parameters\": {\"mrope_section\": [10, 10, 10]}}", "mrope_section [10, 10, 10] sums to 30")
BAD(err_mrope_length, "{\"rope_parameters\": {\"mrope_section\": [11, 11]}}", "mrope_section must be a list of 3")
BAD(err_mrope_negative, "{\"rope_parameters\": {\"mrope_section\": [34, -1, -1]}}", "mrope_section")
BAD(err_rope_type, "{\"rope_parameters\": {\"rope_type\": \"yarn\"}}", "rope_parameters.rope_type \"yarn\" is not supported")
BAD(err_rope_theta_zero, "{\"rope_theta\": 0}", "rope_theta must be positive")
/* layers */
BAD(err_layer_types_length, "{\"num_hidden_layers\": 2, \"layer_types\": [\"linear_attention\"]}",
    "layer_types has 1 entries, but num_hidden_layers is 2")
BAD(err_layer_types_value, "{\"num_hidden_layers\": 1, \"layer_types\": [\"mamba\"]}", "layer_types[0] is \"mamba\"")
BAD(err_layer_types_type, "{\"num_hidden_layers\": 1, \"layer_types\": \"full_attention\"}", "layer_types must be a list")
BAD(err_interval_zero, "{\"full_attention_interval\": 0}", "full_attention_interval must be at least 1")
BAD(err_eps, "{\"rms_norm_eps\": 0}", "rms_norm_eps must be in (0, 1)")
/* vision */
BAD(err_vision_heads_not_divisor,
    "{\"text_config\": {\"hidden_size\": 4096}, \"vision_config\": {\"hidden_size\": 100, \"num_heads\": 16, \"out_hidden_size\": 4096}}",
    "vision_config.hidden_size (100) is not a multiple of vision_config.num_heads (16)")
BAD(err_vision_head_dim_odd_quarter,
    "{\"text_config\": {\"hidden_size\": 4096}, \"vision_config\": {\"hidden_size\": 96, \"num_heads\": 16, \"out_hidden_size\": 4096}}",
    "vision head dim 6 (hidden_size 96 / num_heads 16) must be a multiple of 4")
BAD(err_vision_pos_not_square, "{\"text_config\": {\"hidden_size\": 3584}, \"vision_config\": {\"num_position_embeddings\": 2000}}",
    "vision_config.num_position_embeddings (2000) is not a perfect square")
BAD(err_vision_merge_zero, "{\"text_config\": {\"hidden_size\": 3584}, \"vision_config\": {\"spatial_merge_size\": 0}}",
    "vision_config.spatial_merge_size must be positive")
BAD(err_vision_depth_zero, "{\"text_config\": {\"hidden_size\": 3584}, \"vision_config\": {\"depth\": 0}}",
    "vision_config.depth must be positive")
BAD(err_vision_out_hidden, "{\"text_config\": {\"hidden_size\": 1024}, \"vision_config\": {}}",
    "vision_config.out_hidden_size (3584) differs from the text hidden_size (1024)")
BAD(err_vision_rope_type, "{\"text_config\": {\"hidden_size\": 3584}, \"vision_config\": {\"rope_parameters\": {\"rope_type\": \"yarn\"}}}",
    "vision_config.rope_parameters.rope_type \"yarn\" is not supported")
BAD(err_image_token_outside_vocab, "{\"text_config\": {\"hidden_size\": 3584, \"vocab_size\": 1000}, \"vision_config\": {}}",
    "image_token_id (248056) is outside the vocabulary [0, 1000)")

START_TEST(err_validate_config_built_in_code) {
    q35_config c;
    q35_config_defaults(&c);
    ck_assert_msg(q35_config_validate(&c, "preset", err, sizeof err) == 0, "%s", err);
    c.text.rotary_dim = 32; /* disagrees with head_dim * partial_rotary_factor */
    ck_assert_int_eq(q35_config_validate(&c, "preset", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "preset: rotary_dim 32 differs"), "%s", err);
    q35_config_defaults(&c);
    c.text.mrope_section[1] = 12;
    ck_assert_int_eq(q35_config_validate(&c, "preset", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "sums to 33"), "%s", err);
}
END_TEST

int main(void) {
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, small_text_flat_layout);
    tcase_add_test(tc, small_vl_composite_layout);
    tcase_add_test(tc, real_0_8b_config);
    tcase_add_test(tc, defaults_text);
    tcase_add_test(tc, defaults_composite);
    tcase_add_test(tc, interval_without_layer_types);
    tcase_add_test(tc, legacy_rope_keys);
    tcase_add_test(tc, mrope_section_default_follows_transformers);
    tcase_add_test(tc, eos_forms);
    tcase_add_test(tc, composite_tie_flag);
    tcase_add_test(tc, composite_ignores_top_level_text_keys);
    suite_add_tcase(s, tc);

    tc = tcase_create("save");
    tcase_add_test(tc, round_trip_real_0_8b);
    tcase_add_test(tc, round_trip_small_sets);
    tcase_add_test(tc, round_trip_unusual_values);
    tcase_add_test(tc, save_layouts);
    tcase_add_test(tc, save_refuses_invalid);
    tcase_add_test(tc, load_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, err_not_json);
    tcase_add_test(tc, err_truncated_json);
    tcase_add_test(tc, err_trailing_text);
    tcase_add_test(tc, err_not_an_object);
    tcase_add_test(tc, err_string_for_int);
    tcase_add_test(tc, err_fraction_for_int);
    tcase_add_test(tc, err_null_for_int);
    tcase_add_test(tc, err_string_for_number);
    tcase_add_test(tc, err_int_for_bool);
    tcase_add_test(tc, err_eos_type);
    tcase_add_test(tc, err_text_config_type);
    tcase_add_test(tc, err_vision_config_type);
    tcase_add_test(tc, err_rope_parameters_type);
    tcase_add_test(tc, err_section_named);
    tcase_add_test(tc, err_vision_section_named);
    tcase_add_test(tc, err_hidden_zero);
    tcase_add_test(tc, err_vocab_negative);
    tcase_add_test(tc, err_conv_kernel_zero);
    tcase_add_test(tc, err_layers_zero);
    tcase_add_test(tc, err_too_many_layers);
    tcase_add_test(tc, err_implausible_size);
    tcase_add_test(tc, err_kv_heads_not_divisor);
    tcase_add_test(tc, err_linear_heads_not_divisor);
    tcase_add_test(tc, err_rotary_odd);
    tcase_add_test(tc, err_rotary_factor_above_one);
    tcase_add_test(tc, err_rotary_factor_zero);
    tcase_add_test(tc, err_mrope_sum);
    tcase_add_test(tc, err_mrope_length);
    tcase_add_test(tc, err_mrope_negative);
    tcase_add_test(tc, err_rope_type);
    tcase_add_test(tc, err_rope_theta_zero);
    tcase_add_test(tc, err_layer_types_length);
    tcase_add_test(tc, err_layer_types_value);
    tcase_add_test(tc, err_layer_types_type);
    tcase_add_test(tc, err_interval_zero);
    tcase_add_test(tc, err_eps);
    tcase_add_test(tc, err_vision_heads_not_divisor);
    tcase_add_test(tc, err_vision_head_dim_odd_quarter);
    tcase_add_test(tc, err_vision_pos_not_square);
    tcase_add_test(tc, err_vision_merge_zero);
    tcase_add_test(tc, err_vision_depth_zero);
    tcase_add_test(tc, err_vision_out_hidden);
    tcase_add_test(tc, err_vision_rope_type);
    tcase_add_test(tc, err_image_token_outside_vocab);
    tcase_add_test(tc, err_validate_config_built_in_code);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
