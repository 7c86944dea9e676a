/* main.c - the q35 command line. Only this layer prints and exits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>
#include <unistd.h>

#include "mkmodel.h"
#include "ops.h"
#include "q35.h"
#include "chat.h"
#include "video.h"
#include "tokenizer.h"
#include "util.h"
#include "logits.h"
#include "policy.h"

#include <cJSON.h>
#include <utf8proc.h>

#define ERRLEN 2048

static const char *usage_main =
    "q35 - reference implementation and golden-tensor harness for Qwen3.5\n"
    "\n"
    "usage: q35 <command> [options]   (q35 <command> --help for details)\n"
    "\n"
    "commands:\n"
    "  info DIR                       what a checkpoint holds: config, tensors, dtypes, sizes\n"
    "  forward DIR --ids A,B,C ...    run tokens (and --image files) through the model; print the top\n"
    "                                 next tokens;\n"
    "                                 --dump FILE writes every intermediate tensor\n"
    "  verify GOLDEN_DIR              run a golden set's phases and compare every tensor\n"
    "                                 (--teacher-force: each layer on its golden input; --report F.md)\n"
    "  compare A B                    compare two dumps (safetensors or .npy directories, another\n"
    "                                 implementation's names through --names MAP.yaml) tensor by\n"
    "                                 tensor; the first divergence; --json / --markdown reports\n"
    "  preprocess IMAGE... --out F    pixel_values + image_grid_thw as Hugging Face's processor makes them\n"
    "  mkmodel --preset P --out DIR   write a random-weight checkpoint of a real size\n"
    "  tokenize DIR TEXT              token ids as Hugging Face's tokenizer gives them (--jsonl for batches)\n"
    "  detokenize DIR ID...           text of token ids\n"
    "  chat-format DIR --messages F   the prompt text and ids of a conversation (chat template,\n"
    "                                 --image files, --video frame directories)\n"
    "  --version                      version and the Unicode tables in use\n";

static int die(const char *msg) {
    fprintf(stderr, "q35: %s\n", msg);
    return 1;
}

static int wants_help(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    return 0;
}

static const q35_ops *backend(const char *name) {
    if (strcmp(name, "ref") == 0) return &q35_ops_ref;
    return NULL;
}

/* Parses "5,17,300" into a new array; -1 on a malformed list. */
static int parse_ids(const char *s, int **out, int *n) {
    int cap = 16, k = 0;
    int *v = malloc((size_t)cap * sizeof *v);
    if (!v) return -1;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || x < 0 || x > 2147483647L || (*end && *end != ',')) {
            free(v);
            return -1;
        }
        if (k == cap) {
            int *w = realloc(v, (size_t)(cap *= 2) * sizeof *v);
            if (!w) { free(v); return -1; }
            v = w;
        }
        v[k++] = (int)x;
        p = *end ? end + 1 : end;
    }
    if (k == 0) { free(v); return -1; }
    *out = v;
    *n = k;
    return 0;
}

/* ---- info ---- */

static const char *usage_info =
    "usage: q35 info DIR\n"
    "\n"
    "Reads DIR/config.json and the checkpoint (model.safetensors, or the shards listed in\n"
    "model.safetensors.index.json), binds every language-model tensor with its shape checked\n"
    "against the config, and prints the configuration, tensor counts by dtype and size.\n"
    "Weights are read through the mmap: nothing is copied.\n";

static int cmd_info(int argc, char **argv) {
    if (wants_help(argc, argv) || argc != 1) {
        fputs(usage_info, argc == 1 ? stdout : stderr);
        return argc == 1 ? 0 : 2;
    }
    char err[ERRLEN];
    q35_model m;
    if (q35_model_open(&m, argv[0], err, sizeof err) != 0) return die(err);
    const q35_config *c = &m.cfg;
    const q35_text_config *t = &c->text;
    if (m.warnings) fprintf(stderr, "q35: warning: %s\n", m.warnings);
    printf("checkpoint       %s (%d file%s, %.1f MiB)\n", argv[0], m.st.nfiles, m.st.nfiles > 1 ? "s" : "",
           (double)m.weight_bytes / (1024.0 * 1024.0));
    printf("architecture     %s (model_type %s)\n", c->architecture[0] ? c->architecture : "?", c->model_type);
    int nfull = 0;
    for (int i = 0; i < t->num_layers; i++) nfull += t->is_full[i];
    printf("text             %d layers (%d Gated DeltaNet, %d full attention), hidden %d, intermediate %d, vocab %d\n",
           t->num_layers, t->num_layers - nfull, nfull, t->hidden_size, t->intermediate_size, t->vocab_size);
    printf("layer types      ");
    for (int i = 0; i < t->num_layers; i++) putchar(t->is_full[i] ? 'F' : 'L');
    printf("  (L = linear_attention, F = full_attention)\n");
    printf("full attention   %d heads, %d kv heads, head_dim %d, rotary %d (theta %g, mrope %d/%d/%d%s)\n",
           t->num_heads, t->num_kv_heads, t->head_dim, t->rotary_dim, t->rope_theta, t->mrope_section[0],
           t->mrope_section[1], t->mrope_section[2], t->mrope_interleaved ? ", interleaved" : "");
    printf("Gated DeltaNet   %d key heads x %d, %d value heads x %d, conv kernel %d\n", t->lin_num_k_heads,
           t->lin_k_dim, t->lin_num_v_heads, t->lin_v_dim, t->conv_kernel);
    printf("lm head          %s\n", m.lm_head_tied ? "tied to embed_tokens" : "lm_head.weight");
    if (c->vision.present)
        printf("vision           depth %d, hidden %d, %d heads, intermediate %d, patch %d, out %d (%d tensors)\n",
               c->vision.depth, c->vision.hidden_size, c->vision.num_heads, c->vision.intermediate_size,
               c->vision.patch_size, c->vision.out_hidden_size, m.n_visual);
    else
        printf("vision           none\n");
    if (m.n_mtp) printf("mtp              %d tensors (multi-token prediction head, not used)\n", m.n_mtp);
    int count[4] = {0};
    size_t bytes[4] = {0};
    int64_t params = 0;
    for (int i = 0; i < m.st.n; i++) {
        count[m.st.entries[i].t.dtype]++;
        bytes[m.st.entries[i].t.dtype] += m.st.entries[i].nbytes;
        params += q35_numel(&m.st.entries[i].t);
    }
    printf("tensors          %d (%.3f B parameters):", m.st.n, (double)params / 1e9);
    for (int d = 0; d < 4; d++)
        if (count[d]) printf(" %s %d (%.1f MiB)", q35_dtype_name((q35_dtype)d), count[d], (double)bytes[d] / 1048576.0);
    printf("\n");
    q35_model_close(&m);
    return 0;
}

/* ---- forward ---- */

static const char *usage_forward =
    "usage: q35 forward DIR --ids A,B,C | --prompt TEXT [options]\n"
    "\n"
    "Runs the token ids through the model on empty caches (prefill), then each --decode-ids token\n"
    "one at a time on the caches, and prints the top next tokens after each step.\n"
    "\n"
    "  --ids A,B,C          prompt token ids\n"
    "  --prompt TEXT        or a text prompt, through the model's tokenizer.json (no chat template:\n"
    "                       see chat-format for that)\n"
    "  --tokenizer FILE     the tokenizer.json for --prompt (default: DIR's)\n"
    "  --image FILE         a PNG or JPEG for the prompt's next image (repeat, in prompt order);\n"
    "                       the ids hold, per image, either its whole run of <|image_pad|> tokens\n"
    "                       or a single <|image_pad|> that forward expands to the image's size\n"
    "  --no-exif            do not apply EXIF orientation to --image files\n"
    "  --decode-ids D,E     tokens to feed one by one after the prompt (phases decode0, decode1, ...)\n"
    "  --dump FILE          write every intermediate tensor (float32, golden names with phase\n"
    "                       prefixes prefill., decode0., ...; caches as prefill.cache.*;\n"
    "                       preprocessing as preproc.*) to FILE (safetensors)\n"
    "  --only REGEX         with --dump: keep only names matching this POSIX extended regex\n"
    "  --logits topk:K      with --dump: store each logits row compactly (K <= 64): NAME.topk_ids,\n"
    "                       NAME.topk_logprobs (the K largest log-probabilities, decreasing) and\n"
    "                       NAME.lse (log-sum-exp); 12*K bytes a position instead of 4*vocab.\n"
    "                       q35 compare reads them against full or compact logits (top-k agreement,\n"
    "                       KL over the K kept ids + the rest). Default: full\n"
    "  --backend ref        op implementation (ref: the FP32 scalar reference)\n"
    "  --top K              how many next tokens to print per step (default 5)\n";

static void print_top(const char *phase, const float *logits, int V, int k) {
    printf("%-9s top:", phase);
    /* selection of the k largest, k is small */
    int *sel = malloc((size_t)k * sizeof *sel);
    if (!sel) return;
    int ns = 0;
    for (int j = 0; j < k && j < V; j++) {
        int best = -1;
        for (int i = 0; i < V; i++) {
            int used = 0;
            for (int u = 0; u < ns; u++) used |= sel[u] == i;
            if (!used && (best < 0 || logits[i] > logits[best])) best = i;
        }
        sel[ns++] = best;
        printf(" %d (%.4f)", best, logits[best]);
    }
    printf("\n");
    free(sel);
}

/* forward's hook: progress on a terminal (a layer of the reference on a real size takes seconds),
 * and, with --dump, the store; with --logits topk:K logits are stored in compact form. */
typedef struct {
    q35_trace_store *st;    /* NULL: no dump */
    int k;                  /* compact logits width, 0: full */
    int progress, layers, blocks;
} forward_hook;

static void store_logits_topk(forward_hook *h, const char *name, const q35_tensor *t) {
    int V = (int)t->shape[t->ndim - 1], rows = (int)(q35_numel(t) / V), k = h->k < V ? h->k : V;
    int64_t *ids = malloc((size_t)rows * k * sizeof *ids);
    float *lp = malloc((size_t)rows * k * sizeof *lp), *lse = malloc((size_t)rows * sizeof *lse);
    if (!ids || !lp || !lse) {
        h->st->oom = 1;
    } else {
        char n2[300];
        q35_logits_topk(ids, lp, lse, t->data, rows, V, k);
        q35_tensor ti = *t, tl = *t, te = *t;
        ti.dtype = Q35_I64, ti.shape[t->ndim - 1] = k, ti.data = ids;
        tl.shape[t->ndim - 1] = k, tl.data = lp;
        te.ndim = t->ndim - 1, te.data = lse;
        snprintf(n2, sizeof n2, "%s.topk_ids", name), q35_trace_store_hook(h->st, n2, &ti);
        snprintf(n2, sizeof n2, "%s.topk_logprobs", name), q35_trace_store_hook(h->st, n2, &tl);
        snprintf(n2, sizeof n2, "%s.lse", name), q35_trace_store_hook(h->st, n2, &te);
    }
    free(ids), free(lp), free(lse);
}

static void forward_hook_fn(void *ctx, const char *name, const q35_tensor *t) {
    forward_hook *h = ctx;
    if (h->progress && q35_ends_with(name, ".output")) {
        const char *l = strstr(name, "text.layers."), *b = strstr(name, "vision.blocks.");
        if (l) fprintf(stderr, "\r%.*s layer %d/%d ", (int)(strchr(name, '.') - name), name, atoi(l + 12) + 1, h->layers);
        else if (b) fprintf(stderr, "\r%.*s vision block %d/%d ", (int)(strchr(name, '.') - name), name, atoi(b + 14) + 1, h->blocks);
        if (l && atoi(l + 12) + 1 == h->layers) fprintf(stderr, "\r%40s\r", "");
    }
    if (!h->st) return;
    if (h->k && q35_ends_with(name, "logits") && t->dtype == Q35_F32 && t->ndim >= 1)
        store_logits_topk(h, name, t);
    else
        q35_trace_store_hook(h->st, name, t);
}

static int cmd_forward(int argc, char **argv) {
    if (wants_help(argc, argv) || argc < 1) {
        fputs(usage_forward, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    const char *dir = argv[0], *ids_s = NULL, *dec_s = NULL, *dump = NULL, *only = NULL, *bk = "ref";
    const char *prompt = NULL, *tokf = NULL, *logits_s = NULL;
    int topk = 5, exif = 1, nimg = 0, logit_k = 0;
    char **images = calloc((size_t)argc, sizeof *images);
    if (!images) return die("out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--no-exif") == 0) { exif = 0; continue; }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "q35 forward: %s needs a value\n", a); free(images); return 2; }
        if (strcmp(a, "--ids") == 0) ids_s = v;
        else if (strcmp(a, "--prompt") == 0) prompt = v;
        else if (strcmp(a, "--tokenizer") == 0) tokf = v;
        else if (strcmp(a, "--decode-ids") == 0) dec_s = v;
        else if (strcmp(a, "--image") == 0) images[nimg++] = (char *)v;
        else if (strcmp(a, "--dump") == 0) dump = v;
        else if (strcmp(a, "--only") == 0) only = v;
        else if (strcmp(a, "--logits") == 0) logits_s = v;
        else if (strcmp(a, "--backend") == 0) bk = v;
        else if (strcmp(a, "--top") == 0) topk = atoi(v);
        else { fprintf(stderr, "q35 forward: unknown option %s\n%s", a, usage_forward); free(images); return 2; }
        i++;
    }
    if (!ids_s == !prompt) { fprintf(stderr, "q35 forward: give --ids or --prompt\n%s", usage_forward); free(images); return 2; }
    if (topk < 1) topk = 1;
    if (logits_s && strcmp(logits_s, "full") != 0) {
        char *end;
        long k = strncmp(logits_s, "topk:", 5) == 0 ? strtol(logits_s + 5, &end, 10) : 0;
        if (k < 1 || k > 64 || *end) {
            fprintf(stderr, "q35 forward: --logits wants full or topk:K with K in 1..64, not '%s'\n", logits_s);
            free(images);
            return 2;
        }
        logit_k = (int)k;
    }
    const q35_ops *ops = backend(bk);
    if (!ops) { fprintf(stderr, "q35 forward: unknown backend '%s' (have: ref)\n", bk); free(images); return 2; }
    int *ids = NULL, n = 0, *dec = NULL, nd = 0;
    if (prompt) {
        char terr[ERRLEN];
        q35_tokenizer *tk = q35_tokenizer_load(tokf ? tokf : dir, terr, sizeof terr);
        int trc = tk ? q35_tokenize(tk, prompt, strlen(prompt), &ids, &n, terr, sizeof terr) : -1;
        q35_tokenizer_free(tk);
        if (trc != 0 || n == 0) {
            fprintf(stderr, "q35: %s\n", trc != 0 ? terr : "the prompt has no tokens");
            free(ids);
            free(images);
            return 1;
        }
        printf("prompt: %d tokens\n", n);
    } else if (parse_ids(ids_s, &ids, &n) != 0) {
        fprintf(stderr, "q35 forward: bad --ids '%s' (want e.g. 5,17,300)\n", ids_s);
        free(images);
        return 2;
    }
    if (dec_s && parse_ids(dec_s, &dec, &nd) != 0) {
        free(ids);
        free(images);
        fprintf(stderr, "q35 forward: bad --decode-ids '%s'\n", dec_s);
        return 2;
    }
    char err[ERRLEN];
    int rc = 1;
    q35_model m;
    q35_text_state s = {0};
    q35_trace_store st;
    q35_image_batch pi = {0};
    float *logits = NULL;
    if (q35_trace_store_init(&st, only, err, sizeof err) != 0) { free(ids); free(dec); free(images); return die(err); }
    if (q35_model_open(&m, dir, err, sizeof err) != 0) {
        q35_trace_store_free(&st);
        free(ids), free(dec), free(images);
        return die(err);
    }
    if (m.warnings) fprintf(stderr, "q35: warning: %s\n", m.warnings);
    int V = m.cfg.text.vocab_size;
    forward_hook fh = { .st = dump ? &st : NULL, .k = logit_k, .progress = isatty(2), .layers = m.cfg.text.num_layers,
                        .blocks = m.cfg.vision.depth };
    q35_trace tr = { .on_tensor = (dump || fh.progress) ? forward_hook_fn : NULL, .ctx = &fh };
    if (q35_text_state_init(&s, &m, err, sizeof err) != 0) goto out;
    if (nimg) {
        if (!m.cfg.vision.present) { snprintf(err, sizeof err, "%s: --image given, but the model has no vision tower", dir); goto out; }
        q35_preproc_config pc;
        if (q35_preproc_load(&pc, m.dir, err, sizeof err) != 0) goto out;
        if (q35_image_batch_load(&pi, &pc, (const char *const *)images, nimg, exif, NULL, NULL, err, sizeof err) != 0) goto out;
        snprintf(tr.prefix, sizeof tr.prefix, "preproc.");
        int *full = NULL, nfull = 0;
        int *counts = calloc((size_t)pi.n, sizeof *counts);
        if (!counts) { snprintf(err, sizeof err, "out of memory"); goto out; }
        int rows = q35_vision_token_counts(counts, &m.cfg.vision, &pi);
        int xrc = q35_expand_image_tokens(&full, &nfull, ids, n, m.cfg.image_token_id, counts, pi.n, err, sizeof err);
        free(counts);
        if (xrc != 0) goto out;
        free(ids);
        ids = full, n = nfull;
        printf("images: %d, %d image tokens; prompt of %d tokens\n", pi.n, rows, n);
        if (q35_vision_trace_inputs(&tr, &m, &pi, ids, n, err, sizeof err) != 0) goto out; /* preproc.* */
    } else if (m.cfg.vision.present) {
        for (int i = 0; i < n; i++)
            if (ids[i] == m.cfg.image_token_id) {
                snprintf(err, sizeof err, "the ids hold <|image_pad|> (%d) but no --image was given", m.cfg.image_token_id);
                goto out;
            }
    }
    /* with --dump every row's logits are kept (the golden layout); else only the last */
    int rows = dump ? n : 1;
    logits = malloc((size_t)rows * V * sizeof(float));
    if (!logits) { snprintf(err, sizeof err, "out of memory for logits"); goto out; }
    snprintf(tr.prefix, sizeof tr.prefix, "prefill.");
    q35_trace_ids(&tr, ids, n);
    if ((nimg ? q35_prefill_with_images(&s, ops, &pi, ids, n, logits, rows, &tr, err, sizeof err)
              : q35_text_forward(&s, ops, ids, n, NULL, logits, rows, &tr, err, sizeof err)) != 0)
        goto out;
    q35_text_trace_cache(&s, &tr);
    print_top("prefill", logits + (size_t)(rows - 1) * V, V, topk);
    for (int d = 0; d < nd; d++) {
        snprintf(tr.prefix, sizeof tr.prefix, "decode%d.", d);
        q35_trace_ids(&tr, &dec[d], 1);
        if (q35_text_forward(&s, ops, &dec[d], 1, NULL, logits, 1, &tr, err, sizeof err) != 0) goto out;
        char ph[32];
        snprintf(ph, sizeof ph, "decode%d", d);
        print_top(ph, logits, V, topk);
    }
    if (dump) {
        if (st.oom) { snprintf(err, sizeof err, "out of memory keeping the traced tensors"); goto out; }
        if (q35_trace_store_save(&st, dump, err, sizeof err) != 0) goto out;
        printf("wrote %d tensors to %s\n", st.n, dump);
    }
    rc = 0;
out:
    if (rc) fprintf(stderr, "q35: %s\n", err);
    free(logits);
    q35_image_batch_free(&pi);
    q35_text_state_free(&s);
    q35_model_close(&m);
    q35_trace_store_free(&st);
    free(ids);
    free(dec);
    free(images);
    return rc;
}

/* ---- preprocess ---- */

static const char *usage_preprocess =
    "usage: q35 preprocess IMAGE... --out FILE [--model DIR] [--no-exif]\n"
    "\n"
    "Decodes PNG/JPEG images and preprocesses them exactly as Hugging Face's Qwen2-VL image\n"
    "processor does (smart_resize, Pillow's bicubic, rescale and normalise in float32, 2 frames,\n"
    "2x2 merge-block patch order). Writes FILE (safetensors) with pixel_values [N, 1536] (F32) and\n"
    "image_grid_thw [images, 3] (I64), the images' rows concatenated in the order given.\n"
    "\n"
    "  --model DIR   read DIR/preprocessor_config.json (else the released settings: patch 16,\n"
    "                merge 2, 65536..16777216 pixels, mean = std = 0.5)\n"
    "  --no-exif     do not apply EXIF orientation\n";

static void print_image(void *ctx, const char *file, const q35_image *im, const int g[3]) {
    const q35_preproc_config *pc = ctx;
    printf("%s: %dx%d -> %dx%d, grid (%d, %d, %d), %d image tokens\n", file, im->w, im->h, g[2] * pc->patch_size,
           g[1] * pc->patch_size, g[0], g[1], g[2], g[0] * g[1] * g[2] / (pc->merge_size * pc->merge_size));
}

static int cmd_preprocess(int argc, char **argv) {
    if (wants_help(argc, argv) || argc < 1) {
        fputs(usage_preprocess, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    const char *out = NULL, *model = NULL;
    int exif = 1, n = 0;
    char **files = calloc((size_t)argc, sizeof *files);
    if (!files) return die("out of memory");
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--no-exif") == 0) exif = 0;
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out = argv[++i];
        else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) model = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "q35 preprocess: unknown option %s\n%s", argv[i], usage_preprocess);
            free(files);
            return 2;
        } else files[n++] = argv[i];
    }
    if (!out || n == 0) {
        fprintf(stderr, "q35 preprocess: give images and --out\n%s", usage_preprocess);
        free(files);
        return 2;
    }
    char err[ERRLEN];
    q35_preproc_config pc;
    if (model ? q35_preproc_load(&pc, model, err, sizeof err) != 0 : (q35_preproc_defaults(&pc), 0)) {
        free(files);
        return die(err);
    }
    int rc = 1;
    q35_image_batch b;
    int64_t *grid = NULL;
    if (q35_image_batch_load(&b, &pc, (const char *const *)files, n, exif, print_image, &pc, err, sizeof err) != 0) goto out;
    grid = malloc((size_t)n * 3 * sizeof *grid);
    if (!grid) { snprintf(err, sizeof err, "out of memory"); goto out; }
    for (int k = 0; k < n * 3; k++) grid[k] = b.grids[k / 3][k % 3];
    const char *names[2] = { "pixel_values", "image_grid_thw" };
    q35_tensor ts[2] = { { .dtype = Q35_F32, .ndim = 2, .shape = { b.npatch, b.row }, .data = b.pixels },
                         { .dtype = Q35_I64, .ndim = 2, .shape = { n, 3 }, .data = grid } };
    if (q35_st_save(out, names, ts, 2, err, sizeof err) != 0) goto out;
    printf("wrote pixel_values [%d, %d] and image_grid_thw [%d, 3] to %s\n", b.npatch, b.row, n, out);
    rc = 0;
out:
    if (rc) fprintf(stderr, "q35: %s\n", err);
    q35_image_batch_free(&b);
    free(grid);
    free(files);
    return rc;
}

/* ---- verify / compare: shared report options ---- */

typedef struct {
    const char *policy, *json, *markdown, *color;
    double tol, tol_logits, min_cos;
    int failures_only;
} report_opts;

/* Takes a report option at argv[*i] (advancing past its value); 1 when taken, 0 when not one,
 * -1 when its value is missing. */
static int report_option(report_opts *r, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    if (strcmp(a, "--failures-only") == 0) { r->failures_only = 1; return 1; }
    const char **sv = !strcmp(a, "--policy") ? &r->policy : !strcmp(a, "--json") ? &r->json
                    : !strcmp(a, "--markdown") || !strcmp(a, "--report") ? &r->markdown : !strcmp(a, "--color") ? &r->color : NULL;
    double *dv = !strcmp(a, "--tol") ? &r->tol : !strcmp(a, "--tol-logits") ? &r->tol_logits : !strcmp(a, "--min-cos") ? &r->min_cos : NULL;
    if (!sv && !dv) return 0;
    if (*i + 1 >= argc) return -1;
    const char *v = argv[++*i];
    if (sv) *sv = v;
    else *dv = atof(v);
    return 1;
}

/* Prints rep and writes the files asked for; returns -1 with err when a file cannot be written. */
static int report_out(const report_opts *r, const q35_report *rep, char *err, size_t errlen) {
    int color = r->color && !strcmp(r->color, "always") ? 1 : r->color && !strcmp(r->color, "never") ? 0 : isatty(1);
    q35_report_print(rep, stdout, color, r->failures_only);
    if (r->json && q35_report_write_json(rep, r->json, err, errlen) != 0) return -1;
    if (r->markdown && q35_report_write_markdown(rep, r->markdown, err, errlen) != 0) return -1;
    if (r->json) printf("wrote %s\n", r->json);
    if (r->markdown) printf("wrote %s\n", r->markdown);
    return 0;
}

static int load_policy(q35_policy *p, const report_opts *r, char *err, size_t errlen) {
    if (q35_policy_default(p, r->tol, r->tol_logits, r->min_cos, err, errlen) != 0) return -1;
    if (r->policy && q35_policy_load(p, r->policy, err, errlen) != 0) {
        q35_policy_free(p);
        return -1;
    }
    return 0;
}

#define REPORT_USAGE \
    "  --policy FILE    tolerance policy (YAML, format q35-tolerances/1; README): its rules come\n" \
    "                   before the defaults; each row names the rule that judged it\n" \
    "  --tol X          default float32 bar: max_rel <= X (2e-4)\n" \
    "  --tol-logits X   default logits bar: max_rel <= X (1e-4)\n" \
    "  --min-cos X      default cosine bar (0.99999)\n" \
    "  --json FILE      the whole report as JSON (schema q35-report/1, README)\n" \
    "  --markdown FILE  a Markdown conformance report with provenance and a verdict (also --report)\n" \
    "  --failures-only  print only rows that do not pass\n" \
    "  --color WHEN     auto (default: on a terminal), always, never\n"

/* ---- verify ---- */

static const char *usage_verify =
    "usage: q35 verify GOLDEN_DIR [--model DIR] [--backend ref] [--teacher-force] [report options]\n"
    "\n"
    "Reads GOLDEN_DIR/manifest.json and golden.safetensors, runs every phase the set holds\n"
    "(prefill with its caches, decode0.. with our own greedy tokens, full, long, bf16w) and\n"
    "compares every golden tensor: the verdict and the first divergence first, then one row per\n"
    "tensor in execution order with max_abs, max_rel = max|ours - golden| / max(1, max|golden|),\n"
    "cosine, rmse and the tolerance rule that judged it; logits add top-k agreement and KL.\n"
    "\n"
    "  --model DIR      the model to check (default: the set's checkpoint_f32, else checkpoint_bf16);\n"
    "                   the bf16w phase always uses the set's checkpoint_bf16\n"
    "  --teacher-force  feed every decoder layer, the final norm, every vision block and the merger\n"
    "                   the golden value of its input: each row then shows the error that layer\n"
    "                   adds by itself, not the error carried in from earlier layers\n"
    REPORT_USAGE
    "With --json or --markdown the model's files are hashed (SHA-256) for the provenance.\n"
    "\n"
    "exit status: 0 every golden produced and within the bars; 1 a tensor failed, was not\n"
    "produced, or needs parts not implemented yet (verdict INCOMPLETE: counted as 'unsupported',\n"
    "never as passed); 2 usage error, or the set or model could not be read.\n";

static int cmd_verify(int argc, char **argv) {
    if (wants_help(argc, argv) || argc < 1) {
        fputs(usage_verify, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    q35_verify_opts o;
    q35_verify_defaults(&o);
    o.golden_dir = argv[0];
    report_opts ro = { .tol = 2e-4, .tol_logits = 1e-4, .min_cos = 0.99999 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--teacher-force") == 0) { o.teacher_force = 1; continue; }
        int t = report_option(&ro, argc, argv, &i);
        if (t == 1) continue;
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (t < 0 || !v) { fprintf(stderr, "q35 verify: %s needs a value\n", a); return 2; }
        if (strcmp(a, "--model") == 0) o.model_dir = v;
        else if (strcmp(a, "--backend") == 0) {
            if (!(o.ops = backend(v))) { fprintf(stderr, "q35 verify: unknown backend '%s' (have: ref)\n", v); return 2; }
        } else { fprintf(stderr, "q35 verify: unknown option %s\n%s", a, usage_verify); return 2; }
    }
    char err[ERRLEN];
    q35_policy pol;
    if (load_policy(&pol, &ro, err, sizeof err) != 0) { fprintf(stderr, "q35: %s\n", err); return 2; }
    o.policy = &pol;
    o.hash_model = ro.json || ro.markdown;
    o.progress = stderr;
    q35_report rep;
    q35_report_init(&rep, "verify");
    int rc = q35_verify(&o, &rep, err, sizeof err);
    if (rc >= 0 && report_out(&ro, &rep, err, sizeof err) != 0) rc = -1;
    if (rc < 0) fprintf(stderr, "q35: %s\n", err);
    q35_report_free(&rep);
    q35_policy_free(&pol);
    return rc < 0 ? 2 : rc;
}

/* ---- mkmodel ---- */

static const char *usage_mkmodel =
    "usage: q35 mkmodel --preset 0.8b|2b|4b|tiny --out DIR [--seed N] [--dtype bf16|f32]\n"
    "\n"
    "Writes a complete Hugging Face-style checkpoint with random weights: config.json with the\n"
    "real values of the size, generation_config.json, preprocessor_config.json, and every text,\n"
    "vision and mtp tensor under the released names, shapes and dtypes (bf16; A_log and\n"
    "linear_attn.norm.weight f32), sharded with model.safetensors.index.json above 2 GB.\n"
    "Same preset, seed and dtype: the same bytes. 'tiny' keeps the real vocabulary and layer\n"
    "pattern at a few MB, for end-to-end tests. Sizes: 0.8b 1.7 GB, 2b 4.5 GB, 4b 9.3 GB (bf16).\n"
    "\n"
    "  --seed N       generator seed (default 1)\n"
    "  --dtype f32    every tensor float32 (twice the size)\n";

static void progress(void *ctx, uint64_t done, uint64_t total) {
    time_t *last = ctx, now = time(NULL);
    if (done < total && now == *last) return;
    *last = now;
    int tty = isatty(2);
    if (!tty && done < total) return; /* a log gets one line */
    fprintf(stderr, "%sq35 mkmodel: %.0f / %.0f MB written", tty ? "\r" : "", (double)done / 1e6, (double)total / 1e6);
    if (done == total) fputc('\n', stderr);
}

static int cmd_mkmodel(int argc, char **argv) {
    if (wants_help(argc, argv)) {
        fputs(usage_mkmodel, stdout);
        return 0;
    }
    const char *preset = NULL, *out = NULL, *dtype = "bf16";
    unsigned long long seed = 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "q35 mkmodel: %s needs a value\n%s", a, usage_mkmodel); return 2; }
        if (strcmp(a, "--preset") == 0) preset = v;
        else if (strcmp(a, "--out") == 0) out = v;
        else if (strcmp(a, "--dtype") == 0) dtype = v;
        else if (strcmp(a, "--seed") == 0) {
            char *end;
            seed = strtoull(v, &end, 10);
            if (*end || end == v) { fprintf(stderr, "q35 mkmodel: bad --seed '%s'\n", v); return 2; }
        } else { fprintf(stderr, "q35 mkmodel: unknown option %s\n%s", a, usage_mkmodel); return 2; }
        i++;
    }
    if (!preset || !out) { fprintf(stderr, "q35 mkmodel: --preset and --out are required\n%s", usage_mkmodel); return 2; }
    if (strcmp(dtype, "bf16") != 0 && strcmp(dtype, "f32") != 0) {
        fprintf(stderr, "q35 mkmodel: --dtype must be bf16 or f32, not '%s'\n", dtype);
        return 2;
    }
    char err[ERRLEN];
    q35_config c;
    if (q35_preset_config(&c, preset, err, sizeof err) != 0) return die(err);
    time_t last = 0;
    q35_mkmodel_opts o = { .out_dir = out, .seed = seed, .f32 = strcmp(dtype, "f32") == 0,
                           .progress = progress, .progress_ctx = &last };
    if (q35_mkmodel(&c, &o, err, sizeof err) != 0) return die(err);
    printf("wrote %s checkpoint (seed %llu, %s) to %s\n", preset, seed, dtype, out);
    return 0;
}

/* ---- tokenize / detokenize ---- */

static const char *usage_tokenize =
    "usage: q35 tokenize MODEL_DIR|tokenizer.json TEXT [--json]\n"
    "       q35 tokenize MODEL_DIR|tokenizer.json --jsonl IN.jsonl\n"
    "\n"
    "Encodes TEXT with the checkpoint's tokenizer.json (byte-level BPE exactly as Hugging Face's\n"
    "tokenizers library: NFC, the Qwen pre-tokenizer, added tokens matched first; no BOS/EOS).\n"
    "Prints one id per line, or a JSON list with --json. With --jsonl, reads {\"text\": ...} per\n"
    "line and writes {\"ids\": [...], \"decoded\": ...} per line to stdout.\n";

static const char *usage_detokenize =
    "usage: q35 detokenize MODEL_DIR|tokenizer.json ID... [--skip-special]\n"
    "\n"
    "Decodes token ids to text (invalid UTF-8 byte runs become U+FFFD, as Hugging Face's decoder).\n";

static int cmd_tokenize(int argc, char **argv) {
    if (wants_help(argc, argv) || argc < 2) {
        fputs(usage_tokenize, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    int json = 0;
    const char *text = NULL, *jsonl = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--jsonl") == 0 && i + 1 < argc) jsonl = argv[++i];
        else if (!text) text = argv[i];
        else { fprintf(stderr, "q35 tokenize: unexpected argument %s\n%s", argv[i], usage_tokenize); return 2; }
    }
    char err[ERRLEN];
    q35_tokenizer *t = q35_tokenizer_load(argv[0], err, sizeof err);
    if (!t) return die(err);
    int rc = 0, *ids, n;
    if (!jsonl) {
        if (!text || q35_tokenize(t, text, strlen(text), &ids, &n, err, sizeof err) != 0) {
            if (!text) snprintf(err, sizeof err, "give TEXT or --jsonl FILE");
            q35_tokenizer_free(t);
            return die(err);
        }
        if (json) putchar('[');
        for (int i = 0; i < n; i++) printf(json ? (i ? ",%d" : "%d") : "%d\n", ids[i]);
        if (json) printf("]\n");
        free(ids);
        q35_tokenizer_free(t);
        return 0;
    }
    FILE *f = strcmp(jsonl, "-") == 0 ? stdin : fopen(jsonl, "r");
    if (!f) { q35_tokenizer_free(t); snprintf(err, sizeof err, "%s: cannot open", jsonl); return die(err); }
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        cJSON *j = cJSON_Parse(line), *o = cJSON_CreateObject();
        const cJSON *tx = cJSON_GetObjectItemCaseSensitive(j, "text");
        if (!cJSON_IsString(tx)) {
            cJSON_AddStringToObject(o, "error", "line is not a JSON object with a \"text\" string");
        } else if (q35_tokenize(t, tx->valuestring, strlen(tx->valuestring), &ids, &n, err, sizeof err) != 0) {
            cJSON_AddStringToObject(o, "error", err);
        } else {
            cJSON_AddItemToObject(o, "ids", cJSON_CreateIntArray(ids, n));
            char *d = q35_detokenize(t, ids, n, 0, NULL, err, sizeof err);
            cJSON_AddStringToObject(o, "decoded", d ? d : "");
            free(d);
            free(ids);
        }
        char *out = cJSON_PrintUnformatted(o);
        if (out) puts(out);
        free(out);
        cJSON_Delete(o);
        cJSON_Delete(j);
    }
    free(line);
    if (f != stdin) fclose(f);
    q35_tokenizer_free(t);
    (void)lineno;
    return rc;
}

static int cmd_detokenize(int argc, char **argv) {
    if (wants_help(argc, argv) || argc < 2) {
        fputs(usage_detokenize, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    int skip = 0, n = 0;
    int *ids = malloc((size_t)argc * sizeof *ids);
    if (!ids) return die("out of memory");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--skip-special") == 0) { skip = 1; continue; }
        char *end;
        long v = strtol(argv[i], &end, 10);
        if (*end || end == argv[i] || v < 0 || v > 2147483647L) {
            fprintf(stderr, "q35 detokenize: '%s' is not a token id\n", argv[i]);
            free(ids);
            return 2;
        }
        ids[n++] = (int)v;
    }
    char err[ERRLEN];
    q35_tokenizer *t = q35_tokenizer_load(argv[0], err, sizeof err);
    if (!t) { free(ids); return die(err); }
    size_t len;
    char *text = q35_detokenize(t, ids, n, skip, &len, err, sizeof err);
    q35_tokenizer_free(t);
    free(ids);
    if (!text) return die(err);
    fwrite(text, 1, len, stdout);
    putchar('\n');
    free(text);
    return 0;
}

/* ---- chat-format ---- */

static const char *usage_chat =
    "usage: q35 chat-format MODEL --messages CONV.json [options]\n"
    "       q35 chat-format MODEL --jsonl CASES.jsonl\n"
    "\n"
    "Renders the checkpoint's chat template over the messages and tokenizes the result: the exact\n"
    "prompt text and ids the model will see. Prints {\"text\": ..., \"ids\": [...]} as JSON.\n"
    "CONV.json is a list of OpenAI-style messages (string content, or parts text/image/image_url/\n"
    "video), or {\"messages\": [...], \"flags\": {...}}. With --jsonl, reads {\"messages\", \"flags\"}\n"
    "per line and writes {\"text\", \"ids\"} or {\"error\"} per line.\n"
    "\n"
    "  --think / --no-think     enable_thinking true / false (default: not passed, the template's default)\n"
    "  --no-generation-prompt   add_generation_prompt false (default true)\n"
    "  --add-vision-id          add_vision_id true ('Picture N: ' before each image)\n"
    "  --tools TOOLS.json       a JSON list of tool schemas\n"
    "  --image FILE             an image of the conversation, in order: its <|image_pad|> is expanded\n"
    "                           to the image's number of merged patches (repeat per image)\n"
    "  --video DIR              a video of the conversation, in order, as a directory of its frames\n"
    "                           (PNG/JPEG, name order): its <|video_pad|> becomes, per pair of sampled\n"
    "                           frames, \"<T seconds>\" + <|vision_start|> + pads + <|vision_end|>, in\n"
    "                           the text (timestamps are text) and the ids (repeat per video)\n"
    "  --video-fps F            frames per second of the --video frames (default 24, Hugging Face's\n"
    "                           assumption when a video's rate is unknown)\n"
    "  --template FILE          a chat template instead of MODEL's (chat_template.jinja, else\n"
    "                           tokenizer_config.json, else a built-in copy of Qwen3.5's)\n"
    "  --tokenizer FILE         a tokenizer.json instead of MODEL's\n";

/* Renders and tokenizes one conversation; returns a new JSON object (text + ids, or error). */
static cJSON *chat_one(const char *tpl, q35_tokenizer *tok, const cJSON *messages, const cJSON *flags,
                       const int *counts, int nimg, int image_id, char *const *videos, int nvid) {
    char err[ERRLEN];
    cJSON *o = cJSON_CreateObject();
    char *text = q35_chat_render(tpl, messages, flags, err, sizeof err);
    int *ids = NULL, n = 0, *full = NULL, nfull = 0;
    if (text && nvid) {
        char *x = q35_expand_video_text(text, videos, nvid, err, sizeof err);
        free(text);
        text = x;
    }
    if (!text) {
        const char *e = strncmp(err, "raise_exception: ", 17) == 0 ? err + 17 : err;
        cJSON_AddStringToObject(o, "error", e);
        return o;
    }
    if (q35_tokenize(tok, text, strlen(text), &ids, &n, err, sizeof err) != 0 ||
        (nimg && q35_expand_image_tokens(&full, &nfull, ids, n, image_id, counts, nimg, err, sizeof err) != 0)) {
        cJSON_AddStringToObject(o, "error", err);
    } else {
        cJSON_AddStringToObject(o, "text", text);
        cJSON_AddItemToObject(o, "ids", nimg ? cJSON_CreateIntArray(full, nfull) : cJSON_CreateIntArray(ids, n));
    }
    free(text);
    free(ids);
    free(full);
    return o;
}

static int cmd_chat_format(int argc, char **argv) {
    if (wants_help(argc, argv) || argc < 1) {
        fputs(usage_chat, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    const char *model = argv[0], *conv = NULL, *jsonl = NULL, *tools = NULL, *tplf = NULL, *tokf = NULL;
    int think = -1, gen = 1, vid = 0, nimg = 0, nvid = 0, rc = 1;
    double video_fps = 0;
    char **images = calloc((size_t)argc, sizeof *images), **videos = calloc((size_t)argc, sizeof *videos);
    if (!images || !videos) return free(images), free(videos), die("out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--think")) think = 1;
        else if (!strcmp(a, "--no-think")) think = 0;
        else if (!strcmp(a, "--no-generation-prompt")) gen = 0;
        else if (!strcmp(a, "--add-vision-id")) vid = 1;
        else if (v && !strcmp(a, "--messages")) conv = v, i++;
        else if (v && !strcmp(a, "--jsonl")) jsonl = v, i++;
        else if (v && !strcmp(a, "--tools")) tools = v, i++;
        else if (v && !strcmp(a, "--template")) tplf = v, i++;
        else if (v && !strcmp(a, "--tokenizer")) tokf = v, i++;
        else if (v && !strcmp(a, "--image")) images[nimg++] = (char *)v, i++;
        else if (v && !strcmp(a, "--video")) videos[nvid++] = (char *)v, i++;
        else if (v && !strcmp(a, "--video-fps") && (video_fps = atof(v)) > 0) i++;
        else { fprintf(stderr, "q35 chat-format: bad option %s\n%s", a, usage_chat); free(images), free(videos); return 2; }
    }
    if (!conv == !jsonl) { fprintf(stderr, "q35 chat-format: give --messages or --jsonl\n%s", usage_chat); free(images), free(videos); return 2; }
    char **vtext = calloc((size_t)nvid + 1, sizeof *vtext); /* each video's placeholder text */
    if (!vtext) return free(images), free(videos), die("out of memory");
    char err[ERRLEN];
    const char *src;
    char *tpl = q35_chat_template_load(tplf ? tplf : model, &src, err, sizeof err), *text = NULL;
    q35_tokenizer *tok = tpl ? q35_tokenizer_load(tokf ? tokf : model, err, sizeof err) : NULL;
    cJSON *root = NULL, *flags = NULL;
    int *counts = NULL, image_id = 248056;
    if (!tpl || !tok) goto out;
    if (nimg) { /* each image's number of merged patches, from the model's preprocessing */
        q35_config c;
        q35_preproc_config pc;
        q35_image_batch b;
        if (q35_config_load(&c, model, err, sizeof err) != 0 || q35_preproc_load(&pc, model, err, sizeof err) != 0) goto out;
        image_id = c.image_token_id;
        if (q35_image_batch_load(&b, &pc, (const char *const *)images, nimg, 1, NULL, NULL, err, sizeof err) != 0) goto out;
        counts = malloc((size_t)nimg * sizeof *counts);
        if (counts) q35_vision_token_counts(counts, &c.vision, &b);
        q35_image_batch_free(&b);
        if (!counts) { snprintf(err, sizeof err, "out of memory"); goto out; }
    }
    if (nvid) {
        q35_video_config vc;
        if (q35_video_config_load(&vc, model, err, sizeof err) != 0) goto out;
        if (video_fps <= 0) fprintf(stderr, "q35: --video-fps not given: the frames are taken as 24 per second\n");
        for (int k = 0; k < nvid; k++) {
            q35_video_plan vp;
            if (q35_video_plan_dir(&vp, &vc, videos[k], video_fps, err, sizeof err) != 0) goto out;
            vtext[k] = q35_video_placeholder(&vp);
            fprintf(stderr, "q35: %s: %d frames sampled, %d temporal groups of %d tokens (%dx%d patches)\n", videos[k], vp.n,
                    vp.grid[0], vp.tokens_per_group, vp.grid[1], vp.grid[2]);
            q35_video_plan_free(&vp);
            if (!vtext[k]) { snprintf(err, sizeof err, "out of memory"); goto out; }
        }
    }
    if (jsonl) {
        FILE *f = strcmp(jsonl, "-") == 0 ? stdin : fopen(jsonl, "r");
        if (!f) { snprintf(err, sizeof err, "%s: cannot open", jsonl); goto out; }
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
            cJSON *j = q35_chat_parse_json(line), *o;
            const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages");
            if (!cJSON_IsArray(msgs)) {
                o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "error", "line is not a JSON object with a \"messages\" list");
            } else o = chat_one(tpl, tok, msgs, cJSON_GetObjectItemCaseSensitive(j, "flags"), counts, nimg, image_id, vtext, nvid);
            char *s = cJSON_PrintUnformatted(o);
            if (s) puts(s);
            free(s);
            cJSON_Delete(o);
            cJSON_Delete(j);
        }
        free(line);
        if (f != stdin) fclose(f);
        rc = 0;
        goto out;
    }
    text = q35_read_file(conv, 64u << 20, NULL);
    root = text ? q35_chat_parse_json(text) : NULL;
    if (!root) { snprintf(err, sizeof err, "%s: cannot read as JSON", conv); goto out; }
    cJSON *msgs = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "messages");
    const cJSON *given = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "flags") : NULL;
    flags = given ? cJSON_Duplicate(given, 1) : cJSON_CreateObject();
    if (!cJSON_GetObjectItemCaseSensitive(flags, "add_generation_prompt")) cJSON_AddBoolToObject(flags, "add_generation_prompt", gen);
    if (think >= 0) cJSON_AddBoolToObject(flags, "enable_thinking", think);
    if (vid) cJSON_AddBoolToObject(flags, "add_vision_id", 1);
    if (tools) {
        char *tt = q35_read_file(tools, 64u << 20, NULL);
        cJSON *tj = tt ? q35_chat_parse_json(tt) : NULL;
        free(tt);
        if (!cJSON_IsArray(tj)) { cJSON_Delete(tj); snprintf(err, sizeof err, "%s: not a JSON list of tools", tools); goto out; }
        cJSON_AddItemToObject(flags, "tools", tj);
    }
    cJSON *o = chat_one(tpl, tok, msgs, flags, counts, nimg, image_id, vtext, nvid);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    if (cJSON_IsString(e)) {
        snprintf(err, sizeof err, "%s", e->valuestring);
        cJSON_Delete(o);
        goto out;
    }
    cJSON_AddStringToObject(o, "template", src);
    char *s = cJSON_Print(o);
    if (s) puts(s);
    free(s);
    cJSON_Delete(o);
    rc = 0;
out:
    if (rc) fprintf(stderr, "q35: %s\n", err);
    free(tpl);
    free(text);
    free(counts);
    free(images);
    for (int k = 0; k < nvid; k++) free(vtext[k]);
    free(vtext);
    free(videos);
    cJSON_Delete(root);
    cJSON_Delete(flags);
    q35_tokenizer_free(tok);
    return rc;
}

/* ---- compare ---- */

static const char *usage_compare =
    "usage: q35 compare OURS THEIRS [--names MAP.yaml [--phase P] [--model DIR] [--param NAME=N]...]\n"
    "                  [report options]\n"
    "\n"
    "OURS and THEIRS are dumps: safetensors files (q35 forward --dump, golden/tools/hf_dump.py, a\n"
    "golden set's golden.safetensors) or directories of .npy files (one tensor per file, named by\n"
    "the tensor). Tensors are matched by canonical name and compared in OURS' execution order (the\n"
    "order the dump was written): the verdict and the first divergence with the tensors just before\n"
    "it first, then one row per tensor with max_abs, max_rel = max|ours - theirs| / max(1,\n"
    "max|theirs|), cosine, rmse and the rule that judged it; NaN/Inf counts when present (on one\n"
    "side only: always a failure). Logits add top-1/5/10 agreement and KL both ways; logits in\n"
    "top-k form (forward --logits topk:K) are compared from that form.\n"
    "\n"
    "  --names MAP      alias map (YAML, golden/aliases/): THEIRS' names and layouts -> ours;\n"
    "                   shipped: golden/aliases/llama.cpp.yaml, golden/aliases/hf.yaml\n"
    "  --phase P        prefix for alias-mapped names (default prefill)\n"
    "  --model DIR      checkpoint (or config.json) whose sizes fill the map's params\n"
    "  --param NAME=N   set a map param by hand\n"
    REPORT_USAGE
    "\n"
    "exit status: 0 all compared tensors pass; 1 one fails; 2 usage or input error.\n";

static int cmd_compare(int argc, char **argv) {
    if (wants_help(argc, argv) || argc < 2) {
        fputs(usage_compare, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    q35_compare_opts o = { .ours = argv[0], .theirs = argv[1] };
    report_opts ro = { .tol = 2e-4, .tol_logits = 1e-4, .min_cos = 0.99999 };
    const char **params = calloc((size_t)argc, sizeof *params);
    if (!params) return die("out of memory");
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int t = report_option(&ro, argc, argv, &i);
        if (t == 1) continue;
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (t < 0 || !v) { fprintf(stderr, "q35 compare: %s needs a value\n", a); free(params); return 2; }
        if (!strcmp(a, "--names")) o.names = v;
        else if (!strcmp(a, "--phase")) o.phase = v;
        else if (!strcmp(a, "--model") || !strcmp(a, "--config")) o.config = v;
        else if (!strcmp(a, "--param")) params[o.nparams++] = v;
        else { fprintf(stderr, "q35 compare: unknown option %s\n%s", a, usage_compare); free(params); return 2; }
    }
    o.params = params;
    char err[ERRLEN];
    q35_policy pol;
    if (load_policy(&pol, &ro, err, sizeof err) != 0) { fprintf(stderr, "q35: %s\n", err); free(params); return 2; }
    o.policy = &pol;
    q35_report rep;
    q35_report_init(&rep, "compare");
    q35_report_prov(&rep, "q35", "%s", Q35_VERSION);
    int rc = q35_compare_files(&o, &rep, err, sizeof err);
    if (rc >= 0 && report_out(&ro, &rep, err, sizeof err) != 0) rc = -1;
    if (rc < 0) fprintf(stderr, "q35: %s\n", err);
    q35_report_free(&rep);
    q35_policy_free(&pol);
    free(params);
    return rc < 0 ? 2 : rc;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage_main, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0) {
        printf("q35 %s (Unicode tables %s, utf8proc %s)\n", Q35_VERSION, q35_unicode_version(), utf8proc_version());
        return 0;
    }
    if (strcmp(cmd, "info") == 0) return cmd_info(argc - 2, argv + 2);
    if (strcmp(cmd, "forward") == 0) return cmd_forward(argc - 2, argv + 2);
    if (strcmp(cmd, "verify") == 0) return cmd_verify(argc - 2, argv + 2);
    if (strcmp(cmd, "mkmodel") == 0) return cmd_mkmodel(argc - 2, argv + 2);
    if (strcmp(cmd, "preprocess") == 0) return cmd_preprocess(argc - 2, argv + 2);
    if (strcmp(cmd, "tokenize") == 0) return cmd_tokenize(argc - 2, argv + 2);
    if (strcmp(cmd, "detokenize") == 0) return cmd_detokenize(argc - 2, argv + 2);
    if (strcmp(cmd, "chat-format") == 0) return cmd_chat_format(argc - 2, argv + 2);
    if (strcmp(cmd, "compare") == 0) return cmd_compare(argc - 2, argv + 2);
    fprintf(stderr, "q35: unknown command '%s'\n\n%s", cmd, usage_main);
    return 2;
}
