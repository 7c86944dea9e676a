/* tokenizer.c - byte-level BPE from tokenizer.json, with the Qwen pre-tokenizer as a scanner. */
#include "tokenizer.h"

#include <cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

#include "util.h"

typedef struct {
    char *s;
    int len;
} tstr;

typedef struct {
    char *s;   /* content, as tokenizer.json gives it (what decoding writes) */
    char *pat; /* what is matched: the content, or for a normalized token its normalised form */
    int len, plen, id, special, lstrip, rstrip, single_word, normalized;
} added_token;

#define CACHE_SLOTS 65536
#define CACHE_MAX_PIECE 64 /* longer pieces are not cached */

struct cache_slot {
    unsigned char len, n;
    unsigned char s[CACHE_MAX_PIECE];
    int ids[CACHE_MAX_PIECE];
};

typedef struct {
    uint64_t key; /* left id << 32 | right id; 0 = empty slot (id pairs are never 0,0 after +1) */
    int rank, result;
} merge_slot;

struct q35_tokenizer {
    int size;               /* id space */
    tstr *tok;              /* id -> text: byte-level form for vocab entries, content for added */
    unsigned char *added;   /* id -> bit 0: added token; bit 1: dropped by skip_special */
    int *add_ix;            /* id -> its entry in adds[] (an added id), else -1 */
    int *vocab_slots;       /* open addressing over tok[], -1 empty */
    size_t vocab_cap;
    merge_slot *merges;
    size_t merge_cap;
    added_token *adds;
    int nadds;
    /* Hugging Face's two matching sets (indices into adds[]): raw[] (normalized false) is matched
     * on the input text, norm[] (normalized true, as normalised) on the normalised pieces between
     * the raw matches. */
    int *raw, nraw, *norm, nnorm;
    unsigned char raw_first[256], norm_first[256]; /* bytes that start a pattern of each set */
    int nfc;
    int marks;              /* the Qwen3.5 pattern: letters runs are [\p{L}\p{M}]+ */
    int byte_id[256];       /* id of each byte's single-character token */
    struct cache_slot *cache; /* direct-mapped cache of pre-token -> ids (words repeat) */
    int cp_byte[512];       /* byte-level code point -> byte, -1 when not one */
};

/* ---- hashing ---- */

/* FNV-1a of len bytes of s, continuing from h (start with FNV_START). */
#define FNV_START 1469598103934665603ull
static uint64_t fnv_more(uint64_t h, const char *s, int len) {
    for (int i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static uint64_t fnv(const char *s, int len) { return fnv_more(FNV_START, s, len); }

/* The vocab id of the text a[alen] followed by b[blen] (no copy made), or -1. */
static int vocab_find2(const q35_tokenizer *t, const char *a, int alen, const char *b, int blen) {
    size_t mask = t->vocab_cap - 1, i = fnv_more(fnv(a, alen), b, blen) & mask;
    for (;; i = (i + 1) & mask) {
        int id = t->vocab_slots[i];
        if (id < 0) return -1;
        const tstr *v = &t->tok[id];
        if (v->len == alen + blen && memcmp(v->s, a, (size_t)alen) == 0 && memcmp(v->s + alen, b, (size_t)blen) == 0)
            return id;
    }
}

static int vocab_find(const q35_tokenizer *t, const char *s, int len) { return vocab_find2(t, s, len, "", 0); }

static void vocab_insert(q35_tokenizer *t, int id) {
    size_t mask = t->vocab_cap - 1, i = fnv(t->tok[id].s, t->tok[id].len) & mask;
    while (t->vocab_slots[i] >= 0) i = (i + 1) & mask;
    t->vocab_slots[i] = id;
}

static uint64_t mix(uint64_t x) {
    x ^= x >> 33, x *= 0xff51afd7ed558ccdull, x ^= x >> 33;
    return x;
}

static const merge_slot *merge_find(const q35_tokenizer *t, int a, int b) {
    uint64_t key = ((uint64_t)(a + 1) << 32) | (uint64_t)(b + 1);
    size_t mask = t->merge_cap - 1;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
        if (t->merges[i].key == key) return &t->merges[i];
        if (t->merges[i].key == 0) return NULL;
    }
}

/* ---- the byte-level alphabet (GPT-2's bytes_to_unicode) ---- */

static void byte_alphabet(int cp_of_byte[256]) {
    int n = 0;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        cp_of_byte[b] = printable ? b : 256 + n++;
    }
}

/* ---- loading ---- */

void q35_tokenizer_free(q35_tokenizer *t) {
    if (!t) return;
    for (int i = 0; i < t->size; i++) free(t->tok[i].s);
    free(t->tok);
    free(t->added);
    free(t->add_ix);
    free(t->vocab_slots);
    free(t->merges);
    free(t->cache);
    for (int i = 0; i < t->nadds; i++) free(t->adds[i].s), free(t->adds[i].pat);
    free(t->adds);
    free(t->raw);
    free(t->norm);
    free(t);
}

static const char *QWEN2_PATTERN =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";
static const char *QWEN35_PATTERN =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A field Hugging Face reads as a required bool: *v its value, or -1 with err naming where+key
 * when it is absent or not true/false (Hugging Face refuses such a file). */
static int req_bool(const cJSON *o, const char *where, const char *key, int *v, const char *path, char *err,
                    size_t errlen) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsBool(x)) return q35_fail(err, errlen, "%s: %s%s must be true or false", path, where, key);
    *v = cJSON_IsTrue(x);
    return 0;
}

/* The same for an Option<bool>: absent or null gives def. */
static int opt_bool(const cJSON *o, const char *where, const char *key, int def, int *v, const char *path, char *err,
                    size_t errlen) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!x || cJSON_IsNull(x)) {
        *v = def;
        return 0;
    }
    return req_bool(o, where, key, v, path, err, errlen);
}

/* A ByteLevel component's flags as Hugging Face reads them: add_prefix_space and trim_offsets are
 * required bools, use_regex an optional one that defaults to TRUE. Sets *aps and *use_regex;
 * returns 0 or -1 with err. */
static int bytelevel_flags(const cJSON *c, const char *what, int *aps, int *use_regex, const char *path, char *err,
                           size_t errlen) {
    char where[64];
    int trim;
    snprintf(where, sizeof where, "%s ByteLevel ", what);
    if (req_bool(c, where, "add_prefix_space", aps, path, err, errlen) != 0 ||
        req_bool(c, where, "trim_offsets", &trim, path, err, errlen) != 0)
        return -1;
    *use_regex = 1; /* serde's default when absent; null is an error there */
    if (!cJSON_GetObjectItemCaseSensitive(c, "use_regex")) return 0;
    return req_bool(c, where, "use_regex", use_regex, path, err, errlen);
}

/* normalizer: null, NFC, or a Sequence of those */
static int read_normalizer(q35_tokenizer *t, const cJSON *n, const char *path, char *err, size_t errlen) {
    if (!n || cJSON_IsNull(n)) return 0;
    const char *type = jstr(n, "type");
    if (type && strcmp(type, "NFC") == 0) {
        t->nfc = 1;
        return 0;
    }
    if (type && strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(n, "normalizers");
        if (!cJSON_IsArray(list)) return q35_fail(err, errlen, "%s: normalizer Sequence without a normalizers list", path);
        for (const cJSON *e = list->child; e; e = e->next)
            if (read_normalizer(t, e, path, err, errlen) != 0) return -1;
        return 0;
    }
    return q35_fail(err, errlen, "%s: normalizer '%s' is not supported (NFC only)", path, type ? type : "?");
}

static int read_pretokenizer(q35_tokenizer *t, const cJSON *p, const char *path, char *err, size_t errlen) {
    const char *type = jstr(p, "type");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(p, "pretokenizers");
    if (!type || strcmp(type, "Sequence") != 0 || !cJSON_IsArray(list) || cJSON_GetArraySize(list) != 2)
        return q35_fail(err, errlen, "%s: pre_tokenizer must be a Sequence of Split and ByteLevel (found %s)", path,
                        type ? type : "none");
    const cJSON *split = list->child, *bl = split->next;
    const char *st = jstr(split, "type"), *bt = jstr(bl, "type");
    if (!st || strcmp(st, "Split") != 0 || !bt || strcmp(bt, "ByteLevel") != 0)
        return q35_fail(err, errlen, "%s: pre_tokenizer must be a Sequence of Split and ByteLevel (found %s, %s)", path,
                        st ? st : "?", bt ? bt : "?");
    const char *re = jstr(cJSON_GetObjectItemCaseSensitive(split, "pattern"), "Regex");
    const char *beh = jstr(split, "behavior");
    if (!re) return q35_fail(err, errlen, "%s: pre_tokenizer Split without a Regex pattern", path);
    if (strcmp(re, QWEN2_PATTERN) == 0) t->marks = 0;
    else if (strcmp(re, QWEN35_PATTERN) == 0) t->marks = 1;
    else return q35_fail(err, errlen, "%s: pre_tokenizer Split pattern is not one of the Qwen2/Qwen3 or Qwen3.5 patterns q35 implements: %.200s", path, re);
    if (!beh || strcmp(beh, "Isolated") != 0 || !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(split, "invert")))
        return q35_fail(err, errlen, "%s: pre_tokenizer Split must have behavior Isolated and invert false", path);
    int aps, use_regex;
    if (bytelevel_flags(bl, "pre_tokenizer", &aps, &use_regex, path, err, errlen) != 0) return -1;
    if (aps) return q35_fail(err, errlen, "%s: pre_tokenizer ByteLevel with add_prefix_space is not supported", path);
    if (use_regex) /* GPT-2's regex would split the Split's pieces again */
        return q35_fail(err, errlen,
                        "%s: pre_tokenizer ByteLevel with use_regex true (Hugging Face's default when absent) is not "
                        "supported: it must be false",
                        path);
    return 0;
}

/* The fields outside the components that change ids, as Hugging Face's TokenizerImpl reads them:
 * version must be "1.0" when given (Hugging Face refuses any other); truncation and padding must be
 * null (they cut or pad every encoding); post_processor null or ByteLevel (which changes offsets
 * only: any other, such as TemplateProcessing, adds tokens to what encode() gives by default).
 * Returns 0 or -1 with err naming the field. */
static int check_top_level(const cJSON *root, const char *path, char *err, size_t errlen) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (v && !(cJSON_IsString(v) && strcmp(v->valuestring, "1.0") == 0))
        return q35_fail(err, errlen, "%s: version must be \"1.0\" (Hugging Face's tokenizers refuses any other)", path);
    static const char *const cut[] = { "truncation", "padding" };
    for (int i = 0; i < 2; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, cut[i]);
        if (x && !cJSON_IsNull(x))
            return q35_fail(err, errlen, "%s: %s is set: not supported (it changes every encoding), only null", path, cut[i]);
    }
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(root, "post_processor");
    if (!pp || cJSON_IsNull(pp)) return 0;
    const char *type = jstr(pp, "type");
    if (!type || strcmp(type, "ByteLevel") != 0)
        return q35_fail(err, errlen,
                        "%s: post_processor '%s' is not supported (ByteLevel or null only: others add tokens to the "
                        "encoding)",
                        path, type ? type : "?");
    int aps, use_regex;
    return bytelevel_flags(pp, "post_processor", &aps, &use_regex, path, err, errlen);
}

/* The BPE options that change ids, refused unless at Hugging Face's defaults: dropout (null or 0),
 * continuing_subword_prefix and end_of_word_suffix (null or ""), ignore_merges and byte_fallback
 * (null or false). unk_token and fuse_unk act only on a character missing from the vocabulary,
 * which the 256 byte-level tokens (required by the loader) rule out: they are checked for type
 * only. Returns 0 or -1 with err naming the field. */
static int check_bpe_options(const cJSON *model, const char *path, char *err, size_t errlen) {
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (d && !cJSON_IsNull(d)) {
        if (!cJSON_IsNumber(d) || !(d->valuedouble >= 0 && d->valuedouble <= 1))
            return q35_fail(err, errlen, "%s: model.dropout must be null or a number from 0 to 1", path);
        if (d->valuedouble != 0)
            return q35_fail(err, errlen, "%s: model.dropout is %g: BPE dropout is not supported, only null or 0", path,
                            d->valuedouble);
    }
    static const char *const affixes[] = { "continuing_subword_prefix", "end_of_word_suffix", "unk_token" };
    for (int i = 0; i < 3; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(model, affixes[i]);
        if (!x || cJSON_IsNull(x)) continue;
        if (!cJSON_IsString(x)) return q35_fail(err, errlen, "%s: model.%s must be null or a string", path, affixes[i]);
        if (i < 2 && x->valuestring[0])
            return q35_fail(err, errlen, "%s: model.%s is '%.40s': not supported, only null or \"\"", path, affixes[i],
                            x->valuestring);
    }
    static const char *const flags[] = { "ignore_merges", "byte_fallback", "fuse_unk" };
    for (int i = 0; i < 3; i++) {
        int on = 0;
        if (opt_bool(model, "model.", flags[i], 0, &on, path, err, errlen) != 0) return -1;
        if (on && i < 2) return q35_fail(err, errlen, "%s: model.%s is true: not supported, only null or false", path, flags[i]);
    }
    return 0;
}

/* skip_special drops an id whose decoded text is the content of a special token: Hugging Face
 * compares the strings, so a vocab entry spelt like one is dropped too, and a special token whose
 * normalised form differs from its content is not. Sets bit 1 of added[] on those ids. */
static int mark_skipped(q35_tokenizer *t) {
    size_t cap = 16;
    while (cap < (size_t)t->nadds * 2 + 2) cap *= 2;
    int *set = malloc(cap * sizeof *set); /* special contents, open addressing over adds[] */
    if (!set) return -1;
    memset(set, 0xff, cap * sizeof *set);
    for (int i = 0; i < t->nadds; i++) {
        const added_token *sp = &t->adds[i];
        if (!sp->special) continue;
        size_t h = fnv(sp->s, sp->len) & (cap - 1);
        while (set[h] >= 0) h = (h + 1) & (cap - 1);
        set[h] = i;
        int v = vocab_find(t, sp->s, sp->len);
        if (v >= 0 && !(t->added[v] & 1)) t->added[v] |= 2;
    }
    for (int k = 0; k < t->nadds; k++) {
        const added_token *a = &t->adds[k];
        if (t->add_ix[a->id] != k) continue; /* a later entry took this id */
        for (size_t h = fnv(a->pat, a->plen) & (cap - 1); set[h] >= 0; h = (h + 1) & (cap - 1)) {
            const added_token *sp = &t->adds[set[h]];
            if (sp->len == a->plen && memcmp(sp->s, a->pat, (size_t)a->plen) == 0) {
                t->added[a->id] |= 2;
                break;
            }
        }
    }
    free(set);
    return 0;
}

/* The two tokens of merge e (number idx, for errors) as Hugging Face's BPE reads them: all merges
 * are "a b" strings split at their one space, or all ["a", "b"] pairs (*form: 0 before the first,
 * then 1 strings, 2 pairs). Returns 1 with *a[*alen] and *b[*blen] pointing into e, 0 for a string
 * starting "#version" (skipped there), -1 with err. */
static int merge_parts(const cJSON *e, int idx, int *form, const char **a, int *alen, const char **b, int *blen,
                       const char *path, char *err, size_t errlen) {
    int f = cJSON_IsString(e) ? 1 : cJSON_IsArray(e) ? 2 : 0;
    if (f == 0 || (*form && f != *form))
        return q35_fail(err, errlen, "%s: merge %d: model.merges must be all \"a b\" strings or all [\"a\", \"b\"] pairs",
                        path, idx);
    *form = f;
    if (f == 1) {
        const char *s = e->valuestring, *sp = strchr(s, ' ');
        if (strncmp(s, "#version", 8) == 0) return 0;
        if (!sp || strchr(sp + 1, ' '))
            return q35_fail(err, errlen, "%s: merge %d '%.60s' is not two tokens split by one space", path, idx, s);
        *a = s, *alen = (int)(sp - s), *b = sp + 1, *blen = (int)strlen(sp + 1);
        return 1;
    }
    if (cJSON_GetArraySize(e) != 2 || !cJSON_IsString(e->child) || !cJSON_IsString(e->child->next))
        return q35_fail(err, errlen, "%s: merge %d is not a pair of two strings", path, idx);
    *a = e->child->valuestring, *alen = (int)strlen(*a);
    *b = e->child->next->valuestring, *blen = (int)strlen(*b);
    return 1;
}

/* Fills t->merges from the model.merges list (the vocab must be loaded): each pair's rank is its
 * place in the list, and a pair listed twice keeps its LAST rank, as in Hugging Face's BPE (which
 * collects the list into a hash map, later entries replacing earlier ones). Every token named, and
 * the pair's concatenation, must be in the vocab. Returns 0 or -1 with err. */
static int read_merges(q35_tokenizer *t, const cJSON *merges, const char *path, char *err, size_t errlen) {
    int nm = cJSON_GetArraySize(merges), idx = 0, form = 0;
    for (t->merge_cap = 1024; t->merge_cap < (size_t)nm * 2 + 2; t->merge_cap *= 2) {}
    t->merges = calloc(t->merge_cap, sizeof *t->merges);
    if (!t->merges) return q35_fail(err, errlen, "%s: out of memory", path);
    for (const cJSON *e = merges->child; e; e = e->next, idx++) {
        const char *a = NULL, *b = NULL;
        int alen = 0, blen = 0, r = merge_parts(e, idx, &form, &a, &alen, &b, &blen, path, err, errlen);
        if (r <= 0) {
            if (r < 0) return -1;
            continue;
        }
        int ia = vocab_find(t, a, alen), ib = vocab_find(t, b, blen), ir = vocab_find2(t, a, alen, b, blen);
        if (ia < 0 || ib < 0 || ir < 0)
            return q35_fail(err, errlen, "%s: merge %d (%.*s + %.*s) names a token not in the vocab", path, idx,
                            alen < 40 ? alen : 40, a, blen < 40 ? blen : 40, b);
        uint64_t key = ((uint64_t)(ia + 1) << 32) | (uint64_t)(ib + 1);
        size_t mask = t->merge_cap - 1, i = mix(key) & mask;
        while (t->merges[i].key && t->merges[i].key != key) i = (i + 1) & mask;
        t->merges[i] = (merge_slot){ key, idx, ir }; /* a repeated pair: the later rank replaces the earlier */
    }
    return 0;
}

/* The slot of set[cap] (open addressing over t->adds, -1 empty) that holds the added token whose
 * content is s[len], or the empty slot where it would go. */
static size_t added_slot(const q35_tokenizer *t, const int *set, size_t cap, const char *s, int len) {
    size_t h = fnv(s, len) & (cap - 1);
    while (set[h] >= 0 && !(t->adds[set[h]].len == len && memcmp(t->adds[set[h]].s, s, (size_t)len) == 0))
        h = (h + 1) & (cap - 1);
    return h;
}

/* Checks that added token e (content s[len], number idx, given id) has the id Hugging Face's
 * tokenizers gives it, which ignores the file's ids (AddedVocabulary::add_tokens): an earlier added
 * token's id for the same content, else the content's id in model.vocab, else the next new id,
 * *next (the vocab's size, then counting on). prev is that earlier token, or NULL. Returns 0 or -1
 * with err naming the token, its id, and the id it should have. */
static int check_added_id(const q35_tokenizer *t, const added_token *prev, const char *s, int len, int idx, int id,
                          int *next, const char *path, char *err, size_t errlen) {
    int want = prev ? prev->id : vocab_find(t, s, len);
    const char *why = prev ? "an earlier added token with this content" : "its id in model.vocab";
    if (want < 0) {
        want = (*next)++;
        why = "the next id after the vocabulary and the added tokens before it";
        if (want < t->size && t->tok[want].s) /* a vocab with holes or ids past its size */
            return q35_fail(err, errlen,
                            "%s: added token %d '%.40s' would get id %d from Hugging Face's tokenizers (%s), but that "
                            "id belongs to '%.40s' in the vocabulary",
                            path, idx, s, want, why, t->tok[want].s);
    }
    if (id == want) return 0;
    if (id < t->size && t->tok[id].s && !(t->added[id] & 1))
        return q35_fail(err, errlen,
                        "%s: added token %d '%.40s' has id %d, but that id belongs to '%.40s' in the vocabulary; "
                        "Hugging Face's tokenizers would give it id %d (%s)",
                        path, idx, s, id, t->tok[id].s, want, why);
    return q35_fail(err, errlen,
                    "%s: added token %d '%.40s' has id %d, but Hugging Face's tokenizers would give it id %d (%s)", path,
                    idx, s, id, want, why);
}

/* Fills t->adds, the added bits and t->tok for the added tokens, as Hugging Face reads them: every
 * flag a required bool, an empty content refused, the ids as check_added_id says (nv: the number of
 * vocab entries), a repeat of an earlier token skipped when identical and refused when its flags
 * differ (Hugging Face would keep the last one's). Returns 0 or -1 with err. */
static int read_added(q35_tokenizer *t, const cJSON *adds, int nv, const char *path, char *err, size_t errlen) {
    int na = cJSON_GetArraySize(adds), next = nv, idx = 0, rc = -1;
    size_t cap = 16;
    while (cap < (size_t)na * 2 + 2) cap *= 2;
    int *seen = malloc(cap * sizeof *seen);
    t->adds = calloc((size_t)na + 1, sizeof *t->adds);
    t->raw = calloc((size_t)na + 1, sizeof *t->raw);
    t->norm = calloc((size_t)na + 1, sizeof *t->norm);
    if (!seen || !t->adds || !t->raw || !t->norm) {
        free(seen);
        return q35_fail(err, errlen, "%s: out of memory", path);
    }
    memset(seen, 0xff, cap * sizeof *seen);
    for (const cJSON *e = cJSON_IsArray(adds) ? adds->child : NULL; e; e = e->next, idx++) {
        const char *content = jstr(e, "content");
        int len = (int)strlen(content), id = cJSON_GetObjectItemCaseSensitive(e, "id")->valueint, f[5];
        static const char *const flag[5] = { "special", "lstrip", "rstrip", "single_word", "normalized" };
        char where[64];
        snprintf(where, sizeof where, "added token %d: ", idx);
        for (int k = 0; k < 5; k++)
            if (req_bool(e, where, flag[k], &f[k], path, err, errlen) != 0) goto out;
        if (len == 0) {
            q35_fail(err, errlen, "%s: added token %d is empty", path, idx);
            goto out;
        }
        size_t slot = added_slot(t, seen, cap, content, len);
        const added_token *prev = seen[slot] >= 0 ? &t->adds[seen[slot]] : NULL;
        if (check_added_id(t, prev, content, len, idx, id, &next, path, err, errlen) != 0) goto out;
        if (prev) {
            if (prev->special != f[0] || prev->lstrip != f[1] || prev->rstrip != f[2] || prev->single_word != f[3] ||
                prev->normalized != f[4]) {
                q35_fail(err, errlen,
                         "%s: added token %d '%.40s' repeats an earlier one with other flags: not supported (Hugging "
                         "Face's tokenizers would take this one's)",
                         path, idx, content);
                goto out;
            }
            continue; /* an identical repeat: Hugging Face skips it */
        }
        added_token *a = &t->adds[t->nadds];
        a->id = id, a->len = len;
        a->special = f[0], a->lstrip = f[1], a->rstrip = f[2], a->single_word = f[3], a->normalized = f[4];
        a->s = strdup(content);
        if (!a->s) {
            q35_fail(err, errlen, "%s: out of memory", path);
            goto out;
        }
        t->nadds++; /* owned from here on (freed with t) */
        if (a->normalized && t->nfc) { /* matched as the normaliser writes it */
            utf8proc_uint8_t *p = NULL;
            utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)content, a->len, &p, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
            if (r <= 0) {
                free(p);
                q35_fail(err, errlen, "%s: added token %d '%.40s' cannot be normalised", path, idx, content);
                goto out;
            }
            a->pat = (char *)p, a->plen = (int)r;
        } else {
            a->pat = strdup(content), a->plen = a->len;
        }
        if (!a->pat) {
            q35_fail(err, errlen, "%s: out of memory", path);
            goto out;
        }
        seen[slot] = t->nadds - 1;
        t->added[a->id] = 1;
        t->add_ix[a->id] = t->nadds - 1;
        if (!t->tok[a->id].s) {
            t->tok[a->id].s = strdup(content);
            if (!t->tok[a->id].s) {
                q35_fail(err, errlen, "%s: out of memory", path);
                goto out;
            }
            t->tok[a->id].len = a->len;
        }
    }
    rc = 0;
out:
    free(seen);
    return rc;
}

q35_tokenizer *q35_tokenizer_load(const char *path_in, char *err, size_t errlen) {
    char path[4096];
    struct stat sb;
    int dir = stat(path_in, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (dir) snprintf(path, sizeof path, "%s/tokenizer.json", path_in);
    else snprintf(path, sizeof path, "%s", path_in);
    size_t n;
    char *text = q35_read_file(path, 512u << 20, &n);
    if (!text && dir && errno == ENOENT) {
        q35_fail(err, errlen,
                 "%s has no tokenizer.json: give one with --tokenizer FILE (q35 mkmodel writes one into the "
                 "checkpoints it makes; the project's is tests/data/tokenizer/qwen35_style_tokenizer.json)",
                 path_in);
        return NULL;
    }
    if (!text) {
        q35_fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    cJSON *root = q35_json_parse(text, n); /* a repeated key keeps its last value, as serde's maps */
    free(text);
    q35_tokenizer *t = calloc(1, sizeof *t);
    if (!root || !t) {
        q35_fail(err, errlen, root ? "%s: out of memory" : "%s: not valid JSON", path);
        goto fail;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const char *mtype = jstr(model, "type");
    if (!mtype || strcmp(mtype, "BPE") != 0) {
        q35_fail(err, errlen, "%s: model type '%s' is not supported (BPE only)", path, mtype ? mtype : "missing");
        goto fail;
    }
    if (check_bpe_options(model, path, err, errlen) != 0 || check_top_level(root, path, err, errlen) != 0) goto fail;
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *adds = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!cJSON_IsObject(vocab) || !cJSON_IsArray(merges)) {
        q35_fail(err, errlen, "%s: model.vocab (object) and model.merges (list) are required", path);
        goto fail;
    }
    if (read_normalizer(t, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), path, err, errlen) != 0) goto fail;
    if (read_pretokenizer(t, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), path, err, errlen) != 0) goto fail;
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    const char *dtype = jstr(dec, "type");
    if (!dtype || strcmp(dtype, "ByteLevel") != 0) {
        q35_fail(err, errlen, "%s: decoder '%s' is not supported (ByteLevel only)", path, dtype ? dtype : "missing");
        goto fail;
    }
    int dec_aps, dec_regex;
    if (bytelevel_flags(dec, "decoder", &dec_aps, &dec_regex, path, err, errlen) != 0) goto fail;
    if (dec_aps || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(dec, "use_regex"))) {
        q35_fail(err, errlen, "%s: decoder ByteLevel with add_prefix_space or use_regex is not supported", path);
        goto fail;
    }

    /* id space */
    int maxid = -1;
    for (const cJSON *e = vocab->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 16777215 || e->valuedouble != (int)e->valuedouble) {
            q35_fail(err, errlen, "%s: vocab entry '%.60s' has no valid id", path, e->string);
            goto fail;
        }
        if (e->valueint > maxid) maxid = e->valueint;
    }
    if (adds && !cJSON_IsArray(adds)) {
        q35_fail(err, errlen, "%s: added_tokens must be a list", path);
        goto fail;
    }
    for (const cJSON *e = cJSON_IsArray(adds) ? adds->child : NULL; e; e = e->next) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > 16777215 ||
            id->valuedouble != (int)id->valuedouble || !jstr(e, "content")) {
            q35_fail(err, errlen, "%s: an added token lacks a valid id or content", path);
            goto fail;
        }
        if (id->valueint > maxid) maxid = id->valueint;
    }
    t->size = maxid + 1;
    t->cache = calloc(CACHE_SLOTS, sizeof *t->cache);
    t->tok = calloc((size_t)t->size + 1, sizeof *t->tok);
    t->added = calloc((size_t)t->size + 1, 1);
    t->add_ix = malloc(((size_t)t->size + 1) * sizeof *t->add_ix);
    int nv = cJSON_GetArraySize(vocab);
    for (t->vocab_cap = 1024; t->vocab_cap < (size_t)nv * 2 + 2; t->vocab_cap *= 2) {}
    t->vocab_slots = malloc(t->vocab_cap * sizeof(int));
    if (!t->tok || !t->added || !t->add_ix || !t->vocab_slots || !t->cache) {
        q35_fail(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    memset(t->vocab_slots, 0xff, t->vocab_cap * sizeof(int));
    memset(t->add_ix, 0xff, ((size_t)t->size + 1) * sizeof *t->add_ix);
    for (const cJSON *e = vocab->child; e; e = e->next) {
        int id = e->valueint;
        if (t->tok[id].s) {
            q35_fail(err, errlen, "%s: id %d is given to two vocab entries", path, id);
            goto fail;
        }
        t->tok[id].len = (int)strlen(e->string);
        t->tok[id].s = strdup(e->string);
        if (!t->tok[id].s) { q35_fail(err, errlen, "%s: out of memory", path); goto fail; }
        vocab_insert(t, id);
    }
    /* the 256 single-byte tokens must exist */
    int cp_of_byte[256];
    byte_alphabet(cp_of_byte);
    for (int i = 0; i < 512; i++) t->cp_byte[i] = -1;
    for (int b = 0; b < 256; b++) {
        char u[4];
        int l = (int)utf8proc_encode_char(cp_of_byte[b], (utf8proc_uint8_t *)u);
        t->byte_id[b] = vocab_find(t, u, l);
        t->cp_byte[cp_of_byte[b]] = b;
        if (t->byte_id[b] < 0) {
            q35_fail(err, errlen, "%s: the vocab lacks the byte-level token of byte 0x%02x", path, b);
            goto fail;
        }
    }
    if (read_merges(t, merges, path, err, errlen) != 0) goto fail;
    if (read_added(t, adds, cJSON_GetArraySize(vocab), path, err, errlen) != 0) goto fail;
    if (mark_skipped(t) != 0) { q35_fail(err, errlen, "%s: out of memory", path); goto fail; }
    /* the matching sets: special tokens, then the others, each in file order (which of two equal
     * patterns wins is the first here; Hugging Face 0.23 builds its matcher from a hash map, so
     * there it is not fixed) */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < t->nadds; i++) {
            const added_token *a = &t->adds[i];
            if (a->special != (pass == 0)) continue;
            if (a->normalized) t->norm[t->nnorm++] = i, t->norm_first[(unsigned char)a->pat[0]] = 1;
            else t->raw[t->nraw++] = i, t->raw_first[(unsigned char)a->pat[0]] = 1;
        }
    cJSON_Delete(root);
    return t;
fail:
    cJSON_Delete(root);
    q35_tokenizer_free(t);
    return NULL;
}

int q35_tokenizer_size(const q35_tokenizer *t) { return t->size; }

int q35_token_id(const q35_tokenizer *t, const char *token) {
    for (int i = 0; i < t->nadds; i++)
        if (strcmp(t->adds[i].s, token) == 0) return t->adds[i].id;
    return vocab_find(t, token, (int)strlen(token));
}

const char *q35_unicode_version(void) { return utf8proc_unicode_version(); }

/* ---- growing id output ---- */

typedef struct {
    int *v;
    int n, cap;
} idvec;

static int push(idvec *o, int id) {
    if (o->n == o->cap) {
        int cap = o->cap ? o->cap * 2 : 256;
        int *v = realloc(o->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        o->v = v, o->cap = cap;
    }
    o->v[o->n++] = id;
    return 0;
}

/* ---- BPE on one pre-token: lowest-rank pair first, leftmost on ties (a binary heap) ---- */

typedef struct {
    int rank, pos;
} cand;

static int cand_less(cand a, cand b) { return a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos; }

static void heap_push(cand *h, int *n, cand c) {
    int i = (*n)++;
    while (i > 0 && cand_less(c, h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = c;
}

static cand heap_pop(cand *h, int *n) {
    cand top = h[0], last = h[--(*n)];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && cand_less(h[c + 1], h[c])) c++;
        if (!cand_less(h[c], last)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n > 0) h[i] = last;
    return top;
}

static int bpe(const q35_tokenizer *t, const unsigned char *s, int len, idvec *out) {
    int *sym = malloc((size_t)len * sizeof(int) * 3);
    cand *heap = malloc((size_t)(len * 2 + 2) * sizeof *heap);
    if (!sym || !heap) {
        free(sym), free(heap);
        return -1;
    }
    int *prev = sym + len, *next = sym + 2 * len, nh = 0;
    for (int i = 0; i < len; i++) sym[i] = t->byte_id[s[i]], prev[i] = i - 1, next[i] = i + 1 < len ? i + 1 : -1;
    for (int i = 0; i + 1 < len; i++) {
        const merge_slot *m = merge_find(t, sym[i], sym[i + 1]);
        if (m) heap_push(heap, &nh, (cand){ m->rank, i });
    }
    while (nh > 0) {
        cand c = heap_pop(heap, &nh);
        int i = c.pos, j = next[i];
        if (sym[i] < 0 || j < 0) continue; /* stale */
        const merge_slot *m = merge_find(t, sym[i], sym[j]);
        if (!m || m->rank != c.rank) continue;
        sym[i] = m->result;
        sym[j] = -1;
        next[i] = next[j];
        if (next[j] >= 0) prev[next[j]] = i;
        if (prev[i] >= 0 && (m = merge_find(t, sym[prev[i]], sym[i]))) heap_push(heap, &nh, (cand){ m->rank, prev[i] });
        if (next[i] >= 0 && (m = merge_find(t, sym[i], sym[next[i]]))) heap_push(heap, &nh, (cand){ m->rank, i });
    }
    int rc = 0;
    for (int i = 0; i >= 0 && rc == 0; i = next[i]) rc = push(out, sym[i]);
    free(sym);
    free(heap);
    return rc;
}

/* ---- the Qwen pre-tokenizer pattern as a scanner ---- */

static int is_space(int32_t c) { /* Unicode White_Space, as Oniguruma's \s */
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static int major(int32_t c) { /* 'L', 'N', 'M' or 0 */
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: return 'L';
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: return 'N';
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: return 'M';
    default: return 0;
    }
}

/* Splits n code points cp[] into pieces; calls emit(start, end) in code point indices. */
static int pretokenize(const int32_t *cp, int n, int marks, int (*emit)(void *ctx, int a, int b), void *ctx) {
    int i = 0;
    while (i < n) {
        int32_t c = cp[i];
        int end = -1;
#define LETTER(x) (major(x) == 'L' || (marks && major(x) == 'M'))
        /* (?i:'s|'t|'re|'ve|'m|'ll|'d) */
        if (c == '\'' && i + 1 < n) {
            int32_t a = cp[i + 1] | 0x20, b = i + 2 < n ? (cp[i + 2] | 0x20) : 0;
            if (a == 's' || cp[i + 1] == 0x17F || a == 't' || a == 'm' || a == 'd') end = i + 2;
            else if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) end = i + 3;
        }
        /* [^\r\n\p{L}\p{N}]?\p{L}+  (Qwen3.5: [^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+) */
        if (end < 0) {
            int k = -1;
            if (c != '\r' && c != '\n' && major(c) != 'L' && major(c) != 'N' && i + 1 < n && LETTER(cp[i + 1])) k = i + 1;
            else if (LETTER(c)) k = i;
            if (k >= 0) {
                while (k < n && LETTER(cp[k])) k++;
                end = k;
            }
        }
        /* \p{N} */
        if (end < 0 && major(c) == 'N') end = i + 1;
        /*  ?[^\s\p{L}\p{N}]+[\r\n]*  (Qwen3.5 also excludes \p{M}) */
#define PUNCT(x) (!is_space(x) && major(x) != 'L' && major(x) != 'N' && !(marks && major(x) == 'M'))
        if (end < 0) {
            int k = -1;
            if (c == ' ' && i + 1 < n && PUNCT(cp[i + 1])) k = i + 1;
            else if (PUNCT(c)) k = i;
            if (k >= 0) {
                while (k < n && PUNCT(cp[k])) k++;
                while (k < n && (cp[k] == '\r' || cp[k] == '\n')) k++;
                end = k;
            }
        }
        if (end < 0 && is_space(c)) {
            int j = i;
            while (j < n && is_space(cp[j])) j++;
            int last_nl = -1; /* \s*[\r\n]+ : up to the last line break of the run */
            for (int k = i; k < j; k++)
                if (cp[k] == '\r' || cp[k] == '\n') last_nl = k;
            if (last_nl >= 0) end = last_nl + 1;
            else if (j == n) end = j;              /* \s+(?!\S) at the end */
            else if (j - 1 > i) end = j - 1;       /* \s+(?!\S): leave one for the next token */
            else end = j;                          /* \s+ */
        }
#undef LETTER
#undef PUNCT
        if (end < 0) end = i + 1; /* unreachable: every code point matches an alternative */
        if (emit(ctx, i, end) != 0) return -1;
        i = end;
    }
    return 0;
}

typedef struct {
    q35_tokenizer *t;
    const unsigned char *s; /* the (normalised) segment */
    const int *off;         /* byte offset of each code point, off[n] = length */
    idvec *out;
} piece_ctx;

static int emit_piece(void *vctx, int a, int b) {
    piece_ctx *p = vctx;
    const unsigned char *s = p->s + p->off[a];
    int len = p->off[b] - p->off[a];
    if (len > CACHE_MAX_PIECE) return bpe(p->t, s, len, p->out);
    struct cache_slot *c = &p->t->cache[fnv((const char *)s, len) & (CACHE_SLOTS - 1)];
    if (c->len == len && memcmp(c->s, s, (size_t)len) == 0) {
        for (int i = 0; i < c->n; i++)
            if (push(p->out, c->ids[i]) != 0) return -1;
        return 0;
    }
    int before = p->out->n;
    if (bpe(p->t, s, len, p->out) != 0) return -1;
    c->len = (unsigned char)len; /* at most one id per byte, so the ids always fit */
    c->n = (unsigned char)(p->out->n - before);
    memcpy(c->s, s, (size_t)len);
    memcpy(c->ids, p->out->v + before, (size_t)c->n * sizeof(int));
    return 0;
}

/* Pre-tokenizes and BPE-encodes already normalised text that holds no added token. */
static int encode_plain(q35_tokenizer *t, const unsigned char *s, size_t len, idvec *out, char *err, size_t errlen) {
    if (len == 0) return 0;
    int32_t *cp = malloc((len + 1) * sizeof *cp);
    int *off = malloc((len + 1) * sizeof *off), n = 0, rc = 0;
    if (!cp || !off) rc = q35_fail(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < len;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &c);
        if (k <= 0) rc = q35_fail(err, errlen, "invalid UTF-8 after normalisation");
        else cp[n] = c, off[n++] = (int)i, i += (size_t)k;
    }
    if (rc == 0) {
        off[n] = (int)len;
        piece_ctx p = { t, s, off, out };
        if (pretokenize(cp, n, t->marks, emit_piece, &p) != 0) rc = q35_fail(err, errlen, "out of memory");
    }
    free(cp), free(off);
    return rc;
}

/* ---- added tokens, as Hugging Face's AddedVocabulary finds them ---- */

/* \w of the Rust regex crate (Unicode): Alphabetic, marks, decimal digits, connector punctuation
 * and Join_Control. Alphabetic is the letters, Nl, and Other_Alphabetic, which outside the marks
 * adds only the circled and squared Latin letters (category So). */
static int is_word(int32_t c) {
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_PC: return 1;
    default:
        return c == 0x200C || c == 0x200D || (c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F149) ||
               (c >= 0x1F150 && c <= 0x1F169) || (c >= 0x1F170 && c <= 0x1F189);
    }
}

/* The code point starting at s[i] (valid UTF-8, i < len); *n its length in bytes when n is given. */
static int32_t cp_at(const unsigned char *s, size_t len, size_t i, size_t *n) {
    utf8proc_int32_t c = -1;
    utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &c);
    if (n) *n = k > 0 ? (size_t)k : 1;
    return c;
}

/* Start of the code point that ends at s[i] (i > 0). */
static size_t cp_before(const unsigned char *s, size_t i) {
    do i--;
    while (i > 0 && (s[i] & 0xC0) == 0x80);
    return i;
}

/* Leftmost-longest match of the set (an Aho-Corasick automaton's MatchKind::LeftmostLongest: the
 * earliest start, then the longest pattern, then the first in the set) at or after pos. */
static int find_added(const q35_tokenizer *t, const int *set, int nset, const unsigned char *first,
                      const unsigned char *s, size_t len, size_t pos, size_t *at) {
    for (size_t i = pos; i < len; i++) {
        if (!first[s[i]]) continue;
        int best = -1;
        for (int k = 0; k < nset; k++) {
            const added_token *a = &t->adds[set[k]];
            if ((size_t)a->plen <= len - i && (best < 0 || a->plen > t->adds[best].plen) &&
                memcmp(s + i, a->pat, (size_t)a->plen) == 0)
                best = set[k];
        }
        if (best >= 0) {
            *at = i;
            return best;
        }
    }
    return -1;
}

typedef int (*piece_fn)(q35_tokenizer *t, const unsigned char *s, size_t len, idvec *out, char *err, size_t errlen);

/* Splits s on one matching set (normalized: the norm[] set, else raw[]) as Hugging Face's
 * find_matches does: matches are found left to right, never overlapping, and a single_word match
 * with a word character just before or after it (within s) is dropped, the search going on after
 * it; lstrip takes the whitespace before a kept match (not past the previous kept one), rstrip the
 * whitespace after it (the search still goes on at the match's own end). The text between kept
 * matches goes to piece(), each kept match is its id. */
static int split_added(q35_tokenizer *t, int normalized, const unsigned char *s, size_t len, piece_fn piece,
                       idvec *out, char *err, size_t errlen) {
    const int *set = normalized ? t->norm : t->raw;
    int nset = normalized ? t->nnorm : t->nraw;
    const unsigned char *first = normalized ? t->norm_first : t->raw_first;
    size_t done = 0, pos = 0, at;
    int k;
    while (nset > 0 && pos < len && (k = find_added(t, set, nset, first, s, len, pos, &at)) >= 0) {
        const added_token *a = &t->adds[k];
        size_t start = at, stop = at + (size_t)a->plen;
        pos = stop;
        if (a->single_word &&
            ((start > 0 && is_word(cp_at(s, len, cp_before(s, start), NULL))) ||
             (stop < len && is_word(cp_at(s, len, stop, NULL)))))
            continue;
        if (a->lstrip) {
            size_t b = start;
            while (b > 0 && is_space(cp_at(s, len, cp_before(s, b), NULL))) b = cp_before(s, b);
            start = b > done ? b : done;
        }
        for (size_t w; a->rstrip && stop < len && is_space(cp_at(s, len, stop, &w));) stop += w;
        if (done < start && piece(t, s + done, start - done, out, err, errlen) != 0) return -1;
        if (push(out, a->id) != 0) return q35_fail(err, errlen, "out of memory");
        done = stop;
    }
    if (done < len) return piece(t, s + done, len - done, out, err, errlen);
    return 0;
}

/* A piece of the input between the raw added tokens: normalised, then split on the normalized
 * added tokens, the rest pre-tokenized and encoded. */
static int encode_piece(q35_tokenizer *t, const unsigned char *s, size_t len, idvec *out, char *err, size_t errlen) {
    if (len == 0) return 0;
    unsigned char *norm = NULL;
    if (t->nfc) {
        utf8proc_ssize_t r = utf8proc_map(s, (utf8proc_ssize_t)len, &norm, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (r < 0) return q35_fail(err, errlen, "normalisation failed: %s", utf8proc_errmsg(r));
        s = norm, len = (size_t)r;
    }
    int rc = t->nnorm ? split_added(t, 1, s, len, encode_plain, out, err, errlen) : encode_plain(t, s, len, out, err, errlen);
    free(norm);
    return rc;
}

int q35_tokenize(q35_tokenizer *t, const char *text, size_t len, int **ids, int *n, char *err, size_t errlen) {
    *ids = NULL, *n = 0;
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) { /* reject invalid UTF-8 up front, with its offset */
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &c);
        if (k <= 0) return q35_fail(err, errlen, "invalid UTF-8 at byte offset %zu", i);
        i += (size_t)k;
    }
    idvec out = {0};
    if (split_added(t, 0, s, len, encode_piece, &out, err, errlen) != 0) {
        free(out.v);
        return -1;
    }
    *ids = out.v ? out.v : calloc(1, sizeof(int));
    if (!*ids) return q35_fail(err, errlen, "out of memory");
    *n = out.n;
    return 0;
}

/* Bytes the continuation byte k (0-based) of lead c may take: [lo, hi] (Unicode Table 3-7). */
static void cont_range(unsigned c, int k, unsigned *lo, unsigned *hi) {
    *lo = 0x80, *hi = 0xBF;
    if (k == 0) {
        if (c == 0xE0) *lo = 0xA0;
        if (c == 0xED) *hi = 0x9F;
        if (c == 0xF0) *lo = 0x90;
        if (c == 0xF4) *hi = 0x8F;
    }
}

/* Continuation bytes lead c needs (0 for ASCII), -1 when c cannot start a sequence. */
static int utf8_need(unsigned c) {
    return c < 0x80 ? 0 : (c >= 0xC2 && c <= 0xDF) ? 1 : (c >= 0xE0 && c <= 0xEF) ? 2 : (c >= 0xF0 && c <= 0xF4) ? 3 : -1;
}

size_t q35_utf8_lossy(char *dst, const unsigned char *b, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned c = b[i];
        int need = utf8_need(c), ok = 0;
        if (need > 0) {
            for (ok = 0; ok < need && i + 1 + ok < n; ok++) {
                unsigned d = b[i + 1 + ok], lo, hi;
                cont_range(c, ok, &lo, &hi);
                if (d < lo || d > hi) break;
            }
        }
        if (need >= 0 && ok == need) {
            memcpy(dst + o, b + i, (size_t)need + 1);
            o += (size_t)need + 1;
            i += (size_t)need + 1;
        } else {
            memcpy(dst + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += need < 0 ? 1 : (size_t)ok + 1;
        }
    }
    return o;
}

size_t q35_utf8_complete(const unsigned char *b, size_t n) {
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        size_t i = n - back;
        int need = utf8_need(b[i]);
        if (need == 0 || need == -1) {
            if (b[i] >= 0x80 && b[i] <= 0xBF) continue; /* a continuation byte: look further back */
            return n;                                    /* ASCII or an invalid byte ends the text */
        }
        if ((size_t)need < back) return n; /* a complete sequence (or a stray byte after one) */
        for (size_t k = 0; k + 1 < back; k++) {
            unsigned lo, hi;
            cont_range(b[i], (int)k, &lo, &hi);
            if (b[i + 1 + k] < lo || b[i + 1 + k] > hi) return n; /* already invalid: nothing to wait for */
        }
        return i; /* a valid start still waiting for bytes */
    }
    return n;
}

int q35_token_exists(const q35_tokenizer *t, int id) { return id >= 0 && id < t->size && t->tok[id].s != NULL; }

char *q35_detokenize_bytes(const q35_tokenizer *t, const int *ids, int n, int skip_special, size_t *len_out, char *err,
                           size_t errlen) {
    size_t cap = 16;
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->size || !t->tok[ids[i]].s) {
            q35_fail(err, errlen, "token id %d (position %d) is not in the vocabulary", ids[i], i);
            return NULL;
        }
        cap += (t->added[ids[i]] & 1) ? (size_t)t->adds[t->add_ix[ids[i]]].plen : (size_t)t->tok[ids[i]].len;
    }
    char *bytes = malloc(cap);
    if (!bytes) {
        q35_fail(err, errlen, "out of memory");
        return NULL;
    }
    size_t nb = 0;
    for (int i = 0; i < n; i++) { /* Hugging Face's ByteLevel decoder, added tokens included */
        if (skip_special && (t->added[ids[i]] & 2)) continue;
        /* an added token decodes as its matched form: normalised for a normalized one, as
         * Hugging Face's AddedVocabulary::simple_id_to_token gives it */
        const added_token *a = (t->added[ids[i]] & 1) ? &t->adds[t->add_ix[ids[i]]] : NULL;
        const tstr *s = a ? &(tstr){ a->pat, a->plen } : &t->tok[ids[i]];
        size_t nb0 = nb;
        for (int k = 0; k < s->len;) { /* byte-level characters back to bytes */
            utf8proc_int32_t c;
            utf8proc_ssize_t l = utf8proc_iterate((const utf8proc_uint8_t *)s->s + k, s->len - k, &c);
            if (l <= 0 || c >= 512 || t->cp_byte[c] < 0) { /* not all byte-level: the text's own bytes */
                nb = nb0;
                memcpy(bytes + nb, s->s, (size_t)s->len);
                nb += (size_t)s->len;
                break;
            }
            bytes[nb++] = (char)t->cp_byte[c];
            k += (int)l;
        }
    }
    bytes[nb] = 0;
    if (len_out) *len_out = nb;
    return bytes;
}

char *q35_detokenize(const q35_tokenizer *t, const int *ids, int n, int skip_special, size_t *len_out, char *err,
                     size_t errlen) {
    size_t nb;
    char *bytes = q35_detokenize_bytes(t, ids, n, skip_special, &nb, err, errlen);
    if (!bytes) return NULL;
    char *out = malloc(nb * 3 + 1);
    if (!out) {
        free(bytes);
        q35_fail(err, errlen, "out of memory");
        return NULL;
    }
    size_t no = q35_utf8_lossy(out, (const unsigned char *)bytes, nb);
    out[no] = 0;
    free(bytes);
    if (len_out) *len_out = no;
    return out;
}
