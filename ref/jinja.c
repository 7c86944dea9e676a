/* jinja.c - a small Jinja interpreter for chat templates: lexer, parser to a tree, tree walker.
 * Every allocation of a render lives in one arena, freed at the end.
 *
 * A template is data from strangers, so a render has limits, each failing with an error that names
 * the template line: nesting (parser and evaluator recurse, so both count their depth; left-deep
 * chains such as a+b+c or x.a.b.c are built and evaluated in loops, not by recursion), work (loop
 * iterations, macro calls, range() items and bytes scanned draw on one budget), the length of the
 * output and of any string, and the arena's total size. Integer arithmetic that does not fit in 64
 * bits is an error (Python's would go on with a big integer), never a wrapped number or a trap. */
#include "jinja.h"

#include "chat.h"
#include "pystr.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- limits, arena and errors ---- */

#define MAX_BLOCK_DEPTH 200        /* nested {% if %}/{% for %}/{% macro %} blocks; macro recursion */
#define MAX_EXPR_DEPTH 200         /* parser: nested (), [], {}, call arguments, unary -, not, if-else */
#define MAX_EVAL_DEPTH 500         /* evaluator: nested evaluations of expressions and bodies, all told */
#define MAX_VALUE_DEPTH 1000       /* lists in lists in tojson, ==, and the JSON variables (as Python) */
#define MAX_STEPS 10000000LL       /* loop iterations + macro calls + range() items + bytes scanned/16 */
#define MAX_TEXT ((size_t)16 << 20) /* the output, and any one string: 64 times a 262,144-token context */
#define MAX_MEM ((size_t)1 << 30)  /* the arena */

typedef struct block {
    struct block *next;
    size_t used, cap;
    char data[];
} block;

/* One render: its arena, its error exit and its budgets. */
typedef struct {
    block *blocks;
    jmp_buf fail;
    char *err;
    size_t errlen;
    int depth;       /* nested blocks while parsing; macro recursion while rendering */
    int nest;        /* nested evaluation (eval and exec frames on the C stack) */
    int line;        /* the template line being parsed or rendered, for errors of helpers */
    long long steps; /* work done, against MAX_STEPS */
    size_t mem;      /* bytes the arena holds, against MAX_MEM */
    int loopctl;     /* a {% break %} (1) or {% continue %} (2) unwinding to its loop */
} ctx_t;

static void die(ctx_t *c, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));
static void die(ctx_t *c, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = line > 0 ? snprintf(c->err, c->errlen, "template line %d: ", line) : 0;
    if (k < 0 || (size_t)k >= c->errlen) k = 0;
    vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
    va_end(ap);
    longjmp(c->fail, 1);
}

static void *alloc(ctx_t *c, size_t n) {
    if (n > MAX_MEM) die(c, c->line, "template needs more than %zu MiB of memory", MAX_MEM >> 20);
    n = (n + 15) & ~(size_t)15;
    if (!c->blocks || c->blocks->used + n > c->blocks->cap) {
        size_t cap = n > 65536 ? n : 65536;
        if (c->mem + sizeof(block) + cap > MAX_MEM) die(c, c->line, "template needs more than %zu MiB of memory", MAX_MEM >> 20);
        block *b = malloc(sizeof *b + cap);
        if (!b) die(c, c->line, "out of memory");
        c->mem += sizeof *b + cap;
        b->next = c->blocks, b->used = 0, b->cap = cap;
        c->blocks = b;
    }
    void *p = c->blocks->data + c->blocks->used;
    c->blocks->used += n;
    memset(p, 0, n);
    return p;
}

/* Charges k steps of work to the render's budget. */
static void work(ctx_t *c, long long k) {
    c->steps += k;
    if (c->steps > MAX_STEPS)
        die(c, c->line, "render budget exceeded: more than %lld loop iterations, macro calls and other steps", MAX_STEPS);
}

/* Charges a scan over n bytes (searching, comparing, counting): a step per 16 bytes. */
static void work_bytes(ctx_t *c, size_t n) { work(c, 1 + (long long)(n >> 4)); }

/* ---- values ---- */

enum { V_UNDEF, V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_LIST, V_DICT, V_MACRO };

typedef struct node node;
typedef struct jlist jlist;
typedef struct jdict jdict;

typedef struct {
    int t;
    union {
        int b;
        long long i;
        double f;
        struct { const char *s; size_t n; } s;
        jlist *l;
        jdict *d;
        node *m;
    };
} val;

struct jlist { val *v; int n, cap, tuple; }; /* tuple: a pair from items(), printed (k, v) */
struct jdict { const char **k; size_t *kn; val *v; int n, cap, ns; }; /* ns: made by namespace() */

static val mk(int t) { /* the union all zero (its widest member), by stores the compiler can forward */
    val v;
    v.t = t, v.s.s = NULL, v.s.n = 0;
    return v;
}
static val vbool(int b) { val v = mk(V_BOOL); v.b = !!b; return v; }
static val vint(long long i) { val v = mk(V_INT); v.i = i; return v; }
static val vstr(const char *s, size_t n) { val v = mk(V_STR); v.s.s = s; v.s.n = n; return v; }

static val vstr_copy(ctx_t *c, const char *s, size_t n) {
    char *p = alloc(c, n + 1);
    memcpy(p, s, n);
    return vstr(p, n);
}

/* A new empty list. */
static val new_list(ctx_t *c) {
    val out = mk(V_LIST);
    out.l = alloc(c, sizeof *out.l);
    return out;
}

static void list_push(ctx_t *c, jlist *l, val v) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 8;
        val *nv = alloc(c, (size_t)cap * sizeof *nv);
        if (l->n) memcpy(nv, l->v, (size_t)l->n * sizeof *nv);
        l->v = nv, l->cap = cap;
    }
    l->v[l->n++] = v;
}

static val *dict_get(ctx_t *c, jdict *d, const char *k, size_t n) {
    if (d->n >= 64) work(c, d->n >> 6); /* a linear search */
    for (int i = 0; i < d->n; i++)
        if (d->kn[i] == n && memcmp(d->k[i], k, n) == 0) return &d->v[i];
    return NULL;
}

static void dict_set(ctx_t *c, jdict *d, const char *k, size_t n, val v) {
    val *e = dict_get(c, d, k, n);
    if (e) { *e = v; return; }
    if (d->n == d->cap) {
        int cap = d->cap ? d->cap * 2 : 4;
        const char **nk = alloc(c, (size_t)cap * sizeof *nk);
        size_t *nn = alloc(c, (size_t)cap * sizeof *nn);
        val *nv = alloc(c, (size_t)cap * sizeof *nv);
        if (d->n) {
            memcpy(nk, d->k, (size_t)d->n * sizeof *nk);
            memcpy(nn, d->kn, (size_t)d->n * sizeof *nn);
            memcpy(nv, d->v, (size_t)d->n * sizeof *nv);
        }
        d->k = nk, d->kn = nn, d->v = nv, d->cap = cap;
    }
    d->k[d->n] = k, d->kn[d->n] = n, d->v[d->n++] = v;
}

static val from_json(ctx_t *c, const cJSON *j, int depth) {
    if (depth > MAX_VALUE_DEPTH) die(c, 0, "variables nested too deeply (more than %d levels)", MAX_VALUE_DEPTH);
    if (!j || cJSON_IsNull(j)) return mk(V_NONE);
    if (cJSON_IsBool(j)) return vbool(cJSON_IsTrue(j));
    if (cJSON_IsNumber(j)) {
        double d = j->valuedouble;
        /* an integer unless written as a float (q35_chat_parse_json marks those: 2.0 stays 2.0) */
        if (!(j->type & Q35_JSON_FLOAT) && d == floor(d) && fabs(d) < 9e15) return vint((long long)d);
        val v = mk(V_FLOAT);
        v.f = d;
        return v;
    }
    if (cJSON_IsString(j)) return vstr_copy(c, j->valuestring, strlen(j->valuestring));
    if (cJSON_IsArray(j)) {
        val v = new_list(c);
        for (const cJSON *e = j->child; e; e = e->next) list_push(c, v.l, from_json(c, e, depth + 1));
        return v;
    }
    val v = mk(V_DICT);
    v.d = alloc(c, sizeof *v.d);
    for (const cJSON *e = j->child; e; e = e->next) {
        val k = vstr_copy(c, e->string, strlen(e->string));
        dict_set(c, v.d, k.s.s, k.s.n, from_json(c, e, depth + 1));
    }
    return v;
}

/* ---- output buffer ---- */

typedef struct {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_put(ctx_t *c, sbuf *b, const char *s, size_t n) {
    if (n == 0) return;
    if (n > MAX_TEXT - b->n) die(c, c->line, "output or string longer than %zu MiB", MAX_TEXT >> 20);
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *ns = alloc(c, cap);
        if (b->n) memcpy(ns, b->s, b->n);
        b->s = ns, b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void sb_printf(ctx_t *c, sbuf *b, const char *fmt, ...) {
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_put(c, b, tmp, (size_t)k);
}

/* A JSON string as json.dumps writes it: \" \\ \n \r \t \b \f, other controls as \u00XX; with
 * ensure_ascii every non-ASCII code point as \uXXXX (a surrogate pair above U+FFFF). */
static void json_str(ctx_t *c, sbuf *b, const char *s, size_t n, int ensure_ascii) {
    sb_put(c, b, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x80) {
            size_t at = i;
            int32_t cp = q35_py_next(s, n, &i);
            if (!ensure_ascii) sb_put(c, b, s + at, i - at);
            else if (cp < 0x10000) sb_printf(c, b, "\\u%04x", (unsigned)cp);
            else sb_printf(c, b, "\\u%04x\\u%04x", (unsigned)(0xD800 + ((cp - 0x10000) >> 10)), (unsigned)(0xDC00 + ((cp - 0x10000) & 0x3FF)));
            continue;
        }
        i++;
        switch (ch) {
        case '"': sb_put(c, b, "\\\"", 2); break;
        case '\\': sb_put(c, b, "\\\\", 2); break;
        case '\n': sb_put(c, b, "\\n", 2); break;
        case '\r': sb_put(c, b, "\\r", 2); break;
        case '\t': sb_put(c, b, "\\t", 2); break;
        case '\b': sb_put(c, b, "\\b", 2); break;
        case '\f': sb_put(c, b, "\\f", 2); break;
        default:
            if (ch < 0x20 || (ensure_ascii && ch == 0x7F)) sb_printf(c, b, "\\u%04x", ch);
            else sb_put(c, b, (const char *)&ch, 1);
        }
    }
    sb_put(c, b, "\"", 1);
}

/* Python's repr of a float: the shortest digits that read back to f, fixed notation for decimal
 * exponents -4..15 (with ".0" when whole), else d.ddde+XX. */
static void py_float(ctx_t *c, sbuf *b, double f, int json) {
    char m[48], out[64];
    if (isinf(f)) {
        const char *t = json ? (f > 0 ? "Infinity" : "-Infinity") : (f > 0 ? "inf" : "-inf");
        sb_put(c, b, t, strlen(t));
        return;
    }
    if (isnan(f)) { sb_put(c, b, json ? "NaN" : "nan", 3); return; }
    for (int p = 0; p <= 16; p++) { /* p + 1 significant digits */
        snprintf(m, sizeof m, "%.*e", p, f);
        if (strtod(m, NULL) == f) break;
    }
    char digits[24];
    int nd = 0, neg = m[0] == '-';
    const char *q = m + neg;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9') digits[nd++] = *q;
    while (nd > 1 && digits[nd - 1] == '0') nd--; /* %.*e may pad */
    digits[nd] = 0;
    int e = atoi(q + 1), u = 0;
    if (neg) out[u++] = '-';
    if (e >= -4 && e < 16) {
        if (e < 0) {
            u += snprintf(out + u, sizeof out - (size_t)u, "0.");
            for (int i = 0; i < -e - 1; i++) out[u++] = '0';
            u += snprintf(out + u, sizeof out - (size_t)u, "%s", digits);
        } else {
            for (int i = 0; i <= e; i++) out[u++] = i < nd ? digits[i] : '0';
            out[u++] = '.';
            if (nd > e + 1) u += snprintf(out + u, sizeof out - (size_t)u, "%s", digits + e + 1);
            else out[u++] = '0';
        }
        out[u] = 0;
    } else {
        out[u++] = digits[0];
        if (nd > 1) u += snprintf(out + u, sizeof out - (size_t)u, ".%s", digits + 1);
        snprintf(out + u, sizeof out - (size_t)u, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    sb_put(c, b, out, strlen(out));
}

/* json.dumps options, as transformers' tojson filter takes them */
typedef struct {
    int indent;                      /* -1: one line */
    const char *item_sep, *key_sep;  /* ", " ": " (one line), "," ": " (indented) */
    int sort_keys, ensure_ascii;
} json_opts;

static void json_newline(ctx_t *c, sbuf *b, const json_opts *o, int depth) {
    sb_put(c, b, "\n", 1);
    for (long k = 0; k < (long)o->indent * depth; k++) sb_put(c, b, " ", 1);
}

static int key_order(const void *a, const void *b, void *arg) {
    const jdict *d = arg;
    int x = *(const int *)a, y = *(const int *)b;
    size_t la = d->kn[x], lb = d->kn[y];
    int r = memcmp(d->k[x], d->k[y], la < lb ? la : lb);
    return r ? r : (la > lb) - (la < lb);
}

/* Dict entry order for json.dumps: as inserted, or by key (code point order is UTF-8 byte order). */
static int *dict_order(ctx_t *c, const jdict *d, int sorted) {
    int *ix = alloc(c, (size_t)(d->n ? d->n : 1) * sizeof *ix);
    for (int i = 0; i < d->n; i++) ix[i] = i;
    if (!sorted) return ix;
    work(c, d->n);
    qsort_r(ix, (size_t)d->n, sizeof *ix, key_order, (void *)d);
    return ix;
}

/* json.dumps(v, **o): what transformers' tojson filter returns. Undefined values and macros are
 * not JSON (Python raises TypeError). */
static void to_json(ctx_t *c, sbuf *b, val v, int depth, const json_opts *o) {
    if (depth > MAX_VALUE_DEPTH) die(c, c->line, "value nested too deeply (more than %d levels)", MAX_VALUE_DEPTH);
    switch (v.t) {
    case V_NONE: sb_put(c, b, "null", 4); break;
    case V_BOOL: sb_put(c, b, v.b ? "true" : "false", v.b ? 4 : 5); break;
    case V_INT: sb_printf(c, b, "%lld", v.i); break;
    case V_FLOAT: py_float(c, b, v.f, 1); break;
    case V_STR: json_str(c, b, v.s.s, v.s.n, o->ensure_ascii); break;
    case V_LIST:
        sb_put(c, b, "[", 1);
        for (int i = 0; i < v.l->n; i++) {
            if (i) sb_put(c, b, o->item_sep, strlen(o->item_sep));
            if (o->indent >= 0) json_newline(c, b, o, depth + 1);
            to_json(c, b, v.l->v[i], depth + 1, o);
        }
        if (o->indent >= 0 && v.l->n) json_newline(c, b, o, depth);
        sb_put(c, b, "]", 1);
        break;
    case V_DICT: {
        if (v.d->ns) die(c, c->line, "tojson: a namespace is not JSON serializable");
        int *ix = dict_order(c, v.d, o->sort_keys);
        sb_put(c, b, "{", 1);
        for (int i = 0; i < v.d->n; i++) {
            if (i) sb_put(c, b, o->item_sep, strlen(o->item_sep));
            if (o->indent >= 0) json_newline(c, b, o, depth + 1);
            json_str(c, b, v.d->k[ix[i]], v.d->kn[ix[i]], o->ensure_ascii);
            sb_put(c, b, o->key_sep, strlen(o->key_sep));
            to_json(c, b, v.d->v[ix[i]], depth + 1, o);
        }
        if (o->indent >= 0 && v.d->n) json_newline(c, b, o, depth);
        sb_put(c, b, "}", 1);
        break;
    }
    default: die(c, c->line, "tojson: an %s value is not JSON serializable", v.t == V_UNDEF ? "undefined" : "macro");
    }
}

static const json_opts json_default = { -1, ", ", ": ", 0, 0 };

/* repr(v) as Python prints it: strings quoted, None/True/False, [a, b], {'k': v}, (k, v). */
static void to_repr(ctx_t *c, sbuf *b, val v, int depth) {
    if (depth > MAX_VALUE_DEPTH) die(c, c->line, "value nested too deeply (more than %d levels)", MAX_VALUE_DEPTH);
    switch (v.t) {
    case V_UNDEF: sb_put(c, b, "Undefined", 9); break;
    case V_NONE: sb_put(c, b, "None", 4); break;
    case V_BOOL: sb_put(c, b, v.b ? "True" : "False", v.b ? 4 : 5); break;
    case V_INT: sb_printf(c, b, "%lld", v.i); break;
    case V_FLOAT: py_float(c, b, v.f, 0); break;
    case V_STR: {
        if (v.s.n > (MAX_TEXT - 2) / 4) die(c, c->line, "output or string longer than %zu MiB", MAX_TEXT >> 20);
        char *r = alloc(c, 4 * v.s.n + 2);
        sb_put(c, b, r, q35_py_repr(r, v.s.s, v.s.n));
        break;
    }
    case V_LIST:
        sb_put(c, b, v.l->tuple ? "(" : "[", 1);
        for (int i = 0; i < v.l->n; i++) {
            if (i) sb_put(c, b, ", ", 2);
            to_repr(c, b, v.l->v[i], depth + 1);
        }
        if (v.l->tuple && v.l->n == 1) sb_put(c, b, ",", 1);
        sb_put(c, b, v.l->tuple ? ")" : "]", 1);
        break;
    case V_DICT:
        if (v.d->ns) sb_put(c, b, "<Namespace ", 11);
        sb_put(c, b, "{", 1);
        for (int i = 0; i < v.d->n; i++) {
            if (i) sb_put(c, b, ", ", 2);
            to_repr(c, b, vstr(v.d->k[i], v.d->kn[i]), depth + 1);
            sb_put(c, b, ": ", 2);
            to_repr(c, b, v.d->v[i], depth + 1);
        }
        sb_put(c, b, v.d->ns ? "}>" : "}", v.d->ns ? 2 : 1);
        break;
    default: sb_put(c, b, "<macro>", 7); break;
    }
}

/* str(v) as Python prints it */
static __attribute__((noinline)) void to_str(ctx_t *c, sbuf *b, val v) {
    switch (v.t) {
    case V_UNDEF: break;
    case V_STR: sb_put(c, b, v.s.s, v.s.n); break;
    default: to_repr(c, b, v, 0); break;
    }
}

static val stringify(ctx_t *c, val v) {
    if (v.t == V_STR) return v;
    sbuf b = {0};
    to_str(c, &b, v);
    return b.s ? vstr(b.s, b.n) : vstr("", 0);
}

static int truthy(val v) {
    switch (v.t) {
    case V_BOOL: return v.b;
    case V_INT: return v.i != 0;
    case V_FLOAT: return v.f != 0;
    case V_STR: return v.s.n > 0;
    case V_LIST: return v.l->n > 0;
    case V_DICT: return v.d->n > 0;
    case V_MACRO: return 1;
    default: return 0;
    }
}

static int equal(ctx_t *c, val a, val b, int depth) {
    if (depth > MAX_VALUE_DEPTH) die(c, c->line, "value nested too deeply (more than %d levels)", MAX_VALUE_DEPTH);
    if ((a.t == V_INT || a.t == V_FLOAT || a.t == V_BOOL) && (b.t == V_INT || b.t == V_FLOAT || b.t == V_BOOL)) {
        double x = a.t == V_INT ? (double)a.i : a.t == V_FLOAT ? a.f : a.b;
        double y = b.t == V_INT ? (double)b.i : b.t == V_FLOAT ? b.f : b.b;
        return x == y;
    }
    if (a.t != b.t) return (a.t == V_NONE || a.t == V_UNDEF) && (b.t == V_NONE || b.t == V_UNDEF) && a.t == b.t;
    switch (a.t) {
    case V_STR:
        if (a.s.n != b.s.n) return 0;
        work_bytes(c, a.s.n);
        return memcmp(a.s.s, b.s.s, a.s.n) == 0;
    case V_LIST:
        if (a.l == b.l) return 1; /* the same list (Python compares items by identity first) */
        if (a.l->n != b.l->n || a.l->tuple != b.l->tuple) return 0;
        work(c, 1 + a.l->n);
        for (int i = 0; i < a.l->n; i++)
            if (!equal(c, a.l->v[i], b.l->v[i], depth + 1)) return 0;
        return 1;
    case V_DICT: /* the same keys with equal values, in any order; a namespace is only itself */
        if (a.d == b.d) return 1;
        if (a.d->n != b.d->n || a.d->ns || b.d->ns) return 0;
        work(c, 1 + a.d->n);
        for (int i = 0; i < a.d->n; i++) {
            val *w = dict_get(c, b.d, a.d->k[i], a.d->kn[i]);
            if (!w || !equal(c, a.d->v[i], *w, depth + 1)) return 0;
        }
        return 1;
    default: return 1;
    }
}

/* ---- lexer: template -> text and tag pieces, whitespace control applied ---- */

/* Runs of Unicode whitespace (str.isspace): Jinja's '-' trims with Python's strip and \s, which
 * take U+3000, U+00A0 and the like, and str.split() splits at them. */

/* The end of the run at s[i, n) of code points that are whitespace (space 1) or not (space 0). */
static size_t run_end(const char *s, size_t n, size_t i, int space) {
    while (i < n) {
        size_t j = i;
        if (q35_py_isspace(q35_py_next(s, n, &j)) != space) break;
        i = j;
    }
    return i;
}

/* The start of the run of such code points that ends at s[e], not before s[b]. */
static size_t run_start(const char *s, size_t b, size_t e, int space) {
    while (e > b) {
        size_t j = e;
        int32_t c = q35_py_prev(s, b, &j);
        if ((c >= 0 && q35_py_isspace(c)) != space) break;
        e = j;
    }
    return e;
}

enum { P_TEXT, P_VAR, P_STMT };

typedef struct {
    int kind, line;
    const char *s; /* text, or the inside of the tag */
    size_t n;
} piece;

static piece *lex_template(ctx_t *c, const char *src, int *count) {
    int cap = 64, n = 0;
    piece *p = alloc(c, (size_t)cap * sizeof *p);
    const char *s = src;
    int line = 1, trim_next = 0, strip_next_nl = 0;
    for (;;) {
        const char *open = NULL;
        for (const char *q = s; *q; q++)
            if (q[0] == '{' && (q[1] == '{' || q[1] == '%' || q[1] == '#')) { open = q; break; }
        const char *text_end = open ? open : s + strlen(s);
        const char *t0 = s;
        if (strip_next_nl && t0 < text_end && *t0 == '\n') t0++; /* trim_blocks */
        if (trim_next) t0 += run_end(t0, (size_t)(text_end - t0), 0, 1);
        const char *t1 = text_end;
        int kind = open ? (open[1] == '{' ? P_VAR : open[1] == '%' ? P_STMT : -1) : 0;
        int minus = open && open[2] == '-', plus = open && open[2] == '+';
        if (open && minus) {
            t1 = t0 + run_start(t0, 0, (size_t)(t1 - t0), 1);
        } else if (open && kind != P_VAR && !plus) { /* lstrip_blocks: blanks from the line start */
            const char *q = t1;
            while (q > t0 && (q[-1] == ' ' || q[-1] == '\t')) q--;
            if (q > t0 ? q[-1] == '\n' : (q == src || q[-1] == '\n')) t1 = q;
        }
        if (n + 2 >= cap) {
            piece *np = alloc(c, (size_t)(cap *= 2) * sizeof *np);
            memcpy(np, p, (size_t)n * sizeof *np);
            p = np;
        }
        if (t1 > t0) p[n++] = (piece){ P_TEXT, line, t0, (size_t)(t1 - t0) };
        for (const char *q = s; q < text_end; q++) line += *q == '\n';
        if (!open) break;
        const char *close_tag = kind == P_VAR ? "}}" : kind == P_STMT ? "%}" : "#}";
        const char *body = open + 2 + (minus || plus);
        /* The tag's end, as Jinja's lexer finds it: not inside a string literal, nor inside open
         * brackets ({{ {'a': {}} }} ends at the last }}). One pass, not strstr per tag. */
        const char *close = body;
        int depth = 0;
        while (*close && !(depth <= 0 && close[0] == close_tag[0] && close[1] == close_tag[1])) {
            if (kind != -1 && (*close == '\'' || *close == '"')) {
                const char *q = close + 1;
                while (*q && *q != *close) q += q[0] == '\\' && q[1] ? 2 : 1;
                if (!*q) die(c, line, "unterminated string literal in a %s tag", kind == P_VAR ? "{{" : "{%");
                close = q + 1;
                continue;
            }
            if (kind != -1) depth += (*close == '{' || *close == '(' || *close == '[') - (*close == '}' || *close == ')' || *close == ']');
            close++;
        }
        if (!*close || close[0] != close_tag[0] || close[1] != close_tag[1]) close = NULL;
        if (!close) die(c, line, "unterminated %s tag", kind == P_VAR ? "{{" : kind == P_STMT ? "{%" : "{#");
        const char *bend = close;
        trim_next = bend > body && bend[-1] == '-';
        int keep_nl = !trim_next && kind != P_VAR && bend > body && bend[-1] == '+'; /* +%}: no trim_blocks */
        if (trim_next || keep_nl) bend--;
        if (kind != -1) p[n++] = (piece){ kind, line, body, (size_t)(bend - body) };
        strip_next_nl = kind != P_VAR && !keep_nl;
        for (const char *q = open; q < close; q++) line += *q == '\n';
        s = close + 2;
    }
    *count = n;
    return p;
}

/* ---- expression tokens ---- */

enum { T_END, T_NAME, T_STR, T_INT, T_FLOAT, T_OP };

typedef struct {
    int t;
    const char *s;
    size_t n;  /* name/op text; for T_STR the decoded string */
    long long i;
    double f;
} tok;

typedef struct {
    ctx_t *c;
    tok *v;
    int n, at, line;
    int depth; /* nested parse_expr, unary -, not */
} tstream;

static void lex_expr(ctx_t *c, tstream *ts, const char *s, size_t len, int line) {
    int cap = 16;
    ts->c = c, ts->v = alloc(c, (size_t)cap * sizeof(tok)), ts->n = 0, ts->at = 0, ts->line = line, ts->depth = 0;
    const char *e = s + len, *p0 = s;
    while (s < e) {
        size_t sp = run_end(s, (size_t)(e - s), 0, 1);
        if (sp) { s += sp; continue; }
        if (ts->n + 1 >= cap) {
            tok *nv = alloc(c, (size_t)(cap *= 2) * sizeof(tok));
            memcpy(nv, ts->v, (size_t)ts->n * sizeof(tok));
            ts->v = nv;
        }
        tok *t = &ts->v[ts->n++];
        memset(t, 0, sizeof *t);
        if (isalpha((unsigned char)*s) || *s == '_') {
            const char *b = s;
            while (s < e && (isalnum((unsigned char)*s) || *s == '_')) s++;
            t->t = T_NAME, t->s = b, t->n = (size_t)(s - b);
        } else if (isdigit((unsigned char)*s)) { /* 12, 1.5, 1e3, 1.5e-3; an integer must fit in 64 bits */
            const char *b = s;
            int isf = 0;
            while (s < e && isdigit((unsigned char)*s)) s++;
            if (e - s >= 2 && *s == '.' && isdigit((unsigned char)s[1])) {
                isf = 1, s++;
                while (s < e && isdigit((unsigned char)*s)) s++;
            }
            if (s < e && (*s == 'e' || *s == 'E')) {
                const char *x = s + 1;
                if (x < e && (*x == '+' || *x == '-')) x++;
                if (x < e && isdigit((unsigned char)*x)) {
                    isf = 1, s = x;
                    while (s < e && isdigit((unsigned char)*s)) s++;
                }
            }
            if (isf) {
                t->t = T_FLOAT, t->f = strtod(b, NULL); /* strtod reads exactly [b, s) here */
            } else {
                long long v = 0;
                for (const char *q = b; q < s; q++)
                    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *q - '0', &v))
                        die(c, line, "integer literal %.*s%s does not fit in 64 bits", (int)(s - b > 40 ? 40 : s - b), b,
                            s - b > 40 ? "..." : "");
                t->t = T_INT, t->i = v;
            }
        } else if (*s == '\'' || *s == '"') { /* decoded as Python's unicode-escape, as Jinja does */
            char q = *s++;
            const char *end = s;
            while (end < e && *end != q) end += *end == '\\' && end + 1 < e ? 2 : 1;
            if (end >= e) die(c, line, "unterminated string literal");
            char *out = alloc(c, 3 * (size_t)(end - s) + 8); /* '\\' + 'é' grows to '\\xe9' */
            size_t o = 0;
            while (s < end) {
                if (*s != '\\') { out[o++] = *s++; continue; }
                s++;
                char ch = *s++;
                int32_t cp = -1;
                static const char esc_from[] = "\\'\"abfnrtv", esc_to[] = "\\'\"\a\b\f\n\r\t\v";
                const char *simple = strchr(esc_from, ch);
                if (ch == '\n') continue; /* a backslash before a newline joins the lines */
                if (simple && ch) out[o++] = esc_to[simple - esc_from];
                else if (ch >= '0' && ch <= '7') {
                    cp = ch - '0';
                    for (int k = 0; k < 2 && s < end && *s >= '0' && *s <= '7'; k++) cp = cp * 8 + (*s++ - '0');
                } else if (ch == 'x' || ch == 'u' || ch == 'U') {
                    int digits = ch == 'x' ? 2 : ch == 'u' ? 4 : 8;
                    cp = 0;
                    for (int k = 0; k < digits; k++, s++) {
                        if (s >= end || !isxdigit((unsigned char)*s))
                            die(c, line, "string literal: truncated \\%c escape (needs %d hex digits)", ch, digits);
                        cp = cp * 16 + (isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10));
                        if (cp > 0x10FFFF) die(c, line, "string literal: \\%c escape beyond U+10FFFF", ch);
                    }
                } else if (ch == 'N') die(c, line, "string literal: \\N{...} escapes are not supported");
                else if ((unsigned char)ch >= 0x80) { /* Jinja backslash-escapes non-ASCII text first */
                    size_t i = (size_t)(s - 1 - p0);
                    int32_t u = q35_py_next(p0, (size_t)(e - p0), &i);
                    s = p0 + i;
                    o += (size_t)sprintf(out + o, u <= 0xFF ? "\\x%02x" : u <= 0xFFFF ? "\\u%04x" : "\\U%08x", (unsigned)u);
                } else out[o++] = '\\', out[o++] = ch;
                if (cp < 0) continue;
                if (cp == 0) die(c, line, "string literal: U+0000 cannot be carried into the prompt");
                if (cp >= 0xD800 && cp <= 0xDFFF) die(c, line, "string literal: a lone surrogate (U+%04X) is not text", (unsigned)cp);
                o += q35_py_put(out + o, cp);
            }
            s = end + 1;
            t->t = T_STR, t->s = out, t->n = o;
        } else {
            static const char *ops2[] = { "==", "!=", "<=", ">=", "//", "**" };
            t->t = T_OP, t->s = s, t->n = 1;
            for (size_t k = 0; k < sizeof ops2 / sizeof ops2[0]; k++)
                if (e - s >= 2 && s[0] == ops2[k][0] && s[1] == ops2[k][1]) t->n = 2;
            if (!strchr("()[]{},.:|~+-*/%=<>!", *s)) die(c, line, "unexpected character '%c' in expression", *s);
            s += t->n;
        }
    }
    ts->v[ts->n].t = T_END;
}

static tok *peek(tstream *ts) { return &ts->v[ts->at]; }
static int is_op(tok *t, const char *op) { return t->t == T_OP && t->n == strlen(op) && memcmp(t->s, op, t->n) == 0; }
static int is_name(tok *t, const char *nm) { return t->t == T_NAME && t->n == strlen(nm) && memcmp(t->s, nm, t->n) == 0; }
static int accept_op(tstream *ts, const char *op) { if (is_op(peek(ts), op)) { ts->at++; return 1; } return 0; }
static int accept_name(tstream *ts, const char *nm) { if (is_name(peek(ts), nm)) { ts->at++; return 1; } return 0; }
static void expect_op(tstream *ts, const char *op) {
    if (!accept_op(ts, op)) die(ts->c, ts->line, "expected '%s'", op);
}

/* ---- the tree ---- */

enum {
    E_LIT, E_NAME, E_ATTR, E_INDEX, E_SLICE, E_CALL, E_FILTER, E_TEST, E_NOT, E_AND, E_OR, E_BIN, E_COND, E_LIST, E_DICT,
    E_NEG,
    S_TEXT, S_OUT, S_IF, S_FOR, S_SET, S_MACRO, S_BREAK, S_CONTINUE
};

struct node {
    int k, line;
    const char *s; /* name, attribute, operator, filter/test name */
    size_t n;
    val lit;
    node *a, *b, *c;      /* operands; for S_IF: cond, then, else; for S_FOR: iter, body, else */
    node **args;          /* call args / list items / dict keys,values / body statements */
    const char **kw;      /* keyword names of call args (NULL for positional) */
    size_t *kwn;
    int nargs, argcap;
    node *up;             /* the chain node whose left operand (a) this is: eval climbs it in a loop */
    int negate;           /* is not */
    int tuple;            /* E_LIST: a tuple display, (a, b) */
    const char *t2;       /* for-loop second target / set attribute */
    size_t t2n;
    node *next;           /* statement list */
};

static node *new_node(ctx_t *c, int k, int line) {
    node *n = alloc(c, sizeof *n);
    n->k = k, n->line = line;
    return n;
}

/* Left-deep chains (a + b + c, a and b, x.y[0]|f is t, s.strip().lower()) are evaluated by walking
 * down the left operands and climbing back through up, so their length costs no stack. */
static int is_chain(const node *n) {
    switch (n->k) {
    case E_BIN: case E_AND: case E_OR: case E_ATTR: case E_INDEX: case E_SLICE: case E_FILTER: case E_TEST: return 1;
    case E_CALL: return n->a->k == E_ATTR; /* a method call: its link is the object, two nodes down */
    default: return 0;
    }
}

/* n->a = left, for a chain node n. */
static node *set_left(node *n, node *left) {
    n->a = left;
    left->up = n;
    return n;
}

static node *parse_expr(tstream *ts);

static void nest_in(tstream *ts) {
    if (++ts->depth > MAX_EXPR_DEPTH) die(ts->c, ts->line, "expression nested too deeply (more than %d levels)", MAX_EXPR_DEPTH);
}

/* Appends an argument (or list item, dict key or value, macro parameter); the arrays double. */
static void add_arg(ctx_t *c, node *n, node *arg, const char *kw, size_t kwn) {
    if (n->nargs == n->argcap) {
        int cap = n->argcap ? n->argcap * 2 : 4;
        node **na = alloc(c, (size_t)cap * sizeof *na);
        const char **nk = alloc(c, (size_t)cap * sizeof *nk);
        size_t *nn = alloc(c, (size_t)cap * sizeof *nn);
        if (n->nargs) {
            memcpy(na, n->args, (size_t)n->nargs * sizeof *na);
            memcpy(nk, n->kw, (size_t)n->nargs * sizeof *nk);
            memcpy(nn, n->kwn, (size_t)n->nargs * sizeof *nn);
        }
        n->args = na, n->kw = nk, n->kwn = nn, n->argcap = cap;
    }
    n->args[n->nargs] = arg, n->kw[n->nargs] = kw, n->kwn[n->nargs] = kwn;
    n->nargs++;
}

static void parse_call_args(tstream *ts, node *call) {
    if (accept_op(ts, ")")) return;
    do {
        tok *t = peek(ts);
        if (t->t == T_NAME && is_op(&ts->v[ts->at + 1], "=")) {
            ts->at += 2;
            add_arg(ts->c, call, parse_expr(ts), t->s, t->n);
        } else {
            add_arg(ts->c, call, parse_expr(ts), NULL, 0);
        }
    } while (accept_op(ts, ","));
    expect_op(ts, ")");
}

static node *parse_primary(tstream *ts) {
    tok *t = peek(ts);
    node *n = new_node(ts->c, E_LIT, ts->line);
    ts->at++;
    switch (t->t) {
    case T_STR: /* 'a' "b": adjacent literals are one string, as in Python */
        if (peek(ts)->t != T_STR) { n->lit = vstr(t->s, t->n); return n; }
        {
            sbuf b = {0};
            sb_put(ts->c, &b, t->s, t->n);
            for (; peek(ts)->t == T_STR; ts->at++) sb_put(ts->c, &b, peek(ts)->s, peek(ts)->n);
            n->lit = vstr(b.s ? b.s : "", b.n);
        }
        return n;
    case T_INT: n->lit = vint(t->i); return n;
    case T_FLOAT: n->lit = mk(V_FLOAT), n->lit.f = t->f; return n;
    case T_NAME:
        if (is_name(t, "true") || is_name(t, "True")) { n->lit = vbool(1); return n; }
        if (is_name(t, "false") || is_name(t, "False")) { n->lit = vbool(0); return n; }
        if (is_name(t, "none") || is_name(t, "None")) { n->lit = mk(V_NONE); return n; }
        n->k = E_NAME, n->s = t->s, n->n = t->n;
        return n;
    case T_OP:
        if (is_op(t, "(")) { /* (x) is x; (), (x,) and (x, y) are tuples */
            if (accept_op(ts, ")")) { n->k = E_LIST, n->tuple = 1; return n; }
            node *e = parse_expr(ts);
            if (accept_op(ts, ")")) return e;
            n->k = E_LIST, n->tuple = 1;
            add_arg(ts->c, n, e, NULL, 0);
            while (accept_op(ts, ",") && !is_op(peek(ts), ")")) add_arg(ts->c, n, parse_expr(ts), NULL, 0);
            expect_op(ts, ")");
            return n;
        }
        if (is_op(t, "[")) {
            n->k = E_LIST;
            if (!accept_op(ts, "]")) {
                do add_arg(ts->c, n, parse_expr(ts), NULL, 0); while (accept_op(ts, ","));
                expect_op(ts, "]");
            }
            return n;
        }
        if (is_op(t, "{")) {
            n->k = E_DICT;
            if (!accept_op(ts, "}")) {
                do {
                    add_arg(ts->c, n, parse_expr(ts), NULL, 0);
                    expect_op(ts, ":");
                    add_arg(ts->c, n, parse_expr(ts), NULL, 0);
                } while (accept_op(ts, ","));
                expect_op(ts, "}");
            }
            return n;
        }
        /* fall through */
    default: die(ts->c, ts->line, "unexpected '%.*s' in expression", (int)(t->t == T_END ? 3 : (int)t->n), t->t == T_END ? "end" : t->s);
    }
    return NULL;
}

/* .name, [index or slice], (call args), then (with filters) |filter and 'is' tests: Jinja binds a
 * filter after a unary minus, -x|f being f(-x). */
static node *parse_postfix(tstream *ts, node *e, int filters) {
    for (;;) {
        if (!filters && (is_op(peek(ts), "|") || is_name(peek(ts), "is"))) return e;
        if (accept_op(ts, ".")) {
            tok *t = peek(ts);
            if (t->t != T_NAME) die(ts->c, ts->line, "expected an attribute name after '.'");
            ts->at++;
            node *n = set_left(new_node(ts->c, E_ATTR, ts->line), e);
            n->s = t->s, n->n = t->n;
            e = n;
        } else if (accept_op(ts, "[")) {
            node *n = set_left(new_node(ts->c, E_INDEX, ts->line), e);
            node *parts[3] = { NULL, NULL, NULL };
            int colons = 0;
            for (;;) {
                if (is_op(peek(ts), ":")) { ts->at++; colons++; if (colons > 2) die(ts->c, ts->line, "bad slice"); continue; }
                if (is_op(peek(ts), "]")) break;
                parts[colons] = parse_expr(ts);
            }
            expect_op(ts, "]");
            if (colons) n->k = E_SLICE, n->b = parts[0], n->c = parts[1], n->args = alloc(ts->c, sizeof(node *)), n->args[0] = parts[2];
            else n->b = parts[0];
            if (!colons && !n->b) die(ts->c, ts->line, "empty subscript");
            e = n;
        } else if (accept_op(ts, "(")) {
            node *n = set_left(new_node(ts->c, E_CALL, ts->line), e);
            parse_call_args(ts, n);
            e = n;
        } else if (accept_op(ts, "|")) {
            tok *t = peek(ts);
            if (t->t != T_NAME) die(ts->c, ts->line, "expected a filter name after '|'");
            ts->at++;
            node *n = set_left(new_node(ts->c, E_FILTER, ts->line), e);
            n->s = t->s, n->n = t->n;
            if (accept_op(ts, "(")) parse_call_args(ts, n);
            e = n;
        } else if (is_name(peek(ts), "is")) {
            ts->at++;
            node *n = new_node(ts->c, E_TEST, ts->line);
            n->negate = accept_name(ts, "not");
            tok *t = peek(ts);
            if (t->t != T_NAME) die(ts->c, ts->line, "expected a test name after 'is'");
            ts->at++;
            set_left(n, e);
            n->s = t->s, n->n = t->n;
            tok *a = peek(ts);
            if (is_name(a, "is")) die(ts->c, ts->line, "tests cannot be chained: 'is %.*s is ...'", (int)t->n, t->s);
            if (accept_op(ts, "(")) parse_call_args(ts, n);
            else if (a->t == T_STR || a->t == T_INT || a->t == T_FLOAT || is_op(a, "[") || is_op(a, "{") ||
                     (a->t == T_NAME && !is_name(a, "else") && !is_name(a, "or") && !is_name(a, "and"))) {
                nest_in(ts); /* one argument without parentheses: x is divisibleby 3 */
                add_arg(ts->c, n, parse_postfix(ts, parse_primary(ts), 0), NULL, 0);
                ts->depth--;
            }
            e = n;
        } else return e;
    }
}

/* Unary - and +, then ** (left-associative in Jinja: 2 ** 3 ** 2 is 64). */
static node *parse_unary(tstream *ts, int filters) {
    int neg = is_op(peek(ts), "-");
    node *n;
    if (neg || is_op(peek(ts), "+")) {
        ts->at++;
        nest_in(ts);
        n = parse_unary(ts, 0);
        ts->depth--;
        if (neg) {
            node *m = new_node(ts->c, E_NEG, ts->line);
            m->a = n;
            n = m;
        }
    } else n = parse_primary(ts);
    return parse_postfix(ts, n, filters);
}

static node *bin(tstream *ts, const char *op, node *a, node *b);

static node *parse_pow(tstream *ts) {
    node *e = parse_unary(ts, 1);
    while (accept_op(ts, "**")) e = bin(ts, "**", e, parse_unary(ts, 1));
    return e;
}

static node *bin(tstream *ts, const char *op, node *a, node *b) {
    node *n = set_left(new_node(ts->c, E_BIN, ts->line), a);
    n->s = op, n->n = strlen(op), n->b = b;
    return n;
}

static node *parse_mul(tstream *ts) {
    node *e = parse_pow(ts);
    for (;;) {
        const char *ops[] = { "*", "//", "/", "%" };
        int hit = 0;
        for (int k = 0; k < 4 && !hit; k++)
            if (accept_op(ts, ops[k])) e = bin(ts, ops[k], e, parse_pow(ts)), hit = 1;
        if (!hit) return e;
    }
}

static node *parse_concat(tstream *ts) {
    node *e = parse_mul(ts);
    while (accept_op(ts, "~")) e = bin(ts, "~", e, parse_mul(ts));
    return e;
}

static node *parse_add(tstream *ts) {
    node *e = parse_concat(ts);
    for (;;) {
        if (accept_op(ts, "+")) e = bin(ts, "+", e, parse_concat(ts));
        else if (accept_op(ts, "-")) e = bin(ts, "-", e, parse_concat(ts));
        else return e;
    }
}

/* Comparisons chain as in Python: a < b < c is a < b and b < c (b is shared by both: a right
 * operand is evaluated from itself, so its up link may go to the second comparison). */
static node *parse_compare(tstream *ts) {
    node *e = parse_add(ts), *prev = NULL;
    for (;;) {
        const char *ops[] = { "==", "!=", "<=", ">=", "<", ">" }, *op = NULL;
        for (int k = 0; k < 6 && !op; k++)
            if (accept_op(ts, ops[k])) op = ops[k];
        if (!op && accept_name(ts, "in")) op = "in";
        if (!op && is_name(peek(ts), "not") && is_name(&ts->v[ts->at + 1], "in")) ts->at += 2, op = "notin";
        if (!op) return e;
        node *right = parse_add(ts);
        if (!prev) {
            e = prev = bin(ts, op, e, right);
            continue;
        }
        node *cmp = bin(ts, op, prev->b, right);
        node *n = set_left(new_node(ts->c, E_AND, ts->line), e);
        n->b = cmp;
        e = n, prev = cmp;
    }
}

static node *parse_not(tstream *ts) {
    if (accept_name(ts, "not")) {
        nest_in(ts);
        node *n = new_node(ts->c, E_NOT, ts->line);
        n->a = parse_not(ts);
        ts->depth--;
        return n;
    }
    return parse_compare(ts);
}

static node *parse_and(tstream *ts) {
    node *e = parse_not(ts);
    while (accept_name(ts, "and")) {
        node *n = set_left(new_node(ts->c, E_AND, ts->line), e);
        n->b = parse_not(ts);
        e = n;
    }
    return e;
}

static node *parse_or(tstream *ts) {
    node *e = parse_and(ts);
    while (accept_name(ts, "or")) {
        node *n = set_left(new_node(ts->c, E_OR, ts->line), e);
        n->b = parse_and(ts);
        e = n;
    }
    return e;
}

static node *parse_expr(tstream *ts) {
    nest_in(ts);
    node *e = parse_or(ts);
    if (accept_name(ts, "if")) {
        node *n = new_node(ts->c, E_COND, ts->line);
        n->b = e, n->a = parse_or(ts);
        n->c = accept_name(ts, "else") ? parse_expr(ts) : NULL;
        e = n;
    }
    ts->depth--;
    return e;
}

/* ---- statements ---- */

typedef struct {
    ctx_t *c;
    piece *p;
    int n, at;
    int loops; /* for bodies around the statement being parsed (inside the innermost macro) */
} pstream;

static node *parse_body(pstream *ps, const char *const *ends, int nends, int *which);

/* The first word of a statement tag, and the stream of the rest. */
static size_t stmt_word(piece *p, const char **rest) {
    const char *s = p->s, *e = p->s + p->n;
    while (s < e && isspace((unsigned char)*s)) s++;
    const char *b = s;
    while (s < e && (isalnum((unsigned char)*s) || *s == '_')) s++;
    *rest = s;
    return (size_t)(s - b);
}

static int word_is(piece *p, const char *w) {
    const char *rest, *s = p->s;
    size_t n = stmt_word(p, &rest);
    while (isspace((unsigned char)*s)) s++;
    return n == strlen(w) && memcmp(s, w, n) == 0;
}

static void expect_end(tstream *ts) {
    if (peek(ts)->t != T_END) die(ts->c, ts->line, "unexpected '%.*s' at the end of a tag", (int)peek(ts)->n, peek(ts)->s);
}

static node *parse_stmt(pstream *ps) {
    ctx_t *c = ps->c;
    piece *p = &ps->p[ps->at++];
    c->line = p->line;
    if (p->kind == P_TEXT) {
        node *n = new_node(c, S_TEXT, p->line);
        n->lit = vstr(p->s, p->n);
        return n;
    }
    tstream ts;
    if (p->kind == P_VAR) {
        lex_expr(c, &ts, p->s, p->n, p->line);
        node *n = new_node(c, S_OUT, p->line);
        n->a = parse_expr(&ts);
        expect_end(&ts);
        return n;
    }
    const char *rest, *s = p->s;
    size_t wn = stmt_word(p, &rest);
    while (isspace((unsigned char)*s)) s++;
    lex_expr(c, &ts, rest, (size_t)(p->s + p->n - rest), p->line);
#define W(x) (wn == strlen(x) && memcmp(s, x, wn) == 0)
    if (W("if")) {
        node *n = new_node(c, S_IF, p->line);
        n->a = parse_expr(&ts);
        expect_end(&ts);
        static const char *const ends[] = { "elif", "else", "endif" };
        int which;
        n->b = parse_body(ps, ends, 3, &which);
        node *cur = n;
        while (which == 0) { /* elif: a nested if in the else branch */
            piece *ep = &ps->p[ps->at - 1];
            const char *r;
            stmt_word(ep, &r);
            tstream t2;
            lex_expr(c, &t2, r, (size_t)(ep->s + ep->n - r), ep->line);
            node *e = new_node(c, S_IF, ep->line);
            e->a = parse_expr(&t2);
            expect_end(&t2);
            e->b = parse_body(ps, ends, 3, &which);
            cur->c = e;
            cur = e;
        }
        if (which == 1) {
            static const char *const ends2[] = { "endif" };
            cur->c = parse_body(ps, ends2, 1, &which);
        }
        return n;
    }
    if (W("for")) {
        node *n = new_node(c, S_FOR, p->line);
        tok *t = peek(&ts);
        if (t->t != T_NAME) die(c, p->line, "expected a loop variable");
        ts.at++;
        n->s = t->s, n->n = t->n;
        if (accept_op(&ts, ",")) {
            t = peek(&ts);
            if (t->t != T_NAME) die(c, p->line, "expected a second loop variable");
            ts.at++;
            n->t2 = t->s, n->t2n = t->n;
        }
        if (!accept_name(&ts, "in")) die(c, p->line, "expected 'in' in for");
        nest_in(&ts);
        n->a = parse_or(&ts); /* no conditional expression: its 'if' filters the items */
        ts.depth--;
        if (accept_name(&ts, "if")) add_arg(c, n, parse_expr(&ts), NULL, 0);
        if (is_name(peek(&ts), "recursive")) die(c, p->line, "recursive loops are not supported");
        expect_end(&ts);
        static const char *const ends[] = { "else", "endfor" };
        int which;
        ps->loops++;
        n->b = parse_body(ps, ends, 2, &which);
        ps->loops--;
        if (which == 0) {
            static const char *const ends2[] = { "endfor" };
            n->c = parse_body(ps, ends2, 1, &which);
        }
        return n;
    }
    if (W("set")) {
        node *n = new_node(c, S_SET, p->line);
        tok *t = peek(&ts);
        if (t->t != T_NAME) die(c, p->line, "expected a name after set");
        ts.at++;
        n->s = t->s, n->n = t->n;
        if (accept_op(&ts, ".")) {
            t = peek(&ts);
            if (t->t != T_NAME) die(c, p->line, "expected an attribute after '.'");
            ts.at++;
            n->t2 = t->s, n->t2n = t->n;
        }
        if (is_op(peek(&ts), ",")) die(c, p->line, "set with several names ({%% set a, b = ... %%}) is not supported");
        if (!accept_op(&ts, "=")) die(c, p->line, "block set ({%% set x %%}...{%% endset %%}) is not supported");
        n->a = parse_expr(&ts);
        expect_end(&ts);
        return n;
    }
    if (W("macro")) {
        node *n = new_node(c, S_MACRO, p->line);
        tok *t = peek(&ts);
        if (t->t != T_NAME) die(c, p->line, "expected a macro name");
        ts.at++;
        n->s = t->s, n->n = t->n;
        expect_op(&ts, "(");
        if (!accept_op(&ts, ")")) {
            do {
                tok *a = peek(&ts);
                if (a->t != T_NAME) die(c, p->line, "expected a parameter name");
                ts.at++;
                node *def = accept_op(&ts, "=") ? parse_expr(&ts) : NULL;
                add_arg(c, n, def, a->s, a->n);
            } while (accept_op(&ts, ","));
            expect_op(&ts, ")");
        }
        expect_end(&ts);
        static const char *const ends[] = { "endmacro" };
        int which, loops = ps->loops;
        ps->loops = 0; /* a loop around the definition is not around the call */
        n->b = parse_body(ps, ends, 1, &which);
        ps->loops = loops;
        return n;
    }
    if (W("break") || W("continue")) { /* jinja2.ext.loopcontrols, which transformers loads */
        if (!ps->loops) die(c, p->line, "'%.*s' outside a for loop", (int)wn, s);
        expect_end(&ts);
        return new_node(c, W("break") ? S_BREAK : S_CONTINUE, p->line);
    }
    die(c, p->line, "unsupported or unexpected tag '%.*s'", (int)wn, s);
#undef W
    return NULL;
}

/* Statements until one of ends (whose index goes to *which), or the end of the template (ends = NULL). */
static node *parse_body(pstream *ps, const char *const *ends, int nends, int *which) {
    node *head = NULL, **tail = &head;
    int start_line = ps->at < ps->n ? ps->p[ps->at].line : 0;
    if (++ps->c->depth > MAX_BLOCK_DEPTH) die(ps->c, start_line, "blocks nested too deeply (more than %d levels)", MAX_BLOCK_DEPTH);
    while (ps->at < ps->n) {
        piece *p = &ps->p[ps->at];
        if (p->kind == P_STMT)
            for (int k = 0; k < nends; k++)
                if (word_is(p, ends[k])) {
                    ps->at++;
                    *which = k;
                    ps->c->depth--;
                    return head;
                }
        node *s = parse_stmt(ps);
        *tail = s;
        tail = &s->next;
    }
    if (nends) die(ps->c, start_line, "missing {%% %s %%}", ends[nends - 1]);
    *which = -1;
    ps->c->depth--;
    return head;
}

/* ---- evaluation ---- */

typedef struct scope {
    struct scope *up;
    jdict vars;
} scope;

typedef struct {
    ctx_t *c;
    scope *globals;
} env;

static val lookup(ctx_t *c, scope *s, const char *k, size_t n) {
    for (; s; s = s->up) {
        val *v = dict_get(c, &s->vars, k, n);
        if (v) return *v;
    }
    return mk(V_UNDEF);
}

static val eval(env *e, scope *s, node *n);
static void exec(env *e, scope *s, node *n, sbuf *out);

static const char *vname(val v) {
    static const char *names[] = { "undefined", "none", "boolean", "integer", "float", "string", "list", "dict", "macro" };
    return names[v.t];
}

static long long to_int(env *e, node *n, val v) {
    if (v.t == V_INT) return v.i;
    if (v.t == V_BOOL) return v.b;
    die(e->c, n->line, "expected an integer, got %s", vname(v));
    return 0;
}

static __attribute__((noinline)) val call_macro(env *e, scope *s, node *call, node *m) {
    work(e->c, 10); /* a call weighs more than a loop iteration: a scope, its arguments */
    scope ms = { e->globals, {0} };
    int pos = 0;
    for (int i = 0; i < call->nargs; i++) {
        val v = eval(e, s, call->args[i]);
        if (call->kw[i]) dict_set(e->c, &ms.vars, call->kw[i], call->kwn[i], v);
        else if (pos < m->nargs) {
            dict_set(e->c, &ms.vars, m->kw[pos], m->kwn[pos], v);
            pos++;
        }
        else die(e->c, call->line, "too many arguments to macro %.*s", (int)m->n, m->s);
    }
    for (int i = 0; i < m->nargs; i++)
        if (!dict_get(e->c, &ms.vars, m->kw[i], m->kwn[i]))
            dict_set(e->c, &ms.vars, m->kw[i], m->kwn[i], m->args[i] ? eval(e, s, m->args[i]) : mk(V_UNDEF));
    sbuf out = {0};
    if (++e->c->depth > MAX_BLOCK_DEPTH) die(e->c, call->line, "macro recursion too deep (more than %d levels)", MAX_BLOCK_DEPTH);
    exec(e, &ms, m->b, &out);
    e->c->depth--;
    return out.s ? vstr(out.s, out.n) : vstr("", 0);
}

/* ---- Python's str methods on UTF-8 text (code points, not bytes) ---- */

/* The number of characters (code points) of the string s; scanning it is charged as work. */
static long long cp_count(ctx_t *c, val s) {
    work_bytes(c, s.s.n);
    long long k = 0;
    for (size_t i = 0; i < s.s.n; i++) k += ((unsigned char)s.s.s[i] & 0xC0) != 0x80;
    return k;
}

/* The byte offset of each code point of s (off[count] = s.s.n); NULL when s is ASCII, whose
 * code points are its bytes. */
static size_t *cp_offsets(ctx_t *c, val s, long long *count) {
    work_bytes(c, s.s.n);
    if (q35_py_ascii(s.s.s, s.s.n)) {
        *count = (long long)s.s.n;
        return NULL;
    }
    size_t *off = alloc(c, (s.s.n + 1) * sizeof *off), k = 0;
    for (size_t i = 0; i < s.s.n;) {
        off[k++] = i;
        q35_py_next(s.s.s, s.s.n, &i);
    }
    off[k] = s.s.n;
    *count = (long long)k;
    return off;
}

/* Whether cp is stripped: in the code points of chars, or whitespace when chars is NULL. */
static int strip_hit(ctx_t *c, int32_t cp, const char *chars, size_t cn) {
    if (!chars) return q35_py_isspace(cp);
    work(c, 1 + (long long)(cn >> 4));
    for (size_t i = 0; i < cn;)
        if (q35_py_next(chars, cn, &i) == cp) return 1;
    return 0;
}

/* str.strip / lstrip / rstrip: chars a string, or none/undefined for whitespace (str.isspace). */
static __attribute__((noinline)) val strip(env *e, node *n, val s, val chars, int left, int right) {
    ctx_t *c = e->c;
    if (chars.t != V_STR && chars.t != V_NONE && chars.t != V_UNDEF) die(c, n->line, "strip arg must be a string or none");
    const char *ch = chars.t == V_STR ? chars.s.s : NULL;
    size_t cn = chars.t == V_STR ? chars.s.n : 0;
    size_t b = 0, en = s.s.n;
    while (left && b < en) {
        size_t i = b;
        if (!strip_hit(c, q35_py_next(s.s.s, en, &i), ch, cn)) break;
        b = i;
    }
    while (right && en > b) {
        size_t i = en;
        int32_t cp = q35_py_prev(s.s.s, b, &i);
        if (cp < 0 || !strip_hit(c, cp, ch, cn)) break;
        en = i;
    }
    return vstr(s.s.s + b, en - b);
}

/* str.split(sep=None, maxsplit=-1) and str.rsplit, as Python: no sep splits at whitespace runs
 * and drops empty pieces; at most maxsplit splits when maxsplit >= 0. */
static __attribute__((noinline)) val split(env *e, node *n, val s, val sep, val maxv, int from_right) {
    ctx_t *c = e->c;
    long long max = maxv.t == V_UNDEF ? -1 : to_int(e, n, maxv);
    if (sep.t != V_STR && sep.t != V_NONE && sep.t != V_UNDEF) die(c, n->line, "split separator must be a string or none");
    if (sep.t == V_STR && sep.s.n == 0) die(c, n->line, "split: empty separator");
    work_bytes(c, s.s.n);
    jlist parts = {0};
    const char *t = s.s.s;
    size_t len = s.s.n;
    if (sep.t != V_STR) {
        if (!from_right) {
            size_t i = 0;
            for (; max != 0; max--) {
                i = run_end(t, len, i, 1);
                if (i == len) break;
                size_t j = run_end(t, len, i, 0);
                list_push(c, &parts, vstr(t + i, j - i));
                i = j;
            }
            if (i < len && (i = run_end(t, len, i, 1)) < len) list_push(c, &parts, vstr(t + i, len - i));
        } else {
            size_t j = len;
            for (; max != 0; max--) {
                j = run_start(t, 0, j, 1);
                if (j == 0) break;
                size_t i = run_start(t, 0, j, 0);
                list_push(c, &parts, vstr(t + i, j - i));
                j = i;
            }
            if (j > 0 && (j = run_start(t, 0, j, 1)) > 0) list_push(c, &parts, vstr(t, j));
        }
    } else if (!from_right) {
        const char *p = t, *end = t + len;
        for (; max != 0; max--) {
            const char *hit = memmem(p, (size_t)(end - p), sep.s.s, sep.s.n);
            if (!hit) break;
            list_push(c, &parts, vstr(p, (size_t)(hit - p)));
            p = hit + sep.s.n;
        }
        list_push(c, &parts, vstr(p, (size_t)(end - p)));
    } else { /* from the right: memmem over both texts reversed, linear whatever the separator */
        char *rt = alloc(c, len + 1), *rs = alloc(c, sep.s.n + 1);
        for (size_t i = 0; i < len; i++) rt[i] = t[len - 1 - i];
        for (size_t i = 0; i < sep.s.n; i++) rs[i] = sep.s.s[sep.s.n - 1 - i];
        size_t j = len; /* the text still to split is t[0, j), rt[len - j, len) */
        for (; max != 0; max--) {
            const char *hit = memmem(rt + (len - j), j, rs, sep.s.n);
            if (!hit) break;
            size_t end = len - (size_t)(hit - rt); /* the occurrence is t[end - sep, end) */
            list_push(c, &parts, vstr(t + end, j - end));
            j = end - sep.s.n;
        }
        list_push(c, &parts, vstr(t, j));
    }
    if (from_right) /* collected from the end */
        for (int i = 0, k = parts.n - 1; i < k; i++, k--) {
            val x = parts.v[i];
            parts.v[i] = parts.v[k], parts.v[k] = x;
        }
    val out = new_list(c);
    *out.l = parts;
    return out;
}

/* str.replace(old, new, count=-1); an empty old inserts new before each code point and at the end. */
static __attribute__((noinline)) val replace(env *e, node *n, val s, val old, val new_, val countv) {
    ctx_t *c = e->c;
    if (old.t != V_STR || new_.t != V_STR) die(c, n->line, "replace takes two strings");
    long long count = countv.t == V_UNDEF ? -1 : to_int(e, n, countv);
    sbuf b = {0};
    const char *p = s.s.s, *en = s.s.s + s.s.n;
    work_bytes(c, s.s.n);
    if (old.s.n == 0) {
        size_t i = 0;
        for (; count != 0; count--) {
            sb_put(c, &b, new_.s.s, new_.s.n);
            if (i >= s.s.n) break;
            size_t j = i;
            q35_py_next(s.s.s, s.s.n, &j);
            sb_put(c, &b, s.s.s + i, j - i);
            i = j;
        }
        sb_put(c, &b, s.s.s + i, s.s.n - i);
        return b.s ? vstr(b.s, b.n) : vstr("", 0);
    }
    for (; count != 0; count--) {
        const char *hit = memmem(p, (size_t)(en - p), old.s.s, old.s.n);
        if (!hit) break;
        sb_put(c, &b, p, (size_t)(hit - p));
        sb_put(c, &b, new_.s.s, new_.s.n);
        p = hit + old.s.n;
    }
    sb_put(c, &b, p, (size_t)(en - p));
    return b.s ? vstr(b.s, b.n) : vstr("", 0);
}

/* str.upper() / str.lower(), full Unicode case mapping (pystr.c). */
static val change_case(ctx_t *c, val s, int upper) {
    if (s.s.n > MAX_TEXT / 3) die(c, c->line, "output or string longer than %zu MiB", MAX_TEXT >> 20);
    work_bytes(c, s.s.n);
    char *b = alloc(c, 3 * s.s.n + 1);
    return vstr(b, q35_py_case(b, s.s.s, s.s.n, upper));
}

/* dict.keys() (also what iterating over a dict and list(d) give). */
static val dict_keys(ctx_t *c, val d) {
    val out = new_list(c);
    for (int i = 0; i < d.d->n; i++) list_push(c, out.l, vstr(d.d->k[i], d.d->kn[i]));
    return out;
}

/* dict.items() as Python's (key, value) tuples. */
static val dict_items(ctx_t *c, val d) {
    val out = new_list(c);
    for (int i = 0; i < d.d->n; i++) {
        val pair = new_list(c);
        pair.l->tuple = 1;
        list_push(c, pair.l, vstr(d.d->k[i], d.d->kn[i]));
        list_push(c, pair.l, d.d->v[i]);
        list_push(c, out.l, pair);
    }
    return out;
}

/* The arguments of a call or filter: positional ones in order, then keywords by name (names,
 * NULL-terminated, in the order of the Python signature); missing ones undefined. */
static void bind_args(env *e, scope *s, node *call, const char *what, const char *const *names, val *out, int max) {
    for (int i = 0; i < max; i++) out[i] = mk(V_UNDEF);
    int pos = 0;
    for (int i = 0; i < call->nargs; i++) {
        int k = -1;
        if (!call->kw[i]) {
            if (pos >= max) die(e->c, call->line, "%s takes at most %d arguments", what, max);
            k = pos++;
        } else {
            for (int j = 0; j < max && names[j]; j++)
                if (strlen(names[j]) == call->kwn[i] && memcmp(names[j], call->kw[i], call->kwn[i]) == 0) k = j;
            if (k < 0) die(e->c, call->line, "%s got an unexpected keyword argument '%.*s'", what, (int)call->kwn[i], call->kw[i]);
        }
        out[k] = eval(e, s, call->args[i]);
    }
}

static __attribute__((noinline)) val method(env *e, scope *s, node *call, val obj, const char *name, size_t nn) {
    ctx_t *c = e->c;
    val a[3];
#define M(x) (nn == strlen(x) && memcmp(name, x, nn) == 0)
    if (obj.t == V_STR) {
        if (M("startswith") || M("endswith")) {
            static const char *const nm[] = { NULL };
            bind_args(e, s, call, "startswith", nm, a, 1);
            int k = a[0].t == V_LIST && a[0].l->tuple ? a[0].l->n : 1; /* a string, or a tuple of strings */
            for (int i = 0; i < k; i++) {
                val p = a[0].t == V_LIST && a[0].l->tuple ? a[0].l->v[i] : a[0];
                if (p.t != V_STR) die(c, call->line, "%.*s needs a string or a tuple of strings", (int)nn, name);
                if (p.s.n > obj.s.n) continue;
                work_bytes(c, p.s.n);
                const char *at = M("startswith") ? obj.s.s : obj.s.s + obj.s.n - p.s.n;
                if (memcmp(at, p.s.s, p.s.n) == 0) return vbool(1);
            }
            return vbool(0);
        }
        if (M("strip") || M("lstrip") || M("rstrip")) {
            static const char *const nm[] = { NULL };
            bind_args(e, s, call, "strip", nm, a, 1);
            return strip(e, call, obj, a[0], !M("rstrip"), !M("lstrip"));
        }
        if (M("split") || M("rsplit")) {
            static const char *const nm[] = { "sep", "maxsplit", NULL };
            bind_args(e, s, call, "split", nm, a, 2);
            return split(e, call, obj, a[0], a[1], M("rsplit"));
        }
        if (M("upper") || M("lower")) {
            bind_args(e, s, call, name, NULL, a, 0);
            return change_case(c, obj, M("upper"));
        }
        if (M("replace")) {
            static const char *const nm[] = { NULL, NULL, "count", NULL };
            bind_args(e, s, call, "replace", nm, a, 3);
            return replace(e, call, obj, a[0], a[1], a[2]);
        }
    }
    if (obj.t == V_DICT) {
        if (M("items") || M("keys") || M("values")) {
            bind_args(e, s, call, name, NULL, a, 0);
            if (M("items")) return dict_items(c, obj);
            if (M("keys")) return dict_keys(c, obj);
            val out = new_list(c);
            for (int i = 0; i < obj.d->n; i++) list_push(c, out.l, obj.d->v[i]);
            return out;
        }
        if (M("get")) {
            static const char *const nm[] = { NULL };
            bind_args(e, s, call, "get", nm, a, 2);
            val def = a[1].t == V_UNDEF ? mk(V_NONE) : a[1];
            if (a[0].t != V_STR) return def;
            val *v = dict_get(c, obj.d, a[0].s.s, a[0].s.n);
            return v ? *v : def;
        }
    }
#undef M
    die(c, call->line, "unsupported method %.*s on %s", (int)nn, name, vname(obj));
    return mk(V_UNDEF);
}

/* The characters of a string, one string each. */
static val chars_of(ctx_t *c, val s) {
    val out = new_list(c);
    work_bytes(c, s.s.n);
    for (size_t i = 0; i < s.s.n;) {
        size_t at = i;
        q35_py_next(s.s.s, s.s.n, &i);
        list_push(c, out.l, vstr(s.s.s + at, i - at));
    }
    return out;
}

static __attribute__((noinline)) val filter(env *e, scope *s, node *n, val v) {
    ctx_t *c = e->c;
    val a[4];
#define F(x) (n->n == strlen(x) && memcmp(n->s, x, n->n) == 0)
    if (F("trim")) {
        static const char *const nm[] = { "chars", NULL };
        bind_args(e, s, n, "trim", nm, a, 1);
        return strip(e, n, stringify(c, v), a[0], 1, 1);
    }
    if (F("length") || F("count")) {
        if (v.t == V_STR) return vint(cp_count(c, v)); /* characters, not bytes */
        if (v.t == V_LIST) return vint(v.l->n);
        if (v.t == V_DICT) return vint(v.d->n);
        if (v.t == V_UNDEF) return vint(0);
        die(c, n->line, "length of %s", vname(v));
    }
    if (F("tojson")) { /* transformers' own: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False) */
        static const char *const nm[] = { "ensure_ascii", "indent", "separators", "sort_keys", NULL };
        bind_args(e, s, n, "tojson", nm, a, 4);
        json_opts o = json_default;
        o.ensure_ascii = a[0].t != V_UNDEF && truthy(a[0]);
        if (a[1].t == V_INT || a[1].t == V_BOOL) {
            long long k = to_int(e, n, a[1]);
            if (k > 64) die(c, n->line, "tojson: indent %lld is beyond the 64 q35 allows", k);
            o.indent = k < 0 ? 0 : (int)k, o.item_sep = ",";
        } else if (a[1].t != V_UNDEF && a[1].t != V_NONE) die(c, n->line, "tojson: indent must be an integer or none");
        if (a[2].t == V_LIST && a[2].l->n == 2 && a[2].l->v[0].t == V_STR && a[2].l->v[1].t == V_STR) {
            o.item_sep = vstr_copy(c, a[2].l->v[0].s.s, a[2].l->v[0].s.n).s.s;
            o.key_sep = vstr_copy(c, a[2].l->v[1].s.s, a[2].l->v[1].s.n).s.s;
        } else if (a[2].t != V_UNDEF && a[2].t != V_NONE) die(c, n->line, "tojson: separators must be two strings");
        o.sort_keys = a[3].t != V_UNDEF && truthy(a[3]);
        sbuf b = {0};
        to_json(c, &b, v, 0, &o);
        return vstr(b.s, b.n);
    }
    if (F("safe")) return v;
    if (F("string")) return stringify(c, v);
    if (F("items")) {
        if (v.t == V_UNDEF) return new_list(c);
        if (v.t != V_DICT) die(c, n->line, "items of %s", vname(v));
        return dict_items(c, v);
    }
    if (F("list")) {
        if (v.t == V_LIST) {
            val out = new_list(c);
            work(c, 1 + v.l->n);
            for (int i = 0; i < v.l->n; i++) list_push(c, out.l, v.l->v[i]);
            return out;
        }
        if (v.t == V_STR) return chars_of(c, v);
        if (v.t == V_DICT) return dict_keys(c, v);
        if (v.t == V_UNDEF) return new_list(c);
        die(c, n->line, "list of %s", vname(v));
    }
    if (F("lower") || F("upper")) return change_case(c, stringify(c, v), F("upper"));
    if (F("first") || F("last")) {
        if (v.t == V_UNDEF) return v;
        if (v.t == V_STR) v = chars_of(c, v);
        if (v.t != V_LIST) die(c, n->line, "%.*s of %s", (int)n->n, n->s, vname(v));
        return v.l->n ? v.l->v[F("first") ? 0 : v.l->n - 1] : mk(V_UNDEF);
    }
    if (F("default") || F("d")) { /* default(value='', boolean=false): with boolean, falsy values too */
        static const char *const nm[] = { "default_value", "boolean", NULL };
        bind_args(e, s, n, "default", nm, a, 2);
        int use = v.t == V_UNDEF || (a[1].t != V_UNDEF && truthy(a[1]) && !truthy(v));
        return !use ? v : a[0].t == V_UNDEF ? vstr("", 0) : a[0];
    }
    if (F("join")) {
        static const char *const nm[] = { "d", NULL };
        bind_args(e, s, n, "join", nm, a, 1);
        if (v.t == V_UNDEF) return vstr("", 0);
        if (v.t == V_STR) v = chars_of(c, v);
        if (v.t != V_LIST) die(c, n->line, "join of %s", vname(v));
        val sep = a[0].t == V_UNDEF ? vstr("", 0) : a[0];
        sbuf b = {0};
        for (int i = 0; i < v.l->n; i++) {
            if (i) to_str(c, &b, sep);
            to_str(c, &b, v.l->v[i]);
        }
        return b.s ? vstr(b.s, b.n) : vstr("", 0);
    }
#undef F
    die(c, n->line, "unsupported filter '%.*s'", (int)n->n, n->s);
    return mk(V_UNDEF);
}

static val binop(env *e, node *n, val a, val b);

/* A comparison for a test (x is gt 3): the operator's own code. */
static int compare(env *e, node *n, const char *op, val a, val b) {
    node fake = { .line = n->line, .s = op, .n = strlen(op) };
    return truthy(binop(e, &fake, a, b));
}

static __attribute__((noinline)) int test(env *e, scope *s, node *n, val v) {
    ctx_t *c = e->c;
#define T(x) (n->n == strlen(x) && memcmp(n->s, x, n->n) == 0)
    static const char *const cmp_names[][3] = { { "eq", "equalto", "==" }, { "ne", "!=", "!=" }, { "lt", "lessthan", "<" },
                                                { "le", "<=", "<=" }, { "gt", "greaterthan", ">" }, { "ge", ">=", ">=" },
                                                { "in", "in", "in" } };
    for (size_t k = 0; k < sizeof cmp_names / sizeof cmp_names[0]; k++)
        if (T(cmp_names[k][0]) || T(cmp_names[k][1]) || T(cmp_names[k][2])) {
            if (n->nargs != 1 || n->kw[0]) die(c, n->line, "test '%.*s' takes one argument", (int)n->n, n->s);
            return compare(e, n, cmp_names[k][2], v, eval(e, s, n->args[0]));
        }
    if (T("divisibleby") || T("odd") || T("even")) {
        int div = T("divisibleby");
        if (n->nargs != div) die(c, n->line, "test '%.*s' takes %d argument%s", (int)n->n, n->s, div, div ? "" : "s");
        val m = div ? eval(e, s, n->args[0]) : vint(2);
        node fake = { .line = n->line, .s = "%", .n = 1 };
        val r = binop(e, &fake, v, m);
        double x = r.t == V_FLOAT ? r.f : (double)to_int(e, n, r);
        return div || T("even") ? x == 0 : x == 1;
    }
    if (n->nargs) die(c, n->line, "test '%.*s' takes no arguments", (int)n->n, n->s);
    if (T("defined")) return v.t != V_UNDEF;
    if (T("undefined")) return v.t == V_UNDEF;
    if (T("none")) return v.t == V_NONE;
    if (T("string")) return v.t == V_STR;
    if (T("number")) return v.t == V_INT || v.t == V_FLOAT || v.t == V_BOOL; /* a bool is a Number in Python */
    if (T("integer")) return v.t == V_INT;
    if (T("float")) return v.t == V_FLOAT;
    if (T("boolean")) return v.t == V_BOOL;
    if (T("mapping")) return v.t == V_DICT;
    if (T("iterable") || T("sequence")) return v.t == V_STR || v.t == V_LIST || v.t == V_DICT || v.t == V_UNDEF;
    if (T("callable")) return v.t == V_MACRO;
    if (T("true")) return v.t == V_BOOL && v.b;
    if (T("false")) return v.t == V_BOOL && !v.b;
#undef T
    die(c, n->line, "unsupported test '%.*s'", (int)n->n, n->s);
    return 0;
}

/* a ** b as Python: integers stay exact (an error past 64 bits), a negative integer exponent or a
 * float gives a float; 0 to a negative power, a complex result and a float overflow are errors. */
static val power(env *e, node *n, val a, val b) {
    ctx_t *c = e->c;
    if (a.t != V_FLOAT && b.t != V_FLOAT && to_int(e, n, b) >= 0) {
        long long x = to_int(e, n, a), y = to_int(e, n, b), r = 1;
        while (y > 0) { /* square and multiply */
            if (y & 1 && __builtin_mul_overflow(r, x, &r)) goto overflow;
            y >>= 1;
            if (y && __builtin_mul_overflow(x, x, &x)) goto overflow;
        }
        return vint(r);
    overflow:
        die(c, n->line, "integer overflow: %lld ** %lld does not fit in 64 bits", to_int(e, n, a), to_int(e, n, b));
    }
    double x = a.t == V_FLOAT ? a.f : (double)to_int(e, n, a), y = b.t == V_FLOAT ? b.f : (double)to_int(e, n, b);
    if (x == 0 && y < 0) die(c, n->line, "0.0 cannot be raised to a negative power");
    if (x < 0 && y != floor(y)) die(c, n->line, "a negative number to a fractional power is complex");
    val r = mk(V_FLOAT);
    r.f = pow(x, y);
    if (isinf(r.f) && isfinite(x) && isfinite(y)) die(c, n->line, "float overflow in **");
    return r;
}

static __attribute__((noinline)) val binop(env *e, node *n, val a, val b) {
    ctx_t *c = e->c;
    const char *op = n->s;
    if (!strcmp(op, "~")) {
        sbuf s = {0};
        to_str(c, &s, a);
        to_str(c, &s, b);
        return s.s ? vstr(s.s, s.n) : vstr("", 0);
    }
    if (!strcmp(op, "==")) return vbool(equal(c, a, b, 0));
    if (!strcmp(op, "!=")) return vbool(!equal(c, a, b, 0));
    if (!strcmp(op, "in") || !strcmp(op, "notin")) {
        int r = 0;
        if (b.t == V_STR && a.t == V_STR) {
            work_bytes(c, b.s.n);
            r = a.s.n == 0 || memmem(b.s.s, b.s.n, a.s.s, a.s.n) != NULL;
        } else if (b.t == V_DICT && a.t == V_STR) r = dict_get(c, b.d, a.s.s, a.s.n) != NULL;
        else if (b.t == V_LIST) {
            work(c, 1 + b.l->n);
            for (int i = 0; !r && i < b.l->n; i++) r = equal(c, a, b.l->v[i], 0);
        }
        else if (b.t != V_DICT && b.t != V_UNDEF) die(c, n->line, "'in' needs a string, list or dict, got %s", vname(b));
        else if (b.t == V_DICT && a.t != V_STR && a.t != V_INT && a.t != V_FLOAT && a.t != V_BOOL && a.t != V_NONE)
            die(c, n->line, "unhashable type: %s", vname(a));
        return vbool(strcmp(op, "in") == 0 ? r : !r);
    }
    if (!strcmp(op, "+") && a.t == V_STR && b.t == V_STR) {
        if (b.s.n > MAX_TEXT - a.s.n) die(c, n->line, "output or string longer than %zu MiB", MAX_TEXT >> 20);
        char *p = alloc(c, a.s.n + b.s.n + 1);
        memcpy(p, a.s.s, a.s.n);
        memcpy(p + a.s.n, b.s.s, b.s.n);
        return vstr(p, a.s.n + b.s.n);
    }
    if (!strcmp(op, "+") && a.t == V_LIST && b.t == V_LIST) { /* list + list, tuple + tuple */
        if (a.l->tuple != b.l->tuple)
            die(c, n->line, "can only concatenate %s (not %s) to %s", a.l->tuple ? "tuple" : "list", b.l->tuple ? "tuple" : "list",
                a.l->tuple ? "tuple" : "list");
        val out = new_list(c);
        out.l->tuple = a.l->tuple;
        for (int i = 0; i < a.l->n; i++) list_push(c, out.l, a.l->v[i]);
        for (int i = 0; i < b.l->n; i++) list_push(c, out.l, b.l->v[i]);
        return out;
    }
    if (!strcmp(op, "*") && ((a.t == V_STR || a.t == V_LIST) != (b.t == V_STR || b.t == V_LIST)) &&
        (a.t == V_INT || a.t == V_BOOL || b.t == V_INT || b.t == V_BOOL)) { /* 'ab' * 3, [x] * 3 */
        val seq = a.t == V_STR || a.t == V_LIST ? a : b;
        long long k = to_int(e, n, a.t == V_STR || a.t == V_LIST ? b : a);
        if (k < 0) k = 0;
        size_t unit = seq.t == V_STR ? seq.s.n : (size_t)seq.l->n;
        if (unit && (unsigned long long)k > (seq.t == V_STR ? MAX_TEXT : (size_t)INT_MAX / 2) / unit)
            die(c, n->line, "%s repeated %lld times is too long", vname(seq), k);
        if (seq.t == V_STR) {
            sbuf r = {0};
            for (long long i = 0; i < k && unit; i++) sb_put(c, &r, seq.s.s, unit);
            return r.s ? vstr(r.s, r.n) : vstr("", 0);
        }
        work(c, 1 + k * (long long)unit);
        val out = new_list(c);
        for (long long i = 0; i < k && unit; i++)
            for (int j = 0; j < seq.l->n; j++) list_push(c, out.l, seq.l->v[j]);
        return out;
    }
    if (a.t == V_STR && b.t == V_STR && (op[0] == '<' || op[0] == '>')) { /* code point order = UTF-8 byte order */
        size_t m = a.s.n < b.s.n ? a.s.n : b.s.n;
        work_bytes(c, m);
        int r = memcmp(a.s.s, b.s.s, m);
        if (r == 0) r = (a.s.n > b.s.n) - (a.s.n < b.s.n);
        return vbool(!strcmp(op, "<") ? r < 0 : !strcmp(op, "<=") ? r <= 0 : !strcmp(op, ">") ? r > 0 : r >= 0);
    }
    int num = (a.t == V_INT || a.t == V_FLOAT || a.t == V_BOOL) && (b.t == V_INT || b.t == V_FLOAT || b.t == V_BOOL);
    if (!num) die(c, n->line, "unsupported operand types for %s: %s and %s", op, vname(a), vname(b));
    if (!strcmp(op, "**")) return power(e, n, a, b);
    if (a.t != V_FLOAT && b.t != V_FLOAT && strcmp(op, "/") != 0) {
        long long x = to_int(e, n, a), y = to_int(e, n, b), r = 0;
        int over = 0;
        if (!strcmp(op, "+")) over = __builtin_add_overflow(x, y, &r);
        else if (!strcmp(op, "-")) over = __builtin_sub_overflow(x, y, &r);
        else if (!strcmp(op, "*")) over = __builtin_mul_overflow(x, y, &r);
        else if (!strcmp(op, "<")) return vbool(x < y);
        else if (!strcmp(op, ">")) return vbool(x > y);
        else if (!strcmp(op, "<=")) return vbool(x <= y);
        else if (!strcmp(op, ">=")) return vbool(x >= y);
        else if (!strcmp(op, "//") || !strcmp(op, "%")) { /* Python's: the quotient floored, the remainder with y's sign */
            if (y == 0) die(c, n->line, "integer division or modulo by zero");
            int div = op[0] == '/';
            if (y == -1) { /* x / -1 traps for INT64_MIN */
                if (!div) return vint(0);
                over = x == LLONG_MIN, r = over ? 0 : -x;
            } else {
                long long q = x / y, m = x % y;
                if (m != 0 && (m < 0) != (y < 0)) q--, m += y;
                r = div ? q : m;
            }
        } else die(c, n->line, "unsupported operator %s on integers", op);
        if (over) die(c, n->line, "integer overflow: %lld %s %lld does not fit in 64 bits", x, op, y);
        return vint(r);
    }
    double x = a.t == V_FLOAT ? a.f : (double)to_int(e, n, a), y = b.t == V_FLOAT ? b.f : (double)to_int(e, n, b);
    val r = mk(V_FLOAT);
    if (!strcmp(op, "+")) r.f = x + y;
    else if (!strcmp(op, "-")) r.f = x - y;
    else if (!strcmp(op, "*")) r.f = x * y;
    else if (!strcmp(op, "/")) {
        if (y == 0) die(c, n->line, "division by zero");
        r.f = x / y;
    }
    else if (!strcmp(op, "%") || !strcmp(op, "//")) { /* CPython's float_divmod */
        if (y == 0) die(c, n->line, "float division or modulo by zero");
        double mod = fmod(x, y), div = (x - mod) / y, floordiv;
        if (mod != 0) {
            if ((y < 0) != (mod < 0)) mod += y, div -= 1.0;
        } else mod = copysign(0.0, y);
        if (div != 0) {
            floordiv = floor(div);
            if (div - floordiv > 0.5) floordiv += 1.0;
        } else floordiv = copysign(0.0, x / y);
        r.f = op[0] == '%' ? mod : floordiv;
    }
    else if (!strcmp(op, "<")) return vbool(x < y);
    else if (!strcmp(op, ">")) return vbool(x > y);
    else if (!strcmp(op, "<=")) return vbool(x <= y);
    else if (!strcmp(op, ">=")) return vbool(x >= y);
    else die(c, n->line, "unsupported operator %s on floats", op);
    return r;
}

static val index_of(env *e, node *n, val obj, val key) {
    if (obj.t == V_UNDEF) die(e->c, n->line, "an undefined value cannot be indexed");
    if (obj.t == V_LIST && (key.t == V_INT || key.t == V_BOOL)) {
        long long i = to_int(e, n, key);
        if (i < 0) i += obj.l->n;
        return i >= 0 && i < obj.l->n ? obj.l->v[i] : mk(V_UNDEF);
    }
    if (obj.t == V_STR && (key.t == V_INT || key.t == V_BOOL)) { /* a character (code point), found by a walk */
        long long i = to_int(e, n, key), count = cp_count(e->c, obj);
        if (i < 0) i += count;
        if (i < 0 || i >= count) return mk(V_UNDEF);
        if (count == (long long)obj.s.n) return vstr(obj.s.s + i, 1);
        size_t at = 0;
        for (long long k = 0; k < i; k++) q35_py_next(obj.s.s, obj.s.n, &at);
        size_t end = at;
        q35_py_next(obj.s.s, obj.s.n, &end);
        return vstr(obj.s.s + at, end - at);
    }
    if (obj.t == V_DICT && key.t == V_STR) {
        val *v = dict_get(e->c, obj.d, key.s.s, key.s.n);
        return v ? *v : mk(V_UNDEF);
    }
    return mk(V_UNDEF);
}

/* v[lo:hi:step], Python's slice of a list or string. (noinline, as the other big cases: the
 * frames that recursion stacks up stay small.) */
static __attribute__((noinline)) val slice_of(env *e, scope *s, node *n, val v) {
    ctx_t *c = e->c;
    if (v.t != V_LIST && v.t != V_STR) die(c, n->line, "cannot slice %s", vname(v));
    long long len = 0;
    size_t *off = NULL; /* a string slices by code points */
    if (v.t == V_LIST) len = v.l->n;
    else off = cp_offsets(c, v, &len);
    long long step = n->args[0] ? to_int(e, n, eval(e, s, n->args[0])) : 1;
    if (step == 0) die(c, n->line, "slice step cannot be zero");
    long long lo, hi;
    if (step > 0) lo = 0, hi = len;
    else lo = len - 1, hi = -1;
    if (n->b) { lo = to_int(e, n, eval(e, s, n->b)); if (lo < 0) lo += len; if (lo < 0) lo = step > 0 ? 0 : -1; if (lo > len) lo = len; if (step < 0 && lo >= len) lo = len - 1; }
    if (n->c) { hi = to_int(e, n, eval(e, s, n->c)); if (hi < 0) hi += len; if (hi < 0) hi = step > 0 ? 0 : -1; if (hi > len) hi = len; }
    /* i + step may not fit: an overflowing step ends the slice */
    if (v.t == V_LIST) {
        val out = new_list(c);
        for (long long i = lo; step > 0 ? i < hi : i > hi;) {
            list_push(c, out.l, v.l->v[i]);
            if (__builtin_add_overflow(i, step, &i)) break;
        }
        return out;
    }
    sbuf b = {0};
    if (step == 1 && hi > lo) { /* one piece */
        size_t b0 = off ? off[lo] : (size_t)lo, b1 = off ? off[hi] : (size_t)hi;
        return vstr(v.s.s + b0, b1 - b0);
    }
    for (long long i = lo; step > 0 ? i < hi : i > hi;) {
        work(c, 1);
        if (off) sb_put(c, &b, v.s.s + off[i], off[i + 1] - off[i]);
        else sb_put(c, &b, v.s.s + i, 1);
        if (__builtin_add_overflow(i, step, &i)) break;
    }
    return b.s ? vstr(b.s, b.n) : vstr("", 0);
}

/* obj.name(...), n the call and n->a the attribute: a string or dict method, or a macro kept in
 * a dict. */
static __attribute__((noinline)) val call_attr(env *e, scope *s, node *n, val obj) {
    node *f = n->a;
    val *fn = obj.t == V_DICT ? dict_get(e->c, obj.d, f->s, f->n) : NULL;
    if (obj.t == V_STR || (obj.t == V_DICT && !fn)) return method(e, s, n, obj, f->s, f->n);
    if (!fn || fn->t != V_MACRO) die(e->c, n->line, "'%.*s' is not callable", (int)f->n, f->s);
    return call_macro(e, s, n, fn->m);
}

/* A call: a method, raise_exception, namespace, range, or a macro. */
static __attribute__((noinline)) val eval_call(env *e, scope *s, node *n) {
    ctx_t *c = e->c;
    node *f = n->a;
    if (f->k == E_ATTR) return call_attr(e, s, n, eval(e, s, f->a));
    if (f->k == E_NAME && f->n == 15 && memcmp(f->s, "raise_exception", 15) == 0) {
        val m = n->nargs ? stringify(c, eval(e, s, n->args[0])) : vstr("", 0);
        snprintf(c->err, c->errlen, "raise_exception: %.*s", (int)m.s.n, m.s.s);
        longjmp(c->fail, 1);
    }
    if (f->k == E_NAME && f->n == 9 && memcmp(f->s, "namespace", 9) == 0) {
        val ns = mk(V_DICT);
        ns.d = alloc(c, sizeof *ns.d);
        ns.d->ns = 1;
        for (int i = 0; i < n->nargs; i++) {
            if (!n->kw[i]) die(c, n->line, "namespace() takes keyword arguments");
            dict_set(c, ns.d, n->kw[i], n->kwn[i], eval(e, s, n->args[i]));
        }
        return ns;
    }
    if (f->k == E_NAME && f->n == 5 && memcmp(f->s, "range", 5) == 0) { /* range(stop), range(start, stop[, step]) */
        long long a = 0, b = 0, step = 1, count = 0;
        for (int i = 0; i < n->nargs; i++)
            if (n->kw[i]) die(c, n->line, "range takes no keyword arguments");
        if (n->nargs == 1) b = to_int(e, n, eval(e, s, n->args[0]));
        else if (n->nargs == 2 || n->nargs == 3) {
            a = to_int(e, n, eval(e, s, n->args[0])), b = to_int(e, n, eval(e, s, n->args[1]));
            if (n->nargs == 3) step = to_int(e, n, eval(e, s, n->args[2]));
        } else die(c, n->line, "range takes 1 to 3 arguments");
        if (step == 0) die(c, n->line, "range() arg 3 must not be zero");
        /* the count in unsigned arithmetic: b - a may not fit in 64 bits */
        if (step > 0 && b > a) count = (long long)(((unsigned long long)b - (unsigned long long)a - 1) / (unsigned long long)step + 1);
        if (step < 0 && a > b) count = (long long)(((unsigned long long)a - (unsigned long long)b - 1) / (0ULL - (unsigned long long)step) + 1);
        if (count < 0 || count > 1000000)
            die(c, n->line, "range too large: range(%lld, %lld, %lld) has more than 1000000 items", a, b, step);
        val out = new_list(c);
        if (count > 0) {
            work(c, count);
            out.l->v = alloc(c, (size_t)count * sizeof(val)), out.l->cap = (int)count;
            for (long long i = 0; i < count; i++) out.l->v[out.l->n++] = vint(a + i * step);
        }
        return out;
    }
    if (f->k == E_NAME && f->n == 4 && memcmp(f->s, "dict", 4) == 0) { /* transformers' dict(**kw) */
        val d = mk(V_DICT);
        d.d = alloc(c, sizeof *d.d);
        for (int i = 0; i < n->nargs; i++) {
            if (!n->kw[i]) die(c, n->line, "dict() takes keyword arguments here");
            dict_set(c, d.d, n->kw[i], n->kwn[i], eval(e, s, n->args[i]));
        }
        return d;
    }
    val fn = eval(e, s, f);
    if (fn.t != V_MACRO) die(c, n->line, "'%.*s' is not callable", (int)(f->k == E_NAME ? f->n : 4), f->k == E_NAME ? f->s : "this");
    return call_macro(e, s, n, fn.m);
}

/* One link of a chain: n applied to the value v of its left operand n->a. */
static __attribute__((noinline)) val eval_link(env *e, scope *s, node *n, val v) {
    ctx_t *c = e->c;
    switch (n->k) {
    case E_BIN: return binop(e, n, v, eval(e, s, n->b));
    case E_AND: return truthy(v) ? eval(e, s, n->b) : v;
    case E_OR: return truthy(v) ? v : eval(e, s, n->b);
    case E_ATTR: /* a missing attribute is undefined; using an undefined value is an error, as Jinja's */
        if (v.t == V_DICT) {
            val *a = dict_get(c, v.d, n->s, n->n);
            return a ? *a : mk(V_UNDEF);
        }
        if (v.t == V_UNDEF) die(c, n->line, "an undefined value has no attribute '%.*s'", (int)n->n, n->s);
        return mk(V_UNDEF);
    case E_INDEX: return index_of(e, n, v, eval(e, s, n->b));
    case E_FILTER: return filter(e, s, n, v);
    case E_TEST: {
        int r = test(e, s, n, v);
        return vbool(n->negate ? !r : r);
    }
    case E_SLICE: return slice_of(e, s, n, v);
    }
    die(c, n->line, "internal: unknown chain expression");
}

/* Names transformers' Jinja environment defines as functions (jinja2's globals and its own). */
static int global_function(const char *s, size_t n) {
    static const char *const names[] = { "range", "dict", "namespace", "raise_exception", "strftime_now", "lipsum", "cycler", "joiner" };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strlen(names[k]) == n && memcmp(names[k], s, n) == 0) return 1;
    return 0;
}

/* An expression that is not a chain. */
static __attribute__((noinline)) val eval_leaf(env *e, scope *s, node *n) {
    ctx_t *c = e->c;
    switch (n->k) {
    case E_LIT: return n->lit;
    case E_NAME: {
        val v = lookup(c, s, n->s, n->n);
        if (v.t == V_UNDEF && global_function(n->s, n->n)) /* defined in Jinja: never a silent undefined here */
            die(c, n->line, "'%.*s' is a global function of transformers' Jinja: q35 only calls range, dict, namespace and "
                "raise_exception (no other use, no strftime_now, cycler, joiner or lipsum)", (int)n->n, n->s);
        return v;
    }
    case E_CALL: return eval_call(e, s, n);
    case E_NOT: return vbool(!truthy(eval(e, s, n->a)));
    case E_NEG: {
        val a = eval(e, s, n->a);
        if (a.t == V_INT) {
            if (a.i == LLONG_MIN) die(c, n->line, "integer overflow: -(%lld) does not fit in 64 bits", a.i);
            return vint(-a.i);
        }
        if (a.t == V_FLOAT) { a.f = -a.f; return a; }
        if (a.t == V_BOOL) return vint(-a.b);
        die(c, n->line, "cannot negate %s", vname(a));
    }
    case E_COND: return truthy(eval(e, s, n->a)) ? eval(e, s, n->b) : n->c ? eval(e, s, n->c) : mk(V_UNDEF);
    case E_LIST: {
        val out = new_list(c);
        out.l->tuple = n->tuple;
        for (int i = 0; i < n->nargs; i++) list_push(c, out.l, eval(e, s, n->args[i]));
        return out;
    }
    case E_DICT: {
        val out = mk(V_DICT);
        out.d = alloc(c, sizeof *out.d);
        for (int i = 0; i + 1 < n->nargs; i += 2) {
            val k = eval(e, s, n->args[i]);
            if (k.t != V_STR) die(c, n->line, "dict keys must be strings");
            dict_set(c, out.d, k.s.s, k.s.n, eval(e, s, n->args[i + 1]));
        }
        return out;
    }
    }
    die(c, n->line, "internal: unknown expression");
}

/* Evaluates n. A chain (a + b + c, x.y.z, ...) goes down its left operands to the first that is
 * not a link, then back up through the links in a loop: its length costs no stack. */
static val eval(env *e, scope *s, node *n) {
    ctx_t *c = e->c;
    if (++c->nest > MAX_EVAL_DEPTH) die(c, n->line, "expression or recursion nested too deeply (more than %d levels)", MAX_EVAL_DEPTH);
    node *b = n;
    while (is_chain(b)) b = b->a;
    c->line = b->line;
    val v = eval_leaf(e, s, b);
    /* a ~ b ~ c and s + t + u append to one buffer, l + m + n to one list: linear, not quadratic */
    sbuf acc = {0};
    int joined = 0, fresh = 0; /* v is acc's text / a list this chain made, referenced nowhere else */
    for (node *p = b; p != n;) {
        p = p->up;
        c->line = p->line;
        if (p->k == E_ATTR && p != n && p->up->k == E_CALL && p->up->a == p) continue; /* a method: v is its object */
        if (p->k == E_CALL) {
            v = call_attr(e, s, p, v);
            joined = fresh = 0;
            continue;
        }
        if (p->k != E_BIN || p->n != 1 || (p->s[0] != '~' && p->s[0] != '+')) {
            v = eval_link(e, s, p, v);
            joined = fresh = 0;
            continue;
        }
        val r = eval(e, s, p->b);
        if (p->s[0] == '~' || (v.t == V_STR && r.t == V_STR)) {
            if (!joined) acc = (sbuf){0}, to_str(c, &acc, v), joined = 1;
            to_str(c, &acc, r);
            v = acc.s ? vstr(acc.s, acc.n) : vstr("", 0);
            fresh = 0;
        } else if (fresh && v.t == V_LIST && r.t == V_LIST && v.l->tuple == r.l->tuple) {
            for (int i = 0; i < r.l->n; i++) list_push(c, v.l, r.l->v[i]);
        } else {
            v = binop(e, p, v, r);
            joined = 0, fresh = v.t == V_LIST;
        }
    }
    c->nest--;
    return v;
}

/* Fills the reused loop dict for item i of items. */
static void set_loop(val *lv, const jlist *items, int i) {
    lv[0] = vint(i);
    lv[1] = vint(i + 1);
    lv[2] = vint(items->n - 1 - i);
    lv[3] = vint(items->n - i);
    lv[4] = vbool(i == 0);
    lv[5] = vbool(i == items->n - 1);
    lv[6] = vint(items->n);
    lv[7] = i > 0 ? items->v[i - 1] : mk(V_UNDEF);
    lv[8] = i + 1 < items->n ? items->v[i + 1] : mk(V_UNDEF);
}

/* Binds item to the loop's target names in the scope ls. */
static void bind_target(env *e, node *n, scope *ls, val item) {
    ctx_t *c = e->c;
    if (n->t2) {
        if (item.t != V_LIST || item.l->n != 2) die(c, n->line, "cannot unpack %s into two names", vname(item));
        dict_set(c, &ls->vars, n->s, n->n, item.l->v[0]);
        dict_set(c, &ls->vars, n->t2, n->t2n, item.l->v[1]);
    } else dict_set(c, &ls->vars, n->s, n->n, item);
}

/* {% for %}: the items (those its 'if' keeps), then the body once for each, or the else branch
 * when there are none. */
static __attribute__((noinline)) void exec_for(env *e, scope *s, node *n, sbuf *out) {
    ctx_t *c = e->c;
    val it = eval(e, s, n->a);
    jlist items = {0};
    if (it.t == V_DICT) it = dict_keys(c, it);
    else if (it.t == V_STR) it = chars_of(c, it);
    if (it.t == V_LIST) items = *it.l;
    else if (it.t != V_UNDEF) die(c, n->line, "cannot loop over %s", vname(it));
    scope ls = { s, {0} };
    if (n->nargs) { /* for x in xs if cond: loop.* counts the kept items only */
        jlist kept = {0};
        for (int i = 0; i < items.n; i++) {
            work(c, 1);
            ls.vars.n = 0;
            bind_target(e, n, &ls, items.v[i]);
            if (truthy(eval(e, &ls, n->args[0]))) list_push(c, &kept, items.v[i]);
        }
        items = kept;
    }
    if (items.n == 0) {
        exec(e, s, n->c, out);
        return;
    }
    int completed = 0; /* Jinja runs the else branch unless some iteration reached the end of the body */
    /* One loop object for the whole loop, as Jinja's LoopContext; one scope, emptied for
     * each item: an iteration allocates nothing of its own. */
    val loop = mk(V_DICT);
    loop.d = alloc(c, sizeof *loop.d);
    static const char *const keys[] = { "index0", "index", "revindex0", "revindex", "first", "last", "length", "previtem", "nextitem" };
    for (int k = 0; k < 9; k++) dict_set(c, loop.d, keys[k], strlen(keys[k]), mk(V_UNDEF));
    for (int i = 0; i < items.n; i++) {
        work(c, 1);
        c->line = n->line;
        set_loop(loop.d->v, &items, i);
        ls.vars.n = 0;
        dict_set(c, &ls.vars, "loop", 4, loop);
        bind_target(e, n, &ls, items.v[i]);
        exec(e, &ls, n->b, out);
        if (c->loopctl) {
            int brk = c->loopctl == 1;
            c->loopctl = 0;
            if (brk) break;
        } else completed = 1;
    }
    if (!completed) exec(e, s, n->c, out);
}

static void exec(env *e, scope *s, node *n, sbuf *out) {
    ctx_t *c = e->c;
    if (++c->nest > MAX_EVAL_DEPTH) die(c, n ? n->line : c->line, "expression or recursion nested too deeply (more than %d levels)", MAX_EVAL_DEPTH);
    for (; n && !c->loopctl; n = n->next) {
        c->line = n->line;
        switch (n->k) {
        case S_BREAK: c->loopctl = 1; break;
        case S_CONTINUE: c->loopctl = 2; break;
        case S_TEXT: sb_put(c, out, n->lit.s.s, n->lit.s.n); break;
        case S_OUT: to_str(c, out, eval(e, s, n->a)); break;
        case S_IF: /* an elif is an if alone in the else branch: a loop down the chain, not recursion */
            for (node *x = n;;) {
                if (truthy(eval(e, s, x->a))) { exec(e, s, x->b, out); break; }
                if (x->c && x->c->k == S_IF && !x->c->next) { x = x->c; c->line = x->line; continue; }
                exec(e, s, x->c, out);
                break;
            }
            break;
        case S_SET: {
            val v = eval(e, s, n->a);
            if (n->t2) {
                val ns = lookup(c, s, n->s, n->n);
                if (ns.t != V_DICT) die(c, n->line, "cannot set an attribute of %s", vname(ns));
                dict_set(c, ns.d, n->t2, n->t2n, v);
            } else dict_set(c, &s->vars, n->s, n->n, v);
            break;
        }
        case S_MACRO: {
            val m = mk(V_MACRO);
            m.m = n;
            dict_set(c, &s->vars, n->s, n->n, m);
            break;
        }
        case S_FOR: exec_for(e, s, n, out); break;
        default: die(c, n->line, "internal: unknown statement");
        }
    }
    c->nest--;
}

char *q35_jinja_render(const char *template_text, const cJSON *vars, char *err, size_t errlen) {
    ctx_t c = { .err = err, .errlen = errlen };
    char *volatile result = NULL;
    if (setjmp(c.fail) == 0) {
        /* Jinja reads \r\n and \r as \n, then drops one newline at the end of the template
         * (keep_trailing_newline=False) */
        size_t len = strlen(template_text), k = 0;
        char *text = alloc(&c, len + 1);
        for (size_t i = 0; i < len; i++) {
            if (template_text[i] == '\r' && i + 1 < len && template_text[i + 1] == '\n') continue;
            text[k++] = template_text[i] == '\r' ? '\n' : template_text[i];
        }
        if (k && text[k - 1] == '\n') k--;
        text[k] = 0;
        int np;
        piece *p = lex_template(&c, text, &np);
        pstream ps = { &c, p, np, 0, 0 };
        int which;
        node *root = parse_body(&ps, NULL, 0, &which);
        scope g = { NULL, {0} };
        for (const cJSON *v = cJSON_IsObject(vars) ? vars->child : NULL; v; v = v->next) {
            val k = vstr_copy(&c, v->string, strlen(v->string));
            dict_set(&c, &g.vars, k.s.s, k.s.n, from_json(&c, v, 1));
        }
        env e = { &c, &g };
        sbuf out = {0};
        exec(&e, &g, root, &out);
        result = malloc(out.n + 1);
        if (!result) snprintf(err, errlen, "out of memory");
        else {
            if (out.n) memcpy(result, out.s, out.n);
            result[out.n] = 0;
        }
    }
    while (c.blocks) {
        block *b = c.blocks->next;
        free(c.blocks);
        c.blocks = b;
    }
    return result;
}
