/* sampler.c - penalties, temperature, top-k / top-p / min-p and a seeded draw (sampler.h). */
#include "sampler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct q35_sampler {
    q35_sampling p;
    int V;
    uint64_t rng[4];
    int *count;           /* [V] times each id occurs in the output */
    unsigned char *seen;  /* [V] 1: in the prompt or the output */
    int *seen_ids, n_seen; /* the ids with seen = 1, each once */
    int *out_ids, n_out;   /* the ids with count > 0, each once */
    int *cand;            /* [V] candidate ids */
    double *w;            /* [V] their weights */
};

/* ---- the generator: xoshiro256**, seeded through splitmix64 ---- */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(uint64_t *s) {
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* Uniform in [0, 1) with 53 random bits. */
static double uniform(uint64_t *s) { return (double)(next_u64(s) >> 11) * 0x1.0p-53; }

/* ---- presets ---- */

#define CARD "Qwen3.5-0.8B model card (also 2B), Best Practices: "
#define TABLES "Qwen3.5 model card, the settings stated under its "
static const q35_preset presets[] = {
    { "instruct", "non-thinking mode, text (the default without --think)", CARD "non-thinking mode, text tasks", 0,
      { 1.0f, 1.0f, 20, 0.0f, 2.0f, 0.0f, 1.0f, 0 } },
    { "vl-instruct", "non-thinking mode, vision-language", CARD "non-thinking mode, vision-language tasks", 0,
      { 0.7f, 0.8f, 20, 0.0f, 1.5f, 0.0f, 1.0f, 0 } },
    { "thinking", "thinking mode, text", CARD "thinking mode, text tasks", 1, { 1.0f, 0.95f, 20, 0.0f, 1.5f, 0.0f, 1.0f, 0 } },
    { "vl-thinking", "thinking mode, vision-language or precise coding",
      CARD "thinking mode, vision-language tasks or precise coding", 1, { 0.6f, 0.95f, 20, 0.0f, 0.0f, 0.0f, 1.0f, 0 } },
    { "bench-text", "the card's language benchmarks", TABLES "language benchmark tables", -1,
      { 1.0f, 0.95f, 20, 0.0f, 1.5f, 0.0f, 1.0f, 0 } },
    { "bench-vl-thinking", "the card's vision-language benchmarks, thinking mode",
      TABLES "vision-language benchmark tables, thinking mode", 1, { 0.6f, 0.95f, 20, 0.0f, 1.5f, 0.0f, 1.0f, 0 } },
    { "bench-vl-instruct", "the card's vision-language benchmarks, non-thinking mode",
      TABLES "vision-language benchmark tables, non-thinking mode", 0, { 0.7f, 0.8f, 20, 0.0f, 1.5f, 0.0f, 1.0f, 0 } },
    { "bench-video", "the card's video benchmarks", TABLES "video benchmark tables", -1,
      { 1.0f, 0.95f, 20, 0.0f, 1.5f, 0.0f, 1.0f, 0 } },
    { "greedy", "argmax (lowest id on ties): reproducible runs and tests; the card advises against it for use",
      "q35 (not from the card)", -1, { 0.0f, 1.0f, 0, 0.0f, 0.0f, 0.0f, 1.0f, 0 } },
};

const q35_preset *q35_presets(int *n) {
    *n = (int)(sizeof presets / sizeof presets[0]);
    return presets;
}

const q35_preset *q35_preset_find(const char *name) {
    for (size_t i = 0; name && i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(presets[i].name, name) == 0) return &presets[i];
    return NULL;
}

int q35_sampling_check(const q35_sampling *p, char *err, size_t errlen) {
    if (!(p->temperature >= 0) || !isfinite(p->temperature))
        return q35_fail(err, errlen, "temperature %g: must be a finite number >= 0 (0 = greedy)", (double)p->temperature);
    if (!(p->top_p > 0 && p->top_p <= 1)) return q35_fail(err, errlen, "top_p %g: must be in (0, 1]", (double)p->top_p);
    if (p->top_k < 0) return q35_fail(err, errlen, "top_k %d: must be >= 0 (0 = off)", p->top_k);
    if (!(p->min_p >= 0 && p->min_p <= 1)) return q35_fail(err, errlen, "min_p %g: must be in [0, 1]", (double)p->min_p);
    if (!isfinite(p->presence_penalty))
        return q35_fail(err, errlen, "presence_penalty %g: must be finite", (double)p->presence_penalty);
    if (!isfinite(p->frequency_penalty))
        return q35_fail(err, errlen, "frequency_penalty %g: must be finite", (double)p->frequency_penalty);
    if (!(p->repetition_penalty > 0) || !isfinite(p->repetition_penalty))
        return q35_fail(err, errlen, "repetition_penalty %g: must be a finite number > 0 (1 = off)",
                        (double)p->repetition_penalty);
    return 0;
}

/* ---- the sampler ---- */

q35_sampler *q35_sampler_new(const q35_sampling *p, int vocab, char *err, size_t errlen) {
    if (q35_sampling_check(p, err, errlen) != 0) return NULL;
    if (vocab < 1) {
        q35_fail(err, errlen, "vocabulary of %d tokens", vocab);
        return NULL;
    }
    q35_sampler *s = calloc(1, sizeof *s);
    if (s) {
        s->p = *p, s->V = vocab;
        s->count = calloc((size_t)vocab, sizeof *s->count);
        s->seen = calloc((size_t)vocab, 1);
        s->seen_ids = malloc((size_t)vocab * sizeof *s->seen_ids);
        s->out_ids = malloc((size_t)vocab * sizeof *s->out_ids);
        s->cand = malloc((size_t)vocab * sizeof *s->cand);
        s->w = malloc((size_t)vocab * sizeof *s->w);
    }
    if (!s || !s->count || !s->seen || !s->seen_ids || !s->out_ids || !s->cand || !s->w) {
        q35_sampler_free(s);
        q35_fail(err, errlen, "out of memory for a sampler over %d tokens", vocab);
        return NULL;
    }
    q35_sampler_reset(s);
    return s;
}

void q35_sampler_free(q35_sampler *s) {
    if (!s) return;
    free(s->count), free(s->seen), free(s->seen_ids), free(s->out_ids), free(s->cand), free(s->w);
    free(s);
}

void q35_sampler_reset(q35_sampler *s) {
    for (int i = 0; i < s->n_seen; i++) s->seen[s->seen_ids[i]] = 0;
    for (int i = 0; i < s->n_out; i++) s->count[s->out_ids[i]] = 0;
    s->n_seen = s->n_out = 0;
    uint64_t x = s->p.seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&x);
}

static void mark_seen(q35_sampler *s, int id) {
    if (!s->seen[id]) s->seen[id] = 1, s->seen_ids[s->n_seen++] = id;
}

void q35_sampler_add_prompt(q35_sampler *s, const int *ids, int n) {
    for (int i = 0; i < n; i++)
        if (ids[i] >= 0 && ids[i] < s->V) mark_seen(s, ids[i]);
}

void q35_sampler_accept(q35_sampler *s, int id) {
    if (id < 0 || id >= s->V) return;
    mark_seen(s, id);
    if (s->count[id]++ == 0) s->out_ids[s->n_out++] = id;
}

/* a ranks before b: larger logit, then lower id. */
static int before(const float *l, int a, int b) { return l[a] > l[b] || (l[a] == l[b] && a < b); }

/* The c best ids of l[V] (before() order) into out[0..c), sorted best first: a heap of the c best
 * seen so far, its worst at the root (O(V log c)). */
static void best_ids(int *out, const float *l, int V, int c) {
    int n = 0;
    float worst = -INFINITY; /* the root's logit once the heap is full: most ids fail this test */
    for (int id = 0; id < V; id++) {
        if (n == c && (l[id] < worst || !before(l, id, out[0]))) continue;
        int i;
        if (n < c) { /* sift up from the end */
            i = n++;
            while (i > 0 && before(l, out[(i - 1) / 2], id)) out[i] = out[(i - 1) / 2], i = (i - 1) / 2;
        } else { /* replace the root, sift down */
            i = 0;
            for (;;) {
                int k = 2 * i + 1;
                if (k >= n) break;
                if (k + 1 < n && before(l, out[k], out[k + 1])) k++; /* the worse child */
                if (!before(l, id, out[k])) break; /* id is no better than the worse child */
                out[i] = out[k], i = k;
            }
        }
        out[i] = id;
        if (n == c) worst = l[out[0]];
    }
    for (int end = n - 1; end > 0; end--) { /* heap sort: the worst goes last */
        int top = out[0], i = 0, x = out[end];
        for (;;) {
            int k = 2 * i + 1;
            if (k >= end) break;
            if (k + 1 < end && before(l, out[k], out[k + 1])) k++;
            if (!before(l, x, out[k])) break;
            out[i] = out[k], i = k;
        }
        out[i] = x;
        out[end] = top;
    }
}

int q35_sampler_sample(q35_sampler *s, float *l) {
    const q35_sampling *p = &s->p;
    int V = s->V;
    if (p->repetition_penalty != 1.0f)
        for (int i = 0; i < s->n_seen; i++) {
            float *x = &l[s->seen_ids[i]];
            *x = *x > 0 ? *x / p->repetition_penalty : *x * p->repetition_penalty;
        }
    if (p->frequency_penalty != 0.0f || p->presence_penalty != 0.0f)
        for (int i = 0; i < s->n_out; i++) {
            int id = s->out_ids[i];
            l[id] -= p->frequency_penalty * (float)s->count[id] + p->presence_penalty;
        }
    for (int i = 0; i < V; i++) l[i] = l[i] != l[i] ? -INFINITY : l[i]; /* NaN is never drawn (a blend: vectorised) */
    int k = p->top_k > 0 && p->top_k < V ? p->top_k : V, arg = 0;
    int greedy = p->temperature < 1e-5f; /* vLLM's rule */
    if (!greedy && k < V) { /* top-k selection also finds the argmax: one pass over the row */
        best_ids(s->cand, l, V, k);
        arg = s->cand[0];
    } else {
        float best = l[0];
        for (int i = 1; i < V; i++)
            if (l[i] > best) best = l[i], arg = i;
    }
    /* greedy: the argmax, lowest id on ties; so is a row with nothing finite */
    if (greedy || l[arg] == -INFINITY) return arg;
    /* weights exp((l - max) / T): the order of the logits is that of the scaled ones, so selection
     * runs on l itself and only the kept candidates are scaled */
    double mx = l[arg], inv_t = 1.0 / p->temperature;
    int n, c = V;
    if (k < V) { /* top-k (selected above), best first, then top-p over their renormalised mass */
        double tot = 0, cum = 0;
        for (int i = 0; i < k; i++) tot += s->w[i] = exp(((double)l[s->cand[i]] - mx) * inv_t);
        n = k;
        if (p->top_p < 1.0f) {
            n = 0;
            while (n < k && cum < (double)p->top_p * tot) cum += s->w[n++];
        }
    } else if (p->top_p < 1.0f) { /* the nucleus without sorting everything: a best-first prefix of
                                    * 64, 256, ... ids until its mass reaches top_p */
        double z = 0, cum = 0;
        for (int i = 0; i < V; i++) z += exp(((double)l[i] - mx) * inv_t);
        for (c = 64;; c *= 4) {
            if (c > V) c = V;
            best_ids(s->cand, l, V, c);
            cum = 0;
            for (int i = 0; i < c; i++) cum += exp(((double)l[s->cand[i]] - mx) * inv_t);
            if (cum >= (double)p->top_p * z || c == V) break;
        }
        n = 0, cum = 0;
        while (n < c && cum < (double)p->top_p * z) cum += s->w[n] = exp(((double)l[s->cand[n]] - mx) * inv_t), n++;
    } else { /* the whole vocabulary, in id order */
        for (int i = 0; i < V; i++) s->cand[i] = i, s->w[i] = exp(((double)l[i] - mx) * inv_t);
        n = V;
    }
    if (n < 1) n = 1;
    if (p->min_p > 0.0f) { /* keep p >= min_p * p_max */
        double wmax = 0;
        for (int i = 0; i < n; i++)
            if (s->w[i] > wmax) wmax = s->w[i];
        int m = 0;
        for (int i = 0; i < n; i++)
            if (s->w[i] >= (double)p->min_p * wmax) s->cand[m] = s->cand[i], s->w[m++] = s->w[i];
        n = m;
    }
    double tot = 0;
    for (int i = 0; i < n; i++) tot += s->w[i];
    double u = uniform(s->rng) * tot, cum = 0;
    for (int i = 0; i < n; i++) {
        cum += s->w[i];
        if (u < cum) return s->cand[i];
    }
    return s->cand[n - 1]; /* u rounded up to the total */
}
