/* config.c - config.json -> q35_config, with transformers' defaults and consistency checks. */
#include "config.h"
#include "util.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Reading keys: absent (or null) keeps the default; a present key of the wrong type is an error. */
typedef struct {
    const char *source;
    const char *section; /* "" or "text_config." / "vision_config." for messages */
    char *err;
    size_t errlen;
    int failed;
} reader;

static const cJSON *get(const cJSON *o, const char *key) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNull(j) ? NULL : j;
}

static void get_int(reader *r, const cJSON *o, const char *key, int *out) {
    const cJSON *j = get(o, key);
    if (!j || r->failed) return;
    double d = cJSON_IsNumber(j) ? j->valuedouble : NAN;
    if (!(d == floor(d)) || d < -2147483648.0 || d > 2147483647.0) {
        r->failed = q35_fail(r->err, r->errlen, "%s: %s%s must be an integer", r->source, r->section, key);
        return;
    }
    *out = (int)d;
}

static void get_num(reader *r, const cJSON *o, const char *key, double *out) {
    const cJSON *j = get(o, key);
    if (!j || r->failed) return;
    if (!cJSON_IsNumber(j)) {
        r->failed = q35_fail(r->err, r->errlen, "%s: %s%s must be a number", r->source, r->section, key);
        return;
    }
    *out = j->valuedouble;
}

static void get_bool(reader *r, const cJSON *o, const char *key, int *out) {
    const cJSON *j = get(o, key);
    if (!j || r->failed) return;
    if (!cJSON_IsBool(j)) {
        r->failed = q35_fail(r->err, r->errlen, "%s: %s%s must be true or false", r->source, r->section, key);
        return;
    }
    *out = cJSON_IsTrue(j);
}

static void get_str(reader *r, const cJSON *o, const char *key, char *out, size_t n) {
    const cJSON *j = get(o, key);
    if (!j || r->failed) return;
    if (!cJSON_IsString(j)) {
        r->failed = q35_fail(r->err, r->errlen, "%s: %s%s must be a string", r->source, r->section, key);
        return;
    }
    snprintf(out, n, "%s", j->valuestring);
}

/* eos_token_id: an int or a list of ints (the first is kept). */
static void get_eos(reader *r, const cJSON *o, int *out) {
    const cJSON *j = get(o, "eos_token_id");
    if (!j || r->failed) return;
    if (cJSON_IsArray(j)) {
        j = j->child;
        if (!j) return;
    }
    if (!cJSON_IsNumber(j)) {
        r->failed = q35_fail(r->err, r->errlen, "%s: %seos_token_id must be an integer or a list of integers", r->source, r->section);
        return;
    }
    *out = (int)j->valuedouble;
}

static void text_defaults(q35_text_config *t) {
    /* Qwen3_5TextConfig's defaults */
    t->vocab_size = 248320;
    t->hidden_size = 4096;
    t->intermediate_size = 12288;
    t->num_layers = 32;
    t->num_heads = 16;
    t->num_kv_heads = 4;
    t->head_dim = 256;
    t->rope_theta = 10000.0;
    t->partial_rotary_factor = 0.25;
    t->lin_num_k_heads = 16;
    t->lin_num_v_heads = 32;
    t->lin_k_dim = 128;
    t->lin_v_dim = 128;
    t->conv_kernel = 4;
    t->rms_norm_eps = 1e-6;
    t->tie_word_embeddings = 0;
    t->max_position_embeddings = 32768;
    t->eos_token_id = -1;
    t->mrope_interleaved = 1;
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
    if (r->failed) return;

    /* legacy top-level rope keys, then rope_parameters (or rope_scaling) over them */
    get_num(r, o, "rope_theta", &t->rope_theta);
    get_num(r, o, "partial_rotary_factor", &t->partial_rotary_factor);
    const cJSON *rp = get(o, "rope_parameters");
    if (!rp) rp = get(o, "rope_scaling");
    int have_section = 0;
    if (rp) {
        if (!cJSON_IsObject(rp)) {
            r->failed = q35_fail(r->err, r->errlen, "%s: %srope_parameters must be an object", r->source, r->section);
            return;
        }
        get_num(r, rp, "rope_theta", &t->rope_theta);
        get_num(r, rp, "partial_rotary_factor", &t->partial_rotary_factor);
        get_bool(r, rp, "mrope_interleaved", &t->mrope_interleaved);
        const cJSON *ms = get(rp, "mrope_section");
        if (ms) {
            int k = 0;
            int ok = cJSON_IsArray(ms) && cJSON_GetArraySize(ms) == 3;
            for (const cJSON *e = ok ? ms->child : NULL; e; e = e->next, k++) {
                ok = ok && cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble == floor(e->valuedouble) &&
                     e->valuedouble < 65536;
                if (ok) t->mrope_section[k] = (int)e->valuedouble;
            }
            if (!ok) {
                r->failed = q35_fail(r->err, r->errlen, "%s: %srope_parameters.mrope_section must be 3 non-negative integers",
                                 r->source, r->section);
                return;
            }
            have_section = 1;
        }
    }
    t->rotary_dim = (int)(t->head_dim * t->partial_rotary_factor);
    if (!have_section) { /* transformers' rotary embedding falls back to [11, 11, 10] */
        t->mrope_section[0] = 11, t->mrope_section[1] = 11, t->mrope_section[2] = 10;
    }

    const cJSON *lt = get(o, "layer_types");
    if (lt) {
        if (!cJSON_IsArray(lt)) {
            r->failed = q35_fail(r->err, r->errlen, "%s: %slayer_types must be a list", r->source, r->section);
            return;
        }
        int n = cJSON_GetArraySize(lt), i = 0;
        if (n != t->num_layers) {
            r->failed = q35_fail(r->err, r->errlen, "%s: %slayer_types has %d entries, num_hidden_layers is %d", r->source,
                             r->section, n, t->num_layers);
            return;
        }
        if (n > Q35_MAX_LAYERS) return; /* reported by validate */
        for (const cJSON *e = lt->child; e; e = e->next, i++) {
            const char *s = cJSON_IsString(e) ? e->valuestring : "";
            if (strcmp(s, "full_attention") == 0) t->is_full[i] = 1;
            else if (strcmp(s, "linear_attention") == 0) t->is_full[i] = 0;
            else {
                r->failed = q35_fail(r->err, r->errlen,
                                 "%s: %slayer_types[%d] is '%.40s'; expected linear_attention or full_attention",
                                 r->source, r->section, i, s);
                return;
            }
        }
    } else {
        int interval = 4;
        get_int(r, o, "full_attention_interval", &interval);
        if (r->failed) return;
        if (interval < 1) {
            r->failed = q35_fail(r->err, r->errlen, "%s: %sfull_attention_interval must be at least 1", r->source, r->section);
            return;
        }
        for (int i = 0; i < t->num_layers && i < Q35_MAX_LAYERS; i++) t->is_full[i] = (i + 1) % interval == 0;
    }
}

static void vision_defaults(q35_vision_config *v) {
    /* Qwen3_5VisionConfig's defaults */
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
    v->rope_theta = 10000.0;
}

static void parse_vision(reader *r, const cJSON *o, q35_vision_config *v) {
    get_int(r, o, "depth", &v->depth);
    get_int(r, o, "hidden_size", &v->hidden_size);
    get_int(r, o, "num_heads", &v->num_heads);
    get_int(r, o, "intermediate_size", &v->intermediate_size);
    get_int(r, o, "in_channels", &v->in_channels);
    get_int(r, o, "patch_size", &v->patch_size);
    get_int(r, o, "temporal_patch_size", &v->temporal_patch_size);
    get_int(r, o, "spatial_merge_size", &v->spatial_merge_size);
    get_int(r, o, "out_hidden_size", &v->out_hidden_size);
    get_int(r, o, "num_position_embeddings", &v->num_position_embeddings);
    get_str(r, o, "hidden_act", v->hidden_act, sizeof v->hidden_act);
    const cJSON *rp = get(o, "rope_parameters");
    if (cJSON_IsObject(rp)) get_num(r, rp, "rope_theta", &v->rope_theta);
}

void q35_config_defaults(q35_config *c) {
    memset(c, 0, sizeof *c);
    text_defaults(&c->text);
    vision_defaults(&c->vision);
    c->image_token_id = 248056;
    c->video_token_id = 248057;
    c->vision_start_token_id = 248053;
    c->vision_end_token_id = 248054;
    for (int i = 0; i < c->text.num_layers; i++) c->text.is_full[i] = (i + 1) % 4 == 0;
    c->text.rotary_dim = (int)(c->text.head_dim * c->text.partial_rotary_factor);
    c->text.mrope_section[0] = 11, c->text.mrope_section[1] = 11, c->text.mrope_section[2] = 10;
}

int q35_config_validate(const q35_config *c, const char *source, char *err, size_t errlen) {
    const q35_text_config *t = &c->text;
    struct { const char *key; int v; } pos[] = {
        { "vocab_size", t->vocab_size }, { "hidden_size", t->hidden_size },
        { "intermediate_size", t->intermediate_size }, { "num_hidden_layers", t->num_layers },
        { "num_attention_heads", t->num_heads }, { "num_key_value_heads", t->num_kv_heads },
        { "head_dim", t->head_dim }, { "linear_num_key_heads", t->lin_num_k_heads },
        { "linear_num_value_heads", t->lin_num_v_heads }, { "linear_key_head_dim", t->lin_k_dim },
        { "linear_value_head_dim", t->lin_v_dim }, { "linear_conv_kernel_dim", t->conv_kernel },
    };
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
        if (pos[i].v <= 0) return q35_fail(err, errlen, "%s: %s must be positive (is %d)", source, pos[i].key, pos[i].v);
    if (t->num_layers > Q35_MAX_LAYERS)
        return q35_fail(err, errlen, "%s: num_hidden_layers %d exceeds the supported %d", source, t->num_layers, Q35_MAX_LAYERS);
    /* sizes whose products must stay far from int overflow */
    if (t->hidden_size > 65536 || t->intermediate_size > 1048576 || t->head_dim > 4096 || t->lin_k_dim > 4096 ||
        t->lin_v_dim > 4096 || t->num_heads > 1024 || t->lin_num_v_heads > 1024 || t->conv_kernel > 64)
        return q35_fail(err, errlen, "%s: a dimension is implausibly large (hidden %d, intermediate %d, head_dim %d)", source,
                    t->hidden_size, t->intermediate_size, t->head_dim);
    if (t->num_heads % t->num_kv_heads)
        return q35_fail(err, errlen, "%s: num_attention_heads (%d) is not a multiple of num_key_value_heads (%d)", source,
                    t->num_heads, t->num_kv_heads);
    if (t->lin_num_v_heads % t->lin_num_k_heads)
        return q35_fail(err, errlen, "%s: linear_num_value_heads (%d) is not a multiple of linear_num_key_heads (%d)", source,
                    t->lin_num_v_heads, t->lin_num_k_heads);
    if (!(t->partial_rotary_factor > 0 && t->partial_rotary_factor <= 1))
        return q35_fail(err, errlen, "%s: partial_rotary_factor %g must be in (0, 1]", source, t->partial_rotary_factor);
    if (t->rotary_dim <= 0 || t->rotary_dim % 2 || t->rotary_dim > t->head_dim)
        return q35_fail(err, errlen, "%s: rotary dim %d (head_dim %d x partial_rotary_factor %g) must be even and in (0, head_dim]",
                    source, t->rotary_dim, t->head_dim, t->partial_rotary_factor);
    int sum = t->mrope_section[0] + t->mrope_section[1] + t->mrope_section[2];
    if (sum != t->rotary_dim / 2)
        return q35_fail(err, errlen, "%s: mrope_section [%d,%d,%d] sums to %d, but the rotary dim %d has %d frequency slots", source,
                    t->mrope_section[0], t->mrope_section[1], t->mrope_section[2], sum, t->rotary_dim, t->rotary_dim / 2);
    if (!(t->rope_theta > 0)) return q35_fail(err, errlen, "%s: rope_theta must be positive", source);
    if (!(t->rms_norm_eps > 0 && t->rms_norm_eps < 1)) return q35_fail(err, errlen, "%s: rms_norm_eps %g must be in (0, 1)", source, t->rms_norm_eps);
    if (c->vision.present) {
        const q35_vision_config *v = &c->vision;
        struct { const char *key; int v; } vp[] = {
            { "depth", v->depth }, { "hidden_size", v->hidden_size }, { "num_heads", v->num_heads },
            { "intermediate_size", v->intermediate_size }, { "in_channels", v->in_channels },
            { "patch_size", v->patch_size }, { "temporal_patch_size", v->temporal_patch_size },
            { "spatial_merge_size", v->spatial_merge_size }, { "out_hidden_size", v->out_hidden_size },
            { "num_position_embeddings", v->num_position_embeddings },
        };
        for (size_t i = 0; i < sizeof vp / sizeof vp[0]; i++)
            if (vp[i].v <= 0) return q35_fail(err, errlen, "%s: vision_config.%s must be positive (is %d)", source, vp[i].key, vp[i].v);
        if (v->hidden_size % v->num_heads)
            return q35_fail(err, errlen, "%s: vision_config.hidden_size (%d) is not a multiple of num_heads (%d)", source,
                        v->hidden_size, v->num_heads);
        if ((v->hidden_size / v->num_heads) % 4)
            return q35_fail(err, errlen, "%s: vision head dim %d must be a multiple of 4 (2D rotary embedding)", source,
                        v->hidden_size / v->num_heads);
        int side = (int)lround(sqrt((double)v->num_position_embeddings));
        if (side * side != v->num_position_embeddings)
            return q35_fail(err, errlen, "%s: vision_config.num_position_embeddings (%d) is not a square grid", source,
                        v->num_position_embeddings);
        if (v->out_hidden_size != t->hidden_size)
            return q35_fail(err, errlen, "%s: vision_config.out_hidden_size (%d) differs from the text hidden_size (%d)", source,
                        v->out_hidden_size, t->hidden_size);
    }
    return 0;
}

int q35_config_parse(q35_config *c, const char *json, const char *source, char *err, size_t errlen) {
    q35_config_defaults(c);
    cJSON *root = cJSON_Parse(json);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return q35_fail(err, errlen, "%s: not a JSON object", source);
    }
    reader r = { .source = source, .section = "", .err = err, .errlen = errlen };
    get_str(&r, root, "model_type", c->model_type, sizeof c->model_type);
    const cJSON *arch = get(root, "architectures");
    if (cJSON_IsArray(arch) && cJSON_IsString(arch->child))
        snprintf(c->architecture, sizeof c->architecture, "%s", arch->child->valuestring);
    get_int(&r, root, "mtp_num_hidden_layers", &c->mtp_num_hidden_layers);

    const cJSON *tc = get(root, "text_config");
    if (tc) { /* composite: Qwen3_5ForConditionalGeneration */
        if (!cJSON_IsObject(tc)) {
            cJSON_Delete(root);
            return q35_fail(err, errlen, "%s: text_config must be an object", source);
        }
        r.section = "text_config.";
        parse_text(&r, tc, &c->text);
        get_int(&r, tc, "mtp_num_hidden_layers", &c->mtp_num_hidden_layers);
        r.section = "";
        /* the top-level flag governs the composite model when present */
        get_bool(&r, root, "tie_word_embeddings", &c->text.tie_word_embeddings);
        get_int(&r, root, "image_token_id", &c->image_token_id);
        get_int(&r, root, "video_token_id", &c->video_token_id);
        get_int(&r, root, "vision_start_token_id", &c->vision_start_token_id);
        get_int(&r, root, "vision_end_token_id", &c->vision_end_token_id);
        const cJSON *vc = get(root, "vision_config");
        if (vc) {
            if (!cJSON_IsObject(vc)) {
                cJSON_Delete(root);
                return q35_fail(err, errlen, "%s: vision_config must be an object", source);
            }
            c->vision.present = 1;
            r.section = "vision_config.";
            parse_vision(&r, vc, &c->vision);
        }
    } else { /* flat: Qwen3_5ForCausalLM */
        parse_text(&r, root, &c->text);
    }
    cJSON_Delete(root);
    if (r.failed) return -1;
    return q35_config_validate(c, source, err, errlen);
}

int q35_config_load(q35_config *c, const char *path, char *err, size_t errlen) {
    char p[4096];
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) snprintf(p, sizeof p, "%s/config.json", path);
    else snprintf(p, sizeof p, "%s", path);
    char *buf = q35_read_file(p, 64u << 20, NULL); /* a config is a few KB */
    if (!buf) return q35_fail(err, errlen, "%s: cannot open: %s", p, strerror(errno));
    int rc = q35_config_parse(c, buf, p, err, errlen);
    free(buf);
    return rc;
}

/* ---- writing ---- */

static void add_text(cJSON *o, const q35_text_config *t, int flat) {
    cJSON_AddStringToObject(o, "model_type", "qwen3_5_text");
    cJSON_AddNumberToObject(o, "vocab_size", t->vocab_size);
    cJSON_AddNumberToObject(o, "hidden_size", t->hidden_size);
    cJSON_AddNumberToObject(o, "intermediate_size", t->intermediate_size);
    cJSON_AddNumberToObject(o, "num_hidden_layers", t->num_layers);
    cJSON_AddNumberToObject(o, "num_attention_heads", t->num_heads);
    cJSON_AddNumberToObject(o, "num_key_value_heads", t->num_kv_heads);
    cJSON_AddNumberToObject(o, "head_dim", t->head_dim);
    cJSON_AddStringToObject(o, "hidden_act", "silu");
    cJSON_AddBoolToObject(o, "attention_bias", 0);
    cJSON_AddBoolToObject(o, "attn_output_gate", 1);
    cJSON_AddNumberToObject(o, "linear_conv_kernel_dim", t->conv_kernel);
    cJSON_AddNumberToObject(o, "linear_key_head_dim", t->lin_k_dim);
    cJSON_AddNumberToObject(o, "linear_value_head_dim", t->lin_v_dim);
    cJSON_AddNumberToObject(o, "linear_num_key_heads", t->lin_num_k_heads);
    cJSON_AddNumberToObject(o, "linear_num_value_heads", t->lin_num_v_heads);
    cJSON_AddNumberToObject(o, "max_position_embeddings", t->max_position_embeddings);
    cJSON_AddNumberToObject(o, "rms_norm_eps", t->rms_norm_eps);
    cJSON_AddStringToObject(o, "mamba_ssm_dtype", "float32");
    cJSON_AddStringToObject(o, "dtype", "bfloat16");
    if (t->eos_token_id >= 0) cJSON_AddNumberToObject(o, "eos_token_id", t->eos_token_id);
    cJSON *lt = cJSON_AddArrayToObject(o, "layer_types");
    int interval = 0;
    for (int i = 0; i < t->num_layers; i++) {
        cJSON_AddItemToArray(lt, cJSON_CreateString(t->is_full[i] ? "full_attention" : "linear_attention"));
        if (t->is_full[i] && !interval) interval = i + 1;
    }
    if (interval) cJSON_AddNumberToObject(o, "full_attention_interval", interval);
    cJSON *rp = cJSON_AddObjectToObject(o, "rope_parameters");
    cJSON_AddStringToObject(rp, "rope_type", "default");
    cJSON_AddNumberToObject(rp, "rope_theta", t->rope_theta);
    cJSON_AddNumberToObject(rp, "partial_rotary_factor", t->partial_rotary_factor);
    cJSON_AddItemToObject(rp, "mrope_section", cJSON_CreateIntArray(t->mrope_section, 3));
    cJSON_AddBoolToObject(rp, "mrope_interleaved", t->mrope_interleaved);
    cJSON_AddNumberToObject(o, "partial_rotary_factor", t->partial_rotary_factor);
    if (flat) cJSON_AddBoolToObject(o, "tie_word_embeddings", t->tie_word_embeddings);
}

int q35_config_save(const q35_config *c, const char *path, char *err, size_t errlen) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return q35_fail(err, errlen, "%s: out of memory", path);
    cJSON *arch = cJSON_AddArrayToObject(root, "architectures");
    if (c->vision.present) {
        const q35_vision_config *v = &c->vision;
        cJSON_AddItemToArray(arch, cJSON_CreateString("Qwen3_5ForConditionalGeneration"));
        cJSON_AddStringToObject(root, "model_type", "qwen3_5");
        cJSON_AddNumberToObject(root, "image_token_id", c->image_token_id);
        cJSON_AddNumberToObject(root, "video_token_id", c->video_token_id);
        cJSON_AddNumberToObject(root, "vision_start_token_id", c->vision_start_token_id);
        cJSON_AddNumberToObject(root, "vision_end_token_id", c->vision_end_token_id);
        cJSON_AddBoolToObject(root, "tie_word_embeddings", c->text.tie_word_embeddings);
        cJSON *tc = cJSON_AddObjectToObject(root, "text_config");
        add_text(tc, &c->text, 0);
        cJSON_AddNumberToObject(tc, "mtp_num_hidden_layers", c->mtp_num_hidden_layers);
        cJSON_AddBoolToObject(tc, "mtp_use_dedicated_embeddings", 0);
        cJSON *vc = cJSON_AddObjectToObject(root, "vision_config");
        cJSON_AddStringToObject(vc, "model_type", "qwen3_5");
        cJSON_AddNumberToObject(vc, "depth", v->depth);
        cJSON_AddNumberToObject(vc, "hidden_size", v->hidden_size);
        cJSON_AddStringToObject(vc, "hidden_act", v->hidden_act);
        cJSON_AddNumberToObject(vc, "intermediate_size", v->intermediate_size);
        cJSON_AddNumberToObject(vc, "num_heads", v->num_heads);
        cJSON_AddNumberToObject(vc, "in_channels", v->in_channels);
        cJSON_AddNumberToObject(vc, "patch_size", v->patch_size);
        cJSON_AddNumberToObject(vc, "spatial_merge_size", v->spatial_merge_size);
        cJSON_AddNumberToObject(vc, "temporal_patch_size", v->temporal_patch_size);
        cJSON_AddNumberToObject(vc, "out_hidden_size", v->out_hidden_size);
        cJSON_AddNumberToObject(vc, "num_position_embeddings", v->num_position_embeddings);
        cJSON_AddItemToObject(vc, "deepstack_visual_indexes", cJSON_CreateArray());
    } else {
        cJSON_AddItemToArray(arch, cJSON_CreateString("Qwen3_5ForCausalLM"));
        add_text(root, &c->text, 1);
        cJSON_AddNumberToObject(root, "mtp_num_hidden_layers", c->mtp_num_hidden_layers);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return q35_fail(err, errlen, "%s: out of memory", path);
    FILE *f = fopen(path, "w");
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) ok = 0;
    free(text);
    if (!ok) return q35_fail(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    return 0;
}
