/* mcfile.c - a multiple-choice benchmark from JSONL or CSV/TSV through a column mapping (mcfile.h). */
#include "mcfile.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>

#include "csv.h"
#include "redux.h"
#include "util.h"

enum { F_JSONL, F_CSV, F_TSV };
enum { A_LETTER, A_INDEX, A_INDEX1, A_TEXT, A_AUTO };
enum { S_FILE, S_ALL, S_COLUMN };

/* The mapping, checked and split. */
typedef struct {
    const q35_mc_columns *c;
    char **cc;  /* the choice columns when c->choices lists several */
    int ncc;
    int afmt, smode;
} mapping;

/* One row of either form. */
typedef struct {
    const char *path;
    int line;
    const q35_csv_row *hdr, *r; /* CSV/TSV */
    const cJSON *obj;           /* JSONL */
} mrow;

/* ---------------------------------------------------------------------------------------------
 * The mapping. */

static char *trimmed(const char *s, size_t n) {
    while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    return strndup(s, n);
}

static int mapping_init(mapping *m, const q35_mc_columns *c, char *err, size_t errlen) {
    static const char *const fmts[] = { "letter", "index", "index1", "text", "auto" };
    memset(m, 0, sizeof *m);
    m->c = c;
    if (!c || !c->question || !*c->question || !c->choices || !*c->choices || !c->answer || !*c->answer)
        return q35_fail(err, errlen, "column mapping: question, choices and answer must name columns");
    const char *f = c->answer_format ? c->answer_format : "auto";
    m->afmt = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(f, fmts[i]) == 0) m->afmt = i;
    if (m->afmt < 0)
        return q35_fail(err, errlen, "column mapping: answer format '%s': expected letter, index, index1, text or auto", f);
    m->smode = !c->subject || strcmp(c->subject, "file") == 0 ? S_FILE : !*c->subject ? S_ALL : S_COLUMN;
    if (!strchr(c->choices, ',')) return 0;
    for (const char *p = c->choices;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (m->ncc == Q35_MC_MAX_CHOICES)
            return q35_fail(err, errlen, "column mapping: choices: more than %d columns", Q35_MC_MAX_CHOICES);
        char **g = realloc(m->cc, (size_t)(m->ncc + 1) * sizeof *g);
        if (!g) return q35_fail(err, errlen, "out of memory");
        m->cc = g;
        if (!(m->cc[m->ncc] = trimmed(p, n))) return q35_fail(err, errlen, "out of memory");
        if (!*m->cc[m->ncc++]) return q35_fail(err, errlen, "column mapping: choices '%s': an empty column name", c->choices);
        if (!e) break;
        p = e + 1;
    }
    if (m->ncc < 2) return q35_fail(err, errlen, "column mapping: choices: fewer than 2 columns");
    return 0;
}

static void mapping_free(mapping *m) {
    q35_strv_free(m->cc, m->ncc);
    m->cc = NULL, m->ncc = 0;
}

/* ---------------------------------------------------------------------------------------------
 * Fields. */

enum { V_MISSING, V_TEXT, V_NUMBER, V_OTHER };

/* The column col of r: its kind, and the text (V_TEXT), number (V_NUMBER) or JSON item. */
static int field(const mrow *r, const char *col, const char **s, double *num, const cJSON **j) {
    if (r->obj) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->obj, col);
        if (j) *j = v;
        if (!v) return V_MISSING;
        if (cJSON_IsString(v)) return *s = v->valuestring, V_TEXT;
        if (cJSON_IsNumber(v)) return *num = v->valuedouble, V_NUMBER;
        return V_OTHER;
    }
    for (int i = 0; i < r->hdr->n; i++)
        if (strcmp(r->hdr->f[i], col) == 0) return *s = r->r->f[i], V_TEXT;
    return V_MISSING;
}

/* The text of column col (what it is for in messages), UTF-8 checked. */
static int text_of(const mrow *r, const char *col, const char *what, const char **s, char *err, size_t errlen) {
    double num;
    int k = field(r, col, s, &num, NULL);
    if (k == V_MISSING) return q35_fail(err, errlen, "%s:%d: no column '%s' (%s)", r->path, r->line, col, what);
    if (k != V_TEXT) return q35_fail(err, errlen, "%s:%d: column '%s' (%s) is not a string", r->path, r->line, col, what);
    if (!q35_valid_utf8(*s)) return q35_fail(err, errlen, "%s:%d: column '%s' (%s) is not valid UTF-8", r->path, r->line, col, what);
    return 0;
}

/* Appends a copy of s to v. */
static int strv_push(char ***v, int *n, const char *s) {
    char **g = realloc(*v, (size_t)(*n + 1) * sizeof *g);
    if (!g) return -1;
    *v = g;
    if (!(g[*n] = strdup(s))) return -1;
    (*n)++;
    return 0;
}

/* A JSON array of strings into (v, n); what names it in messages. */
static int json_strings(const cJSON *a, char ***v, int *n, const char *where, char *err, size_t errlen) {
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsString(e)) return q35_fail(err, errlen, "%s: item %d of the list is not a string", where, k);
        if (!q35_valid_utf8(e->valuestring)) return q35_fail(err, errlen, "%s: item %d of the list is not valid UTF-8", where, k);
        if (*n == Q35_MC_MAX_CHOICES) return q35_fail(err, errlen, "%s: more than %d strings in the list", where, Q35_MC_MAX_CHOICES);
        if (strv_push(v, n, e->valuestring)) return q35_fail(err, errlen, "%s: out of memory", where);
        k++;
    }
    return 0;
}

/* The row's choices into it. */
static int choices_of(const mrow *r, const mapping *m, q35_mc_item *it, char *err, size_t errlen) {
    char where[4400];
    const char *s;
    if (m->ncc) {
        for (int k = 0; k < m->ncc; k++) {
            if (text_of(r, m->cc[k], "a choice", &s, err, errlen)) return -1;
            if (strv_push(&it->choices, &it->n_choices, s)) return q35_fail(err, errlen, "out of memory");
        }
        return 0;
    }
    const char *col = m->c->choices;
    snprintf(where, sizeof where, "%s:%d: column '%s' (choices)", r->path, r->line, col);
    double num;
    const cJSON *j = NULL;
    int kind = field(r, col, &s, &num, &j);
    if (kind == V_MISSING) return q35_fail(err, errlen, "%s:%d: no column '%s' (choices)", r->path, r->line, col);
    if (r->obj) {
        if (!cJSON_IsArray(j)) return q35_fail(err, errlen, "%s: not a JSON array", where);
        return json_strings(j, &it->choices, &it->n_choices, where, err, errlen);
    }
    if (!q35_valid_utf8(s)) return q35_fail(err, errlen, "%s: not valid UTF-8", where);
    cJSON *a = cJSON_Parse(s); /* a JSON array, else a Python list literal */
    q35_json_last_wins(a);
    int rc;
    if (cJSON_IsArray(a)) rc = json_strings(a, &it->choices, &it->n_choices, where, err, errlen);
    else rc = q35_pylist_parse(s, Q35_MC_MAX_CHOICES, &it->choices, &it->n_choices, where, err, errlen);
    cJSON_Delete(a);
    return rc;
}

/* s without surrounding ASCII whitespace into t (tn bytes); -1 when it does not fit. */
static int trim_into(const char *s, char *t, size_t tn) {
    while (*s == ' ' || (*s >= '\t' && *s <= '\r')) s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r'))) n--;
    if (n >= tn) return -1;
    memcpy(t, s, n), t[n] = 0;
    return 0;
}

/* The index written in digits only (at most 8), or -1. */
static long digits_of(const char *t) {
    size_t n = strlen(t);
    if (n == 0 || n > 8 || strspn(t, "0123456789") != n) return -1;
    return atol(t);
}

/* The row's gold option into it->answer (choices read already). */
static int answer_of(const mrow *r, const mapping *m, q35_mc_item *it, char *err, size_t errlen) {
    static const char *const expect[] = { "a letter A-Z", "a 0-based index", "a 1-based index", "the text of one choice",
                                          "a letter A-Z or a 0-based index" };
    const char *col = m->c->answer, *s = NULL;
    double num = 0;
    int kind = field(r, col, &s, &num, NULL);
    if (kind == V_MISSING) return q35_fail(err, errlen, "%s:%d: no column '%s' (answer)", r->path, r->line, col);
    long v = -1;
    char shown[48];
    if (kind == V_NUMBER) {
        snprintf(shown, sizeof shown, "%g", num);
        if (m->afmt == A_INDEX || m->afmt == A_INDEX1 || m->afmt == A_AUTO)
            v = num >= 0 && num < 1e8 && num == floor(num) ? (long)num : -1;
    } else if (kind == V_TEXT) {
        snprintf(shown, sizeof shown, "%.40s", s);
        if (m->afmt == A_TEXT) {
            int hits = 0;
            for (int k = 0; k < it->n_choices; k++)
                if (strcmp(it->choices[k], s) == 0) hits++, v = k;
            if (hits > 1)
                return q35_fail(err, errlen, "%s:%d: column '%s' (answer) '%s' matches %d choices; it must match exactly one",
                                r->path, r->line, col, shown, hits);
        } else {
            char t[16];
            int letter = trim_into(s, t, sizeof t) == 0 && t[0] >= 'A' && t[0] <= 'Z' && !t[1];
            if (letter && (m->afmt == A_LETTER || m->afmt == A_AUTO)) v = t[0] - 'A';
            else if (!letter && m->afmt != A_LETTER && trim_into(s, t, sizeof t) == 0) v = digits_of(t);
        }
    } else {
        return q35_fail(err, errlen, "%s:%d: column '%s' (answer) is neither a string nor a number", r->path, r->line, col);
    }
    if (v >= 0 && m->afmt == A_INDEX1) v = v == 0 ? -1 : v - 1;
    if (v < 0 && m->afmt == A_TEXT && kind == V_TEXT)
        return q35_fail(err, errlen, "%s:%d: column '%s' (answer) '%s' matches none of the %d choices", r->path, r->line,
                        col, shown, it->n_choices);
    if (v < 0) return q35_fail(err, errlen, "%s:%d: column '%s' (answer) '%s': expected %s", r->path, r->line, col, shown, expect[m->afmt]);
    if (v >= it->n_choices)
        return q35_fail(err, errlen, "%s:%d: column '%s' (answer) '%s' is out of range: the row has %d choices", r->path,
                        r->line, col, shown, it->n_choices);
    it->answer = it->orig_answer = (int)v;
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Rows into the staging set. */

/* The subject stem of a file: its name without directory and extension, less one trailing
 * _test/_val/_dev/_validation. */
static char *file_subject(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    size_t n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
    static const char *const tails[] = { "_validation", "_test", "_val", "_dev" };
    for (int i = 0; i < 4; i++) {
        size_t t = strlen(tails[i]);
        if (n > t && strncmp(b + n - t, tails[i], t) == 0) {
            n -= t;
            break;
        }
    }
    return strndup(b, n);
}

/* The subject a row goes to in the staging set t; created (without a category when the mapping
 * names a category column) the first time. */
static q35_mc_subject *subject_for(q35_mc_set *t, const mrow *r, const mapping *m, const char *file_subj, char *err, size_t errlen) {
    const char *name = m->smode == S_ALL ? "all" : file_subj;
    if (m->smode == S_COLUMN) {
        if (text_of(r, m->c->subject, "subject", &name, err, errlen)) return NULL;
        if (!*name) {
            q35_fail(err, errlen, "%s:%d: column '%s' (subject) is empty", r->path, r->line, m->c->subject);
            return NULL;
        }
    }
    int n0 = t->n;
    q35_mc_subject *s = q35_mc_set_subject(t, name);
    if (!s) {
        q35_fail(err, errlen, "out of memory");
        return NULL;
    }
    if (t->n > n0 && m->c->category) free(s->category), s->category = NULL;
    if (!m->c->category) return s;
    const char *cat;
    if (text_of(r, m->c->category, "category", &cat, err, errlen)) return NULL;
    if (!s->category) {
        if (!(s->category = strdup(cat))) q35_fail(err, errlen, "out of memory");
        return s->category ? s : NULL;
    }
    if (strcmp(s->category, cat) != 0) {
        q35_fail(err, errlen, "%s:%d: column '%s' (category) '%.60s' differs from '%.60s' given by earlier rows of subject '%.60s'",
                 r->path, r->line, m->c->category, cat, s->category, s->name);
        return NULL;
    }
    return s;
}

/* One row into the staging set, as data row doc. */
static int add_row(q35_mc_set *t, const mrow *r, const mapping *m, const char *file_subj, int doc, char *err, size_t errlen) {
    q35_mc_item it = { 0 };
    const char *q;
    if (text_of(r, m->c->question, "question", &q, err, errlen) || choices_of(r, m, &it, err, errlen)) goto fail;
    if (it.n_choices < 2 || it.n_choices > Q35_MC_MAX_CHOICES) {
        q35_fail(err, errlen, "%s:%d: %d choice%s; expected 2..%d", r->path, r->line, it.n_choices,
                 it.n_choices == 1 ? "" : "s", Q35_MC_MAX_CHOICES);
        goto fail;
    }
    if (answer_of(r, m, &it, err, errlen)) goto fail;
    q35_mc_subject *s = subject_for(t, r, m, file_subj, err, errlen);
    if (!s) goto fail;
    if (!(it.question = strdup(q))) {
        q35_fail(err, errlen, "out of memory");
        goto fail;
    }
    it.doc_id = doc, it.line = r->line;
    if (q35_mc_push(&s->test, &s->n_test, &it)) return q35_fail(err, errlen, "out of memory");
    return 0;
fail:
    q35_mc_item_free(&it);
    return -1;
}

/* Checks that the header of a CSV/TSV file holds every mapped column, once. */
static int check_header(const q35_csv_row *h, const mapping *m, const char *path, char *err, size_t errlen) {
    const char *need[3 + Q35_MC_MAX_CHOICES];
    int n = 0;
    need[n++] = m->c->question, need[n++] = m->c->answer;
    if (m->ncc)
        for (int k = 0; k < m->ncc; k++) need[n++] = m->cc[k];
    else need[n++] = m->c->choices;
    for (int k = 0; k < n + 2; k++) {
        const char *col = k < n ? need[k] : k == n ? (m->smode == S_COLUMN ? m->c->subject : NULL) : m->c->category;
        if (!col) continue;
        int hits = 0;
        for (int i = 0; i < h->n; i++) hits += strcmp(h->f[i], col) == 0;
        if (hits == 0) return q35_fail(err, errlen, "%s:%d: the header has no column '%s'", path, h->line, col);
        if (hits > 1) return q35_fail(err, errlen, "%s:%d: column '%s' appears %d times in the header", path, h->line, col, hits);
    }
    return 0;
}

static int load_table(q35_mc_set *t, const char *path, char sep, const mapping *m, const char *fs, int *doc,
                      char *err, size_t errlen) {
    q35_csv c;
    if (q35_csv_read(&c, path, sep, err, errlen)) return -1;
    int rc = 0;
    if (c.n == 0) rc = q35_fail(err, errlen, "%s: empty (no header row)", path);
    else rc = check_header(&c.rows[0], m, path, err, errlen);
    for (int i = 1; rc == 0 && i < c.n; i++) {
        const q35_csv_row *r = &c.rows[i];
        if (r->n == 1 && !r->f[0][0]) continue; /* a blank line */
        if (r->n != c.rows[0].n) {
            rc = q35_fail(err, errlen, "%s:%d: %d fields; the header has %d", path, r->line, r->n, c.rows[0].n);
            break;
        }
        mrow mr = { path, r->line, &c.rows[0], r, NULL };
        rc = add_row(t, &mr, m, fs, (*doc)++, err, errlen);
    }
    q35_csv_free(&c);
    return rc;
}

static int load_jsonl(q35_mc_set *t, const char *path, const mapping *m, const char *fs, int *doc, char *err, size_t errlen) {
    size_t n;
    char *text = q35_read_file(path, 256u << 20, &n);
    if (!text) return q35_fail(err, errlen, "%s: cannot read (missing, unreadable or over 256 MiB)", path);
    int rc = 0, line = 0;
    size_t i = n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (rc == 0 && i < n) {
        line++;
        const char *s = text + i, *nl = memchr(s, '\n', n - i);
        size_t len = nl ? (size_t)(nl - s) : n - i;
        i += len + 1;
        if (len && s[len - 1] == '\r') len--;
        size_t k = strspn(s, " \t\r");
        if (k >= len) continue; /* a blank line */
        if (memchr(s, 0, len)) {
            rc = q35_fail(err, errlen, "%s:%d: a NUL byte", path, line);
            break;
        }
        if (q35_json_has_nul(s, len)) { /* cJSON would cut the string there: the prompt would lose its end */
            rc = q35_fail(err, errlen, "%s:%d: a string holds U+0000 (\\u0000), which a prompt cannot carry", path, line);
            break;
        }
        cJSON *o; /* a key given twice: the last, as Python's json reads it */
        if (q35_json_parse_one(s, len, &o, NULL) != 0) rc = q35_fail(err, errlen, "%s:%d: not valid JSON", path, line);
        else if (!cJSON_IsObject(o)) rc = q35_fail(err, errlen, "%s:%d: not a JSON object", path, line);
        else {
            mrow mr = { path, line, NULL, NULL, o };
            rc = add_row(t, &mr, m, fs, (*doc)++, err, errlen);
        }
        cJSON_Delete(o);
    }
    free(text);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Files and directories. */

static int format_of(const char *name) {
    if (q35_ends_with(name, ".jsonl")) return F_JSONL;
    if (q35_ends_with(name, ".csv")) return F_CSV;
    if (q35_ends_with(name, ".tsv")) return F_TSV;
    return -1;
}

static int load_one(q35_mc_set *t, const char *path, int fmt, const mapping *m, int *doc, char *err, size_t errlen) {
    char *fs = NULL;
    if (m->smode == S_FILE) {
        if (!(fs = file_subject(path))) return q35_fail(err, errlen, "out of memory");
        int dup = 0;
        for (int i = 0; i < t->n; i++) dup |= strcmp(t->s[i].name, fs) == 0;
        if (!*fs || dup) {
            q35_fail(err, errlen, "%s: %s subject name from the file name ('%s')", path, *fs ? "a second file with the" : "no", fs);
            free(fs);
            return -1;
        }
        *doc = 0;
    }
    int rc = fmt == F_JSONL ? load_jsonl(t, path, m, fs, doc, err, errlen)
                            : load_table(t, path, fmt == F_CSV ? ',' : '\t', m, fs, doc, err, errlen);
    free(fs);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every file of format fmt (-1: of any known one) in dir, by name. */
static int load_dir(q35_mc_set *t, const char *dir, int fmt, const mapping *m, char *err, size_t errlen) {
    DIR *dd = opendir(dir);
    if (!dd) return q35_fail(err, errlen, "%s: cannot list the directory", dir);
    char **v = NULL;
    int n = 0, rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(dd))) {
        int f = format_of(e->d_name);
        if (e->d_name[0] == '.' || f < 0 || (fmt >= 0 && f != fmt)) continue;
        if (strv_push(&v, &n, e->d_name)) rc = q35_fail(err, errlen, "out of memory");
    }
    closedir(dd);
    if (rc == 0 && n == 0)
        rc = q35_fail(err, errlen, "%s: no %s files in it", dir, fmt == F_JSONL ? "*.jsonl" : fmt == F_CSV ? "*.csv" : fmt == F_TSV ? "*.tsv" : "*.jsonl, *.csv or *.tsv");
    if (n > 1) qsort(v, (size_t)n, sizeof *v, cmp_str);
    int doc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        size_t len = strlen(dir) + strlen(v[i]) + 2;
        char *p = malloc(len);
        if (!p) {
            rc = q35_fail(err, errlen, "out of memory");
            break;
        }
        snprintf(p, len, "%s/%s", dir, v[i]);
        rc = load_one(t, p, fmt >= 0 ? fmt : format_of(v[i]), m, &doc, err, errlen);
        free(p);
    }
    q35_strv_free(v, n);
    return rc;
}

/* Moves the staging set's items into d's subjects (test or dev split). */
static int merge(q35_mc_set *d, q35_mc_set *t, int into_dev, int own_category, char *err, size_t errlen) {
    for (int i = 0; i < t->n; i++) {
        q35_mc_subject *ts = &t->s[i];
        int n0 = d->n;
        q35_mc_subject *ds = q35_mc_set_subject(d, ts->name);
        if (!ds) return q35_fail(err, errlen, "out of memory");
        if (own_category && ts->category && (d->n > n0 || !ds->category)) {
            free(ds->category);
            ds->category = ts->category, ts->category = NULL;
        }
        for (int j = 0; j < ts->n_test; j++)
            if (q35_mc_push(into_dev ? &ds->dev : &ds->test, into_dev ? &ds->n_dev : &ds->n_test, &ts->test[j]))
                return q35_fail(err, errlen, "out of memory");
    }
    return 0;
}

int q35_mcfile_load(q35_mc_set *d, const char *path, const char *format, const q35_mc_columns *cols, int into_dev,
                    char *err, size_t errlen) {
    mapping m;
    q35_mc_set t = { 0 };
    int rc = mapping_init(&m, cols, err, errlen), fmt = -1;
    if (rc == 0 && format) {
        fmt = strcmp(format, "jsonl") == 0 ? F_JSONL : strcmp(format, "csv") == 0 ? F_CSV : strcmp(format, "tsv") == 0 ? F_TSV : -1;
        if (fmt < 0) rc = q35_fail(err, errlen, "format '%s': expected jsonl, csv or tsv", format);
    }
    struct stat st;
    if (rc == 0 && stat(path, &st) != 0) rc = q35_fail(err, errlen, "%s: no such file or directory", path);
    if (rc == 0 && S_ISDIR(st.st_mode)) {
        rc = load_dir(&t, path, fmt, &m, err, errlen);
    } else if (rc == 0) {
        int f = fmt >= 0 ? fmt : format_of(path), doc = 0;
        if (f < 0) rc = q35_fail(err, errlen, "%s: cannot tell the format from the name (.jsonl, .csv, .tsv); name one", path);
        else rc = load_one(&t, path, f, &m, &doc, err, errlen);
    }
    if (rc == 0) rc = merge(d, &t, into_dev, cols->category != NULL, err, errlen);
    if (rc == 0) q35_mc_set_sort(d);
    q35_mc_set_free(&t);
    mapping_free(&m);
    return rc;
}
