/* mmlu.c - MMLU's CSVs and lm-evaluation-harness's prompt (mmlu.h). */
#include "mmlu.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "util.h"

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_subject(const void *a, const void *b) {
    return strcmp(((const q35_mmlu_subject *)a)->name, ((const q35_mmlu_subject *)b)->name);
}

/* The rows of one split file into items. */
static int load_items(q35_mc_item **out, int *n, const char *path, char *err, size_t errlen) {
    q35_csv c;
    *out = NULL, *n = 0;
    if (q35_csv_read(&c, path, ',', err, errlen) != 0) return -1;
    int first = 0, header = 0, rc = 0;
    if (c.n > 0 && c.rows[0].n == 6 && strcmp(c.rows[0].f[0], "question") == 0 &&
        strcmp(c.rows[0].f[5], "answer") == 0)
        first = 1, header = 1;
    *out = calloc((size_t)(c.n > first ? c.n - first : 1), sizeof **out);
    if (!*out) rc = q35_fail(err, errlen, "%s: out of memory", path);
    for (int i = first; rc == 0 && i < c.n; i++) {
        q35_csv_row *r = &c.rows[i];
        if (r->n != 6) {
            rc = q35_fail(err, errlen, "%s:%d: %d fields; an MMLU row has 6 (question, 4 choices, answer)", path,
                          r->line, r->n);
            break;
        }
        const char *a = r->f[5];
        int ans = -1;
        if (!header && a[0] >= 'A' && a[0] <= 'D' && !a[1]) ans = a[0] - 'A';
        if (header && a[0] >= '0' && a[0] <= '3' && !a[1]) ans = a[0] - '0';
        if (ans < 0) {
            rc = q35_fail(err, errlen, "%s:%d: answer '%s': expected %s", path, r->line, a,
                          header ? "a 0-based index 0-3 (the file has a header)" : "a letter A-D (the file has no header)");
            break;
        }
        q35_mc_item *it = &(*out)[*n];
        it->question = r->f[0], r->f[0] = NULL;
        for (int k = 0; k < 4; k++) it->choices[k] = r->f[1 + k], r->f[1 + k] = NULL;
        it->answer = ans, it->doc_id = *n, it->line = r->line;
        (*n)++;
    }
    q35_csv_free(&c);
    if (rc != 0) {
        for (int i = 0; i < *n; i++) {
            free((*out)[i].question);
            for (int k = 0; k < 4; k++) free((*out)[i].choices[k]);
        }
        free(*out);
        *out = NULL, *n = 0;
    }
    return rc;
}

int q35_mmlu_load(q35_mmlu *d, const char *dir, char *err, size_t errlen) {
    memset(d, 0, sizeof *d);
    char p[4096];
    const char *tests[] = { "test", "test_sample", "." };
    for (int i = 0; i < 3 && !d->test_dir; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, tests[i]);
        DIR *dd = is_dir(p) ? opendir(p) : NULL;
        struct dirent *e;
        int found = 0;
        while (dd && (e = readdir(dd)))
            found |= strstr(e->d_name, "_test") != NULL && strstr(e->d_name, ".csv") != NULL;
        if (dd) closedir(dd);
        if (found) d->test_dir = strdup(p);
    }
    if (!d->test_dir) return q35_fail(err, errlen, "%s: no <subject>_test*.csv files in it, nor in its test/ or test_sample/", dir);
    snprintf(p, sizeof p, "%s/dev", dir);
    d->dev_dir = strdup(is_dir(p) ? p : dir);
    DIR *dd = opendir(d->test_dir);
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && dd && (e = readdir(dd))) {
        const char *t = strstr(e->d_name, "_test");
        if (!t || !strstr(t, ".csv")) continue;
        q35_mmlu_subject *s = realloc(d->s, (size_t)(d->n + 1) * sizeof *s);
        if (!s) {
            rc = q35_fail(err, errlen, "out of memory");
            break;
        }
        d->s = s;
        s = &d->s[d->n++];
        memset(s, 0, sizeof *s);
        s->name = strndup(e->d_name, (size_t)(t - e->d_name));
        char path[8300];
        snprintf(path, sizeof path, "%s/%s", d->test_dir, e->d_name);
        rc = load_items(&s->test, &s->n_test, path, err, errlen);
        if (rc == 0) {
            snprintf(path, sizeof path, "%s/%s_dev.csv", d->dev_dir, s->name);
            rc = load_items(&s->dev, &s->n_dev, path, err, errlen);
        }
    }
    if (dd) closedir(dd);
    if (rc != 0) {
        q35_mmlu_free(d);
        return -1;
    }
    qsort(d->s, (size_t)d->n, sizeof *d->s, cmp_subject);
    return 0;
}

void q35_mmlu_free(q35_mmlu *d) {
    for (int i = 0; i < d->n; i++) {
        q35_mmlu_subject *s = &d->s[i];
        for (int j = 0; j < s->n_test + s->n_dev; j++) {
            q35_mc_item *it = j < s->n_test ? &s->test[j] : &s->dev[j - s->n_test];
            free(it->question);
            for (int k = 0; k < 4; k++) free(it->choices[k]);
        }
        free(s->test), free(s->dev), free(s->name);
    }
    free(d->s), free(d->test_dir), free(d->dev_dir);
    memset(d, 0, sizeof *d);
}

/* A growing string. */
typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} str;

static void put(str *b, const char *t, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s, b->cap = cap;
    }
    memcpy(b->s + b->n, t, n);
    b->n += n;
    b->s[b->n] = 0;
}
static void puts_(str *b, const char *t) { put(b, t, strlen(t)); }

/* Python's str.strip(): the ASCII whitespace and the Unicode spaces Python strips are trimmed;
 * MMLU's questions hold only ASCII ones at their ends. */
static int is_py_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

/* "{question.strip()}\nA. {c0}\nB. {c1}\nC. {c2}\nD. {c3}\nAnswer:" */
static void doc_to_text(str *b, const q35_mc_item *it) {
    const char *q = it->question, *e = q + strlen(q);
    while (q < e && is_py_space((unsigned char)*q)) q++;
    while (e > q && is_py_space((unsigned char)e[-1])) e--;
    put(b, q, (size_t)(e - q));
    for (int k = 0; k < 4; k++) {
        char head[5] = { '\n', (char)('A' + k), '.', ' ', 0 };
        puts_(b, head);
        puts_(b, it->choices[k]);
    }
    puts_(b, "\nAnswer:");
}

/* The description and k shots into b. */
static void prefix_into(str *b, const q35_mmlu_subject *s, int k) {
    puts_(b, "The following are multiple choice questions (with answers) about ");
    for (const char *c = s->name; *c; c++) put(b, *c == '_' ? " " : c, 1);
    puts_(b, ".\n\n");
    for (int i = 0; i < k; i++) {
        doc_to_text(b, &s->dev[i]);
        char tgt[3] = { ' ', (char)('A' + s->dev[i].answer), 0 };
        puts_(b, tgt);
        puts_(b, "\n\n");
    }
}

char *q35_mmlu_prefix(const q35_mmlu_subject *s, int k) {
    if (k < 0 || k > s->n_dev) return NULL;
    str b = { 0 };
    prefix_into(&b, s, k);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

char *q35_mmlu_context(const q35_mmlu_subject *s, const q35_mc_item *it, int k) {
    if (k < 0 || k > s->n_dev) return NULL;
    str b = { 0 };
    prefix_into(&b, s, k);
    doc_to_text(&b, it);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

int q35_split_request(const char *context, const char *continuation, char **ctx, char **cont) {
    size_t n = strlen(context), m = n;
    while (m > 0 && is_py_space((unsigned char)context[m - 1])) m--;
    *ctx = strndup(context, m);
    *cont = malloc(n - m + strlen(continuation) + 1);
    if (!*ctx || !*cont) {
        free(*ctx), free(*cont);
        return -1;
    }
    memcpy(*cont, context + m, n - m);
    strcpy(*cont + (n - m), continuation);
    return 0;
}
