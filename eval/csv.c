/* csv.c - a strict RFC 4180 reader (csv.h). */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A growing string. */
typedef struct {
    char *s;
    size_t n, cap;
} buf;

static int buf_put(buf *b, char c) {
    if (b->n + 2 > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        char *s = realloc(b->s, cap);
        if (!s) return -1;
        b->s = s, b->cap = cap;
    }
    b->s[b->n++] = c;
    b->s[b->n] = 0;
    return 0;
}

/* Appends the finished field b to row r (b is reset). */
static int end_field(q35_csv_row *r, buf *b) {
    char **f = realloc(r->f, (size_t)(r->n + 1) * sizeof *f);
    if (!f) return -1;
    r->f = f;
    r->f[r->n++] = b->s ? b->s : strdup("");
    if (!r->f[r->n - 1]) return -1;
    b->s = NULL, b->n = b->cap = 0;
    return 0;
}

static int end_row(q35_csv *c, q35_csv_row *r) {
    q35_csv_row *rows = realloc(c->rows, (size_t)(c->n + 1) * sizeof *rows);
    if (!rows) return -1;
    c->rows = rows;
    c->rows[c->n++] = *r;
    memset(r, 0, sizeof *r);
    return 0;
}

int q35_csv_parse(q35_csv *c, const char *t, size_t len, char sep, const char *name, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    size_t i = 0;
    if (len >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0) i = 3;
    int line = 1, quoted = 0, after_quote = 0, qline = 0;
    q35_csv_row r = { 0 };
    buf b = { 0 };
    r.line = 1;
    int oom = 0;
    for (; i < len && !oom; i++) {
        char ch = t[i];
        if (ch == 0) {
            q35_fail(err, errlen, "%s:%d: a NUL byte", name, line);
            goto fail;
        }
        if (quoted) {
            if (ch == '"') {
                if (i + 1 < len && t[i + 1] == '"') oom = buf_put(&b, '"'), i++;
                else quoted = 0, after_quote = 1;
            } else {
                if (ch == '\n') line++;
                oom = buf_put(&b, ch);
            }
            continue;
        }
        if (ch == sep) {
            oom = end_field(&r, &b);
            after_quote = 0;
        } else if (ch == '\n' || ch == '\r') {
            if (ch == '\r' && i + 1 < len && t[i + 1] == '\n') i++;
            oom = end_field(&r, &b) || end_row(c, &r);
            after_quote = 0;
            line++;
            r.line = line;
        } else if (ch == '"') {
            if (b.n > 0 || after_quote) {
                q35_fail(err, errlen, "%s:%d: a quote inside an unquoted field", name, line);
                goto fail;
            }
            quoted = 1, qline = line;
        } else if (after_quote) {
            q35_fail(err, errlen, "%s:%d: text after a closing quote", name, line);
            goto fail;
        } else {
            oom = buf_put(&b, ch);
        }
    }
    if (oom) {
        q35_fail(err, errlen, "%s: out of memory", name);
        goto fail;
    }
    if (quoted) {
        q35_fail(err, errlen, "%s:%d: a quoted field is never closed", name, qline);
        goto fail;
    }
    if (b.n > 0 || r.n > 0 || after_quote) { /* a last line without its line end */
        if (end_field(&r, &b) || end_row(c, &r)) {
            q35_fail(err, errlen, "%s: out of memory", name);
            goto fail;
        }
    }
    return 0;
fail:
    for (int k = 0; k < r.n; k++) free(r.f[k]);
    free(r.f);
    free(b.s);
    q35_csv_free(c);
    return -1;
}

int q35_csv_read(q35_csv *c, const char *path, char sep, char *err, size_t errlen) {
    size_t n;
    char *text = q35_read_file(path, 256u << 20, &n);
    if (!text) return q35_fail(err, errlen, "%s: cannot read (missing, unreadable or over 256 MiB)", path);
    int rc = q35_csv_parse(c, text, n, sep, path, err, errlen);
    free(text);
    return rc;
}

void q35_csv_free(q35_csv *c) {
    for (int i = 0; i < c->n; i++) {
        for (int k = 0; k < c->rows[i].n; k++) free(c->rows[i].f[k]);
        free(c->rows[i].f);
    }
    free(c->rows);
    memset(c, 0, sizeof *c);
}
