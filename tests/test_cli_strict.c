/* test_cli_strict.c - the command line refuses what it cannot mean, and says why: bad numbers in
 * every numeric option (through the one strict parser), unknown options and missing values told
 * apart, --help a success for every command, config.json keys q35 does not implement, a --model
 * that is not there, the policy's provenance when the bars come from the command line, an empty
 * .npy directory. Runs the binary named by $Q35_BIN (default ./q35) from the repository root. */
#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "util.h"

#define SMALL "golden/data/small_text"
#define CKPT SMALL "/checkpoint_f32"
#define GOLD SMALL "/golden.safetensors"
#define IMAGE "tests/data/images/rgb8.png"

static char dir[1024];
static char *out_text, *err_text; /* the last run's stdout and stderr */

static void setup(void) { snprintf(dir, sizeof dir, "%s", tu_mkdtemp()); }
static void teardown(void) {
    tu_rm_rf(dir);
    free(out_text), free(err_text);
    out_text = err_text = NULL;
}

static const char *bin(void) { return getenv("Q35_BIN") ? getenv("Q35_BIN") : "./q35"; }

/* Runs "q35 ARGS" (a shell fragment); returns the exit status, with out_text and err_text set. */
static int q35(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int q35(const char *fmt, ...) {
    char args[8192], cmd[16384], o[1100], e[1100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(o, sizeof o, "%s/stdout", dir);
    snprintf(e, sizeof e, "%s/stderr", dir);
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s </dev/null", bin(), args, o, e);
    int st = system(cmd);
    free(out_text), free(err_text);
    out_text = q35_read_file(o, 1 << 24, NULL);
    err_text = q35_read_file(e, 1 << 24, NULL);
    if (!out_text) out_text = strdup("");
    if (!err_text) err_text = strdup("");
    /* under ASan + UBSan (make asan) a finding fails the case even where the status would match */
    ck_assert_msg(!strstr(err_text, "runtime error:") && !strstr(err_text, "Sanitizer"), "q35 %s:\n%s", args, err_text);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define EXPECT(status, where, sub, ...)                                                                              \
    do {                                                                                                             \
        int st_ = q35(__VA_ARGS__);                                                                                  \
        const char *txt_ = (where) == 1 ? out_text : err_text;                                                       \
        ck_assert_msg(st_ == (status) && strstr(txt_, sub), "q35 %s: status %d (want %d), %s lacks \"%s\":\n%s\n%s", \
                      #__VA_ARGS__, st_, (status), (where) == 1 ? "stdout" : "stderr", sub, out_text, err_text);     \
    } while (0)

/* ---- numbers ---- */

/* Not numbers, not finite, beyond a double, negative, beyond an int, empty, a suffix. */
static const char *const bad_values[] = { "abc", "nan", "inf", "1e999", "-5", "2147483648", "", "12x", NULL };

typedef struct {
    const char *prefix; /* the command and what it needs before the option */
    const char *opt;
    const char *fmt;    /* how the value is written after opt ("%s", "topk:%s", "%sx10") */
    int u64;            /* the option takes 0 .. 2^64 - 1: 2147483648 and 1000000000000 are fine there */
} numeric_option;

static const numeric_option options[] = {
    { "forward " CKPT " --ids 1", "--top", "%s", 0 },
    { "forward " CKPT " --ids 1", "--threads", "%s", 0 },
    { "forward " CKPT " --ids 1", "--logits", "topk:%s", 0 },
    { "compare " GOLD " " GOLD, "--tol", "%s", 0 },
    { "compare " GOLD " " GOLD, "--tol-logits", "%s", 0 },
    { "compare " GOLD " " GOLD, "--min-cos", "%s", 0 },
    { "verify " SMALL, "--tol", "%s", 0 },
    { "verify " SMALL, "--min-cos", "%s", 0 },
    { "verify " SMALL, "--threads", "%s", 0 },
    { "generate " CKPT " --prompt-ids 1", "--temperature", "%s", 0 },
    { "generate " CKPT " --prompt-ids 1", "--top-p", "%s", 0 },
    { "generate " CKPT " --prompt-ids 1", "--top-k", "%s", 0 },
    { "generate " CKPT " --prompt-ids 1", "--min-p", "%s", 0 },
    { "generate " CKPT " --prompt-ids 1", "--max-new-tokens", "%s", 0 },
    { "generate " CKPT " --prompt-ids 1", "--repetition-penalty", "%s", 0 },
    { "generate " CKPT " --prompt-ids 1", "--seed", "%s", 1 },
    { "generate " CKPT " --prompt-ids 1", "--threads", "%s", 0 },
    { "bench " CKPT " --no-limits", "--prompt", "%s", 0 },
    { "bench " CKPT " --no-limits", "--gen", "%s", 0 },
    { "bench " CKPT " --no-limits", "--repeat", "%s", 0 },
    { "bench " CKPT " --no-limits", "--threads", "%s", 0 },
    { "bench " CKPT " --no-limits", "--image", "10x%s", 0 },
    { "mkmodel --preset tiny --out /nonexistent/never", "--seed", "%s", 1 },
};

START_TEST(bad_numbers_are_refused) {
    for (size_t k = 0; k < sizeof options / sizeof options[0]; k++) {
        const numeric_option *o = &options[k];
        for (int i = 0; bad_values[i]; i++) {
            const char *v = bad_values[i];
            int whole_enough = strcmp(v, "2147483648") == 0;
            if (o->u64 && whole_enough) continue;
            char val[64];
            snprintf(val, sizeof val, o->fmt, v);
            int st = q35("%s %s '%s'", o->prefix, o->opt, val);
            ck_assert_msg(st == 2, "%s %s '%s': status %d, stderr %s", o->prefix, o->opt, val, st, err_text);
            /* the message names the option, the value and the range */
            ck_assert_msg(strstr(err_text, o->opt) && strstr(err_text, "want") && strstr(err_text, " to "),
                          "%s %s '%s': %s", o->prefix, o->opt, val, err_text);
            ck_assert_msg(strstr(err_text, v[0] ? v : "''"), "%s %s '%s': the value is not named: %s", o->prefix, o->opt, val,
                          err_text);
            /* a number beyond the range is out of range, not "not a number" */
            if (whole_enough || strcmp(v, "-5") == 0)
                ck_assert_msg(strstr(err_text, "out of range"), "%s %s '%s': %s", o->prefix, o->opt, val, err_text);
            if (!strcmp(v, "abc") || !strcmp(v, "nan") || !strcmp(v, "inf") || !v[0] || !strcmp(v, "12x"))
                ck_assert_msg(strstr(err_text, "is not a"), "%s %s '%s': %s", o->prefix, o->opt, val, err_text);
        }
    }
}
END_TEST

START_TEST(number_messages) {
    EXPECT(2, 2, "--top 2147483648 is out of range; want a whole number from 1 to 1000", "forward " CKPT " --ids 1 --top 2147483648");
    EXPECT(2, 2, "--top -5 is out of range", "forward " CKPT " --ids 1 --top -5");
    /* however many digits: out of range, with the range */
    EXPECT(2, 2, "--top 1000000000000 is out of range; want a whole number from 1 to 1000", "forward " CKPT " --ids 1 --top 1000000000000");
    EXPECT(2, 2, "--repeat 99999999999999999999999 is out of range; want a whole number from 1 to 1000",
           "bench " CKPT " --repeat 99999999999999999999999");
    EXPECT(2, 2, "--seed 99999999999999999999999 is out of range; want a whole number from 0 to 18446744073709551615",
           "generate " CKPT " --prompt-ids 1 --seed 99999999999999999999999");
    EXPECT(2, 2, "--tol abc is not a finite decimal number", "compare " GOLD " " GOLD " --tol abc");
    EXPECT(2, 2, "--tol nan is not a finite decimal number", "compare " GOLD " " GOLD " --tol nan");
    EXPECT(2, 2, "--min-cos 2 is out of range; want a number from 0 to 1", "compare " GOLD " " GOLD " --min-cos 2");
    EXPECT(2, 2, "--tol 1e999 is out of range", "compare " GOLD " " GOLD " --tol 1e999");
    EXPECT(2, 2, "is not a finite decimal number", "compare " GOLD " " GOLD " --tol ' 1'");
    EXPECT(2, 2, "is not a finite decimal number", "compare " GOLD " " GOLD " --tol 0x10");
    EXPECT(2, 2, "--color wants auto, always or never, not 'sometimes'", "compare " GOLD " " GOLD " --color sometimes");
    EXPECT(2, 2, "--seed 18446744073709551616 is out of range", "mkmodel --preset tiny --out %s/m --seed 18446744073709551616", dir);
    /* the values at the ends of a range are taken */
    EXPECT(0, 1, "passed", "compare " GOLD " " GOLD " --tol 0 --tol-logits 1e9 --min-cos 0 --color never");
    EXPECT(0, 1, "top:", "forward " CKPT " --ids 1 --top 1000 --threads 1 --backend ref");
    /* an id list is strict too */
    EXPECT(2, 2, "bad --ids", "forward " CKPT " --ids 1,,2");
    EXPECT(2, 2, "bad --ids", "forward " CKPT " --ids '1, 2'");
    EXPECT(2, 2, "bad --ids", "forward " CKPT " --ids 99999999999");
}
END_TEST

/* ---- options ---- */

START_TEST(unknown_option_and_missing_value) {
    /* an unknown flag is unknown, wherever it stands and whatever follows it */
    EXPECT(2, 2, "unknown option --bogus", "forward " CKPT " --bogus");
    EXPECT(2, 2, "unknown option --bogus", "forward " CKPT " --ids 1 --bogus 3");
    EXPECT(2, 2, "unknown option --bogus", "forward --bogus");
    EXPECT(2, 2, "unknown option --bogus", "info --bogus");
    EXPECT(2, 2, "unknown option --bogus", "verify " SMALL " --bogus");
    EXPECT(2, 2, "unknown option --bogus", "compare " GOLD " " GOLD " --bogus");
    EXPECT(2, 2, "unknown option --bogus", "preprocess " IMAGE " --out %s/p.safetensors --bogus", dir);
    EXPECT(2, 2, "unknown option --bogus", "generate " CKPT " --prompt-ids 1 --bogus");
    EXPECT(2, 2, "unknown option --bogus", "bench " CKPT " --bogus");
    EXPECT(2, 2, "unknown option --bogus", "mkmodel --bogus x");
    /* a known option last, without its value, needs a value */
    EXPECT(2, 2, "--out needs a value", "preprocess img --out");
    EXPECT(2, 2, "--model needs a value", "preprocess img --out x --model");
    EXPECT(2, 2, "--ids needs a value", "forward " CKPT " --ids");
    EXPECT(2, 2, "--top needs a value", "forward " CKPT " --ids 1 --top");
    EXPECT(2, 2, "--tol needs a value", "compare " GOLD " " GOLD " --tol");
    EXPECT(2, 2, "--color needs a value", "compare " GOLD " " GOLD " --color");
    EXPECT(2, 2, "--model needs a value", "verify " SMALL " --model");
    EXPECT(2, 2, "--temperature needs a value", "generate " CKPT " --prompt-ids 1 --temperature");
    EXPECT(2, 2, "--stop needs a value", "generate " CKPT " --prompt-ids 1 --stop");
    EXPECT(2, 2, "--repeat needs a value", "bench " CKPT " --repeat");
    EXPECT(2, 2, "--seed needs a value", "mkmodel --preset tiny --seed");
    /* an option where the positional argument belongs */
    EXPECT(2, 2, "DIR comes first", "forward --ids 1 " CKPT);
    EXPECT(2, 2, "OURS comes first", "compare --tol 1 " GOLD " " GOLD);
}
END_TEST

/* Every command `q35 --help` lists. */
static int commands(char names[][32], int max) {
    ck_assert_int_eq(q35("--help"), 0);
    int n = 0, in = 0;
    for (char *line = strtok(out_text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "commands:", 9) == 0) { in = 1; continue; }
        if (!in || strncmp(line, "  ", 2) != 0 || line[2] < 'a' || line[2] > 'z') continue;
        int len = (int)strcspn(line + 2, " ");
        ck_assert(len < 32 && n < max);
        snprintf(names[n++], 32, "%.*s", len, line + 2);
    }
    return n;
}

START_TEST(help_is_a_success_everywhere) {
    char names[32][32];
    int n = commands(names, 32);
    ck_assert_msg(n >= 12, "q35 --help lists %d commands", n);
    for (int i = 0; i < n; i++) {
        const char *forms[] = { "--help", "-h", "x --help", "--bogus --help" };
        for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
            int st = q35("%s %s", names[i], forms[f]);
            ck_assert_msg(st == 0 && strstr(out_text, "usage") && !err_text[0], "q35 %s %s: status %d, stdout %.200s, stderr %s",
                          names[i], forms[f], st, out_text, err_text);
        }
    }
    /* bad usage is 2 */
    const char *bare[] = { "info", "forward", "verify", "compare", "preprocess", "mkmodel", "generate", "bench" };
    for (size_t i = 0; i < sizeof bare / sizeof bare[0]; i++) {
        int st = q35("%s", bare[i]);
        ck_assert_msg(st == 2 && err_text[0], "q35 %s: status %d, stderr %s", bare[i], st, err_text);
    }
    EXPECT(2, 2, "unknown command", "nosuchcommand");
    EXPECT(2, 2, "usage", "compare " GOLD);
}
END_TEST

/* chat-format's --video-fps (cli/cmd_text.c) goes through the same parser. */
START_TEST(video_fps_names_its_range) {
    EXPECT(2, 2, "want", "chat-format " CKPT " --messages tests/data/chat/conv_text.json --video-fps -3");
    ck_assert_msg(strstr(err_text, "--video-fps") && strstr(err_text, "-3") && strstr(err_text, " to "), "%s", err_text);
    EXPECT(2, 2, "--video-fps", "chat-format " CKPT " --messages x.json --video-fps nan");
}
END_TEST

/* ---- inputs ---- */

/* A copy of the small text checkpoint with config.json's key set to the JSON value: the weights
 * symlinked. Returns the directory. */
static const char *edited_checkpoint(const char *key, const char *json_value) {
    static char ck[1200];
    char path[1400], src[1400], cwd[1024];
    snprintf(ck, sizeof ck, "%s/ckpt", dir);
    ck_assert_int_eq(mkdir(ck, 0755), 0);
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(src, sizeof src, "%s/" CKPT "/model.safetensors", cwd);
    snprintf(path, sizeof path, "%s/model.safetensors", ck);
    ck_assert_int_eq(symlink(src, path), 0);
    char *text = q35_read_file(CKPT "/config.json", 1 << 20, NULL);
    ck_assert_ptr_nonnull(text);
    cJSON *root = cJSON_Parse(text), *v = cJSON_Parse(json_value);
    ck_assert(root && v);
    if (cJSON_GetObjectItemCaseSensitive(root, key)) cJSON_ReplaceItemInObjectCaseSensitive(root, key, v);
    else cJSON_AddItemToObject(root, key, v);
    char *out = cJSON_Print(root);
    snprintf(path, sizeof path, "%s/config.json", ck);
    tu_write_file(path, out, strlen(out));
    free(out), free(text);
    cJSON_Delete(root);
    return ck;
}

START_TEST(config_hidden_act_relu) {
    const char *ck = edited_checkpoint("hidden_act", "\"relu\"");
    EXPECT(1, 2, "hidden_act \"relu\" is not supported", "info %s", ck);
    ck_assert_msg(strstr(err_text, "silu"), "%s", err_text);
    EXPECT(1, 2, "hidden_act", "forward %s --ids 1", ck);
}
END_TEST

START_TEST(config_other_keys) {
    static const char *const cases[][3] = {
        { "attention_bias", "true", "attention_bias true is not supported" },
        { "mamba_ssm_dtype", "\"bfloat16\"", "mamba_ssm_dtype \"bfloat16\" is not supported" },
        { "model_type", "\"llama\"", "model_type \"llama\" is not supported" },
        { "num_experts", "8", "num_experts 8 is not supported" },
        { "rms_norm_eps", "-1e-6", "rms_norm_eps must be in (0, 1)" },
        { "rope_parameters", "{\"rope_type\": \"yarn\", \"mrope_section\": [2, 2, 2]}", "rope_type \"yarn\" is not supported" },
        { "hidden_size", "1000000000000", "hidden_size 1000000000000 is out of range: want an integer from -2147483648 to 2147483647" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_rm_rf(dir);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        const char *ck = edited_checkpoint(cases[i][0], cases[i][1]);
        EXPECT(1, 2, cases[i][2], "info %s", ck);
    }
    /* the shipped checkpoints and mkmodel's still load */
    EXPECT(0, 1, "8 layers", "info " CKPT);
    EXPECT(0, 1, "vision", "info golden/data/small_vl/checkpoint_f32");
    EXPECT(0, 1, "wrote", "mkmodel --preset tiny --out %s/tiny --tokenizer none", dir);
    EXPECT(0, 1, "layers", "info %s/tiny", dir);
}
END_TEST

START_TEST(preprocess_model_must_exist) {
    EXPECT(1, 2, "/nonexistent", "preprocess " IMAGE " --out %s/p.safetensors --model /nonexistent", dir);
    /* an existing model directory without the file: the released settings, said on stderr */
    EXPECT(0, 2, "no preprocessor_config.json", "preprocess " IMAGE " --out %s/p.safetensors --model %s", dir, dir);
    EXPECT(0, 1, "wrote", "preprocess " IMAGE " --out %s/p.safetensors --model golden/data/small_vl/checkpoint_f32", dir);
}
END_TEST

START_TEST(compare_provenance_names_the_command_line) {
    EXPECT(0, 1, "defaults with --tol 1e-3 --min-cos 0.5 from the command line",
           "compare " GOLD " " GOLD " --tol 1e-3 --min-cos 0.5 --color never --json %s/r.json", dir);
    char path[1200];
    snprintf(path, sizeof path, "%s/r.json", dir);
    char *text = q35_read_file(path, 1 << 26, NULL);
    ck_assert_ptr_nonnull(text);
    cJSON *j = cJSON_Parse(text);
    const cJSON *pol = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "provenance"), "policy");
    ck_assert_msg(cJSON_IsString(pol) && strstr(pol->valuestring, "command line"), "%s", text);
    cJSON_Delete(j);
    free(text);
    /* without bars on the command line: the defaults */
    EXPECT(0, 1, "defaults", "compare " GOLD " " GOLD " --color never");
    ck_assert_msg(!strstr(out_text, "command line"), "%s", out_text);
    /* with a policy file and a bar: both */
    snprintf(path, sizeof path, "%s/p.yaml", dir);
    const char *yaml = "format: q35-tolerances/1\nrules:\n  - match: \"logits$\"\n    max_rel: 1e-3\n";
    tu_write_file(path, yaml, strlen(yaml));
    EXPECT(0, 1, "p.yaml, then the defaults with --tol-logits 1e-2 from the command line",
           "compare " GOLD " " GOLD " --policy %s --tol-logits 1e-2 --color never", path);
}
END_TEST

START_TEST(empty_npy_directory) {
    char empty[1200];
    snprintf(empty, sizeof empty, "%s/empty", dir);
    ck_assert_int_eq(mkdir(empty, 0755), 0);
    EXPECT(2, 2, "no .npy files", "compare %s " GOLD, empty);
    ck_assert_msg(!strstr(err_text, "model.safetensors or"), "%s", err_text);
    EXPECT(2, 2, "no .npy files", "compare " GOLD " %s", empty);
}
END_TEST

int main(void) {
    Suite *s = suite_create("cli_strict");
    TCase *tc = tcase_create("numbers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bad_numbers_are_refused);
    tcase_add_test(tc, number_messages);
    suite_add_tcase(s, tc);

    tc = tcase_create("options");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, unknown_option_and_missing_value);
    tcase_add_test(tc, help_is_a_success_everywhere);
    tcase_add_test(tc, video_fps_names_its_range);
    suite_add_tcase(s, tc);

    tc = tcase_create("inputs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, config_hidden_act_relu);
    tcase_add_test(tc, config_other_keys);
    tcase_add_test(tc, preprocess_model_must_exist);
    tcase_add_test(tc, compare_provenance_names_the_command_line);
    tcase_add_test(tc, empty_npy_directory);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
