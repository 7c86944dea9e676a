/* bench.c - `q35 bench`: how fast a checkpoint runs here, and how close that is to the machine.
 *
 * Prefill (pp) and decode (tg) throughput over repeats, turned into an effective bandwidth and an
 * effective GFLOP/s with the formulas of bench_costs below, then compared with the read bandwidth
 * and arithmetic peak measured in the same process with the same threads (fast/hwlimits.h).
 * Optionally one synthetic image through the vision tower. Peak RSS against the checkpoint size. */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <cJSON.h>

#include "cli.h"
#include "hwlimits.h"
#include "q35.h"
#include "sampler.h"

static const char *usage_bench =
    "usage: q35 bench MODEL_DIR [options]\n"
    "\n"
    "Times prefill and decode of a checkpoint (a random-weight one from `q35 mkmodel` will do:\n"
    "speed does not depend on the weights' values) and, in the same run and with the same threads,\n"
    "measures the machine's read bandwidth and arithmetic peak, to say how close the model comes.\n"
    "\n"
    "options:\n"
    "  --backend NAME   op table to run (ref, fast, fast-bf16; default " Q35_DEFAULT_BACKEND ")\n"
    "  --threads N      OpenMP threads for the backend and the limit measurements (default: every\n"
    "                   core, or OMP_NUM_THREADS); the reference backend is single-threaded anyway\n"
    "  --prompt N       prefill length: N random token ids (fixed seed) from empty caches, logits\n"
    "                   for the last position only (default 512; 0 skips prefill)\n"
    "  --gen N          decode length: N tokens one at a time, each with its logits, after a\n"
    "                   16-token prompt (default 128; 0 skips decode)\n"
    "  --repeat R       timed runs of each phase, after one untimed warm-up run (default 3);\n"
    "                   the median is reported, with the min .. max spread\n"
    "  --image WxH      also time one synthetic W x H image (e.g. 1024x768) through the vision\n"
    "                   tower, at the grid the image processor would give it (needs a model with\n"
    "                   a vision tower)\n"
    "  --json           print one JSON object on stdout instead of the table\n"
    "  --no-sampler     skip the decode run where the sampler draws each token (preset instruct,\n"
    "                   as generate does), which times the sampler: ms per token and its share\n"
    "                   of a decode step (sampler_s_per_token, sampler_fraction in --json)\n"
    "  --no-limits      skip measuring the machine (read bandwidth, FP32 FMA and BF16 peaks,\n"
    "                   about 1-2 s) and so the fractions of them\n"
    "\n"
    "Effective decode bandwidth = bytes read per token x tokens/s, where the bytes are every text\n"
    "weight a forward reads (the LM head in full; of the embedding only the gathered row, unless\n"
    "the head is tied to it), the delta-rule and conv states, and the K/V cache at the mean\n"
    "context. Effective prefill GFLOP/s = 2 x multiply-adds per prompt (all linear layers, the\n"
    "LM head once, causal attention, delta rule, conv) / seconds. decode_bw_fraction divides by\n"
    "the measured read bandwidth; prefill_peak_fraction by the peak of the instructions the\n"
    "kernels use: the FP32 FMA peak (bf16 weights widened, activations kept float32), or the\n"
    "BF16 dot-product peak for --backend fast-bf16 where it runs vdpbf16ps (kernels\n"
    "avx512-bf16dot).\n"
    "Progress goes to stderr. Exit status: 0 done, 1 failed, 2 bad usage.\n";

/* Tokens of the prompt that decode runs after. */
#define DECODE_PROMPT 16
/* Buffer of the read-bandwidth measurement for nt threads: 32 MiB per thread (at least 8x the
 * last-level cache share of a core on current x86), at least 256 MiB, at most 2 GiB. Smaller
 * than 1 GiB keeps the first-touch page faults (the bulk of the time in a VM) to a few tenths of
 * a second. */
static size_t limits_read_bytes(int nt) {
    size_t b = (size_t)nt << 25, lo = (size_t)1 << 28, hi = (size_t)1 << 31;
    return b < lo ? lo : b > hi ? hi : b;
}

typedef struct {
    const char *model_dir;
    const char *backend;
    int threads;          /* 0: the default */
    int prompt, gen, repeat;
    int img_w, img_h;     /* 0: no image */
    int json, limits;
    int sampler;          /* also time decode with the sampler drawing each token */
} bench_opts;

/* Monotonic wall-clock seconds. */
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Parses "WxH" (e.g. 1024x768) into *w, *h, each side a strict whole number; -1 after a message on
 * stderr. */
static int parse_size(const char *v, int *w, int *h) {
    const char *x = strpbrk(v, "xX");
    char side[32];
    if (!x || (size_t)(x - v) >= sizeof side) {
        fprintf(stderr, "q35 bench: --image wants WIDTHxHEIGHT in pixels, e.g. 1024x768, not '%s'\n", v);
        return -1;
    }
    memcpy(side, v, (size_t)(x - v));
    side[x - v] = 0;
    if (cli_int("bench", "--image width", side, 1, Q35_IMAGE_MAX_SIDE, w) != 0) return -1;
    return cli_int("bench", "--image height", x + 1, 1, Q35_IMAGE_MAX_SIDE, h);
}

/* Fills o from the command line; 0, or 2 after a message on stderr (bad usage). */
static int parse_args(bench_opts *o, int argc, char **argv) {
    *o = (bench_opts){ .backend = Q35_DEFAULT_BACKEND, .prompt = 512, .gen = 128, .repeat = 3, .limits = 1, .sampler = 1 };
    static const char *const vals[] = { "--backend", "--threads", "--prompt", "--gen", "--repeat", "--image", NULL };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--json") == 0) o->json = 1;
        else if (strcmp(a, "--no-limits") == 0) o->limits = 0;
        else if (strcmp(a, "--no-sampler") == 0) o->sampler = 0;
        else if (a[0] == '-' && a[1]) {
            if (!(v = cli_value("bench", argc, argv, &i, vals))) return 2;
            int bad = 0;
            if (strcmp(a, "--backend") == 0) o->backend = v;
            else if (strcmp(a, "--threads") == 0) bad = cli_int("bench", a, v, 1, 4096, &o->threads);
            else if (strcmp(a, "--prompt") == 0) bad = cli_int("bench", a, v, 0, 1 << 20, &o->prompt);
            else if (strcmp(a, "--gen") == 0) bad = cli_int("bench", a, v, 0, 1 << 20, &o->gen);
            else if (strcmp(a, "--repeat") == 0) bad = cli_int("bench", a, v, 1, 1000, &o->repeat);
            else bad = parse_size(v, &o->img_w, &o->img_h);
            if (bad) return 2;
        } else if (o->model_dir) {
            fprintf(stderr, "q35 bench: one model directory only ('%s' and '%s')\n", o->model_dir, a);
            return 2;
        } else {
            o->model_dir = a;
        }
    }
    if (!o->model_dir) {
        fprintf(stderr, "q35 bench: no MODEL_DIR given\n\n%s", usage_bench);
        return 2;
    }
    struct stat st;
    if (stat(o->model_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "q35 bench: model directory '%s' %s\n", o->model_dir,
                stat(o->model_dir, &st) != 0 ? "does not exist" : "is not a directory");
        return 2;
    }
    return 0;
}

/* ---- what a forward costs ---- */

/* Bytes of a bound tensor (0 when unbound). */
static double tensor_bytes(const q35_tensor *t) {
    return t->data ? (double)q35_numel(t) * (double)q35_dtype_size(t->dtype) : 0;
}

/* Multiply-adds of a bound 2-D weight applied to one row (its element count). */
static double matvec_macs(const q35_tensor *t) {
    return t->data && t->ndim == 2 ? (double)q35_numel(t) : 0;
}

typedef struct {
    double weight_bytes;      /* text weights one decode step reads (see decode_bytes) */
    double state_bytes;       /* conv windows + delta-rule states, per step */
    double kv_bytes_per_ctx;  /* K and V bytes per cached token, over all full layers */
    double linear_macs;       /* multiply-adds of every projection for one token (no LM head) */
    double head_macs;         /* the LM head for one row */
    double attn_macs_per_pair;/* per (query, visible key) pair over all full layers: QK and PV */
    double lin_macs;          /* delta rule + conv per token over all linear layers */
} bench_costs;

/* What one token costs in the text model m. The counts follow text.c:
 *   weights read per decode token = every tensor of every layer (norms, projections, conv, gates)
 *     + final norm + LM head in full + the gathered embedding row (the head counts as the whole
 *     embedding when tied, so no row on top);
 *   state read per token = conv windows [C, K] and delta-rule states [Hv, Dk, Dv] of the linear
 *     layers (float32), + K and V [Hkv, Dh] per cached token of each full layer (float32);
 *   multiply-adds per token = every 2-D projection (rows x cols) + conv C x K + delta rule
 *     3.5 x Hv x Dk x Dv per linear layer (decay, S^T k, the rank-1 update, S^T q) + attention
 *     2 x Hq x Dh per visible key per full layer (QK^T and PV); the LM head V x H once per
 *     forward (logits of the last position only). */
static bench_costs model_costs(const q35_model *m) {
    const q35_text_config *c = &m->cfg.text;
    bench_costs k = { 0 };
    for (int i = 0; i < c->num_layers; i++) {
        const q35_layer_weights *w = &m->layers[i];
        const q35_tensor *all[] = { &w->input_norm, &w->post_norm, &w->gate_proj, &w->up_proj, &w->down_proj,
                                    &w->in_proj_qkv, &w->in_proj_z, &w->in_proj_a, &w->in_proj_b, &w->conv1d,
                                    &w->dt_bias, &w->A_log, &w->lin_norm, &w->out_proj, &w->q_proj, &w->k_proj,
                                    &w->v_proj, &w->o_proj, &w->q_norm, &w->k_norm };
        for (size_t j = 0; j < sizeof all / sizeof all[0]; j++) k.weight_bytes += tensor_bytes(all[j]);
        const q35_tensor *proj[] = { &w->gate_proj, &w->up_proj, &w->down_proj, &w->in_proj_qkv, &w->in_proj_z,
                                     &w->in_proj_a, &w->in_proj_b, &w->out_proj, &w->q_proj, &w->k_proj,
                                     &w->v_proj, &w->o_proj };
        for (size_t j = 0; j < sizeof proj / sizeof proj[0]; j++) k.linear_macs += matvec_macs(proj[j]);
        if (c->is_full[i]) {
            k.kv_bytes_per_ctx += 2.0 * c->num_kv_heads * c->head_dim * sizeof(float);
            k.attn_macs_per_pair += 2.0 * c->num_heads * c->head_dim;
        } else {
            double S = (double)c->lin_num_v_heads * c->lin_k_dim * c->lin_v_dim;
            double conv = (double)q35_lin_conv_dim(c) * c->conv_kernel;
            k.state_bytes += (S + conv) * sizeof(float);
            k.lin_macs += 3.5 * S + conv;
        }
    }
    k.weight_bytes += tensor_bytes(&m->final_norm) + tensor_bytes(&m->lm_head);
    if (!m->lm_head_tied) k.weight_bytes += (double)c->hidden_size * q35_dtype_size(m->embed.dtype);
    k.head_macs = matvec_macs(&m->lm_head);
    return k;
}

/* Bytes one decode step reads on average over `gen` steps after `p0` prompt tokens (step i sees
 * p0 + i + 1 keys). */
static double decode_bytes(const bench_costs *k, int p0, int gen) {
    double ctx = p0 + (gen + 1) / 2.0;
    return k->weight_bytes + k->state_bytes + k->kv_bytes_per_ctx * ctx;
}

/* Floating-point operations (2 per multiply-add) of a T-token prefill from empty caches: token t
 * sees t + 1 keys, so the attention pairs sum to T (T + 1) / 2. */
static double prefill_flops(const bench_costs *k, int T) {
    double pairs = (double)T * (T + 1) / 2.0;
    return 2.0 * ((k->linear_macs + k->lin_macs) * T + k->attn_macs_per_pair * pairs + k->head_macs);
}

/* ---- helpers ---- */

/* splitmix64: the fixed-seed source of token ids and pixels. */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* n random ids in [0, vocab), avoiding the image and video tokens (they would want embeddings). */
static void random_ids(int *ids, int n, const q35_model *m, uint64_t *seed) {
    int V = m->cfg.text.vocab_size;
    for (int i = 0; i < n; i++) {
        int id;
        do id = (int)(rng_next(seed) % (uint64_t)V);
        while (V > 2 && m->cfg.vision.present && (id == m->cfg.image_token_id || id == m->cfg.video_token_id));
        ids[i] = id;
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct { double median, min, max; } spread;

/* Median (mean of the middle two for an even count), min and max of v[n] (sorted in place). */
static spread spread_of(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    spread s = { n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v[0], v[n - 1] };
    return s;
}

/* Peak resident set of this process so far, in bytes (ru_maxrss is in KiB on Linux). */
static double peak_rss_bytes(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_maxrss * 1024.0;
}

/* Bytes of the *.safetensors files in dir (the checkpoint on disk); 0 when none can be read. */
static double checkpoint_bytes(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    double total = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 12 || strcmp(e->d_name + n - 12, ".safetensors") != 0) continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) total += (double)st.st_size;
    }
    closedir(d);
    return total;
}

/* ---- the runs ---- */

typedef struct {
    int done;                /* the phase ran */
    spread tok_s;            /* tokens per second over the repeats */
    double seconds_median;   /* of one run */
    double sampler_s;        /* decode with the sampler: seconds inside it per token (median run) */
} phase_result;

/* One phase from empty caches, 1 warm-up + o->repeat timed runs: prefill of o->prompt random
 * tokens (decode 0), or o->gen tokens one at a time after a DECODE_PROMPT-token prompt: random ids
 * (decode 1), or each drawn from the last logits by the sampler with the "instruct" preset, as
 * q35 generate does (decode 2: what sampling costs). */
static int run_phase(phase_result *r, q35_text_state *s, const q35_ops *ops, const bench_opts *o, int decode,
                     float *logits, char *err, size_t errlen) {
    /* prefill: o->prompt ids at once, timed; decode: DECODE_PROMPT ids untimed, then o->gen one by one */
    int pre = decode ? DECODE_PROMPT : o->prompt, timed = decode ? o->gen : o->prompt, n = pre + (decode ? o->gen : 0);
    int *ids = malloc((size_t)n * sizeof *ids);
    double *tps = malloc((size_t)o->repeat * sizeof *tps), *secs = malloc((size_t)o->repeat * sizeof *secs);
    double *samp = calloc((size_t)o->repeat, sizeof *samp);
    q35_sampler *smp = NULL;
    int rc = -1;
    if (!ids || !tps || !secs || !samp) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    uint64_t seed = decode ? 0xDEC0DE : 0x5135A11CE;
    random_ids(ids, n, s->m, &seed);
    if (decode == 2 && !(smp = q35_sampler_new(&q35_preset_find("instruct")->s, s->m->cfg.text.vocab_size, err, errlen)))
        goto out;
    for (int k = -1; k < o->repeat; k++) {
        fprintf(stderr, "bench: %s %d tokens, %s %d/%d ...", decode == 2 ? "decode + sampler" : decode ? "decode" : "prefill", timed,
                k < 0 ? "warm-up" : "run", k < 0 ? 1 : k + 1, k < 0 ? 1 : o->repeat);
        fflush(stderr);
        q35_text_state_reset(s);
        double t0 = now_s();
        int bad = q35_text_forward(s, ops, ids, pre, NULL, logits, 1, NULL, err, errlen) != 0;
        if (decode) t0 = now_s();
        if (smp) q35_sampler_reset(smp);
        double in_sampler = 0;
        for (int i = 0; !bad && decode && i < o->gen; i++) {
            if (smp) { /* the next id from the logits, as generation draws it */
                double ts = now_s();
                ids[pre + i] = q35_sampler_sample(smp, logits);
                q35_sampler_accept(smp, ids[pre + i]);
                in_sampler += now_s() - ts;
            }
            bad = q35_text_forward(s, ops, ids + pre + i, 1, NULL, logits, 1, NULL, err, errlen) != 0;
        }
        if (bad) {
            fputc('\n', stderr);
            goto out;
        }
        double dt = now_s() - t0;
        fprintf(stderr, " %.3f s (%.2f tok/s)\n", dt, timed / dt);
        if (k >= 0) {
            secs[k] = dt;
            tps[k] = timed / dt;
            samp[k] = in_sampler / timed;
        }
    }
    r->done = 1;
    r->tok_s = spread_of(tps, o->repeat);
    r->seconds_median = spread_of(secs, o->repeat).median;
    r->sampler_s = spread_of(samp, o->repeat).median;
    rc = 0;
out:
    free(samp);
    q35_sampler_free(smp);
    free(ids);
    free(tps);
    free(secs);
    return rc;
}

typedef struct {
    int done;
    int grid[3];       /* t, h, w in patches */
    int patches, tokens;
    double seconds;
} vision_result;

/* One synthetic w x h image (random pixel values in [-1, 1], the grid the image processor gives
 * that size) through the vision tower, timed once. */
static int run_vision(vision_result *r, const q35_model *m, const q35_ops *ops, const bench_opts *o, char *err,
                      size_t errlen) {
    const q35_vision_config *v = &m->cfg.vision;
    q35_preproc_config pp;
    q35_preproc_defaults(&pp);
    if (q35_preproc_load(&pp, m->dir, err, errlen) != 0) return -1;
    pp.patch_size = v->patch_size;
    pp.temporal_patch_size = v->temporal_patch_size;
    pp.merge_size = v->spatial_merge_size;
    int grid[1][3];
    if (q35_preproc_grid(&pp, o->img_h, o->img_w, grid[0], err, errlen) != 0) return -1;
    size_t N = (size_t)grid[0][0] * grid[0][1] * grid[0][2];
    size_t row = (size_t)v->in_channels * v->temporal_patch_size * v->patch_size * v->patch_size;
    int tokens = q35_vision_tokens(v, (const int(*)[3])grid, 1);
    float *pix = malloc(N * row * sizeof *pix);
    float *out = malloc((size_t)tokens * v->out_hidden_size * sizeof *out);
    int rc = -1;
    if (!pix || !out) {
        snprintf(err, errlen, "out of memory for a %dx%d image (%zu patches)", o->img_w, o->img_h, N);
        goto done;
    }
    uint64_t seed = 0x1AA6E;
    for (size_t i = 0; i < N * row; i++) pix[i] = (float)((double)(rng_next(&seed) >> 11) * 0x1p-52 - 1.0);
    fprintf(stderr, "bench: vision %dx%d (grid %dx%dx%d, %zu patches) ...", o->img_w, o->img_h, grid[0][0],
            grid[0][1], grid[0][2], N);
    fflush(stderr);
    double t0 = now_s();
    if (q35_vision_forward(out, m, ops, pix, (const int(*)[3])grid, 1, NULL, err, errlen) != 0) {
        fputc('\n', stderr);
        goto done;
    }
    r->seconds = now_s() - t0;
    fprintf(stderr, " %.3f s\n", r->seconds);
    memcpy(r->grid, grid[0], sizeof r->grid);
    r->patches = (int)N;
    r->tokens = tokens;
    r->done = 1;
    rc = 0;
done:
    free(pix);
    free(out);
    return rc;
}

typedef struct {
    int done;
    double read_bw, fma, bf16; /* bytes/s, GFLOP/s, GFLOP/s (0: no BF16) */
    size_t read_bytes;         /* buffer of the read measurement */
    double seconds;
} limits_result;

/* The machine's limits with nt threads (fast/hwlimits.h). */
static int run_limits(limits_result *r, int nt, char *err, size_t errlen) {
    fprintf(stderr, "bench: measuring the machine with %d threads ...", nt);
    fflush(stderr);
    double t0 = now_s();
    r->read_bytes = limits_read_bytes(nt);
    r->read_bw = q35_measure_read_bw(nt, r->read_bytes);
    if (r->read_bw <= 0) {
        fputc('\n', stderr);
        snprintf(err, errlen, "out of memory for the read-bandwidth buffer (%zu bytes)", r->read_bytes);
        return -1;
    }
    r->fma = q35_measure_fma_peak(nt);
    r->bf16 = q35_measure_bf16_peak(nt);
    r->seconds = now_s() - t0;
    fprintf(stderr, " %.2f s\n", r->seconds);
    r->done = 1;
    return 0;
}

/* ---- the command ---- */

/* A JSON number, or null when x is not finite or not wanted (ok == 0). */
static void json_num(cJSON *o, const char *key, double x, int ok) {
    if (ok && x == x && x - x == 0) cJSON_AddNumberToObject(o, key, x);
    else cJSON_AddNullToObject(o, key);
}

int q35_cmd_bench(int argc, char **argv) {
    if (wants_help(argc, argv)) {
        fputs(usage_bench, stdout);
        return 0;
    }
    bench_opts o;
    int rc = parse_args(&o, argc, argv);
    if (rc) return rc;
    const q35_ops *ops = cli_backend("bench", o.backend);
    if (!ops) return 2;
    if (o.threads > 0) q35_set_threads(o.threads);
    int nt = q35_get_threads();

    char err[ERRLEN];
    q35_model m;
    fprintf(stderr, "bench: opening %s\n", o.model_dir);
    if (q35_model_open(&m, o.model_dir, err, sizeof err) != 0) {
        fprintf(stderr, "q35 bench: %s\n", err);
        return 1;
    }
    if (o.img_w && !m.cfg.vision.present)
        fprintf(stderr, "q35 bench: %s has no vision tower; --image is skipped\n", o.model_dir);

    q35_text_state s;
    float *logits = malloc((size_t)m.cfg.text.vocab_size * sizeof *logits);
    phase_result pp = { 0 }, tg = { 0 }, tgs = { 0 };
    vision_result vis = { 0 };
    limits_result lim = { 0 };
    double rss_text = 0, rss_vision = 0;
    rc = 1;
    if (!logits) {
        fprintf(stderr, "q35 bench: out of memory\n");
        q35_model_close(&m);
        return 1;
    }
    if (q35_text_state_init(&s, &m, err, sizeof err) != 0) {
        fprintf(stderr, "q35 bench: %s\n", err);
        free(logits);
        q35_model_close(&m);
        return 1;
    }
    if (o.prompt > 0 && run_phase(&pp, &s, ops, &o, 0, logits, err, sizeof err) != 0) goto fail;
    if (o.gen > 0 && run_phase(&tg, &s, ops, &o, 1, logits, err, sizeof err) != 0) goto fail;
    if (o.gen > 0 && o.sampler && run_phase(&tgs, &s, ops, &o, 2, logits, err, sizeof err) != 0) goto fail;
    rss_text = peak_rss_bytes(); /* before the vision tower and the limits' read buffer */
    if (o.img_w && m.cfg.vision.present) {
        if (run_vision(&vis, &m, ops, &o, err, sizeof err) != 0) goto fail;
        rss_vision = peak_rss_bytes();
    }
    if (o.limits && run_limits(&lim, nt, err, sizeof err) != 0) goto fail;

    /* the derived figures */
    bench_costs k = model_costs(&m);
    double dec_bytes = decode_bytes(&k, DECODE_PROMPT, o.gen);
    double dec_bw = tg.done ? dec_bytes * tg.tok_s.median : 0;
    double pp_flops = prefill_flops(&k, o.prompt);
    double pp_gflops = pp.done ? pp_flops / pp.seconds_median * 1e-9 : 0;
    const char *kernels = ops->kernels();
    /* the peak of the instructions the products run on: vdpbf16ps for fast-bf16 where the CPU has
     * it, else FP32 FMA (bf16 weights widened, activations kept f32) */
    int bf16dot = strcmp(kernels, "avx512-bf16dot") == 0;
    double peak = bf16dot ? lim.bf16 : lim.fma;
    double bw_frac = lim.done && tg.done ? dec_bw / lim.read_bw : 0;
    double peak_frac = lim.done && pp.done && peak > 0 ? pp_gflops / peak : 0;
    double ckpt = checkpoint_bytes(o.model_dir);
    char cpu[256];
    q35_cpu_name(cpu, sizeof cpu);

    if (o.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "model", o.model_dir);
        cJSON_AddStringToObject(j, "backend", ops->name);
        cJSON_AddStringToObject(j, "kernels", kernels);
        cJSON_AddNumberToObject(j, "threads", nt);
        cJSON_AddStringToObject(j, "cpu", cpu);
        cJSON_AddNumberToObject(j, "prompt_tokens", o.prompt);
        cJSON_AddNumberToObject(j, "gen_tokens", o.gen);
        cJSON_AddNumberToObject(j, "decode_prompt_tokens", DECODE_PROMPT);
        cJSON_AddNumberToObject(j, "repeat", o.repeat);
        json_num(j, "prefill_tok_s", pp.tok_s.median, pp.done);
        json_num(j, "prefill_tok_s_min", pp.tok_s.min, pp.done);
        json_num(j, "prefill_tok_s_max", pp.tok_s.max, pp.done);
        json_num(j, "prefill_gflop_s", pp_gflops, pp.done);
        json_num(j, "prefill_flop", pp_flops, pp.done);
        json_num(j, "decode_tok_s", tg.tok_s.median, tg.done);
        json_num(j, "decode_tok_s_min", tg.tok_s.min, tg.done);
        json_num(j, "decode_tok_s_max", tg.tok_s.max, tg.done);
        json_num(j, "decode_bytes_per_token", dec_bytes, tg.done);
        json_num(j, "decode_bw_bytes_s", dec_bw, tg.done);
        json_num(j, "decode_bw_fraction", bw_frac, lim.done && tg.done);
        json_num(j, "decode_sampled_tok_s", tgs.tok_s.median, tgs.done);
        json_num(j, "sampler_s_per_token", tgs.sampler_s, tgs.done);
        json_num(j, "sampler_fraction", tgs.done ? tgs.sampler_s * tgs.tok_s.median : 0, tgs.done);
        json_num(j, "prefill_peak_fraction", peak_frac, lim.done && pp.done && peak > 0);
        if (lim.done) {
            cJSON *l = cJSON_AddObjectToObject(j, "limits");
            cJSON_AddNumberToObject(l, "read_bw_bytes_s", lim.read_bw);
            cJSON_AddNumberToObject(l, "read_buffer_bytes", (double)lim.read_bytes);
            cJSON_AddNumberToObject(l, "fma_fp32_gflop_s", lim.fma);
            cJSON_AddNumberToObject(l, "bf16_dot_gflop_s", lim.bf16);
            cJSON_AddStringToObject(l, "prefill_peak_used", bf16dot ? "bf16_dot" : "fp32");
            cJSON_AddNumberToObject(l, "seconds", lim.seconds);
        } else {
            cJSON_AddNullToObject(j, "limits");
        }
        if (vis.done) {
            cJSON *v = cJSON_AddObjectToObject(j, "vision");
            char sz[64];
            snprintf(sz, sizeof sz, "%dx%d", o.img_w, o.img_h);
            cJSON_AddStringToObject(v, "image", sz);
            cJSON_AddItemToObject(v, "grid_thw", cJSON_CreateIntArray(vis.grid, 3));
            cJSON_AddNumberToObject(v, "patches", vis.patches);
            cJSON_AddNumberToObject(v, "tokens", vis.tokens);
            cJSON_AddNumberToObject(v, "seconds", vis.seconds);
            cJSON_AddNumberToObject(v, "peak_rss_bytes", rss_vision);
        } else {
            cJSON_AddNullToObject(j, "vision");
        }
        cJSON_AddNumberToObject(j, "peak_rss_bytes", rss_text);
        cJSON_AddNumberToObject(j, "checkpoint_bytes", ckpt);
        json_num(j, "rss_over_checkpoint", rss_text / ckpt, ckpt > 0);
        char *txt = cJSON_Print(j);
        if (txt) puts(txt);
        free(txt);
        cJSON_Delete(j);
    } else {
        printf("q35 bench %s\n", o.model_dir);
        printf("  backend %s, kernels %s, %d thread%s, %s\n", ops->name, kernels, nt, nt == 1 ? "" : "s", cpu);
        if (pp.done || tg.done) printf("  %-16s %12s %22s  %s\n", "", "median", "min .. max", "effective");
        if (pp.done) {
            char name[32], range[64];
            snprintf(name, sizeof name, "prefill pp%d", o.prompt);
            snprintf(range, sizeof range, "%.2f .. %.2f", pp.tok_s.min, pp.tok_s.max);
            printf("  %-16s %8.2f t/s %22s  %.2f GFLOP/s", name, pp.tok_s.median, range, pp_gflops);
            if (lim.done && peak > 0)
                printf(" = %.1f%% of the %s peak (%.1f GFLOP/s)", 100 * peak_frac, bf16dot ? "BF16 dot" : "FP32 FMA", peak);
            printf("\n");
        }
        if (tg.done) {
            char name[32], range[64];
            snprintf(name, sizeof name, "decode tg%d", o.gen);
            snprintf(range, sizeof range, "%.2f .. %.2f", tg.tok_s.min, tg.tok_s.max);
            printf("  %-16s %8.2f t/s %22s  %.2f GB/s (%.1f MB/token)", name, tg.tok_s.median, range, dec_bw * 1e-9,
                   dec_bytes * 1e-6);
            if (lim.done) printf(" = %.1f%% of read bandwidth (%.2f GB/s)", 100 * bw_frac, lim.read_bw * 1e-9);
            printf("\n");
        }
        if (tgs.done) {
            char range[64];
            snprintf(range, sizeof range, "%.2f .. %.2f", tgs.tok_s.min, tgs.tok_s.max);
            printf("  %-16s %8.2f t/s %22s  the sampler (preset instruct): %.3f ms/token = %.2f%% of a step\n",
                   "  + sampler", tgs.tok_s.median, range, tgs.sampler_s * 1e3, 100 * tgs.sampler_s * tgs.tok_s.median);
        }
        if (vis.done)
            printf("  vision %dx%d: %.3f s (grid %dx%dx%d, %d patches -> %d tokens)\n", o.img_w, o.img_h, vis.seconds,
                   vis.grid[0], vis.grid[1], vis.grid[2], vis.patches, vis.tokens);
        printf("  memory: peak RSS %.3f GB (text)", rss_text * 1e-9);
        if (vis.done) printf(", %.3f GB (with vision)", rss_vision * 1e-9);
        if (ckpt > 0) printf("; checkpoint %.3f GB on disk; RSS / checkpoint %.2f", ckpt * 1e-9, rss_text / ckpt);
        printf("\n");
        if (lim.done)
            printf("  limits (%d threads): read %.2f GB/s, FP32 FMA %.1f GFLOP/s, BF16 dot %.1f GFLOP/s%s\n", nt,
                   lim.read_bw * 1e-9, lim.fma, lim.bf16, lim.bf16 > 0 ? "" : " (no AVX512_BF16)");
    }
    rc = 0;
fail:
    if (rc) fprintf(stderr, "q35 bench: %s\n", err);
    q35_text_state_free(&s);
    free(logits);
    q35_model_close(&m);
    return rc;
}
