/* redux.c - MMLU-Redux's raw CSVs (redux.h). */
#include "redux.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "util.h"

/* ---------------------------------------------------------------------------------------------
 * Text: a growing string, UTF-8 encoding and checking, cp1252. */

typedef struct {
    char *s;
    size_t n, cap;
} sbuf;

static int sb_put(sbuf *b, const char *t, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) return -1;
        b->s = s, b->cap = cap;
    }
    memcpy(b->s + b->n, t, n);
    b->n += n;
    b->s[b->n] = 0;
    return 0;
}

/* Appends code point cp as UTF-8; -1 on out of memory. */
static int sb_utf8(sbuf *b, unsigned cp) {
    char u[4];
    size_t n;
    if (cp < 0x80) u[0] = (char)cp, n = 1;
    else if (cp < 0x800) u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)), u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
        u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)), u[2] = (char)(0x80 | (cp >> 6 & 0x3F)),
        u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    return sb_put(b, u, n);
}

/* The offset of the first byte of s[0..n) that does not start a strict UTF-8 sequence (no
 * overlongs, surrogates or code points above U+10FFFF); n when all of it is UTF-8. */
static size_t utf8_bad_at(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) k = 1, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF) k = 2, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4) k = 3, cp = c & 0x07, min = 0x10000;
        else return i;
        if (n - i <= k) return i;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return i;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += k + 1;
    }
    return n;
}

/* cp1252's 0x80-0x9F (0: undefined); 0xA0-0xFF are U+00A0-U+00FF. */
static const unsigned short cp1252_hi[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
    0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

static int line_at(const char *t, size_t off) {
    int line = 1;
    for (size_t i = 0; i < off; i++) line += t[i] == '\n';
    return line;
}

/* t[0..n) read as cp1252, into a new UTF-8 string (its length in *m). NULL with err naming the
 * file and line of a byte cp1252 leaves undefined, or on out of memory. */
static char *cp1252_to_utf8(const char *t, size_t n, size_t *m, const char *name, char *err, size_t errlen) {
    sbuf b = { 0 };
    int rc = sb_put(&b, "", 0);
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned c = (unsigned char)t[i];
        unsigned cp = c < 0x80 || c >= 0xA0 ? c : cp1252_hi[c - 0x80];
        if (cp == 0 && c != 0) {
            q35_fail(err, errlen, "%s:%d: byte 0x%02X: the file is not UTF-8, and cp1252 leaves this byte undefined",
                     name, line_at(t, i), c);
            free(b.s);
            return NULL;
        }
        rc = c < 0x80 ? sb_put(&b, &t[i], 1) : sb_utf8(&b, cp);
    }
    if (rc != 0) {
        free(b.s);
        q35_fail(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    *m = b.n;
    return b.s;
}

/* ---------------------------------------------------------------------------------------------
 * Python list literals. */

void q35_strv_free(char **v, int n) {
    for (int i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static int hex_val(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One string literal starting at *p (its opening quote) into b; *p ends past the closing quote. */
static int py_string(const char **p, sbuf *b, const char *where, char *err, size_t errlen) {
    const char *s = *p;
    char q = *s++;
    for (;;) {
        char c = *s;
        if (c == 0) return q35_fail(err, errlen, "%s: a string is never closed (missing %c)", where, q);
        if (c == '\n' || c == '\r') return q35_fail(err, errlen, "%s: a line break inside a string", where);
        if (c == q) break;
        if (c != '\\') {
            size_t n = 1;
            while (s[n] && s[n] != q && s[n] != '\\' && s[n] != '\n' && s[n] != '\r') n++;
            if (sb_put(b, s, n)) return q35_fail(err, errlen, "%s: out of memory", where);
            s += n;
            continue;
        }
        char e = s[1];
        static const char from[] = "\\'\"ntr", to[] = "\\'\"\n\t\r";
        const char *simple = e ? strchr(from, e) : NULL;
        if (simple) {
            if (sb_put(b, &to[simple - from], 1)) return q35_fail(err, errlen, "%s: out of memory", where);
            s += 2;
            continue;
        }
        int digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
        if (!digits) {
            if (!e) return q35_fail(err, errlen, "%s: a string is never closed (missing %c)", where, q);
            return q35_fail(err, errlen, "%s: bad escape '\\%c' (allowed: \\\\ \\' \\\" \\n \\t \\r \\xNN \\uXXXX \\UXXXXXXXX)",
                            where, (unsigned char)e >= 0x20 && (unsigned char)e < 0x7F ? e : '?');
        }
        unsigned long cp = 0;
        for (int k = 0; k < digits; k++) {
            int h = hex_val(s[2 + k]);
            if (h < 0) return q35_fail(err, errlen, "%s: bad escape '\\%c': expected %d hex digits", where, e, digits);
            cp = cp << 4 | (unsigned)h;
        }
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return q35_fail(err, errlen, "%s: escape '\\%c%.*s' is not a character that UTF-8 text may hold", where, e,
                            digits, s + 2);
        if (sb_utf8(b, (unsigned)cp)) return q35_fail(err, errlen, "%s: out of memory", where);
        s += 2 + digits;
    }
    *p = s + 1;
    return 0;
}

int q35_pylist_parse(const char *s, int max, char ***out, int *n, const char *where, char *err, size_t errlen) {
    char **v = NULL;
    int nv = 0;
    *out = NULL, *n = 0;
    while (is_ws(*s)) s++;
    if (*s != '[') {
        q35_fail(err, errlen, "%s: expected a Python list literal ['...', ...], found '%.20s'", where, s);
        goto fail;
    }
    s++;
    for (;;) {
        while (is_ws(*s)) s++;
        if (*s == ']') break;
        if (*s != '\'' && *s != '"') {
            q35_fail(err, errlen, "%s: expected a quoted string or ']' in the list, found %s", where,
                     *s ? "other text" : "its end (the list is never closed)");
            goto fail;
        }
        if (nv >= max) {
            q35_fail(err, errlen, "%s: more than %d strings in the list", where, max);
            goto fail;
        }
        sbuf b = { 0 };
        if (sb_put(&b, "", 0) || py_string(&s, &b, where, err, errlen)) {
            if (!b.s) q35_fail(err, errlen, "%s: out of memory", where);
            free(b.s);
            goto fail;
        }
        char **g = realloc(v, (size_t)(nv + 1) * sizeof *g);
        if (!g) {
            free(b.s);
            q35_fail(err, errlen, "%s: out of memory", where);
            goto fail;
        }
        v = g, v[nv++] = b.s;
        while (is_ws(*s)) s++;
        if (*s == ',') s++;
        else if (*s != ']') {
            q35_fail(err, errlen, "%s: expected ',' or ']' after string %d of the list, found %s", where, nv,
                     *s ? "other text" : "its end (the list is never closed)");
            goto fail;
        }
    }
    s++;
    while (is_ws(*s)) s++;
    if (*s) {
        q35_fail(err, errlen, "%s: text after the list's closing ']'", where);
        goto fail;
    }
    *out = v, *n = nv;
    return 0;
fail:
    q35_strv_free(v, nv);
    return -1;
}

/* ---------------------------------------------------------------------------------------------
 * Error types. */

static const char *const error_types[] = {
    "ok", "wrong_groundtruth", "multiple_correct_answers", "no_correct_answer",
    "bad_question_clarity", "bad_options_clarity", "expert",
};
#define N_ERROR_TYPES ((int)(sizeof error_types / sizeof error_types[0]))
#define KNOWN_TYPES "ok, wrong_groundtruth, multiple_correct_answers, no_correct_answer, bad_question_clarity, " \
                    "bad_options_clarity, expert"
#define WRONG_GROUNDTRUTH 1

/* The index of a normalised label in error_types, or -1. */
static int error_type_index(const char *label, char *out, size_t outlen) {
    const char *s = label, *e = label + strlen(label);
    while (s < e && is_ws(*s)) s++;
    while (e > s && is_ws(e[-1])) e--;
    size_t n = 0;
    for (; s < e && n + 1 < outlen; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c == ' ' || c == '-') c = '_';
        out[n++] = c;
    }
    if (outlen) out[n] = 0;
    if (s < e) return -1; /* cut: too long to be a label */
    for (int i = 0; i < N_ERROR_TYPES; i++)
        if (outlen && strcmp(out, error_types[i]) == 0) return i;
    return -1;
}

int q35_redux_error_type(const char *label, char *out, size_t outlen) {
    return error_type_index(label, out, outlen) < 0 ? -1 : 0;
}

/* The bit mask of the labels named in keep (all when NULL or ""). */
static int keep_mask(const char *keep, unsigned *mask, char *err, size_t errlen) {
    *mask = 0;
    if (!keep || !*keep) {
        *mask = (1u << N_ERROR_TYPES) - 1;
        return 0;
    }
    for (const char *p = keep;;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        char name[64], norm[64];
        snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), p);
        int k = n < 63 ? error_type_index(name, norm, sizeof norm) : -1;
        if (k < 0) return q35_fail(err, errlen, "keep: '%.*s' is not an MMLU-Redux error type (known: " KNOWN_TYPES ")",
                                   (int)(n < 200 ? n : 200), p);
        *mask |= 1u << k;
        if (!c) return 0;
        p = c + 1;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Files. */

/* "mmlu_<subject>[.anything]" of path's last component, in a new string; NULL when empty. */
static char *subject_of(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    if (strncmp(b, "mmlu_", 5) == 0) b += 5;
    size_t n = strcspn(b, ".");
    return n ? strndup(b, n) : NULL;
}

/* 0 and *v when s is a whole number 0..99999999 written in digits only. */
static int parse_index(const char *s, int *v) {
    size_t n = strlen(s);
    if (n == 0 || n > 8 || strspn(s, "0123456789") != n) return -1;
    *v = atoi(s);
    return 0;
}

/* correct_answer as an index below n_choices: whole digits or one letter A-Z, whitespace around
 * allowed; -1 for anything else (empty, text, a list). */
static int corrected_index(const char *s, int n_choices) {
    while (is_ws(*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && is_ws(s[n - 1])) n--;
    char t[16];
    if (n == 0 || n >= sizeof t) return -1;
    memcpy(t, s, n), t[n] = 0;
    int v = -1;
    if (n == 1 && t[0] >= 'A' && t[0] <= 'Z') v = t[0] - 'A';
    else if (parse_index(t, &v) != 0) v = -1;
    return v < n_choices ? v : -1;
}

/* The file's text as UTF-8 (converted from cp1252 when it is not UTF-8; *converted then 1). */
static char *read_text(const char *path, size_t *n, int *converted, char *err, size_t errlen) {
    char *t = q35_read_file(path, 256u << 20, n);
    *converted = 0;
    if (!t) {
        q35_fail(err, errlen, "%s: cannot read (missing, unreadable or over 256 MiB)", path);
        return NULL;
    }
    size_t bad = utf8_bad_at((const unsigned char *)t, *n);
    if (bad == *n) return t;
    if (*n >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0) { /* a BOM promises UTF-8 */
        q35_fail(err, errlen, "%s:%d: not valid UTF-8 although the file starts with a UTF-8 BOM", path, line_at(t, bad));
        free(t);
        return NULL;
    }
    char *u = cp1252_to_utf8(t, *n, n, path, err, errlen);
    free(t);
    *converted = u != NULL;
    return u;
}

/* ',' or ';': whichever the header line (up to the first line end) holds more of, outside quotes. */
static int header_sep(const char *t, size_t n, const char *path, char *err, size_t errlen) {
    int comma = 0, semi = 0, quoted = 0;
    for (size_t i = 0; i < n && (quoted || (t[i] != '\n' && t[i] != '\r')); i++) {
        if (t[i] == '"') quoted = !quoted;
        else if (!quoted) comma += t[i] == ',', semi += t[i] == ';';
    }
    if (comma == 0 && semi == 0)
        return q35_fail(err, errlen, "%s:1: the header line has neither ',' nor ';' between its names (expected "
                        "question, choices, answer, error_type, source, correct_answer, potential_reason)", path);
    return semi > comma ? ';' : ',';
}

enum { C_QUESTION, C_CHOICES, C_ANSWER, C_ERROR_TYPE, C_CORRECT_ANSWER, N_COLS };
static const char *const col_names[N_COLS] = { "question", "choices", "answer", "error_type", "correct_answer" };

/* The column of each needed name in the header row h. */
static int header_columns(const q35_csv_row *h, int col[N_COLS], char sep, const char *path, char *err, size_t errlen) {
    for (int k = 0; k < N_COLS; k++) {
        col[k] = -1;
        for (int i = 0; i < h->n; i++) {
            if (strcmp(h->f[i], col_names[k]) != 0) continue;
            if (col[k] >= 0) return q35_fail(err, errlen, "%s:%d: column '%s' appears twice in the header", path, h->line, col_names[k]);
            col[k] = i;
        }
        if (col[k] < 0)
            return q35_fail(err, errlen, "%s:%d: the header (read with separator '%c') has no column '%s'; expected "
                            "question, choices, answer, error_type, source, correct_answer, potential_reason",
                            path, h->line, sep, col_names[k]);
    }
    return 0;
}

/* One data row into it (its strings taken from r); *kind is its error type's index. */
static int read_row(q35_csv_row *r, const int col[N_COLS], int nf, int corrected, q35_mc_item *it, int *kind,
                    const char *path, char *err, size_t errlen) {
    char where[4300];
    snprintf(where, sizeof where, "%s:%d: choices", path, r->line);
    if (r->n != nf) return q35_fail(err, errlen, "%s:%d: %d fields; the header has %d", path, r->line, r->n, nf);
    char norm[64];
    if ((*kind = error_type_index(r->f[col[C_ERROR_TYPE]], norm, sizeof norm)) < 0)
        return q35_fail(err, errlen, "%s:%d: error_type '%.80s': not one of " KNOWN_TYPES " (after lower-casing and "
                        "making spaces and hyphens '_')", path, r->line, r->f[col[C_ERROR_TYPE]]);
    if (q35_pylist_parse(r->f[col[C_CHOICES]], Q35_MC_MAX_CHOICES, &it->choices, &it->n_choices, where, err, errlen))
        return -1;
    if (it->n_choices < 2)
        return q35_fail(err, errlen, "%s: %d string%s; expected 2..%d", where, it->n_choices, it->n_choices == 1 ? "" : "s",
                        Q35_MC_MAX_CHOICES);
    const char *a = r->f[col[C_ANSWER]];
    if (parse_index(a, &it->answer) != 0 || it->answer >= it->n_choices)
        return q35_fail(err, errlen, "%s:%d: answer '%.40s': expected a 0-based index below %d (the choices)", path,
                        r->line, a, it->n_choices);
    it->orig_answer = it->answer;
    if (corrected && *kind == WRONG_GROUNDTRUTH) {
        int c = corrected_index(r->f[col[C_CORRECT_ANSWER]], it->n_choices);
        if (c >= 0) it->answer = c;
    }
    if (!(it->error_type = strdup(norm))) return q35_fail(err, errlen, "%s: out of memory", path);
    it->question = r->f[col[C_QUESTION]], r->f[col[C_QUESTION]] = NULL;
    it->line = r->line;
    return 0;
}

static int has_subject(const q35_mc_set *d, const char *name) {
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->s[i].name, name) == 0) return 1;
    return 0;
}

/* One file into its subject of d. */
static int load_file(q35_mc_set *d, const char *path, unsigned keep, int corrected, int *n_conv, char *err, size_t errlen) {
    char *name = subject_of(path);
    if (!name) return q35_fail(err, errlen, "%s: no subject name in the file name (expected mmlu_<subject>.csv)", path);
    if (has_subject(d, name)) {
        q35_fail(err, errlen, "%s: subject '%s' was already read from another file", path, name);
        free(name);
        return -1;
    }
    q35_mc_subject *s = q35_mc_set_subject(d, name);
    free(name);
    if (!s) return q35_fail(err, errlen, "%s: out of memory", path);
    size_t n;
    int conv, rc = -1;
    char *t = read_text(path, &n, &conv, err, errlen);
    if (!t) return -1;
    *n_conv += conv;
    int sep = header_sep(t, n, path, err, errlen);
    q35_csv c = { 0 };
    if (sep < 0 || q35_csv_parse(&c, t, n, (char)sep, path, err, errlen) != 0) {
        free(t);
        return -1;
    }
    free(t);
    int col[N_COLS];
    if (c.n == 0) {
        q35_fail(err, errlen, "%s: empty (no header)", path);
        goto out;
    }
    if (header_columns(&c.rows[0], col, (char)sep, path, err, errlen) != 0) goto out;
    int doc = 0;
    for (int i = 1; i < c.n; i++) {
        q35_csv_row *r = &c.rows[i];
        if (r->n == 1 && r->f[0][0] == 0) continue; /* a blank line */
        q35_mc_item it = { 0 };
        int kind;
        if (read_row(r, col, c.rows[0].n, corrected, &it, &kind, path, err, errlen) != 0) {
            q35_mc_item_free(&it);
            goto out;
        }
        it.doc_id = doc++;
        if (!(keep >> kind & 1)) {
            d->n_filtered++;
            q35_mc_item_free(&it);
            continue;
        }
        if (q35_mc_push(&s->test, &s->n_test, &it) != 0) {
            q35_fail(err, errlen, "%s: out of memory", path);
            goto out;
        }
    }
    rc = 0;
out:
    q35_csv_free(&c);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The *.csv names in dir (not hidden), sorted; NULL with *n == 0 when none, or on error. */
static char **csv_names(const char *dir, int *n) {
    DIR *dd = opendir(dir);
    char **v = NULL;
    *n = 0;
    if (!dd) return NULL;
    struct dirent *e;
    while ((e = readdir(dd))) {
        if (e->d_name[0] == '.' || !q35_ends_with(e->d_name, ".csv")) continue;
        char **g = realloc(v, (size_t)(*n + 1) * sizeof *g);
        if (!g || !(g[*n] = strdup(e->d_name))) {
            q35_strv_free(g ? g : v, *n);
            closedir(dd);
            *n = 0;
            return NULL;
        }
        v = g, (*n)++;
    }
    closedir(dd);
    if (*n > 1) qsort(v, (size_t)*n, sizeof *v, cmp_str);
    return v;
}

/* Drops the subjects that kept no item. */
static void drop_empty(q35_mc_set *d) {
    int k = 0;
    for (int i = 0; i < d->n; i++) {
        if (d->s[i].n_test == 0) q35_mc_subject_free(&d->s[i]);
        else d->s[k++] = d->s[i];
    }
    d->n = k;
}

int q35_redux_load(q35_mc_set *d, const char *path, const q35_redux_opts *o, char *err, size_t errlen) {
    return q35_redux_load_ex(d, path, o, NULL, err, errlen);
}

int q35_redux_load_ex(q35_mc_set *d, const char *path, const q35_redux_opts *o, int *n_converted, char *err,
                      size_t errlen) {
    memset(d, 0, sizeof *d);
    unsigned keep;
    int n_conv = 0, rc = 0;
    if (keep_mask(o ? o->keep : NULL, &keep, err, errlen) != 0) return -1;
    int corrected = o ? o->corrected : 0;
    struct stat st;
    if (stat(path, &st) != 0) return q35_fail(err, errlen, "%s: no such file or directory", path);
    if (!S_ISDIR(st.st_mode)) {
        rc = load_file(d, path, keep, corrected, &n_conv, err, errlen);
    } else {
        int n;
        char **names = csv_names(path, &n);
        if (n == 0) rc = q35_fail(err, errlen, "%s: no *.csv files in it (or it cannot be listed)", path);
        for (int i = 0; i < n && rc == 0; i++) {
            size_t len = strlen(path) + strlen(names[i]) + 2;
            char *p = malloc(len);
            if (!p) rc = q35_fail(err, errlen, "%s: out of memory", path);
            else {
                snprintf(p, len, "%s/%s", path, names[i]);
                rc = load_file(d, p, keep, corrected, &n_conv, err, errlen);
                free(p);
            }
        }
        q35_strv_free(names, n);
    }
    if (rc != 0) {
        q35_mc_set_free(d);
        return -1;
    }
    drop_empty(d);
    q35_mc_set_sort(d);
    if (n_converted) *n_converted = n_conv;
    return 0;
}
