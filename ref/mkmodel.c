/* mkmodel.c - random-weight checkpoints of the real Qwen3.5 sizes. */
#include "mkmodel.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>

#include "chat.h"
#include "safetensors.h"
#include "tokenizer.h"
#include "util.h"

/* ---- presets (the released configs, spec section 1) ---- */

int q35_preset_config(q35_config *c, const char *preset, char *err, size_t errlen) {
    /* the released configs differ from transformers' defaults in these keys (and the sizes below) */
    q35_config_defaults(c);
    snprintf(c->architecture, sizeof c->architecture, "Qwen3_5ForConditionalGeneration");
    snprintf(c->model_type, sizeof c->model_type, "qwen3_5");
    c->mtp_num_hidden_layers = 1;
    q35_text_config *t = &c->text;
    q35_vision_config *v = &c->vision;
    t->rope_theta = 10000000.0;
    t->tie_word_embeddings = 1;
    t->max_position_embeddings = 262144;
    t->eos_token_id = 248044;
    v->present = 1;
    /* hidden, intermediate, layers, heads, kv heads, value heads; vision depth, width, heads, mlp */
    struct { const char *name; int H, I, L, Hq, Hkv, Hv, vd, vh, vn, vi; } sizes[] = {
        { "0.8b", 1024, 3584, 24, 8, 2, 16, 12, 768, 12, 3072 },
        { "2b", 2048, 6144, 24, 8, 2, 16, 24, 1024, 16, 4096 },
        { "4b", 2560, 9216, 32, 16, 4, 32, 24, 1024, 16, 4096 },
    };
    int found = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (strcmp(preset, sizes[i].name) != 0) continue;
        t->hidden_size = sizes[i].H;
        t->intermediate_size = sizes[i].I;
        t->num_layers = sizes[i].L;
        t->num_heads = sizes[i].Hq;
        t->num_kv_heads = sizes[i].Hkv;
        t->lin_num_v_heads = sizes[i].Hv;
        v->depth = sizes[i].vd;
        v->hidden_size = sizes[i].vh;
        v->num_heads = sizes[i].vn;
        v->intermediate_size = sizes[i].vi;
        found = 1;
    }
    if (strcmp(preset, "tiny") == 0) {
        /* The released structure (vocab, token ids, 3 linear + 1 full, Hv = 2 Hk as in the 4B) at a
         * few MB: small enough for end-to-end tests, and the real tokenizer's ids stay valid. */
        t->hidden_size = 32;
        t->intermediate_size = 64;
        t->num_layers = 4;
        t->num_heads = 4;
        t->num_kv_heads = 2;
        t->head_dim = 16;
        t->rotary_dim = 4;
        t->mrope_section[0] = 1, t->mrope_section[1] = 1, t->mrope_section[2] = 0;
        t->lin_num_k_heads = 2;
        t->lin_k_dim = 16;
        t->lin_num_v_heads = 4;
        t->lin_v_dim = 8;
        v->depth = 2;
        v->hidden_size = 32;
        v->num_heads = 2;
        v->intermediate_size = 64;
        found = 1;
    }
    if (!found) {
        snprintf(err, errlen, "unknown preset '%s' (have: 0.8b, 2b, 4b, tiny)", preset);
        return -1;
    }
    v->out_hidden_size = t->hidden_size;
    for (int i = 0; i < t->num_layers; i++) t->is_full[i] = (i + 1) % 4 == 0;
    return 0;
}

/* ---- the tensor list ---- */

typedef enum {
    INIT_LINEAR,   /* N(0, 1/sqrt(fan_in)) */
    INIT_EMBED,    /* N(0, 0.1): tied logits of a realistic spread */
    INIT_CONV,     /* N(0, 0.5) */
    INIT_NORM0,    /* zero-centred norm weight U(-0.5, 0.5), applied as 1 + w */
    INIT_NORM1,    /* plain norm weight U(0.5, 1.5) */
    INIT_ALOG,     /* U(-3, 0.5) */
    INIT_DTBIAS,   /* U(-1, 1) */
    INIT_BIAS,     /* N(0, 0.1) */
    INIT_POS,      /* N(0, 0.5) */
} init_kind;

typedef struct {
    char name[128];
    q35_dtype dtype;
    int ndim;
    int64_t shape[5];
    init_kind init;
    uint64_t nbytes;
} spec;

typedef struct {
    spec *v;
    int n, cap;
    q35_dtype wdt; /* dtype of ordinary weights */
} speclist;

static int add(speclist *l, const char *name, init_kind init, int f32, int ndim, int64_t d0, int64_t d1,
               int64_t d2, int64_t d3, int64_t d4) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 256;
        spec *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    spec *s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->dtype = f32 ? Q35_F32 : l->wdt;
    s->ndim = ndim;
    int64_t d[5] = { d0, d1, d2, d3, d4 };
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (uint64_t)(s->shape[i] = d[i]);
    s->init = init;
    s->nbytes = n * q35_dtype_size(s->dtype);
    return 0;
}

#define ADD1(nm, init, f32, a) add(l, nm, init, f32, 1, a, 0, 0, 0, 0)
#define ADD2(nm, init, a, b) add(l, nm, init, 0, 2, a, b, 0, 0, 0)

/* The decoder layer tensors under prefix ("model.language_model.layers.3." or "mtp.layers.0."). */
static int add_layer(speclist *l, const q35_text_config *t, const char *pre, int full) {
    char n[128];
    int64_t H = t->hidden_size, I = t->intermediate_size;
    int rc = 0;
#define N(s) (snprintf(n, sizeof n, "%s%s", pre, s), n)
    rc |= ADD1(N("input_layernorm.weight"), INIT_NORM0, 0, H);
    rc |= ADD1(N("post_attention_layernorm.weight"), INIT_NORM0, 0, H);
    rc |= ADD2(N("mlp.gate_proj.weight"), INIT_LINEAR, I, H);
    rc |= ADD2(N("mlp.up_proj.weight"), INIT_LINEAR, I, H);
    rc |= ADD2(N("mlp.down_proj.weight"), INIT_LINEAR, H, I);
    if (full) {
        int64_t Hq = t->num_heads, Hkv = t->num_kv_heads, D = t->head_dim;
        rc |= ADD2(N("self_attn.q_proj.weight"), INIT_LINEAR, Hq * 2 * D, H);
        rc |= ADD2(N("self_attn.k_proj.weight"), INIT_LINEAR, Hkv * D, H);
        rc |= ADD2(N("self_attn.v_proj.weight"), INIT_LINEAR, Hkv * D, H);
        rc |= ADD2(N("self_attn.o_proj.weight"), INIT_LINEAR, H, Hq * D);
        rc |= ADD1(N("self_attn.q_norm.weight"), INIT_NORM0, 0, D);
        rc |= ADD1(N("self_attn.k_norm.weight"), INIT_NORM0, 0, D);
    } else {
        int64_t C = q35_lin_conv_dim(t), Vd = q35_lin_value_dim(t), Hv = t->lin_num_v_heads;
        rc |= ADD2(N("linear_attn.in_proj_qkv.weight"), INIT_LINEAR, C, H);
        rc |= ADD2(N("linear_attn.in_proj_z.weight"), INIT_LINEAR, Vd, H);
        rc |= ADD2(N("linear_attn.in_proj_a.weight"), INIT_LINEAR, Hv, H);
        rc |= ADD2(N("linear_attn.in_proj_b.weight"), INIT_LINEAR, Hv, H);
        rc |= add(l, N("linear_attn.conv1d.weight"), INIT_CONV, 0, 3, C, 1, t->conv_kernel, 0, 0);
        rc |= ADD1(N("linear_attn.dt_bias"), INIT_DTBIAS, 0, Hv);
        rc |= ADD1(N("linear_attn.A_log"), INIT_ALOG, 1, Hv);          /* F32 in the released files */
        rc |= ADD1(N("linear_attn.norm.weight"), INIT_NORM1, 1, t->lin_v_dim); /* F32 too */
        rc |= ADD2(N("linear_attn.out_proj.weight"), INIT_LINEAR, H, Vd);
    }
#undef N
    return rc;
}

static int build_specs(speclist *l, const q35_config *c) {
    const q35_text_config *t = &c->text;
    int64_t H = t->hidden_size, V = t->vocab_size;
    int rc = 0;
    char pre[128];
    rc |= ADD2("model.language_model.embed_tokens.weight", INIT_EMBED, V, H);
    rc |= ADD1("model.language_model.norm.weight", INIT_NORM0, 0, H);
    if (!t->tie_word_embeddings) rc |= ADD2("lm_head.weight", INIT_LINEAR, V, H);
    for (int i = 0; i < t->num_layers; i++) {
        snprintf(pre, sizeof pre, "model.language_model.layers.%d.", i);
        rc |= add_layer(l, t, pre, t->is_full[i]);
    }
    if (c->vision.present) {
        const q35_vision_config *v = &c->vision;
        int64_t D = v->hidden_size, Iv = v->intermediate_size, m4 = D * v->spatial_merge_size * v->spatial_merge_size;
        rc |= add(l, "model.visual.patch_embed.proj.weight", INIT_LINEAR, 0, 5, D, v->in_channels,
                  v->temporal_patch_size, v->patch_size, v->patch_size);
        rc |= ADD1("model.visual.patch_embed.proj.bias", INIT_BIAS, 0, D);
        rc |= ADD2("model.visual.pos_embed.weight", INIT_POS, v->num_position_embeddings, D);
        for (int j = 0; j < v->depth; j++) {
            char n[128];
#define B(s) (snprintf(n, sizeof n, "model.visual.blocks.%d.%s", j, s), n)
            rc |= ADD1(B("norm1.weight"), INIT_NORM1, 0, D);
            rc |= ADD1(B("norm1.bias"), INIT_BIAS, 0, D);
            rc |= ADD1(B("norm2.weight"), INIT_NORM1, 0, D);
            rc |= ADD1(B("norm2.bias"), INIT_BIAS, 0, D);
            rc |= ADD2(B("attn.qkv.weight"), INIT_LINEAR, 3 * D, D);
            rc |= ADD1(B("attn.qkv.bias"), INIT_BIAS, 0, 3 * D);
            rc |= ADD2(B("attn.proj.weight"), INIT_LINEAR, D, D);
            rc |= ADD1(B("attn.proj.bias"), INIT_BIAS, 0, D);
            rc |= ADD2(B("mlp.linear_fc1.weight"), INIT_LINEAR, Iv, D);
            rc |= ADD1(B("mlp.linear_fc1.bias"), INIT_BIAS, 0, Iv);
            rc |= ADD2(B("mlp.linear_fc2.weight"), INIT_LINEAR, D, Iv);
            rc |= ADD1(B("mlp.linear_fc2.bias"), INIT_BIAS, 0, D);
#undef B
        }
        rc |= ADD1("model.visual.merger.norm.weight", INIT_NORM1, 0, D);
        rc |= ADD1("model.visual.merger.norm.bias", INIT_BIAS, 0, D);
        rc |= ADD2("model.visual.merger.linear_fc1.weight", INIT_LINEAR, m4, m4);
        rc |= ADD1("model.visual.merger.linear_fc1.bias", INIT_BIAS, 0, m4);
        rc |= ADD2("model.visual.merger.linear_fc2.weight", INIT_LINEAR, v->out_hidden_size, m4);
        rc |= ADD1("model.visual.merger.linear_fc2.bias", INIT_BIAS, 0, v->out_hidden_size);
    }
    for (int k = 0; k < c->mtp_num_hidden_layers; k++) {
        if (k == 0) {
            rc |= ADD1("mtp.pre_fc_norm_embedding.weight", INIT_NORM0, 0, H);
            rc |= ADD1("mtp.pre_fc_norm_hidden.weight", INIT_NORM0, 0, H);
            rc |= ADD2("mtp.fc.weight", INIT_LINEAR, H, 2 * H);
            rc |= ADD1("mtp.norm.weight", INIT_NORM0, 0, H);
        }
        snprintf(pre, sizeof pre, "mtp.layers.%d.", k);
        rc |= add_layer(l, t, pre, 1);
    }
    return rc;
}

static int cmp_spec(const void *a, const void *b) {
    return strcmp(((const spec *)a)->name, ((const spec *)b)->name);
}

/* ---- the generator ----
 * Counter-based: element i of tensor k is a pure function of (seed, k, i), so the bytes do not
 * depend on thread count or chunking. A normal is approximated by the sum of four 16-bit uniforms
 * (Irwin-Hall, unit variance, bounded by +-3.46): cheap, and no outliers to overflow anything. */

static uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static float draw(uint64_t key, int64_t i, init_kind kind, float fan_scale) {
    uint64_t r = mix64(key ^ mix64((uint64_t)i));
    float u1 = (float)(r & 0xffff) * (1.0f / 65536.0f), u2 = (float)((r >> 16) & 0xffff) * (1.0f / 65536.0f);
    float u3 = (float)((r >> 32) & 0xffff) * (1.0f / 65536.0f), u4 = (float)(r >> 48) * (1.0f / 65536.0f);
    float nrm = (u1 + u2 + u3 + u4 - 2.0f) * 1.7320508f;
    float u = (float)(r >> 40) * (1.0f / 16777216.0f);
    switch (kind) {
    case INIT_LINEAR: return nrm * fan_scale;
    case INIT_EMBED: return nrm * 0.1f;
    case INIT_CONV: return nrm * 0.5f;
    case INIT_NORM0: return u - 0.5f;
    case INIT_NORM1: return u + 0.5f;
    case INIT_ALOG: return -3.0f + 3.5f * u;
    case INIT_DTBIAS: return -1.0f + 2.0f * u;
    case INIT_BIAS: return nrm * 0.1f;
    case INIT_POS: return nrm * 0.5f;
    }
    return 0.0f;
}

/* Streams tensor s (index k) into the writer, chunk by chunk. */
static int write_tensor(q35_stw *w, const spec *s, int k, uint64_t seed, void *buf, int64_t chunk,
                        char *err, size_t errlen) {
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= s->shape[i];
    int64_t fan_in = 1;
    for (int i = 1; i < s->ndim; i++) fan_in *= s->shape[i];
    float fan_scale = (float)(1.0 / sqrt((double)(fan_in > 0 ? fan_in : 1)));
    uint64_t key = mix64(seed * 0x100000001b3ull + (uint64_t)k);
    size_t esz = q35_dtype_size(s->dtype);
    for (int64_t start = 0; start < n; start += chunk) {
        int64_t m = n - start < chunk ? n - start : chunk;
        if (s->dtype == Q35_F32) {
            float *f = buf;
#pragma omp parallel for schedule(static)
            for (int64_t i = 0; i < m; i++) f[i] = draw(key, start + i, s->init, fan_scale);
        } else {
            uint16_t *h = buf;
#pragma omp parallel for schedule(static)
            for (int64_t i = 0; i < m; i++) h[i] = q35_f32_to_bf16(draw(key, start + i, s->init, fan_scale));
        }
        if (q35_stw_write(w, buf, (size_t)m * esz, err, errlen) != 0) return -1;
    }
    return 0;
}

/* Every file goes through q35_write_file_atomic: whole or not at all, and never over a FIFO or a
 * device that happens to sit at the path. */
static int write_text_file(const char *path, const char *text, char *err, size_t errlen) {
    return q35_write_file_atomic(path, text, strlen(text), err, errlen);
}

/* Copies src (at most 1 GiB) to dst. */
static int copy_file(const char *dst, const char *src, char *err, size_t errlen) {
    size_t n = 0;
    char *data = q35_read_file(src, (size_t)1 << 30, &n);
    if (!data) return q35_fail(err, errlen, "%s: cannot read: %s", src, strerror(errno));
    int rc = q35_write_file_atomic(dst, data, n, err, errlen);
    free(data);
    return rc;
}

/* tokenizer.json (a copy of tok, checked to fit the vocabulary), tokenizer_config.json with the
 * fields transformers reads for Qwen3.5 (spec section 1.4) and the size's chat template, and the
 * template again as chat_template.jinja (what newer transformers reads). */
static int write_tokenizer_files(const char *dir, const char *tok, const q35_config *c, char *err, size_t errlen) {
    q35_tokenizer *t = q35_tokenizer_load(tok, err, errlen);
    if (!t) return -1;
    int size = q35_tokenizer_size(t);
    q35_tokenizer_free(t);
    if (size > c->text.vocab_size)
        return q35_fail(err, errlen, "%s: ids up to %d do not fit the model's vocabulary of %d", tok, size - 1,
                        c->text.vocab_size);
    char path[4200];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (copy_file(path, tok, err, errlen) != 0) return -1;
    const char *tpl = q35_chat_template_builtin(c->text.hidden_size <= 2048);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "add_bos_token", 0);
    cJSON_AddBoolToObject(j, "add_prefix_space", 0);
    cJSON_AddNullToObject(j, "bos_token");
    cJSON_AddStringToObject(j, "eos_token", "<|im_end|>");
    cJSON_AddStringToObject(j, "pad_token", "<|endoftext|>");
    cJSON_AddNullToObject(j, "unk_token");
    cJSON_AddNumberToObject(j, "model_max_length", 262144);
    cJSON_AddStringToObject(j, "tokenizer_class", "Qwen2Tokenizer");
    cJSON_AddStringToObject(j, "chat_template", tpl);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) return q35_fail(err, errlen, "out of memory");
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    int rc = write_text_file(path, text, err, errlen);
    free(text);
    snprintf(path, sizeof path, "%s/chat_template.jinja", dir);
    if (rc == 0) rc = write_text_file(path, tpl, err, errlen);
    return rc;
}

int q35_mkmodel(const q35_config *c, const q35_mkmodel_opts *o, char *err, size_t errlen) {
    char path[4096], tmp[4200];
    if (mkdir(o->out_dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create directory: %s", o->out_dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/config.json", o->out_dir);
    struct stat sb;
    if (stat(path, &sb) == 0) {
        snprintf(err, errlen, "%s already exists: refusing to overwrite a checkpoint", path);
        return -1;
    }
    speclist l = { .wdt = o->f32 ? Q35_F32 : Q35_BF16 };
    if (build_specs(&l, c) != 0) {
        free(l.v);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_spec);
    /* the seed of each tensor is its position in the sorted list: stable across runs */
    uint64_t total = 0, limit = o->max_shard_bytes ? o->max_shard_bytes : 2000000000ull;
    for (int i = 0; i < l.n; i++) total += l.v[i].nbytes;
    /* assign shards: consecutive tensors until the limit */
    int *shard = calloc(l.n > 0 ? (size_t)l.n : 1, sizeof *shard), nshards = 1;
    uint64_t in_shard = 0;
    for (int i = 0; total > limit && i < l.n; i++) {
        if (in_shard > 0 && in_shard + l.v[i].nbytes > limit) {
            nshards++;
            in_shard = 0;
        }
        shard[i] = nshards - 1;
        in_shard += l.v[i].nbytes;
    }
    int64_t chunk = 1 << 22;
    void *buf = malloc((size_t)chunk * 4);
    int rc = -1;
    uint64_t done = 0;
    FILE *idx = NULL;
    if (!shard || !buf) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (int s = 0; s < nshards; s++) {
        char fname[64];
        if (nshards == 1) snprintf(fname, sizeof fname, "model.safetensors");
        else snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", s + 1, nshards);
        snprintf(tmp, sizeof tmp, "%s/%s", o->out_dir, fname);
        q35_stw w;
        if (q35_stw_init(&w, tmp, err, errlen) != 0) goto out;
        if (q35_stw_meta(&w, "format", "pt", err, errlen) != 0) { q35_stw_abort(&w); goto out; }
        for (int i = 0; i < l.n; i++)
            if (shard[i] == s && q35_stw_add(&w, l.v[i].name, l.v[i].dtype, l.v[i].ndim, l.v[i].shape, err, errlen) != 0) {
                q35_stw_abort(&w);
                goto out;
            }
        if (q35_stw_begin(&w, err, errlen) != 0) { q35_stw_abort(&w); goto out; }
        for (int i = 0; i < l.n; i++) {
            if (shard[i] != s) continue;
            if (write_tensor(&w, &l.v[i], i, o->seed, buf, chunk, err, errlen) != 0) { q35_stw_abort(&w); goto out; }
            done += l.v[i].nbytes;
            if (o->progress) o->progress(o->progress_ctx, done, total);
        }
        if (q35_stw_finish(&w, err, errlen) != 0) goto out;
    }
    if (nshards > 1) {
        snprintf(tmp, sizeof tmp, "%s/model.safetensors.index.json", o->out_dir);
        char *text = NULL;
        size_t tlen = 0;
        idx = open_memstream(&text, &tlen); /* built in memory, then written atomically */
        if (!idx) {
            snprintf(err, errlen, "%s: out of memory", tmp);
            goto out;
        }
        fprintf(idx, "{\n  \"metadata\": {\n    \"total_size\": %llu\n  },\n  \"weight_map\": {\n",
                (unsigned long long)total);
        for (int i = 0; i < l.n; i++)
            fprintf(idx, "    \"%s\": \"model-%05d-of-%05d.safetensors\"%s\n", l.v[i].name, shard[i] + 1, nshards,
                    i + 1 < l.n ? "," : "");
        fprintf(idx, "  }\n}\n");
        int bad = fclose(idx) != 0;
        idx = NULL;
        if (bad) {
            free(text);
            snprintf(err, errlen, "%s: out of memory", tmp);
            goto out;
        }
        bad = q35_write_file_atomic(tmp, text, tlen, err, errlen) != 0;
        free(text);
        if (bad) goto out;
    }
    /* generation_config.json: the ids of the family's published file (Qwen3.6-35B-A3B's; none is
     * published for the small sizes, spec section 1.4) with the model card's recommended sampling
     * for the size's default mode (spec section 6): 0.8B/2B answer without thinking (1.0 / 1.0 /
     * 20 / presence 2.0), the 4B thinks by default (1.0 / 0.95 / 20 / presence 1.5). */
    int small = c->text.hidden_size <= 2048;
    snprintf(tmp, sizeof tmp, "%s/generation_config.json", o->out_dir);
    char gen[640];
    snprintf(gen, sizeof gen,
             "{\n  \"bos_token_id\": %d,\n  \"do_sample\": true,\n  \"eos_token_id\": [248046, %d],\n"
             "  \"pad_token_id\": %d,\n  \"temperature\": 1.0,\n  \"top_k\": 20,\n  \"top_p\": %s,\n"
             "  \"min_p\": 0.0,\n  \"presence_penalty\": %s,\n  \"repetition_penalty\": 1.0\n}\n",
             c->text.eos_token_id, c->text.eos_token_id, c->text.eos_token_id, small ? "1.0" : "0.95",
             small ? "2.0" : "1.5");
    if (write_text_file(tmp, gen, err, errlen) != 0) goto out;
    if (o->tokenizer && write_tokenizer_files(o->out_dir, o->tokenizer, c, err, errlen) != 0) goto out;
    if (c->vision.present) {
        snprintf(tmp, sizeof tmp, "%s/preprocessor_config.json", o->out_dir);
        char pp[768];
        snprintf(pp, sizeof pp,
                 "{\n  \"size\": {\"shortest_edge\": 65536, \"longest_edge\": 16777216},\n"
                 "  \"patch_size\": %d,\n  \"temporal_patch_size\": %d,\n  \"merge_size\": %d,\n"
                 "  \"image_mean\": [0.5, 0.5, 0.5],\n  \"image_std\": [0.5, 0.5, 0.5],\n"
                 "  \"image_processor_type\": \"Qwen2VLImageProcessorFast\",\n  \"processor_class\": \"Qwen3VLProcessor\"\n}\n",
                 c->vision.patch_size, c->vision.temporal_patch_size, c->vision.spatial_merge_size);
        if (write_text_file(tmp, pp, err, errlen) != 0) goto out;
    }
    /* config.json last: its presence marks a complete checkpoint */
    if (q35_config_save(c, path, err, errlen) != 0) goto out;
    rc = 0;
out:
    if (idx) fclose(idx);
    free(buf);
    free(shard);
    free(l.v);
    return rc;
}
