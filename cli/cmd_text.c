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

/* ---- JSON strings carried with their length ----
 * cJSON keeps its strings NUL-terminated, so a \u0000 in a JSON string ends the string there:
 * {"text": "a\u0000b"} would tokenize as "a" alone. Lines are still validated by cJSON, but the
 * "text" member is decoded here with its length, and "decoded" is written back the same way. */

static int hex4(const char *p, const char *e, unsigned *v) {
    *v = 0;
    if (e - p < 4) return -1;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d > 15) return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

/* Decodes the JSON string whose opening quote is at *pp (text ends at e) into a new NUL-terminated
 * buffer *out of *len bytes, NULs included (out NULL: only checked); *pp moves past the closing
 * quote. -1 with why: a bad escape, a lone surrogate, an unterminated string. Raw control
 * characters are kept, as cJSON keeps them. */
static int json_string(const char **pp, const char *e, char **out, size_t *len, char *why, size_t wl) {
    const char *p = *pp + 1;
    char *b = out ? malloc((size_t)(e - p) + 1) : NULL; /* decoding never lengthens the text */
    size_t n = 0;
    if (out && !b) return snprintf(why, wl, "out of memory"), -1;
    for (;;) {
        if (p >= e || (*p == '\\' && p + 1 >= e)) {
            snprintf(why, wl, "a string is not terminated");
            break;
        }
        if (*p == '"') {
            *pp = p + 1;
            if (out) b[n] = 0, *out = b;
            if (len) *len = n;
            return 0;
        }
        if (*p != '\\') {
            if (b) b[n] = *p;
            n++, p++;
            continue;
        }
        const char *esc = p;
        char x = p[1], s = 0;
        p += 2;
        switch (x) {
        case '"': s = '"'; break;
        case '\\': s = '\\'; break;
        case '/': s = '/'; break;
        case 'b': s = '\b'; break;
        case 'f': s = '\f'; break;
        case 'n': s = '\n'; break;
        case 'r': s = '\r'; break;
        case 't': s = '\t'; break;
        case 'u': break;
        default: snprintf(why, wl, "a string holds the unknown escape \\%c", x); goto fail;
        }
        if (x != 'u') {
            if (b) b[n] = s;
            n++;
            continue;
        }
        unsigned cp, lo;
        if (hex4(p, e, &cp) != 0) {
            snprintf(why, wl, "a string holds a \\u escape without 4 hex digits");
            break;
        }
        p += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            snprintf(why, wl, "lone surrogate \\u%.4s in a JSON string (a low surrogate with no high one before it): "
                     "not a Unicode character, so not text", esc + 2);
            break;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (e - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, e, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF) {
                snprintf(why, wl, "lone surrogate \\u%.4s in a JSON string (a high surrogate with no low one after it): "
                         "not a Unicode character, so not text", esc + 2);
                break;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        }
        unsigned char u[4];
        int k;
        if (cp < 0x80) u[0] = (unsigned char)cp, k = 1;
        else if (cp < 0x800) u[0] = (unsigned char)(0xC0 | cp >> 6), u[1] = (unsigned char)(0x80 | (cp & 0x3F)), k = 2;
        else if (cp < 0x10000)
            u[0] = (unsigned char)(0xE0 | cp >> 12), u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F)),
            u[2] = (unsigned char)(0x80 | (cp & 0x3F)), k = 3;
        else
            u[0] = (unsigned char)(0xF0 | cp >> 18), u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F)),
            u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (unsigned char)(0x80 | (cp & 0x3F)), k = 4;
        if (b) memcpy(b + n, u, (size_t)k);
        n += (size_t)k;
    }
fail:
    free(b);
    return -1;
}

static const char *json_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* Past one JSON value of text cJSON has accepted (only its strings need care). */
static const char *json_skip(const char *p, const char *e) {
    char why[8];
    if (p < e && *p == '"') return json_string(&p, e, NULL, NULL, why, sizeof why) == 0 ? p : e;
    if (p < e && (*p == '{' || *p == '[')) {
        for (int depth = 0; p < e;) {
            if (*p == '"') {
                if (json_string(&p, e, NULL, NULL, why, sizeof why) != 0) return e;
                continue;
            }
            if (*p == '{' || *p == '[') depth++;
            else if ((*p == '}' || *p == ']') && --depth == 0) return p + 1;
            p++;
        }
        return e;
    }
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') p++;
    return p;
}

/* The last top-level member "text" of the JSON object in [p, e), text cJSON has accepted: the one
 * Python's json.loads and Hugging Face keep when the key repeats. 1 with its string value decoded
 * into *out (*len bytes), 0 when there is no such member or it is not a string, -1 with why when
 * the string cannot be decoded. */
static int json_text_member(const char *p, const char *e, char **out, size_t *len, char *why, size_t wl) {
    const char *val = NULL; /* where the last "text" member's value starts */
    p = json_ws(p, e);
    if (p >= e || *p != '{') return 0;
    p = json_ws(p + 1, e);
    while (p < e && *p == '"') {
        char *key;
        size_t kl;
        if (json_string(&p, e, &key, &kl, why, wl) != 0) return -1;
        int is_text = kl == 4 && memcmp(key, "text", 4) == 0;
        free(key);
        p = json_ws(p, e);
        if (p >= e || *p != ':') return 0;
        p = json_ws(p + 1, e);
        if (is_text) val = p;
        p = json_ws(json_skip(p, e), e);
        if (p < e && *p == ',') p = json_ws(p + 1, e);
    }
    if (!val || val >= e || *val != '"') return 0;
    return json_string(&val, e, out, len, why, wl) == 0 ? 1 : -1;
}

/* Why cJSON refused a text: the first string that does not decode (a lone surrogate, ...), else "not JSON". */
static void json_why_not(const char *p, const char *e, char *why, size_t wl) {
    while (p < e)
        if (*p != '"') p++;
        else if (json_string(&p, e, NULL, NULL, why, wl) != 0) return;
    snprintf(why, wl, "not JSON");
}

/* s (n bytes, NULs included) as a JSON string literal, escaped as cJSON prints strings. */
static char *json_quote(const char *s, size_t n) {
    char *o = malloc(n * 6 + 3), *q = o;
    if (!o) return NULL;
    *q++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *sh = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                       : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
        if (sh) memcpy(q, sh, 2), q += 2;
        else if (c < 0x20) q += sprintf(q, "\\u%04x", c);
        else *q++ = (char)c;
    }
    *q++ = '"';
    *q = 0;
    return o;
}

/* ---- JSONL input (tokenize --jsonl, chat-format --jsonl) ---- */

/* The longest line --jsonl reads: the eval readers' limit for a whole JSONL file (eval/mcfile.c),
 * here per line, so that a line without end (--jsonl /dev/zero) is an error, not all of memory. */
#define JSONL_MAX_LINE ((size_t)256 << 20)

/* The JSON value that is the whole of line[0, n) (blanks around it allowed; the line free of NUL
 * bytes and NUL-terminated at n), each object's repeated keys resolved as Python's json.loads and
 * Hugging Face resolve them: the last one kept (q35_json_last_wins). floats: numbers written as
 * floats marked as q35_chat_parse_json marks them, for the chat template. NULL with why: not JSON
 * (naming the first string that does not decode, if any), or text after the value. */
static cJSON *jsonl_parse(const char *line, size_t n, int floats, char *why, size_t wl) {
    cJSON *j;
    size_t junk = 0;
    int r = q35_json_parse_one(line, n, &j, &junk);
    if (r == -1) json_why_not(line, line + n, why, wl);
    if (r == -2) snprintf(why, wl, "text after the JSON value, from byte %zu of the line", junk + 1);
    if (r != 0) return NULL;
    if (floats) { /* the same text again, now known to be one value, for its float marks */
        cJSON_Delete(j);
        if (!(j = q35_chat_parse_json(line))) snprintf(why, wl, "out of memory");
    }
    return j;
}

/* The outcome of a --jsonl run, after its loop over lines lines, failed of them with an {"error"}
 * line; got: the loop's last cli_read_line (-1: reading stopped the run, with err set). The
 * lines written are flushed first, so that the message the caller prints comes after them. -1
 * when reading stopped the run or a line failed (then err says how many), 0 otherwise; the
 * command exits 1 on -1. */
static int jsonl_outcome(ssize_t got, long failed, long lines, char *err, size_t errlen) {
    fflush(stdout);
    if (got < 0) return -1;
    if (!failed) return 0;
    return q35_fail(err, errlen, "%ld of %ld line%s failed: see their {\"error\": ...} lines", failed, lines, lines == 1 ? "" : "s");
}

/* ---- tokenize / detokenize ---- */

static const char *usage_tokenize =
    "usage: q35 tokenize MODEL_DIR|tokenizer.json TEXT [--json]\n"
    "       q35 tokenize MODEL_DIR|tokenizer.json --jsonl IN.jsonl\n"
    "\n"
    "Encodes TEXT with the checkpoint's tokenizer.json (byte-level BPE exactly as Hugging Face's\n"
    "tokenizers library: NFC, the Qwen pre-tokenizer, added tokens matched first; no BOS/EOS).\n"
    "Prints one id per line, or a JSON list with --json. With --jsonl (- for stdin), reads\n"
    "{\"text\": ...} per line (a repeated key counts once, its last value, as in Python) and writes\n"
    "{\"ids\": [...], \"decoded\": ...} per line to stdout; a line that is not one JSON object with a\n"
    "\"text\" string, or does not encode, gets {\"error\": \"line N: ...\"} instead.\n"
    "\n"
    "Exit status with --jsonl: 0 when every line was encoded; 1 when any line got an {\"error\"}\n"
    "line (all lines are still done, and stderr says how many failed), or when the file cannot\n"
    "be read (a directory, a line over 256 MiB: the run stops there).\n";

static const char *usage_detokenize =
    "usage: q35 detokenize MODEL_DIR|tokenizer.json ID... [--skip-special]\n"
    "\n"
    "Decodes token ids to text (invalid UTF-8 byte runs become U+FFFD, as Hugging Face's decoder).\n"
    "Each ID is decimal digits, 0 to 2147483647 (no sign, no blanks).\n";

/* One --jsonl line of tokenize (n bytes, NUL-terminated; lineno its number): {"ids": [...],
 * "decoded": ...} for {"text": ...}, else {"error": "line N: why"}. NULL when out of memory. */
static cJSON *tokenize_line(q35_tokenizer *t, const char *line, size_t n, long lineno) {
    char why[ERRLEN], err[ERRLEN];
    cJSON *o = cJSON_CreateObject(), *j = NULL;
    char *tx = NULL;
    size_t txlen = 0;
    int *ids = NULL, nids = 0, found = 0, ok = 0;
    if (!o) return NULL;
    if (memchr(line, 0, n)) snprintf(why, sizeof why, "a raw NUL byte (JSON writes it \\u0000)");
    else if (!(j = jsonl_parse(line, n, 0, why, sizeof why))) { /* why says it */ }
    else if (!cJSON_IsObject(j) || (found = json_text_member(line, line + n, &tx, &txlen, why, sizeof why)) == 0)
        snprintf(why, sizeof why, "not a JSON object with a \"text\" string");
    else if (found > 0) ok = q35_tokenize(t, tx, txlen, &ids, &nids, why, sizeof why) == 0;
    if (!ok) {
        q35_fail(err, sizeof err, "line %ld: %s", lineno, why);
        cJSON_AddStringToObject(o, "error", err);
    } else {
        size_t dlen = 0;
        cJSON_AddItemToObject(o, "ids", cJSON_CreateIntArray(ids, nids));
        char *d = q35_detokenize(t, ids, nids, 0, &dlen, err, sizeof err);
        char *q = json_quote(d ? d : "", d ? dlen : 0); /* NULs as \u0000, not cut */
        cJSON_AddRawToObject(o, "decoded", q ? q : "\"\"");
        free(q);
        free(d);
    }
    free(ids);
    free(tx);
    cJSON_Delete(j);
    return o;
}

int cmd_tokenize(int argc, char **argv) {
    if (wants_help(argc, argv) || argc < 2) { /* --help alone is help too, not a usage error */
        int help = wants_help(argc, argv);
        fputs(usage_tokenize, help ? stdout : stderr);
        return help ? 0 : 2;
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
    int *ids, n;
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
    if (!f) { q35_tokenizer_free(t); snprintf(err, sizeof err, "%s: cannot open: %s", jsonl, strerror(errno)); return die(err); }
    const char *name = f == stdin ? "stdin" : jsonl;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    long lineno = 0, failed = 0;
    while ((got = cli_read_line(f, name, lineno + 1, JSONL_MAX_LINE, &line, &cap, err, sizeof err)) > 0) {
        cJSON *o = tokenize_line(t, line, (size_t)got, ++lineno);
        char *out = o ? cJSON_PrintUnformatted(o) : NULL;
        if (out) puts(out);
        failed += cJSON_HasObjectItem(o, "error");
        free(out);
        cJSON_Delete(o);
        if (!out) {
            snprintf(err, sizeof err, "%s: line %ld: out of memory", name, lineno);
            got = -1;
            break;
        }
    }
    free(line);
    if (f != stdin) fclose(f);
    q35_tokenizer_free(t);
    /* a read error stops the run: the lines before it are out, the rest are not read */
    if (jsonl_outcome(got, failed, lineno, err, sizeof err) != 0) return die(err);
    return 0;
}

int cmd_detokenize(int argc, char **argv) {
    if (wants_help(argc, argv) || argc < 2) { /* --help alone is help too, not a usage error */
        int help = wants_help(argc, argv);
        fputs(usage_detokenize, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    int skip = 0, n = 0;
    int *ids = malloc((size_t)argc * sizeof *ids);
    if (!ids) return die("out of memory");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--skip-special") == 0) { skip = 1; continue; }
        uint64_t v;
        int r = cli_digits(argv[i], 0, 2147483647u, &v);
        if (r != 0) {
            fprintf(stderr, "q35 detokenize: '%s' is %s; want a token id: decimal digits, 0 to 2147483647\n", argv[i],
                    r == -2 ? "out of range" : "not a token id");
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
    "video), or {\"messages\": [...], \"flags\": {...}}. With --jsonl (- for stdin), reads\n"
    "{\"messages\", \"flags\"} per line (one JSON object a line; a repeated key counts once, its last\n"
    "value, as in Python) and writes {\"text\", \"ids\"} or {\"error\"} per line. Exit status with\n"
    "--jsonl: 0 when every line rendered; 1 when any line got an {\"error\"} line (all lines are\n"
    "still done, and stderr says how many failed), or when the file cannot be read (a directory, a\n"
    "line over 256 MiB: the run stops there).\n"
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

/* cJSON would end a string at its U+0000 and the template renderer works on NUL-terminated text:
 * such a conversation is refused, never rendered cut short. */

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
        else if (v && !strcmp(a, "--video-fps")) {
            if (cli_real("chat-format", a, v, 0.001, 1000, &video_fps) != 0) return free(images), free(videos), 2;
            i++;
        } else if (!v && a[0] == '-' && a[1] == '-' && (!strcmp(a, "--messages") || !strcmp(a, "--jsonl") || !strcmp(a, "--tools") ||
                                                  !strcmp(a, "--template") || !strcmp(a, "--tokenizer") || !strcmp(a, "--image") ||
                                                  !strcmp(a, "--video") || !strcmp(a, "--video-fps"))) {
            fprintf(stderr, "q35 chat-format: %s needs a value\n", a);
            free(images), free(videos);
            return 2;
        } else { fprintf(stderr, "q35 chat-format: unknown option %s\n%s", a, usage_chat); free(images), free(videos); return 2; }
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
        if (!f) { snprintf(err, sizeof err, "%s: cannot open: %s", jsonl, strerror(errno)); goto out; }
        const char *name = f == stdin ? "stdin" : jsonl;
        char *line = NULL, why[ERRLEN], msg[ERRLEN];
        size_t cap = 0;
        ssize_t got;
        long lineno = 0, failed = 0;
        while ((got = cli_read_line(f, name, lineno + 1, JSONL_MAX_LINE, &line, &cap, err, sizeof err)) > 0) {
            lineno++;
            cJSON *j = NULL, *o;
            const cJSON *msgs = NULL;
            if (q35_json_has_nul(line, (size_t)got)) snprintf(why, sizeof why, CLI_NUL_REFUSED);
            else if ((j = jsonl_parse(line, (size_t)got, 1, why, sizeof why)) &&
                     !cJSON_IsArray(msgs = cJSON_GetObjectItemCaseSensitive(j, "messages")))
                snprintf(why, sizeof why, "not a JSON object with a \"messages\" list");
            if (cJSON_IsArray(msgs)) {
                o = chat_one(tpl, tok, msgs, cJSON_GetObjectItemCaseSensitive(j, "flags"), counts, nimg, image_id, vtext, nvid);
            } else if ((o = cJSON_CreateObject())) {
                q35_fail(msg, sizeof msg, "line %ld: %s", lineno, why);
                cJSON_AddStringToObject(o, "error", msg);
            }
            char *s = o ? cJSON_PrintUnformatted(o) : NULL;
            if (s) puts(s);
            failed += cJSON_HasObjectItem(o, "error");
            free(s);
            cJSON_Delete(o);
            cJSON_Delete(j);
            if (!s) {
                snprintf(err, sizeof err, "%s: line %ld: out of memory", name, lineno);
                got = -1;
                break;
            }
        }
        free(line);
        if (f != stdin) fclose(f);
        /* a read error stops the run (the lines before it are out); failed lines make it exit 1 */
        if (jsonl_outcome(got, failed, lineno, err, sizeof err) == 0) rc = 0;
        goto out;
    }
    size_t tlen = 0;
    if (!(text = q35_read_file(conv, 64u << 20, &tlen))) { snprintf(err, sizeof err, "%s: cannot read: %s", conv, strerror(errno)); goto out; }
    if (q35_json_has_nul(text, tlen)) { snprintf(err, sizeof err, "%s: " CLI_NUL_REFUSED, conv); goto out; }
    if (!(root = q35_chat_parse_json(text))) {
        char why[ERRLEN];
        json_why_not(text, text + tlen, why, sizeof why);
        q35_fail(err, sizeof err, "%s: cannot read as JSON: %s", conv, why);
        goto out;
    }
    cJSON *msgs = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "messages");
    const cJSON *given = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "flags") : NULL;
    flags = given ? cJSON_Duplicate(given, 1) : cJSON_CreateObject();
    if (!cJSON_GetObjectItemCaseSensitive(flags, "add_generation_prompt")) cJSON_AddBoolToObject(flags, "add_generation_prompt", gen);
    if (think >= 0) cJSON_AddBoolToObject(flags, "enable_thinking", think);
    if (vid) cJSON_AddBoolToObject(flags, "add_vision_id", 1);
    if (tools) {
        size_t ttlen = 0;
        char *tt = q35_read_file(tools, 64u << 20, &ttlen);
        if (tt && q35_json_has_nul(tt, ttlen)) { free(tt); snprintf(err, sizeof err, "%s: " CLI_NUL_REFUSED, tools); goto out; }
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
