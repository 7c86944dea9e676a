/* test_sampler.c - the sampler: its draws against the filtered softmax (chi-square), each penalty
 * on hand-computed logits, greedy ties, seeds, the real vocabulary size, bad settings, presets. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"
#include "testutil.h"

static char err[512];

static uint64_t rs = 88172645463325252ull;
static double rnd(void) { /* xorshift64, [0, 1) */
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return (double)(rs >> 11) * 0x1.0p-53;
}

static q35_sampling base(void) {
    q35_sampling p = { .temperature = 1, .top_p = 1, .top_k = 0, .min_p = 0, .repetition_penalty = 1, .seed = 1 };
    return p;
}

/* The distribution the settings define over logits l[V], computed plainly: softmax(l / T), keep
 * the top_k best (by logit, then id), then the smallest best-first prefix reaching top_p of that
 * renormalised mass, then p >= min_p * p_max; renormalised into want[V] (0 = dropped). */
static void expected(double *want, const float *l, int V, const q35_sampling *p) {
    int *ord = malloc((size_t)V * sizeof *ord);
    for (int i = 0; i < V; i++) ord[i] = i;
    for (int i = 0; i < V; i++) /* selection sort: the test's V is small */
        for (int j = i + 1; j < V; j++)
            if (l[ord[j]] > l[ord[i]] || (l[ord[j]] == l[ord[i]] && ord[j] < ord[i])) {
                int t = ord[i];
                ord[i] = ord[j], ord[j] = t;
            }
    int n = p->top_k > 0 && p->top_k < V ? p->top_k : V;
    double *w = calloc((size_t)V, sizeof *w), tot = 0;
    for (int i = 0; i < n; i++) tot += w[i] = exp(((double)l[ord[i]] - l[ord[0]]) / p->temperature);
    if (p->top_p < 1) {
        double cum = 0;
        int m = 0;
        while (m < n && cum < p->top_p * tot) cum += w[m++];
        n = m;
    }
    memset(want, 0, (size_t)V * sizeof *want);
    double keep = 0;
    for (int i = 0; i < n; i++)
        if (w[i] >= p->min_p * w[0]) keep += want[ord[i]] = w[i];
    for (int i = 0; i < V; i++) want[i] /= keep;
    free(ord), free(w);
}

/* Chi-square critical value at the 0.999 quantile for df degrees of freedom (Wilson-Hilferty). */
static double chi2_999(int df) {
    double z = 3.0902, a = 2.0 / (9.0 * df);
    return df * pow(1 - a + z * sqrt(a), 3);
}

START_TEST(draws_follow_the_filtered_softmax) {
    enum { V = 50, N = 100000 };
    float l[V], row[V];
    for (int i = 0; i < V; i++) l[i] = (float)(4 * rnd() - 2);
    q35_sampling cases[5];
    for (int c = 0; c < 5; c++) cases[c] = base();
    cases[1].temperature = 0.7f, cases[1].top_k = 5;
    cases[2].top_p = 0.8f;
    cases[3].min_p = 0.1f;
    cases[4].top_k = 20, cases[4].top_p = 0.95f;
    for (int c = 0; c < 5; c++) {
        double want[V];
        expected(want, l, V, &cases[c]);
        q35_sampler *s = q35_sampler_new(&cases[c], V, err, sizeof err);
        ck_assert_msg(s != NULL, "%s", err);
        int count[V] = { 0 };
        for (int k = 0; k < N; k++) {
            memcpy(row, l, sizeof row);
            int id = q35_sampler_sample(s, row);
            ck_assert(id >= 0 && id < V);
            count[id]++;
        }
        double chi = 0;
        int df = -1;
        for (int i = 0; i < V; i++) {
            if (want[i] == 0) {
                ck_assert_msg(count[i] == 0, "case %d: id %d is outside the kept set but drawn %d times", c, i, count[i]);
                continue;
            }
            double e = want[i] * N;
            chi += (count[i] - e) * (count[i] - e) / e;
            df++;
        }
        ck_assert_msg(df < 1 || chi < chi2_999(df), "case %d: chi-square %.1f over %d df (bar %.1f)", c, chi, df,
                      chi2_999(df));
        q35_sampler_free(s);
    }
}
END_TEST

START_TEST(penalties_by_hand) {
    /* prompt {0}, output {1, 1, 3}; temperature 0 so the draw is the argmax, and the row is read back */
    const float l0[4] = { 2.0f, -1.0f, 0.5f, 3.0f };
    struct {
        float rep, freq, pres;
        float want[4];
    } cases[] = {
        { 1.5f, 0, 0, { 2.0f / 1.5f, -1.0f * 1.5f, 0.5f, 3.0f / 1.5f } }, /* prompt and output ids */
        { 1, 0.5f, 0, { 2.0f, -2.0f, 0.5f, 2.5f } },                       /* by count in the output */
        { 1, 0, 2.0f, { 2.0f, -3.0f, 0.5f, 1.0f } },                       /* once, output only */
        { 1, 0.5f, 2.0f, { 2.0f, -4.0f, 0.5f, 0.5f } },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        q35_sampling p = base();
        p.temperature = 0, p.repetition_penalty = cases[c].rep, p.frequency_penalty = cases[c].freq;
        p.presence_penalty = cases[c].pres;
        q35_sampler *s = q35_sampler_new(&p, 4, err, sizeof err);
        ck_assert_msg(s != NULL, "%s", err);
        int prompt[1] = { 0 };
        q35_sampler_add_prompt(s, prompt, 1);
        q35_sampler_accept(s, 1), q35_sampler_accept(s, 1), q35_sampler_accept(s, 3);
        float row[4];
        memcpy(row, l0, sizeof row);
        int id = q35_sampler_sample(s, row);
        for (int i = 0; i < 4; i++)
            ck_assert_msg(row[i] == cases[c].want[i], "case %zu: logit %d is %g, want %g", c, i, (double)row[i],
                          (double)cases[c].want[i]);
        int arg = 0;
        for (int i = 1; i < 4; i++)
            if (cases[c].want[i] > cases[c].want[arg]) arg = i;
        ck_assert_int_eq(id, arg);
        /* reset forgets the prompt and the output: no penalty any more */
        q35_sampler_reset(s);
        memcpy(row, l0, sizeof row);
        q35_sampler_sample(s, row);
        ck_assert(memcmp(row, l0, sizeof row) == 0);
        q35_sampler_free(s);
    }
}
END_TEST

START_TEST(greedy_lowest_id_on_ties) {
    float l[6] = { 1, 5, 2, 5, NAN, 5 };
    q35_sampling p = base();
    p.temperature = 0;
    q35_sampler *s = q35_sampler_new(&p, 6, err, sizeof err);
    ck_assert_int_eq(q35_sampler_sample(s, l), 1);
    q35_sampler_free(s);
    p.temperature = 1e-6f; /* below 1e-5: greedy too */
    s = q35_sampler_new(&p, 6, err, sizeof err);
    float l2[6] = { 1, 5, 2, 5, NAN, 5 };
    ck_assert_int_eq(q35_sampler_sample(s, l2), 1);
    q35_sampler_free(s);
}
END_TEST

START_TEST(nan_never_drawn) {
    enum { V = 8 };
    q35_sampling p = base();
    p.temperature = 2;
    q35_sampler *s = q35_sampler_new(&p, V, err, sizeof err);
    for (int k = 0; k < 5000; k++) {
        float l[V] = { 0, NAN, 0, NAN, 0, 0, NAN, 0 };
        int id = q35_sampler_sample(s, l);
        ck_assert_msg(id != 1 && id != 3 && id != 6, "drew NaN id %d", id);
    }
    float all[3] = { NAN, NAN, NAN };
    q35_sampler_free(s);
    s = q35_sampler_new(&p, 3, err, sizeof err);
    ck_assert_int_eq(q35_sampler_sample(s, all), 0); /* nothing finite: the lowest id */
    q35_sampler_free(s);
}
END_TEST

static void draw_seq(int *out, int n, uint64_t seed, q35_sampler *reuse) {
    enum { V = 100 };
    q35_sampling p = base();
    p.seed = seed;
    q35_sampler *s = reuse ? reuse : q35_sampler_new(&p, V, err, sizeof err);
    for (int k = 0; k < n; k++) {
        float l[V];
        for (int i = 0; i < V; i++) l[i] = (float)(i % 7) * 0.3f;
        out[k] = q35_sampler_sample(s, l);
    }
    if (!reuse) q35_sampler_free(s);
}

START_TEST(seeds) {
    int a[200], b[200], c[200], d[200];
    draw_seq(a, 200, 42, NULL);
    draw_seq(b, 200, 42, NULL);
    draw_seq(c, 200, 43, NULL);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    ck_assert(memcmp(a, c, sizeof a) != 0);
    q35_sampling p = base();
    p.seed = 42;
    q35_sampler *s = q35_sampler_new(&p, 100, err, sizeof err);
    draw_seq(d, 200, 42, s);
    q35_sampler_reset(s); /* reseeds: the same sequence again */
    draw_seq(d, 200, 42, s);
    ck_assert(memcmp(a, d, sizeof a) == 0);
    q35_sampler_free(s);
}
END_TEST

/* At the real vocabulary size the selection paths (heap top-k, growing nucleus) keep exactly the
 * ids a full sort keeps. */
START_TEST(real_vocabulary) {
    enum { V = 248320 };
    float *l = malloc(V * sizeof *l), *row = malloc(V * sizeof *row);
    int *ord = malloc(V * sizeof *ord);
    for (int i = 0; i < V; i++) l[i] = (float)(rnd() * 4), ord[i] = i;
    for (int i = 0; i < 300; i++) l[(i * 7919) % V] += 14; /* a head of about 300 likely ids */
    /* rank of each id by a full sort (qsort with the same order) */
    int *rank = malloc(V * sizeof *rank);
    for (int i = 0; i < V; i++) rank[i] = 0;
    /* count the ids before each id: only needed for the head, so sort the head plainly */
    int head[400], nh = 0;
    for (int i = 0; i < V; i++)
        if (l[i] > 14) head[nh++] = i;
    for (int i = 0; i < nh; i++)
        for (int j = i + 1; j < nh; j++)
            if (l[head[j]] > l[head[i]] || (l[head[j]] == l[head[i]] && head[j] < head[i])) {
                int t = head[i];
                head[i] = head[j], head[j] = t;
            }
    for (int i = 0; i < nh; i++) rank[head[i]] = i + 1;
    /* top-k 20 + top-p 0.95: every draw among the 20 best */
    q35_sampling p = base();
    p.top_k = 20, p.top_p = 0.95f;
    q35_sampler *s = q35_sampler_new(&p, V, err, sizeof err);
    for (int k = 0; k < 300; k++) {
        memcpy(row, l, V * sizeof *l);
        int id = q35_sampler_sample(s, row);
        ck_assert_msg(rank[id] >= 1 && rank[id] <= 20, "top-k 20: drew id %d of rank %d", id, rank[id]);
    }
    q35_sampler_free(s);
    /* no top-k, top-p 0.5: every draw within the nucleus of the whole distribution */
    double z = 0, mx = l[head[0]];
    for (int i = 0; i < V; i++) z += exp(l[i] - mx);
    int nucleus = 0;
    double cum = 0;
    while (cum < 0.5 * z) cum += exp(l[head[nucleus++]] - mx);
    ck_assert_int_lt(nucleus, nh);
    p = base();
    p.top_p = 0.5f;
    s = q35_sampler_new(&p, V, err, sizeof err);
    for (int k = 0; k < 300; k++) {
        memcpy(row, l, V * sizeof *l);
        int id = q35_sampler_sample(s, row);
        ck_assert_msg(rank[id] >= 1 && rank[id] <= nucleus, "top-p 0.5: drew id %d of rank %d (nucleus %d)", id,
                      rank[id], nucleus);
    }
    q35_sampler_free(s);
    free(l), free(row), free(ord), free(rank);
}
END_TEST

START_TEST(bad_settings) {
    struct {
        const char *field;
        q35_sampling p;
    } bad[] = {
        { "temperature", { -1, 1, 0, 0, 0, 0, 1, 0 } },   { "top_p", { 1, 0, 0, 0, 0, 0, 1, 0 } },
        { "top_p", { 1, 1.5f, 0, 0, 0, 0, 1, 0 } },       { "top_k", { 1, 1, -1, 0, 0, 0, 1, 0 } },
        { "min_p", { 1, 1, 0, 2, 0, 0, 1, 0 } },          { "repetition_penalty", { 1, 1, 0, 0, 0, 0, 0, 0 } },
        { "presence_penalty", { 1, 1, 0, 0, NAN, 0, 1, 0 } }, { "temperature", { INFINITY, 1, 0, 0, 0, 0, 1, 0 } },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        ck_assert_int_eq(q35_sampling_check(&bad[i].p, err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[i].field), "case %zu: '%s' does not name %s", i, err, bad[i].field);
        ck_assert_ptr_null(q35_sampler_new(&bad[i].p, 10, err, sizeof err));
    }
}
END_TEST

START_TEST(presets) {
    int n;
    const q35_preset *ps = q35_presets(&n);
    ck_assert_int_ge(n, 9);
    for (int i = 0; i < n; i++) {
        ck_assert_ptr_eq(q35_preset_find(ps[i].name), &ps[i]);
        ck_assert_msg(q35_sampling_check(&ps[i].s, err, sizeof err) == 0, "%s: %s", ps[i].name, err);
        ck_assert(ps[i].source && ps[i].source[0] && ps[i].description && ps[i].description[0]);
    }
    const q35_preset *v = q35_preset_find("vl-instruct");
    ck_assert_ptr_nonnull(v);
    ck_assert(v->s.temperature == 0.7f && v->s.top_p == 0.8f && v->s.top_k == 20 && v->s.min_p == 0 &&
              v->s.presence_penalty == 1.5f && v->s.repetition_penalty == 1.0f);
    const q35_preset *t = q35_preset_find("instruct");
    ck_assert(t->s.temperature == 1.0f && t->s.top_p == 1.0f && t->s.presence_penalty == 2.0f);
    ck_assert_ptr_null(q35_preset_find("Instruct"));
    ck_assert_ptr_null(q35_preset_find(NULL));
}
END_TEST

int main(void) {
    Suite *s = suite_create("sampler");
    TCase *tc = tcase_create("sampler");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, draws_follow_the_filtered_softmax);
    tcase_add_test(tc, penalties_by_hand);
    tcase_add_test(tc, greedy_lowest_id_on_ties);
    tcase_add_test(tc, nan_never_drawn);
    tcase_add_test(tc, seeds);
    tcase_add_test(tc, real_vocabulary);
    tcase_add_test(tc, bad_settings);
    tcase_add_test(tc, presets);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
