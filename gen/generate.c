/* generate.c - the generation loop: prefill, sample, decode one token at a time, stream, stop. */
#include "generate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "vision.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Sends t->b[from, to) to the stream, repaired as the final text will be. */
static int stream_out(q35_text_stream *t, size_t from, size_t to) {
    if (!t->on_text || to <= from) return 0;
    char *fix = malloc((to - from) * 3 + 1);
    if (!fix) return -1;
    size_t n = q35_utf8_lossy(fix, (const unsigned char *)t->b + from, to - from);
    t->on_text(fix, n, t->ud);
    free(fix);
    return 0;
}

/* How much of the text is final: not a tail that could grow into a stop string, and not inside an
 * unfinished UTF-8 character. */
static size_t final_bytes(const q35_text_stream *t) {
    size_t n = t->n, keep = n;
    for (int i = 0; i < t->n_stop; i++) {
        size_t sl = strlen(t->stop[i]);
        for (size_t k = sl > 1 ? sl - 1 : 0; k > 0; k--) /* the longest tail of the text that starts stop[i] */
            if (k <= n && memcmp(t->b + n - k, t->stop[i], k) == 0) {
                if (n - k < keep) keep = n - k;
                break;
            }
    }
    while (keep > 0 && keep < n && ((unsigned char)t->b[keep] & 0xC0) == 0x80) keep--; /* not mid-character */
    return q35_utf8_complete((const unsigned char *)t->b, keep);
}

void q35_text_stream_init(q35_text_stream *t, char *const *stop, int n_stop, q35_gen_text_fn on_text, void *ud) {
    memset(t, 0, sizeof *t);
    t->stop = stop, t->n_stop = n_stop, t->stopped = -1, t->on_text = on_text, t->ud = ud;
}

int q35_text_stream_push(q35_text_stream *t, const char *p, size_t n) {
    if (t->stopped >= 0) return 1;
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->n + n + 1) cap *= 2;
        char *nb = realloc(t->b, cap);
        if (!nb) return -1;
        t->b = nb, t->cap = cap;
    }
    size_t before = t->n, longest = 0;
    memcpy(t->b + t->n, p, n);
    t->n += n;
    t->b[t->n] = 0;
    for (int i = 0; i < t->n_stop; i++)
        if (strlen(t->stop[i]) > longest) longest = strlen(t->stop[i]);
    /* a match must end in the new bytes: start looking where such a match could start */
    size_t from = before > longest ? before - longest : 0;
    long best = -1;
    for (int i = 0; i < t->n_stop; i++) {
        size_t sl = strlen(t->stop[i]);
        if (sl == 0) continue;
        for (size_t q = from; q + sl <= t->n; q++)
            if (memcmp(t->b + q, t->stop[i], sl) == 0) {
                if (best < 0 || (long)q < best) best = (long)q, t->stopped = i;
                break;
            }
    }
    if (best >= 0) {
        t->n = (size_t)best;
        t->b[t->n] = 0;
        return 1;
    }
    size_t fin = final_bytes(t);
    if (fin > t->streamed) {
        if (stream_out(t, t->streamed, fin) != 0) return -1;
        t->streamed = fin;
    }
    return 0;
}

char *q35_text_stream_finish(q35_text_stream *t, size_t *len) {
    if (stream_out(t, t->streamed, t->n) != 0) return NULL;
    t->streamed = t->n;
    char *out = malloc(t->n * 3 + 1);
    if (!out) return NULL;
    *len = q35_utf8_lossy(out, (const unsigned char *)(t->b ? t->b : ""), t->n);
    out[*len] = 0;
    return out;
}

void q35_text_stream_free(q35_text_stream *t) {
    free(t->b);
    memset(t, 0, sizeof *t);
}

int q35_prompt_opens_thinking(const char *t) {
    const char *open = NULL, *close = NULL;
    for (const char *p = t; (p = strstr(p, "<think>")); p++) open = p;
    for (const char *p = t; (p = strstr(p, "</think>")); p++) close = p;
    return open && (!close || close < open);
}

int q35_split_thinking(const char *text, int thinking_open, char **reasoning, char **content) {
    *reasoning = *content = NULL;
    const char *t = text;
    if (!thinking_open) {
        const char *p = t;
        while (*p == '\n' || *p == ' ') p++;
        if (strncmp(p, "<think>", 7) == 0) thinking_open = 1, t = p + 7;
    }
    if (!thinking_open) {
        *content = strdup(text);
        return *content ? 0 : -1;
    }
    const char *end = strstr(t, "</think>");
    const char *r0 = t, *r1 = end ? end : t + strlen(t), *c = end ? end + 8 : r1;
    while (r0 < r1 && *r0 == '\n') r0++;
    while (r1 > r0 && r1[-1] == '\n') r1--;
    while (*c == '\n') c++;
    *reasoning = strndup(r0, (size_t)(r1 - r0));
    *content = strdup(c);
    if (!*reasoning || !*content) {
        free(*reasoning), free(*content);
        *reasoning = *content = NULL;
        return -1;
    }
    return 0;
}

void q35_gen_result_free(q35_gen_result *r) {
    free(r->ids);
    free(r->text);
    free(r->reasoning);
    free(r->content);
    memset(r, 0, sizeof *r);
}

int q35_generate(q35_gen_result *r, q35_text_state *s, const q35_ops *ops, q35_sampler *smp,
                 const q35_tokenizer *tok, const int *prompt, int n_prompt, const q35_image_batch *images,
                 const q35_gen_opts *o, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->end_id = r->stop_index = -1;
    r->prompt_tokens = n_prompt;
    if (n_prompt < 1) return q35_fail(err, errlen, "the prompt has no tokens");
    if (o->max_new_tokens < 0) return q35_fail(err, errlen, "max_new_tokens %d: must be >= 0", o->max_new_tokens);
    if (n_prompt >= o->context)
        return q35_fail(err, errlen, "the prompt of %d tokens leaves no room in the context of %d positions", n_prompt,
                        o->context);
    int V = s->m->cfg.text.vocab_size, budget = o->max_new_tokens;
    if (budget > o->context - n_prompt) budget = o->context - n_prompt;
    float *logits = malloc((size_t)V * sizeof(float));
    r->ids = malloc(((size_t)budget + 1) * sizeof(int));
    q35_text_stream ts;
    q35_text_stream_init(&ts, o->stop, o->n_stop, o->on_text, o->ud);
    int rc = -1;
    if (!logits || !r->ids) {
        q35_fail(err, errlen, "out of memory");
        goto done;
    }
    q35_text_state_reset(s);
    q35_sampler_reset(smp);
    q35_sampler_add_prompt(smp, prompt, n_prompt);
    double t0 = now_s();
    if ((images && images->n > 0 ? q35_prefill_with_images(s, ops, images, prompt, n_prompt, logits, 1, NULL, err, errlen)
                                 : q35_text_forward(s, ops, prompt, n_prompt, NULL, logits, 1, NULL, err, errlen)) != 0)
        goto done;
    r->prefill_s = now_s() - t0;
    t0 = now_s();
    r->finish = budget < o->max_new_tokens ? "context" : "length";
    for (int i = 0; i < budget; i++) {
        if (o->interrupt && *o->interrupt) {
            r->finish = "interrupted";
            break;
        }
        if (i > 0 && q35_text_forward(s, ops, &r->ids[r->n - 1], 1, NULL, logits, 1, NULL, err, errlen) != 0) goto done;
        int id = q35_sampler_sample(smp, logits);
        q35_sampler_accept(smp, id);
        r->ids[r->n++] = id;
        int is_end = 0;
        for (int k = 0; k < o->n_end; k++) is_end |= id == o->end_ids[k];
        if (is_end) {
            r->finish = "stop", r->end_id = id;
            break;
        }
        if (!tok || !q35_token_exists(tok, id)) continue; /* no token: no text (as Hugging Face decodes) */
        size_t nb;
        char *b = q35_detokenize_bytes(tok, &id, 1, 1, &nb, err, errlen);
        if (!b) goto done;
        int st = q35_text_stream_push(&ts, b, nb);
        free(b);
        if (st < 0) {
            q35_fail(err, errlen, "out of memory");
            goto done;
        }
        if (st > 0) {
            r->finish = "stop", r->stop_index = ts.stopped;
            break;
        }
    }
    r->decode_s = now_s() - t0;
    if (tok) {
        r->text = q35_text_stream_finish(&ts, &r->len);
        if (!r->text || q35_split_thinking(r->text, o->thinking_open, &r->reasoning, &r->content) != 0) {
            q35_fail(err, errlen, "out of memory");
            goto done;
        }
    }
    rc = 0;
done:
    free(logits);
    q35_text_stream_free(&ts);
    if (rc != 0) q35_gen_result_free(r);
    return rc;
}
