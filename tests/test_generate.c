/* test_generate.c - generation: greedy ids against the goldens' decoded ids, seeded sampling that
 * does not depend on runs or threads, streaming that never splits a character, stop strings
 * across tokens, the thinking split, and the command line's refusals. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cJSON.h>

#include "chat.h"
#include "genconfig.h"
#include "generate.h"
#include "q35.h"
#include "sampler.h"
#include "testutil.h"
#include "util.h"

static char err[2048];

/* ---- greedy generation reproduces the goldens' decoded ids ---- */

static int *json_ints(const cJSON *a, int *n) {
    *n = cJSON_GetArraySize(a);
    int *v = malloc((size_t)(*n ? *n : 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (int i = 0; i < *n; i++) v[i] = cJSON_GetArrayItem(a, i)->valueint;
    return v;
}

/* Runs set's prompt (with its images) through q35_generate greedily on ops and checks the ids. */
static void greedy_set(const char *set, const q35_ops *ops) {
    char path[512];
    snprintf(path, sizeof path, "golden/data/%s/manifest.json", set);
    char *text = q35_read_file(path, 1u << 24, NULL);
    ck_assert_ptr_nonnull(text);
    cJSON *man = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(man);
    int n, nd;
    int *prompt = json_ints(cJSON_GetObjectItemCaseSensitive(man, "prompt_ids"), &n);
    int *want = json_ints(cJSON_GetObjectItemCaseSensitive(man, "decoded_ids"), &nd);
    ck_assert_int_gt(nd, 0);
    snprintf(path, sizeof path, "golden/data/%s/checkpoint_f32", set);
    q35_model m;
    ck_assert_msg(q35_model_open(&m, path, err, sizeof err) == 0, "%s", err);
    q35_image_batch b = { 0 };
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(man, "images");
    int ni = cJSON_GetArraySize(imgs);
    if (ni > 0) {
        q35_preproc_config pc;
        ck_assert_msg(q35_preproc_load(&pc, m.dir, err, sizeof err) == 0, "%s", err);
        char **files = calloc((size_t)ni, sizeof *files);
        for (int k = 0; k < ni; k++) {
            const char *f = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(imgs, k), "file")->valuestring;
            files[k] = malloc(strlen(f) + 64);
            sprintf(files[k], "golden/data/%s/%s", set, f);
        }
        ck_assert_msg(q35_image_batch_load(&b, &pc, (const char *const *)files, ni, 1, NULL, NULL, err, sizeof err) == 0,
                      "%s", err);
        for (int k = 0; k < ni; k++) free(files[k]);
        free(files);
    }
    q35_text_state s;
    ck_assert_msg(q35_text_state_init(&s, &m, err, sizeof err) == 0, "%s", err);
    q35_sampling g = { .temperature = 0, .top_p = 1, .repetition_penalty = 1 };
    q35_sampler *smp = q35_sampler_new(&g, m.cfg.text.vocab_size, err, sizeof err);
    ck_assert_msg(smp != NULL, "%s", err);
    q35_gen_opts o = { .max_new_tokens = nd, .context = m.cfg.text.max_position_embeddings };
    q35_gen_result r;
    ck_assert_msg(q35_generate(&r, &s, ops, smp, NULL, prompt, n, ni ? &b : NULL, &o, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(r.n, nd);
    for (int i = 0; i < nd; i++)
        ck_assert_msg(r.ids[i] == want[i], "%s [%s]: token %d is %d, the golden %d", set, ops->name, i, r.ids[i], want[i]);
    ck_assert_str_eq(r.finish, "length");
    ck_assert_ptr_null(r.text); /* no tokenizer, no text */
    q35_gen_result_free(&r);
    q35_sampler_free(smp);
    q35_text_state_free(&s);
    q35_image_batch_free(&b);
    q35_model_close(&m);
    free(prompt), free(want);
    cJSON_Delete(man);
}

static const char *sets[] = { "small_text", "text_hv2", "kv_equal", "small_vl", "vl_multi" };
START_TEST(greedy_goldens_ref) { greedy_set(sets[_i], &q35_ops_ref); }
END_TEST
START_TEST(greedy_goldens_fast) { greedy_set(sets[_i], &q35_ops_fast); }
END_TEST

/* ---- seeded sampling: the same ids on every run and thread count ---- */

static int *sampled(const q35_model *m, int threads, uint64_t seed, int *n) {
    q35_set_threads(threads);
    q35_text_state s;
    ck_assert_msg(q35_text_state_init(&s, m, err, sizeof err) == 0, "%s", err);
    const q35_preset *p = q35_preset_find("thinking");
    ck_assert_ptr_nonnull(p);
    q35_sampling g = p->s;
    g.seed = seed;
    q35_sampler *smp = q35_sampler_new(&g, m->cfg.text.vocab_size, err, sizeof err);
    ck_assert_ptr_nonnull(smp);
    int prompt[5] = { 3, 148, 561, 489, 517 };
    q35_gen_opts o = { .max_new_tokens = 40, .context = m->cfg.text.max_position_embeddings };
    q35_gen_result r;
    ck_assert_msg(q35_generate(&r, &s, &q35_ops_fast, smp, NULL, prompt, 5, NULL, &o, err, sizeof err) == 0, "%s", err);
    int *ids = malloc((size_t)r.n * sizeof *ids);
    memcpy(ids, r.ids, (size_t)r.n * sizeof *ids);
    *n = r.n;
    q35_gen_result_free(&r);
    q35_sampler_free(smp);
    q35_text_state_free(&s);
    return ids;
}

START_TEST(same_seed_same_ids) {
    q35_model m;
    ck_assert_msg(q35_model_open(&m, "golden/data/small_text/checkpoint_bf16", err, sizeof err) == 0, "%s", err);
    int n1, n2, n3, n4;
    int *a = sampled(&m, 1, 7, &n1), *b = sampled(&m, 2, 7, &n2), *c = sampled(&m, 2, 7, &n3), *d = sampled(&m, 1, 8, &n4);
    ck_assert_int_eq(n1, 40);
    ck_assert_int_eq(n2, n1);
    ck_assert_int_eq(n3, n1);
    ck_assert_msg(memcmp(a, b, (size_t)n1 * sizeof *a) == 0, "1 and 2 threads differ");
    ck_assert_msg(memcmp(b, c, (size_t)n1 * sizeof *a) == 0, "two runs differ");
    ck_assert_msg(n4 != n1 || memcmp(a, d, (size_t)n1 * sizeof *a) != 0, "seeds 7 and 8 gave the same 40 tokens");
    free(a), free(b), free(c), free(d);
    q35_model_close(&m);
    q35_set_threads(0);
}
END_TEST

/* ---- streaming and stop strings ---- */

typedef struct {
    char text[1024];
    size_t n;
    int pieces;
} sink;

static void collect(const char *t, size_t n, void *ud) {
    sink *s = ud;
    /* every piece is valid UTF-8 on its own: repairing it changes nothing */
    char fix[3 * 256 + 1];
    ck_assert_uint_le(n, 256);
    size_t m = q35_utf8_lossy(fix, (const unsigned char *)t, n);
    ck_assert_msg(m == n && memcmp(fix, t, n) == 0, "a streamed piece is not whole UTF-8: %.*s", (int)n, t);
    memcpy(s->text + s->n, t, n);
    s->n += n;
    s->text[s->n] = 0;
    s->pieces++;
}

/* Pushes the tokens (byte strings) and returns the final text; *stopped the stop index. */
static char *stream(const char *const *toks, int nt, char *const *stop, int ns, sink *sk, int *stopped, int *pushed) {
    q35_text_stream t;
    memset(sk, 0, sizeof *sk);
    q35_text_stream_init(&t, stop, ns, collect, sk);
    int i = 0;
    for (; i < nt; i++) {
        int r = q35_text_stream_push(&t, toks[i], strlen(toks[i]));
        ck_assert_int_ge(r, 0);
        if (r) {
            i++;
            break;
        }
    }
    *pushed = i;
    size_t len;
    char *out = q35_text_stream_finish(&t, &len);
    ck_assert_ptr_nonnull(out);
    *stopped = t.stopped;
    q35_text_stream_free(&t);
    ck_assert_str_eq(sk->text, out); /* what was streamed is the final text */
    return out;
}

START_TEST(stream_never_splits_a_character) {
    sink sk;
    int st, pushed;
    /* é = C3 A9 in two tokens; the emoji F0 9F 98 80 in three; a CJK character E4 B8 AD in two */
    const char *toks[] = { "caf\xC3", "\xA9 ", "\xF0", "\x9F", "\x98\x80", " \xE4\xB8", "\xAD!" };
    char *out = stream(toks, 7, NULL, 0, &sk, &st, &pushed);
    ck_assert_str_eq(out, "caf\xC3\xA9 \xF0\x9F\x98\x80 \xE4\xB8\xAD!");
    ck_assert_int_ge(sk.pieces, 3);
    free(out);
    /* bytes that can never be UTF-8 are not held back: they come out repaired */
    const char *bad[] = { "a\xFF", "b\xC3", "(" };
    out = stream(bad, 3, NULL, 0, &sk, &st, &pushed);
    ck_assert_str_eq(out, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD(");
    free(out);
}
END_TEST

START_TEST(stop_strings_across_tokens) {
    sink sk;
    int st, pushed;
    char *stop[] = { "STOP", "\n\n" };
    const char *toks[] = { "Hello ", "ST", "OP", " never" };
    char *out = stream(toks, 4, stop, 2, &sk, &st, &pushed);
    ck_assert_str_eq(out, "Hello ");
    ck_assert_int_eq(st, 0);
    ck_assert_int_eq(pushed, 3);
    free(out);
    /* a prefix of a stop string is held back, then released when the text goes another way */
    const char *toks2[] = { "x ST", "ART", " y" };
    out = stream(toks2, 3, stop, 2, &sk, &st, &pushed);
    ck_assert_str_eq(out, "x START y");
    ck_assert_int_eq(st, -1);
    free(out);
    /* the first match wins, also inside one token with text after it */
    const char *toks3[] = { "a\n", "\nb STOP c" };
    out = stream(toks3, 2, stop, 2, &sk, &st, &pushed);
    ck_assert_str_eq(out, "a");
    ck_assert_int_eq(st, 1);
    free(out);
}
END_TEST

START_TEST(thinking_split) {
    char *r, *c;
    ck_assert_int_eq(q35_split_thinking("Let me see.\n</think>\n\nParis.", 1, &r, &c), 0);
    ck_assert_str_eq(r, "Let me see.");
    ck_assert_str_eq(c, "Paris.");
    free(r), free(c);
    ck_assert_int_eq(q35_split_thinking("<think>\nhmm\n</think>\n\nYes", 0, &r, &c), 0);
    ck_assert_str_eq(r, "hmm");
    ck_assert_str_eq(c, "Yes");
    free(r), free(c);
    ck_assert_int_eq(q35_split_thinking("still thinking", 1, &r, &c), 0); /* cut off inside the thinking */
    ck_assert_str_eq(r, "still thinking");
    ck_assert_str_eq(c, "");
    free(r), free(c);
    ck_assert_int_eq(q35_split_thinking("Plain answer.", 0, &r, &c), 0);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(c, "Plain answer.");
    free(c);
    ck_assert_int_eq(q35_prompt_opens_thinking("<|im_start|>assistant\n<think>\n"), 1);
    ck_assert_int_eq(q35_prompt_opens_thinking("<|im_start|>assistant\n<think>\n\n</think>\n\n"), 0);
    ck_assert_int_eq(q35_prompt_opens_thinking("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"), 0);
}
END_TEST

/* ---- the command line ---- */

static char *run_stdout; /* the last run's stdout */

/* Runs a shell command; returns its exit status and its stderr in *out (static); its stdout is
 * left in run_stdout. */
static int run(const char *cmd, const char **out) {
    static char buf[8192];
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", tu_mkdtemp());
    size_t len = strlen(cmd) + 2 * strlen(tmp) + 32;
    char *full = malloc(len);
    ck_assert_ptr_nonnull(full);
    snprintf(full, len, "%s 2>%s/err >%s/out", cmd, tmp, tmp);
    int st = system(full);
    snprintf(full, len, "%s/err", tmp);
    char *e = q35_read_file(full, sizeof buf - 1, NULL);
    snprintf(buf, sizeof buf, "%s", e ? e : "");
    free(e);
    snprintf(full, len, "%s/out", tmp);
    free(run_stdout);
    run_stdout = q35_read_file(full, 1 << 20, NULL);
    free(full);
    tu_rm_rf(tmp);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(cli_refuses_bad_input) {
    const char *M = "golden/data/small_text/checkpoint_f32", *e;
    char cmd[8192];
    struct {
        const char *args;
        int status;
        const char *says;
    } cases[] = {
        { "--prompt-ids 3,148 --preset nope", 2, "unknown preset 'nope'" },
        { "--prompt-ids 3,148 --max-new-tokens -1", 2, "--max-new-tokens -1" },
        { "--prompt-ids 3,148 --temperature -0.5", 2, "--temperature" },
        { "--prompt-ids 3,148 --top-p 0", 2, "--top-p" },
        { "-p hi --prompt-ids 3,148", 2, "exclude each other" },
        { "--think --no-think -p hi", 2, "exclude each other" },
        { "--prompt-ids 3,148 --think", 2, "raw ids" },
        { "--chat --json", 2, "--chat" },
        { "", 2, "give a prompt" },
        { "--prompt-ids 3,x", 1, "expected ids" },
        { "-p hi", 1, "no tokenizer.json" },
        { "--prompt-ids 3,148 --image /nonexistent.png", 2, "raw ids" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(cmd, sizeof cmd, "./q35 generate %s %s", M, cases[i].args);
        int st = run(cmd, &e);
        ck_assert_msg(st == cases[i].status && strstr(e, cases[i].says), "%s: status %d, stderr: %s", cmd, st, e);
    }
    /* a prompt longer than the context (4096 positions) */
    char *ids = malloc(4200 * 6);
    int len = 0;
    for (int i = 0; i < 4100; i++) len += sprintf(ids + len, "%s%d", i ? "," : "", i % 900);
    char *big = malloc((size_t)len + 256);
    sprintf(big, "./q35 generate %s --prompt-ids %s --max-new-tokens 2", M, ids);
    int st = run(big, &e);
    ck_assert_msg(st == 1 && strstr(e, "context"), "long prompt: status %d, stderr: %s", st, e);
    free(ids), free(big);
}
END_TEST

/* --prompt-ids with --json on a model without a tokenizer: the golden's greedy ids, as JSON. */
START_TEST(cli_json_greedy) {
    const char *tmp = tu_mkdtemp();
    char cmd[1024], path[600];
    snprintf(cmd, sizeof cmd,
             "./q35 generate golden/data/small_text/checkpoint_f32 --backend ref --prompt-ids "
             "3,148,561,489,517,346,136,915,872,511,368,749,853,508,497,499,842,283,620,205,777,317,847,733 "
             "--temperature 0 --max-new-tokens 3 --json --show-settings > %s/out.json 2>%s/err",
             tmp, tmp);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/out.json", tmp);
    char *text = q35_read_file(path, 1 << 20, NULL);
    ck_assert_ptr_nonnull(text);
    cJSON *j = cJSON_Parse(text);
    ck_assert_ptr_nonnull(j);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(j, "ids");
    ck_assert_int_eq(cJSON_GetArraySize(ids), 3);
    int want[3] = { 880, 188, 124 };
    for (int i = 0; i < 3; i++) ck_assert_int_eq(cJSON_GetArrayItem(ids, i)->valueint, want[i]);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "finish_reason")->valuestring, "length");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "settings"), "temperature");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t, "from")->valuestring, "--temperature");
    cJSON_Delete(j);
    free(text);
    snprintf(path, sizeof path, "%s/err", tmp);
    text = q35_read_file(path, 1 << 20, NULL);
    ck_assert_msg(text && strstr(text, "temperature") && strstr(text, "generated 3"), "stderr: %s", text ? text : "");
    free(text);
    tu_rm_rf(tmp);
}
END_TEST


/* ---- a complete checkpoint from mkmodel, and text generation on it ---- */

static char tiny[1024];

/* mkmodel --preset tiny once per test process, into a temporary directory. */
static const char *tiny_model(void) {
    if (tiny[0]) return tiny;
    const char *e;
    snprintf(tiny, sizeof tiny, "%s/tiny", tu_mkdtemp());
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "./q35 mkmodel --preset tiny --out %s", tiny);
    ck_assert_msg(run(cmd, &e) == 0, "mkmodel: %s", e);
    return tiny;
}

START_TEST(mkmodel_writes_a_complete_checkpoint) {
    const char *dir = tiny_model();
    char path[4200];
    /* tokenizer.json: the project's, byte for byte */
    size_t n1, n2;
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    char *a = q35_read_file(path, 64u << 20, &n1), *b = q35_read_file("tests/data/tokenizer/qwen35_style_tokenizer.json", 64u << 20, &n2);
    ck_assert(a && b && n1 == n2 && memcmp(a, b, n1) == 0);
    free(a), free(b);
    /* tokenizer_config.json: the fields transformers reads and the small models' template */
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    char *tc = q35_read_file(path, 1 << 20, NULL);
    cJSON *j = tc ? cJSON_Parse(tc) : NULL;
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "eos_token")->valuestring, "<|im_end|>");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "pad_token")->valuestring, "<|endoftext|>");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "tokenizer_class")->valuestring, "Qwen2Tokenizer");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "chat_template")->valuestring, q35_chat_template_builtin(1));
    cJSON_Delete(j);
    free(tc);
    snprintf(path, sizeof path, "%s/chat_template.jinja", dir);
    char *tpl = q35_read_file(path, 1 << 20, NULL);
    ck_assert_ptr_nonnull(tpl);
    ck_assert_str_eq(tpl, q35_chat_template_builtin(1));
    free(tpl);
    /* generation_config.json: the card's non-thinking text settings for the small sizes */
    q35_genconfig g;
    ck_assert_msg(q35_genconfig_load(&g, dir, err, sizeof err) == 0, "%s", err);
    ck_assert(g.present && g.has_temperature && g.s.temperature == 1.0f && g.s.top_p == 1.0f && g.s.top_k == 20);
    ck_assert(g.has_presence && g.s.presence_penalty == 2.0f && g.n_eos == 2 && g.eos[0] == 248046 && g.eos[1] == 248044);
    /* --tokenizer none writes none; a bad path is refused with the path named */
    const char *e;
    char tmp[4096], cmd[8192];
    snprintf(tmp, sizeof tmp, "%s", tu_mkdtemp());
    snprintf(cmd, sizeof cmd, "./q35 mkmodel --preset tiny --out %s/a --tokenizer none", tmp);
    ck_assert_msg(run(cmd, &e) == 0, "%s", e);
    snprintf(path, sizeof path, "%s/a/tokenizer.json", tmp);
    ck_assert_int_ne(access(path, F_OK), 0);
    snprintf(cmd, sizeof cmd, "./q35 mkmodel --preset tiny --out %s/b --tokenizer /no/such/tokenizer.json", tmp);
    ck_assert_msg(run(cmd, &e) == 1 && strstr(e, "/no/such/tokenizer.json"), "%s", e);
    /* a model without a tokenizer: the error says how to give one */
    snprintf(cmd, sizeof cmd, "./q35 generate %s/a -p hi", tmp);
    ck_assert_msg(run(cmd, &e) == 1 && strstr(e, "--tokenizer"), "%s", e);
    snprintf(cmd, sizeof cmd, "./q35 chat-format %s/a --messages tests/data/chat/demo_messages.json", tmp);
    ck_assert_msg(run(cmd, &e) == 1 && strstr(e, "--tokenizer"), "%s", e);
    tu_rm_rf(tmp);
    /* chat-format works on the complete one */
    snprintf(cmd, sizeof cmd, "./q35 chat-format %s --messages tests/data/chat/demo_messages.json", dir);
    ck_assert_msg(run(cmd, &e) == 0, "%s", e);
}
END_TEST

/* The streamed text (stdout) is the JSON text of the same seeded run, and that text is what the
 * tokenizer decodes from the ids; a missing image is named. */
START_TEST(text_generation_end_to_end) {
    const char *dir = tiny_model(), *e;
    char tmp[4096], cmd[8192];
    snprintf(tmp, sizeof tmp, "%s", tu_mkdtemp());
    snprintf(cmd, sizeof cmd, "./q35 generate %s -p 'Hello there' --max-new-tokens 40 --seed 3 --stop zzzq", dir);
    ck_assert_msg(run(cmd, &e) == 0, "%s", e);
    char *streamed = run_stdout;
    run_stdout = NULL;
    snprintf(cmd, sizeof cmd, "./q35 generate %s -p 'Hello there' --max-new-tokens 40 --seed 3 --stop zzzq --json", dir);
    ck_assert_msg(run(cmd, &e) == 0, "%s", e);
    char *js = run_stdout;
    run_stdout = NULL;
    cJSON *j = js ? cJSON_Parse(js) : NULL;
    ck_assert_ptr_nonnull(j);
    const char *text = cJSON_GetObjectItemCaseSensitive(j, "text")->valuestring;
    ck_assert_ptr_nonnull(streamed);
    size_t sl = strlen(streamed);
    ck_assert(sl > 0 && streamed[sl - 1] == '\n');
    streamed[sl - 1] = 0;
    ck_assert_str_eq(streamed, text);
    /* the ids decode to the text (ids without a token decode to nothing, as Hugging Face) */
    q35_tokenizer *t = q35_tokenizer_load(dir, err, sizeof err);
    ck_assert_ptr_nonnull(t);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(j, "ids");
    int n = 0, *v = malloc(64 * sizeof *v);
    const cJSON *x;
    cJSON_ArrayForEach(x, ids) if (q35_token_exists(t, x->valueint)) v[n++] = x->valueint;
    char *dec = q35_detokenize(t, v, n, 1, NULL, err, sizeof err);
    ck_assert_ptr_nonnull(dec);
    ck_assert_str_eq(dec, text);
    free(dec), free(v);
    q35_tokenizer_free(t);
    cJSON_Delete(j);
    free(js), free(streamed);
    /* a missing image: named, exit 1 */
    snprintf(cmd, sizeof cmd, "./q35 generate %s -p hi --image %s/missing.png", dir, tmp);
    ck_assert_msg(run(cmd, &e) == 1 && strstr(e, "missing.png"), "%s", e);
    tu_rm_rf(tmp);
}
END_TEST

int main(void) {
    Suite *s = suite_create("generate");
    TCase *tc = tcase_create("generate");
    tcase_set_timeout(tc, 300);
    int nsets = (int)(sizeof sets / sizeof sets[0]);
    tcase_add_loop_test(tc, greedy_goldens_ref, 0, nsets);
    tcase_add_loop_test(tc, greedy_goldens_fast, 0, nsets);
    tcase_add_test(tc, same_seed_same_ids);
    tcase_add_test(tc, stream_never_splits_a_character);
    tcase_add_test(tc, stop_strings_across_tokens);
    tcase_add_test(tc, thinking_split);
    tcase_add_test(tc, cli_refuses_bad_input);
    tcase_add_test(tc, cli_json_greedy);
    tcase_add_test(tc, mkmodel_writes_a_complete_checkpoint);
    tcase_add_test(tc, text_generation_end_to_end);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
