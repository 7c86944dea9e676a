/* verify.c - run every phase of a golden set and compare every golden tensor. */
#include "verify.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compare.h"
#include "q35.h"
#include "sha256.h"
#include <omp.h>
#include "safetensors.h"
#include "image.h"
#include "rope.h"
#include "text.h"
#include "vision.h"
#include "trace.h"
#include "util.h"
#include "weights.h"

void q35_verify_defaults(q35_verify_opts *o) {
    memset(o, 0, sizeof *o);
    o->ops = q35_backend(Q35_DEFAULT_BACKEND);
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The golden names of one phase, in manifest order. */
typedef struct {
    char name[32];
    const char **goldens;
    int n;
} phase;

/* Sort key: preproc, prefill, decode0..N, full, long, bf16w, then anything else. */
static int phase_rank(const char *p) {
    if (strcmp(p, "preproc") == 0) return -1;
    if (strcmp(p, "prefill") == 0) return 0;
    if (strncmp(p, "decode", 6) == 0) return 1 + atoi(p + 6);
    if (strcmp(p, "full") == 0) return 100000;
    if (strcmp(p, "long") == 0) return 100001;
    if (strcmp(p, "bf16w") == 0) return 100002;
    return 100003;
}

static int cmp_phase(const void *a, const void *b) {
    const phase *x = a, *y = b;
    int rx = phase_rank(x->name), ry = phase_rank(y->name);
    return rx != ry ? (rx < ry ? -1 : 1) : strcmp(x->name, y->name);
}

/* Reads an I64 [1, L] ids tensor into a new int array. */
static int *read_ids(const q35_st *g, const char *name, int *L) {
    const q35_st_entry *e = q35_st_find(g, name);
    if (!e || e->t.dtype != Q35_I64) return NULL;
    int64_t n = q35_numel(&e->t);
    int *ids = malloc((size_t)(n ? n : 1) * sizeof(int));
    if (!ids) return NULL;
    for (int64_t i = 0; i < n; i++) {
        int64_t v;
        memcpy(&v, (const char *)e->t.data + 8 * i, 8);
        ids[i] = (v < -1000000000 || v > 1000000000) ? -1 : (int)v;
    }
    *L = (int)n;
    return ids;
}

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static int has_image_tokens(const q35_config *c, const int *ids, int L) {
    if (!c->vision.present) return 0;
    for (int i = 0; i < L; i++)
        if (ids[i] == c->image_token_id || ids[i] == c->video_token_id) return 1;
    return 0;
}

/* Names that need the vision tower or image preprocessing. */
static int needs_vision(const char *name) {
    return strncmp(name, "preproc.", 8) == 0 || strstr(name, ".vision.") != NULL;
}

/* Traces an image's decoded pixels as preproc.image_HxW_rgb (I64 [h, w, 3]). */
static void trace_rgb(void *ctx, const char *file, const q35_image *im, const int grid[3]) {
    (void)file, (void)grid;
    int64_t *rgb = malloc((size_t)im->w * im->h * 3 * sizeof *rgb);
    if (!rgb) return;
    for (size_t i = 0; i < (size_t)im->w * im->h * 3; i++) rgb[i] = im->rgb[i];
    char name[64];
    snprintf(name, sizeof name, "image_%dx%d_rgb", im->h, im->w);
    q35_tensor t = { .dtype = Q35_I64, .ndim = 3, .shape = { im->h, im->w, 3 }, .data = rgb };
    q35_trace_tensor(ctx, name, &t);
    free(rgb);
}

/* The images of a vision-language set (manifest "images", files relative to dir), decoded and
 * preprocessed by q35 itself (never taken from the goldens), tracing preproc.* into pre, with the
 * multimodal positions of the prompt ids (prompt, L) when given. */
static int vl_load(q35_image_batch *vi, const cJSON *manifest, const char *dir, const q35_model *m, const int *prompt,
                   int L, q35_trace_store *pre, char *err, size_t errlen) {
    memset(vi, 0, sizeof *vi);
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(manifest, "images");
    int n = cJSON_GetArraySize(imgs);
    if (!cJSON_IsArray(imgs) || n == 0 || !m->cfg.vision.present) return 0;
    q35_preproc_config pc;
    if (q35_preproc_load(&pc, m->dir, err, errlen) != 0) return -1;
    char **files = calloc((size_t)n, sizeof *files);
    if (!files) return q35_fail(err, errlen, "out of memory");
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(imgs, k), "file");
        if (!cJSON_IsString(file)) rc = q35_fail(err, errlen, "manifest images[%d] has no \"file\"", k);
        else if (!(files[k] = malloc(strlen(dir) + strlen(file->valuestring) + 2))) rc = q35_fail(err, errlen, "out of memory");
        else sprintf(files[k], "%s/%s", dir, file->valuestring);
    }
    q35_trace tr = { .on_tensor = q35_trace_store_hook, .ctx = pre };
    snprintf(tr.prefix, sizeof tr.prefix, "preproc.");
    if (rc == 0) rc = q35_image_batch_load(vi, &pc, (const char *const *)files, n, 1, trace_rgb, &tr, err, errlen);
    for (int k = 0; k < n; k++) free(files[k]);
    free(files);
    if (rc != 0) return -1;
    return q35_vision_trace_inputs(&tr, m, vi, prompt, L, err, errlen);
}

typedef struct {
    const q35_policy *policy;
    q35_report *rep;
    const q35_st *g;
    int forced;              /* layer inputs taken from the goldens (teacher forcing) */
} reporter;

/* Teacher forcing: the golden of that name, when it has n elements, replaces buf. */
static int force_golden(void *ctx, const char *name, float *buf, int64_t n) {
    reporter *rp = ctx;
    const q35_st_entry *e = q35_st_find(rp->g, name);
    if (!e || q35_numel(&e->t) != n || q35_dtype_is_int(e->t.dtype)) return 0;
    q35_read_f32(buf, &e->t, 0, n);
    rp->forced++;
    return 1;
}

/* Adds a row for every golden of phase p: compared with what the run stored, in execution order;
 * then the goldens the run did not produce (missing, or unsupported when the phase could not run
 * or needs the vision parts). */
static void report_phase(reporter *rp, const phase *p, const q35_trace_store *st, int unsupported_why) {
    unsigned char *done = calloc((size_t)p->n + 1, 1);
    if (!done) {
        rp->rep->oom = 1;
        return;
    }
    for (int k = 0; st && k < st->n; k++) {
        const q35_trace_item *it = &st->items[k];
        for (int j = 0; j < p->n; j++) {
            if (done[j] || strcmp(p->goldens[j], it->name) != 0) continue;
            done[j] = 1;
            const q35_st_entry *ge = q35_st_find(rp->g, it->name);
            q35_report_compare(rp->rep, rp->policy, it->name, NULL, &it->t, &ge->t);
            break;
        }
    }
    for (int j = 0; j < p->n; j++) {
        if (done[j]) continue;
        const q35_st_entry *ge = q35_st_find(rp->g, p->goldens[j]);
        q35_row *w = q35_report_add(rp->rep, p->goldens[j],
                                    unsupported_why || needs_vision(p->goldens[j]) ? Q35_ROW_UNSUPPORTED : Q35_ROW_MISSING);
        if (w) q35_shape_str(w->shape, sizeof w->shape, &ge->t);
    }
    free(done);
}

/* Runs ids on top of the caches s, tracing under prefix; the ids are stored as prefix input_ids.
 * When ids hold image tokens, the vision tower runs first on vi (traced too) and its rows replace
 * those tokens, with multimodal positions; the caches keep the decode position delta. */
static int run_phase(const q35_ops *ops, q35_text_state *s, const q35_image_batch *vi, const int *ids, int L,
                     const char *prefix, q35_trace_store *st, reporter *force, float *logits, char *err, size_t errlen) {
    q35_trace tr = { .on_tensor = q35_trace_store_hook, .ctx = st, .force = force ? force_golden : NULL, .fctx = force };
    snprintf(tr.prefix, sizeof tr.prefix, "%s", prefix);
    q35_trace_ids(&tr, ids, L);
    if (!has_image_tokens(&s->m->cfg, ids, L)) return q35_text_forward(s, ops, ids, L, NULL, logits, L, &tr, err, errlen);
    return q35_prefill_with_images(s, ops, vi, ids, L, logits, L, &tr, err, errlen);
}

/* SHA-256 of a model directory's config.json and weight files, in name order, as one hash of
 * "name hash\n" lines (so a renamed shard changes it); "" when a file cannot be read. */
static void model_hash(const q35_model *m, char hex[65]) {
    q35_sha256 all;
    q35_sha256_init(&all);
    char p[4200], h[65], line[4400];
    snprintf(p, sizeof p, "%s/config.json", m->dir);
    if (q35_sha256_file(p, h) != 0) {
        hex[0] = 0;
        return;
    }
    snprintf(line, sizeof line, "config.json %s\n", h);
    q35_sha256_update(&all, line, strlen(line));
    for (int i = 0; i < m->st.nfiles; i++) {
        if (q35_sha256_file(m->st.files[i].path, h) != 0) {
            hex[0] = 0;
            return;
        }
        const char *base = strrchr(m->st.files[i].path, '/');
        snprintf(line, sizeof line, "%s %s\n", base ? base + 1 : m->st.files[i].path, h);
        q35_sha256_update(&all, line, strlen(line));
    }
    q35_sha256_hex(&all, hex);
}

int q35_verify(const q35_verify_opts *o, q35_report *rep, char *err, size_t errlen) {
    q35_policy defaults = {0};
    const q35_policy *policy = o->policy;
    if (!policy) {
        if (q35_policy_default(&defaults, 2e-4, 1e-4, 0.99999, err, errlen) != 0) return -1;
        policy = &defaults;
    }
    char path[4096], model_dir[4096], bf16_dir[4096];
    int rc = -1;
    char *text = NULL;
    cJSON *manifest = NULL;
    q35_st g = {0};
    q35_model m = {0}, mb = {0};
    q35_text_state s = {0};
    phase *phases = NULL;
    int nphases = 0;
    float *logits = NULL;
    int *ids = NULL, L = 0;
    q35_image_batch vi = {0};
    q35_trace_store pre = {0};

    snprintf(path, sizeof path, "%s/manifest.json", o->golden_dir);
    if (!(text = q35_read_file(path, 256u << 20, NULL))) {
        snprintf(err, errlen, "%s: cannot read (is %s a golden set directory?)", path, o->golden_dir);
        goto done;
    }
    manifest = cJSON_Parse(text);
    const cJSON *tensors = cJSON_GetObjectItemCaseSensitive(manifest, "tensors");
    if (!manifest || !cJSON_IsObject(tensors)) {
        snprintf(err, errlen, "%s: not JSON or no \"tensors\" object", path);
        goto done;
    }
    const cJSON *gf = cJSON_GetObjectItemCaseSensitive(manifest, "goldens_file");
    snprintf(path, sizeof path, "%s/%s", o->golden_dir, cJSON_IsString(gf) ? gf->valuestring : "golden.safetensors");
    if (q35_st_open(&g, path, err, errlen) != 0) goto done;

    /* group the manifest's tensors by phase */
    int nt = cJSON_GetArraySize(tensors);
    phases = calloc((size_t)nt + 1, sizeof *phases);
    if (!phases) { snprintf(err, errlen, "out of memory"); goto done; }
    for (const cJSON *t = tensors->child; t; t = t->next) {
        if (!q35_st_find(&g, t->string)) {
            snprintf(err, errlen, "%s: manifest lists %s but the file does not hold it", path, t->string);
            goto done;
        }
        const char *dot = strchr(t->string, '.');
        size_t plen = dot ? (size_t)(dot - t->string) : strlen(t->string);
        int k;
        for (k = 0; k < nphases; k++)
            if (strlen(phases[k].name) == plen && strncmp(phases[k].name, t->string, plen) == 0) break;
        if (k == nphases) {
            snprintf(phases[k].name, sizeof phases[k].name, "%.*s", (int)plen, t->string);
            phases[k].goldens = calloc((size_t)nt, sizeof(char *));
            if (!phases[k].goldens) { snprintf(err, errlen, "out of memory"); goto done; }
            nphases++;
        }
        phases[k].goldens[phases[k].n++] = t->string;
    }
    qsort(phases, (size_t)nphases, sizeof *phases, cmp_phase);

    snprintf(bf16_dir, sizeof bf16_dir, "%s/checkpoint_bf16", o->golden_dir);
    if (o->model_dir) snprintf(model_dir, sizeof model_dir, "%s", o->model_dir);
    else {
        snprintf(model_dir, sizeof model_dir, "%s/checkpoint_f32", o->golden_dir);
        if (!is_dir(model_dir)) snprintf(model_dir, sizeof model_dir, "%s", bf16_dir);
    }
    if (q35_model_open(&m, model_dir, err, errlen) != 0) goto done;
    if (q35_text_state_init(&s, &m, err, errlen) != 0) goto done;
    int V = m.cfg.text.vocab_size;
    {
        char hex[65];
        snprintf(path, sizeof path, "%s/manifest.json", o->golden_dir);
        q35_report_prov(rep, "golden set", "%s", o->golden_dir);
        if (q35_sha256_file(path, hex) == 0) q35_report_prov(rep, "manifest sha256", "%s", hex);
        const cJSON *tv = cJSON_GetObjectItemCaseSensitive(manifest, "transformers_version");
        if (cJSON_IsString(tv)) q35_report_prov(rep, "goldens from", "transformers %s", tv->valuestring);
        q35_report_prov(rep, "model", "%s", model_dir);
        if (o->hash_model) {
            model_hash(&m, hex);
            q35_report_prov(rep, "model sha256", "%s (config.json and weight files)", hex[0] ? hex : "unreadable");
        }
        q35_report_prov(rep, "backend", "%s (%s), %d threads", o->ops->name, o->ops->kernels(),
                        strcmp(o->ops->name, "ref") == 0 ? 1 : q35_get_threads());
        q35_report_prov(rep, "q35", "%s", Q35_VERSION);
        q35_report_prov(rep, "policy", "%s", policy->source[0] ? policy->source : "defaults");
        q35_report_prov(rep, "teacher forcing", "%s", o->teacher_force ? "on: each layer fed its golden input" : "off");
    }

    /* the images of a vision-language set, preprocessed once for every phase */
    q35_trace_store_init(&pre, NULL, err, errlen);
    ids = read_ids(&g, "prefill.input_ids", &L);
    if (vl_load(&vi, manifest, o->golden_dir, &m, ids, L, &pre, err, errlen) != 0) goto done;
    reporter rp = { .policy = policy, .rep = rep, .g = &g };
    reporter *force = o->teacher_force ? &rp : NULL;
    int decoded_after_prefill = 0; /* decode phases continue the prefill caches */
    int prefill_unsupported = 0;   /* then its decode phases cannot run either */
    for (int k = 0; k < nphases; k++) {
        phase *p = &phases[k];
        char prefix[40];
        snprintf(prefix, sizeof prefix, "%s.", p->name);
        q35_trace_store st;
        q35_trace_store_init(&st, NULL, err, errlen);
        int unsupported = 0;
        int is_decode = strncmp(p->name, "decode", 6) == 0;
        const q35_model *pm = &m;
        q35_text_state *ps = &s;
        q35_text_state fresh = {0};

        if (strcmp(p->name, "preproc") == 0) {
            unsupported = vi.n == 0; /* no images listed, or no vision tower */
            report_phase(&rp, p, &pre, unsupported);
            q35_trace_store_free(&st);
            continue;
        } else if (is_decode) {
            if (!logits || s.n_past == 0 || atoi(p->name + 6) != decoded_after_prefill) {
                /* no prefill ran before it: its goldens are missing, or unsupported with the prefill */
                unsupported = prefill_unsupported;
            } else {
                int id = argmax(logits, V); /* greedy on the previous step's last row */
                unsupported = has_image_tokens(&m.cfg, &id, 1);
                if (!unsupported) {
                    if (run_phase(o->ops, ps, &vi, &id, 1, prefix, &st, force, logits, err, errlen) != 0) goto phase_error;
                    decoded_after_prefill++;
                }
            }
        } else {
            char idname[64];
            snprintf(idname, sizeof idname, "%sinput_ids", prefix);
            free(ids);
            ids = read_ids(&g, idname, &L);
            if (!ids && strcmp(p->name, "bf16w") == 0) ids = read_ids(&g, "prefill.input_ids", &L);
            if (ids) {
                unsupported = has_image_tokens(&m.cfg, ids, L) && vi.n == 0;
                if (strcmp(p->name, "prefill") == 0) prefill_unsupported = unsupported;
                if (strcmp(p->name, "bf16w") == 0 && !unsupported) {
                    if (q35_model_open(&mb, bf16_dir, err, errlen) != 0) goto phase_error;
                    pm = &mb;
                }
                if (strcmp(p->name, "prefill") != 0 || unsupported) {
                    if (q35_text_state_init(&fresh, pm, err, errlen) != 0) goto phase_error;
                    ps = &fresh;
                } else {
                    q35_text_state_reset(&s);
                    decoded_after_prefill = 0;
                }
                if (!unsupported) {
                    float *lg = realloc(logits, (size_t)L * V * sizeof(float));
                    if (!lg) { snprintf(err, errlen, "out of memory for logits"); goto phase_error; }
                    logits = lg;
                    if (run_phase(o->ops, ps, &vi, ids, L, prefix, &st, force, logits, err, errlen) != 0) goto phase_error;
                    if (strcmp(p->name, "prefill") == 0) {
                        q35_trace tr = { .on_tensor = q35_trace_store_hook, .ctx = &st };
                        snprintf(tr.prefix, sizeof tr.prefix, "%s", prefix);
                        q35_text_trace_cache(ps, &tr);
                    }
                    /* keep the last row for a following decode phase */
                    memmove(logits, logits + (size_t)(L - 1) * V, (size_t)V * sizeof(float));
                }
            }
        }
        if (st.oom) { snprintf(err, errlen, "out of memory while tracing phase %s", p->name); goto phase_error; }
        report_phase(&rp, p, &st, unsupported);
        if (o->progress) fprintf(o->progress, "verify: phase %s done%s\n", p->name, unsupported ? " (not supported)" : "");
        q35_trace_store_free(&st);
        if (ps == &fresh) q35_text_state_free(&fresh);
        if (pm == &mb) q35_model_close(&mb);
        /* a phase other than prefill/decode leaves its logits: decode phases must follow prefill */
        if (!is_decode && strcmp(p->name, "prefill") != 0) decoded_after_prefill = -1;
        continue;
    phase_error:
        q35_trace_store_free(&st);
        if (ps == &fresh) q35_text_state_free(&fresh);
        if (pm == &mb) q35_model_close(&mb);
        goto done;
    }

    if (o->teacher_force) q35_report_prov(rep, "forced inputs", "%d layer inputs taken from the goldens", rp.forced);
    q35_report_finish(rep);
    if (rep->oom) {
        snprintf(err, errlen, "out of memory for the report");
        goto done;
    }
    rc = (rep->failed || rep->missing || rep->unsupported) ? 1 : 0;
done:
    for (int k = 0; phases && k < nphases; k++) free(phases[k].goldens);
    free(phases);
    free(ids);
    free(logits);
    q35_image_batch_free(&vi);
    q35_trace_store_free(&pre);
    q35_text_state_free(&s);
    q35_model_close(&m);
    q35_st_close(&g);
    cJSON_Delete(manifest);
    free(text);
    q35_policy_free(&defaults);
    return rc;
}
