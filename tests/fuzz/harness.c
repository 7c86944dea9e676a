/* harness.c - the fuzz harnesses (harness.h): one function per parser.
 *
 * Compiled once per fuzz build (make fuzz, with -fsanitize=fuzzer-no-link,address,undefined) and
 * #included by tests/test_fuzz_regressions.c in the normal build. Parsers that only take a path
 * get the input written to a file in a private directory made on first use
 * ($TMPDIR/q35fuzz.XXXXXX; q35_fuzz_cleanup removes it). Multi-part inputs are split at NUL bytes
 * (text formats) or at the separator Q35_FUZZ_SHARD_SEP (safetensors shards, which hold NULs).
 * Where a parser's contract promises something checkable (entries inside the file, ids inside the
 * vocabulary, answers among the choices), the harness checks it and aborts with
 * "HARNESS INVARIANT" when it does not hold. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "alias.h"
#include "chat.h"
#include "config.h"
#include "csv.h"
#include "dataset.h"
#include "image.h"
#include "mcfile.h"
#include "npy.h"
#include "policy.h"
#include "redux.h"
#include "safetensors.h"
#include "tensor.h"
#include "tokenizer.h"
#include "yamljson.h"

/* config.h of eval/ is included by name below; ref/config.h is the model config (same name,
 * different directory: -Iref comes before -Ieval, so "config.h" above is ref's). */
#include "../../eval/config.h"

#define Q35_FUZZ_SHARD_SEP "\n==shard==\n"

#define FZ_CHECK(cond)                                                                                         \
    do {                                                                                                       \
        if (!(cond)) {                                                                                         \
            fprintf(stderr, "HARNESS INVARIANT failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);              \
            abort();                                                                                           \
        }                                                                                                      \
    } while (0)

/* ---- the private directory and its files ---- */

static char fz_root[4096];

static const char *fz_dir(void) {
    if (!fz_root[0]) {
        const char *tmp = getenv("TMPDIR");
        char buf[sizeof fz_root];
        snprintf(buf, sizeof buf, "%s/q35fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(buf)) {
            fprintf(stderr, "q35 fuzz harness: mkdtemp %s: %s\n", buf, strerror(errno));
            abort();
        }
        memcpy(fz_root, buf, sizeof fz_root);
    }
    return fz_root;
}

/* The path of sub/name in the private directory (sub made when missing; NULL or "" for none). */
static void fz_path(char *out, size_t outlen, const char *sub, const char *name) {
    const char *root = fz_dir();
    if (sub && *sub) {
        snprintf(out, outlen, "%s/%s", root, sub);
        if (mkdir(out, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "q35 fuzz harness: mkdir %s: %s\n", out, strerror(errno));
            abort();
        }
        if (name) snprintf(out, outlen, "%s/%s/%s", root, sub, name);
    } else {
        snprintf(out, outlen, "%s/%s", root, name ? name : "");
    }
}

/* Writes n bytes to sub/name; its path into out. */
static void fz_write(char *out, size_t outlen, const char *sub, const char *name, const void *d, size_t n) {
    fz_path(out, outlen, sub, name);
    /* a new file, not a truncated one: ext4 flushes a file rewritten through O_TRUNC on close
     * (auto_da_alloc), which would cost milliseconds an input */
    unlink(out);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "q35 fuzz harness: open %s: %s\n", out, strerror(errno));
        abort();
    }
    const char *p = d;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            fprintf(stderr, "q35 fuzz harness: write %s: %s\n", out, strerror(errno));
            abort();
        }
        p += w, n -= (size_t)w;
    }
    close(fd);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    remove(p);
    return 0;
}

void q35_fuzz_cleanup(void) {
    if (!fz_root[0]) return;
    nftw(fz_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    fz_root[0] = 0;
}

/* 0 for an accepted input, else 1; with Q35_FUZZ_VERBOSE set, the parser's message on stderr. */
static int fz_result(int rc, const char *err) {
    static int verbose = -1;
    if (verbose < 0) verbose = getenv("Q35_FUZZ_VERBOSE") != NULL;
    if (rc != 0 && verbose) fprintf(stderr, "refused: %s\n", err);
    return rc == 0 ? 0 : 1;
}

/* A NUL-terminated copy of n bytes. */
static char *fz_strndup(const uint8_t *d, size_t n) {
    char *s = malloc(n + 1);
    if (!s) abort();
    if (n) memcpy(s, d, n);
    s[n] = 0;
    return s;
}

/* Splits d at NUL bytes into at most max parts (the last takes the rest, NULs included). */
static int fz_split_nul(const uint8_t *d, size_t n, const uint8_t **part, size_t *len, int max) {
    int k = 0;
    while (k < max - 1) {
        const uint8_t *z = n ? memchr(d, 0, n) : NULL;
        if (!z) break;
        part[k] = d, len[k] = (size_t)(z - d), k++;
        n -= (size_t)(z - d) + 1, d = z + 1;
    }
    part[k] = d, len[k] = n;
    return k + 1;
}

/* Splits d at every occurrence of sep into at most max parts. */
static int fz_split_sep(const uint8_t *d, size_t n, const char *sep, const uint8_t **part, size_t *len, int max) {
    size_t sl = strlen(sep);
    int k = 0;
    while (k < max - 1) {
        const uint8_t *z = n >= sl ? memmem(d, n, sep, sl) : NULL;
        if (!z) break;
        part[k] = d, len[k] = (size_t)(z - d), k++;
        n -= (size_t)(z - d) + sl, d = z + sl;
    }
    part[k] = d, len[k] = n;
    return k + 1;
}

/* ---- a q35_st as safetensors.h and npy.h promise it ---- */

static double fz_sink;

static void check_st(const q35_st *st) {
    FZ_CHECK(st->n >= 0 && st->nfiles >= 0);
    for (int i = 0; i < st->n; i++) {
        const q35_st_entry *e = &st->entries[i];
        FZ_CHECK(e->name != NULL);
        FZ_CHECK(e->file >= 0 && e->file < st->nfiles);
        FZ_CHECK(e->t.ndim >= 0 && e->t.ndim <= Q35_MAX_DIMS);
        for (int k = 0; k < e->t.ndim; k++) FZ_CHECK(e->t.shape[k] >= 0);
        size_t es = q35_dtype_size(e->t.dtype);
        int64_t numel = q35_numel(&e->t);
        FZ_CHECK(numel >= 0 && (uint64_t)numel * es == e->nbytes);
        const q35_st_file *f = &st->files[e->file];
        if (e->nbytes) {
            const char *p = e->t.data, *m = f->map;
            FZ_CHECK(m != NULL && p >= m && e->nbytes <= f->size && (size_t)(p - m) <= f->size - e->nbytes);
            FZ_CHECK((uintptr_t)p % es == 0);
            fz_sink += q35_get_f64(&e->t, 0) + q35_get_f64(&e->t, numel - 1);
        }
        if (i) FZ_CHECK(strcmp(st->entries[i - 1].name, e->name) < 0);
        FZ_CHECK(q35_st_find(st, e->name) == e);
    }
}

/* ---- safetensors: one file ---- */

int q35_fuzz_safetensors(const uint8_t *d, size_t n) {
    if (n > Q35_FUZZ_MAX_INPUT) return 2;
    char path[4400], err[1024];
    fz_write(path, sizeof path, "st", "model.safetensors", d, n);
    q35_st st;
    int rc = q35_st_open(&st, path, err, sizeof err);
    if (rc == 0) check_st(&st);
    else FZ_CHECK(st.n == 0 && st.nfiles == 0 && err[0]);
    q35_st_close(&st);
    return fz_result(rc, err);
}

/* ---- safetensors: a sharded directory ----
 * model.safetensors.index.json, then up to 3 shards s1.safetensors .. s3.safetensors, the parts
 * separated by Q35_FUZZ_SHARD_SEP. */

int q35_fuzz_st_index(const uint8_t *d, size_t n) {
    if (n > Q35_FUZZ_MAX_INPUT) return 2;
    const uint8_t *part[4];
    size_t len[4];
    int np = fz_split_sep(d, n, Q35_FUZZ_SHARD_SEP, part, len, 4);
    char path[4400], dir[4400], err[1024];
    fz_write(path, sizeof path, "idx", "model.safetensors.index.json", part[0], len[0]);
    for (int k = 1; k < 4; k++) {
        char name[32];
        snprintf(name, sizeof name, "s%d.safetensors", k);
        if (k < np) fz_write(path, sizeof path, "idx", name, part[k], len[k]);
        else fz_path(path, sizeof path, "idx", name), unlink(path);
    }
    fz_path(dir, sizeof dir, "idx", NULL);
    q35_st st;
    int rc = q35_st_open(&st, dir, err, sizeof err);
    if (rc == 0) check_st(&st);
    else FZ_CHECK(st.n == 0 && st.nfiles == 0 && err[0]);
    q35_st_close(&st);
    return fz_result(rc, err);
}

/* ---- config.json (buffer API) ---- */

int q35_fuzz_config(const uint8_t *d, size_t n) {
    if (n > Q35_FUZZ_MAX_INPUT) return 2;
    char *s = fz_strndup(d, n), err[1024];
    q35_config c;
    int rc = q35_config_parse(&c, s, "config.json", err, sizeof err);
    if (rc == 0) {
        char e2[1024];
        FZ_CHECK(q35_config_validate(&c, "config.json", e2, sizeof e2) == 0);
        FZ_CHECK(c.text.num_layers > 0 && c.text.num_layers <= Q35_MAX_LAYERS);
        fz_sink += q35_lin_conv_dim(&c.text);
    }
    free(s);
    return fz_result(rc, err);
}

/* ---- tokenizer.json, then NUL, then a text to encode ---- */

static const char fz_sample_text[] =
    "<|im_start|>user\nHello, world! It's 2025: 3.14159 caf\xC3\xA9 \xE4\xBD\xA0\xE5\xA5\xBD  \t\n"
    "<|im_end|>\n<think>\n\n</think>\n \xF0\x9F\x98\x80 don't  ring rings <|sp|> x";

int q35_fuzz_tokenizer(const uint8_t *d, size_t n) {
    if (n > Q35_FUZZ_MAX_INPUT) return 2;
    const uint8_t *part[2];
    size_t len[2];
    int np = fz_split_nul(d, n, part, len, 2);
    char path[4400], err[1024];
    fz_write(path, sizeof path, NULL, "tokenizer.json", part[0], len[0]);
    q35_tokenizer *t = q35_tokenizer_load(path, err, sizeof err);
    if (!t) {
        FZ_CHECK(err[0]);
        return fz_result(-1, err);
    }
    const char *text = fz_sample_text;
    size_t tl = sizeof fz_sample_text - 1;
    if (np == 2) text = (const char *)part[1], tl = len[1] > 16384 ? 16384 : len[1];
    int size = q35_tokenizer_size(t);
    FZ_CHECK(size > 0);
    int *ids = NULL, nid = 0;
    if (q35_tokenize(t, text, tl, &ids, &nid, err, sizeof err) == 0) {
        FZ_CHECK(nid >= 0 && (nid == 0 || ids));
        for (int i = 0; i < nid; i++) FZ_CHECK(ids[i] >= 0 && ids[i] < size && q35_token_exists(t, ids[i]));
        for (int skip = 0; skip < 2; skip++) {
            size_t ol = 0;
            char *s = q35_detokenize(t, ids, nid, skip, &ol, err, sizeof err);
            FZ_CHECK(s != NULL);
            FZ_CHECK(strlen(s) <= ol && s[ol] == 0); /* the text may hold NULs of its own */
            free(s);
        }
        size_t bl = 0;
        char *b = q35_detokenize_bytes(t, ids, nid, 0, &bl, err, sizeof err);
        FZ_CHECK(b != NULL);
        FZ_CHECK(q35_utf8_complete((const unsigned char *)b, bl) <= bl);
        char *fixed = malloc(3 * bl + 1);
        if (!fixed) abort();
        size_t fl = q35_utf8_lossy(fixed, (const unsigned char *)b, bl);
        FZ_CHECK(fl <= 3 * bl);
        free(fixed);
        free(b);
        free(ids);
    } else {
        FZ_CHECK(err[0]);
    }
    /* ids around the edges of the id space */
    int probe[4] = { 0, size - 1, size, -1 };
    for (int i = 0; i < 4; i++) {
        char *s = q35_detokenize(t, &probe[i], 1, 0, NULL, err, sizeof err);
        free(s);
    }
    fz_sink += q35_token_id(t, "<|im_start|>") + q35_token_id(t, "a");
    q35_tokenizer_free(t);
    return 0;
}

/* ---- a chat template, NUL, messages (JSON list), NUL, flags (JSON object) ----
 * Without the messages part a fixed conversation is used; without the flags part
 * {"add_generation_prompt": true}. */

static const char fz_default_messages[] =
    "[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi 2.0\"},"
    " {\"role\": \"assistant\", \"content\": \"<think>\\nhm\\n</think>\\n\\nHello\"},"
    " {\"role\": \"user\", \"content\": [{\"type\": \"image\"}, {\"type\": \"text\", \"text\": \"what?\"}]}]";

int q35_fuzz_jinja(const uint8_t *d, size_t n) {
    if (n > Q35_FUZZ_MAX_INPUT) return 2;
    const uint8_t *part[3];
    size_t len[3];
    int np = fz_split_nul(d, n, part, len, 3);
    char *tmpl = fz_strndup(part[0], len[0]), err[1024];
    char *mtext = np > 1 ? fz_strndup(part[1], len[1]) : NULL;
    char *ftext = np > 2 ? fz_strndup(part[2], len[2]) : NULL;
    cJSON *messages = q35_chat_parse_json(mtext ? mtext : fz_default_messages);
    cJSON *flags = q35_chat_parse_json(ftext ? ftext : "{\"add_generation_prompt\": true}");
    int rc = -1;
    snprintf(err, sizeof err, "messages: not JSON");
    if (messages) {
        char *out = q35_chat_render(tmpl, messages, cJSON_IsObject(flags) ? flags : NULL, err, sizeof err);
        if (out) {
            fz_sink += (double)strlen(out);
            free(out);
            rc = 0;
        } else {
            FZ_CHECK(err[0]);
        }
    }
    cJSON_Delete(messages);
    cJSON_Delete(flags);
    free(tmpl);
    free(mtext);
    free(ftext);
    return fz_result(rc, err);
}

/* ---- PNG / JPEG, decoded and preprocessed ----
 * Images the decoder would accept but that exceed FZ_IMAGE_PIXELS are skipped (their header says
 * so); those past q35's own limits are still fed, to exercise the refusal. Preprocessing uses
 * min_pixels 2^10 and max_pixels 2^18 (the released 2^16..2^24 would spend the time resizing). */

#define FZ_IMAGE_PIXELS (1u << 22)

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static int too_big(uint64_t w, uint64_t h) {
    return w * h > FZ_IMAGE_PIXELS && w <= Q35_IMAGE_MAX_SIDE && h <= Q35_IMAGE_MAX_SIDE && w * h <= Q35_IMAGE_MAX_PIXELS;
}

static int image_too_big(const uint8_t *d, size_t n) {
    static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    if (n >= 24 && memcmp(d, png_sig, 8) == 0) return too_big(be32(d + 16), be32(d + 20));
    if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) {
        /* every SOFn marker anywhere (APPn data may hide false ones: then the image is skipped) */
        for (size_t i = 2; i + 9 <= n; i++) {
            unsigned m = d[i + 1];
            if (d[i] == 0xff && m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc &&
                too_big(be16(d + i + 7), be16(d + i + 5)))
                return 1;
        }
    }
    return 0;
}

int q35_fuzz_image(const uint8_t *d, size_t n) {
    if (n > Q35_FUZZ_MAX_INPUT || image_too_big(d, n)) return 2;
    char path[4400], err[1024];
    fz_write(path, sizeof path, NULL, "image", d, n);
    q35_image im;
    if (q35_image_load_opts(&im, path, 1, err, sizeof err) != 0) {
        FZ_CHECK(err[0] && im.rgb == NULL);
        return fz_result(-1, err);
    }
    FZ_CHECK(im.w > 0 && im.h > 0 && im.rgb != NULL);
    FZ_CHECK((uint64_t)im.w * (uint64_t)im.h <= Q35_IMAGE_MAX_PIXELS);
    size_t last = (size_t)im.w * im.h * 3 - 1;
    fz_sink += im.rgb[0] + im.rgb[last];
    q35_preproc_config p;
    q35_preproc_defaults(&p);
    p.min_pixels = 1024; /* small images are still resized up (sides multiples of 32), to 32x32 at least */
    p.max_pixels = 1 << 18;
    int g[3], rc = 0;
    if (q35_preproc_grid(&p, im.h, im.w, g, err, sizeof err) == 0) {
        FZ_CHECK(g[0] == 1 && g[1] > 0 && g[2] > 0 && g[1] % p.merge_size == 0 && g[2] % p.merge_size == 0);
        size_t rows = (size_t)g[1] * g[2], row = (size_t)3 * p.temporal_patch_size * p.patch_size * p.patch_size;
        FZ_CHECK(rows * p.patch_size * p.patch_size <= (size_t)p.max_pixels);
        float *px = malloc(rows * row * sizeof *px);
        if (!px) abort();
        if (q35_preprocess(px, &p, &im, g, err, sizeof err) == 0) fz_sink += px[0] + px[rows * row - 1];
        free(px);
    } else {
        rc = -1;
    }
    q35_image_free(&im);
    return fz_result(rc, err);
}

/* ---- one .npy file in a directory ---- */

int q35_fuzz_npy(const uint8_t *d, size_t n) {
    if (n > Q35_FUZZ_MAX_INPUT) return 2;
    char path[4400], dir[4400], err[1024];
    fz_write(path, sizeof path, "npy", "t.npy", d, n);
    fz_path(dir, sizeof dir, "npy", NULL);
    q35_st st;
    int rc = q35_npy_dir_open(&st, dir, err, sizeof err);
    if (rc == 0) {
        check_st(&st);
        FZ_CHECK(st.n == 1 && strcmp(st.entries[0].name, "t") == 0);
    } else {
        FZ_CHECK(st.n == 0 && st.nfiles == 0 && err[0]);
    }
    q35_st_close(&st);
    fz_sink += q35_npy_is_dir(dir);
    return fz_result(rc, err);
}

/* ---- alias map (YAML): loaded, params resolved, names matched, transforms applied ---- */

int q35_fuzz_alias(const uint8_t *d, size_t n) {
    if (n > Q35_FUZZ_MAX_INPUT) return 2;
    char path[4400], err[1024];
    fz_write(path, sizeof path, NULL, "alias.yaml", d, n);
    q35_alias_map m;
    if (q35_alias_load(&m, path, err, sizeof err) != 0) {
        FZ_CHECK(err[0] && m.n == 0);
        return fz_result(-1, err);
    }
    FZ_CHECK(m.n > 0 && m.nparams >= 0 && m.nparams <= 16);
    (void)q35_alias_resolve(&m, NULL, NULL, 0, err, sizeof err);
    char ov[16][80];
    const char *ovp[16];
    for (int k = 0; k < m.nparams; k++) {
        snprintf(ov[k], sizeof ov[k], "%.70s=%d", m.param_name[k], 2 + k % 3);
        ovp[k] = ov[k];
    }
    (void)q35_alias_resolve(&m, NULL, ovp, m.nparams, err, sizeof err);
    float data[24];
    for (int i = 0; i < 24; i++) data[i] = (float)i;
    static const int64_t shapes[3][3] = { { 2, 3, 4 }, { 24, 0, 0 }, { 4, 6, 0 } };
    static const int ndims[3] = { 3, 1, 2 };
    for (int i = 0; i < m.n && i < 64; i++) {
        /* their name with each {X} made 3 */
        char theirs[512], ours[512];
        size_t u = 0;
        for (const char *p = m.a[i].theirs; *p && u + 2 < sizeof theirs; p++) {
            if (*p == '{') {
                const char *e = strchr(p, '}');
                if (e) {
                    theirs[u++] = '3';
                    p = e;
                    continue;
                }
            }
            theirs[u++] = *p;
        }
        theirs[u] = 0;
        int idx = q35_alias_match(&m, 0, theirs, ours, sizeof ours);
        FZ_CHECK(idx >= -1 && idx < m.n);
        if (idx < 0) continue;
        FZ_CHECK(strlen(ours) < sizeof ours);
        for (int s = 0; s < 3; s++) {
            q35_tensor in = { .dtype = Q35_F32, .ndim = ndims[s], .data = data };
            memcpy(in.shape, shapes[s], sizeof shapes[s]);
            q35_tensor our = q35_view_f32(data, ndims[(s + 1) % 3], shapes[(s + 1) % 3]);
            void *buf = NULL;
            q35_tensor out;
            if (q35_alias_apply(&m, idx, &in, &our, &buf, &out, err, sizeof err) == 0) {
                FZ_CHECK(q35_numel(&out) == 24 && out.data != NULL);
                for (int64_t k = 0; k < 24; k++) fz_sink += q35_get_f64(&out, k);
            } else {
                FZ_CHECK(buf == NULL && err[0]);
            }
            free(buf);
        }
    }
    q35_alias_free(&m);
    return 0;
}

/* ---- tolerance policy (YAML) ---- */

int q35_fuzz_policy(const uint8_t *d, size_t n) {
    if (n > Q35_FUZZ_MAX_INPUT) return 2;
    char path[4400], err[1024];
    fz_write(path, sizeof path, NULL, "policy.yaml", d, n);
    q35_policy p;
    FZ_CHECK(q35_policy_default(&p, 2e-4, 1e-4, 0.99999, err, sizeof err) == 0);
    int nd = p.n;
    int rc = q35_policy_load(&p, path, err, sizeof err);
    if (rc != 0) FZ_CHECK(p.n == nd && err[0]);
    static const char *names[] = { "prefill.text.layers.3.output", "decode.0.logits", "prefill.input_ids", "", "x" };
    static const q35_dtype dts[] = { Q35_F32, Q35_BF16, Q35_F16, Q35_I64, Q35_F64, Q35_I32 };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        for (size_t a = 0; a < 6; a++) {
            const q35_tol_rule *r = q35_policy_rule(&p, names[i], dts[a], dts[(a + i) % 6]);
            FZ_CHECK(r != NULL);
            char desc[256];
            q35_rule_describe(desc, sizeof desc, r);
            FZ_CHECK(strlen(desc) < sizeof desc);
        }
    q35_policy_free(&p);
    return fz_result(rc, err);
}

/* ---- YAML -> cJSON ---- */

int q35_fuzz_yaml(const uint8_t *d, size_t n) {
    if (n > Q35_FUZZ_MAX_INPUT) return 2;
    char path[4400], err[1024];
    fz_write(path, sizeof path, NULL, "doc.yaml", d, n);
    cJSON *j = q35_yaml_load(path, err, sizeof err);
    if (!j) {
        FZ_CHECK(err[0]);
        return fz_result(-1, err);
    }
    char *s = cJSON_PrintUnformatted(j);
    free(s);
    cJSON_Delete(j);
    return 0;
}

/* ---- CSV (buffer API): one selector byte (separator , ; TAB |), then the text ---- */

int q35_fuzz_csv(const uint8_t *d, size_t n) {
    if (n > Q35_FUZZ_MAX_INPUT || n < 1) return 2;
    static const char seps[4] = { ',', ';', '\t', '|' };
    char err[1024];
    q35_csv c;
    /* an exact-size copy: the parser must not read past len */
    char *text = malloc(n - 1 ? n - 1 : 1);
    if (!text) abort();
    memcpy(text, d + 1, n - 1);
    int rc = q35_csv_parse(&c, text, n - 1, seps[d[0] & 3], "fuzz.csv", err, sizeof err);
    if (rc == 0) {
        int line = 0;
        for (int i = 0; i < c.n; i++) {
            const q35_csv_row *r = &c.rows[i];
            FZ_CHECK(r->n >= 1 && r->line > line);
            line = r->line;
            for (int k = 0; k < r->n; k++) {
                FZ_CHECK(r->f[k] != NULL);
                fz_sink += (double)strlen(r->f[k]);
            }
        }
    } else {
        FZ_CHECK(err[0]);
    }
    q35_csv_free(&c);
    free(text);
    return fz_result(rc, err);
}

/* ---- evaluation config: YAML, then NUL-separated --set KEY=VALUE strings ---- */

int q35_fuzz_evalconfig(const uint8_t *d, size_t n) {
    if (n > Q35_FUZZ_MAX_INPUT) return 2;
    const uint8_t *part[17];
    size_t len[17];
    int np = fz_split_nul(d, n, part, len, 17);
    char path[4400], err[1024];
    fz_write(path, sizeof path, NULL, "eval.yaml", part[0], len[0]);
    q35_eval_config c;
    if (q35_eval_config_load(&c, path, err, sizeof err) != 0) {
        FZ_CHECK(err[0]);
        return fz_result(-1, err);
    }
    for (int k = 1; k < np; k++) {
        char *kv = fz_strndup(part[k], len[k]);
        (void)q35_eval_config_set(&c, kv, err, sizeof err);
        free(kv);
    }
    char *t = q35_eval_config_text(&c);
    FZ_CHECK(t != NULL && strlen(c.hash) == 64);
    free(t);
    int rc = q35_eval_config_finish(&c, err, sizeof err);
    t = q35_eval_config_text(&c);
    FZ_CHECK(t != NULL);
    free(t);
    q35_eval_config_free(&c);
    return fz_result(rc, err);
}

/* ---- datasets: every item as dataset.h promises ---- */

static void check_mc_set(const q35_mc_set *s) {
    FZ_CHECK(s->n >= 0);
    for (int i = 0; i < s->n; i++) {
        const q35_mc_subject *sub = &s->s[i];
        FZ_CHECK(sub->name != NULL);
        if (i) FZ_CHECK(strcmp(s->s[i - 1].name, sub->name) < 0);
        for (int split = 0; split < 2; split++) {
            const q35_mc_item *it = split ? sub->dev : sub->test;
            int nit = split ? sub->n_dev : sub->n_test;
            for (int k = 0; k < nit; k++) {
                FZ_CHECK(it[k].question != NULL);
                FZ_CHECK(it[k].n_choices >= 2 && it[k].n_choices <= Q35_MC_MAX_CHOICES);
                FZ_CHECK(it[k].answer >= 0 && it[k].answer < it[k].n_choices);
                for (int c = 0; c < it[k].n_choices; c++) FZ_CHECK(it[k].choices[c] != NULL);
            }
        }
    }
}

/* ---- MMLU-Redux: one selector byte, then a mmlu_<subject>.csv file (or, with bit 3, a Python
 * list literal for q35_pylist_parse) ----
 * bit 0: corrected labels; bits 1-2: the keep filter. */

int q35_fuzz_redux(const uint8_t *d, size_t n) {
    if (n > Q35_FUZZ_MAX_INPUT || n < 1) return 2;
    static const char *keeps[4] = { NULL, "ok", "ok,wrong_groundtruth", "Expert, bad question clarity" };
    char path[4400], err[1024];
    int rc;
    if (d[0] & 8) {
        char *s = fz_strndup(d + 1, n - 1), **v = NULL;
        int nv = 0, max = d[0] & 16 ? 3 : Q35_MC_MAX_CHOICES;
        rc = q35_pylist_parse(s, max, &v, &nv, "fuzz", err, sizeof err);
        if (rc == 0) {
            FZ_CHECK(nv >= 0 && nv <= max);
            for (int i = 0; i < nv; i++) FZ_CHECK(v[i] != NULL);
            q35_strv_free(v, nv);
        } else {
            FZ_CHECK(v == NULL && err[0]);
        }
        free(s);
        return fz_result(rc, err);
    }
    fz_write(path, sizeof path, "redux", "mmlu_abstract_algebra.csv", d + 1, n - 1);
    q35_redux_opts o = { keeps[(d[0] >> 1) & 3], d[0] & 1 };
    q35_mc_set s;
    int conv = -1;
    rc = q35_redux_load_ex(&s, path, &o, &conv, err, sizeof err);
    if (rc == 0) {
        check_mc_set(&s);
        FZ_CHECK(conv == 0 || conv == 1);
        for (int i = 0; i < s.n; i++)
            for (int k = 0; k < s.s[i].n_test; k++) FZ_CHECK(s.s[i].test[k].error_type != NULL);
    } else {
        FZ_CHECK(s.n == 0 && err[0]);
    }
    q35_mc_set_free(&s);
    return fz_result(rc, err);
}

/* ---- generic JSONL/CSV/TSV reader: one selector byte, then the file ----
 * bits 0-1: format (jsonl, csv, tsv, by extension .csv); bits 2-4: a column mapping;
 * bit 5: into the dev split; bit 6: loaded twice (test, then dev: the merge path). */

int q35_fuzz_mcfile(const uint8_t *d, size_t n) {
    if (n > Q35_FUZZ_MAX_INPUT || n < 1) return 2;
    static const char *fmts[4] = { "jsonl", "csv", "tsv", NULL }, *exts[4] = { "jsonl", "csv", "tsv", "csv" };
    static const q35_mc_columns cols[8] = {
        { "question", "options", "answer", "letter", "category", NULL },
        { "question", "options", "answer_index", "index", "", NULL },
        { "question", "A,B,C,D", "answer", "letter", NULL, NULL },
        { "Question", "A,B,C,D", "Answer", "auto", "Subject", NULL },
        { "q", "c", "a", "text", NULL, NULL },
        { "Question", "choices", "Correct", "text", "", NULL },
        { "question", "options", "answer_index", "index1", "", "category" },
        { "q", "A,B,C,D,E,F,G,H,I,J", "a", "auto", "subject", "category" },
    };
    int f = d[0] & 3;
    const q35_mc_columns *c = &cols[(d[0] >> 2) & 7];
    char path[4400], name[64], err[1024];
    snprintf(name, sizeof name, "fuzz_test.%s", exts[f]);
    fz_write(path, sizeof path, "mc", name, d + 1, n - 1);
    q35_mc_set s;
    memset(&s, 0, sizeof s);
    int rc = q35_mcfile_load(&s, path, fmts[f], c, (d[0] >> 5) & 1, err, sizeof err);
    if (rc == 0) {
        check_mc_set(&s);
        if (d[0] & 64) {
            if (q35_mcfile_load(&s, path, fmts[f], c, 1, err, sizeof err) != 0) FZ_CHECK(err[0]);
            check_mc_set(&s);
        }
    } else {
        FZ_CHECK(s.n == 0 && err[0]);
    }
    q35_mc_set_free(&s);
    return fz_result(rc, err);
}

/* ---- the table ---- */

const q35_fuzz_target q35_fuzz_targets[] = {
    { "safetensors", q35_fuzz_safetensors },
    { "st_index", q35_fuzz_st_index },
    { "config", q35_fuzz_config },
    { "tokenizer", q35_fuzz_tokenizer },
    { "jinja", q35_fuzz_jinja },
    { "image", q35_fuzz_image },
    { "npy", q35_fuzz_npy },
    { "alias", q35_fuzz_alias },
    { "policy", q35_fuzz_policy },
    { "yaml", q35_fuzz_yaml },
    { "csv", q35_fuzz_csv },
    { "evalconfig", q35_fuzz_evalconfig },
    { "redux", q35_fuzz_redux },
    { "mcfile", q35_fuzz_mcfile },
    { NULL, NULL },
};
