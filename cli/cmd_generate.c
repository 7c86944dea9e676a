/* cmd_generate.c - q35 generate: a prompt (chat-templated, or raw ids) in, sampled text out,
 * streamed; --chat for a conversation in the terminal. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "chat.h"
#include "cli.h"
#include "generate.h"
#include "genconfig.h"
#include "image.h"
#include "sampler.h"
#include "text.h"
#include "tokenizer.h"
#include "util.h"
#include "vision.h"
#include "weights.h"

static const char *usage_generate =
    "usage: q35 generate MODEL (-p TEXT | --messages CONV.json | --prompt-ids A,B,C | --chat) [options]\n"
    "\n"
    "Generates from a checkpoint: the prompt goes through its chat template (as chat-format shows),\n"
    "the answer is sampled token by token with the model card's settings and streamed to stdout;\n"
    "a last line on stderr gives the token counts and speeds.\n"
    "\n"
    "Prompt:\n"
    "  -p, --prompt TEXT     a user message\n"
    "  --system TEXT         a system message before it\n"
    "  --messages FILE       a conversation: a JSON list of messages, or {\"messages\": [...]}\n"
    "  --prompt-ids A,B,C    raw token ids, no chat template (a model without tokenizer.json\n"
    "                        then prints ids only)\n"
    "  --image FILE          a PNG or JPEG, placed before the text of the (last) user turn (repeat)\n"
    "  --think / --no-think  enable_thinking true / false (default: the template's own default;\n"
    "                        Qwen3.5's 0.8B/2B template does not think unless asked)\n"
    "  --chat                a conversation in the terminal: /image FILE attaches an image to the\n"
    "                        next message, /reset forgets the conversation, /exit (or Ctrl-D)\n"
    "                        ends; Ctrl-C stops the current answer\n"
    "\n"
    "Sampling (applied in this order: repetition, frequency, presence penalties, temperature,\n"
    "top-k, top-p, min-p; vLLM's definitions; temperature 0 = greedy):\n"
    "  --preset NAME         instruct, vl-instruct, thinking, vl-thinking, bench-text,\n"
    "                        bench-vl-thinking, bench-vl-instruct, bench-video, greedy\n"
    "  --temperature T  --top-p P  --top-k K  --min-p P  --presence-penalty X\n"
    "  --frequency-penalty X  --repetition-penalty R\n"
    "  --seed N              the sampler's seed (default 0): the same seed gives the same text on\n"
    "                        any machine, backend thread count and run\n"
    "  --show-settings       print the effective settings and where each comes from (stderr)\n"
    "Default settings: the card's preset for the mode (instruct; vl-instruct with images; thinking\n"
    "/ vl-thinking when the prompt opens a thinking block), under the checkpoint's\n"
    "generation_config.json where it gives a value, unless --think, --no-think or an image chose\n"
    "the mode (that file is written for the checkpoint's default mode); --preset replaces both;\n"
    "each flag overrides one value.\n"
    "\n"
    "Stopping:\n"
    "  --max-new-tokens N    at most N new tokens (default: generation_config.json's, else 32768,\n"
    "                        the card's output length); always within the context length\n"
    "  --stop STRING         end the answer before STRING (repeat; matched across tokens)\n"
    "  The end tokens <|im_end|> and <|endoftext|> and the configs' eos_token_id always stop.\n"
    "\n"
    "Output and model:\n"
    "  --json                one JSON object instead of the stream: ids, text, reasoning and\n"
    "                        content (thinking split off), finish_reason, settings, timings\n"
    "  --tokenizer FILE      a tokenizer.json instead of MODEL's\n"
    "  --template FILE       a chat template instead of MODEL's\n"
    "  --backend NAME        fast (default), ref or fast-bf16\n"
    "  --threads N           threads of the fast backends (default: every core)\n"
    "Exit status: 0 done, 1 failed, 2 bad usage, 130 interrupted by Ctrl-C (outside --chat).\n";

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

/* ---- settings ---- */

enum { S_TEMP, S_TOP_P, S_TOP_K, S_MIN_P, S_PRES, S_FREQ, S_REP, S_SEED, S_MAX, S_N };
static const char *setting_names[S_N] = { "temperature", "top_p", "top_k", "min_p", "presence_penalty",
                                          "frequency_penalty", "repetition_penalty", "seed", "max_new_tokens" };

typedef struct {
    q35_sampling s;
    int max_new_tokens;
    char origin[S_N][96];
} settings;

/* The flags given for each setting (v[k] NULL: not given), parsed as they are read. */
typedef struct {
    const char *v[S_N];
    double x[S_N];          /* the value of each given setting but the seed */
    uint64_t seed;          /* --seed */
    const char *preset;
} setting_flags;

static void set_origin(settings *st, int k, const char *what) { snprintf(st->origin[k], sizeof st->origin[k], "%s", what); }

static void apply_preset(settings *st, const q35_preset *p, const char *why) {
    uint64_t seed = st->s.seed;
    st->s = p->s;
    st->s.seed = seed;
    char o[96];
    snprintf(o, sizeof o, "preset %s (%s)", p->name, why);
    for (int k = 0; k < S_SEED; k++) set_origin(st, k, o);
}

/* The flag of setting k ("--top-p") into buf. */
static const char *setting_flag(int k, char *buf, size_t n) {
    snprintf(buf, n, "--%s", setting_names[k]);
    for (char *c = buf; *c; c++)
        if (*c == '_') *c = '-';
    return buf;
}

/* The setting whose flag a is, or -1. */
static int setting_of(const char *a) {
    char flag[64];
    for (int k = 0; k < S_N; k++)
        if (strcmp(a, setting_flag(k, flag, sizeof flag)) == 0) return k;
    return -1;
}

/* Takes v as the value of setting k's flag; -1 after a message naming the flag and its range. */
static int parse_setting(setting_flags *f, int k, const char *v) {
    static const double lo[S_N] = { 0, 1e-9, 0, 0, -1e6, -1e6, 1e-6, 0, 0 };
    static const double hi[S_N] = { 1e6, 1, 1e9, 1, 1e6, 1e6, 1e6, 0 /* the seed: any uint64 */, 1e9 };
    char flag[64];
    setting_flag(k, flag, sizeof flag);
    f->v[k] = v;
    if (k == S_SEED) return cli_u64("generate", flag, v, &f->seed);
    if (k == S_TOP_K || k == S_MAX) {
        int n;
        if (cli_int("generate", flag, v, (int)lo[k], (int)hi[k], &n) != 0) return -1;
        f->x[k] = n;
        return 0;
    }
    return cli_real("generate", flag, v, lo[k], hi[k], &f->x[k]);
}

/* The effective settings: mode preset, then generation_config.json (its sampling values only when
 * the mode is the checkpoint's own: chosen_mode 0), then --preset, then flags. */
static int resolve_settings(settings *st, const setting_flags *f, const q35_genconfig *g, const char *mode_preset,
                            int chosen_mode, int context) {
    memset(st, 0, sizeof *st);
    apply_preset(st, q35_preset_find(mode_preset), "the mode's default");
    set_origin(st, S_SEED, "default");
    st->max_new_tokens = 32768;
    set_origin(st, S_MAX, "default (the card's output length)");
    if (g->present && !chosen_mode) {
        const char *o = "generation_config.json";
        if (g->has_temperature) st->s.temperature = g->s.temperature, set_origin(st, S_TEMP, o);
        if (g->has_top_p) st->s.top_p = g->s.top_p, set_origin(st, S_TOP_P, o);
        if (g->has_top_k) st->s.top_k = g->s.top_k, set_origin(st, S_TOP_K, o);
        if (g->has_min_p) st->s.min_p = g->s.min_p, set_origin(st, S_MIN_P, o);
        if (g->has_presence) st->s.presence_penalty = g->s.presence_penalty, set_origin(st, S_PRES, o);
        if (g->has_frequency) st->s.frequency_penalty = g->s.frequency_penalty, set_origin(st, S_FREQ, o);
        if (g->has_repetition) st->s.repetition_penalty = g->s.repetition_penalty, set_origin(st, S_REP, o);
        if (g->has_do_sample && !g->do_sample) st->s.temperature = 0, set_origin(st, S_TEMP, "generation_config.json (do_sample false)");
    }
    if (g->present && g->has_max_new_tokens) st->max_new_tokens = g->max_new_tokens, set_origin(st, S_MAX, "generation_config.json");
    if (f->preset) apply_preset(st, q35_preset_find(f->preset), "--preset");
    for (int k = 0; k < S_N; k++) {
        if (!f->v[k]) continue;
        double x = f->x[k];
        switch (k) {
        case S_TEMP: st->s.temperature = (float)x; break;
        case S_TOP_P: st->s.top_p = (float)x; break;
        case S_TOP_K: st->s.top_k = (int)x; break;
        case S_MIN_P: st->s.min_p = (float)x; break;
        case S_PRES: st->s.presence_penalty = (float)x; break;
        case S_FREQ: st->s.frequency_penalty = (float)x; break;
        case S_REP: st->s.repetition_penalty = (float)x; break;
        case S_SEED: st->s.seed = f->seed; break;
        default: st->max_new_tokens = (int)x; break;
        }
        char flag[64];
        set_origin(st, k, setting_flag(k, flag, sizeof flag));
    }
    if (st->max_new_tokens > context) {
        st->max_new_tokens = context;
        set_origin(st, S_MAX, "the context length");
    }
    return 0;
}

static double setting_value(const settings *st, int k) {
    const q35_sampling *s = &st->s;
    double v[S_N] = { s->temperature, s->top_p, s->top_k, s->min_p, s->presence_penalty, s->frequency_penalty,
                      s->repetition_penalty, (double)s->seed, st->max_new_tokens };
    return v[k];
}

static void print_settings(const settings *st) {
    fprintf(stderr, "settings:\n");
    for (int k = 0; k < S_N; k++)
        fprintf(stderr, "  %-19s %-10g %s\n", setting_names[k], setting_value(st, k), st->origin[k]);
}

static cJSON *settings_json(const settings *st) {
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; k < S_N; k++) {
        cJSON *e = cJSON_AddObjectToObject(o, setting_names[k]);
        cJSON_AddNumberToObject(e, "value", setting_value(st, k));
        cJSON_AddStringToObject(e, "from", st->origin[k]);
    }
    return o;
}

/* ---- one generation ---- */

typedef struct {
    const char *dir;
    q35_model m;
    q35_text_state s;
    const q35_ops *ops;
    q35_tokenizer *tok; /* NULL: ids only */
    char *tpl;
    q35_genconfig gc;
    setting_flags flags;
    int think;          /* -1 template default, 0, 1 */
    int json, show;
    char **stop;
    int n_stop;
    int end_ids[24], n_end;
} gen_ctx;

static void stream_stdout(const char *t, size_t n, void *ud) {
    (void)ud;
    fwrite(t, 1, n, stdout);
    fflush(stdout);
}

/* The prompt ids of messages with images (files, nimg), through the chat template. *text and
 * *ids are new; *pi holds the loaded images. */
static int chat_prompt(gen_ctx *c, const cJSON *messages, char *const *files, int nimg, char **text, int **ids, int *n,
                       q35_image_batch *pi, char *err, size_t errlen) {
    *text = NULL, *ids = NULL, *n = 0;
    cJSON *flags = cJSON_CreateObject();
    cJSON_AddBoolToObject(flags, "add_generation_prompt", 1);
    if (c->think >= 0) cJSON_AddBoolToObject(flags, "enable_thinking", c->think);
    *text = q35_chat_render(c->tpl, messages, flags, err, errlen);
    cJSON_Delete(flags);
    if (!*text) return -1;
    if (q35_tokenize(c->tok, *text, strlen(*text), ids, n, err, errlen) != 0) return -1;
    if (nimg == 0) return 0;
    if (!c->m.cfg.vision.present) return q35_fail(err, errlen, "%s: images given, but the model has no vision tower", c->dir);
    q35_preproc_config pc;
    if (q35_preproc_load(&pc, c->dir, err, errlen) != 0 ||
        q35_image_batch_load(pi, &pc, (const char *const *)files, nimg, 1, NULL, NULL, err, errlen) != 0)
        return -1;
    int *counts = malloc((size_t)nimg * sizeof *counts), *full = NULL, nfull = 0;
    if (!counts) return q35_fail(err, errlen, "out of memory");
    q35_vision_token_counts(counts, &c->m.cfg.vision, pi);
    int rc = q35_expand_image_tokens(&full, &nfull, *ids, *n, c->m.cfg.image_token_id, counts, nimg, err, errlen);
    free(counts);
    if (rc != 0) return -1;
    free(*ids);
    *ids = full, *n = nfull;
    return 0;
}

/* Generates from ids (prompt_text: the rendered prompt or NULL) and prints the result. For
 * chat, *answer receives the content (new string). Returns 0, or -1 with err. */
static int run_one(gen_ctx *c, const int *ids, int n, const char *prompt_text, const q35_image_batch *pi, int nimg,
                   int turn, char **answer, char *err, size_t errlen) {
    int thinking_open = prompt_text ? q35_prompt_opens_thinking(prompt_text) : 0;
    const char *mode = thinking_open ? (nimg ? "vl-thinking" : "thinking") : (nimg ? "vl-instruct" : "instruct");
    int context = c->m.cfg.text.max_position_embeddings;
    settings st;
    /* --think, --no-think or images choose a mode: the card's preset for it, not the checkpoint's
     * defaults (written for its own default mode) */
    if (resolve_settings(&st, &c->flags, &c->gc, mode, c->think >= 0 || nimg > 0, context) != 0)
        return q35_fail(err, errlen, "bad settings");
    st.s.seed += (uint64_t)turn; /* each turn of a chat draws afresh, reproducibly */
    if (c->show) print_settings(&st);
    q35_sampler *smp = q35_sampler_new(&st.s, c->m.cfg.text.vocab_size, err, errlen);
    if (!smp) return -1;
    q35_gen_opts o = { .max_new_tokens = st.max_new_tokens, .context = context, .end_ids = c->end_ids,
                       .n_end = c->n_end, .stop = c->stop, .n_stop = c->n_stop, .thinking_open = thinking_open,
                       .interrupt = &interrupted, .on_text = (c->json || !c->tok) ? NULL : stream_stdout };
    q35_gen_result r;
    int rc = q35_generate(&r, &c->s, c->ops, smp, c->tok, ids, n, nimg ? pi : NULL, &o, err, errlen);
    q35_sampler_free(smp);
    if (rc != 0) return -1;
    int ng = r.n - (r.end_id >= 0);
    double pp = r.prefill_s > 0 ? n / r.prefill_s : 0, tg = r.decode_s > 0 && r.n > 1 ? (r.n - 1) / r.decode_s : 0;
    if (c->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "prompt_tokens", n);
        cJSON_AddNumberToObject(j, "generated_tokens", ng);
        cJSON_AddItemToObject(j, "ids", cJSON_CreateIntArray(r.ids, r.n));
        if (r.text) cJSON_AddStringToObject(j, "text", r.text);
        else cJSON_AddNullToObject(j, "text");
        if (r.reasoning) cJSON_AddStringToObject(j, "reasoning", r.reasoning);
        else cJSON_AddNullToObject(j, "reasoning");
        if (r.content) cJSON_AddStringToObject(j, "content", r.content);
        else cJSON_AddNullToObject(j, "content");
        cJSON_AddStringToObject(j, "finish_reason", r.finish);
        if (r.stop_index >= 0) cJSON_AddStringToObject(j, "stop", c->stop[r.stop_index]);
        else if (r.end_id >= 0) cJSON_AddNumberToObject(j, "stop", r.end_id);
        else cJSON_AddNullToObject(j, "stop");
        cJSON_AddItemToObject(j, "settings", settings_json(&st));
        cJSON_AddStringToObject(j, "backend", c->ops->name);
        cJSON *t = cJSON_AddObjectToObject(j, "timings");
        cJSON_AddNumberToObject(t, "prefill_s", r.prefill_s);
        cJSON_AddNumberToObject(t, "decode_s", r.decode_s);
        cJSON_AddNumberToObject(t, "prefill_tok_s", pp);
        cJSON_AddNumberToObject(t, "decode_tok_s", tg);
        char *s = cJSON_Print(j);
        if (s) puts(s);
        free(s);
        cJSON_Delete(j);
    } else if (!c->tok) {
        for (int i = 0; i < r.n; i++) printf("%s%d", i ? "," : "", r.ids[i]);
        printf("\n");
    } else {
        printf("\n");
    }
    fflush(stdout);
    fprintf(stderr, "q35: prompt %d tokens, generated %d (%s); prefill %.1f tok/s, decode %.2f tok/s\n", n, ng, r.finish,
            pp, tg);
    if (answer) *answer = r.content ? strdup(r.content) : NULL;
    q35_gen_result_free(&r);
    return 0;
}

/* A user message of text with nimg images before it (OpenAI-style parts). */
static cJSON *user_message(const char *text, int nimg) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "user");
    if (nimg == 0) {
        cJSON_AddStringToObject(m, "content", text);
        return m;
    }
    cJSON *parts = cJSON_AddArrayToObject(m, "content");
    for (int i = 0; i < nimg; i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "type", "image");
        cJSON_AddItemToArray(parts, p);
    }
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "type", "text");
    cJSON_AddStringToObject(p, "text", text);
    cJSON_AddItemToArray(parts, p);
    return m;
}

/* Renders, generates and prints one conversation; *answer as run_one. */
static int run_messages(gen_ctx *c, const cJSON *messages, char *const *files, int nimg, int turn, char **answer,
                        char *err, size_t errlen) {
    char *text;
    int *ids, n;
    q35_image_batch pi = { 0 };
    int rc = chat_prompt(c, messages, files, nimg, &text, &ids, &n, &pi, err, errlen);
    if (rc == 0) rc = run_one(c, ids, n, text, &pi, nimg, turn, answer, err, errlen);
    q35_image_batch_free(&pi);
    free(text);
    free(ids);
    return rc;
}

/* The terminal conversation. */
static int chat_loop(gen_ctx *c, const char *system) {
    cJSON *hist = cJSON_CreateArray();
    char **files = NULL, *line = NULL, err[ERRLEN];
    int nimg = 0, pending = 0, turn = 0, rc = 0;
    size_t cap = 0;
    if (system) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", "system");
        cJSON_AddStringToObject(m, "content", system);
        cJSON_AddItemToArray(hist, m);
    }
    fprintf(stderr, "q35 chat with %s (%s backend): /image FILE, /reset, /exit; Ctrl-C stops an answer\n", c->dir,
            c->ops->name);
    for (;;) {
        fprintf(stderr, "> ");
        fflush(stderr);
        interrupted = 0;
        char rerr[512];
        ssize_t got = cli_read_line(stdin, "stdin", 1, (size_t)16 << 20, &line, &cap, rerr, sizeof rerr);
        if (got < 0 && errno == EINTR) {
            clearerr(stdin);
            fprintf(stderr, "\n");
            continue;
        }
        if (got < 0) {
            fprintf(stderr, "q35 generate: %s\n", rerr);
            rc = 1;
            break;
        }
        if (got == 0) break;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = 0;
        if (got == 0) continue;
        if (strcmp(line, "/exit") == 0 || strcmp(line, "/quit") == 0) break;
        if (strcmp(line, "/reset") == 0) {
            while (cJSON_GetArraySize(hist) > (system ? 1 : 0)) cJSON_DeleteItemFromArray(hist, cJSON_GetArraySize(hist) - 1);
            for (int i = 0; i < nimg; i++) free(files[i]);
            nimg = pending = 0;
            fprintf(stderr, "(conversation forgotten)\n");
            continue;
        }
        if (strncmp(line, "/image ", 7) == 0) {
            const char *path = line + 7;
            if (access(path, R_OK) != 0) {
                fprintf(stderr, "q35: %s: cannot read\n", path);
                continue;
            }
            char **nf = realloc(files, (size_t)(nimg + 1) * sizeof *files);
            if (!nf || !(nf[nimg] = strdup(path))) {
                files = nf;
                fprintf(stderr, "q35: out of memory\n");
                break;
            }
            files = nf, nimg++, pending++;
            fprintf(stderr, "(image %s attached to the next message)\n", path);
            continue;
        }
        if (line[0] == '/') {
            fprintf(stderr, "q35: unknown command %s (/image FILE, /reset, /exit)\n", line);
            continue;
        }
        cJSON_AddItemToArray(hist, user_message(line, pending));
        pending = 0;
        char *answer = NULL;
        if (run_messages(c, hist, files, nimg, turn++, &answer, err, sizeof err) != 0) {
            fprintf(stderr, "q35: %s\n", err);
            cJSON_DeleteItemFromArray(hist, cJSON_GetArraySize(hist) - 1);
            continue;
        }
        /* the answer joins the history without its thinking, as the template renders past turns */
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", "assistant");
        cJSON_AddStringToObject(m, "content", answer ? answer : "");
        cJSON_AddItemToArray(hist, m);
        free(answer);
    }
    for (int i = 0; i < nimg; i++) free(files[i]);
    free(files);
    free(line);
    cJSON_Delete(hist);
    return rc;
}

/* Adds id to the end tokens unless there already. */
static void add_end(gen_ctx *c, int id) {
    if (id < 0 || id >= c->m.cfg.text.vocab_size) return;
    for (int i = 0; i < c->n_end; i++)
        if (c->end_ids[i] == id) return;
    if (c->n_end < (int)(sizeof c->end_ids / sizeof c->end_ids[0])) c->end_ids[c->n_end++] = id;
}

int cmd_generate(int argc, char **argv) {
    static const char *const vals[] = { "-p", "--prompt", "--system", "--messages", "--prompt-ids", "--image", "--preset",
                                        "--stop", "--tokenizer", "--template", "--backend", "--threads", "--temperature",
                                        "--top-p", "--top-k", "--min-p", "--presence-penalty", "--frequency-penalty",
                                        "--repetition-penalty", "--seed", "--max-new-tokens", NULL };
    static const char *const flags[] = { "--think", "--no-think", "--chat", "--json", "--show-settings", NULL };
    if (wants_help(argc, argv)) {
        fputs(usage_generate, stdout);
        return 0;
    }
    if (argc < 1) {
        fputs(usage_generate, stderr);
        return 2;
    }
    if (cli_positional("generate", argv[0], "MODEL", vals, flags) != 0) return 2;
    gen_ctx c = { .dir = argv[0], .think = -1 };
    const char *prompt = NULL, *system = NULL, *conv = NULL, *ids_s = NULL, *tokf = NULL, *tplf = NULL;
    const char *backend = Q35_DEFAULT_BACKEND;
    int chat = 0, nimg = 0, think_flags = 0;
    char **files = calloc((size_t)argc, sizeof *files);
    c.stop = calloc((size_t)argc, sizeof *c.stop);
    if (!files || !c.stop) return free(files), free(c.stop), die("out of memory");
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        const char *a = argv[i], *v;
        int k = setting_of(a);
        if (strcmp(a, "--think") == 0) c.think = 1, think_flags++;
        else if (strcmp(a, "--no-think") == 0) c.think = 0, think_flags++;
        else if (strcmp(a, "--chat") == 0) chat = 1;
        else if (strcmp(a, "--json") == 0) c.json = 1;
        else if (strcmp(a, "--show-settings") == 0) c.show = 1;
        else if (a[0] != '-' || !a[1]) {
            fprintf(stderr, "q35 generate: unexpected argument '%s' (q35 generate --help)\n", a);
            bad = 1;
        } else if (!(v = cli_value("generate", argc, argv, &i, vals))) bad = 1;
        else if (k >= 0) bad = parse_setting(&c.flags, k, v) != 0;
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) prompt = v;
        else if (!strcmp(a, "--system")) system = v;
        else if (!strcmp(a, "--messages")) conv = v;
        else if (!strcmp(a, "--prompt-ids")) ids_s = v;
        else if (!strcmp(a, "--image")) files[nimg++] = (char *)v;
        else if (!strcmp(a, "--preset")) c.flags.preset = v;
        else if (!strcmp(a, "--stop")) c.stop[c.n_stop++] = (char *)v;
        else if (!strcmp(a, "--tokenizer")) tokf = v;
        else if (!strcmp(a, "--template")) tplf = v;
        else if (!strcmp(a, "--backend")) backend = v;
        else bad = cli_threads("generate", v) != 0; /* --threads */
    }
    /* what the flags cannot mean together */
    const char *conflict = NULL;
    int sources = !!prompt + !!conv + !!ids_s + chat;
    if (!bad && sources == 0) conflict = "give a prompt: -p TEXT, --messages FILE, --prompt-ids IDS or --chat";
    else if (!bad && sources > 1) conflict = "-p, --messages, --prompt-ids and --chat exclude each other";
    else if (!bad && think_flags > 1) conflict = "--think and --no-think exclude each other";
    else if (!bad && ids_s && (think_flags || system || nimg))
        conflict = "--prompt-ids takes raw ids: no chat template, so no --think/--no-think, --system or --image";
    else if (!bad && chat && c.json) conflict = "--chat prints a conversation, not JSON: drop --json";
    else if (!bad && conv && system) conflict = "--messages holds the whole conversation: put the system message in it";
    else if (!bad && c.flags.preset && !q35_preset_find(c.flags.preset)) {
        static char msg[512];
        int np, len = snprintf(msg, sizeof msg, "unknown preset '%s' (have:", c.flags.preset);
        const q35_preset *ps = q35_presets(&np);
        for (int i = 0; i < np && len < (int)sizeof msg; i++) len += snprintf(msg + len, sizeof msg - (size_t)len, " %s", ps[i].name);
        if (len < (int)sizeof msg) snprintf(msg + len, sizeof msg - (size_t)len, ")");
        conflict = msg;
    }
    for (int i = 0; !bad && !conflict && i < c.n_stop; i++)
        if (!c.stop[i][0]) conflict = "--stop needs a non-empty string";
    if (bad || conflict) {
        if (conflict) fprintf(stderr, "q35 generate: %s\n", conflict);
        free(files), free(c.stop);
        return 2;
    }
    c.ops = cli_backend("generate", backend);
    if (!c.ops) return free(files), free(c.stop), 2;

    char err[ERRLEN];
    int rc = 1, *ids = NULL, n = 0;
    char *conv_text = NULL;
    cJSON *root = NULL;
    int opened = 0;
    if (q35_model_open(&c.m, c.dir, err, sizeof err) != 0) goto out;
    opened = 1;
    if (c.m.warnings) fprintf(stderr, "q35: warning: %s\n", c.m.warnings);
    if (q35_genconfig_load(&c.gc, c.dir, err, sizeof err) != 0) goto out;
    { /* settings are checked once before any work (each run resolves them again for its mode) */
        settings st;
        if (resolve_settings(&st, &c.flags, &c.gc, "instruct", 0, c.m.cfg.text.max_position_embeddings) != 0) {
            rc = 2;
            goto out_quiet;
        }
        if (q35_sampling_check(&st.s, err, sizeof err) != 0) {
            fprintf(stderr, "q35 generate: %s\n", err);
            rc = 2;
            goto out_quiet;
        }
    }
    /* the tokenizer: needed for text; optional with raw ids */
    char tokpath[4200];
    snprintf(tokpath, sizeof tokpath, "%s/tokenizer.json", c.dir);
    if (tokf || !ids_s || access(tokpath, R_OK) == 0) {
        c.tok = q35_tokenizer_load(tokf ? tokf : c.dir, err, sizeof err);
        if (!c.tok) goto out;
    }
    if (!ids_s) {
        const char *src;
        c.tpl = q35_chat_template_load(tplf ? tplf : c.dir, &src, err, sizeof err);
        if (!c.tpl) goto out;
    }
    for (int i = 0; i < c.gc.n_eos; i++) add_end(&c, c.gc.eos[i]);
    add_end(&c, c.m.cfg.text.eos_token_id);
    if (c.tok) {
        add_end(&c, q35_token_id(c.tok, "<|im_end|>"));
        add_end(&c, q35_token_id(c.tok, "<|endoftext|>"));
    }
    if (q35_text_state_init(&c.s, &c.m, err, sizeof err) != 0) goto out;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint; /* no SA_RESTART: a read at the chat prompt returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);

    if (chat) {
        rc = chat_loop(&c, system);
        goto out_quiet;
    }
    if (ids_s) {
        if (parse_ids(ids_s, &ids, &n) != 0 || n < 1) {
            snprintf(err, sizeof err, "--prompt-ids %s: expected ids like 38,399,462", ids_s);
            goto out;
        }
        if (run_one(&c, ids, n, NULL, NULL, 0, 0, NULL, err, sizeof err) != 0) goto out;
    } else {
        cJSON *msgs;
        if (conv) {
            size_t clen = 0;
            conv_text = q35_read_file(conv, 64u << 20, &clen);
            if (conv_text && q35_json_has_nul(conv_text, clen)) {
                snprintf(err, sizeof err, "%s: " CLI_NUL_REFUSED, conv);
                goto out;
            }
            root = conv_text ? q35_chat_parse_json(conv_text) : NULL;
            if (!root) {
                snprintf(err, sizeof err, "%s: cannot read as JSON", conv);
                goto out;
            }
            msgs = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "messages");
            if (!cJSON_IsArray(msgs)) {
                snprintf(err, sizeof err, "%s: expected a list of messages or {\"messages\": [...]}", conv);
                goto out;
            }
        } else {
            root = cJSON_CreateArray();
            if (system) {
                cJSON *m = cJSON_CreateObject();
                cJSON_AddStringToObject(m, "role", "system");
                cJSON_AddStringToObject(m, "content", system);
                cJSON_AddItemToArray(root, m);
            }
            cJSON_AddItemToArray(root, user_message(prompt, nimg));
            msgs = root;
        }
        if (run_messages(&c, msgs, files, nimg, 0, NULL, err, sizeof err) != 0) goto out;
    }
    rc = interrupted ? 130 : 0;
    goto out_quiet;
out:
    fprintf(stderr, "q35: %s\n", err);
out_quiet:
    free(ids);
    free(conv_text);
    cJSON_Delete(root);
    free(c.tpl);
    q35_tokenizer_free(c.tok);
    q35_text_state_free(&c.s);
    if (opened) q35_model_close(&c.m);
    free(files);
    free(c.stop);
    return rc;
}
