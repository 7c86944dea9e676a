/* run.c - an evaluation run: the items selected (limit, shard), each item's requests as
 * lm-evaluation-harness builds them, log-likelihood or generative scoring, the per-item log
 * (appended, flushed and fsync'd per item; resumable), and results.json, report.md and chart.svg
 * computed from that log alone, so a merge of shards writes what one machine would (run.h). */
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "chart.h"
#include "chat.h"
#include "extract.h"
#include "generate.h"
#include "genconfig.h"
#include "mcfile.h"
#include "mmlu.h"
#include "prompt.h"
#include "q35.h"
#include "redux.h"
#include "sha256.h"
#include "vision.h"
#include "vlmtsv.h"
#include "pope.h"
#include "vqa.h"
#include "util.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void q35_wilson95(double k, int n, double *lo, double *hi) {
    if (n <= 0) {
        *lo = *hi = 0;
        return;
    }
    const double z = 1.959963984540054;
    double p = k / n, d = 1 + z * z / n, c = (p + z * z / (2.0 * n)) / d;
    double h = z * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / d;
    *lo = c - h < 0 || k == 0 ? 0 : c - h; /* exactly 0 and 1 at the ends, not a rounding away */
    *hi = c + h > 1 || k == n ? 1 : c + h;
}

/* ---- the dataset and the items a run takes ---- */

static int in_csv_list(const char *name, const char *list) {
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t m = e ? (size_t)(e - p) : strlen(p);
        if (m == n && strncmp(p, name, n) == 0) return 1;
        p += m + (e != NULL);
    }
    return 0;
}

int q35_eval_load_data(q35_mc_set *d, const q35_eval_config *c, char *err, size_t errlen) {
    int rc;
    if (!c->data) return q35_fail(err, errlen, "no dataset: set dataset.path in the config, or give --data PATH");
    if (!strcmp(c->format, "mmlu-csv")) {
        rc = q35_mmlu_load(d, c->data, err, errlen);
    } else if (!strcmp(c->format, "vqav2")) {
        rc = q35_vqav2_load(d, c->data, c->annotations, c->images, err, errlen);
    } else if (!strcmp(c->format, "pope")) {
        rc = q35_pope_load(d, c->data, c->images, err, errlen);
    } else if (!strcmp(c->format, "vlmevalkit-tsv")) {
        rc = q35_vlmtsv_load(d, c->data, err, errlen);
    } else if (!strcmp(c->format, "mmlu-redux")) {
        q35_redux_opts o = { c->keep, c->corrected };
        rc = q35_redux_load(d, c->data, &o, err, errlen);
    } else {
        q35_mc_columns cols = { c->col_question, c->col_choices, c->col_answer,
                                c->answer_format ? c->answer_format : "auto", c->col_subject, c->col_category };
        memset(d, 0, sizeof *d);
        rc = q35_mcfile_load(d, c->data, c->format, &cols, 0, err, errlen);
        if (rc == 0 && c->fewshot_data) rc = q35_mcfile_load(d, c->fewshot_data, c->format, &cols, 1, err, errlen);
    }
    if (rc != 0) return -1;
    if (c->subjects && c->subjects[0]) { /* keep the named subjects; a name that matches none is an error */
        for (const char *p = c->subjects; *p;) {
            const char *e = strchr(p, ',');
            size_t m = e ? (size_t)(e - p) : strlen(p);
            int found = 0;
            for (int i = 0; i < d->n; i++) found |= strlen(d->s[i].name) == m && !strncmp(d->s[i].name, p, m);
            if (!found) {
                q35_fail(err, errlen, "dataset.subjects: '%.*s' is not a subject of %s", (int)m, p, c->data);
                q35_mc_set_free(d);
                return -1;
            }
            p += m + (e != NULL);
        }
        int k = 0;
        for (int i = 0; i < d->n; i++) {
            if (in_csv_list(d->s[i].name, c->subjects)) d->s[k++] = d->s[i];
            else q35_mc_subject_free(&d->s[i]);
        }
        d->n = k;
    }
    if (d->n == 0) {
        q35_fail(err, errlen, "%s: no items", c->data);
        q35_mc_set_free(d);
        return -1;
    }
    return 0;
}

/* The items of the run, in order: per subject (sorted) the first `limit` of its scored split (with
 * circular, grouped: each item followed by its rotations, so they share the image's vision
 * output), then every shard_n-th item, or group, of that sequence from shard_k - 1 (round robin
 * over the whole sequence, so each shard holds a near-equal share of every subject; a group never
 * splits across shards). */
typedef struct {
    int s, j; /* subject, item */
    long long key; /* circular: index mod 1,000,000 */
} item_ref;

static int cmp_group(const void *a, const void *b) {
    const item_ref *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->j < y->j ? -1 : x->j > y->j;
}

static item_ref *select_items(const q35_mc_set *d, int limit, int circular, int shard_k, int shard_n, int *n) {
    int total = 0;
    for (int i = 0; i < d->n; i++) total += limit > 0 && limit < d->s[i].n_test ? limit : d->s[i].n_test;
    item_ref *r = malloc((size_t)(total ? total : 1) * sizeof *r);
    if (!r) return NULL;
    int k = 0;
    for (int i = 0; i < d->n; i++) {
        int m = limit > 0 && limit < d->s[i].n_test ? limit : d->s[i].n_test;
        for (int j = 0; j < m; j++) r[k++] = (item_ref){ i, j, circular ? d->s[i].test[j].index % 1000000 : j };
    }
    if (circular && k > 1) qsort(r, (size_t)k, sizeof *r, cmp_group);
    int out = 0, g = -1;
    for (int x = 0; x < k; x++) {
        if (x == 0 || r[x].s != r[x - 1].s || r[x].key != r[x - 1].key || !circular) g++;
        if (shard_n <= 1 || g % shard_n == shard_k - 1) r[out++] = r[x];
    }
    *n = out;
    return r;
}

/* ---- one item's requests ---- */

typedef struct {
    char *prompt;        /* the whole context text (before the request split) */
    char *context;       /* after the split (loglikelihood) or the prompt (generate) */
    int *ctx_ids, n_ctx;
    int nc;              /* choices */
    char *cont[Q35_MC_MAX_CHOICES];
    int *cont_ids[Q35_MC_MAX_CHOICES], n_cont[Q35_MC_MAX_CHOICES];
} request;

static void request_free(request *r) {
    free(r->prompt), free(r->context), free(r->ctx_ids);
    for (int k = 0; k < r->nc; k++) free(r->cont[k]), free(r->cont_ids[k]);
    memset(r, 0, sizeof *r);
}

/* loglikelihood: context_enc = encode(context); continuation_enc = encode(context +
 * continuation)[len(context_enc):], per choice target_delimiter + letter (lm-eval's _encode_pair).
 * generate: the prompt's ids. */
static int build_request(request *r, q35_tokenizer *tok, const q35_mc_prompt *p, const q35_mc_subject *s,
                         const q35_mc_item *it, int k, int generate, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->prompt = q35_mc_context(p, s, it, k, err, errlen);
    if (!r->prompt) return -1;
    if (generate) {
        if (!(r->context = strdup(r->prompt))) return q35_fail(err, errlen, "out of memory");
        return q35_tokenize(tok, r->context, strlen(r->context), &r->ctx_ids, &r->n_ctx, err, errlen);
    }
    int rc = 0;
    r->nc = it->n_choices;
    for (int c = 0; c < r->nc && rc == 0; c++) {
        size_t dl = strlen(p->target_delimiter);
        char *letter = malloc(dl + 2), *ctx, *cont;
        if (!letter) return q35_fail(err, errlen, "out of memory");
        memcpy(letter, p->target_delimiter, dl);
        letter[dl] = (char)('A' + c), letter[dl + 1] = 0;
        int bad = q35_split_request(r->prompt, letter, &ctx, &cont) != 0;
        free(letter);
        if (bad) return q35_fail(err, errlen, "out of memory");
        r->cont[c] = cont;
        if (c == 0) {
            r->context = ctx;
            rc = q35_tokenize(tok, ctx, strlen(ctx), &r->ctx_ids, &r->n_ctx, err, errlen);
        } else {
            free(ctx);
        }
        size_t lc = strlen(r->context), lk = strlen(cont);
        char *whole = malloc(lc + lk + 1);
        int *ids = NULL, n = 0;
        if (!whole) rc = q35_fail(err, errlen, "out of memory");
        if (rc == 0) {
            memcpy(whole, r->context, lc);
            memcpy(whole + lc, cont, lk + 1);
            rc = q35_tokenize(tok, whole, lc + lk, &ids, &n, err, errlen);
        }
        free(whole);
        if (rc == 0) {
            int m = n > r->n_ctx ? n - r->n_ctx : 0;
            r->cont_ids[c] = malloc((size_t)(m ? m : 1) * sizeof(int));
            if (!r->cont_ids[c]) rc = q35_fail(err, errlen, "out of memory");
            else memcpy(r->cont_ids[c], ids + r->n_ctx, (size_t)m * sizeof(int)), r->n_cont[c] = m;
            if (rc == 0 && m == 0) rc = q35_fail(err, errlen, "%s doc %d: choice %d has no continuation tokens", s->name, it->doc_id, c);
        }
        free(ids);
    }
    return rc;
}

/* log softmax(l)[id], in double. */
static double log_prob(const float *l, int V, int id, int *is_argmax) {
    float m = l[0];
    int arg = 0;
    for (int i = 1; i < V; i++)
        if (l[i] > m) m = l[i], arg = i;
    double z = 0;
    for (int i = 0; i < V; i++) z += exp((double)l[i] - m);
    *is_argmax = arg == id;
    return (double)l[id] - m - log(z);
}

/* A model state after a token prefix shared by neighbouring items (the description and shots,
 * a system prompt): computed once, copied into the working state per item. Exact by
 * construction: the prefix is compared token by token with each item's own tokenization. */
typedef struct {
    int *ids, n, cap;
    q35_text_state st;
    int on;  /* the cache is in use */
} prefix_cache;

static int common_prefix(const int *a, int na, const int *b, int nb) {
    int i = 0;
    while (i < na && i < nb && a[i] == b[i]) i++;
    return i;
}

/* Runs ctx[n] into s (logits of the last position into logits). With the cache, the snapshot
 * holds the state after the first share_n tokens of ctx (rebuilt when it holds other tokens) and
 * is copied into s, which then runs only the rest. *reused: the tokens not recomputed. */
static int run_context(q35_text_state *s, const q35_ops *ops, const int *ctx, int n, int share_n, prefix_cache *pc,
                       float *logits, int *reused, char *err, size_t errlen) {
    *reused = 0;
    if (share_n > n - 1) share_n = n - 1; /* at least one token runs, for the logits */
    if (pc && pc->on && share_n > 0) {
        if (pc->n != share_n || common_prefix(pc->ids, pc->n, ctx, n) != share_n) { /* (re)build the snapshot */
            q35_text_state_reset(&pc->st);
            pc->n = 0;
            if (q35_text_forward(&pc->st, ops, ctx, share_n, NULL, NULL, 1, NULL, err, errlen) != 0) return -1;
            if (share_n > pc->cap) {
                int *g = realloc(pc->ids, (size_t)share_n * sizeof *g);
                if (!g) return q35_fail(err, errlen, "out of memory");
                pc->ids = g, pc->cap = share_n;
            }
            memcpy(pc->ids, ctx, (size_t)share_n * sizeof *ctx);
            pc->n = share_n;
        }
        if (q35_text_state_copy(s, &pc->st, err, errlen) != 0) return -1;
        *reused = share_n;
        return q35_text_forward(s, ops, ctx + share_n, n - share_n, NULL, logits, 1, NULL, err, errlen);
    }
    q35_text_state_reset(s);
    return q35_text_forward(s, ops, ctx, n, NULL, logits, 1, NULL, err, errlen);
}

/* The tokens every remaining item of subject si shares at the start of its context (from item
 * x of the selection on): the description and shots, computed once per subject. Each context
 * is tokenized whole, as it will be scored, so the prefix is exact whatever BPE does at its end. */
static int subject_share(const item_ref *sel, int n_sel, int x, unsigned char **want, q35_tokenizer *tok,
                         const q35_mc_prompt *pr, const q35_mc_subject *s, int k, int *share, char *err, size_t errlen) {
    int *first = NULL, si = sel[x].s;
    *share = 0;
    for (int y = x; y < n_sel && sel[y].s == si; y++) {
        if (want[si][sel[y].j] == 2) continue;
        char *prompt = q35_mc_context(pr, s, &s->test[sel[y].j], k, err, errlen), *ctx, *cont;
        if (!prompt) return free(first), -1;
        int bad = q35_split_request(prompt, "", &ctx, &cont) != 0;
        free(prompt);
        if (bad) return free(first), q35_fail(err, errlen, "out of memory");
        free(cont);
        int *ids = NULL, n = 0, rc = q35_tokenize(tok, ctx, strlen(ctx), &ids, &n, err, errlen);
        free(ctx);
        if (rc != 0) return free(first), -1;
        if (!first) first = ids, *share = n;
        else *share = common_prefix(first, *share, ids, n), free(ids);
    }
    free(first);
    return 0;
}

/* The log-likelihood of each continuation: one context run when every continuation is one token
 * (all read from its last logits); else per choice the context, then the continuation token by
 * token. */
static int score_loglik(double *ll, int *greedy, const request *r, int share_n, q35_text_state *s, const q35_ops *ops,
                        float *logits, prefix_cache *pc, int *reused, char *err, size_t errlen) {
    int V = s->m->cfg.text.vocab_size, single = 1;
    for (int c = 0; c < r->nc; c++) single &= r->n_cont[c] == 1;
    if (single) {
        if (run_context(s, ops, r->ctx_ids, r->n_ctx, share_n, pc, logits, reused, err, errlen) != 0) return -1;
        for (int c = 0; c < r->nc; c++) ll[c] = log_prob(logits, V, r->cont_ids[c][0], &greedy[c]);
        return 0;
    }
    for (int c = 0; c < r->nc; c++) {
        if (run_context(s, ops, r->ctx_ids, r->n_ctx, share_n, pc, logits, reused, err, errlen) != 0) return -1;
        ll[c] = 0, greedy[c] = 1;
        for (int j = 0; j < r->n_cont[c]; j++) {
            int g;
            ll[c] += log_prob(logits, V, r->cont_ids[c][j], &g);
            greedy[c] &= g;
            if (j + 1 < r->n_cont[c] &&
                q35_text_forward(s, ops, &r->cont_ids[c][j], 1, NULL, logits, 1, NULL, err, errlen) != 0)
                return -1;
        }
    }
    return 0;
}

/* ---- the run directory ---- */

static void sha_ids(const int *ids, int n, char hex[65]) {
    q35_sha256 h;
    q35_sha256_init(&h);
    for (int i = 0; i < n; i++) {
        unsigned char b[4] = { (unsigned char)ids[i], (unsigned char)(ids[i] >> 8), (unsigned char)(ids[i] >> 16),
                               (unsigned char)(ids[i] >> 24) };
        q35_sha256_update(&h, b, 4);
    }
    q35_sha256_hex(&h, hex);
}

static void sha_text(const char *t, char hex[65]) {
    q35_sha256 h;
    q35_sha256_init(&h);
    q35_sha256_update(&h, t, strlen(t));
    q35_sha256_hex(&h, hex);
}

/* What identifies the model without reading gigabytes: SHA-256 over config.json's bytes and the
 * name and size of every file of the checkpoint directory (sorted). */
static int model_fingerprint(const char *dir, char hex[65]) {
    char p[4200];
    snprintf(p, sizeof p, "%s/config.json", dir);
    size_t n;
    char *cfg = q35_read_file(p, 16u << 20, &n);
    if (!cfg) return -1;
    q35_sha256 h;
    q35_sha256_init(&h);
    q35_sha256_update(&h, cfg, n);
    free(cfg);
    struct dirent **list;
    int k = scandir(dir, &list, NULL, alphasort);
    for (int i = 0; i < k; i++) {
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, list[i]->d_name);
        if (list[i]->d_name[0] != '.' && stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            char line[600];
            snprintf(line, sizeof line, "%s %lld\n", list[i]->d_name, (long long)st.st_size);
            q35_sha256_update(&h, line, strlen(line));
        }
        free(list[i]);
    }
    if (k >= 0) free(list);
    q35_sha256_hex(&h, hex);
    return 0;
}

/* The published sizes, by the text model's width (spec: 1024, 2048, 2560). */
static const char *model_size(const q35_model *m) {
    switch (m->cfg.text.hidden_size) {
    case 1024: return "0.8b";
    case 2048: return "2b";
    case 2560: return "4b";
    default: return "other";
    }
}

/* mkdir -p: dir and its missing parents. 0, or -1 with errno. */
static int mkdir_p(const char *dir) {
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) return errno = ENAMETOOLONG, -1;
    for (char *c = p + 1; *c; c++) {
        if (*c != '/') continue;
        *c = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
        *c = '/';
    }
    return mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static int write_file(const char *path, const char *text, char *err, size_t errlen) {
    return q35_write_file_atomic(path, text, strlen(text), err, errlen);
}

/* Per subject: items, correct, no answer extracted, prompt tokens and seconds. */
typedef struct {
    int n, no_answer;
    double correct; /* items right, or the sum of VQA soft scores */
    double tokens, seconds, out_tokens;
} tally;

static int subject_index(const q35_mc_set *d, const char *name) {
    int lo = 0, hi = d->n - 1; /* sorted by name */
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(d->s[mid].name, name);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* What the per-mode scores (circular, yes/no) need of each logged record. */
typedef struct {
    int s;           /* subject */
    long long index; /* the row's own index (0 when the record has none) */
    int pred, gold, ok;
} logged_row;

/* Reads a log: marks done items in want (1 = selected; becomes 2 when logged), tallies them.
 * A torn last line is cut off (when cut) or ignored. An item logged that the run does not select,
 * or twice, is an error. want[s] is indexed by item. *lines receives the records' text (when not
 * NULL: a new array of new strings, indexed as want); *rows (when not NULL) a new array of the
 * records' logged_row, *n_done of them. */
static int read_log(const char *path, const q35_mc_set *d, unsigned char **want, tally *t, int *n_done, int cut,
                    char ***lines, logged_row **rows, char *err, size_t errlen) {
    size_t n;
    char *text = q35_read_file(path, 1u << 30, &n);
    *n_done = 0;
    if (rows) *rows = NULL;
    if (!text) return 0; /* no log yet */
    size_t good = 0, pos = 0;
    int line = 0, rc = 0, cap = 0;
    while (pos < n && rc == 0) {
        char *nl = memchr(text + pos, '\n', n - pos);
        line++;
        if (!nl) break; /* a torn last line: redone */
        *nl = 0;
        cJSON *j = cJSON_Parse(text + pos);
        const cJSON *sj = cJSON_GetObjectItemCaseSensitive(j, "subject"), *dj = cJSON_GetObjectItemCaseSensitive(j, "doc_id"),
                    *cj = cJSON_GetObjectItemCaseSensitive(j, "correct"), *pj = cJSON_GetObjectItemCaseSensitive(j, "pred");
        int si = cJSON_IsString(sj) ? subject_index(d, sj->valuestring) : -1, item = -1;
        if (si >= 0 && cJSON_IsNumber(dj))
            for (int k = 0; k < d->s[si].n_test && item < 0; k++)
                if (d->s[si].test[k].doc_id == dj->valueint) item = k;
        if (!j || item < 0 || !cJSON_IsBool(cj) || !cJSON_IsNumber(pj) || !want[si][item]) {
            int last = nl + 1 == text + n;
            cJSON_Delete(j);
            if (last && !j) break; /* a last line cut inside its JSON: redone */
            rc = q35_fail(err, errlen, "%s:%d: not an item of this run", path, line);
            break;
        }
        if (want[si][item] == 2) {
            rc = q35_fail(err, errlen, "%s:%d: %s doc %d logged twice", path, line, sj->valuestring, dj->valueint);
            cJSON_Delete(j);
            break;
        }
        want[si][item] = 2;
        const cJSON *tk = cJSON_GetObjectItemCaseSensitive(j, "prompt_tokens"), *sc = cJSON_GetObjectItemCaseSensitive(j, "seconds"),
                    *ot = cJSON_GetObjectItemCaseSensitive(j, "output_tokens");
        const cJSON *scj = cJSON_GetObjectItemCaseSensitive(j, "score");
        t[si].n++, t[si].no_answer += pj->valueint < 0;
        t[si].correct += cJSON_IsNumber(scj) ? scj->valuedouble : cJSON_IsTrue(cj);
        t[si].tokens += cJSON_IsNumber(tk) ? tk->valuedouble : 0;
        t[si].seconds += cJSON_IsNumber(sc) ? sc->valuedouble : 0;
        t[si].out_tokens += cJSON_IsNumber(ot) ? ot->valuedouble : 0;
        if (rows) {
            if (*n_done == cap) {
                logged_row *g = realloc(*rows, (size_t)(cap = cap ? 2 * cap : 256) * sizeof *g);
                if (!g) rc = q35_fail(err, errlen, "out of memory");
                else *rows = g;
            }
            const cJSON *ij = cJSON_GetObjectItemCaseSensitive(j, "index"), *gj = cJSON_GetObjectItemCaseSensitive(j, "gold");
            if (rc == 0)
                (*rows)[*n_done] = (logged_row){ si, cJSON_IsNumber(ij) ? (long long)ij->valuedouble : 0, pj->valueint,
                                                 cJSON_IsNumber(gj) ? gj->valueint : -1, cJSON_IsTrue(cj) };
        }
        (*n_done)++;
        if (lines && !(lines[si][item] = strdup(text + pos))) rc = q35_fail(err, errlen, "out of memory");
        cJSON_Delete(j);
        pos = (size_t)(nl - text) + 1;
        good = pos;
    }
    free(text);
    if (rc == 0 && cut && good < n && truncate(path, (off_t)good) != 0)
        rc = q35_fail(err, errlen, "%s: cannot cut its torn last line: %s", path, strerror(errno));
    return rc;
}

static double reference_for(const q35_eval_config *c, const char *size) {
    if (!strcmp(size, "0.8b")) return c->ref_08b;
    if (!strcmp(size, "2b")) return c->ref_2b;
    if (!strcmp(size, "4b")) return c->ref_4b;
    return NAN;
}

/* A growing string for report.md. */
typedef struct {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int m = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (m < 0) return;
        if (b->s && b->n + (size_t)m < b->cap) {
            b->n += (size_t)m;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + (size_t)m + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) return;
        b->s = s, b->cap = cap;
    }
}

static cJSON *score_object(cJSON *parent, const char *name, int n, double correct, int no_answer) {
    double lo, hi;
    q35_wilson95(correct, n, &lo, &hi);
    cJSON *o = cJSON_AddObjectToObject(parent, name);
    cJSON_AddNumberToObject(o, "n", n);
    cJSON_AddNumberToObject(o, "correct", correct);
    cJSON_AddNumberToObject(o, "acc", n ? correct / n : 0);
    cJSON_AddNumberToObject(o, "ci95_lo", lo);
    cJSON_AddNumberToObject(o, "ci95_hi", hi);
    cJSON_AddNumberToObject(o, "no_answer", no_answer);
    return o;
}

/* MMBench's circular evaluation from the logged rows: items grouped by index mod 1,000,000 (the
 * item and its rotations); a group counts when every one of its rows is right. Per subject into
 * gn / gk (groups, groups right), overall into *n, *k. Sorts rows. */
static int cmp_circ(const void *a, const void *b) {
    const logged_row *x = a, *y = b;
    long long p = x->index % 1000000, q = y->index % 1000000;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return p < q ? -1 : p > q;
}

static void circular_scores(logged_row *rows, int nr, int *gn, int *gk, int *n, int *k) {
    *n = *k = 0;
    if (nr > 1) qsort(rows, (size_t)nr, sizeof *rows, cmp_circ);
    for (int i = 0; i < nr;) {
        int e = i, ok = 1;
        while (e < nr && rows[e].s == rows[i].s && rows[e].index % 1000000 == rows[i].index % 1000000) ok &= rows[e].ok, e++;
        gn[rows[i].s]++, gk[rows[i].s] += ok, (*n)++, *k += ok;
        i = e;
    }
}

/* POPE's metrics per split from the logged rows: "yes" the positive class; a reply that is neither yes
 * nor no counts in n (and so against accuracy) but in no cell of the table, as lmms-eval counts. */
typedef struct {
    int n, tp, fp, tn, fn;
} yn_table;

static void yes_no_scores(const logged_row *rows, int nr, yn_table *t) {
    for (int i = 0; i < nr; i++) {
        yn_table *x = &t[rows[i].s];
        int p = rows[i].pred, g = rows[i].gold;
        x->n++;
        if (p == 0) g == 0 ? x->tp++ : x->fp++;
        else if (p == 1) g == 0 ? x->fn++ : x->tn++;
    }
}

static cJSON *yes_no_object(cJSON *parent, const char *name, const yn_table *x) {
    cJSON *o = cJSON_AddObjectToObject(parent, name);
    double p = x->tp + x->fp ? (double)x->tp / (x->tp + x->fp) : 0, r = x->tp + x->fn ? (double)x->tp / (x->tp + x->fn) : 0;
    cJSON_AddNumberToObject(o, "n", x->n);
    cJSON_AddNumberToObject(o, "accuracy", x->n ? (double)(x->tp + x->tn) / x->n : 0);
    cJSON_AddNumberToObject(o, "precision", p);
    cJSON_AddNumberToObject(o, "recall", r);
    cJSON_AddNumberToObject(o, "f1", p + r > 0 ? 2 * p * r / (p + r) : 0);
    cJSON_AddNumberToObject(o, "yes_ratio", x->n ? (double)(x->tp + x->fp) / x->n : 0);
    cJSON_AddNumberToObject(o, "tp", x->tp), cJSON_AddNumberToObject(o, "fp", x->fp);
    cJSON_AddNumberToObject(o, "tn", x->tn), cJSON_AddNumberToObject(o, "fn", x->fn);
    cJSON_AddNumberToObject(o, "neither", x->n - x->tp - x->fp - x->tn - x->fn);
    return o;
}

/* results.json, report.md and chart.svg of the run in dir from its samples.jsonl alone. */
static int write_results(const char *dir, const q35_eval_config *c, const q35_eval_run_info *ri, const q35_mc_set *d,
                         unsigned char **want, int total, double wall, char *err, size_t errlen) {
    char p[4300];
    snprintf(p, sizeof p, "%s/samples.jsonl", dir);
    tally *t = calloc((size_t)d->n, sizeof *t);
    if (!t) return q35_fail(err, errlen, "out of memory");
    int n_done, rc;
    for (int i = 0; i < d->n; i++)
        for (int j = 0; j < d->s[i].n_test; j++) want[i][j] = want[i][j] ? 1 : 0;
    logged_row *rows = NULL;
    if ((rc = read_log(p, d, want, t, &n_done, 0, NULL, &rows, err, errlen)) != 0) {
        free(t), free(rows);
        return -1;
    }
    int generative = !strcmp(c->scoring, "generate");
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "schema", "q35-eval-results/1");
    cJSON_AddStringToObject(j, "q35_version", Q35_VERSION);
    cJSON_AddStringToObject(j, "task", c->task);
    cJSON_AddStringToObject(j, "scoring", c->scoring);
    cJSON_AddStringToObject(j, "config_sha256", c->hash);
    cJSON_AddStringToObject(j, "model_fingerprint", ri->model_fp);
    cJSON_AddStringToObject(j, "model_size", ri->model_size);
    cJSON_AddStringToObject(j, "backend", c->backend);
    cJSON_AddNumberToObject(j, "num_fewshot", c->num_fewshot);
    cJSON_AddNumberToObject(j, "items_selected", total);
    cJSON_AddNumberToObject(j, "items_logged", n_done);
    cJSON_AddNumberToObject(j, "items_filtered_by_dataset", d->n_filtered);
    cJSON *subs = cJSON_AddObjectToObject(j, "subjects");
    int N = 0, F = 0, ns = 0;
    double K = 0;
    double macro = 0, tokens = 0, secs = 0, outt = 0;
    for (int i = 0; i < d->n; i++) {
        if (t[i].n == 0) continue;
        cJSON *o = score_object(subs, d->s[i].name, t[i].n, t[i].correct, t[i].no_answer);
        if (d->s[i].category) cJSON_AddStringToObject(o, "category", d->s[i].category);
        N += t[i].n, K += t[i].correct, F += t[i].no_answer, ns++;
        macro += (double)t[i].correct / t[i].n;
        tokens += t[i].tokens, secs += t[i].seconds, outt += t[i].out_tokens;
    }
    /* categories, in order of first appearance among the sorted subjects */
    const char *cats[64];
    int ncat = 0, cn[64] = { 0 }, cf[64] = { 0 };
    double ck[64] = { 0 };
    for (int i = 0; i < d->n; i++) {
        if (!d->s[i].category || t[i].n == 0) continue;
        int k = 0;
        while (k < ncat && strcmp(cats[k], d->s[i].category)) k++;
        if (k == ncat && ncat < 64) cats[ncat++] = d->s[i].category;
        if (k < 64) cn[k] += t[i].n, ck[k] += t[i].correct, cf[k] += t[i].no_answer;
    }
    cJSON *cj = cJSON_AddObjectToObject(j, "categories");
    for (int k = 0; k < ncat; k++) score_object(cj, cats[k], cn[k], ck[k], cf[k]);
    double lo, hi;
    q35_wilson95(K, N, &lo, &hi);
    cJSON *all = cJSON_AddObjectToObject(j, "overall");
    cJSON_AddNumberToObject(all, "n", N);
    cJSON_AddNumberToObject(all, "correct", K);
    cJSON_AddNumberToObject(all, "acc_micro", N ? (double)K / N : 0);
    cJSON_AddNumberToObject(all, "ci95_lo", lo);
    cJSON_AddNumberToObject(all, "ci95_hi", hi);
    cJSON_AddNumberToObject(all, "acc_macro_subjects", ns ? macro / ns : 0);
    cJSON_AddNumberToObject(all, "subjects", ns);
    cJSON_AddNumberToObject(all, "no_answer", F);
    int *gn = calloc((size_t)d->n, sizeof *gn), *gk = calloc((size_t)d->n, sizeof *gk), GN = 0, GK = 0;
    if (c->circular && gn && gk) {
        circular_scores(rows, n_done, gn, gk, &GN, &GK);
        double clo, chi;
        q35_wilson95(GK, GN, &clo, &chi);
        cJSON *co = cJSON_AddObjectToObject(j, "circular");
        cJSON_AddNumberToObject(co, "items", GN);
        cJSON_AddNumberToObject(co, "correct", GK);
        cJSON_AddNumberToObject(co, "acc", GN ? (double)GK / GN : 0);
        cJSON_AddNumberToObject(co, "ci95_lo", clo);
        cJSON_AddNumberToObject(co, "ci95_hi", chi);
        cJSON *cs = cJSON_AddObjectToObject(co, "subjects");
        for (int i = 0; i < d->n; i++)
            if (gn[i]) {
                cJSON *o = cJSON_AddObjectToObject(cs, d->s[i].name);
                cJSON_AddNumberToObject(o, "items", gn[i]);
                cJSON_AddNumberToObject(o, "correct", gk[i]);
                cJSON_AddNumberToObject(o, "acc", (double)gk[i] / gn[i]);
            }
    }
    free(gn), free(gk);
    yn_table *yn = !strcmp(c->type, "yes_no") ? calloc((size_t)d->n + 1, sizeof *yn) : NULL;
    if (yn) {
        yes_no_scores(rows, n_done, yn);
        cJSON *po = cJSON_AddObjectToObject(j, "yes_no");
        yn_table all_t = { 0 };
        for (int i = 0; i < d->n; i++) {
            if (!yn[i].n) continue;
            yes_no_object(po, d->s[i].name, &yn[i]);
            all_t.n += yn[i].n, all_t.tp += yn[i].tp, all_t.fp += yn[i].fp, all_t.tn += yn[i].tn, all_t.fn += yn[i].fn;
        }
        yn[d->n] = all_t;
        yes_no_object(po, "all", &all_t);
    }
    double ref = reference_for(c, ri->model_size);
    if (!isnan(ref)) {
        cJSON *r = cJSON_AddObjectToObject(j, "reference");
        cJSON_AddNumberToObject(r, "acc", ref / 100);
        cJSON_AddStringToObject(r, "source", c->ref_source ? c->ref_source : "");
        cJSON_AddNumberToObject(r, "difference", N ? (double)K / N - ref / 100 : 0);
        cJSON_AddBoolToObject(r, "inside_ci95", ref / 100 >= lo && ref / 100 <= hi);
    }
    cJSON *tm = cJSON_AddObjectToObject(j, "timings");
    cJSON_AddNumberToObject(tm, "wall_s_this_session", wall);
    cJSON_AddNumberToObject(tm, "item_seconds_sum", secs);
    cJSON_AddNumberToObject(tm, "items_per_s", secs > 0 ? N / secs : 0);
    cJSON_AddNumberToObject(tm, "prompt_tokens_per_s", secs > 0 ? tokens / secs : 0);
    if (generative) cJSON_AddNumberToObject(tm, "output_tokens", outt);
    char *txt = cJSON_Print(j);
    cJSON_Delete(j);
    snprintf(p, sizeof p, "%s/results.json", dir);
    rc = txt ? write_file(p, txt, err, errlen) : q35_fail(err, errlen, "out of memory");
    free(txt);
    /* chart.svg: per category when there are several, else per subject */
    int nb = ncat > 1 ? ncat : ns, b = 0;
    q35_chart_bar *bars = calloc((size_t)(nb ? nb : 1), sizeof *bars);
    if (rc == 0 && bars) {
        for (int k = 0; ncat > 1 && k < ncat; k++) {
            q35_wilson95(ck[k], cn[k], &bars[b].lo, &bars[b].hi);
            bars[b].label = cats[k], bars[b].value = (double)ck[k] / cn[k], bars[b].n = cn[k], b++;
        }
        for (int i = 0; ncat <= 1 && i < d->n; i++) {
            if (t[i].n == 0) continue;
            q35_wilson95(t[i].correct, t[i].n, &bars[b].lo, &bars[b].hi);
            bars[b].label = d->s[i].name, bars[b].value = (double)t[i].correct / t[i].n, bars[b].n = t[i].n, b++;
        }
        char title[512], rl[300];
        snprintf(title, sizeof title, "%s: accuracy per %s (95%% Wilson intervals)", c->task, ncat > 1 ? "category" : "subject");
        snprintf(rl, sizeof rl, "published %.1f%%", ref);
        snprintf(p, sizeof p, "%s/chart.svg", dir);
        rc = q35_chart_svg(p, title, bars, b, isnan(ref) ? -1 : ref / 100, rl, err, errlen);
    }
    free(bars);
    /* report.md */
    sbuf m = { 0 };
    sb_printf(&m, "# q35 eval: %s\n\n", c->task);
    sb_printf(&m, "Accuracy (micro average over %d items): **%.2f%%** (95%% Wilson interval %.2f-%.2f)  \n", N,
              N ? 100.0 * K / N : 0, 100 * lo, 100 * hi);
    sb_printf(&m, "Macro average over %d subjects: %.2f%%  \n", ns, ns ? 100 * macro / ns : 0);
    if (!isnan(ref))
        sb_printf(&m, "Published (%s, %s): %.1f%%; difference %+.2f points, %s our 95%% interval  \n",
                  c->ref_source ? c->ref_source : "", ri->model_size, ref, N ? 100.0 * K / N - ref : 0,
                  ref / 100 >= lo && ref / 100 <= hi ? "inside" : "outside");
    if (c->circular) {
        double clo, chi;
        q35_wilson95(GK, GN, &clo, &chi);
        sb_printf(&m, "Circular evaluation (an item counts when it and every rotation of its options are right): "
                      "**%.2f%%** of %d items (95%% interval %.2f-%.2f)  \n", GN ? 100.0 * GK / GN : 0, GN, 100 * clo, 100 * chi);
    }
    if (yn) {
        sb_printf(&m, "\n| split | n | accuracy | precision | recall | F1 | yes ratio | neither yes nor no |\n|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i <= d->n; i++) {
            const yn_table *x = &yn[i];
            if (!x->n) continue;
            double pr = x->tp + x->fp ? (double)x->tp / (x->tp + x->fp) : 0, rc2 = x->tp + x->fn ? (double)x->tp / (x->tp + x->fn) : 0;
            sb_printf(&m, "| %s | %d | %.2f%% | %.2f%% | %.2f%% | %.2f%% | %.2f%% | %d |\n", i < d->n ? d->s[i].name : "all", x->n,
                      100.0 * (x->tp + x->tn) / x->n, 100 * pr, 100 * rc2, pr + rc2 > 0 ? 200 * pr * rc2 / (pr + rc2) : 0,
                      100.0 * (x->tp + x->fp) / x->n, x->n - x->tp - x->fp - x->tn - x->fn);
        }
        sb_printf(&m, "\n(\"yes\" is the positive class; replies that are neither count against accuracy only; rule: %s)  \n",
                  !strcmp(c->extract, "yorn") ? "VLMEvalKit's word rule" : "lmms-eval's exact match");
        free(yn);
    }
    if (generative)
        sb_printf(&m, "No answer extracted: %d of %d items (%.1f%%), scored as wrong; q35 has no LLM judge  \n", F, N,
                  N ? 100.0 * F / N : 0);
    if (n_done < total) sb_printf(&m, "**Incomplete**: %d of %d items logged  \n", n_done, total);
    if (d->n_filtered) sb_printf(&m, "Rows left out by the dataset filter (dataset.keep): %d  \n", d->n_filtered);
    sb_printf(&m, "\n![accuracy](chart.svg)\n\n");
    sb_printf(&m, "| setting | value |\n|---|---|\n| scoring | %s |\n| shots | %d |\n| prompt style | %s%s%s |\n", c->scoring,
              c->num_fewshot, c->style, c->chat_template ? ", chat template" : "", c->multiturn ? ", shots as turns" : "");
    if (c->chat_template) sb_printf(&m, "| thinking | %s |\n", c->thinking < 0 ? "template default" : c->thinking ? "on" : "off");
    if (generative) {
        if (c->preset) sb_printf(&m, "| sampling preset | %s |\n", c->preset);
        sb_printf(&m, "| max_new_tokens | %d |\n| seed | %llu |\n", c->max_new_tokens, (unsigned long long)c->seed);
    }
    sb_printf(&m, "| config SHA-256 | `%s` (config.yaml here) |\n| model | %s, fingerprint `%s` |\n| backend | %s |\n",
              c->hash, ri->model_size, ri->model_fp, c->backend);
    sb_printf(&m, "| q35 | %s |\n| time | %.1f s of item time, %.2f items/s, %.0f prompt tokens/s |\n\n", Q35_VERSION, secs,
              secs > 0 ? N / secs : 0, secs > 0 ? tokens / secs : 0);
    if (ncat > 1) {
        sb_printf(&m, "| category | n | acc | 95%% interval |\n|---|---|---|---|\n");
        for (int k = 0; k < ncat; k++) {
            q35_wilson95(ck[k], cn[k], &lo, &hi);
            sb_printf(&m, "| %s | %d | %.2f%% | %.1f-%.1f |\n", cats[k], cn[k], 100.0 * ck[k] / cn[k], 100 * lo, 100 * hi);
        }
        sb_printf(&m, "\n");
    }
    sb_printf(&m, "| subject | n | acc | 95%% interval |%s\n|---|---|---|---|%s\n", generative ? " no answer |" : "",
              generative ? "---|" : "");
    for (int i = 0; i < d->n; i++) {
        if (t[i].n == 0) continue;
        q35_wilson95(t[i].correct, t[i].n, &lo, &hi);
        sb_printf(&m, "| %s | %d | %.2f%% | %.1f-%.1f |", d->s[i].name, t[i].n, 100.0 * t[i].correct / t[i].n, 100 * lo,
                  100 * hi);
        if (generative) sb_printf(&m, " %d |", t[i].no_answer);
        sb_printf(&m, "\n");
    }
    free(t), free(rows);
    snprintf(p, sizeof p, "%s/report.md", dir);
    if (rc == 0) rc = m.s ? write_file(p, m.s, err, errlen) : q35_fail(err, errlen, "out of memory");
    free(m.s);
    return rc;
}

/* run.json: what a resume or a merge must find the same. */
static char *run_json(const q35_eval_config *c, const q35_eval_run_info *ri) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "config_sha256", c->hash);
    cJSON_AddStringToObject(j, "model_fingerprint", ri->model_fp);
    cJSON_AddStringToObject(j, "model_size", ri->model_size);
    cJSON_AddStringToObject(j, "q35_version", Q35_VERSION);
    cJSON_AddNumberToObject(j, "shard", ri->shard_k);
    cJSON_AddNumberToObject(j, "shards", ri->shard_n);
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    return s;
}

int q35_eval_read_run_info(const char *dir, q35_eval_run_info *ri, char *err, size_t errlen) {
    char p[4300];
    snprintf(p, sizeof p, "%s/run.json", dir);
    char *t = q35_read_file(p, 1 << 20, NULL);
    if (!t) return q35_fail(err, errlen, "%s: no run.json (not a run directory)", dir);
    cJSON *j = cJSON_Parse(t);
    free(t);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "config_sha256"), *b = cJSON_GetObjectItemCaseSensitive(j, "model_fingerprint"),
                *s = cJSON_GetObjectItemCaseSensitive(j, "model_size"), *v = cJSON_GetObjectItemCaseSensitive(j, "q35_version"),
                *k = cJSON_GetObjectItemCaseSensitive(j, "shard"), *n = cJSON_GetObjectItemCaseSensitive(j, "shards");
    int ok = cJSON_IsString(a) && strlen(a->valuestring) == 64 && cJSON_IsString(b) && strlen(b->valuestring) == 64 &&
             cJSON_IsString(s) && cJSON_IsString(v) && cJSON_IsNumber(k) && cJSON_IsNumber(n);
    if (ok) {
        memset(ri, 0, sizeof *ri);
        memcpy(ri->config_hash, a->valuestring, 65);
        memcpy(ri->model_fp, b->valuestring, 65);
        snprintf(ri->model_size, sizeof ri->model_size, "%s", s->valuestring);
        snprintf(ri->version, sizeof ri->version, "%s", v->valuestring);
        ri->shard_k = k->valueint, ri->shard_n = n->valueint;
    }
    cJSON_Delete(j);
    return ok ? 0 : q35_fail(err, errlen, "%s: run.json lacks its fields", p);
}

/* ---- vision-language items ---- */

/* A VL item's prompt: the system turn (when configured), then the user turn with the image before
 * the text the style writes, rendered with the generation prompt; ids unexpanded (one
 * <|image_pad|> per image). *user_text receives the text part. */
static int build_vl_request(request *r, char **user_text, q35_tokenizer *tok, const q35_eval_config *c, const char *tpl,
                            const q35_mc_item *it, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    *user_text = !strcmp(c->type, "yes_no") ? q35_vl_yes_no_text(c->style, it)
                 : !strcmp(c->type, "vqa")  ? q35_vl_open_text(c->style, it)
                                            : q35_vl_user_text(c->style, it);
    if (!*user_text) return q35_fail(err, errlen, "out of memory");
    cJSON *msgs = cJSON_CreateArray(), *flags = cJSON_CreateObject();
    if (c->system && c->system[0]) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", "system");
        cJSON_AddStringToObject(m, "content", c->system);
        cJSON_AddItemToArray(msgs, m);
    }
    cJSON *u = cJSON_CreateObject(), *parts = cJSON_CreateArray(), *im = cJSON_CreateObject(), *tx = cJSON_CreateObject();
    cJSON_AddStringToObject(im, "type", "image");
    cJSON_AddStringToObject(tx, "type", "text");
    cJSON_AddStringToObject(tx, "text", *user_text);
    cJSON_AddItemToArray(parts, im);
    cJSON_AddItemToArray(parts, tx);
    cJSON_AddStringToObject(u, "role", "user");
    cJSON_AddItemToObject(u, "content", parts);
    cJSON_AddItemToArray(msgs, u);
    cJSON_AddBoolToObject(flags, "add_generation_prompt", 1);
    if (c->thinking >= 0) cJSON_AddBoolToObject(flags, "enable_thinking", c->thinking);
    r->prompt = q35_chat_render(tpl, msgs, flags, err, errlen);
    cJSON_Delete(msgs), cJSON_Delete(flags);
    if (!r->prompt || !(r->context = strdup(r->prompt))) return r->prompt ? q35_fail(err, errlen, "out of memory") : -1;
    return q35_tokenize(tok, r->context, strlen(r->context), &r->ctx_ids, &r->n_ctx, err, errlen);
}

/* The item's image as a file path: its own, or its bytes written to a temporary file (*tmp set,
 * for the caller to unlink). */
static int image_file(const q35_mc_item *it, char path[4200], int *tmp, char *err, size_t errlen) {
    *tmp = 0;
    if (it->image_path) {
        snprintf(path, 4200, "%s", it->image_path);
        return 0;
    }
    const char *dir = getenv("TMPDIR");
    snprintf(path, 4200, "%s/q35-image-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return q35_fail(err, errlen, "%s: cannot create a temporary file: %s", path, strerror(errno));
    size_t off = 0;
    while (off < it->image_len) {
        ssize_t w = write(fd, it->image + off, it->image_len - off);
        if (w <= 0) {
            close(fd), unlink(path);
            return q35_fail(err, errlen, "%s: write failed", path);
        }
        off += (size_t)w;
    }
    close(fd);
    *tmp = 1;
    return 0;
}

/* The image of it, decoded and preprocessed into b with the budget of pc. Errors name the row. */
static int load_vl_image(q35_image_batch *b, const q35_preproc_config *pc, const q35_mc_subject *s,
                         const q35_mc_item *it, char *err, size_t errlen) {
    char path[4200], e2[1024];
    int tmp;
    if (image_file(it, path, &tmp, err, errlen) != 0) return -1;
    const char *files[1] = { path };
    int rc = q35_image_batch_load(b, pc, files, 1, 1, NULL, NULL, e2, sizeof e2);
    if (tmp) unlink(path);
    if (rc != 0) return q35_fail(err, errlen, "%s item %lld (line %d): %s", s->name, it->index, it->line, e2);
    return 0;
}

/* ---- the run ---- */

/* splitmix64: the item's sampler seed from the run's and the item's identity, so an item draws
 * the same tokens whichever shard or resume runs it. */
static uint64_t item_seed(uint64_t seed, const char *subject, int doc_id) {
    uint64_t h = 1469598103934665603ull;
    for (const char *c = subject; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ull;
    uint64_t z = seed ^ h ^ ((uint64_t)(unsigned)doc_id << 32);
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The sampling settings: the preset's, each stated value over it. */
static q35_sampling sampling_of(const q35_eval_config *c) {
    q35_sampling s = { 0 };
    const q35_preset *p = c->preset ? q35_preset_find(c->preset) : NULL;
    if (p) s = p->s;
    else s.top_p = 1, s.repetition_penalty = 1;
    if (!isnan(c->temperature)) s.temperature = (float)c->temperature;
    if (!isnan(c->top_p)) s.top_p = (float)c->top_p;
    if (c->top_k >= 0) s.top_k = c->top_k;
    if (!isnan(c->min_p)) s.min_p = (float)c->min_p;
    if (!isnan(c->presence_penalty)) s.presence_penalty = (float)c->presence_penalty;
    if (!isnan(c->frequency_penalty)) s.frequency_penalty = (float)c->frequency_penalty;
    if (!isnan(c->repetition_penalty)) s.repetition_penalty = (float)c->repetition_penalty;
    return s;
}

static const char *letter_or_dash(int k, char buf[2]) {
    if (k < 0) return "-";
    buf[0] = (char)('A' + k), buf[1] = 0;
    return buf;
}

/* The few-shot and prompt settings of c as the prompt module takes them. */
static q35_mc_prompt prompt_of(const q35_eval_config *c, const char *tpl) {
    q35_mc_prompt p = { c->description, c->question_format, c->option_format, c->target_delimiter,
                        c->fewshot_delimiter, c->strip_question, c->chat_template, c->multiturn,
                        c->system, c->thinking, tpl };
    return p;
}

int q35_eval_run(const q35_eval_config *cfg, const q35_eval_opts *o, char *err, size_t errlen) {
    q35_eval_config c = *cfg; /* the hash is recomputed into the copy */
    char *ctext = q35_eval_config_text(&c);
    if (!ctext) return q35_fail(err, errlen, "out of memory");
    if (!o->dry_run && !c.model) {
        free(ctext);
        return q35_fail(err, errlen, "no model: set model in the config, or give --model DIR");
    }
    q35_mc_set d;
    if (q35_eval_load_data(&d, &c, err, errlen) != 0) {
        free(ctext);
        return -1;
    }
    int generative = !strcmp(c.scoring, "generate"), rc = -1, V = 0, n_sel = 0, total = 0;
    q35_tokenizer *tok = q35_tokenizer_load(c.tokenizer ? c.tokenizer : c.model ? c.model : "", err, errlen);
    q35_model m;
    int opened = 0;
    q35_text_state st = { 0 };
    prefix_cache pc = { 0 };
    q35_sampler *smp = NULL;
    float *logits = NULL;
    char *tpl = NULL;
    const q35_ops *ops = q35_backend(c.backend);
    FILE *log = NULL;
    unsigned char **want = calloc((size_t)d.n, sizeof *want);
    tally *t = calloc((size_t)d.n, sizeof *t);
    item_ref *sel = NULL;
    request cur = { 0 };
    int share = 0, share_subject = -1;
    char *user_text = NULL;
    q35_image_batch ib = { 0 };
    /* the last image's vision output, reused while the next items show the same image (an MMBench
     * item's rotations, POPE's questions about one picture) */
    char vkey[65] = "";
    int vgrid[3] = { 0, 0, 0 };
    float *vcache = NULL;
    size_t vcap = 0;
    q35_eval_run_info ri = { .shard_k = o->shard_n > 1 ? o->shard_k : 1, .shard_n = o->shard_n > 1 ? o->shard_n : 1 };
    int end_ids[24], n_end = 0;
    char p[4300];
    double t0 = now_s();
    snprintf(ri.model_size, sizeof ri.model_size, "none");
    if (!tok || !want || !t) {
        if (tok) q35_fail(err, errlen, "out of memory");
        goto out;
    }
    if (!(sel = select_items(&d, c.limit, c.circular, ri.shard_k, ri.shard_n, &n_sel))) {
        q35_fail(err, errlen, "out of memory");
        goto out;
    }
    total = n_sel;
    for (int i = 0; i < d.n; i++)
        if (!(want[i] = calloc((size_t)d.s[i].n_test + 1, 1))) {
            q35_fail(err, errlen, "out of memory");
            goto out;
        }
    for (int k = 0; k < n_sel; k++) want[sel[k].s][sel[k].j] = 1;
    if (c.chat_template) {
        const char *src;
        char dir[4200];
        snprintf(dir, sizeof dir, "%s", c.model ? c.model : c.tokenizer);
        if (!c.model) { /* a tokenizer file: its directory may hold the template */
            char *slash = strrchr(dir, '/');
            if (slash) *slash = 0;
            else snprintf(dir, sizeof dir, ".");
        }
        if (!(tpl = q35_chat_template_load(dir, &src, err, errlen))) goto out;
    }
    q35_mc_prompt pr = prompt_of(&c, tpl);
    int vl = !strcmp(c.format, "vlmevalkit-tsv") || !strcmp(c.format, "pope") || !strcmp(c.format, "vqav2"),
        vqa = !strcmp(c.type, "vqa");
    double score = -1;
    q35_preproc_config ppc;
    q35_preproc_defaults(&ppc);
    if (vl && c.model && q35_preproc_load(&ppc, c.model, err, errlen) != 0) goto out;
    if (c.min_pixels) ppc.min_pixels = c.min_pixels;
    if (c.max_pixels) ppc.max_pixels = c.max_pixels;
    if (ppc.max_pixels < ppc.min_pixels) {
        q35_fail(err, errlen, "image budget: min_pixels %ld above max_pixels %ld", ppc.min_pixels, ppc.max_pixels);
        goto out;
    }
    if (!o->dry_run) {
        if (model_fingerprint(c.model, ri.model_fp) != 0) {
            q35_fail(err, errlen, "%s: no config.json", c.model);
            goto out;
        }
        if (q35_model_open(&m, c.model, err, errlen) != 0) goto out;
        opened = 1;
        snprintf(ri.model_size, sizeof ri.model_size, "%s", model_size(&m));
        memcpy(ri.config_hash, c.hash, 65);
        if (mkdir_p(o->out_dir) != 0) {
            q35_fail(err, errlen, "%s: cannot create: %s", o->out_dir, strerror(errno));
            goto out;
        }
        snprintf(p, sizeof p, "%s/run.json", o->out_dir);
        char *prev = q35_read_file(p, 1 << 20, NULL), *runj = run_json(&c, &ri);
        if (!runj) {
            free(prev);
            q35_fail(err, errlen, "out of memory");
            goto out;
        }
        if (prev && !o->resume) {
            free(prev), free(runj);
            q35_fail(err, errlen, "%s already holds a run: --resume to continue it, or another --out", o->out_dir);
            goto out;
        }
        if (prev && strcmp(prev, runj) != 0) {
            free(prev), free(runj);
            q35_fail(err, errlen,
                     "%s holds a run of another configuration, model, shard or q35 version (its run.json differs): "
                     "not resumed", o->out_dir);
            goto out;
        }
        free(prev);
        int wrc = write_file(p, runj, err, errlen);
        free(runj);
        if (wrc != 0) goto out;
        snprintf(p, sizeof p, "%s/config.yaml", o->out_dir);
        if (write_file(p, ctext, err, errlen) != 0) goto out;
        snprintf(p, sizeof p, "%s/samples.jsonl", o->out_dir);
        int n_done = 0;
        if (read_log(p, &d, want, t, &n_done, 1, NULL, NULL, err, errlen) != 0) goto out;
        if (n_done) fprintf(stderr, "q35 eval: resuming: %d of %d items already done\n", n_done, total);
        log = fopen(p, "a");
        if (!log) {
            q35_fail(err, errlen, "%s: cannot append: %s", p, strerror(errno));
            goto out;
        }
        if (!ops) {
            q35_fail(err, errlen, "unknown backend '%s' (have: %s)", c.backend, q35_backend_names());
            goto out;
        }
        q35_set_threads(c.threads);
        V = m.cfg.text.vocab_size;
        if (q35_text_state_init(&st, &m, err, errlen) != 0) goto out;
        pc.on = !c.no_prefix_cache && !generative;
        if (pc.on && q35_text_state_init(&pc.st, &m, err, errlen) != 0) goto out;
        if (!(logits = malloc((size_t)V * sizeof *logits))) {
            q35_fail(err, errlen, "out of memory");
            goto out;
        }
        if (generative) {
            q35_sampling s = sampling_of(&c);
            if (q35_sampling_check(&s, err, errlen) != 0 || !(smp = q35_sampler_new(&s, V, err, errlen))) goto out;
            q35_genconfig gc;
            if (q35_genconfig_load(&gc, c.model, err, errlen) != 0) goto out;
            int cand[20], nc = 0;
            for (int i = 0; i < gc.n_eos && nc < 16; i++) cand[nc++] = gc.eos[i];
            cand[nc++] = m.cfg.text.eos_token_id;
            cand[nc++] = q35_token_id(tok, "<|im_end|>");
            cand[nc++] = q35_token_id(tok, "<|endoftext|>");
            for (int i = 0; i < nc; i++) {
                int dup = cand[i] < 0;
                for (int k = 0; k < n_end; k++) dup |= end_ids[k] == cand[i];
                if (!dup) end_ids[n_end++] = cand[i];
            }
        }
    }
    int k_done = 0, k_correct = 0, all_done = 0;
    for (int i = 0; i < d.n; i++) all_done += t[i].n;
    double t_items = now_s();
    for (int x = 0; x < n_sel; x++) {
        int si = sel[x].s, j = sel[x].j;
        if (want[si][j] == 2) continue;
        q35_mc_subject *s = &d.s[si];
        q35_mc_item *it = &s->test[j];
        double ti = now_s();
        request_free(&cur);
        free(user_text);
        user_text = NULL;
        q35_image_batch_free(&ib);
        if (vl) {
            if (build_vl_request(&cur, &user_text, tok, &c, tpl, it, err, errlen) != 0) goto out;
            if (load_vl_image(&ib, &ppc, s, it, err, errlen) != 0) goto out;
        } else if (build_request(&cur, tok, &pr, s, it, c.num_fewshot, generative, err, errlen) != 0) {
            goto out;
        }
        if (pc.on && share_subject != si) { /* a new subject: what all its items share */
            if (subject_share(sel, n_sel, x, want, tok, &pr, s, c.num_fewshot, &share, err, errlen) != 0) goto out;
            share_subject = si;
        }
        cJSON *rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "subject", s->name);
        cJSON_AddNumberToObject(rec, "doc_id", it->doc_id);
        if (vl) {
            cJSON_AddNumberToObject(rec, "index", (double)it->index);
            cJSON_AddNumberToObject(rec, "circular_rotation", (double)(it->index / 1000000));
            int tokens = ib.grids[0][0] * ib.grids[0][1] * ib.grids[0][2] / (ppc.merge_size * ppc.merge_size);
            cJSON *sz = cJSON_CreateArray();
            cJSON_AddItemToArray(sz, cJSON_CreateNumber(ib.grids[0][2] * ppc.patch_size));
            cJSON_AddItemToArray(sz, cJSON_CreateNumber(ib.grids[0][1] * ppc.patch_size));
            cJSON *ims = cJSON_AddArrayToObject(rec, "images");
            cJSON_AddItemToArray(ims, sz);
            cJSON_AddNumberToObject(rec, "image_tokens", tokens);
        }
        if (o->dry_run) {
            if (vl) cJSON_AddStringToObject(rec, "user_text", user_text);
            if (generative) {
                q35_sampling smpl = sampling_of(&c);
                cJSON_AddStringToObject(rec, "prompt", cur.prompt);
                cJSON_AddItemToObject(rec, "prompt_ids", cJSON_CreateIntArray(cur.ctx_ids, cur.n_ctx));
                cJSON *sj = cJSON_AddObjectToObject(rec, "sampling");
                const char *names[] = { "temperature", "top_p", "min_p", "presence_penalty", "frequency_penalty",
                                        "repetition_penalty" };
                const float vals[] = { smpl.temperature, smpl.top_p, smpl.min_p, smpl.presence_penalty,
                                       smpl.frequency_penalty, smpl.repetition_penalty };
                for (int v = 0; v < 6; v++) { /* the float's shortest decimal, as it was written */
                    char num[32];
                    snprintf(num, sizeof num, "%.7g", (double)vals[v]);
                    cJSON_AddNumberToObject(sj, names[v], strtod(num, NULL));
                }
                cJSON_AddNumberToObject(sj, "top_k", smpl.top_k);
                char seed[24];
                snprintf(seed, sizeof seed, "%llu", (unsigned long long)item_seed(c.seed, s->name, it->doc_id));
                cJSON_AddStringToObject(sj, "seed", seed); /* 64 bits: a string, as JSON numbers are doubles */
                cJSON_AddNumberToObject(rec, "max_new_tokens", c.max_new_tokens);
            } else {
                cJSON_AddStringToObject(rec, "context", cur.context);
                cJSON *cs = cJSON_AddArrayToObject(rec, "continuations"), *ci = NULL;
                for (int k = 0; k < cur.nc; k++) cJSON_AddItemToArray(cs, cJSON_CreateString(cur.cont[k]));
                cJSON_AddItemToObject(rec, "context_ids", cJSON_CreateIntArray(cur.ctx_ids, cur.n_ctx));
                ci = cJSON_AddArrayToObject(rec, "continuation_ids");
                for (int k = 0; k < cur.nc; k++) cJSON_AddItemToArray(ci, cJSON_CreateIntArray(cur.cont_ids[k], cur.n_cont[k]));
            }
            cJSON_AddNumberToObject(rec, "gold", it->answer);
            char *line = cJSON_PrintUnformatted(rec);
            if (line) fprintf(o->dry_run, "%s\n", line);
            free(line);
            cJSON_Delete(rec);
            continue;
        }
        char hp[65], hi[65], lb[2], lg[2];
        sha_text(cur.prompt, hp);
        sha_ids(cur.ctx_ids, cur.n_ctx, hi);
        cJSON_AddStringToObject(rec, "prompt_sha256", hp);
        cJSON_AddStringToObject(rec, "ids_sha256", hi);
        cJSON_AddNumberToObject(rec, "prompt_tokens", cur.n_ctx);
        int pred = -1, reused = 0;
        if (!generative) {
            double ll[Q35_MC_MAX_CHOICES];
            int greedy[Q35_MC_MAX_CHOICES];
            if (score_loglik(ll, greedy, &cur, share, &st, ops, logits, pc.on ? &pc : NULL, &reused, err, errlen) != 0) {
                cJSON_Delete(rec);
                goto out;
            }
            pred = 0;
            for (int k = 1; k < cur.nc; k++)
                if (ll[k] > ll[pred]) pred = k; /* the first of equal maxima, as numpy's argmax */
            cJSON_AddNumberToObject(rec, "prefix_tokens_reused", reused);
            cJSON_AddItemToObject(rec, "loglik", cJSON_CreateDoubleArray(ll, cur.nc));
            cJSON_AddItemToObject(rec, "is_greedy", cJSON_CreateIntArray(greedy, cur.nc));
        } else {
            q35_sampler_free(smp);
            q35_sampling sm = sampling_of(&c);
            sm.seed = item_seed(c.seed, s->name, it->doc_id);
            if (!(smp = q35_sampler_new(&sm, V, err, errlen))) {
                cJSON_Delete(rec);
                goto out;
            }
            q35_gen_opts go = { .max_new_tokens = c.max_new_tokens, .context = m.cfg.text.max_position_embeddings,
                                .end_ids = end_ids, .n_end = n_end, .thinking_open = q35_prompt_opens_thinking(cur.prompt) };
            q35_gen_result gr;
            int *ids = cur.ctx_ids, nids = cur.n_ctx, *full = NULL;
            if (vl) { /* one <|image_pad|> per merged patch */
                int count;
                q35_vision_token_counts(&count, &m.cfg.vision, &ib);
                if (q35_expand_image_tokens(&full, &nids, cur.ctx_ids, cur.n_ctx, m.cfg.image_token_id, &count, 1, err, errlen) != 0) {
                    cJSON_Delete(rec);
                    goto out;
                }
                ids = full;
            }
            if (vl && !c.no_vision_cache) { /* the image's identity: its bytes, or its file's name */
                char key[65];
                q35_sha256 h;
                q35_sha256_init(&h);
                if (it->image) q35_sha256_update(&h, it->image, it->image_len);
                else q35_sha256_update(&h, it->image_path, strlen(it->image_path));
                q35_sha256_hex(&h, key);
                if (strcmp(key, vkey) != 0 || memcmp(vgrid, ib.grids[0], sizeof vgrid) != 0) {
                    size_t need = (size_t)q35_vision_tokens(&m.cfg.vision, (const int(*)[3])ib.grids, 1) * m.cfg.vision.out_hidden_size;
                    if (need > vcap) {
                        float *g = realloc(vcache, need * sizeof *g);
                        if (!g) {
                            free(full), cJSON_Delete(rec);
                            q35_fail(err, errlen, "out of memory");
                            goto out;
                        }
                        vcache = g, vcap = need;
                    }
                    vkey[0] = 0;
                    if (q35_vision_forward(vcache, &m, ops, ib.pixels, (const int(*)[3])ib.grids, 1, NULL, err, errlen) != 0) {
                        free(full), cJSON_Delete(rec);
                        goto out;
                    }
                    memcpy(vkey, key, sizeof vkey), memcpy(vgrid, ib.grids[0], sizeof vgrid);
                }
                ib.embeds = vcache;
            }
            int grc = q35_generate(&gr, &st, ops, smp, tok, ids, nids, vl ? &ib : NULL, &go, err, errlen);
            free(full);
            if (grc != 0) {
                cJSON_Delete(rec);
                goto out;
            }
            q35_extract_rule rule = Q35_EX_NONE;
            const char *reply = gr.content ? gr.content : "";
            if (vqa) {
                score = q35_vqa_soft_accuracy(reply, it->choices, it->n_choices);
                char *na = q35_vqa_normalize(reply);
                if (score < 0 || !na) {
                    free(na);
                    q35_gen_result_free(&gr);
                    cJSON_Delete(rec);
                    q35_fail(err, errlen, "out of memory");
                    goto out;
                }
                cJSON_AddStringToObject(rec, "answer_normalized", na);
                cJSON_AddNumberToObject(rec, "score", score);
                free(na);
                pred = it->answer; /* no option chosen: the score says how right it is */
            } else if (!strcmp(c.extract, "exact") || !strcmp(c.extract, "yorn")) {
                pred = q35_extract_yes_no(reply, !strcmp(c.extract, "yorn"));
                rule = pred < 0 ? Q35_EX_NONE : Q35_EX_YES_NO;
            } else {
                pred = !strcmp(c.extract, "vlmevalkit") ? q35_extract_vlmevalkit(reply, it->choices, it->n_choices, &rule)
                                                        : q35_extract_choice(reply, it->n_choices, &rule);
            }
            cJSON_AddStringToObject(rec, "output", gr.text ? gr.text : "");
            if (gr.reasoning) cJSON_AddStringToObject(rec, "reasoning", gr.reasoning);
            cJSON_AddStringToObject(rec, "extracted", q35_extract_rule_name(rule));
            cJSON_AddNumberToObject(rec, "output_tokens", gr.n);
            cJSON_AddStringToObject(rec, "finish", gr.finish);
            q35_gen_result_free(&gr);
        }
        int ok = vqa ? score > 0 : pred == it->answer;
        cJSON_AddNumberToObject(rec, "pred", pred);
        cJSON_AddNumberToObject(rec, "gold", it->answer);
        cJSON_AddStringToObject(rec, "pred_letter", letter_or_dash(pred, lb));
        cJSON_AddStringToObject(rec, "gold_letter", letter_or_dash(it->answer, lg));
        if (it->error_type) cJSON_AddStringToObject(rec, "error_type", it->error_type);
        cJSON_AddBoolToObject(rec, "correct", ok);
        cJSON_AddNumberToObject(rec, "seconds", now_s() - ti);
        char *line = cJSON_PrintUnformatted(rec);
        cJSON_Delete(rec);
        int bad = !line || fprintf(log, "%s\n", line) < 0 || fflush(log) != 0 || fsync(fileno(log)) != 0;
        free(line);
        if (bad) {
            q35_fail(err, errlen, "%s/samples.jsonl: write failed", o->out_dir);
            goto out;
        }
        want[si][j] = 2;
        t[si].n++, t[si].correct += ok;
        k_done++, k_correct += ok, all_done++;
        int left = total - all_done;
        double rate = k_done / (now_s() - t_items);
        char imgs[48] = "";
        if (vl) snprintf(imgs, sizeof imgs, " (%.2f images/s)", rate); /* one image per item */
        if (o->progress_tty || k_done % 50 == 0 || left == 0)
            fprintf(stderr, "%sq35 eval: %d/%d items, acc %.1f%%, %.2f items/s%s, ETA %.0f s%s", o->progress_tty ? "\r" : "",
                    all_done, total, 100.0 * k_correct / k_done, rate, imgs, left / rate, o->progress_tty ? "\033[K" : "\n");
    }
    if (o->progress_tty && !o->dry_run) fputc('\n', stderr);
    if (!o->dry_run && write_results(o->out_dir, &c, &ri, &d, want, total, now_s() - t0, err, errlen) != 0) goto out;
    rc = 0;
out:
    if (log) fclose(log);
    request_free(&cur);
    free(user_text);
    q35_image_batch_free(&ib);
    free(vcache);
    free(logits);
    q35_sampler_free(smp);
    q35_text_state_free(&st);
    q35_text_state_free(&pc.st);
    free(pc.ids);
    if (opened) q35_model_close(&m);
    q35_tokenizer_free(tok);
    free(tpl);
    for (int i = 0; want && i < d.n; i++) free(want[i]);
    free(want), free(t), free(sel);
    q35_mc_set_free(&d);
    free(ctext);
    return rc;
}

/* ---- merge ---- */

int q35_eval_merge(char *const *dirs, int n, const char *out_dir, const char *data, char *err, size_t errlen) {
    q35_eval_run_info ri[256];
    if (n < 1 || n > 256) return q35_fail(err, errlen, "merge takes 1 to 256 run directories");
    int shards = 0;
    for (int i = 0; i < n; i++) {
        if (q35_eval_read_run_info(dirs[i], &ri[i], err, errlen) != 0) return -1;
        const char *what = strcmp(ri[i].config_hash, ri[0].config_hash)    ? "configuration"
                           : strcmp(ri[i].model_fp, ri[0].model_fp)         ? "model"
                           : strcmp(ri[i].version, ri[0].version)           ? "q35 version"
                           : ri[i].shard_n != ri[0].shard_n                 ? "shard count"
                                                                            : NULL;
        if (what) return q35_fail(err, errlen, "%s and %s differ in their %s: not shards of one run", dirs[0], dirs[i], what);
        for (int k = 0; k < i; k++)
            if (ri[k].shard_k == ri[i].shard_k)
                return q35_fail(err, errlen, "%s and %s are both shard %d/%d", dirs[k], dirs[i], ri[i].shard_k, ri[i].shard_n);
        shards = ri[0].shard_n;
    }
    if (n != shards) {
        char miss[512] = "";
        size_t m = 0;
        for (int k = 1; k <= shards && m < sizeof miss - 16; k++) {
            int have = 0;
            for (int i = 0; i < n; i++) have |= ri[i].shard_k == k;
            if (!have) m += (size_t)snprintf(miss + m, sizeof miss - m, " %d", k);
        }
        return q35_fail(err, errlen, "%d of %d shards given; missing:%s", n, shards, miss);
    }
    char p[4300];
    snprintf(p, sizeof p, "%s/config.yaml", dirs[0]);
    q35_eval_config c;
    if (q35_eval_config_load(&c, p, err, errlen) != 0) return -1;
    if (data) {
        char kv[4300];
        snprintf(kv, sizeof kv, "dataset.path=%s", data);
        if (q35_eval_config_set(&c, kv, err, errlen) != 0) return q35_eval_config_free(&c), -1;
    }
    char *ctext = q35_eval_config_text(&c);
    q35_mc_set d = { 0 };
    unsigned char **want = NULL;
    char ***lines = NULL;
    item_ref *sel = NULL;
    int rc = -1, n_sel = 0;
    FILE *f = NULL;
    if (!ctext) {
        q35_fail(err, errlen, "out of memory");
        goto out;
    }
    if (strcmp(c.hash, ri[0].config_hash) != 0) {
        q35_fail(err, errlen, "%s does not hash to the run's configuration", p);
        goto out;
    }
    if (q35_eval_load_data(&d, &c, err, errlen) != 0) goto out;
    want = calloc((size_t)d.n, sizeof *want);
    lines = calloc((size_t)d.n, sizeof *lines);
    tally *t = calloc((size_t)d.n, sizeof *t);
    if (!want || !lines || !t || !(sel = select_items(&d, c.limit, c.circular, 1, 1, &n_sel))) {
        free(t);
        q35_fail(err, errlen, "out of memory");
        goto out;
    }
    for (int i = 0; i < d.n; i++)
        if (!(want[i] = calloc((size_t)d.s[i].n_test + 1, 1)) || !(lines[i] = calloc((size_t)d.s[i].n_test + 1, sizeof **lines))) {
            free(t);
            q35_fail(err, errlen, "out of memory");
            goto out;
        }
    for (int k = 0; k < n_sel; k++) want[sel[k].s][sel[k].j] = 1;
    int got = 0;
    for (int i = 0; i < n; i++) { /* a second log of an item is "logged twice" */
        int nd;
        snprintf(p, sizeof p, "%s/samples.jsonl", dirs[i]);
        if (read_log(p, &d, want, t, &nd, 0, lines, NULL, err, errlen) != 0) {
            free(t);
            goto out;
        }
        got += nd;
    }
    free(t);
    if (got != n_sel) {
        for (int k = 0; k < n_sel; k++)
            if (want[sel[k].s][sel[k].j] != 2) {
                q35_fail(err, errlen, "%d of %d items logged in the shards; the first missing: %s doc %d (an unfinished shard?)",
                         got, n_sel, d.s[sel[k].s].name, d.s[sel[k].s].test[sel[k].j].doc_id);
                break;
            }
        goto out;
    }
    if (mkdir_p(out_dir) != 0) {
        q35_fail(err, errlen, "%s: cannot create: %s", out_dir, strerror(errno));
        goto out;
    }
    snprintf(p, sizeof p, "%s/samples.jsonl", out_dir);
    if (!(f = fopen(p, "w"))) {
        q35_fail(err, errlen, "%s: cannot write: %s", p, strerror(errno));
        goto out;
    }
    for (int k = 0; k < n_sel; k++) fprintf(f, "%s\n", lines[sel[k].s][sel[k].j]);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        q35_fail(err, errlen, "%s: write failed", p);
        goto out;
    }
    q35_eval_run_info one = ri[0];
    one.shard_k = one.shard_n = 1;
    char *runj = run_json(&c, &one);
    snprintf(p, sizeof p, "%s/run.json", out_dir);
    int w = runj ? write_file(p, runj, err, errlen) : q35_fail(err, errlen, "out of memory");
    free(runj);
    snprintf(p, sizeof p, "%s/config.yaml", out_dir);
    if (w != 0 || write_file(p, ctext, err, errlen) != 0) goto out;
    if (write_results(out_dir, &c, &one, &d, want, n_sel, 0, err, errlen) != 0) goto out;
    rc = 0;
out:
    if (f) fclose(f);
    for (int i = 0; i < d.n; i++) {
        if (want) free(want[i]);
        for (int j = 0; lines && lines[i] && j < d.s[i].n_test; j++) free(lines[i][j]);
        if (lines) free(lines[i]);
    }
    free(want), free(lines), free(sel);
    q35_mc_set_free(&d);
    q35_eval_config_free(&c);
    free(ctext);
    return rc;
}
