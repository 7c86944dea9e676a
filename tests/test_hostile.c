/* test_hostile.c - hostile inputs that used to pass silently with a wrong answer: a U+0000 in JSON
 * text (cut short by NUL-terminated strings), a lone surrogate, a safetensors data section its
 * offsets do not cover exactly (every tensor shifted by a stray byte), alias-map sizes whose
 * product overflows. Each must give the right result or an error naming the input, never a
 * silently different one (the suite also runs under AddressSanitizer + UBSan). */
#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "alias.h"
#include "policy.h"
#include "q35.h"
#include "safetensors.h"
#include "testutil.h"
#include "tokenizer.h"
#include "util.h"

#define TOK "tests/data/tokenizer/qwen35_style_tokenizer.json"
/* chat-format without a checkpoint: the test template and tokenizer */
#define CHAT "tests/data/chat --template tests/data/chat/chat_template.jinja --tokenizer " TOK

static char err[4096];
static char dir[4096];

static void setup(void) { snprintf(dir, sizeof dir, "%s", tu_mkdtemp()); }
static void teardown(void) { tu_rm_rf(dir); }

static const char *bin(void) { return getenv("Q35_BIN") ? getenv("Q35_BIN") : "./q35"; }

static const char *tmp_path(const char *name) {
    static char p[4][4200];
    static int k;
    char *s = p[k++ % 4];
    snprintf(s, sizeof p[0], "%s/%s", dir, name);
    return s;
}

static const char *write_tmp(const char *name, const char *text) {
    const char *p = tmp_path(name);
    tu_write_file(p, text, strlen(text));
    return p;
}

/* Runs `q35 ARGS` (stdout and stderr together into *out, a new string); returns its exit status. */
static int run_q35(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run_q35(char **out, const char *fmt, ...) {
    char args[8192], cmd[12288];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    const char *o = tmp_path("out.txt");
    snprintf(cmd, sizeof cmd, "%s %s > %s 2>&1", bin(), args, o);
    int st = system(cmd);
    *out = q35_read_file(o, 16u << 20, NULL);
    ck_assert_ptr_nonnull(*out);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- item 1: U+0000 and lone surrogates in JSON text ---- */

/* {"text": "a\u0000b\u0000\u0000c"} is all six characters, as Hugging Face encodes it: the ids are
 * those of q35_tokenize over the 6 bytes, and "decoded" writes the NULs back as \u0000. */
START_TEST(tokenize_jsonl_nul) {
    const char *in = write_tmp("in.jsonl", "{\"text\": \"a\\u0000b\\u0000\\u0000c\"}\n"
                                           "{\"x\": {\"text\": \"no\"}, \"t\\u0065xt\": \"\\u0000\"}\n");
    char *out;
    ck_assert_int_eq(run_q35(&out, "tokenize " TOK " --jsonl %s", in), 0);
    q35_tokenizer *t = q35_tokenizer_load(TOK, err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    int *ids, n;
    ck_assert_msg(q35_tokenize(t, "a\0b\0\0c", 6, &ids, &n, err, sizeof err) == 0, "%s", err);
    ck_assert_int_gt(n, 1); /* not the ids of "a" alone */
    char *line2 = strchr(out, '\n');
    ck_assert_ptr_nonnull(line2);
    *line2++ = 0;
    cJSON *j = cJSON_Parse(out);
    ck_assert_msg(j != NULL, "%s", out);
    const cJSON *got = cJSON_GetObjectItem(j, "ids");
    ck_assert_int_eq(cJSON_GetArraySize(got), n);
    for (int i = 0; i < n; i++) ck_assert_int_eq(cJSON_GetArrayItem(got, i)->valueint, ids[i]);
    ck_assert_msg(strstr(out, "\"decoded\":\"a\\u0000b\\u0000\\u0000c\""), "%s", out);
    cJSON_Delete(j);
    free(ids);
    /* the first top-level member named text (escapes decoded), not one nested in another value */
    ck_assert_msg(q35_tokenize(t, "\0", 1, &ids, &n, err, sizeof err) == 0, "%s", err);
    j = cJSON_Parse(line2);
    ck_assert_msg(j != NULL, "%s", line2);
    got = cJSON_GetObjectItem(j, "ids");
    ck_assert_int_eq(cJSON_GetArraySize(got), n);
    ck_assert_int_eq(cJSON_GetArrayItem(got, 0)->valueint, ids[0]);
    ck_assert_msg(strstr(line2, "\"decoded\":\"\\u0000\""), "%s", line2);
    cJSON_Delete(j);
    free(ids);
    q35_tokenizer_free(t);
    free(out);
}
END_TEST

/* Surrogate pairs decode to their character; a lone surrogate is said to be one, with its line. */
START_TEST(tokenize_jsonl_surrogates) {
    const char *in = write_tmp("s.jsonl", "{\"text\": \"\\ud83d\\ude00\"}\n"
                                          "{\"text\": \"a\\ud800b\"}\n"
                                          "{\"text\": \"a\\udc00\"}\n"
                                          "[1]\n");
    char *out;
    ck_assert_int_eq(run_q35(&out, "tokenize " TOK " --jsonl %s", in), 1); /* lines failed: 1, after all are done */
    ck_assert_msg(strstr(out, "\"decoded\":\"\xf0\x9f\x98\x80\""), "%s", out);
    ck_assert_msg(strstr(out, "line 2: lone surrogate \\\\ud800"), "%s", out);
    ck_assert_msg(strstr(out, "line 3: lone surrogate \\\\udc00"), "%s", out);
    ck_assert_msg(strstr(out, "line 4: not a JSON object with a \\\"text\\\" string"), "%s", out);
    free(out);
}
END_TEST

/* The template renderer cannot carry U+0000: chat-format refuses the conversation, naming it,
 * rather than render the message cut at the NUL. An escaped backslash before u0000 is plain text. */
START_TEST(chat_format_nul) {
    char *out;
    const char *m = write_tmp("m.json", "[{\"role\": \"user\", \"content\": \"a\\u0000b\"}]");
    ck_assert_int_ne(run_q35(&out, "chat-format " CHAT " --messages %s", m), 0);
    ck_assert_msg(strstr(out, "m.json") && strstr(out, "U+0000") && strstr(out, "refused"), "%s", out);
    ck_assert_ptr_null(strstr(out, "\"ids\""));
    free(out);
    const char *l = write_tmp("c.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"ok\"}]}\n"
                                         "{\"messages\": [{\"role\": \"user\", \"content\": \"a\\u0000b\"}]}\n"
                                         "{\"messages\": [{\"role\": \"user\", \"content\": \"a\\udc00\"}]}\n");
    ck_assert_int_eq(run_q35(&out, "chat-format " CHAT " --jsonl %s", l), 1); /* lines failed: 1, after all are done */
    char *second = strchr(out, '\n');
    ck_assert_ptr_nonnull(second);
    ck_assert_msg(strstr(out, "\"ids\"") && strstr(out, "\"ids\"") < second, "%s", out);
    ck_assert_msg(strstr(second, "{\"error\":\"line 2: a JSON string holds U+0000"), "%s", out);
    ck_assert_msg(strstr(second, "line 3: lone surrogate \\\\udc00"), "%s", out);
    free(out);
    m = write_tmp("bs.json", "[{\"role\": \"user\", \"content\": \"a\\\\u0000b\"}]");
    ck_assert_int_eq(run_q35(&out, "chat-format " CHAT " --messages %s", m), 0);
    ck_assert_msg(strstr(out, "a\\\\u0000b"), "%s", out);
    free(out);
    /* generate reads the same files: refused there too, before the prompt is made */
    m = write_tmp("m.json", "[{\"role\": \"user\", \"content\": \"a\\u0000b\"}]");
    ck_assert_int_ne(run_q35(&out, "generate golden/data/small_text/checkpoint_f32 --tokenizer " TOK " --messages %s --max-new-tokens 1", m), 0);
    ck_assert_msg(strstr(out, "m.json") && strstr(out, "U+0000") && strstr(out, "refused"), "%s", out);
    free(out);
}
END_TEST

START_TEST(help_exit_codes) {
    char *out;
    ck_assert_int_eq(run_q35(&out, "tokenize --help"), 0);
    ck_assert_msg(strstr(out, "usage: q35 tokenize"), "%s", out);
    free(out);
    ck_assert_int_eq(run_q35(&out, "detokenize --help"), 0);
    ck_assert_msg(strstr(out, "usage: q35 detokenize"), "%s", out);
    free(out);
    ck_assert_int_eq(run_q35(&out, "tokenize -h"), 0);
    free(out);
    ck_assert_int_eq(run_q35(&out, "tokenize"), 2); /* no arguments: still a usage error */
    free(out);
    ck_assert_int_eq(run_q35(&out, "detokenize " TOK), 2);
    free(out);
}
END_TEST

/* ---- item 2: the data section covered exactly ---- */

/* A safetensors file from a header and a data section of data_bytes bytes (8-aligned, as writers pad). */
static const char *craft(const char *fname, const char *header, size_t data_bytes) {
    size_t hl = strlen(header), padded = (hl + 7) / 8 * 8, n = 8 + padded + data_bytes;
    unsigned char *buf = calloc(1, n);
    ck_assert_ptr_nonnull(buf);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    memcpy(buf + 8, header, hl);
    memset(buf + 8 + hl, ' ', padded - hl);
    const char *p = tmp_path(fname);
    tu_write_file(p, buf, n);
    free(buf);
    return p;
}

/* Opening path must fail, the message naming the file and holding each fragment. */
static void expect_refused(const char *open_path, const char *file, const char *frag1, const char *frag2, const char *frag3) {
    q35_st st;
    ck_assert_msg(q35_st_open(&st, open_path, err, sizeof err) == -1, "%s opened", open_path);
    ck_assert_int_eq(st.n, 0);
    ck_assert_msg(strstr(err, file), "message does not name %s: %s", file, err);
    const char *fr[3] = { frag1, frag2, frag3 };
    for (int i = 0; i < 3; i++)
        if (fr[i]) ck_assert_msg(strstr(err, fr[i]), "message lacks '%s': %s", fr[i], err);
    q35_st_close(&st);
}

/* Inserts one byte in front of the data section of the file at path (the header is unchanged). */
static void insert_byte_before_data(const char *path) {
    size_t n;
    unsigned char *b = (unsigned char *)q35_read_file(path, 1u << 20, &n);
    ck_assert_ptr_nonnull(b);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | b[i];
    unsigned char *o = malloc(n + 1);
    memcpy(o, b, 8 + hl);
    o[8 + hl] = 0x5a;
    memcpy(o + 8 + hl + 1, b + 8 + hl, n - 8 - hl);
    tu_write_file(path, o, n + 1);
    free(o);
    free(b);
}

static void save_two(const char *path) {
    float a[3] = { 1, 2, 3 }, b[2] = { 4, 5 };
    int64_t sa[1] = { 3 }, sb[1] = { 2 };
    q35_tensor t[2] = { q35_view_f32(a, 1, sa), q35_view_f32(b, 1, sb) };
    const char *names[2] = { "alpha", "beta" };
    ck_assert_msg(q35_st_save(path, names, t, 2, err, sizeof err) == 0, "%s", err);
}

/* One extra byte in front of the data: before, every tensor read one byte off; now refused. */
START_TEST(safetensors_leading_byte) {
    const char *p = tmp_path("lead.safetensors");
    save_two(p);
    q35_st st;
    ck_assert_msg(q35_st_open(&st, p, err, sizeof err) == 0, "%s", err);
    ck_assert_float_eq(q35_get_f32(&q35_st_find(&st, "beta")->t, 1), 5.0f);
    q35_st_close(&st);
    insert_byte_before_data(p);
    expect_refused(p, "lead.safetensors", "tensor beta", "belong to no tensor", "21 bytes");
    /* offsets that leave the first bytes uncovered */
    p = craft("lead2.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8);
    expect_refused(p, "lead2.safetensors", "tensor w", "bytes [0, 4) belong to no tensor", NULL);
}
END_TEST

START_TEST(safetensors_gap) {
    const char *p = craft("gap.safetensors",
                          "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                          " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [12, 20]}}", 20);
    expect_refused(p, "gap.safetensors", "gap", "bytes [8, 12)", "tensors a and b");
}
END_TEST

START_TEST(safetensors_overlap) {
    const char *p = craft("ov.safetensors",
                          "{\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]},"
                          " \"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 12);
    expect_refused(p, "ov.safetensors", "tensors a and b overlap", NULL, NULL);
    /* the same bytes twice */
    p = craft("ov2.safetensors",
              "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
              " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8);
    expect_refused(p, "ov2.safetensors", "overlap", "tensors a and b", NULL);
}
END_TEST

START_TEST(safetensors_trailing) {
    const char *p = craft("tr.safetensors",
                          "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                          " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}", 24);
    expect_refused(p, "tr.safetensors", "tensor b", "the 8 bytes after it belong to no tensor", NULL);
    p = craft("tr0.safetensors", "{\"__metadata__\": {}}", 8);
    expect_refused(p, "tr0.safetensors", "no tensor covers", NULL, NULL);
}
END_TEST

/* Exactly covered files load: q35's writer (with an alignment filler), zero-size tensors, a sharded
 * checkpoint through its index, mkmodel's checkpoint; a bad shard is named. */
START_TEST(safetensors_good_files_load) {
    q35_st st;
    const char *p = tmp_path("w.safetensors");
    q35_stw w;
    int64_t s3[1] = { 3 }, s1[1] = { 1 }, s0[1] = { 0 };
    ck_assert_int_eq(q35_stw_init(&w, p, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_add(&w, "h", Q35_BF16, 1, s3, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_add(&w, "i", Q35_I64, 1, s1, err, sizeof err), 0); /* after a 2-byte filler */
    ck_assert_int_eq(q35_stw_add(&w, "z", Q35_F32, 1, s0, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_begin(&w, err, sizeof err), 0);
    unsigned char d[14] = { 0 };
    ck_assert_int_eq(q35_stw_write(&w, d, 14, err, sizeof err), 0);
    ck_assert_msg(q35_stw_finish(&w, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(q35_st_open(&st, p, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(st.n, 3);
    q35_st_close(&st);
    p = craft("z.safetensors",
              "{\"e\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [0, 0]},"
              " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
              " \"f\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 4]}}", 4);
    ck_assert_msg(q35_st_open(&st, p, err, sizeof err) == 0, "%s", err);
    q35_st_close(&st);

    char sd[4200], idx[4300];
    snprintf(sd, sizeof sd, "%s/sharded", dir);
    ck_assert_int_eq(mkdir(sd, 0700), 0);
    float x[4] = { 1, 2, 3, 4 }, y[2] = { 5, 6 };
    int64_t sx[1] = { 4 }, sy[1] = { 2 };
    q35_tensor tx = q35_view_f32(x, 1, sx), ty = q35_view_f32(y, 1, sy);
    const char *nx[] = { "x" }, *ny[] = { "y" };
    char s1p[4300], s2p[4300];
    snprintf(s1p, sizeof s1p, "%s/model-00001-of-00002.safetensors", sd);
    snprintf(s2p, sizeof s2p, "%s/model-00002-of-00002.safetensors", sd);
    ck_assert_int_eq(q35_st_save(s1p, nx, &tx, 1, err, sizeof err), 0);
    ck_assert_int_eq(q35_st_save(s2p, ny, &ty, 1, err, sizeof err), 0);
    snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", sd);
    const char *ij = "{\"weight_map\": {\"x\": \"model-00001-of-00002.safetensors\", \"y\": \"model-00002-of-00002.safetensors\"}}";
    tu_write_file(idx, ij, strlen(ij));
    ck_assert_msg(q35_st_open(&st, sd, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(st.n, 2);
    ck_assert_float_eq(q35_get_f32(&q35_st_find(&st, "y")->t, 1), 6.0f);
    q35_st_close(&st);
    insert_byte_before_data(s2p);
    expect_refused(sd, "model-00002-of-00002.safetensors", "tensor y", "belong to no tensor", NULL);

    char *out;
    ck_assert_int_eq(run_q35(&out, "mkmodel --preset tiny --out %s/tiny --tokenizer none", dir), 0);
    free(out);
    snprintf(sd, sizeof sd, "%s/tiny", dir);
    ck_assert_msg(q35_st_open(&st, sd, err, sizeof err) == 0, "%s", err);
    ck_assert_int_gt(st.n, 10);
    q35_st_close(&st);
    ck_assert_int_eq(run_q35(&out, "info %s/tiny", dir), 0);
    free(out);
    ck_assert_msg(q35_st_open(&st, "golden/data/small_text/checkpoint_bf16", err, sizeof err) == 0, "%s", err);
    q35_st_close(&st);
}
END_TEST

/* ---- item 3: alias-map sizes checked for overflow ---- */

static const char *alias_yaml(const char *name, const char *transform) {
    char y[2048];
    snprintf(y, sizeof y,
             "format: q35-aliases/1\n"
             "params:\n"
             "  big: huge_heads\n"
             "aliases:\n"
             "  - theirs: \"ok\"\n"
             "    ours: \"ok\"\n"
             "  - theirs: \"t-{L}\"\n"
             "    ours: \"x.{L}\"\n"
             "    transform: [ %s ]\n", transform);
    return write_tmp(name, y);
}

/* Loads the map, applies alias 1 to a [4, 2] tensor: must fail with the map, the entry and frag. */
static void expect_apply_refused(const char *file, const char *frag) {
    q35_alias_map m;
    ck_assert_msg(q35_alias_load(&m, tmp_path(file), err, sizeof err) == 0, "%s", err);
    const char *cfg = write_tmp("config.json", "{\"huge_heads\": 4611686018427387904}");
    ck_assert_msg(q35_alias_resolve(&m, cfg, NULL, 0, err, sizeof err) == 0, "%s", err);
    char ours[64];
    ck_assert_int_eq(q35_alias_match(&m, 0, "t-3", ours, sizeof ours), 1);
    float v[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    int64_t s[2] = { 4, 2 };
    q35_tensor in = q35_view_f32(v, 2, s), out;
    void *buf = (void *)1;
    ck_assert_int_eq(q35_alias_apply(&m, 1, &in, &in, &buf, &out, err, sizeof err), -1);
    ck_assert_ptr_null(buf);
    ck_assert_msg(strstr(err, file) && strstr(err, "aliases[1]") && strstr(err, "t-{L}") && strstr(err, frag), "%s", err);
    q35_alias_free(&m);
}

START_TEST(alias_view_overflow) {
    alias_yaml("v.yaml", "{view: [4294967296, 4294967296, 4294967296]}");
    expect_apply_refused("v.yaml", "overflow");
    alias_yaml("v2.yaml", "{view: [big, big, -1]}");
    expect_apply_refused("v2.yaml", "overflow");
    /* a fitting product that is not the element count is still the plain mismatch */
    q35_alias_map m;
    ck_assert_int_eq(q35_alias_load(&m, alias_yaml("v3.yaml", "{view: [4294967296, 2]}"), err, sizeof err), 0);
    float v[8] = { 0 };
    int64_t s[2] = { 4, 2 };
    q35_tensor in = q35_view_f32(v, 2, s), out;
    void *buf;
    ck_assert_int_eq(q35_alias_apply(&m, 1, &in, &in, &buf, &out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "element counts differ"), "%s", err);
    q35_alias_free(&m);
}
END_TEST

/* heads * head_size = 2^62 * 4 wraps to 0, which passed the "fits in the axis" check: the
 * transform became the identity. */
START_TEST(alias_untile_overflow) {
    alias_yaml("u.yaml", "{untile_heads: {axis: 0, groups: 1, heads: 4611686018427387904, head_size: 4}}");
    expect_apply_refused("u.yaml", "overflows");
    alias_yaml("u2.yaml", "{untile_heads: {axis: 0, groups: 2, heads: big, head_size: 4}}");
    expect_apply_refused("u2.yaml", "overflows");
    /* numbers beyond int64 are refused when the map loads, not cast */
    q35_alias_map m;
    ck_assert_int_eq(q35_alias_load(&m, alias_yaml("u3.yaml", "{untile_heads: {axis: 0, groups: 1e300}}"), err, sizeof err), -1);
    ck_assert_msg(strstr(err, "u3.yaml") && strstr(err, "aliases[1]"), "%s", err);
    ck_assert_int_eq(q35_alias_load(&m, alias_yaml("u4.yaml", "{view: [1e300]}"), err, sizeof err), -1);
    ck_assert_msg(strstr(err, "u4.yaml") && strstr(err, "aliases[1]"), "%s", err);
    const char *y = write_tmp("p.yaml", "format: q35-aliases/1\nparams:\n  big: 1e300\naliases:\n  - theirs: a\n    ours: b\n");
    ck_assert_int_eq(q35_alias_load(&m, y, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "p.yaml") && strstr(err, "param big"), "%s", err);
    /* a config value beyond int64 leaves the param unresolved */
    ck_assert_int_eq(q35_alias_load(&m, alias_yaml("u5.yaml", "{view: [big, -1]}"), err, sizeof err), 0);
    ck_assert_int_eq(q35_alias_resolve(&m, write_tmp("c2.json", "{\"huge_heads\": 1e300}"), NULL, 0, err, sizeof err), 0);
    float v[8] = { 0 };
    int64_t s[2] = { 4, 2 };
    q35_tensor in = q35_view_f32(v, 2, s), out;
    void *buf;
    ck_assert_int_eq(q35_alias_apply(&m, 1, &in, &in, &buf, &out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "param big is unknown"), "%s", err);
    q35_alias_free(&m);
}
END_TEST

/* A policy bar no comparison can meet (cosine 2), or NaN, is refused; so is a second YAML
 * document, which would otherwise be ignored. */
START_TEST(policy_impossible_bars_and_documents) {
    const char *bad[][2] = {
        { "format: q35-tolerances/1\nrules:\n  - cosine: 2\n", "cosine must be at most 1" },
        { "format: q35-tolerances/1\nrules:\n  - top1_min: 1.5\n", "top1_min must be at most 1" },
        { "format: q35-tolerances/1\nrules:\n  - max_rel: .nan\n", "max_rel must be a finite number" },
        { "format: q35-tolerances/1\nrules:\n  - atol: .inf\n", "atol must be a finite number" },
        { "format: q35-tolerances/1\nrules:\n  - max_rel: 1e-9\n---\nformat: q35-tolerances/1\nrules:\n  - max_rel: 10\n",
          "a second YAML document" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        q35_policy p;
        ck_assert_int_eq(q35_policy_default(&p, 1e-4, 1e-3, 0.9999, err, sizeof err), 0);
        ck_assert_int_eq(q35_policy_load(&p, write_tmp("pol.yaml", bad[i][0]), err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[i][1]) && strstr(err, "pol.yaml"), "case %zu: %s", i, err);
        q35_policy_free(&p);
    }
    q35_policy p;
    ck_assert_int_eq(q35_policy_default(&p, 1e-4, 1e-3, 0.9999, err, sizeof err), 0);
    ck_assert_int_eq(q35_policy_load(&p, "tests", err, sizeof err), -1); /* a directory, named as such */
    ck_assert_msg(strstr(err, "tests: Is a directory"), "%s", err);
    ck_assert_msg(q35_policy_load(&p, write_tmp("pol.yaml", "---\nformat: q35-tolerances/1\nrules:\n  - cosine: 1\n...\n"), err,
                                  sizeof err) == 0, "%s", err);
    q35_policy_free(&p);
}
END_TEST

int main(void) {
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("inputs");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, tokenize_jsonl_nul);
    tcase_add_test(tc, tokenize_jsonl_surrogates);
    tcase_add_test(tc, chat_format_nul);
    tcase_add_test(tc, help_exit_codes);
    tcase_add_test(tc, safetensors_leading_byte);
    tcase_add_test(tc, safetensors_gap);
    tcase_add_test(tc, safetensors_overlap);
    tcase_add_test(tc, safetensors_trailing);
    tcase_add_test(tc, safetensors_good_files_load);
    tcase_add_test(tc, alias_view_overflow);
    tcase_add_test(tc, alias_untile_overflow);
    tcase_add_test(tc, policy_impossible_bars_and_documents);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
