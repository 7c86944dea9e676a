/* cmd_text.c - text in and out: tokenize, detokenize, chat-format. */
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

int cmd_tokenize(int argc, char **argv) {
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

int cmd_detokenize(int argc, char **argv) {
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

int cmd_chat_format(int argc, char **argv) {
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
