/* cmd_model.c - the commands that read a checkpoint: info, forward, mkmodel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <utf8proc.h>

#include "cli.h"
#include "logits.h"
#include "policy.h"
#include "q35.h"
#include "util.h"

/* ---- info ---- */

static const char *usage_info =
    "usage: q35 info DIR\n"
    "\n"
    "Reads DIR/config.json and the checkpoint (model.safetensors, or the shards listed in\n"
    "model.safetensors.index.json), binds every language-model tensor with its shape checked\n"
    "against the config, and prints the configuration, tensor counts by dtype and size.\n"
    "Weights are read through the mmap: nothing is copied.\n";

int cmd_info(int argc, char **argv) {
    if (wants_help(argc, argv)) {
        fputs(usage_info, stdout);
        return 0;
    }
    for (int i = 0; i < argc; i++)
        if (cli_positional("info", argv[i], "DIR", NULL, NULL) != 0) return 2;
    if (argc != 1) {
        fprintf(stderr, "q35 info: expected one DIR, got %d arguments\n%s", argc, usage_info);
        return 2;
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
    "  --backend NAME       op implementation: fast (OpenMP + SIMD, the default), ref (the FP32\n"
    "                       scalar reference) or fast-bf16 (fast with the activations rounded to\n"
    "                       bf16 in products of bf16 weights: llama.cpp's precision, ~1.7x prefill)\n"
    "  --threads N          threads of the fast backend (default: every core); same bits for any N\n"
    "  --top K              how many next tokens to print per step, 1 to 1000 (default 5)\n";

static void print_top(const char *phase, const float *logits, int V, int k) {
    printf("%-9s top:", phase);
    /* selection of the k largest, k is small: O(k V) */
    unsigned char *used = calloc((size_t)V, 1);
    if (!used) return;
    for (int j = 0; j < k && j < V; j++) {
        int best = -1;
        for (int i = 0; i < V; i++)
            if (!used[i] && (best < 0 || logits[i] > logits[best])) best = i;
        used[best] = 1;
        printf(" %d (%.4f)", best, logits[best]);
    }
    printf("\n");
    free(used);
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

int cmd_forward(int argc, char **argv) {
    static const char *const vals[] = { "--ids", "--prompt", "--tokenizer", "--decode-ids", "--image", "--dump", "--only",
                                        "--logits", "--backend", "--threads", "--top", NULL };
    static const char *const flags[] = { "--no-exif", NULL };
    if (wants_help(argc, argv)) {
        fputs(usage_forward, stdout);
        return 0;
    }
    if (argc < 1) {
        fputs(usage_forward, stderr);
        return 2;
    }
    if (cli_positional("forward", argv[0], "DIR", vals, flags) != 0) return 2;
    const char *dir = argv[0], *ids_s = NULL, *dec_s = NULL, *dump = NULL, *only = NULL, *bk = Q35_DEFAULT_BACKEND;
    const char *prompt = NULL, *tokf = NULL, *logits_s = NULL;
    int topk = 5, exif = 1, nimg = 0, logit_k = 0;
    char **images = calloc((size_t)argc, sizeof *images);
    if (!images) return die("out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--no-exif") == 0) { exif = 0; continue; }
        const char *v = cli_value("forward", argc, argv, &i, vals);
        if (!v) { free(images); return 2; }
        if (strcmp(a, "--ids") == 0) ids_s = v;
        else if (strcmp(a, "--prompt") == 0) prompt = v;
        else if (strcmp(a, "--tokenizer") == 0) tokf = v;
        else if (strcmp(a, "--decode-ids") == 0) dec_s = v;
        else if (strcmp(a, "--image") == 0) images[nimg++] = (char *)v;
        else if (strcmp(a, "--dump") == 0) dump = v;
        else if (strcmp(a, "--only") == 0) only = v;
        else if (strcmp(a, "--logits") == 0) logits_s = v;
        else if (strcmp(a, "--backend") == 0) bk = v;
        else if (strcmp(a, "--threads") == 0) {
            if (cli_threads("forward", v) != 0) { free(images); return 2; }
        }
        else if (strcmp(a, "--top") == 0) {
            if (cli_int("forward", "--top", v, 1, 1000, &topk) != 0) { free(images); return 2; }
        }
    }
    if (!ids_s == !prompt) { fprintf(stderr, "q35 forward: give --ids or --prompt\n%s", usage_forward); free(images); return 2; }
    if (logits_s && strcmp(logits_s, "full") != 0) {
        if (strncmp(logits_s, "topk:", 5) != 0) {
            fprintf(stderr, "q35 forward: --logits wants full or topk:K with K from 1 to 64, not '%s'\n", logits_s);
            free(images);
            return 2;
        }
        if (cli_int("forward", "--logits topk:K", logits_s + 5, 1, 64, &logit_k) != 0) { free(images); return 2; }
    }
    const q35_ops *ops = cli_backend("forward", bk);
    if (!ops) { free(images); return 2; }
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

/* ---- mkmodel ---- */

static const char *usage_mkmodel =
    "usage: q35 mkmodel --preset 0.8b|2b|4b|tiny --out DIR [--seed N] [--dtype bf16|f32] [--tokenizer FILE|none]\n"
    "\n"
    "Writes a complete Hugging Face-style checkpoint with random weights: config.json with the\n"
    "real values of the size, generation_config.json (the model card's sampling defaults for the\n"
    "size), preprocessor_config.json, tokenizer.json, tokenizer_config.json and chat_template.jinja\n"
    "(the size's Qwen3.5 template), and every text,\n"
    "vision and mtp tensor under the released names, shapes and dtypes (bf16; A_log and\n"
    "linear_attn.norm.weight f32), sharded with model.safetensors.index.json above 2 GB.\n"
    "Same preset, seed and dtype: the same bytes. 'tiny' keeps the real vocabulary and layer\n"
    "pattern at a few MB, for end-to-end tests. Sizes: 0.8b 1.7 GB, 2b 4.5 GB, 4b 9.3 GB (bf16).\n"
    "\n"
    "  --seed N       generator seed (default 1)\n"
    "  --dtype f32    every tensor float32 (twice the size)\n"
    "  --tokenizer F  the tokenizer.json to copy in (default: the project's Qwen3.5-style test\n"
    "                 tokenizer, tests/data/tokenizer/qwen35_style_tokenizer.json: Qwen3's BPE with\n"
    "                 Qwen3.5's added tokens at their real ids 248044-248076); 'none': no\n"
    "                 tokenizer files\n";

/* The project's Qwen3.5-style tokenizer, found beside the executable (./q35 in the repository, or
 * build/q35); NULL after saying where it looked. */
static const char *default_tokenizer(char *buf, size_t n) {
    static const char rel[] = "tests/data/tokenizer/qwen35_style_tokenizer.json";
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) len = 0;
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    else snprintf(exe, sizeof exe, ".");
    snprintf(buf, n, "%s/%s", exe, rel);
    if (access(buf, R_OK) == 0) return buf;
    char other[4200];
    snprintf(other, sizeof other, "%s/../%s", exe, rel);
    if (access(other, R_OK) == 0) return snprintf(buf, n, "%s", other), buf;
    fprintf(stderr, "q35 mkmodel: no tokenizer.json to copy in: looked for %s/%s and %s; give one with --tokenizer FILE, "
            "or --tokenizer none for a checkpoint without tokenizer files\n", exe, rel, other);
    return NULL;
}

static void progress(void *ctx, uint64_t done, uint64_t total) {
    time_t *last = ctx, now = time(NULL);
    if (done < total && now == *last) return;
    *last = now;
    int tty = isatty(2);
    if (!tty && done < total) return; /* a log gets one line */
    fprintf(stderr, "%sq35 mkmodel: %.0f / %.0f MB written", tty ? "\r" : "", (double)done / 1e6, (double)total / 1e6);
    if (done == total) fputc('\n', stderr);
}

int cmd_mkmodel(int argc, char **argv) {
    if (wants_help(argc, argv)) {
        fputs(usage_mkmodel, stdout);
        return 0;
    }
    const char *preset = NULL, *out = NULL, *dtype = "bf16", *tok = NULL;
    uint64_t seed = 1;
    static const char *const vals[] = { "--preset", "--out", "--dtype", "--tokenizer", "--seed", NULL };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') { fprintf(stderr, "q35 mkmodel: unexpected argument '%s' (q35 mkmodel --help)\n", a); return 2; }
        const char *v = cli_value("mkmodel", argc, argv, &i, vals);
        if (!v) return 2;
        if (strcmp(a, "--preset") == 0) preset = v;
        else if (strcmp(a, "--out") == 0) out = v;
        else if (strcmp(a, "--dtype") == 0) dtype = v;
        else if (strcmp(a, "--tokenizer") == 0) tok = v;
        else if (cli_u64("mkmodel", "--seed", v, &seed) != 0) return 2;
    }
    if (!preset || !out) { fprintf(stderr, "q35 mkmodel: --preset and --out are required\n%s", usage_mkmodel); return 2; }
    if (strcmp(dtype, "bf16") != 0 && strcmp(dtype, "f32") != 0) {
        fprintf(stderr, "q35 mkmodel: --dtype must be bf16 or f32, not '%s'\n", dtype);
        return 2;
    }
    char err[ERRLEN], tokbuf[4200];
    q35_config c;
    if (q35_preset_config(&c, preset, err, sizeof err) != 0) return die(err);
    if (tok && strcmp(tok, "none") == 0) tok = NULL;
    else if (!tok && !(tok = default_tokenizer(tokbuf, sizeof tokbuf))) return 1;
    time_t last = 0;
    q35_mkmodel_opts o = { .out_dir = out, .seed = seed, .f32 = strcmp(dtype, "f32") == 0,
                           .progress = progress, .progress_ctx = &last, .tokenizer = tok };
    if (q35_mkmodel(&c, &o, err, sizeof err) != 0) return die(err);
    printf("wrote %s checkpoint (seed %llu, %s) to %s\n", preset, (unsigned long long)seed, dtype, out);
    return 0;
}
