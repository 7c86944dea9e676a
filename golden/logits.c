/* logits.c - top-k agreement and KL divergence between logits, full or compact. */
#include "logits.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* One side's view of one position. */
typedef struct {
    double *lp;        /* full: log-probabilities [V] (scratch) */
    const q35_logit_src *src;
    int64_t row, V, k; /* k: compact width */
    int64_t top[64];   /* the kept / largest ids, decreasing */
    double top_lp[64];
    int ntop;
} side;

/* Inserts (id, v) into the decreasing list top[0..*n) of capacity K; ties keep the smaller id first. */
static void topk_insert(int64_t *top, double *val, int *n, int K, int64_t id, double v) {
    if (*n == K && !(v > val[K - 1])) return;
    int i = *n < K ? (*n)++ : K - 1;
    while (i > 0 && v > val[i - 1]) {
        top[i] = top[i - 1];
        val[i] = val[i - 1];
        i--;
    }
    top[i] = id;
    val[i] = v;
}

/* Log-sum-exp of x[0..V) in double. */
static double lse_f64(const double *x, int64_t V) {
    double mx = -INFINITY, s = 0;
    for (int64_t i = 0; i < V; i++)
        if (x[i] > mx) mx = x[i];
    if (!isfinite(mx)) return mx;
    for (int64_t i = 0; i < V; i++) s += exp(x[i] - mx);
    return mx + log(s);
}

/* Loads position row of a side: full rows become log-probabilities and their top K ids. */
static void side_load(side *s, int64_t row, int K) {
    s->row = row;
    s->ntop = 0;
    if (s->src->full) {
        for (int64_t i = 0; i < s->V; i++) s->lp[i] = q35_get_f64(s->src->full, row * s->V + i);
        double l = lse_f64(s->lp, s->V);
        for (int64_t i = 0; i < s->V; i++) {
            s->lp[i] -= l;
            topk_insert(s->top, s->top_lp, &s->ntop, K, i, s->lp[i]);
        }
    } else {
        for (int64_t j = 0; j < s->k && j < 64; j++) {
            s->top[j] = (int64_t)q35_get_f64(s->src->ids, row * s->k + j);
            s->top_lp[j] = q35_get_f64(s->src->lp, row * s->k + j);
            s->ntop++;
        }
    }
}

/* log p(id) on side s; *exact = 0 when a compact side did not keep id (then its smallest kept). */
static double side_lp(const side *s, int64_t id, int *exact) {
    *exact = 1;
    if (s->src->full) return (id >= 0 && id < s->V) ? s->lp[id] : -INFINITY;
    for (int j = 0; j < s->ntop; j++)
        if (s->top[j] == id) return s->top_lp[j];
    *exact = 0;
    return s->ntop ? s->top_lp[s->ntop - 1] : -INFINITY;
}

/* KL(r || s) for one position: exact over V when both are full, else over r's top kk + rest. */
static double kl_pos(const side *r, const side *s, int kk) {
    if (r->src->full && s->src->full) {
        double kl = 0;
        for (int64_t i = 0; i < r->V; i++) {
            double p = exp(r->lp[i]);
            if (p > 0) kl += p * (r->lp[i] - s->lp[i]);
        }
        return kl > 0 ? kl : 0;
    }
    double kl = 0, rsum = 0, ssum = 0;
    int n = kk < r->ntop ? kk : r->ntop, exact;
    for (int j = 0; j < n; j++) {
        double lr = r->top_lp[j], ls = side_lp(s, r->top[j], &exact), p = exp(lr);
        rsum += p;
        ssum += exp(ls);
        if (p > 0) kl += p * (lr - ls);
    }
    double rrest = 1 - rsum, srest = 1 - ssum;
    if (rrest > 1e-12) kl += rrest * (log(rrest) - log(srest > 1e-300 ? srest : 1e-300));
    return kl > 0 ? kl : 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void stats(const double *v, int n, double *mean, double *p99, double *mx) {
    double *s = malloc((size_t)(n ? n : 1) * sizeof *s), sum = 0;
    *mean = *p99 = *mx = 0;
    if (!s || n == 0) {
        free(s);
        return;
    }
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    for (int i = 0; i < n; i++) sum += s[i];
    int rank = (int)ceil(0.99 * n) - 1;
    *mean = sum / n;
    *p99 = s[rank < 0 ? 0 : rank];
    *mx = s[n - 1];
    free(s);
}

/* Positions and width of a source; -1 when its tensors do not fit together. */
static int src_dims(const q35_logit_src *s, int64_t *rows, int64_t *width) {
    const q35_tensor *t = s->full ? s->full : s->ids;
    if (!t || t->ndim < 1 || t->shape[t->ndim - 1] <= 0) return -1;
    *width = t->shape[t->ndim - 1];
    *rows = q35_numel(t) / *width;
    if (!s->full) {
        if (!s->lp || s->lp->ndim != s->ids->ndim) return -1;
        for (int i = 0; i < t->ndim; i++)
            if (s->lp->shape[i] != t->shape[i]) return -1;
    }
    return 0;
}

int q35_compare_logits(q35_logit_cmp *r, const q35_logit_src *ours, const q35_logit_src *gold, char *err,
                       size_t errlen) {
    memset(r, 0, sizeof *r);
    r->first_argmax_diff = -1;
    int64_t ro, wo, rg, wg;
    if (src_dims(ours, &ro, &wo) != 0 || src_dims(gold, &rg, &wg) != 0)
        return q35_fail(err, errlen, "logits: compact ids and log-probabilities differ in shape");
    if (ro != rg) return q35_fail(err, errlen, "logits: %lld positions in ours, %lld in the golden", (long long)ro, (long long)rg);
    if (ours->full && gold->full && wo != wg)
        return q35_fail(err, errlen, "logits: vocabulary %lld in ours, %lld in the golden", (long long)wo, (long long)wg);
    side o = { .src = ours, .V = ours->full ? wo : 0, .k = ours->full ? 0 : wo };
    side g = { .src = gold, .V = gold->full ? wg : 0, .k = gold->full ? 0 : wg };
    r->compact = !ours->full || !gold->full;
    int K = 64; /* the widest list a position keeps */
    if (!ours->full && wo < K) K = (int)wo;
    if (!gold->full && wg < K) K = (int)wg;
    r->k = r->compact ? K : 0;
    double *kgo = malloc((size_t)(ro ? ro : 1) * sizeof *kgo), *kog = malloc((size_t)(ro ? ro : 1) * sizeof *kog);
    if (ours->full) o.lp = malloc((size_t)wo * sizeof *o.lp);
    if (gold->full) g.lp = malloc((size_t)wg * sizeof *g.lp);
    if (!kgo || !kog || (ours->full && !o.lp) || (gold->full && !g.lp)) {
        free(kgo), free(kog), free(o.lp), free(g.lp);
        return q35_fail(err, errlen, "out of memory");
    }
    double s5 = 0, s10 = 0;
    int agree = 0;
    for (int64_t p = 0; p < ro; p++) {
        side_load(&o, p, K);
        side_load(&g, p, K);
        if (o.ntop && g.ntop && o.top[0] == g.top[0]) agree++;
        else if (r->first_argmax_diff < 0) r->first_argmax_diff = (int)p;
        int kk[2] = { 5, 10 };
        for (int q = 0; q < 2; q++) {
            int k = kk[q] < K ? kk[q] : K, both = 0;
            for (int i = 0; i < k && i < o.ntop; i++)
                for (int j = 0; j < k && j < g.ntop; j++) both += o.top[i] == g.top[j];
            *(q ? &s10 : &s5) += k ? (double)both / k : 0;
        }
        kgo[p] = kl_pos(&g, &o, K);
        kog[p] = kl_pos(&o, &g, K);
        if (r->compact)
            for (int j = 0; j < g.ntop; j++) {
                int exact;
                double lo = side_lp(&o, g.top[j], &exact);
                if (exact && fabs(lo - g.top_lp[j]) > r->max_abs_logprob) r->max_abs_logprob = fabs(lo - g.top_lp[j]);
            }
    }
    r->positions = (int)ro;
    r->top1 = ro ? (double)agree / ro : 1;
    r->top5 = ro ? s5 / ro : 1;
    r->top10 = ro ? s10 / ro : 1;
    stats(kgo, (int)ro, &r->kl_go_mean, &r->kl_go_p99, &r->kl_go_max);
    stats(kog, (int)ro, &r->kl_og_mean, &r->kl_og_p99, &r->kl_og_max);
    free(kgo), free(kog), free(o.lp), free(g.lp);
    return 0;
}

void q35_logits_topk(int64_t *out_ids, float *out_lp, float *out_lse, const float *logits, int rows, int V, int k) {
    int64_t top[64];
    double val[64];
    int K = k < 64 ? k : 64;
    for (int r = 0; r < rows; r++) {
        const float *x = logits + (size_t)r * V;
        double mx = -INFINITY, s = 0;
        int n = 0;
        for (int i = 0; i < V; i++)
            if (x[i] > mx) mx = x[i];
        for (int i = 0; i < V; i++) s += exp((double)x[i] - mx);
        double l = mx + log(s);
        for (int i = 0; i < V; i++) topk_insert(top, val, &n, K, i, x[i]);
        for (int j = 0; j < K; j++) {
            out_ids[(size_t)r * k + j] = top[j];
            out_lp[(size_t)r * k + j] = (float)(val[j] - l);
        }
        out_lse[r] = (float)l;
    }
}
