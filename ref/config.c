/* config.c - config.json -> q35_config, with transformers' defaults and consistency checks.
 *
 * Defaults and fallbacks follow transformers' configuration_qwen3_5.py and modeling_rope_utils.py
 * (5.x): Qwen3_5TextConfig, Qwen3_5VisionConfig, Qwen3_5Config. */
#include "config.h"
#include "util.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- reading keys ---- */

/* An absent key keeps its default. A key that is present with the wrong JSON type is an error naming
 * it; null counts as absent only for the keys transformers declares Optional (its strict dataclass
 * rejects null for the plain int/float/bool/str fields). */
typedef struct {
    const char *source;
    const char *section; /* "" or "text_config." / "vision_config." for messages */
    char *err;
    size_t errlen;
    int failed;
} reader;

static void rfail(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rfail(reader *r, const char *fmt, ...) {
    if (r->failed) return; /* keep the first error */
    r->failed = 1;
    if (!r->err || !r->errlen) return;
    int n = snprintf(r->err, r->errlen, "%s: ", r->source);
    if (n < 0 || (size_t)n >= r->errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* What a JSON value is, for messages: "1024" (a string), 10.5, null, a list. */
static const char *describe(const cJSON *j, char *buf, size_t n) {
    if (cJSON_IsString(j)) snprintf(buf, n, "\"%.40s\"", j->valuestring);
    else if (cJSON_IsNumber(j)) snprintf(buf, n, "%.17g", j->valuedouble);
    else if (cJSON_IsBool(j)) snprintf(buf, n, "%s", cJSON_IsTrue(j) ? "true" : "false");
    else if (cJSON_IsNull(j)) snprintf(buf, n, "null");
    else if (cJSON_IsArray(j)) snprintf(buf, n, "a list");
    else if (cJSON_IsObject(j)) snprintf(buf, n, "an object");
    else snprintf(buf, n, "an invalid value");
    return buf;
}

/* o may be NULL (a section that is absent): then no key is present. */
static const cJSON *item(const cJSON *o, const char *key) { return cJSON_GetObjectItemCaseSensitive(o, key); }

/* For Optional keys: absent and null are alike. */
static const cJSON *opt_item(const cJSON *o, const char *key) {
    const cJSON *j = item(o, key);
    return cJSON_IsNull(j) ? NULL : j;
}

static int is_int(const cJSON *j) {
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    return d == floor(d) && d >= -2147483648.0 && d <= 2147483647.0;
}

static void get_int(reader *r, const cJSON *o, const char *key, int *out) {
    const cJSON *j = item(o, key);
    if (!j || r->failed) return;
    if (!is_int(j)) {
        char b[64];
        double d = cJSON_IsNumber(j) ? j->valuedouble : 0.5;
        if (d == floor(d) && isfinite(d)) /* whole, but no int: beyond every size q35 takes */
            rfail(r, "%s%s %s is out of range: want an integer from -2147483648 to 2147483647", r->section, key,
                  describe(j, b, sizeof b));
        else
            rfail(r, "%s%s must be an integer, got %s", r->section, key, describe(j, b, sizeof b));
        return;
    }
    *out = (int)j->valuedouble;
}

static void get_num(reader *r, const cJSON *o, const char *key, double *out) {
    const cJSON *j = item(o, key);
    if (!j || r->failed) return;
    if (!cJSON_IsNumber(j)) {
        char b[64];
        rfail(r, "%s%s must be a number, got %s", r->section, key, describe(j, b, sizeof b));
        return;
    }
    *out = j->valuedouble;
}

static void get_bool(reader *r, const cJSON *o, const char *key, int *out) {
    const cJSON *j = item(o, key);
    if (!j || r->failed) return;
    if (!cJSON_IsBool(j)) {
        char b[64];
        rfail(r, "%s%s must be true or false, got %s", r->section, key, describe(j, b, sizeof b));
        return;
    }
    *out = cJSON_IsTrue(j);
}

static void get_str(reader *r, const cJSON *o, const char *key, char *out, size_t n) {
    const cJSON *j = opt_item(o, key);
    if (!j || r->failed) return;
    if (!cJSON_IsString(j)) {
        char b[64];
        rfail(r, "%s%s must be a string, got %s", r->section, key, describe(j, b, sizeof b));
        return;
    }
    if (strlen(j->valuestring) >= n) {
        rfail(r, "%s%s \"%.40s...\" is longer than %zu characters", r->section, key, j->valuestring, n - 1);
        return;
    }
    snprintf(out, n, "%s", j->valuestring);
}

/* An Optional object (rope_parameters, text_config, ...): NULL when absent or null. */
static const cJSON *get_obj(reader *r, const cJSON *o, const char *key) {
    const cJSON *j = opt_item(o, key);
    if (!j || r->failed) return NULL;
    if (!cJSON_IsObject(j)) {
        char b[64];
        rfail(r, "%s%s must be an object, got %s", r->section, key, describe(j, b, sizeof b));
        return NULL;
    }
    return j;
}

/* eos_token_id: int | list[int] | None; the first of a list is the one kept. */
static void get_eos(reader *r, const cJSON *o, int *out) {
    const cJSON *j = opt_item(o, "eos_token_id");
    if (!j || r->failed) return;
    int list = cJSON_IsArray(j), ok = list || is_int(j);
    for (const cJSON *e = list ? j->child : NULL; e; e = e->next) ok = ok && is_int(e);
    if (!ok) {
        char b[64];
        rfail(r, "%seos_token_id must be an integer or a list of integers, got %s", r->section, describe(j, b, sizeof b));
        return;
    }
    const cJSON *first = list ? j->child : j;
    if (first) *out = (int)first->valuedouble;
}

/* The rope dict in force: a non-empty rope_scaling replaces rope_parameters, as in transformers'
 * convert_rope_params_to_dict ("rope_scaling or self.rope_parameters"). *name says which it was. */
static const cJSON *rope_dict(reader *r, const cJSON *o, const char **name) {
    const cJSON *rp = get_obj(r, o, "rope_scaling");
    *name = "rope_scaling";
    if (!rp || !rp->child) {
        rp = get_obj(r, o, "rope_parameters");
        *name = "rope_parameters";
    }
    return r->failed ? NULL : rp;
}

/* rope_type (or its old spelling "type") must be one of the accepted names. */
static void check_rope_type(reader *r, const cJSON *rp, const char *pre, const char *ok1, const char *ok2) {
    char type[32];
    snprintf(type, sizeof type, "%s", ok1);
    const char *key = opt_item(rp, "rope_type") ? "rope_type" : "type";
    get_str(r, rp, key, type, sizeof type);
    if (!r->failed && strcmp(type, ok1) != 0 && strcmp(type, ok2) != 0)
        rfail(r, "%s%s \"%s\" is not supported (only \"%s\")", pre, key, type, ok1);
}

/* A string key that must name what q35 implements (absent or null: that value). */
static void want_str(reader *r, const cJSON *o, const char *key, const char *want, const char *alt, const char *why) {
    char v[64];
    snprintf(v, sizeof v, "%s", want);
    get_str(r, o, key, v, sizeof v);
    if (!r->failed && strcmp(v, want) != 0 && (!alt || strcmp(v, alt) != 0))
        rfail(r, "%s%s \"%s\" is not supported: %s", r->section, key, v, why);
}

/* ---- text ---- */

static void text_defaults(q35_text_config *t) {
    /* Qwen3_5TextConfig's field defaults */
    t->vocab_size = 248320;
    t->hidden_size = 4096;
    t->intermediate_size = 12288;
    t->num_layers = 32;
    t->num_heads = 16;
    t->num_kv_heads = 4;
    t->head_dim = 256;
    t->lin_num_k_heads = 16;
    t->lin_num_v_heads = 32;
    t->lin_k_dim = 128;
    t->lin_v_dim = 128;
    t->conv_kernel = 4;
    t->rms_norm_eps = 1e-6;
    t->tie_word_embeddings = 0;
    t->max_position_embeddings = 32768;
    t->eos_token_id = -1;
    t->rope_theta = 10000.0;         /* RotaryEmbeddingConfigMixin.default_theta */
    t->partial_rotary_factor = 0.25; /* __post_init__: kwargs.setdefault("partial_rotary_factor", 0.25) */
    t->mrope_interleaved = 1;        /* transformers never reads the flag: its recomposition is always interleaved */
}

/* Without mrope_section the rotary embedding uses [11, 11, 10] in its interleaved layout (slot i goes
 * to H when i % 3 == 1 and i < 3 * 11, to W when i % 3 == 2 and i < 3 * 10, else to T). For a rotary
 * dim other than 64 that list does not sum to R/2 and its slices are clipped at R/2; the section with
 * the same slot assignment is returned here, so the rope code computes exactly what transformers does
 * ([11, 11, 10] for R = 64, [2, 2, 2] for R = 12). */
static void default_mrope_section(int half, int sec[3]) {
    int h = 0, w = 0;
    for (int i = 0; i < half; i++) {
        if (i % 3 == 1 && i < 3 * 11) h++;
        else if (i % 3 == 2 && i < 3 * 10) w++;
    }
    sec[0] = half - h - w, sec[1] = h, sec[2] = w;
}

/* int(head_dim * partial_rotary_factor), as in compute_default_rope_parameters; -1 when absurd. */
static int rotary_dim_of(int head_dim, double prf) {
    double rd = (double)head_dim * prf;
    return isfinite(rd) && fabs(rd) < 1e9 ? (int)rd : -1;
}

static void parse_rope(reader *r, const cJSON *o, q35_text_config *t) {
    /* Priority: a key inside the rope dict, then the legacy top-level key, then the default. */
    get_num(r, o, "rope_theta", &t->rope_theta);
    get_num(r, o, "partial_rotary_factor", &t->partial_rotary_factor);
    const char *name;
    const cJSON *rp = rope_dict(r, o, &name);
    int have_section = 0;
    if (rp) {
        char pre[64];
        snprintf(pre, sizeof pre, "%s%s.", r->section, name);
        const char *section = r->section;
        r->section = pre;
        get_num(r, rp, "rope_theta", &t->rope_theta);
        get_num(r, rp, "partial_rotary_factor", &t->partial_rotary_factor);
        get_bool(r, rp, "mrope_interleaved", &t->mrope_interleaved);
        /* only the default rope is implemented: a scaled one (yarn, linear, ...) must not pass silently */
        check_rope_type(r, rp, pre, "default", "default");
        const cJSON *ms = opt_item(rp, "mrope_section");
        if (ms && !r->failed) {
            int n = cJSON_GetArraySize(ms), k = 0, ok = cJSON_IsArray(ms) && n == 3;
            for (const cJSON *e = ok ? ms->child : NULL; e; e = e->next, k++) {
                ok = ok && is_int(e) && e->valuedouble >= 0;
                if (ok) t->mrope_section[k] = (int)e->valuedouble;
            }
            if (!ok) {
                char b[64];
                if (!cJSON_IsArray(ms)) describe(ms, b, sizeof b);
                else if (n != 3) snprintf(b, sizeof b, "%d entries", n);
                else snprintf(b, sizeof b, "an entry that is not a non-negative integer");
                rfail(r, "%smrope_section must be a list of 3 non-negative integers, got %s", pre, b);
            }
            have_section = 1;
        }
        r->section = section;
    }
    t->rotary_dim = rotary_dim_of(t->head_dim, t->partial_rotary_factor);
    if (!have_section) default_mrope_section(t->rotary_dim > 0 ? t->rotary_dim / 2 : 0, t->mrope_section);
}

static void parse_layer_types(reader *r, const cJSON *o, q35_text_config *t) {
    const cJSON *lt = opt_item(o, "layer_types");
    if (r->failed) return;
    if (!lt) {
        /* __post_init__: layer i is full attention iff (i + 1) % full_attention_interval == 0 */
        int interval = 4;
        get_int(r, o, "full_attention_interval", &interval);
        if (r->failed) return;
        if (interval < 1) {
            rfail(r, "%sfull_attention_interval must be at least 1, got %d", r->section, interval);
            return;
        }
        for (int i = 0; i < t->num_layers && i < Q35_MAX_LAYERS; i++) t->is_full[i] = (i + 1) % interval == 0;
        return;
    }
    if (!cJSON_IsArray(lt)) {
        char b[64];
        rfail(r, "%slayer_types must be a list, got %s", r->section, describe(lt, b, sizeof b));
        return;
    }
    int n = cJSON_GetArraySize(lt), i = 0;
    if (n != t->num_layers) {
        rfail(r, "%slayer_types has %d entries, but num_hidden_layers is %d", r->section, n, t->num_layers);
        return;
    }
    if (n > Q35_MAX_LAYERS) return; /* validate names the limit */
    for (const cJSON *e = lt->child; e; e = e->next, i++) {
        if (cJSON_IsString(e) && strcmp(e->valuestring, "full_attention") == 0) t->is_full[i] = 1;
        else if (cJSON_IsString(e) && strcmp(e->valuestring, "linear_attention") == 0) t->is_full[i] = 0;
        else {
            char b[64];
            rfail(r, "%slayer_types[%d] is %s; expected \"linear_attention\" or \"full_attention\"", r->section, i,
                  describe(e, b, sizeof b));
            return;
        }
    }
}

static void parse_text(reader *r, const cJSON *o, q35_text_config *t) {
    get_int(r, o, "vocab_size", &t->vocab_size);
    get_int(r, o, "hidden_size", &t->hidden_size);
    get_int(r, o, "intermediate_size", &t->intermediate_size);
    get_int(r, o, "num_hidden_layers", &t->num_layers);
    get_int(r, o, "num_attention_heads", &t->num_heads);
    get_int(r, o, "num_key_value_heads", &t->num_kv_heads);
    get_int(r, o, "head_dim", &t->head_dim);
    get_int(r, o, "linear_num_key_heads", &t->lin_num_k_heads);
    get_int(r, o, "linear_num_value_heads", &t->lin_num_v_heads);
    get_int(r, o, "linear_key_head_dim", &t->lin_k_dim);
    get_int(r, o, "linear_value_head_dim", &t->lin_v_dim);
    get_int(r, o, "linear_conv_kernel_dim", &t->conv_kernel);
    get_num(r, o, "rms_norm_eps", &t->rms_norm_eps);
    get_bool(r, o, "tie_word_embeddings", &t->tie_word_embeddings);
    get_int(r, o, "max_position_embeddings", &t->max_position_embeddings);
    get_eos(r, o, &t->eos_token_id);
    parse_rope(r, o, t);
    parse_layer_types(r, o, t);
    /* Keys the computation depends on but the struct does not keep: each must describe what q35
     * implements, or the model would run as something the config does not say. */
    want_str(r, o, "hidden_act", "silu", NULL, "q35 implements silu (the SwiGLU MLP and the Gated DeltaNet conv)");
    want_str(r, o, "mamba_ssm_dtype", "float32", NULL, "q35 keeps the Gated DeltaNet state in float32");
    int bias = 0, gate = 1, experts = 0;
    get_bool(r, o, "attention_bias", &bias);
    if (!r->failed && bias)
        rfail(r, "%sattention_bias true is not supported: q35's attention projections have no bias", r->section);
    /* transformers applies the output gate whatever this flag says, and so does q35: only its type is checked */
    get_bool(r, o, "attn_output_gate", &gate);
    get_int(r, o, "num_experts", &experts);
    if (!r->failed && experts > 0)
        rfail(r, "%snum_experts %d is not supported: q35 implements the dense Qwen3.5 MLP, not mixture-of-experts layers",
              r->section, experts);
}

/* ---- vision ---- */

static void vision_defaults(q35_vision_config *v) {
    /* Qwen3_5VisionConfig's field defaults */
    v->depth = 27;
    v->hidden_size = 1152;
    v->num_heads = 16;
    v->intermediate_size = 4304;
    v->in_channels = 3;
    v->patch_size = 16;
    v->temporal_patch_size = 2;
    v->spatial_merge_size = 2;
    v->out_hidden_size = 3584;
    v->num_position_embeddings = 2304;
    snprintf(v->hidden_act, sizeof v->hidden_act, "gelu_pytorch_tanh");
    v->rope_theta = 10000.0; /* default_theta, rope_type "axial" */
}

static void parse_vision(reader *r, const cJSON *o, q35_vision_config *v) {
    /* attribute_map: num_attention_heads -> num_heads, num_hidden_layers -> depth */
    get_int(r, o, item(o, "depth") ? "depth" : "num_hidden_layers", &v->depth);
    get_int(r, o, item(o, "num_heads") ? "num_heads" : "num_attention_heads", &v->num_heads);
    get_int(r, o, "hidden_size", &v->hidden_size);
    get_int(r, o, "intermediate_size", &v->intermediate_size);
    get_int(r, o, "in_channels", &v->in_channels);
    get_int(r, o, "patch_size", &v->patch_size);
    get_int(r, o, "temporal_patch_size", &v->temporal_patch_size);
    get_int(r, o, "spatial_merge_size", &v->spatial_merge_size);
    get_int(r, o, "out_hidden_size", &v->out_hidden_size);
    get_int(r, o, "num_position_embeddings", &v->num_position_embeddings);
    get_str(r, o, "hidden_act", v->hidden_act, sizeof v->hidden_act);
    want_str(r, o, "model_type", "qwen3_5", "qwen3_5_vision", "a Qwen3.5 vision tower is qwen3_5 or qwen3_5_vision");
    /* Qwen3.5 removed Qwen3-VL's deepstack mergers; q35 has none */
    const cJSON *ds = opt_item(o, "deepstack_visual_indexes");
    if (ds && !r->failed && !(cJSON_IsArray(ds) && !ds->child)) {
        char b[64];
        rfail(r, "%sdeepstack_visual_indexes must be an empty list (q35 has no deepstack mergers), got %s", r->section,
              cJSON_IsArray(ds) ? "a non-empty list" : describe(ds, b, sizeof b));
    }
    /* the text part's rope priority; "default" is rewritten to the model's "axial" */
    get_num(r, o, "rope_theta", &v->rope_theta);
    const char *name;
    const cJSON *rp = rope_dict(r, o, &name);
    if (rp) {
        char pre[64];
        snprintf(pre, sizeof pre, "%s%s.", r->section, name);
        const char *section = r->section;
        r->section = pre;
        get_num(r, rp, "rope_theta", &v->rope_theta);
        check_rope_type(r, rp, pre, "axial", "default");
        r->section = section;
    }
}

/* ---- defaults and validation ---- */

void q35_config_defaults(q35_config *c) {
    memset(c, 0, sizeof *c);
    text_defaults(&c->text);
    vision_defaults(&c->vision);
    /* Qwen3_5Config's token ids */
    c->image_token_id = 248056;
    c->video_token_id = 248057;
    c->vision_start_token_id = 248053;
    c->vision_end_token_id = 248054;
    q35_text_config *t = &c->text;
    for (int i = 0; i < t->num_layers; i++) t->is_full[i] = (i + 1) % 4 == 0;
    t->rotary_dim = rotary_dim_of(t->head_dim, t->partial_rotary_factor);
    default_mrope_section(t->rotary_dim / 2, t->mrope_section);
}

typedef struct {
    const char *key;
    int v, max;
} bounded;

/* Every size positive, and small enough that products of two stay far from int overflow and the rope
 * tables (R/2 <= 512) stay small. The real models are far inside these limits. */
static int check_sizes(const bounded *b, size_t n, const char *prefix, const char *source, char *err, size_t errlen) {
    for (size_t i = 0; i < n; i++) {
        if (b[i].v <= 0) return q35_fail(err, errlen, "%s: %s%s must be positive, got %d", source, prefix, b[i].key, b[i].v);
        if (b[i].v > b[i].max)
            return q35_fail(err, errlen, "%s: %s%s (%d) is implausibly large (limit %d)", source, prefix, b[i].key, b[i].v,
                            b[i].max);
    }
    return 0;
}

int q35_config_validate(const q35_config *c, const char *source, char *err, size_t errlen) {
    const q35_text_config *t = &c->text;
    if (!source) source = "config";
    if (t->num_layers > Q35_MAX_LAYERS)
        return q35_fail(err, errlen, "%s: num_hidden_layers (%d) exceeds the supported maximum Q35_MAX_LAYERS (%d)", source,
                        t->num_layers, Q35_MAX_LAYERS);
    const bounded tb[] = {
        { "vocab_size", t->vocab_size, 1 << 24 },
        { "hidden_size", t->hidden_size, 1 << 16 },
        { "intermediate_size", t->intermediate_size, 1 << 20 },
        { "num_hidden_layers", t->num_layers, Q35_MAX_LAYERS },
        { "num_attention_heads", t->num_heads, 1024 },
        { "num_key_value_heads", t->num_kv_heads, 1024 },
        { "head_dim", t->head_dim, 1024 },
        { "linear_num_key_heads", t->lin_num_k_heads, 1024 },
        { "linear_num_value_heads", t->lin_num_v_heads, 1024 },
        { "linear_key_head_dim", t->lin_k_dim, 1024 },
        { "linear_value_head_dim", t->lin_v_dim, 1024 },
        { "linear_conv_kernel_dim", t->conv_kernel, 64 },
        { "max_position_embeddings", t->max_position_embeddings, 0x7fffffff },
    };
    if (check_sizes(tb, sizeof tb / sizeof tb[0], "", source, err, errlen)) return -1;
    for (int i = 0; i < t->num_layers; i++)
        if (t->is_full[i] > 1)
            return q35_fail(err, errlen, "%s: layer %d: is_full must be 0 or 1, got %d", source, i, t->is_full[i]);
    if (t->num_heads % t->num_kv_heads)
        return q35_fail(err, errlen, "%s: num_attention_heads (%d) is not a multiple of num_key_value_heads (%d)", source,
                        t->num_heads, t->num_kv_heads);
    if (t->lin_num_v_heads % t->lin_num_k_heads)
        return q35_fail(err, errlen, "%s: linear_num_value_heads (%d) is not a multiple of linear_num_key_heads (%d)",
                        source, t->lin_num_v_heads, t->lin_num_k_heads);
    if (!(t->partial_rotary_factor > 0 && t->partial_rotary_factor <= 1))
        return q35_fail(err, errlen, "%s: partial_rotary_factor must be in (0, 1], got %g", source, t->partial_rotary_factor);
    int want_r = rotary_dim_of(t->head_dim, t->partial_rotary_factor);
    if (t->rotary_dim != want_r) /* only a config built in code can disagree */
        return q35_fail(err, errlen, "%s: rotary_dim %d differs from int(head_dim %d * partial_rotary_factor %g) = %d",
                        source, t->rotary_dim, t->head_dim, t->partial_rotary_factor, want_r);
    if (t->rotary_dim <= 0 || t->rotary_dim % 2)
        return q35_fail(err, errlen,
                        "%s: rotary dim %d = int(head_dim %d * partial_rotary_factor %g) must be even and positive",
                        source, t->rotary_dim, t->head_dim, t->partial_rotary_factor);
    const int *ms = t->mrope_section;
    if (ms[0] < 0 || ms[1] < 0 || ms[2] < 0)
        return q35_fail(err, errlen, "%s: mrope_section [%d, %d, %d] has a negative entry", source, ms[0], ms[1], ms[2]);
    long sum = (long)ms[0] + ms[1] + ms[2];
    if (sum != t->rotary_dim / 2)
        return q35_fail(err, errlen, "%s: mrope_section [%d, %d, %d] sums to %ld, but rotary dim %d has %d frequency slots",
                        source, ms[0], ms[1], ms[2], sum, t->rotary_dim, t->rotary_dim / 2);
    if (!(t->rope_theta > 0 && isfinite(t->rope_theta)))
        return q35_fail(err, errlen, "%s: rope_theta must be positive, got %g", source, t->rope_theta);
    if (!(t->rms_norm_eps > 0 && t->rms_norm_eps < 1))
        return q35_fail(err, errlen, "%s: rms_norm_eps must be in (0, 1), got %g", source, t->rms_norm_eps);
    if (t->eos_token_id < -1)
        return q35_fail(err, errlen, "%s: eos_token_id must not be negative, got %d", source, t->eos_token_id);
    if (c->mtp_num_hidden_layers < 0)
        return q35_fail(err, errlen, "%s: mtp_num_hidden_layers must not be negative, got %d", source,
                        c->mtp_num_hidden_layers);
    if (!c->vision.present) return 0;

    const q35_vision_config *v = &c->vision;
    const bounded vb[] = {
        { "depth", v->depth, Q35_MAX_LAYERS },
        { "hidden_size", v->hidden_size, 1 << 16 },
        { "num_heads", v->num_heads, 1024 },
        { "intermediate_size", v->intermediate_size, 1 << 20 },
        { "in_channels", v->in_channels, 64 },
        { "patch_size", v->patch_size, 1024 },
        { "temporal_patch_size", v->temporal_patch_size, 64 },
        { "spatial_merge_size", v->spatial_merge_size, 64 },
        { "out_hidden_size", v->out_hidden_size, 1 << 16 },
        { "num_position_embeddings", v->num_position_embeddings, 1 << 24 },
    };
    if (check_sizes(vb, sizeof vb / sizeof vb[0], "vision_config.", source, err, errlen)) return -1;
    if (strcmp(v->hidden_act, "gelu_pytorch_tanh") != 0)
        return q35_fail(err, errlen, "%s: vision_config.hidden_act \"%s\" is not supported: q35's vision MLP implements gelu_pytorch_tanh",
                        source, v->hidden_act);
    /* the image processor makes RGB patches */
    if (v->in_channels != 3)
        return q35_fail(err, errlen, "%s: vision_config.in_channels (%d) is not supported: q35's images have 3 channels (RGB)",
                        source, v->in_channels);
    if (v->hidden_size % v->num_heads)
        return q35_fail(err, errlen, "%s: vision_config.hidden_size (%d) is not a multiple of vision_config.num_heads (%d)",
                        source, v->hidden_size, v->num_heads);
    /* the 2D rope gives each head an H half and a W half of cos/sin pairs */
    if ((v->hidden_size / v->num_heads) % 4)
        return q35_fail(err, errlen,
                        "%s: vision head dim %d (hidden_size %d / num_heads %d) must be a multiple of 4 (2D rope)", source,
                        v->hidden_size / v->num_heads, v->hidden_size, v->num_heads);
    /* the learned position table is interpolated as a side x side grid */
    int side = (int)lround(sqrt((double)v->num_position_embeddings));
    if (side * side != v->num_position_embeddings)
        return q35_fail(err, errlen, "%s: vision_config.num_position_embeddings (%d) is not a perfect square", source,
                        v->num_position_embeddings);
    /* merged patches take the place of token embeddings */
    if (v->out_hidden_size != t->hidden_size)
        return q35_fail(err, errlen, "%s: vision_config.out_hidden_size (%d) differs from the text hidden_size (%d)",
                        source, v->out_hidden_size, t->hidden_size);
    if (!(v->rope_theta > 0 && isfinite(v->rope_theta)))
        return q35_fail(err, errlen, "%s: vision_config rope_theta must be positive, got %g", source, v->rope_theta);
    /* the placeholder tokens are embedded before the patches replace them */
    const struct { const char *key; int id; } ids[] = {
        { "image_token_id", c->image_token_id }, { "video_token_id", c->video_token_id },
        { "vision_start_token_id", c->vision_start_token_id }, { "vision_end_token_id", c->vision_end_token_id },
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i].id < 0 || ids[i].id >= t->vocab_size)
            return q35_fail(err, errlen, "%s: %s (%d) is outside the vocabulary [0, %d)", source, ids[i].key, ids[i].id,
                            t->vocab_size);
    return 0;
}

/* ---- parse / load ---- */

int q35_config_parse(q35_config *c, const char *json, const char *source, char *err, size_t errlen) {
    q35_config_defaults(c);
    if (!source) source = "config.json";
    if (!json) return q35_fail(err, errlen, "%s: no text", source);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(json, &end, 1); /* 1: trailing garbage is an error too */
    q35_json_last_wins(root); /* a key given twice: the last, as transformers' json.load reads it */
    if (!root) {
        long at = end && end >= json ? (long)(end - json) : -1;
        return q35_fail(err, errlen, "%s: not valid JSON (error near byte %ld)", source, at);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return q35_fail(err, errlen, "%s: the top level is not a JSON object", source);
    }
    reader r = { .source = source, .section = "", .err = err, .errlen = errlen };
    get_str(&r, root, "model_type", c->model_type, sizeof c->model_type);
    if (!r.failed && c->model_type[0] && strcmp(c->model_type, "qwen3_5") != 0 && strcmp(c->model_type, "qwen3_5_text") != 0)
        rfail(&r, "model_type \"%s\" is not supported: q35 implements Qwen3.5 (qwen3_5, or qwen3_5_text for the text model alone)",
              c->model_type);
    const cJSON *arch = opt_item(root, "architectures");
    if (arch && !r.failed) {
        if (!cJSON_IsArray(arch) || (arch->child && !cJSON_IsString(arch->child))) {
            char b[64];
            rfail(&r, "architectures must be a list of strings, got %s", describe(arch, b, sizeof b));
        } else if (arch->child) {
            snprintf(c->architecture, sizeof c->architecture, "%.63s", arch->child->valuestring);
        }
    }

    /* The composite layout (AutoConfig's "qwen3_5") keeps the text keys under text_config; copies of
     * text keys at its top level are not the text model's. */
    int composite = item(root, "text_config") || item(root, "vision_config") || strcmp(c->model_type, "qwen3_5") == 0;
    if (composite) {
        /* no text_config: Qwen3_5TextConfig() with every default (a NULL section has no keys) */
        const cJSON *tc = get_obj(&r, root, "text_config");
        r.section = "text_config.";
        want_str(&r, tc, "model_type", "qwen3_5_text", NULL, "a Qwen3.5 text model is qwen3_5_text");
        parse_text(&r, tc, &c->text);
        /* not a transformers key: the released configs have it in text_config */
        get_int(&r, tc, "mtp_num_hidden_layers", &c->mtp_num_hidden_layers);
        r.section = "";
        if (!item(tc, "mtp_num_hidden_layers")) get_int(&r, root, "mtp_num_hidden_layers", &c->mtp_num_hidden_layers);
        if (!opt_item(tc, "eos_token_id")) get_eos(&r, root, &c->text.eos_token_id);
        /* Qwen3_5ForConditionalGeneration ties lm_head by the composite config's own flag (default
         * false); text_config's copy is not consulted. */
        c->text.tie_word_embeddings = 0;
        get_bool(&r, root, "tie_word_embeddings", &c->text.tie_word_embeddings);
        get_int(&r, root, "image_token_id", &c->image_token_id);
        get_int(&r, root, "video_token_id", &c->video_token_id);
        get_int(&r, root, "vision_start_token_id", &c->vision_start_token_id);
        get_int(&r, root, "vision_end_token_id", &c->vision_end_token_id);
        const cJSON *vc = get_obj(&r, root, "vision_config");
        if (vc) {
            c->vision.present = 1;
            r.section = "vision_config.";
            parse_vision(&r, vc, &c->vision);
            r.section = "";
        }
    } else { /* flat: Qwen3_5ForCausalLM */
        parse_text(&r, root, &c->text);
        get_int(&r, root, "mtp_num_hidden_layers", &c->mtp_num_hidden_layers);
    }
    cJSON_Delete(root);
    if (r.failed) return -1;
    return q35_config_validate(c, source, err, errlen);
}

int q35_config_load(q35_config *c, const char *path, char *err, size_t errlen) {
    q35_config_defaults(c);
    char p[4096];
    struct stat sb;
    int n = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? snprintf(p, sizeof p, "%s/config.json", path)
                                                        : snprintf(p, sizeof p, "%s", path);
    if (n < 0 || (size_t)n >= sizeof p) return q35_fail(err, errlen, "%.200s...: path too long", path);
    size_t len = 0;
    char *buf = q35_read_file(p, 16u << 20, &len); /* a config.json is a few KB */
    if (!buf) return q35_fail(err, errlen, "%s: cannot read: %s", p, strerror(errno));
    if (strlen(buf) != len) {
        free(buf);
        return q35_fail(err, errlen, "%s: contains a NUL byte, not JSON text", p);
    }
    int rc = q35_config_parse(c, buf, p, err, errlen);
    free(buf);
    return rc;
}

/* ---- writing ---- */

/* The first full layer + 1 when the layers follow that interval exactly; 0 when they follow none. */
static int layer_interval(const q35_text_config *t) {
    int k = 0;
    while (k < t->num_layers && !t->is_full[k]) k++;
    if (k == t->num_layers) return 0;
    for (int i = 0; i < t->num_layers; i++)
        if (t->is_full[i] != ((i + 1) % (k + 1) == 0)) return 0;
    return k + 1;
}

static void add_str_list(cJSON *o, const char *key, const char *s) {
    cJSON *a = cJSON_AddArrayToObject(o, key);
    if (a) cJSON_AddItemToArray(a, cJSON_CreateString(s));
}

/* The text keys of the released config.json, sorted as transformers writes them. flat: the text-only
 * layout, whose top level also carries architectures and transformers_version. The composite layout
 * writes tie_word_embeddings at both levels, as the released checkpoints do. */
static void add_text(cJSON *o, const q35_text_config *t, int mtp_layers, int flat) {
    if (flat) add_str_list(o, "architectures", "Qwen3_5ForCausalLM");
    cJSON_AddBoolToObject(o, "attention_bias", 0);
    cJSON_AddNumberToObject(o, "attention_dropout", 0.0);
    cJSON_AddBoolToObject(o, "attn_output_gate", 1);
    cJSON_AddStringToObject(o, "dtype", "bfloat16");
    if (t->eos_token_id >= 0) cJSON_AddNumberToObject(o, "eos_token_id", t->eos_token_id);
    int interval = layer_interval(t);
    if (interval) cJSON_AddNumberToObject(o, "full_attention_interval", interval);
    cJSON_AddNumberToObject(o, "head_dim", t->head_dim);
    cJSON_AddStringToObject(o, "hidden_act", "silu");
    cJSON_AddNumberToObject(o, "hidden_size", t->hidden_size);
    cJSON_AddNumberToObject(o, "initializer_range", 0.02);
    cJSON_AddNumberToObject(o, "intermediate_size", t->intermediate_size);
    cJSON *lt = cJSON_AddArrayToObject(o, "layer_types");
    for (int i = 0; lt && i < t->num_layers; i++)
        cJSON_AddItemToArray(lt, cJSON_CreateString(t->is_full[i] ? "full_attention" : "linear_attention"));
    cJSON_AddNumberToObject(o, "linear_conv_kernel_dim", t->conv_kernel);
    cJSON_AddNumberToObject(o, "linear_key_head_dim", t->lin_k_dim);
    cJSON_AddNumberToObject(o, "linear_num_key_heads", t->lin_num_k_heads);
    cJSON_AddNumberToObject(o, "linear_num_value_heads", t->lin_num_v_heads);
    cJSON_AddNumberToObject(o, "linear_value_head_dim", t->lin_v_dim);
    cJSON_AddStringToObject(o, "mamba_ssm_dtype", "float32");
    cJSON_AddNumberToObject(o, "max_position_embeddings", t->max_position_embeddings);
    cJSON_AddArrayToObject(o, "mlp_only_layers");
    cJSON_AddStringToObject(o, "model_type", "qwen3_5_text");
    cJSON_AddNumberToObject(o, "mtp_num_hidden_layers", mtp_layers);
    cJSON_AddBoolToObject(o, "mtp_use_dedicated_embeddings", 0);
    cJSON_AddNumberToObject(o, "num_attention_heads", t->num_heads);
    cJSON_AddNumberToObject(o, "num_hidden_layers", t->num_layers);
    cJSON_AddNumberToObject(o, "num_key_value_heads", t->num_kv_heads);
    cJSON_AddNumberToObject(o, "partial_rotary_factor", t->partial_rotary_factor);
    cJSON_AddNumberToObject(o, "rms_norm_eps", t->rms_norm_eps);
    cJSON *rp = cJSON_AddObjectToObject(o, "rope_parameters");
    cJSON_AddBoolToObject(rp, "mrope_interleaved", t->mrope_interleaved);
    cJSON_AddItemToObject(rp, "mrope_section", cJSON_CreateIntArray(t->mrope_section, 3));
    cJSON_AddNumberToObject(rp, "partial_rotary_factor", t->partial_rotary_factor);
    cJSON_AddNumberToObject(rp, "rope_theta", t->rope_theta);
    cJSON_AddStringToObject(rp, "rope_type", "default");
    cJSON_AddBoolToObject(o, "tie_word_embeddings", t->tie_word_embeddings);
    if (flat) cJSON_AddStringToObject(o, "transformers_version", "4.57.0.dev0");
    cJSON_AddBoolToObject(o, "use_cache", 1);
    cJSON_AddNumberToObject(o, "vocab_size", t->vocab_size);
}

static void add_vision(cJSON *o, const q35_vision_config *v) {
    cJSON_AddArrayToObject(o, "deepstack_visual_indexes");
    cJSON_AddNumberToObject(o, "depth", v->depth);
    cJSON_AddStringToObject(o, "hidden_act", v->hidden_act);
    cJSON_AddNumberToObject(o, "hidden_size", v->hidden_size);
    cJSON_AddNumberToObject(o, "in_channels", v->in_channels);
    cJSON_AddNumberToObject(o, "initializer_range", 0.02);
    cJSON_AddNumberToObject(o, "intermediate_size", v->intermediate_size);
    cJSON_AddStringToObject(o, "model_type", "qwen3_5"); /* as released; transformers renames it qwen3_5_vision */
    cJSON_AddNumberToObject(o, "num_heads", v->num_heads);
    cJSON_AddNumberToObject(o, "num_position_embeddings", v->num_position_embeddings);
    cJSON_AddNumberToObject(o, "out_hidden_size", v->out_hidden_size);
    cJSON_AddNumberToObject(o, "patch_size", v->patch_size);
    /* the released configs have no vision rope key (the default theta): write one only when it differs */
    if (v->rope_theta != 10000.0) {
        cJSON *rp = cJSON_AddObjectToObject(o, "rope_parameters");
        cJSON_AddNumberToObject(rp, "rope_theta", v->rope_theta);
        cJSON_AddStringToObject(rp, "rope_type", "axial");
    }
    cJSON_AddNumberToObject(o, "spatial_merge_size", v->spatial_merge_size);
    cJSON_AddNumberToObject(o, "temporal_patch_size", v->temporal_patch_size);
}

int q35_config_save(const q35_config *c, const char *path, char *err, size_t errlen) {
    /* never write a config that would not load back */
    if (q35_config_validate(c, path, err, errlen) != 0) return -1;
    cJSON *root = cJSON_CreateObject();
    if (!root) return q35_fail(err, errlen, "%s: out of memory", path);
    if (c->vision.present) {
        add_str_list(root, "architectures", "Qwen3_5ForConditionalGeneration");
        cJSON_AddNumberToObject(root, "image_token_id", c->image_token_id);
        cJSON_AddStringToObject(root, "model_type", "qwen3_5");
        add_text(cJSON_AddObjectToObject(root, "text_config"), &c->text, c->mtp_num_hidden_layers, 0);
        cJSON_AddBoolToObject(root, "tie_word_embeddings", c->text.tie_word_embeddings);
        cJSON_AddStringToObject(root, "transformers_version", "4.57.0.dev0"); /* the released value */
        cJSON_AddNumberToObject(root, "video_token_id", c->video_token_id);
        add_vision(cJSON_AddObjectToObject(root, "vision_config"), &c->vision);
        cJSON_AddNumberToObject(root, "vision_end_token_id", c->vision_end_token_id);
        cJSON_AddNumberToObject(root, "vision_start_token_id", c->vision_start_token_id);
    } else {
        add_text(root, &c->text, c->mtp_num_hidden_layers, 1);
    }
    /* cJSON prints a number with %.15g, or %.17g when that would not read back: doubles survive exactly */
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return q35_fail(err, errlen, "%s: out of memory", path);
    FILE *f = fopen(path, "w");
    if (!f) {
        int e = errno;
        free(text);
        return q35_fail(err, errlen, "%s: cannot create: %s", path, strerror(e));
    }
    int ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    int e = errno;
    if (fclose(f) != 0) ok = 0, e = errno;
    free(text);
    if (!ok) return q35_fail(err, errlen, "%s: cannot write: %s", path, strerror(e));
    return 0;
}
