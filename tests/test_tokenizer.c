/* test_tokenizer.c - every corpus line of the Hugging Face tokenizer goldens: ids and decoded text
 * identical (tests/data/tokenizer, from the Rust tokenizers library), the added-token flag goldens
 * (tests/data/tokenizer/flags), hostile tokenizer.json files encoded as Hugging Face does or refused
 * (tests/data/tokenizer/hostile), and bad input. */
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

/* Encodes a golden line's text and compares the ids with its ids_key list, and (when dec_key is
 * given) the decoding of our ids, without and (skip_key) with skip_special, with those fields.
 * Returns the number of fields that differ; the first few differences go to stderr while *shown < 5. */
static int line_differs(q35_tokenizer *t, const cJSON *j, const char *ids_key, const char *dec_key, const char *skip_key,
                        int *shown) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id"), *tx = cJSON_GetObjectItemCaseSensitive(j, "text");
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(j, ids_key);
    ck_assert_msg(cJSON_IsString(id) && cJSON_IsString(tx) && cJSON_IsArray(want), "golden line lacks id, text or %s", ids_key);
    int *ids, k, bad = 0;
    ck_assert_msg(q35_tokenize(t, tx->valuestring, strlen(tx->valuestring), &ids, &k, err, sizeof err) == 0, "%s: %s",
                  id->valuestring, err);
    int same = k == cJSON_GetArraySize(want);
    int at = 0;
    for (const cJSON *w = want->child; same && w; w = w->next, at++) same = ids[at] == w->valueint;
    if (!same) {
        if ((*shown)++ < 5) {
            fprintf(stderr, "%s: %s differ (%d vs %d tokens)\n  ours:", id->valuestring, ids_key, k, cJSON_GetArraySize(want));
            for (int i = 0; i < k && i < 30; i++) fprintf(stderr, " %d", ids[i]);
            fprintf(stderr, "\n  hf:  ");
            at = 0;
            for (const cJSON *w = want->child; w && at < 30; w = w->next, at++) fprintf(stderr, " %d", w->valueint);
            fprintf(stderr, "\n");
        }
        bad++;
    }
    const char *dec_keys[2] = { dec_key, skip_key };
    for (int skip = 0; skip < 2; skip++) {
        if (!dec_keys[skip]) continue;
        const cJSON *dec = cJSON_GetObjectItemCaseSensitive(j, dec_keys[skip]);
        ck_assert_msg(cJSON_IsString(dec), "%s: no %s", id->valuestring, dec_keys[skip]);
        char *d = q35_detokenize(t, ids, k, skip, NULL, err, sizeof err);
        ck_assert_msg(d != NULL, "%s: %s", id->valuestring, err);
        if (strcmp(d, dec->valuestring) != 0) {
            if ((*shown)++ < 5) fprintf(stderr, "%s: %s differs\n  ours: %s\n  hf:   %s\n", id->valuestring, dec->string, d, dec->valuestring);
            bad++;
        }
        free(d);
    }
    free(ids);
    return bad;
}

/* Calls fn on every line of a jsonl file; returns the number of lines. */
static int each_line(const char *path, void (*fn)(const cJSON *j, void *ctx), void *ctx) {
    size_t n;
    char *text = q35_read_file(path, 64u << 20, &n);
    ck_assert_msg(text != NULL, "%s: cannot read", path);
    int lines = 0;
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl) nl = line + strlen(line) - 1;
        else *nl = 0;
        cJSON *j = cJSON_Parse(line);
        ck_assert_msg(j != NULL, "%s: bad golden line %d", path, lines);
        fn(j, ctx);
        cJSON_Delete(j);
        lines++;
        if (!*(nl + 1)) break;
    }
    free(text);
    return lines;
}

struct golden_ctx {
    q35_tokenizer *t;
    int bad, shown;
};

static void golden_line(const cJSON *j, void *vctx) {
    struct golden_ctx *c = vctx;
    c->bad += line_differs(c->t, j, "ids", "decoded", NULL, &c->shown) != 0;
}

/* Runs every line of a golden jsonl; returns the number of lines checked. */
static int check_goldens(const char *tok_path, const char *ids_path) {
    struct golden_ctx c = { q35_tokenizer_load(tok_path, err, sizeof err), 0, 0 };
    ck_assert_msg(c.t != NULL, "%s", err);
    int lines = each_line(ids_path, golden_line, &c);
    q35_tokenizer_free(c.t);
    ck_assert_msg(c.bad == 0, "%s: %d of %d lines differ from Hugging Face", ids_path, c.bad, lines);
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

/* ---- added-token flags: single_word, normalized, lstrip, rstrip (see flags/make_flags.py) ---- */

#define FLAGS DIR "flags/"

struct flags_ctx {
    q35_tokenizer *t, *plain; /* the variant, and the same with single_word and normalized cleared */
    const unsigned char *flagged; /* id -> the added token has a flag set */
    int size, bad, shown, flagged_lines, differ_lines;
};

static void flags_line(const cJSON *j, void *vctx) {
    struct flags_ctx *c = vctx;
    c->bad += line_differs(c->t, j, "ids", "decoded", "decoded_skip", &c->shown) != 0;
    c->bad += line_differs(c->plain, j, "plain_ids", NULL, NULL, &c->shown) != 0;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(j, "ids"), *plain = cJSON_GetObjectItemCaseSensitive(j, "plain_ids");
    int flagged = 0, differ = cJSON_GetArraySize(ids) != cJSON_GetArraySize(plain);
    const cJSON *p = plain->child;
    for (const cJSON *w = ids->child; w; w = w->next, p = p ? p->next : NULL) {
        flagged |= w->valueint >= 0 && w->valueint < c->size && c->flagged[w->valueint];
        differ |= !p || p->valueint != w->valueint;
    }
    c->flagged_lines += flagged;
    c->differ_lines += differ;
}

/* Loads a flags variant and its flags-cleared twin (written to dir); fills c. */
static void flags_load(const char *name, const char *dir, struct flags_ctx *c, unsigned char *flagged, int size) {
    char path[4200];
    snprintf(path, sizeof path, FLAGS "%s_tokenizer.json", name);
    c->t = q35_tokenizer_load(path, err, sizeof err);
    ck_assert_msg(c->t != NULL, "%s", err);
    size_t n;
    char *text = q35_read_file(path, 64u << 20, &n);
    ck_assert_ptr_nonnull(text);
    cJSON *root = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(root);
    memset(flagged, 0, (size_t)size);
    const char *flags[] = { "single_word", "normalized", "lstrip", "rstrip" };
    for (cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "added_tokens")->child; a; a = a->next) {
        int id = cJSON_GetObjectItemCaseSensitive(a, "id")->valueint;
        ck_assert_int_lt(id, size);
        for (int f = 0; f < 4; f++) flagged[id] |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, flags[f]));
        cJSON_ReplaceItemInObjectCaseSensitive(a, "single_word", cJSON_CreateFalse());
        cJSON_ReplaceItemInObjectCaseSensitive(a, "normalized", cJSON_CreateFalse());
    }
    char *plain = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    snprintf(path, sizeof path, "%s/%s_plain.json", dir, name);
    tu_write_file(path, plain, strlen(plain));
    free(plain);
    c->plain = q35_tokenizer_load(path, err, sizeof err);
    ck_assert_msg(c->plain != NULL, "%s", err);
    c->flagged = flagged, c->size = size;
}

/* Every line of a variant identical to Hugging Face (ids, decoded, decoded with skip_special), and
 * the flags-cleared twin identical to plain_ids. The counts make sure the goldens bite: want_lines
 * lines, of which want_flagged match a token carrying a flag and want_differ have other ids than
 * an implementation that ignores single_word and normalized gives. */
static void check_flags(const char *name, int want_lines, int want_flagged, int want_differ) {
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    static unsigned char flagged[1 << 16];
    struct flags_ctx c = {0};
    flags_load(name, dir, &c, flagged, (int)sizeof flagged);
    snprintf(path, sizeof path, FLAGS "%s_ids.jsonl", name);
    int lines = each_line(path, flags_line, &c);
    q35_tokenizer_free(c.t);
    q35_tokenizer_free(c.plain);
    tu_rm_rf(dir);
    ck_assert_msg(c.bad == 0, "%s: %d of %d lines differ from Hugging Face", path, c.bad, lines);
    printf("flags %s: %d lines identical to Hugging Face; %d match a flagged token, %d differ without the flags\n", name,
           lines, c.flagged_lines, c.differ_lines);
    ck_assert_int_eq(lines, want_lines);
    ck_assert_int_eq(c.flagged_lines, want_flagged);
    ck_assert_int_eq(c.differ_lines, want_differ);
}

START_TEST(flags_nfc) { check_flags("nfc", 2584, 1477, 655); }
END_TEST

START_TEST(flags_raw) { check_flags("raw", 2584, 1115, 279); }
END_TEST

START_TEST(flags_mixed) { check_flags("mixed", 2584, 1458, 808); }
END_TEST

struct bite_ctx {
    q35_tokenizer *t;
    int done;
};

/* On the first line where the flags matter: the line passes as it is, and fails when given the
 * flags-ignoring ids, one wrong id, or a wrong decoded text. */
static void bite_line(const cJSON *j, void *vctx) {
    struct bite_ctx *c = vctx;
    if (c->done || cJSON_Compare(cJSON_GetObjectItemCaseSensitive(j, "ids"), cJSON_GetObjectItemCaseSensitive(j, "plain_ids"), 1))
        return;
    int shown = 5; /* quiet */
    ck_assert_int_eq(line_differs(c->t, j, "ids", "decoded", "decoded_skip", &shown), 0);
    ck_assert_int_ge(line_differs(c->t, j, "plain_ids", NULL, NULL, &shown), 1);
    cJSON *m = cJSON_Duplicate(j, 1);
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "ids"), 0);
    cJSON_SetNumberValue(first, first->valueint + 1);
    ck_assert_int_eq(line_differs(c->t, m, "ids", NULL, NULL, &shown), 1);
    cJSON_ReplaceItemInObjectCaseSensitive(m, "decoded", cJSON_CreateString("not the decoded text"));
    ck_assert_int_eq(line_differs(c->t, m, "ids", "decoded", NULL, &shown), 2);
    cJSON_Delete(m);
    c->done = 1;
}

START_TEST(flags_goldens_bite) {
    struct bite_ctx c = { q35_tokenizer_load(FLAGS "nfc_tokenizer.json", err, sizeof err), 0 };
    ck_assert_msg(c.t != NULL, "%s", err);
    each_line(FLAGS "nfc_ids.jsonl", bite_line, &c);
    ck_assert_int_eq(c.done, 1);
    /* a few cases spelt out (nfc variant ids: vocab 3256, then the added tokens in order) */
    struct { const char *text; int ids[4]; int n; } k[] = {
        { "ring", { 3261 }, 1 },               /* single_word: alone it matches */
        { "<|spn|>cafe\u0301", { 3257, 3260 }, 2 }, /* normalized: matched on the NFC piece, after the raw split */
        { "<e\u0301n>", { 3259 }, 1 },         /* normalized: the NFC form "<\u00e9n>" */
        { "\u212bx", { 3263 }, 1 },            /* ANGSTROM SIGN x, NFC U+00C5 x */
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        int *ids, n;
        ck_assert_int_eq(q35_tokenize(c.t, k[i].text, strlen(k[i].text), &ids, &n, err, sizeof err), 0);
        ck_assert_int_eq(n, k[i].n);
        for (int a = 0; a < n; a++) ck_assert_int_eq(ids[a], k[i].ids[a]);
        free(ids);
    }
    /* a single_word token inside a word is not matched: "string" is BPE text, no added id */
    int *ids, n;
    ck_assert_int_eq(q35_tokenize(c.t, "string", 6, &ids, &n, err, sizeof err), 0);
    for (int a = 0; a < n; a++) ck_assert_int_lt(ids[a], 3256);
    free(ids);
    q35_tokenizer_free(c.t);
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

/* ---- hostile tokenizer.json files (hostile/make_hostile.py): as Hugging Face, or refused ---- */

#define HOSTILE DIR "hostile/"

/* Encodes text with t and compares the ids with want[n]; returns 1 when equal. */
static int encodes_as(q35_tokenizer *t, const char *text, const int *want, int n) {
    int *ids, k, same;
    ck_assert_msg(q35_tokenize(t, text, strlen(text), &ids, &k, err, sizeof err) == 0, "%s: %s", text, err);
    same = k == n;
    for (int i = 0; same && i < n; i++) same = ids[i] == want[i];
    free(ids);
    return same;
}

struct hostile_ctx {
    int accepted, refused, texts;
};

/* One line of hf_expected.jsonl: a fixture q35 must encode as Hugging Face did ("q35": "ids", on
 * every text), or refuse with an error naming the file and holding the "q35" fragment. */
static void hostile_line(const cJSON *j, void *vctx) {
    struct hostile_ctx *c = vctx;
    const char *file = cJSON_GetObjectItemCaseSensitive(j, "file")->valuestring;
    const char *q35 = cJSON_GetObjectItemCaseSensitive(j, "q35")->valuestring;
    const cJSON *hf = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "hf"), "ids");
    char path[512];
    snprintf(path, sizeof path, HOSTILE "%s", file);
    q35_tokenizer *t = q35_tokenizer_load(path, err, sizeof err);
    if (strcmp(q35, "ids") != 0) {
        ck_assert_msg(t == NULL, "%s loaded: q35 must refuse it (%s)", file, q35);
        ck_assert_msg(strstr(err, file) && strstr(err, q35), "%s: '%s' not in: %s", file, q35, err);
        c->refused++;
        return;
    }
    ck_assert_msg(t != NULL, "%s: %s", file, err);
    ck_assert_msg(cJSON_GetArraySize(hf) > 0, "%s: no Hugging Face ids", file);
    for (const cJSON *e = hf->child; e; e = e->next) {
        const cJSON *want = e->child->next;
        int n = cJSON_GetArraySize(want), v[64], k = 0;
        ck_assert_int_le(n, 64);
        for (const cJSON *w = want->child; w; w = w->next) v[k++] = w->valueint;
        ck_assert_msg(encodes_as(t, e->child->valuestring, v, n), "%s: '%s' differs from Hugging Face", file,
                      e->child->valuestring);
        c->texts++;
    }
    q35_tokenizer_free(t);
    c->accepted++;
}

START_TEST(hostile_files_as_hf) {
    struct hostile_ctx c = {0};
    int lines = each_line(HOSTILE "hf_expected.jsonl", hostile_line, &c);
    printf("hostile tokenizers: %d encode as Hugging Face (%d texts), %d refused\n", c.accepted, c.texts, c.refused);
    ck_assert_int_eq(lines, 24);
    ck_assert_int_eq(c.accepted, 7);
    ck_assert_int_eq(c.refused, 17);
}
END_TEST

/* A merge listed twice keeps its LAST rank and a vocab key given twice its last id, as Hugging
 * Face's tokenizers 0.23.3 (ids from hostile/hf_expected.jsonl). */
START_TEST(duplicates_last_wins) {
    struct { const char *file, *text; int ids[2], n; } k[] = {
        { "merge_dup_front.json", "hello", { 260 }, 1 },    /* e+l again first: keeping it there gives h + ello */
        { "merge_dup_back.json", "hello", { 104, 272 }, 2 }, /* h+e again last: h + ello */
        { "vocab_dup.json", "hello", { 300 }, 1 },           /* "hello": 260, then "hello": 300 */
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, HOSTILE "%s", k[i].file);
        q35_tokenizer *t = q35_tokenizer_load(path, err, sizeof err);
        ck_assert_msg(t != NULL, "%s", err);
        ck_assert_msg(encodes_as(t, k[i].text, k[i].ids, k[i].n), "%s", k[i].file);
        q35_tokenizer_free(t);
    }
    /* a top-level key given twice: the last counts, whichever way round */
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    size_t n;
    char *base = q35_read_file(HOSTILE "base.json", 1u << 20, &n);
    ck_assert_ptr_nonnull(base);
    const char *at = strstr(base, "\"truncation\": null");
    ck_assert_ptr_nonnull(at);
    const char *set = "\"truncation\": {\"max_length\": 2, \"strategy\": \"LongestFirst\", \"stride\": 0, \"direction\": \"Right\"}";
    for (int last_set = 0; last_set < 2; last_set++) {
        char *text = malloc(n + 256);
        size_t head = (size_t)(at - base), tail = strlen("\"truncation\": null");
        snprintf(text, n + 256, "%.*s%s, %s%s", (int)head, base, last_set ? "\"truncation\": null" : set,
                 last_set ? set : "\"truncation\": null", base + head + tail);
        tu_write_file(path, text, strlen(text));
        free(text);
        q35_tokenizer *t = q35_tokenizer_load(dir, err, sizeof err);
        if (last_set) ck_assert_msg(t == NULL && strstr(err, "truncation"), "a set truncation last was not refused");
        else ck_assert_msg(t != NULL, "truncation null last: %s", err);
        q35_tokenizer_free(t);
    }
    free(base);
    tu_rm_rf(dir);
}
END_TEST

/* Added tokens get the ids Hugging Face's tokenizers gives them, or the file is refused: the
 * content's vocab id, else the next id counted from the vocabulary's SIZE (hostile/added_ok.json's
 * vocab holds "<|a|>" at 1000, so <x> is 275, not 1001); the errors say which id it would be. */
START_TEST(added_token_ids) {
    q35_tokenizer *t = q35_tokenizer_load(HOSTILE "added_ok.json", err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    ck_assert_int_eq(q35_token_id(t, "hello"), 260);
    ck_assert_int_eq(q35_token_id(t, "<x>"), 275);
    ck_assert_int_eq(q35_token_id(t, "<b>"), 277);
    ck_assert_msg(encodes_as(t, "a<x><y>", (int[]){ 97, 275, 276 }, 3), "a<x><y>");
    q35_tokenizer_free(t);
    struct { const char *file, *frag[2]; } k[] = {
        { "added_id_vocab.json", { "'hello' has id 500", "would give it id 260 (its id in model.vocab)" } },
        { "added_id_steal.json", { "'<x>' has id 264, but that id belongs to 'Hello'", "would give it id 274" } },
        { "added_id_gap.json", { "'<x>' has id 374", "would give it id 274" } },
        { "added_id_collide.json", { "would get id 274", "belongs to 'xyz' in the vocabulary" } },
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, HOSTILE "%s", k[i].file);
        ck_assert_ptr_null(q35_tokenizer_load(path, err, sizeof err));
        for (int f = 0; f < 2; f++) ck_assert_msg(strstr(err, k[i].frag[f]), "%s: '%s' not in: %s", k[i].file, k[i].frag[f], err);
    }
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
    tcase_add_test(tc, flags_nfc);
    tcase_add_test(tc, flags_raw);
    tcase_add_test(tc, flags_mixed);
    tcase_add_test(tc, flags_goldens_bite);
    tcase_add_test(tc, hostile_files_as_hf);
    tcase_add_test(tc, duplicates_last_wins);
    tcase_add_test(tc, added_token_ids);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
