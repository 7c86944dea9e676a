/* test_cli_strict.c - the command line refuses what it cannot mean, and says why: bad numbers in
 * every numeric option (through the one strict parser), unknown options and missing values told
 * apart, --help a success for every command, config.json keys q35 does not implement, a --model
 * that is not there, the policy's provenance when the bars come from the command line, an empty
 * .npy directory; --jsonl input that cannot be read, is too long, or has text after its JSON, and the
 * exit status of runs with failed lines; output paths that are not regular files. Runs the binary
 * named by $Q35_BIN (default ./q35) from the repository root. */
#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "npy.h"
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

/* Runs "q35 ARGS" (args a shell fragment) with stdin from the shell pipeline producer (NULL: no
 * input); returns the exit status, with out_text and err_text set. */
static int run_q35(const char *producer, const char *args) {
    char cmd[16384], o[1100], e[1100];
    snprintf(o, sizeof o, "%s/stdout", dir);
    snprintf(e, sizeof e, "%s/stderr", dir);
    if (producer) snprintf(cmd, sizeof cmd, "%s | %s %s >%s 2>%s", producer, bin(), args, o, e);
    else snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s </dev/null", bin(), args, o, e);
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

/* Runs "q35 ARGS" (printf-style, a shell fragment) without input: run_q35. */
static int q35(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int q35(const char *fmt, ...) {
    char args[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return run_q35(NULL, args);
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

/* ---- --jsonl input (tokenize, chat-format) ---- */

#define TOK "tests/data/tokenizer/qwen3_tokenizer.json"
#define CHAT "tests/data/chat --template tests/data/chat/chat_template.jinja --tokenizer " TOK

/* dir/name holding text; returns its path. */
static const char *write_in(const char *name, const char *text) {
    static char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    tu_write_file(path, text, strlen(text));
    return path;
}

/* The n-th line (from 1) of text, in a static buffer ("" when there are fewer). */
static const char *nth_line(const char *text, int n) {
    static char line[4096];
    for (int i = 1; i < n && text; i++)
        if ((text = strchr(text, '\n'))) text++;
    size_t len = text ? strcspn(text, "\n") : 0;
    snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), text ? text : "");
    return line;
}

/* A file that cannot be read (a directory: EISDIR) is an error naming it and the line, not an
 * empty success; so is one that is not there. */
START_TEST(jsonl_unreadable_is_an_error) {
    EXPECT(1, 2, "cannot read line 1: Is a directory", "tokenize " TOK " --jsonl %s", dir);
    ck_assert_msg(strstr(err_text, dir) && !out_text[0], "%s | %s", out_text, err_text);
    EXPECT(1, 2, "cannot read line 1: Is a directory", "chat-format " CHAT " --jsonl %s", dir);
    ck_assert_msg(!out_text[0], "%s", out_text);
    EXPECT(1, 2, "cannot open: No such file", "tokenize " TOK " --jsonl %s/none.jsonl", dir);
    EXPECT(1, 2, "cannot open: No such file", "chat-format " CHAT " --jsonl %s/none.jsonl", dir);
}
END_TEST

/* A line over 256 MiB (the eval readers' limit) is refused, with its number, before it is parsed;
 * the lines before it are done. A long line under the limit is read. */
START_TEST(jsonl_line_cap) {
    const char *big = "(printf '{\"text\": \"a\"}\\n'; yes aaaaaaaaaaaaaaa | tr -d '\\n' | head -c 268435457)";
    int st = run_q35(big, "tokenize " TOK " --jsonl -");
    ck_assert_msg(st == 1 && strstr(err_text, "stdin: line 2 is longer than 256 MiB"), "status %d: %s", st, err_text);
    ck_assert_msg(strstr(nth_line(out_text, 1), "\"ids\"") && !nth_line(out_text, 2)[0], "%.300s", out_text);
    st = run_q35(big, "chat-format " CHAT " --jsonl -");
    ck_assert_msg(st == 1 && strstr(err_text, "stdin: line 2 is longer than 256 MiB"), "status %d: %s", st, err_text);
    /* 1 MiB of text on one line: encoded */
    st = run_q35("(printf '{\"text\": \"'; yes 'ab cd' | tr '\\n' ' ' | head -c 1048576; printf '\"}\\n')", "tokenize " TOK " --jsonl -");
    ck_assert_msg(st == 0 && strstr(out_text, "\"ids\":[") && !err_text[0], "status %d: %s", st, err_text);
}
END_TEST

/* Text after a line's JSON object is an {"error"} line for it, as the eval reader refuses it; a key
 * given twice takes its last value (Python's json.loads, Hugging Face); a failed line makes the
 * exit status 1 once all lines are done, and stderr says how many; all lines good: 0. */
START_TEST(tokenize_jsonl_lines) {
    const char *in = write_in("t.jsonl", "{\"text\": \"x\"}\n"
                                         "{\"text\": \"x\"} junk\n"
                                         "{\"text\": \"first\", \"text\": \"Hello\"}\n"
                                         "{\"text\": \"Hello\", \"text\": 1}\n"
                                         "{\"text\": \"x\"}   \r\n");
    EXPECT(1, 2, "2 of 5 lines failed", "tokenize " TOK " --jsonl %s", in);
    ck_assert_msg(strstr(nth_line(out_text, 1), "\"ids\":[87]"), "%s", out_text);
    ck_assert_msg(strstr(nth_line(out_text, 2), "{\"error\":\"line 2: text after the JSON value"), "%s", out_text);
    ck_assert_msg(strstr(nth_line(out_text, 3), "\"ids\":[9707],\"decoded\":\"Hello\""), "%s", out_text);
    ck_assert_msg(strstr(nth_line(out_text, 4), "{\"error\":\"line 4: not a JSON object with a \\\"text\\\" string"), "%s", out_text);
    ck_assert_msg(strstr(nth_line(out_text, 5), "\"ids\":[87]"), "%s", out_text); /* blanks after the object are fine */
    in = write_in("ok.jsonl", "{\"text\": \"x\"}\n{\"text\": \"Hello\"}\n");
    EXPECT(0, 1, "\"ids\":[9707]", "tokenize " TOK " --jsonl %s", in);
    ck_assert_msg(!err_text[0], "%s", err_text);
    /* --help says so */
    EXPECT(0, 1, "1 when any line got an {\"error\"}", "tokenize --help");
    EXPECT(0, 1, "1 when any line got an {\"error\"}", "chat-format --help");
}
END_TEST

START_TEST(chat_format_jsonl_lines) {
    const char *in = write_in("c.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"one\"}]}\n"
                                         "{\"messages\": [{\"role\": \"user\", \"content\": \"two\"}]} {\"x\": 1}\n"
                                         "{\"messages\": [{\"role\": \"user\", \"content\": \"first\"}], "
                                         "\"messages\": [{\"role\": \"user\", \"content\": \"second\"}]}\n"
                                         "[1]\n");
    EXPECT(1, 2, "2 of 4 lines failed", "chat-format " CHAT " --jsonl %s", in);
    ck_assert_msg(strstr(nth_line(out_text, 1), "user\\none<|im_end|>"), "%s", out_text);
    ck_assert_msg(strstr(nth_line(out_text, 2), "{\"error\":\"line 2: text after the JSON value"), "%s", out_text);
    ck_assert_msg(strstr(nth_line(out_text, 3), "user\\nsecond<|im_end|>") && !strstr(nth_line(out_text, 3), "first"), "%s", out_text);
    ck_assert_msg(strstr(nth_line(out_text, 4), "{\"error\":\"line 4: not a JSON object with a \\\"messages\\\" list"), "%s", out_text);
    /* a float keeps its form through the line parser (the template prints 2.0, not 2) */
    in = write_in("f.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"t\"}], \"flags\": {\"tools\": [{\"a\": 2.0}]}}\n");
    EXPECT(0, 1, "{\\\"a\\\": 2.0}", "chat-format " CHAT " --jsonl %s", in);
    ck_assert_msg(!err_text[0], "%s", err_text);
}
END_TEST

/* ---- strict ids and shards ---- */

START_TEST(detokenize_ids_are_digits) {
    static const char *const bad[] = { "' 5'", "'+5'", "'-0'", "'-5'", "'5 '", "5x", "0x10", "''", NULL };
    for (int i = 0; bad[i]; i++) EXPECT(2, 2, "is not a token id; want a token id: decimal digits, 0 to 2147483647", "detokenize " TOK " %s", bad[i]);
    EXPECT(2, 2, "'2147483648' is out of range", "detokenize " TOK " 2147483648");
    EXPECT(2, 2, "is out of range", "detokenize " TOK " 99999999999999999999999");
    EXPECT(0, 1, "Hello, world!", "detokenize " TOK " 9707 11 1879 0");
    /* forward's --ids list shares the rule */
    EXPECT(2, 2, "bad --ids", "forward " CKPT " --ids +1");
    EXPECT(2, 2, "bad --ids", "forward " CKPT " --ids -0");
}
END_TEST

START_TEST(eval_shard_is_strict) {
    static const char *const bad[] = { "' 1/2'", "'+1/+2'", "'1/ 2'", "'1 /2'", "-1/2", "2/1", "0/1", "1/100001", "1/2x", "1/", "/2", "12", NULL };
    for (int i = 0; bad[i]; i++) EXPECT(2, 2, "expected K/N with 1 <= K <= N", "eval eval/configs/mmlu.yaml --shard %s", bad[i]);
    /* a good one passes the parser (and stops later, for want of a model) */
    int st = q35("eval eval/configs/mmlu.yaml --shard 2/3");
    ck_assert_msg(st != 0 && !strstr(err_text, "expected K/N") && strstr(err_text, "no model"), "status %d: %s", st, err_text);
}
END_TEST

/* ---- output paths that are not regular files ---- */

/* 1 when path is (lstat) a FIFO, a directory or a symlink, as kind says: 'p', 'd', 'l'. */
static int is_kind(const char *path, char kind) {
    struct stat sb;
    if (lstat(path, &sb) != 0) return 0;
    return kind == 'p' ? S_ISFIFO(sb.st_mode) : kind == 'd' ? S_ISDIR(sb.st_mode) : kind == 'l' ? S_ISLNK(sb.st_mode) : 0;
}

/* Makes dir/name a FIFO ('p') or a directory ('d'), its path into path (n bytes). */
static void make_node(char *path, size_t n, const char *name, char kind) {
    snprintf(path, n, "%s/%s", dir, name);
    ck_assert_int_eq(kind == 'p' ? mkfifo(path, 0644) : mkdir(path, 0755), 0);
}

/* Every writer refuses to replace a FIFO or a directory (as root the rename destroyed device
 * nodes): the error names the path, and the thing is still there, untouched. */
START_TEST(outputs_refuse_non_regular_files) {
    char fifo[1200], d[1200], m[1200], mf[1200];
    make_node(fifo, sizeof fifo, "out.fifo", 'p');
    make_node(d, sizeof d, "out.dir", 'd');
    const char *writers[] = {
        "forward " CKPT " --ids 1 --dump %s",
        "preprocess " IMAGE " --out %s",
        "compare " GOLD " " GOLD " --color never --json %s",
        "compare " GOLD " " GOLD " --color never --markdown %s",
    };
    for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
        const char *targets[2] = { fifo, d };
        for (int k = 0; k < 2; k++) {
            char args[2400];
            snprintf(args, sizeof args, writers[i], targets[k]);
            int st = q35("%s", args);
            char want[1400];
            snprintf(want, sizeof want, "%s exists and is not a regular file (%s)", targets[k], k ? "a directory" : "a FIFO");
            ck_assert_msg(st != 0 && strstr(err_text, want), "q35 %s: status %d: %s", args, st, err_text);
            ck_assert_msg(is_kind(fifo, 'p') && is_kind(d, 'd'), "q35 %s replaced the FIFO or the directory", args);
        }
    }
    /* mkmodel's shard */
    make_node(m, sizeof m, "m", 'd');
    make_node(mf, sizeof mf, "m/model.safetensors", 'p');
    EXPECT(1, 2, "model.safetensors exists and is not a regular file (a FIFO)", "mkmodel --preset tiny --out %s", m);
    ck_assert(is_kind(mf, 'p'));
    /* the library's writers: eval's files (q35_write_file_atomic) and .npy */
    char err[512];
    ck_assert_int_eq(q35_write_file_atomic(fifo, "x", 1, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "exists and is not a regular file (a FIFO)"), "%s", err);
    ck_assert_int_eq(q35_write_file_atomic(d, "x", 1, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "exists and is not a regular file (a directory)"), "%s", err);
    float v = 1;
    q35_tensor t = { .dtype = Q35_F32, .ndim = 1, .shape = { 1 }, .data = &v };
    ck_assert_int_eq(q35_npy_write(fifo, &t, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "exists and is not a regular file (a FIFO)"), "%s", err);
    ck_assert(is_kind(fifo, 'p') && is_kind(d, 'd'));
}
END_TEST

/* A symlink is written through: the link stays, its regular target gets the content. A link to a
 * FIFO, or to nothing, is refused. A stale F.tmp that is a FIFO is refused, not opened (that would
 * block); a stale regular one is replaced. */
START_TEST(outputs_symlinks_and_stale_tmp) {
    char real[1200], link[1200], fifo[1200], lf[1200], dangling[1200], tmpfifo[1200], stale[1200], err[512];
    snprintf(real, sizeof real, "%s/real.json", dir);
    snprintf(link, sizeof link, "%s/link.json", dir);
    tu_write_file(real, "old", 3);
    ck_assert_int_eq(symlink("real.json", link), 0);
    EXPECT(0, 1, "passed", "compare " GOLD " " GOLD " --color never --json %s", link);
    char *text = q35_read_file(real, 1 << 26, NULL);
    ck_assert_msg(text && strstr(text, "q35-report/1"), "%.100s", text ? text : "(none)");
    free(text);
    ck_assert(is_kind(link, 'l'));
    ck_assert_int_eq(q35_write_file_atomic(link, "new", 3, err, sizeof err), 0);
    text = q35_read_file(real, 16, NULL);
    ck_assert_str_eq(text, "new");
    free(text);
    ck_assert(is_kind(link, 'l'));

    make_node(fifo, sizeof fifo, "f", 'p');
    snprintf(lf, sizeof lf, "%s/to_fifo", dir);
    ck_assert_int_eq(symlink(fifo, lf), 0);
    EXPECT(1, 2, "is a symlink to", "forward " CKPT " --ids 1 --dump %s", lf);
    ck_assert_msg(strstr(err_text, "which exists and is not a regular file (a FIFO)"), "%s", err_text);
    ck_assert(is_kind(fifo, 'p') && is_kind(lf, 'l'));
    snprintf(dangling, sizeof dangling, "%s/dangling", dir);
    ck_assert_int_eq(symlink("nowhere", dangling), 0);
    ck_assert_int_eq(q35_write_file_atomic(dangling, "x", 1, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "is a symlink that leads to no file"), "%s", err);
    ck_assert(is_kind(dangling, 'l'));

    make_node(tmpfifo, sizeof tmpfifo, "d.safetensors.tmp", 'p');
    EXPECT(1, 2, "d.safetensors.tmp exists and is not a regular file (a FIFO)", "forward " CKPT " --ids 1 --dump %s/d.safetensors", dir);
    ck_assert(is_kind(tmpfifo, 'p'));
    snprintf(stale, sizeof stale, "%s/s.json.tmp", dir);
    tu_write_file(stale, "stale", 5);
    snprintf(real, sizeof real, "%s/s.json", dir);
    ck_assert_int_eq(q35_write_file_atomic(real, "ok", 2, err, sizeof err), 0);
    text = q35_read_file(real, 16, NULL);
    ck_assert_str_eq(text, "ok");
    free(text);
    ck_assert_int_eq(access(stale, F_OK), -1);
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

    tc = tcase_create("jsonl");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300); /* the 256 MiB line, under ASan too */
    tcase_add_test(tc, jsonl_unreadable_is_an_error);
    tcase_add_test(tc, jsonl_line_cap);
    tcase_add_test(tc, tokenize_jsonl_lines);
    tcase_add_test(tc, chat_format_jsonl_lines);
    tcase_add_test(tc, detokenize_ids_are_digits);
    tcase_add_test(tc, eval_shard_is_strict);
    suite_add_tcase(s, tc);

    tc = tcase_create("outputs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, outputs_refuse_non_regular_files);
    tcase_add_test(tc, outputs_symlinks_and_stale_tmp);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
