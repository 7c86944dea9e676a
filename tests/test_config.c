/* test_config.c - config.json in both layouts, transformers' defaults, and every consistency error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q35.h"
#include "testutil.h"

static char err[2048];

/* The released Qwen3.5-0.8B config.json, as published (spec section 1). */
static const char *cfg_08b =
    "{\"architectures\": [\"Qwen3_5ForConditionalGeneration\"], \"model_type\": \"qwen3_5\","
    " \"image_token_id\": 248056, \"video_token_id\": 248057, \"vision_start_token_id\": 248053,"
    " \"vision_end_token_id\": 248054, \"tie_word_embeddings\": true, \"transformers_version\": \"4.57.0.dev0\","
    " \"text_config\": {\"model_type\": \"qwen3_5_text\", \"vocab_size\": 248320, \"hidden_size\": 1024,"
    "  \"intermediate_size\": 3584, \"num_hidden_layers\": 24, \"num_attention_heads\": 8, \"num_key_value_heads\": 2,"
    "  \"head_dim\": 256, \"hidden_act\": \"silu\", \"rms_norm_eps\": 1e-06, \"attention_bias\": false,"
    "  \"attn_output_gate\": true, \"full_attention_interval\": 4,"
    "  \"layer_types\": [\"linear_attention\", \"linear_attention\", \"linear_attention\", \"full_attention\","
    "   \"linear_attention\", \"linear_attention\", \"linear_attention\", \"full_attention\","
    "   \"linear_attention\", \"linear_attention\", \"linear_attention\", \"full_attention\","
    "   \"linear_attention\", \"linear_attention\", \"linear_attention\", \"full_attention\","
    "   \"linear_attention\", \"linear_attention\", \"linear_attention\", \"full_attention\","
    "   \"linear_attention\", \"linear_attention\", \"linear_attention\", \"full_attention\"],"
    "  \"linear_conv_kernel_dim\": 4, \"linear_key_head_dim\": 128, \"linear_value_head_dim\": 128,"
    "  \"linear_num_key_heads\": 16, \"linear_num_value_heads\": 16, \"max_position_embeddings\": 262144,"
    "  \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 10000000, \"partial_rotary_factor\": 0.25,"
    "   \"mrope_section\": [11, 11, 10], \"mrope_interleaved\": true},"
    "  \"mamba_ssm_dtype\": \"float32\", \"mtp_num_hidden_layers\": 1, \"mtp_use_dedicated_embeddings\": false,"
    "  \"dtype\": \"bfloat16\", \"eos_token_id\": 248044, \"use_cache\": true},"
    " \"vision_config\": {\"model_type\": \"qwen3_5\", \"depth\": 12, \"hidden_size\": 768, \"hidden_act\": \"gelu_pytorch_tanh\","
    "  \"intermediate_size\": 3072, \"num_heads\": 12, \"in_channels\": 3, \"patch_size\": 16, \"spatial_merge_size\": 2,"
    "  \"temporal_patch_size\": 2, \"out_hidden_size\": 1024, \"num_position_embeddings\": 2304,"
    "  \"deepstack_visual_indexes\": []}}";

START_TEST(small_text_flat_layout) {
    q35_config c;
    ck_assert_msg(q35_config_load(&c, "golden/data/small_text/checkpoint_f32", err, sizeof err) == 0, "%s", err);
    const q35_text_config *t = &c.text;
    ck_assert_str_eq(c.architecture, "Qwen3_5ForCausalLM");
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
    ck_assert_int_eq(t->mrope_section[2], 2);
    ck_assert_int_eq(t->lin_num_k_heads, 2);
    ck_assert_int_eq(t->lin_k_dim, 24);
    ck_assert_int_eq(t->lin_num_v_heads, 6);
    ck_assert_int_eq(t->lin_v_dim, 16);
    ck_assert_int_eq(t->tie_word_embeddings, 0);
    ck_assert_double_eq(t->rope_theta, 1e7);
    ck_assert_int_eq(t->eos_token_id, 998);
}
END_TEST

START_TEST(small_vl_composite_layout) {
    q35_config c;
    ck_assert_msg(q35_config_load(&c, "golden/data/small_vl/checkpoint_f32/config.json", err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(c.text.num_layers, 4);
    ck_assert_int_eq(c.text.tie_word_embeddings, 1); /* from the top level */
    ck_assert_int_eq(c.vision.present, 1);
    ck_assert_int_eq(c.vision.depth, 3);
    ck_assert_int_eq(c.vision.hidden_size, 48);
    ck_assert_int_eq(c.vision.num_heads, 3);
    ck_assert_int_eq(c.vision.num_position_embeddings, 36);
    ck_assert_int_eq(c.image_token_id, 990);
    ck_assert_int_eq(c.video_token_id, 991);
    ck_assert_int_eq(c.vision_start_token_id, 988);
    ck_assert_int_eq(c.vision_end_token_id, 989);
}
END_TEST

START_TEST(real_0_8b_config) {
    q35_config c;
    ck_assert_msg(q35_config_parse(&c, cfg_08b, "config.json", err, sizeof err) == 0, "%s", err);
    const q35_text_config *t = &c.text;
    ck_assert_int_eq(t->num_layers, 24);
    for (int i = 0; i < 24; i++) ck_assert_int_eq(t->is_full[i], (i + 1) % 4 == 0);
    ck_assert_int_eq(t->rotary_dim, 64);
    ck_assert_int_eq(t->mrope_section[0], 11);
    ck_assert_int_eq(t->mrope_section[1], 11);
    ck_assert_int_eq(t->mrope_section[2], 10);
    ck_assert_int_eq(t->lin_num_v_heads, 16);
    ck_assert_int_eq(q35_lin_conv_dim(t), 6144);
    ck_assert_int_eq(t->tie_word_embeddings, 1);
    ck_assert_int_eq(c.mtp_num_hidden_layers, 1);
    ck_assert_int_eq(c.vision.depth, 12);
    ck_assert_int_eq(c.vision.out_hidden_size, 1024);
    /* the preset mkmodel writes is this config */
    q35_config p;
    ck_assert_int_eq(q35_preset_config(&p, "0.8b", err, sizeof err), 0);
    ck_assert_mem_eq(&p.text, &c.text, sizeof p.text);
    ck_assert_int_eq(p.vision.depth, c.vision.depth);
    ck_assert_int_eq(p.vision.intermediate_size, c.vision.intermediate_size);
}
END_TEST

START_TEST(defaults_and_interval) {
    q35_config c;
    /* only the keys that differ from transformers' defaults; no layer_types: every 3rd is full */
    const char *j = "{\"model_type\": \"qwen3_5_text\", \"num_hidden_layers\": 6, \"full_attention_interval\": 3,"
                    " \"rope_theta\": 5000, \"eos_token_id\": [7, 8]}";
    ck_assert_msg(q35_config_parse(&c, j, "config.json", err, sizeof err) == 0, "%s", err);
    const q35_text_config *t = &c.text;
    for (int i = 0; i < 6; i++) ck_assert_int_eq(t->is_full[i], i == 2 || i == 5);
    ck_assert_int_eq(t->vocab_size, 248320);
    ck_assert_int_eq(t->hidden_size, 4096);
    ck_assert_int_eq(t->num_heads, 16);
    ck_assert_int_eq(t->num_kv_heads, 4);
    ck_assert_int_eq(t->head_dim, 256);
    ck_assert_int_eq(t->lin_num_v_heads, 32);
    ck_assert_int_eq(t->rotary_dim, 64);            /* partial_rotary_factor defaults to 0.25 */
    ck_assert_int_eq(t->mrope_section[1], 11);       /* the rotary embedding's [11, 11, 10] */
    ck_assert_double_eq(t->rope_theta, 5000);        /* legacy top-level key */
    ck_assert_int_eq(t->tie_word_embeddings, 0);
    ck_assert_int_eq(t->eos_token_id, 7);
    /* without full_attention_interval: every 4th */
    ck_assert_int_eq(q35_config_parse(&c, "{\"num_hidden_layers\": 8}", "config.json", err, sizeof err), 0);
    for (int i = 0; i < 8; i++) ck_assert_int_eq(c.text.is_full[i], i == 3 || i == 7);
}
END_TEST

START_TEST(save_parse_round_trip) {
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(path, sizeof path, "%s/config.json", dir);
    const char *presets[] = { "0.8b", "2b", "4b", "tiny" };
    for (int k = 0; k < 4; k++) {
        q35_config a, b;
        ck_assert_int_eq(q35_preset_config(&a, presets[k], err, sizeof err), 0);
        ck_assert_msg(q35_config_save(&a, path, err, sizeof err) == 0, "%s", err);
        ck_assert_msg(q35_config_load(&b, path, err, sizeof err) == 0, "%s: %s", presets[k], err);
        ck_assert_mem_eq(&a.text, &b.text, sizeof a.text);
        ck_assert_mem_eq(&a.vision, &b.vision, sizeof a.vision);
        ck_assert_int_eq(a.image_token_id, b.image_token_id);
        ck_assert_int_eq(a.mtp_num_hidden_layers, b.mtp_num_hidden_layers);
        ck_assert_str_eq(b.architecture, "Qwen3_5ForConditionalGeneration");
    }
    /* the flat text layout too */
    q35_config a, b;
    ck_assert_int_eq(q35_config_load(&a, "golden/data/small_text/checkpoint_f32", err, sizeof err), 0);
    ck_assert_msg(q35_config_save(&a, path, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(q35_config_load(&b, path, err, sizeof err) == 0, "%s", err);
    ck_assert_mem_eq(&a.text, &b.text, sizeof a.text);
    ck_assert_str_eq(b.architecture, "Qwen3_5ForCausalLM");
    tu_rm_rf(dir);
}
END_TEST

/* Each inconsistency is an error naming the file and the keys involved. */
static void expect_bad(const char *json, const char *frag) {
    q35_config c;
    ck_assert_msg(q35_config_parse(&c, json, "bad/config.json", err, sizeof err) == -1, "accepted: %s", json);
    ck_assert_msg(strstr(err, "bad/config.json"), "no file name: %s", err);
    ck_assert_msg(strstr(err, frag), "'%s' not in: %s", frag, err);
}

START_TEST(validation_errors) {
    expect_bad("not json", "not a JSON object");
    expect_bad("[1]", "not a JSON object");
    expect_bad("{\"num_attention_heads\": 6, \"num_key_value_heads\": 4}", "not a multiple of num_key_value_heads");
    expect_bad("{\"linear_num_key_heads\": 3, \"linear_num_value_heads\": 8}", "linear_num_value_heads (8)");
    expect_bad("{\"rope_parameters\": {\"mrope_section\": [10, 10, 10]}}", "sums to 30");
    expect_bad("{\"head_dim\": 48}", "sums to 32"); /* default [11,11,10] does not fit rotary 12 */
    expect_bad("{\"rope_parameters\": {\"mrope_section\": [11, 11]}}", "mrope_section");
    expect_bad("{\"head_dim\": 10, \"partial_rotary_factor\": 0.3}", "must be even");
    expect_bad("{\"partial_rotary_factor\": 1.5}", "partial_rotary_factor");
    expect_bad("{\"num_hidden_layers\": 2, \"layer_types\": [\"linear_attention\"]}", "layer_types has 1 entries");
    expect_bad("{\"num_hidden_layers\": 1, \"layer_types\": [\"mamba\"]}", "layer_types[0] is 'mamba'");
    expect_bad("{\"num_hidden_layers\": 300}", "exceeds");
    expect_bad("{\"hidden_size\": 0}", "hidden_size must be positive");
    expect_bad("{\"vocab_size\": -1}", "vocab_size must be positive");
    expect_bad("{\"hidden_size\": \"1024\"}", "hidden_size must be an integer");
    expect_bad("{\"hidden_size\": 10.5}", "hidden_size must be an integer");
    expect_bad("{\"tie_word_embeddings\": 1}", "tie_word_embeddings must be true or false");
    expect_bad("{\"rms_norm_eps\": \"x\"}", "rms_norm_eps must be a number");
    expect_bad("{\"full_attention_interval\": 0}", "full_attention_interval");
    expect_bad("{\"text_config\": 5}", "text_config must be an object");
    expect_bad("{\"text_config\": {\"hidden_size\": 4096}, \"vision_config\": {\"hidden_size\": 100, \"num_heads\": 16}}",
               "not a multiple of num_heads");
    expect_bad("{\"text_config\": {\"hidden_size\": 4096}, \"vision_config\": {\"hidden_size\": 96, \"num_heads\": 16,"
               " \"out_hidden_size\": 4096}}", "multiple of 4");
    expect_bad("{\"text_config\": {\"hidden_size\": 3584}, \"vision_config\": {\"num_position_embeddings\": 2000}}",
               "not a square grid");
    expect_bad("{\"text_config\": {\"hidden_size\": 1024}, \"vision_config\": {}}", "out_hidden_size (3584) differs");
    expect_bad("{\"text_config\": {\"hidden_size\": 3584}, \"vision_config\": {\"depth\": 0}}", "vision_config.depth");
    expect_bad("{\"text_config\": {\"hidden_size\": \"x\"}}", "text_config.hidden_size must be an integer");
}
END_TEST

START_TEST(missing_file) {
    q35_config c;
    ck_assert_int_eq(q35_config_load(&c, "/nonexistent/dir", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "/nonexistent/dir") && strstr(err, "cannot open"), "%s", err);
}
END_TEST

int main(void) {
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, small_text_flat_layout);
    tcase_add_test(tc, small_vl_composite_layout);
    tcase_add_test(tc, real_0_8b_config);
    tcase_add_test(tc, defaults_and_interval);
    tcase_add_test(tc, save_parse_round_trip);
    tcase_add_test(tc, validation_errors);
    tcase_add_test(tc, missing_file);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
