/* test_tokenizer.c - every corpus line of the Hugging Face tokenizer goldens: ids and decoded text
 * identical (tests/data/tokenizer, from the Rust tokenizers library), and bad input. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q35.h"
#include "testutil.h"
#include "tokenizer.h"
#include "util.h"

#define DIR "tests/data/tokenizer/"

static char err[2048];

/* Runs every line of a golden jsonl; returns the number of lines checked. */
static int check_goldens(const char *tok_path, const char *ids_path) {
    q35_tokenizer *t = q35_tokenizer_load(tok_path, err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    size_t n;
    char *text = q35_read_file(ids_path, 64u << 20, &n);
    ck_assert_ptr_nonnull(text);
    int lines = 0, bad = 0;
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl) nl = line + strlen(line) - 1;
        else *nl = 0;
        cJSON *j = cJSON_Parse(line);
        ck_assert_msg(j != NULL, "bad golden line %d", lines);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id"), *tx = cJSON_GetObjectItemCaseSensitive(j, "text");
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(j, "ids"), *dec = cJSON_GetObjectItemCaseSensitive(j, "decoded");
        int *ids, k;
        ck_assert_msg(q35_tokenize(t, tx->valuestring, strlen(tx->valuestring), &ids, &k, err, sizeof err) == 0, "%s: %s",
                      id->valuestring, err);
        int same = k == cJSON_GetArraySize(want);
        int at = 0;
        for (const cJSON *w = want->child; same && w; w = w->next, at++) same = ids[at] == w->valueint;
        if (!same) {
            if (bad < 5) {
                fprintf(stderr, "%s: ids differ (%d vs %d tokens)\n  ours:", id->valuestring, k, cJSON_GetArraySize(want));
                for (int i = 0; i < k && i < 30; i++) fprintf(stderr, " %d", ids[i]);
                fprintf(stderr, "\n  hf:  ");
                at = 0;
                for (const cJSON *w = want->child; w && at < 30; w = w->next, at++) fprintf(stderr, " %d", w->valueint);
                fprintf(stderr, "\n");
            }
            bad++;
        }
        size_t dl;
        char *d = q35_detokenize(t, ids, k, 0, &dl, err, sizeof err);
        ck_assert_msg(d != NULL, "%s: %s", id->valuestring, err);
        if (strcmp(d, dec->valuestring) != 0) {
            if (bad < 5) fprintf(stderr, "%s: decoded text differs\n", id->valuestring);
            bad++;
        }
        free(d);
        free(ids);
        cJSON_Delete(j);
        lines++;
        if (!*(nl + 1)) break;
    }
    free(text);
    q35_tokenizer_free(t);
    ck_assert_msg(bad == 0, "%s: %d of %d lines differ from Hugging Face", ids_path, bad, lines);
    return lines;
}

START_TEST(qwen3_goldens) { ck_assert_int_eq(check_goldens(DIR "qwen3_tokenizer.json", DIR "qwen3_ids.jsonl"), 430); }
END_TEST

START_TEST(qwen35_style_goldens) {
    ck_assert_int_eq(check_goldens(DIR "qwen35_style_tokenizer.json", DIR "qwen35_style_ids.jsonl"), 430);
}
END_TEST

/* a second corpus made the same way from other texts (the evaluation samples), see make_extra.py */
START_TEST(extra_corpus) {
    ck_assert_int_eq(check_goldens(DIR "qwen3_tokenizer.json", DIR "extra_qwen3_ids.jsonl"), 372);
    ck_assert_int_eq(check_goldens(DIR "qwen35_style_tokenizer.json", DIR "extra_qwen35_style_ids.jsonl"), 372);
}
END_TEST

START_TEST(special_tokens_and_errors) {
    q35_tokenizer *t = q35_tokenizer_load(DIR "qwen35_style_tokenizer.json", err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    ck_assert_int_eq(q35_token_id(t, "<|im_start|>"), 248045);
    ck_assert_int_eq(q35_token_id(t, "<think>"), 248068);
    ck_assert_int_eq(q35_tokenizer_size(t), 248077);
    const char *s = "<|im_start|>user\nhi<|im_end|>";
    int *ids, n;
    ck_assert_int_eq(q35_tokenize(t, s, strlen(s), &ids, &n, err, sizeof err), 0);
    ck_assert_int_eq(ids[0], 248045);
    ck_assert_int_eq(ids[n - 1], 248046);
    char *d = q35_detokenize(t, ids, n, 1, NULL, err, sizeof err); /* special tokens skipped */
    ck_assert_str_eq(d, "user\nhi");
    free(d);
    free(ids);
    /* invalid UTF-8 is refused with its offset; unknown ids too */
    ck_assert_int_eq(q35_tokenize(t, "ab\xff" "c", 4, &ids, &n, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "offset 2"), "%s", err);
    int badid = 300000;
    ck_assert_ptr_null(q35_detokenize(t, &badid, 1, 0, NULL, err, sizeof err));
    ck_assert_msg(strstr(err, "300000"), "%s", err);
    /* a lone continuation byte inside a token sequence decodes to U+FFFD, as Hugging Face's */
    int ids2[2] = { q35_token_id(t, "\xc3\xa2"), q35_token_id(t, "a") }; /* byte 0xE2 alone, then 'a' */
    d = q35_detokenize(t, ids2, 2, 0, NULL, err, sizeof err);
    ck_assert_str_eq(d, "\xef\xbf\xbd" "a");
    free(d);
    q35_tokenizer_free(t);
    printf("Unicode tables: %s\n", q35_unicode_version());
}
END_TEST

/* Hostile tokenizer.json files: clear errors, no crash. */
START_TEST(bad_tokenizer_files) {
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    struct { const char *json, *frag; } c[] = {
        { "not json", "not valid JSON" },
        { "{\"model\": {\"type\": \"Unigram\"}}", "Unigram" },
        { "{\"model\": {\"type\": \"BPE\", \"vocab\": [], \"merges\": []}}", "model.vocab" },
        { "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"normalizer\": {\"type\": \"NFKC\"}}", "NFKC" },
        { "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"Whitespace\"}}",
          "pre_tokenizer" },
        { "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"Sequence\", "
          "\"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\w+\"}, \"behavior\": \"Isolated\"}, "
          "{\"type\": \"ByteLevel\"}]}}", "not one of the Qwen" },
    };
    /* a real tokenizer.json whose first merge names tokens that are not in the vocab */
    size_t n;
    char *real = q35_read_file(DIR "qwen3_tokenizer.json", 64u << 20, &n);
    ck_assert_ptr_nonnull(real);
    char *m = strstr(real, "\"merges\"");
    ck_assert_ptr_nonnull(m);
    char *open = strchr(m, '[');
    const char *bogus = "\"qqqzzz xxxyyy\", ";
    char *edited = malloc(n + strlen(bogus) + 1);
    size_t head = (size_t)(open + 1 - real);
    memcpy(edited, real, head);
    memcpy(edited + head, bogus, strlen(bogus));
    memcpy(edited + head + strlen(bogus), real + head, n - head + 1);
    tu_write_file(path, edited, strlen(edited));
    ck_assert_ptr_null(q35_tokenizer_load(dir, err, sizeof err));
    ck_assert_msg(strstr(err, "merge 0") && strstr(err, "not in the vocab"), "%s", err);
    free(real);
    free(edited);
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        tu_write_file(path, c[i].json, strlen(c[i].json));
        q35_tokenizer *t = q35_tokenizer_load(dir, err, sizeof err);
        ck_assert_msg(t == NULL, "case %zu loaded", i);
        ck_assert_msg(strstr(err, "tokenizer.json") && strstr(err, c[i].frag), "case %zu: '%s' not in: %s", i, c[i].frag, err);
    }
    tu_rm_rf(dir);
}
END_TEST

/* The command line: q35 tokenize --json and detokenize. */
START_TEST(cli_round_trip) {
    const char *bin = getenv("Q35_BIN") ? getenv("Q35_BIN") : "./q35";
    char cmd[1024], out[256] = "";
    snprintf(cmd, sizeof cmd, "%s tokenize " DIR "qwen3_tokenizer.json 'Hello, world!' --json", bin);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(fgets(out, sizeof out, p));
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_str_eq(out, "[9707,11,1879,0]\n");
    snprintf(cmd, sizeof cmd, "%s detokenize " DIR "qwen3_tokenizer.json 9707 11 1879 0", bin);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(fgets(out, sizeof out, p));
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_str_eq(out, "Hello, world!\n");
}
END_TEST

int main(void) {
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_create("bpe");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, qwen3_goldens);
    tcase_add_test(tc, qwen35_style_goldens);
    tcase_add_test(tc, extra_corpus);
    tcase_add_test(tc, special_tokens_and_errors);
    tcase_add_test(tc, bad_tokenizer_files);
    tcase_add_test(tc, cli_round_trip);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
