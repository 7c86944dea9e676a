/* stats.c - McNemar's exact test, Newcombe's paired interval and `q35 eval diff` (stats.h). */
#include "stats.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "util.h"

/* ---- McNemar's exact test ---- */

/* log(n!) - log(sqrt(2 pi n) (n/e)^n), the error of Stirling's formula (Loader 2000), n >= 1. */
static double stirlerr(double n) {
    const double S0 = 1.0 / 12, S1 = 1.0 / 360, S2 = 1.0 / 1260, S3 = 1.0 / 1680, S4 = 1.0 / 1188;
    if (n <= 15) return lgamma(n + 1) - (n + 0.5) * log(n) + n - 0.91893853320467274178; /* log sqrt(2 pi) */
    double nn = n * n;
    if (n > 500) return (S0 - S1 / nn) / n;
    if (n > 80) return (S0 - (S1 - S2 / nn) / nn) / n;
    if (n > 35) return (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n;
    return (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n;
}

/* x log(x / np) + np - x without cancellation when x is near np (Loader 2000). */
static double bd0(double x, double np) {
    if (fabs(x - np) < 0.1 * (x + np)) {
        double v = (x - np) / (x + np), s = (x - np) * v, ej = 2 * x * v;
        v *= v;
        for (int j = 1; j < 1000; j++) {
            ej *= v;
            double s1 = s + ej / (2 * j + 1);
            if (s1 == s) return s1;
            s = s1;
        }
        return s;
    }
    return x * log(x / np) + np - x;
}

/* P(X = k) for X ~ Binomial(N, 1/2), to a few ulps (Loader's saddle-point form, as R's dbinom). */
static double binom_half(double k, double N) {
    if (k == 0 || k == N) return N > 2000 ? 0 : ldexp(1.0, -(int)N);
    double lc = stirlerr(N) - stirlerr(k) - stirlerr(N - k) - bd0(k, N / 2) - bd0(N - k, N / 2);
    double lf = 1.83787706640934548356 /* log 2 pi */ + log(k) + log1p(-k / N);
    return exp(lc - 0.5 * lf);
}

double q35_mcnemar_exact_p(int b, int c) {
    if (b < 0 || c < 0) return NAN;
    double N = (double)b + c, m = b < c ? b : c;
    if (N == 0) return 1;
    if (N <= 62) { /* exact: Pascal's row in integers, one rounding */
        uint64_t row[63] = { 1 }, sum = 0;
        for (int r = 1; r <= (int)N; r++)
            for (int k = r; k >= 1; k--) row[k] += row[k - 1];
        for (int k = 0; k <= (int)m; k++) sum += row[k];
        double p = ldexp((double)sum, 1 - (int)N);
        return p > 1 ? 1 : p;
    }
    /* P(X <= m) = pmf(m) (1 + r_m + r_m r_{m-1} + ...), r_k = pmf(k-1)/pmf(k) = k/(N-k+1) <= 1 */
    double t = binom_half(m, N), s = t;
    for (double k = m; k >= 1 && t > s * 1e-18; k--) {
        t *= k / (N - k + 1);
        s += t;
    }
    double p = 2 * s;
    return p > 1 ? 1 : p;
}

/* ---- Newcombe's paired interval ---- */

static void wilson95(double k, double n, double *lo, double *hi) {
    const double z = 1.959963984540054;
    double p = k / n, d = 1 + z * z / n, c = (p + z * z / (2 * n)) / d;
    double h = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d;
    *lo = c - h < 0 || k == 0 ? 0 : c - h;
    *hi = c + h > 1 || k == n ? 1 : c + h;
}

void q35_paired_diff95(int both, int a_only, int b_only, int neither, double *diff, double *lo, double *hi) {
    if (both < 0 || a_only < 0 || b_only < 0 || neither < 0) {
        *diff = *lo = *hi = NAN;
        return;
    }
    double e = both, f = b_only, g = a_only, h = neither, n = e + f + g + h;
    if (n == 0) {
        *diff = *lo = *hi = 0;
        return;
    }
    /* Newcombe's table: first proportion p1 = B's accuracy (e + f)/n, second p2 = A's (e + g)/n */
    double p1 = (e + f) / n, p2 = (e + g) / n, l1, u1, l2, u2;
    wilson95(e + f, n, &l1, &u1);
    wilson95(e + g, n, &l2, &u2);
    double margins = (e + f) * (g + h) * (e + g) * (f + h), A = e * h - f * g, phi = 0;
    if (margins > 0) {
        if (A > n / 2) phi = (A - n / 2) / sqrt(margins);
        else if (A < 0) phi = A / sqrt(margins);
    }
    double x = p1 - l1, y = u2 - p2;
    double down = sqrt(fmax(0, x * x - 2 * phi * x * y + y * y));
    x = u1 - p1, y = p2 - l2;
    double up = sqrt(fmax(0, x * x - 2 * phi * x * y + y * y));
    *diff = (f - g) / n;
    *lo = fmax(-1, *diff - down);
    *hi = fmin(1, *diff + up);
}

/* ---- reading a run ---- */

typedef struct {
    char *subject;
    int doc_id, pred, gold, correct, line;
    char psha[65], isha[65]; /* "" when absent */
} rec;

typedef struct {
    char *key, *val;
} kv;

typedef struct {
    const char *dir;
    rec *r;
    int n, torn; /* torn: the line number of a torn last line, else 0 */
    char *task, *config, *model, *backend; /* NULL when unknown */
    kv *cfg;
    int ncfg;
} run;

static void run_free(run *R) {
    for (int i = 0; i < R->n; i++) free(R->r[i].subject);
    free(R->r);
    for (int i = 0; i < R->ncfg; i++) free(R->cfg[i].key), free(R->cfg[i].val);
    free(R->cfg);
    free(R->task), free(R->config), free(R->model), free(R->backend);
    memset(R, 0, sizeof *R);
}

/* An integral JSON number in [lo, INT_MAX] into *v; -1 otherwise. */
static int get_int(const cJSON *o, const char *key, int lo, int *v) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(j)) return -1;
    double d = j->valuedouble;
    if (!(d >= lo && d <= INT_MAX) || d != floor(d)) return -1;
    *v = (int)d;
    return 0;
}

/* An optional digest: "" when absent; -1 when present but not a string of at most 64 chars. */
static int get_digest(const cJSON *o, const char *key, char out[65]) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    out[0] = 0;
    if (!j) return 0;
    if (!cJSON_IsString(j) || strlen(j->valuestring) > 64) return -1;
    strcpy(out, j->valuestring);
    return 0;
}

/* 1 when s is a usable name: non-empty, UTF-8, no control characters, at most 1024 bytes. */
static int good_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 1024 || !q35_valid_utf8(s)) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
    return 1;
}

/* Parses one line (len bytes, not NUL-terminated) into r; NULL, or why it is not a record. */
static const char *parse_record(const char *s, size_t len, rec *r) {
    const char *why = NULL;
    cJSON *j;
    int pr = q35_json_parse_one(s, len, &j, NULL);
    if (pr == -1) return "not JSON";
    if (pr == -2) return "bytes after the JSON value";
    const cJSON *sj = cJSON_GetObjectItemCaseSensitive(j, "subject"), *cj = cJSON_GetObjectItemCaseSensitive(j, "correct");
    memset(r, 0, sizeof *r);
    if (!cJSON_IsObject(j)) why = "not a JSON object";
    else if (!cJSON_IsString(sj) || !good_name(sj->valuestring)) why = "no \"subject\" name";
    else if (get_int(j, "doc_id", 0, &r->doc_id) != 0) why = "\"doc_id\" is not an integer >= 0";
    else if (get_int(j, "pred", -1, &r->pred) != 0) why = "\"pred\" is not an integer >= -1";
    else if (get_int(j, "gold", 0, &r->gold) != 0) why = "\"gold\" is not an integer >= 0";
    else if (!cJSON_IsBool(cj)) why = "\"correct\" is not true or false";
    else if (get_digest(j, "prompt_sha256", r->psha) != 0) why = "\"prompt_sha256\" is not a digest";
    else if (get_digest(j, "ids_sha256", r->isha) != 0) why = "\"ids_sha256\" is not a digest";
    else if (!(r->subject = strdup(sj->valuestring))) why = "out of memory";
    else r->correct = cJSON_IsTrue(cj);
    cJSON_Delete(j);
    return why;
}

static int rec_cmp(const void *x, const void *y) {
    const rec *a = x, *b = y;
    int c = strcmp(a->subject, b->subject);
    return c ? c : (a->doc_id > b->doc_id) - (a->doc_id < b->doc_id);
}

/* RUN/samples.jsonl into R->r, sorted by (subject, doc_id). */
static int load_samples(run *R, char *err, size_t errlen) {
    char path[4200];
    snprintf(path, sizeof path, "%s/samples.jsonl", R->dir);
    size_t n;
    errno = 0;
    char *text = q35_read_file(path, (size_t)1 << 31, &n);
    if (!text && errno == ENOENT) return q35_fail(err, errlen, "%s: no samples.jsonl (not a q35 eval run directory?)", R->dir);
    if (!text) return q35_fail(err, errlen, "%s: cannot read: %s", path, strerror(errno ? errno : EIO));
    size_t pos = 0, cap = 0;
    int line = 0, rc = 0;
    while (pos < n && rc == 0) {
        char *nl = memchr(text + pos, '\n', n - pos);
        line++;
        if (!nl) { /* a torn last line: the run redoes it */
            R->torn = line;
            break;
        }
        if ((size_t)R->n == cap) {
            cap = cap ? 2 * cap : 1024;
            rec *g = cap <= INT_MAX ? realloc(R->r, cap * sizeof *g) : NULL;
            if (!g) {
                rc = q35_fail(err, errlen, "%s: out of memory", path);
                break;
            }
            R->r = g;
        }
        const char *why = parse_record(text + pos, (size_t)(nl - (text + pos)), &R->r[R->n]);
        if (why) rc = q35_fail(err, errlen, "%s:%d: %s", path, line, why);
        else R->r[R->n++].line = line;
        pos = (size_t)(nl - text) + 1;
    }
    free(text);
    if (rc != 0) return rc;
    if (R->n > 1) qsort(R->r, (size_t)R->n, sizeof *R->r, rec_cmp);
    for (int i = 1; i < R->n; i++)
        if (rec_cmp(&R->r[i - 1], &R->r[i]) == 0) {
            int l0 = R->r[i - 1].line, l1 = R->r[i].line;
            return q35_fail(err, errlen, "%s:%d: duplicate item (%s, doc_id %d), first at line %d", path, l0 > l1 ? l0 : l1,
                            R->r[i].subject, R->r[i].doc_id, l0 < l1 ? l0 : l1);
        }
    return 0;
}

/* A copy of o[key] when it is a string, else NULL. */
static char *dup_string(const cJSON *o, const char *key) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(j) && good_name(j->valuestring) ? strdup(j->valuestring) : NULL;
}

/* The flat "key: value" lines of RUN/config.yaml (as q35 eval writes it), when there is one. */
static int load_config_yaml(run *R, char *err, size_t errlen) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config.yaml", R->dir);
    char *text = q35_read_file(path, 1 << 20, NULL);
    if (!text) return 0;
    int rc = 0;
    for (char *s = text, *next; s && *s && rc == 0; s = next) {
        next = strchr(s, '\n');
        if (next) *next++ = 0;
        char *colon = strchr(s, ':');
        if (*s == '#' || *s == ' ' || !colon || colon == s || (colon[1] && colon[1] != ' ')) continue;
        *colon = 0;
        char *v = colon + 1, *e = v + strlen(v);
        while (*v == ' ') v++;
        while (e > v && (e[-1] == ' ' || e[-1] == '\r')) *--e = 0;
        if (!good_name(s) || (*v && !good_name(v))) continue;
        kv *g = R->ncfg < 4096 ? realloc(R->cfg, (size_t)(R->ncfg + 1) * sizeof *g) : NULL;
        if (!g) break;
        R->cfg = g;
        char *k = strdup(s), *val = strdup(v);
        if (!k || !val) {
            free(k), free(val);
            rc = q35_fail(err, errlen, "out of memory");
            break;
        }
        R->cfg[R->ncfg].key = k, R->cfg[R->ncfg++].val = val;
    }
    free(text);
    return rc;
}

static const char *cfg_get(const run *R, const char *key) {
    for (int i = 0; i < R->ncfg; i++)
        if (strcmp(R->cfg[i].key, key) == 0) return R->cfg[i].val;
    return NULL;
}

/* The header: results.json, else run.json; config.yaml. */
static int load_header(run *R, char *err, size_t errlen) {
    const char *names[2] = { "results.json", "run.json" };
    for (int f = 0; f < 2; f++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", R->dir, names[f]);
        cJSON *j = q35_read_json_object(path, 64u << 20, 1, err, errlen);
        if (!j && err[0]) return -1;
        if (!j) continue;
        if (!R->task) R->task = dup_string(j, "task");
        if (!R->config) R->config = dup_string(j, "config_sha256");
        if (!R->model) R->model = dup_string(j, "model_fingerprint");
        if (!R->backend) R->backend = dup_string(j, "backend");
        cJSON_Delete(j);
    }
    if (load_config_yaml(R, err, errlen) != 0) return -1;
    const char *v;
    if (!R->task && (v = cfg_get(R, "task")) && *v) R->task = strdup(v);
    if (!R->backend && (v = cfg_get(R, "backend")) && *v) R->backend = strdup(v);
    return 0;
}

/* ---- the comparison ---- */

typedef struct {
    const char *name;
    int n, ca, cb, a_only, b_only, changed;
} subj;

typedef struct {
    int paired, only_a, only_b, diff_prompt, diff_gold, changed;
    int t[4]; /* both right, A only, B only, both wrong */
    subj *s;
    int ns;
    int (*ch)[2]; /* the first `list` changed items: indexes into A and B */
    int nch;
    int *oa, *ob; /* the first `list` items of only one run */
    int noa, nob;
} cmp;

static void cmp_free(cmp *d) {
    free(d->s), free(d->ch), free(d->oa), free(d->ob);
}

static int compare(const run *A, const run *B, int list, cmp *d, char *err, size_t errlen) {
    memset(d, 0, sizeof *d);
    d->ch = malloc(((size_t)(list < A->n ? list : A->n) + 1) * sizeof *d->ch);
    d->oa = malloc(((size_t)(list < A->n ? list : A->n) + 1) * sizeof *d->oa);
    d->ob = malloc(((size_t)(list < B->n ? list : B->n) + 1) * sizeof *d->ob);
    int scap = 0;
    if (!d->ch || !d->oa || !d->ob) return q35_fail(err, errlen, "out of memory");
    int i = 0, j = 0;
    while (i < A->n || j < B->n) {
        int c = i < A->n && j < B->n ? rec_cmp(&A->r[i], &B->r[j]) : i < A->n ? -1 : 1;
        if (c < 0) {
            if (d->only_a++ < list) d->oa[d->noa++] = i;
            i++;
            continue;
        }
        if (c > 0) {
            if (d->only_b++ < list) d->ob[d->nob++] = j;
            j++;
            continue;
        }
        const rec *a = &A->r[i], *b = &B->r[j];
        if (d->ns == 0 || strcmp(d->s[d->ns - 1].name, a->subject) != 0) {
            if (d->ns == scap) {
                scap = scap ? 2 * scap : 64;
                subj *g = realloc(d->s, (size_t)scap * sizeof *g);
                if (!g) return q35_fail(err, errlen, "out of memory");
                d->s = g;
            }
            d->s[d->ns++] = (subj){ .name = a->subject };
        }
        subj *s = &d->s[d->ns - 1];
        int cell = a->correct ? (b->correct ? 0 : 1) : (b->correct ? 2 : 3);
        d->paired++, d->t[cell]++;
        s->n++, s->ca += a->correct, s->cb += b->correct, s->a_only += cell == 1, s->b_only += cell == 2;
        if (a->psha[0] && b->psha[0] && strcmp(a->psha, b->psha) != 0) d->diff_prompt++;
        else if (a->isha[0] && b->isha[0] && strcmp(a->isha, b->isha) != 0) d->diff_prompt++;
        d->diff_gold += a->gold != b->gold;
        if (a->pred != b->pred) {
            s->changed++;
            if (d->changed++ < list) d->ch[d->nch][0] = i, d->ch[d->nch++][1] = j;
        }
        i++, j++;
    }
    return 0;
}

/* An option letter: A.. for 0..25, "-" for -1 (nothing extracted), else the number. */
static const char *letter(int v, char buf[16]) {
    if (v < 0) return "-";
    if (v < 26) snprintf(buf, 16, "%c", 'A' + v);
    else snprintf(buf, 16, "%d", v);
    return buf;
}

/* ---- text ---- */

/* "label  same: v" / "label  DIFFER: A va, B vb"; hashes cut to 16 hex digits. */
static void same_line(FILE *out, const char *label, const char *va, const char *vb, int cut) {
    int w = cut ? 16 : 1 << 20;
    if (!va && !vb) fprintf(out, "%-8s unknown (neither run records it)\n", label);
    else if (!va || !vb) fprintf(out, "%-8s unknown in %s (the other: %.*s)\n", label, va ? "B" : "A", w, va ? va : vb);
    else if (strcmp(va, vb) == 0) fprintf(out, "%-8s same: %.*s\n", label, w, va);
    else fprintf(out, "%-8s DIFFER: A %.*s, B %.*s\n", label, w, va, w, vb);
}

static void print_config_diff(FILE *out, const run *A, const run *B) {
    for (int i = 0; i < A->ncfg; i++) {
        const char *vb = cfg_get(B, A->cfg[i].key);
        if (!vb || strcmp(vb, A->cfg[i].val) != 0)
            fprintf(out, "           %s: %s -> %s\n", A->cfg[i].key, A->cfg[i].val, vb ? vb : "(absent)");
    }
    for (int i = 0; i < B->ncfg; i++)
        if (!cfg_get(A, B->cfg[i].key)) fprintf(out, "           %s: (absent) -> %s\n", B->cfg[i].key, B->cfg[i].val);
}

static void print_p(FILE *out, double p) {
    if (p < 1e-4) fprintf(out, "%.2e", p);
    else fprintf(out, "%.4f", p);
}

static void print_text(FILE *out, const run *A, const run *B, const cmp *d, int list) {
    const run *R[2] = { A, B };
    for (int k = 0; k < 2; k++) {
        fprintf(out, "%c: %s  (%s, %d items)\n", 'A' + k, R[k]->dir, R[k]->task ? R[k]->task : "task unknown", R[k]->n);
        if (R[k]->torn)
            fprintf(out, "   note: %s/samples.jsonl:%d: a torn last line (no newline), left out: the run would redo it\n",
                    R[k]->dir, R[k]->torn);
    }
    same_line(out, "config", A->config, B->config, 1);
    print_config_diff(out, A, B);
    same_line(out, "model", A->model, B->model, 1);
    same_line(out, "backend", A->backend, B->backend, 0);
    fprintf(out, "\nitems: %d paired; %d only in A, %d only in B", d->paired, d->only_a, d->only_b);
    fprintf(out, d->only_a || d->only_b ? " (left out of the paired statistics)\n" : "\n");
    for (int k = 0; k < 2; k++) {
        int n = k ? d->nob : d->noa, total = k ? d->only_b : d->only_a;
        const int *ix = k ? d->ob : d->oa;
        if (!total) continue;
        fprintf(out, "  only in %c:", 'A' + k);
        for (int i = 0; i < n; i++) fprintf(out, "%s %s %d", i ? "," : "", R[k]->r[ix[i]].subject, R[k]->r[ix[i]].doc_id);
        fprintf(out, total > n ? ", ...\n" : "\n");
    }
    fprintf(out, "fed different prompts: %d of %d paired items (prompt_sha256 or ids_sha256 differ)\n", d->diff_prompt,
            d->paired);
    if (d->diff_gold) fprintf(out, "WARNING: %d paired items have different gold answers: the datasets differ\n", d->diff_gold);
    fprintf(out, "\n             B right  B wrong\n  A right   %8d %8d\n  A wrong   %8d %8d\n\n", d->t[0], d->t[1], d->t[2],
            d->t[3]);
    int ka = d->t[0] + d->t[1], kb = d->t[0] + d->t[2], n = d->paired;
    if (n == 0) {
        fprintf(out, "no paired items: no accuracies to compare\n");
        return;
    }
    double diff, lo, hi;
    q35_paired_diff95(d->t[0], d->t[1], d->t[2], d->t[3], &diff, &lo, &hi);
    fprintf(out, "accuracy A  %6.2f%%  (%d/%d)\naccuracy B  %6.2f%%  (%d/%d)\n", 100.0 * ka / n, ka, n, 100.0 * kb / n, kb, n);
    fprintf(out, "B - A       %+6.2f points, 95%% interval %+.2f to %+.2f (Newcombe hybrid score, paired)\n", 100 * diff,
            100 * lo, 100 * hi);
    fprintf(out, "McNemar exact p = ");
    print_p(out, q35_mcnemar_exact_p(d->t[1], d->t[2]));
    fprintf(out, " (%d right in A only, %d right in B only)\n", d->t[1], d->t[2]);
    int w = 7, nsd = 0;
    for (int i = 0; i < d->ns; i++) {
        int l = (int)strlen(d->s[i].name);
        if (d->s[i].changed && l > w) w = l > 40 ? 40 : l;
        nsd += d->s[i].changed > 0;
    }
    for (int i = 0; i < d->nch; i++) {
        int l = (int)strlen(A->r[d->ch[i][0]].subject);
        if (l > w) w = l > 40 ? 40 : l;
    }
    if (nsd) {
        fprintf(out, "\nper subject, where predictions differ (%d of %d subjects):\n", nsd, d->ns);
        fprintf(out, "  %-*s %6s %7s %7s %7s %7s %8s\n", w, "subject", "n", "acc A", "acc B", "A only", "B only", "changed");
        for (int i = 0; i < d->ns; i++) {
            const subj *s = &d->s[i];
            if (!s->changed) continue;
            fprintf(out, "  %-*s %6d %6.1f%% %6.1f%% %7d %7d %8d\n", w, s->name, s->n, 100.0 * s->ca / s->n,
                    100.0 * s->cb / s->n, s->a_only, s->b_only, s->changed);
        }
    }
    if (d->changed == 0) {
        fprintf(out, "\nno paired item's prediction differs\n");
        return;
    }
    fprintf(out, "\nchanged items (prediction differs): %d", d->changed);
    if (list < d->changed) fprintf(out, "; the first %d", list);
    if (d->nch) fprintf(out, "\n  %-*s %7s %4s %4s %4s  right in\n", w, "subject", "doc_id", "gold", "A", "B");
    else fprintf(out, "\n");
    for (int i = 0; i < d->nch; i++) {
        const rec *a = &A->r[d->ch[i][0]], *b = &B->r[d->ch[i][1]];
        char g[16], pa[16], pb[16];
        fprintf(out, "  %-*s %7d %4s %4s %4s  %s\n", w, a->subject, a->doc_id, letter(a->gold, g), letter(a->pred, pa),
                letter(b->pred, pb), a->correct ? (b->correct ? "both" : "A") : (b->correct ? "B" : "neither"));
    }
}

/* ---- JSON ---- */

static void add_string_or_null(cJSON *o, const char *key, const char *v) {
    if (v) cJSON_AddStringToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

static int same(const char *a, const char *b) {
    return a && b && strcmp(a, b) == 0;
}

static cJSON *run_json(const run *R) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "run", R->dir);
    add_string_or_null(o, "task", R->task);
    add_string_or_null(o, "config_sha256", R->config);
    add_string_or_null(o, "model_fingerprint", R->model);
    add_string_or_null(o, "backend", R->backend);
    cJSON_AddNumberToObject(o, "items", R->n);
    cJSON_AddBoolToObject(o, "torn_last_line", R->torn > 0);
    return o;
}

static cJSON *item_list(const run *R, const int *ix, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "subject", R->r[ix[i]].subject);
        cJSON_AddNumberToObject(o, "doc_id", R->r[ix[i]].doc_id);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *diff_json(const run *A, const run *B, const cmp *d) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "schema", "q35-eval-diff/1");
    cJSON_AddItemToObject(j, "a", run_json(A));
    cJSON_AddItemToObject(j, "b", run_json(B));
    cJSON_AddBoolToObject(j, "same_config", same(A->config, B->config));
    cJSON_AddBoolToObject(j, "same_model", same(A->model, B->model));
    cJSON_AddBoolToObject(j, "same_backend", same(A->backend, B->backend));
    cJSON *cd = cJSON_AddArrayToObject(j, "config_differences");
    for (int k = 0; k < 2; k++) {
        const run *X = k ? B : A, *Y = k ? A : B;
        for (int i = 0; i < X->ncfg; i++) {
            const char *v = cfg_get(Y, X->cfg[i].key);
            if (k ? v != NULL : same(v, X->cfg[i].val)) continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "key", X->cfg[i].key);
            add_string_or_null(o, "a", k ? NULL : X->cfg[i].val);
            add_string_or_null(o, "b", k ? X->cfg[i].val : v);
            cJSON_AddItemToArray(cd, o);
        }
    }
    cJSON_AddNumberToObject(j, "paired", d->paired);
    cJSON_AddNumberToObject(j, "only_in_a", d->only_a);
    cJSON_AddNumberToObject(j, "only_in_b", d->only_b);
    cJSON_AddItemToObject(j, "only_in_a_items", item_list(A, d->oa, d->noa));
    cJSON_AddItemToObject(j, "only_in_b_items", item_list(B, d->ob, d->nob));
    cJSON_AddNumberToObject(j, "different_prompts", d->diff_prompt);
    cJSON_AddNumberToObject(j, "different_gold", d->diff_gold);
    cJSON *t = cJSON_AddObjectToObject(j, "table");
    cJSON_AddNumberToObject(t, "both_right", d->t[0]);
    cJSON_AddNumberToObject(t, "a_only", d->t[1]);
    cJSON_AddNumberToObject(t, "b_only", d->t[2]);
    cJSON_AddNumberToObject(t, "both_wrong", d->t[3]);
    int n = d->paired;
    double diff, lo, hi;
    q35_paired_diff95(d->t[0], d->t[1], d->t[2], d->t[3], &diff, &lo, &hi);
    if (n) {
        cJSON_AddNumberToObject(j, "acc_a", (double)(d->t[0] + d->t[1]) / n);
        cJSON_AddNumberToObject(j, "acc_b", (double)(d->t[0] + d->t[2]) / n);
    } else {
        cJSON_AddNullToObject(j, "acc_a");
        cJSON_AddNullToObject(j, "acc_b");
    }
    cJSON_AddNumberToObject(j, "diff", diff);
    cJSON_AddNumberToObject(j, "diff_ci95_lo", lo);
    cJSON_AddNumberToObject(j, "diff_ci95_hi", hi);
    cJSON_AddStringToObject(j, "interval", "newcombe-hybrid-score-paired");
    cJSON_AddNumberToObject(j, "mcnemar_p", q35_mcnemar_exact_p(d->t[1], d->t[2]));
    cJSON_AddNumberToObject(j, "pred_changed", d->changed);
    cJSON *subs = cJSON_AddObjectToObject(j, "subjects");
    for (int i = 0; i < d->ns; i++) {
        const subj *s = &d->s[i];
        cJSON *o = cJSON_AddObjectToObject(subs, s->name);
        cJSON_AddNumberToObject(o, "n", s->n);
        cJSON_AddNumberToObject(o, "correct_a", s->ca);
        cJSON_AddNumberToObject(o, "correct_b", s->cb);
        cJSON_AddNumberToObject(o, "a_only", s->a_only);
        cJSON_AddNumberToObject(o, "b_only", s->b_only);
        cJSON_AddNumberToObject(o, "pred_changed", s->changed);
    }
    cJSON *ch = cJSON_AddArrayToObject(j, "changed");
    for (int i = 0; i < d->nch; i++) {
        const rec *a = &A->r[d->ch[i][0]], *b = &B->r[d->ch[i][1]];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "subject", a->subject);
        cJSON_AddNumberToObject(o, "doc_id", a->doc_id);
        cJSON_AddNumberToObject(o, "gold", a->gold);
        cJSON_AddNumberToObject(o, "pred_a", a->pred);
        cJSON_AddNumberToObject(o, "pred_b", b->pred);
        cJSON_AddBoolToObject(o, "correct_a", a->correct);
        cJSON_AddBoolToObject(o, "correct_b", b->correct);
        cJSON_AddItemToArray(ch, o);
    }
    cJSON *notes = cJSON_AddArrayToObject(j, "notes");
    const run *R[2] = { A, B };
    for (int k = 0; k < 2; k++)
        if (R[k]->torn) {
            char msg[4400];
            snprintf(msg, sizeof msg, "%s/samples.jsonl:%d: a torn last line (no newline), left out: the run would redo it",
                     R[k]->dir, R[k]->torn);
            cJSON_AddItemToArray(notes, cJSON_CreateString(msg));
        }
    if (d->diff_gold) {
        char msg[200];
        snprintf(msg, sizeof msg, "%d paired items have different gold answers: the datasets differ", d->diff_gold);
        cJSON_AddItemToArray(notes, cJSON_CreateString(msg));
    }
    return j;
}

int q35_eval_diff(const char *run_a, const char *run_b, FILE *out, int json, int list, char *err, size_t errlen) {
    run A = { .dir = run_a }, B = { .dir = run_b };
    cmp d = { 0 };
    int rc = -1;
    if (list < 0) list = 0;
    if (err && errlen) err[0] = 0;
    if (load_samples(&A, err, errlen) != 0 || load_samples(&B, err, errlen) != 0) goto out;
    if (load_header(&A, err, errlen) != 0 || load_header(&B, err, errlen) != 0) goto out;
    if (compare(&A, &B, list, &d, err, errlen) != 0) goto out;
    if (json) {
        cJSON *j = diff_json(&A, &B, &d);
        char *txt = j ? cJSON_Print(j) : NULL;
        cJSON_Delete(j);
        if (!txt) {
            q35_fail(err, errlen, "out of memory");
            goto out;
        }
        fprintf(out, "%s\n", txt);
        free(txt);
    } else {
        print_text(out, &A, &B, &d, list);
    }
    if (fflush(out) != 0 || ferror(out)) {
        q35_fail(err, errlen, "write failed: %s", strerror(errno ? errno : EIO));
        goto out;
    }
    rc = 0;
out:
    cmp_free(&d);
    run_free(&A);
    run_free(&B);
    return rc;
}
