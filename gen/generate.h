/* generate.h - text out of a prompt: prefill, then one sampled token at a time, streamed as
 * UTF-8-complete text, until an end token, a stop string, the token budget or the context; the
 * output split into reasoning and content as servers split thinking models' answers. */
#ifndef Q35_GENERATE_H
#define Q35_GENERATE_H

#include <signal.h>
#include <stddef.h>

#include "image.h"
#include "sampler.h"
#include "text.h"
#include "tokenizer.h"

/* Called with each piece of output text as soon as it is final: whole UTF-8 characters, never a
 * byte that could still belong to a stop string. */
typedef void (*q35_gen_text_fn)(const char *text, size_t n, void *ud);

typedef struct {
    int max_new_tokens;           /* >= 0 */
    int context;                  /* positions the model takes: prompt + output <= context */
    const int *end_ids;           /* tokens that end the answer (not part of the text) */
    int n_end;
    char *const *stop;            /* stop strings: the text ends before the first match */
    int n_stop;
    int thinking_open;            /* the prompt ends inside <think>: the output starts as reasoning */
    volatile sig_atomic_t *interrupt; /* when it becomes nonzero, stop after the current token */
    q35_gen_text_fn on_text;      /* streaming (NULL: none); needs a tokenizer */
    void *ud;
} q35_gen_opts;

typedef struct {
    int *ids, n;                  /* generated ids, the end token included when one stopped it */
    char *text;                   /* the output text (UTF-8, repaired as Hugging Face decodes), cut
                                   * before the stop string; NULL without a tokenizer */
    size_t len;
    char *reasoning;              /* the thinking part, or NULL when the output has none */
    char *content;                /* the answer after it (the whole text without thinking) */
    const char *finish;           /* "stop" (end token or stop string), "length", "context", "interrupted" */
    int end_id;                   /* the end token that stopped it, or -1 */
    int stop_index;               /* the stop string matched, or -1 */
    int prompt_tokens;
    double prefill_s, decode_s;   /* prefill (and vision) seconds; seconds of the decode steps */
} q35_gen_result;

/* Generates from prompt[n_prompt] (ids, image tokens expanded; images their batch or NULL) from
 * empty caches (s is reset first), with smp reset to its seed first, so the same call gives the same
 * tokens. tok: for text, stop strings and streaming (NULL: ids only). Returns 0, or -1 with err (a
 * prompt that does not fit the context, a forward error, out of memory). */
int q35_generate(q35_gen_result *r, q35_text_state *s, const q35_ops *ops, q35_sampler *smp,
                 const q35_tokenizer *tok, const int *prompt, int n_prompt, const q35_image_batch *images,
                 const q35_gen_opts *o, char *err, size_t errlen);
void q35_gen_result_free(q35_gen_result *r);

/* The output text as it grows: bytes pushed token by token, stop strings matched across tokens,
 * pieces sent to on_text once final (whole UTF-8 characters, no possible stop-string prefix). */
typedef struct {
    char *b;                 /* the raw bytes so far (cut before a stop string once matched) */
    size_t n, cap, streamed; /* bytes held, room, bytes already sent */
    char *const *stop;
    int n_stop;
    int stopped;             /* the index of the stop string matched, or -1 */
    q35_gen_text_fn on_text;
    void *ud;
} q35_text_stream;

void q35_text_stream_init(q35_text_stream *t, char *const *stop, int n_stop, q35_gen_text_fn on_text, void *ud);
/* Appends a token's bytes; returns 1 when a stop string now ends the text, 0 to go on, -1 on OOM. */
int q35_text_stream_push(q35_text_stream *t, const char *bytes, size_t n);
/* Sends what is left; returns the whole text repaired (a new string, *len bytes) or NULL on OOM. */
char *q35_text_stream_finish(q35_text_stream *t, size_t *len);
void q35_text_stream_free(q35_text_stream *t);

/* Splits text into reasoning and content: with thinking_open, or when text starts with <think>,
 * reasoning is what comes before </think> (all of it when there is none) and content what follows;
 * else reasoning is NULL and content the text. Reasoning loses its newlines at both ends, content
 * those at its start (the template writes "<think>\n...\n</think>\n\n"). New strings. */
int q35_split_thinking(const char *text, int thinking_open, char **reasoning, char **content);

/* Whether a rendered prompt ends inside a thinking block (its last <think> is not closed). */
int q35_prompt_opens_thinking(const char *prompt_text);

#endif
