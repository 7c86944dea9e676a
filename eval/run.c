/* run.c - an evaluation run: lm-eval's MMLU requests, log-likelihood scoring, the per-item log
 * (appended, flushed and fsync'd per item; resumable), results.json and report.md (run.h). */
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "mmlu.h"
#include "q35.h"
#include "sha256.h"
#include "util.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void q35_wilson95(int k, int n, double *lo, double *hi) {
    if (n <= 0) {
        *lo = *hi = 0;
        return;
    }
    const double z = 1.959963984540054;
    double p = (double)k / n, d = 1 + z * z / n, c = (p + z * z / (2.0 * n)) / d;
    double h = z * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / d;
    *lo = c - h < 0 || k == 0 ? 0 : c - h; /* exactly 0 and 1 at the ends, not a rounding away */
    *hi = c + h > 1 || k == n ? 1 : c + h;
}

/* ---- one item's request, as lm-eval builds it ---- */

typedef struct {
    char *context;       /* after the request split */
    char *cont[4];       /* " A" .. " D" after the split */
    int *ctx_ids, n_ctx;
    int *cont_ids[4], n_cont[4];
} request;

static void request_free(request *r) {
    free(r->context), free(r->ctx_ids);
    for (int k = 0; k < 4; k++) free(r->cont[k]), free(r->cont_ids[k]);
    memset(r, 0, sizeof *r);
}

/* context_enc = encode(context); continuation_enc = encode(context + continuation)[len(context_enc):]. */
static int build_request(request *r, q35_tokenizer *tok, const q35_mmlu_subject *s, const q35_mc_item *it, int k,
                         char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    char *full = q35_mmlu_context(s, it, k);
    if (!full) return q35_fail(err, errlen, "%s: %d shots asked, its dev split has %d", s->name, k, s->n_dev);
    int rc = 0;
    for (int c = 0; c < 4 && rc == 0; c++) {
        char letter[3] = { ' ', (char)('A' + c), 0 }, *ctx, *cont;
        if (q35_split_request(full, letter, &ctx, &cont) != 0) {
            rc = q35_fail(err, errlen, "out of memory");
            break;
        }
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
    free(full);
    if (rc != 0) request_free(r);
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

/* The subject's shared prefix (description + shots): its ids and the model state after it. */
typedef struct {
    int *ids, n;
    q35_text_state st;
    int ready;     /* st holds the prefix of the current subject */
    int fallbacks; /* items whose tokens did not start with the prefix's: run whole */
} prefix_cache;

/* Runs the context into s, restoring the prefix snapshot where the context's tokens start with the
 * prefix's (a BPE merge across the boundary would break that: then the whole context runs).
 * *cached says which. */
static int run_context(q35_text_state *s, const q35_ops *ops, const request *r, prefix_cache *pc, float *logits,
                       int *cached, char *err, size_t errlen) {
    *cached = pc && pc->ready && pc->n > 0 && r->n_ctx > pc->n && memcmp(r->ctx_ids, pc->ids, (size_t)pc->n * sizeof(int)) == 0;
    if (*cached) {
        if (q35_text_state_copy(s, &pc->st, err, errlen) != 0) return -1;
        return q35_text_forward(s, ops, r->ctx_ids + pc->n, r->n_ctx - pc->n, NULL, logits, 1, NULL, err, errlen);
    }
    if (pc && pc->ready) pc->fallbacks++;
    q35_text_state_reset(s);
    return q35_text_forward(s, ops, r->ctx_ids, r->n_ctx, NULL, logits, 1, NULL, err, errlen);
}

/* The log-likelihood of each continuation: one context run when every continuation is one token
 * (all four read from its last logits); else per choice the context, then the continuation token
 * by token. */
static int score(double ll[4], int greedy[4], const request *r, q35_text_state *s, const q35_ops *ops, float *logits,
                 prefix_cache *pc, int *cached, char *err, size_t errlen) {
    int V = s->m->cfg.text.vocab_size, single = 1;
    for (int c = 0; c < 4; c++) single &= r->n_cont[c] == 1;
    if (single) {
        if (run_context(s, ops, r, pc, logits, cached, err, errlen) != 0) return -1;
        for (int c = 0; c < 4; c++) ll[c] = log_prob(logits, V, r->cont_ids[c][0], &greedy[c]);
        return 0;
    }
    for (int c = 0; c < 4; c++) {
        if (run_context(s, ops, r, pc, logits, cached, err, errlen) != 0) return -1;
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

static int write_file(const char *path, const char *text, char *err, size_t errlen) {
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return q35_fail(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
    int bad = fputs(text, f) < 0;
    bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) return q35_fail(err, errlen, "%s: write failed", path);
    return 0;
}

/* Per subject: items done and correct, from the log's records. */
typedef struct {
    int n, correct;
} tally;

/* Reads the log: marks done items, tallies them, and cuts a torn last line off. *good is the
 * number of bytes of whole records. -1 with err on a bad record in the middle. */
static int read_log(const char *path, const q35_mmlu *d, unsigned char **done, tally *t, int *n_done, char *err,
                    size_t errlen) {
    size_t n;
    char *text = q35_read_file(path, 1u << 30, &n);
    *n_done = 0;
    if (!text) return 0; /* no log yet */
    size_t good = 0, pos = 0;
    int line = 0, rc = 0;
    while (pos < n && rc == 0) {
        char *nl = memchr(text + pos, '\n', n - pos);
        line++;
        if (!nl) break; /* a torn last line: redone */
        *nl = 0;
        cJSON *j = cJSON_Parse(text + pos);
        const cJSON *sj = cJSON_GetObjectItemCaseSensitive(j, "subject"), *dj = cJSON_GetObjectItemCaseSensitive(j, "doc_id"),
                    *cj = cJSON_GetObjectItemCaseSensitive(j, "correct");
        int si = -1;
        for (int i = 0; cJSON_IsString(sj) && i < d->n; i++)
            if (strcmp(d->s[i].name, sj->valuestring) == 0) si = i;
        if (!j || si < 0 || !cJSON_IsNumber(dj) || dj->valueint < 0 || dj->valueint >= d->s[si].n_test || !cJSON_IsBool(cj)) {
            int last = nl + 1 == text + n;
            cJSON_Delete(j);
            if (last) break; /* a last line cut inside its JSON: redone */
            rc = q35_fail(err, errlen, "%s:%d: not a record of this run", path, line);
            break;
        }
        if (!done[si][dj->valueint]) {
            done[si][dj->valueint] = 1;
            t[si].n++, t[si].correct += cJSON_IsTrue(cj);
            (*n_done)++;
        }
        cJSON_Delete(j);
        pos = (size_t)(nl - text) + 1;
        good = pos;
    }
    free(text);
    if (rc == 0 && good < n && truncate(path, (off_t)good) != 0)
        rc = q35_fail(err, errlen, "%s: cannot cut its torn last line: %s", path, strerror(errno));
    return rc;
}

/* results.json and report.md from the tallies. */
static int write_results(const char *dir, const q35_eval_config *c, const char *model_fp, const q35_mmlu *d,
                         const tally *t, double wall, char *err, size_t errlen) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "schema", "q35-eval-results/1");
    cJSON_AddStringToObject(j, "q35_version", Q35_VERSION);
    cJSON_AddStringToObject(j, "task", c->task);
    cJSON_AddStringToObject(j, "config_sha256", c->hash);
    cJSON_AddStringToObject(j, "model_fingerprint", model_fp);
    cJSON_AddStringToObject(j, "backend", c->backend);
    cJSON_AddNumberToObject(j, "num_fewshot", c->num_fewshot);
    cJSON *subs = cJSON_AddObjectToObject(j, "subjects");
    int N = 0, K = 0, ns = 0;
    double macro = 0;
    for (int i = 0; i < d->n; i++) {
        if (t[i].n == 0) continue;
        double lo, hi;
        q35_wilson95(t[i].correct, t[i].n, &lo, &hi);
        cJSON *o = cJSON_AddObjectToObject(subs, d->s[i].name);
        cJSON_AddNumberToObject(o, "n", t[i].n);
        cJSON_AddNumberToObject(o, "correct", t[i].correct);
        cJSON_AddNumberToObject(o, "acc", (double)t[i].correct / t[i].n);
        cJSON_AddNumberToObject(o, "ci95_lo", lo);
        cJSON_AddNumberToObject(o, "ci95_hi", hi);
        N += t[i].n, K += t[i].correct, ns++;
        macro += (double)t[i].correct / t[i].n;
    }
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
    cJSON *tm = cJSON_AddObjectToObject(j, "timings");
    cJSON_AddNumberToObject(tm, "wall_s_this_session", wall);
    char *txt = cJSON_Print(j);
    cJSON_Delete(j);
    char p[4200];
    snprintf(p, sizeof p, "%s/results.json", dir);
    int rc = txt ? write_file(p, txt, err, errlen) : q35_fail(err, errlen, "out of memory");
    free(txt);
    if (rc != 0) return -1;
    /* report.md */
    size_t cap = 4096 + (size_t)d->n * 160;
    char *md = malloc(cap);
    if (!md) return q35_fail(err, errlen, "out of memory");
    int n = snprintf(md, cap,
                     "# q35 eval: %s, %d-shot, %s\n\n"
                     "Accuracy (micro average over %d items): **%.2f%%** (95%% Wilson interval %.2f-%.2f)  \n"
                     "Macro average over %d subjects: %.2f%%\n\n"
                     "- config SHA-256 `%s` (config.yaml in this directory)\n- model fingerprint `%s` (%s)\n"
                     "- backend %s, q35 %s\n\n| subject | n | acc | 95%% interval |\n|---|---|---|---|\n",
                     c->task, c->num_fewshot, c->scoring, N, N ? 100.0 * K / N : 0, 100 * lo, 100 * hi, ns,
                     ns ? 100 * macro / ns : 0, c->hash, model_fp, c->model ? c->model : "", c->backend, Q35_VERSION);
    for (int i = 0; i < d->n && n < (int)cap; i++) {
        if (t[i].n == 0) continue;
        q35_wilson95(t[i].correct, t[i].n, &lo, &hi);
        n += snprintf(md + n, cap - (size_t)n, "| %s | %d | %.2f%% | %.1f-%.1f |\n", d->s[i].name, t[i].n,
                      100.0 * t[i].correct / t[i].n, 100 * lo, 100 * hi);
    }
    snprintf(p, sizeof p, "%s/report.md", dir);
    rc = write_file(p, md, err, errlen);
    free(md);
    return rc;
}

/* ---- the run ---- */

int q35_eval_run(const q35_eval_config *cfg, const q35_eval_opts *o, char *err, size_t errlen) {
    q35_eval_config c = *cfg; /* the hash is recomputed into the copy */
    char *ctext = q35_eval_config_text(&c);
    if (!ctext) return q35_fail(err, errlen, "out of memory");
    if (!c.data) {
        free(ctext);
        return q35_fail(err, errlen, "no dataset: set dataset.path in the config, or give --data DIR");
    }
    if (!o->dry_run && !c.model) {
        free(ctext);
        return q35_fail(err, errlen, "no model: set model in the config, or give --model DIR");
    }
    q35_mmlu d;
    if (q35_mmlu_load(&d, c.data, err, errlen) != 0) {
        free(ctext);
        return -1;
    }
    int rc = -1, V = 0;
    q35_tokenizer *tok = q35_tokenizer_load(c.tokenizer ? c.tokenizer : c.model ? c.model : "", err, errlen);
    q35_model m;
    int opened = 0;
    q35_text_state st = { 0 };
    prefix_cache pc = { 0 };
    float *logits = NULL;
    const q35_ops *ops = q35_backend(c.backend);
    FILE *log = NULL;
    unsigned char **done = calloc((size_t)d.n, sizeof *done);
    tally *t = calloc((size_t)d.n, sizeof *t);
    char fp[65] = "", p[4200];
    double t0 = now_s();
    if (!tok || !done || !t) {
        if (tok) q35_fail(err, errlen, "out of memory");
        goto out;
    }
    int total = 0;
    for (int i = 0; i < d.n; i++) {
        int n = c.limit > 0 && c.limit < d.s[i].n_test ? c.limit : d.s[i].n_test;
        total += n;
        if (!(done[i] = calloc((size_t)d.s[i].n_test + 1, 1))) {
            q35_fail(err, errlen, "out of memory");
            goto out;
        }
    }
    if (!o->dry_run) {
        if (model_fingerprint(c.model, fp) != 0) {
            q35_fail(err, errlen, "%s: no config.json", c.model);
            goto out;
        }
        if (mkdir(o->out_dir, 0777) != 0 && errno != EEXIST) {
            q35_fail(err, errlen, "%s: cannot create: %s", o->out_dir, strerror(errno));
            goto out;
        }
        snprintf(p, sizeof p, "%s/run.json", o->out_dir);
        char *prev = q35_read_file(p, 1 << 20, NULL);
        char runj[512];
        snprintf(runj, sizeof runj,
                 "{\n  \"config_sha256\": \"%s\",\n  \"model_fingerprint\": \"%s\",\n  \"q35_version\": \"%s\"\n}\n", c.hash,
                 fp, Q35_VERSION);
        if (prev && !o->resume) {
            free(prev);
            q35_fail(err, errlen, "%s already holds a run: --resume to continue it, or another --out", o->out_dir);
            goto out;
        }
        if (prev && strcmp(prev, runj) != 0) {
            free(prev);
            q35_fail(err, errlen,
                     "%s holds a run of another configuration, model or q35 version (its run.json differs): "
                     "not resumed", o->out_dir);
            goto out;
        }
        free(prev);
        if (write_file(p, runj, err, errlen) != 0) goto out;
        snprintf(p, sizeof p, "%s/config.yaml", o->out_dir);
        if (write_file(p, ctext, err, errlen) != 0) goto out;
        snprintf(p, sizeof p, "%s/samples.jsonl", o->out_dir);
        int n_done = 0;
        if (read_log(p, &d, done, t, &n_done, err, errlen) != 0) goto out;
        if (n_done) fprintf(stderr, "q35 eval: resuming: %d of %d items already done\n", n_done, total);
        log = fopen(p, "a");
        if (!log) {
            q35_fail(err, errlen, "%s: cannot append: %s", p, strerror(errno));
            goto out;
        }
        if (q35_model_open(&m, c.model, err, errlen) != 0) goto out;
        opened = 1;
        if (!ops) {
            q35_fail(err, errlen, "unknown backend '%s' (have: %s)", c.backend, q35_backend_names());
            goto out;
        }
        q35_set_threads(c.threads);
        V = m.cfg.text.vocab_size;
        if (q35_text_state_init(&st, &m, err, errlen) != 0) goto out;
        if (!c.no_prefix_cache && q35_text_state_init(&pc.st, &m, err, errlen) != 0) goto out;
        if (!(logits = malloc((size_t)V * sizeof *logits))) {
            q35_fail(err, errlen, "out of memory");
            goto out;
        }
    }
    int k_done = 0, k_correct = 0;
    double t_items = now_s();
    for (int i = 0; i < d.n; i++) {
        q35_mmlu_subject *s = &d.s[i];
        int n = c.limit > 0 && c.limit < s->n_test ? c.limit : s->n_test;
        pc.ready = 0;
        for (int j = 0; j < n; j++) {
            if (done[i][j]) continue;
            if (!o->dry_run && !c.no_prefix_cache && !pc.ready) { /* the subject's prefix, once */
                char *pre = q35_mmlu_prefix(s, c.num_fewshot);
                free(pc.ids);
                pc.ids = NULL;
                if (!pre || q35_tokenize(tok, pre, strlen(pre), &pc.ids, &pc.n, err, errlen) != 0) {
                    if (!pre) q35_fail(err, errlen, "%s: %d shots asked, its dev split has %d", s->name, c.num_fewshot, s->n_dev);
                    free(pre);
                    goto out;
                }
                free(pre);
                q35_text_state_reset(&pc.st);
                if (q35_text_forward(&pc.st, ops, pc.ids, pc.n, NULL, NULL, 1, NULL, err, errlen) != 0) goto out;
                pc.ready = 1;
            }
            q35_mc_item *it = &s->test[j];
            request r;
            double ti = now_s();
            if (build_request(&r, tok, s, it, c.num_fewshot, err, errlen) != 0) goto out;
            cJSON *rec = cJSON_CreateObject();
            cJSON_AddStringToObject(rec, "subject", s->name);
            cJSON_AddNumberToObject(rec, "doc_id", it->doc_id);
            if (o->dry_run) {
                cJSON_AddStringToObject(rec, "context", r.context);
                cJSON *cs = cJSON_AddArrayToObject(rec, "continuations"), *ci = NULL;
                for (int k = 0; k < 4; k++) cJSON_AddItemToArray(cs, cJSON_CreateString(r.cont[k]));
                cJSON_AddItemToObject(rec, "context_ids", cJSON_CreateIntArray(r.ctx_ids, r.n_ctx));
                ci = cJSON_AddArrayToObject(rec, "continuation_ids");
                for (int k = 0; k < 4; k++) cJSON_AddItemToArray(ci, cJSON_CreateIntArray(r.cont_ids[k], r.n_cont[k]));
                cJSON_AddNumberToObject(rec, "gold", it->answer);
                char *line = cJSON_PrintUnformatted(rec);
                if (line) fprintf(o->dry_run, "%s\n", line);
                free(line);
                cJSON_Delete(rec);
                request_free(&r);
                continue;
            }
            double ll[4];
            int greedy[4];
            int cached = 0;
            if (score(ll, greedy, &r, &st, ops, logits, c.no_prefix_cache ? NULL : &pc, &cached, err, errlen) != 0) {
                cJSON_Delete(rec);
                request_free(&r);
                goto out;
            }
            int pred = 0;
            for (int k = 1; k < 4; k++)
                if (ll[k] > ll[pred]) pred = k; /* the first of equal maxima, as numpy's argmax */
            char hp[65], hi[65];
            sha_text(r.context, hp);
            sha_ids(r.ctx_ids, r.n_ctx, hi);
            cJSON_AddStringToObject(rec, "prompt_sha256", hp);
            cJSON_AddStringToObject(rec, "ids_sha256", hi);
            cJSON_AddNumberToObject(rec, "prompt_tokens", r.n_ctx);
            cJSON_AddNumberToObject(rec, "prefix_tokens_reused", cached ? pc.n : 0);
            cJSON_AddItemToObject(rec, "loglik", cJSON_CreateDoubleArray(ll, 4));
            cJSON_AddItemToObject(rec, "is_greedy", cJSON_CreateIntArray(greedy, 4));
            cJSON_AddNumberToObject(rec, "pred", pred);
            cJSON_AddNumberToObject(rec, "gold", it->answer);
            cJSON_AddBoolToObject(rec, "correct", pred == it->answer);
            cJSON_AddNumberToObject(rec, "seconds", now_s() - ti);
            char *line = cJSON_PrintUnformatted(rec);
            cJSON_Delete(rec);
            request_free(&r);
            int bad = !line || fprintf(log, "%s\n", line) < 0 || fflush(log) != 0 || fsync(fileno(log)) != 0;
            free(line);
            if (bad) {
                q35_fail(err, errlen, "%s/samples.jsonl: write failed", o->out_dir);
                goto out;
            }
            t[i].n++, t[i].correct += pred == it->answer;
            k_done++, k_correct += pred == it->answer;
            int left = total, all_done = 0;
            for (int a = 0; a < d.n; a++) all_done += t[a].n;
            left -= all_done;
            double rate = k_done / (now_s() - t_items);
            if (o->progress_tty || k_done % 50 == 0 || left == 0)
                fprintf(stderr, "%sq35 eval: %d/%d items, acc %.1f%%, %.2f items/s, ETA %.0f s%s", o->progress_tty ? "\r" : "",
                        all_done, total, 100.0 * k_correct / k_done, rate, left / rate, o->progress_tty ? "" : "\n");
        }
    }
    if (o->progress_tty && !o->dry_run) fputc('\n', stderr);
    if (!o->dry_run && write_results(o->out_dir, &c, fp, &d, t, now_s() - t0, err, errlen) != 0) goto out;
    rc = 0;
out:
    if (log) fclose(log);
    free(logits);
    q35_text_state_free(&st);
    q35_text_state_free(&pc.st);
    free(pc.ids);
    if (pc.fallbacks) fprintf(stderr, "q35 eval: %d items ran whole: their tokens did not start with the prefix's\n", pc.fallbacks);
    if (opened) q35_model_close(&m);
    q35_tokenizer_free(tok);
    for (int i = 0; done && i < d.n; i++) free(done[i]);
    free(done);
    free(t);
    q35_mmlu_free(&d);
    free(ctext);
    return rc;
}
