/* sampler.h - the next token from a row of logits: penalties, temperature, top-k, top-p, min-p and
 * a seeded draw, with the semantics servers document (vLLM's, the OpenAI definitions).
 *
 * Order, per token (each step skipped when it is off):
 *   1. repetition_penalty r: for every id seen in the prompt or the output, logit / r if logit > 0,
 *      else logit * r (transformers and vLLM);
 *   2. frequency_penalty f: logit - f * (times the id occurs in the output);
 *   3. presence_penalty p: logit - p if the id occurs in the output at least once (prompt excluded);
 *   4. temperature: 0 = greedy (argmax; the lowest id on ties), else logits / T;
 *   5. top_k (keep the k largest), then top_p (the smallest set of largest probabilities whose sum
 *      reaches top_p, at least one), then min_p (drop p < min_p * p_max), on the softmax of what is
 *      left; renormalise and draw.
 * The generator is the module's own (seeded xoshiro256**, 53-bit uniforms), so a seed gives the
 * same tokens on any machine and thread count. No step sorts the whole vocabulary. */
#ifndef Q35_SAMPLER_H
#define Q35_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    float temperature;        /* >= 0; 0 = greedy */
    float top_p;              /* (0, 1]; 1 = off */
    int top_k;                /* >= 0; 0 = off (all tokens) */
    float min_p;              /* [0, 1]; 0 = off */
    float presence_penalty;   /* any finite; 0 = off */
    float frequency_penalty;  /* any finite; 0 = off */
    float repetition_penalty; /* > 0; 1 = off */
    uint64_t seed;
} q35_sampling;

/* A named preset: the sampling settings documented for Qwen3.5, with where they come from. */
typedef struct {
    const char *name;        /* "instruct", "vl-instruct", "thinking", ... */
    const char *description; /* one line: when to use it */
    const char *source;      /* the document and table that state the values */
    int thinking;            /* 1: meant for thinking mode, 0: non-thinking, -1: either */
    q35_sampling s;          /* seed 0 */
} q35_preset;

/* The presets, in a fixed order; *n receives their number. */
const q35_preset *q35_presets(int *n);
/* The preset called name, or NULL. */
const q35_preset *q35_preset_find(const char *name);

/* 0 when every value of p is in range, else -1 with err naming the field and its range. */
int q35_sampling_check(const q35_sampling *p, char *err, size_t errlen);

typedef struct q35_sampler q35_sampler;

/* A sampler for rows of vocab logits. NULL with err on a bad setting or out of memory. */
q35_sampler *q35_sampler_new(const q35_sampling *p, int vocab, char *err, size_t errlen);
void q35_sampler_free(q35_sampler *s);
/* Forgets the prompt and output tokens and reseeds the generator with the setting's seed. */
void q35_sampler_reset(q35_sampler *s);
/* Marks prompt ids as seen (repetition penalty only). Ids outside [0, vocab) are ignored. */
void q35_sampler_add_prompt(q35_sampler *s, const int *ids, int n);
/* Records a generated id (all penalties). Ids outside [0, vocab) are ignored. */
void q35_sampler_accept(q35_sampler *s, int id);
/* The next id from logits[vocab], which it overwrites with the penalised logits (NaN becomes
 * -inf; temperature and filters act on its own copies). Does not record the id: call
 * q35_sampler_accept with it. Allocation-free. */
int q35_sampler_sample(q35_sampler *s, float *logits);

#endif
