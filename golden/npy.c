/* npy.c - .npy directories read through an mmap into a q35_st; one-file .npy writer. */
#include "npy.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "\x93NUMPY"
#define MAGIC_LEN 6
#define ALIGN 64                  /* numpy's ARRAY_ALIGN: the data starts at a multiple of it */
#define GROWTH_AXIS_MAX_DIGITS 21 /* numpy's spare spaces after the dict */

/* s[0..n) for a message: printable ASCII kept, every other byte as \xNN, at most max bytes of
 * input (then "..."); as much as fits in out, always NUL-terminated. */
static const char *printable(char *out, size_t outlen, const char *s, size_t n, size_t max) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == max) { o += (size_t)snprintf(out + o, outlen - o, "..."); break; }
        if (c >= 0x20 && c < 0x7f) out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
    }
    out[o] = 0;
    return out;
}

/* ---- the header: a Python dict literal, parsed within [p, end) only ---- */

typedef struct {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

/* After whitespace: consumes ch and returns 1, or returns 0 and consumes nothing else. */
static int eat(cursor *c, char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) { c->p++; return 1; }
    return 0;
}

/* A quoted string ('...' or "..."); *s, *n its raw bytes between the quotes (a backslash keeps
 * the byte after it inside the string; no escape is decoded: no key or descr has one). */
static int parse_str(cursor *c, const char **s, size_t *n) {
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return -1;
    char q = *c->p++;
    const char *b = c->p;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' && c->p + 1 < c->end) c->p++;
        c->p++;
    }
    if (c->p >= c->end) return -1;
    *s = b;
    *n = (size_t)(c->p - b);
    c->p++;
    return 0;
}

static int is_ident(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* True / False as whole words: 1 / 0, -1 for anything else. */
static int parse_bool(cursor *c) {
    skip_ws(c);
    size_t left = (size_t)(c->end - c->p);
    int v = -1;
    size_t k = 0;
    if (left >= 4 && memcmp(c->p, "True", 4) == 0) v = 1, k = 4;
    else if (left >= 5 && memcmp(c->p, "False", 5) == 0) v = 0, k = 5;
    if (v < 0 || (k < left && is_ident(c->p[k]))) return -1;
    c->p += k;
    return v;
}

typedef struct {
    const char *descr;
    size_t descr_len;
    int descr_is_str;    /* 0: a list (a structured dtype) or something else */
    int fortran;
    int ndim;
    int64_t shape[Q35_MAX_DIMS];
} header;

/* Parses the shape tuple: "()", "(5,)", "(2, 3)", "(2, 3,)" (a Python 2 "3L" is accepted).
 * 0 or -1 with err (the message after "path: "). */
static int parse_shape(cursor *c, header *h, char *err, size_t errlen) {
    if (!eat(c, '(')) return q35_fail(err, errlen, "'shape' is not a tuple of integers");
    uint64_t nonzero = 1;
    size_t count = 0;
    int comma = 0;
    for (;;) {
        if (eat(c, ')')) break;
        if (count > 0 && !comma) return q35_fail(err, errlen, "'shape' is not a tuple of integers (',' expected)");
        skip_ws(c);
        if (c->p < c->end && *c->p == '-')
            return q35_fail(err, errlen, "'shape' has a negative dimension");
        if (c->p >= c->end || *c->p < '0' || *c->p > '9') return q35_fail(err, errlen, "'shape' is not a tuple of integers");
        uint64_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            unsigned d = (unsigned)(*c->p++ - '0');
            if (v > (UINT64_MAX - d) / 10) return q35_fail(err, errlen, "'shape' overflows (a dimension beyond 2^64)");
            v = v * 10 + d;
        }
        if (c->p < c->end && (*c->p == 'L' || *c->p == 'l')) c->p++;
        if (c->p < c->end && is_ident(*c->p)) return q35_fail(err, errlen, "'shape' is not a tuple of integers");
        /* the product of the non-zero dims must fit too (with room for 8-byte elements): code that
         * multiplies a subset of the dims must not overflow on a [0, 2^40, 2^40] tensor */
        if (v && nonzero > UINT64_MAX / 8 / v) return q35_fail(err, errlen, "'shape' overflows (more than 2^61 elements)");
        if (v) nonzero *= v;
        if (count < Q35_MAX_DIMS) h->shape[count] = (int64_t)v;
        count++;
        comma = eat(c, ',');
    }
    if (count == 1 && !comma) return q35_fail(err, errlen, "'shape' is (N), an integer, not the tuple (N,)");
    if (count > Q35_MAX_DIMS)
        return q35_fail(err, errlen, "'shape' has %zu dimensions (at most %d)", count, Q35_MAX_DIMS);
    h->ndim = (int)count;
    return 0;
}

/* The dict: exactly the keys 'descr', 'fortran_order', 'shape', in any order, then only
 * whitespace. 0 or -1 with err (the message after "path: "). */
static int parse_header(const char *s, size_t n, header *h, char *err, size_t errlen) {
    cursor c = { s, s + n };
    int seen[3] = { 0, 0, 0 };
    char buf[200];
    memset(h, 0, sizeof *h);
    if (!eat(&c, '{')) return q35_fail(err, errlen, "header is not a Python dict ('{' expected)");
    for (;;) {
        if (eat(&c, '}')) break;
        const char *k;
        size_t kn;
        if (parse_str(&c, &k, &kn) != 0) return q35_fail(err, errlen, "header is not a Python dict (a quoted key or '}' expected)");
        if (!eat(&c, ':')) return q35_fail(err, errlen, "header is not a Python dict (':' expected after a key)");
        int which = kn == 5 && memcmp(k, "descr", 5) == 0           ? 0
                    : kn == 13 && memcmp(k, "fortran_order", 13) == 0 ? 1
                    : kn == 5 && memcmp(k, "shape", 5) == 0           ? 2
                                                                      : -1;
        if (which < 0) return q35_fail(err, errlen, "header has an unexpected key '%s'", printable(buf, sizeof buf, k, kn, 40));
        if (seen[which]) return q35_fail(err, errlen, "header repeats the key '%s'", printable(buf, sizeof buf, k, kn, 40));
        seen[which] = 1;
        if (which == 0) {
            skip_ws(&c);
            if (c.p < c.end && (*c.p == '\'' || *c.p == '"')) {
                if (parse_str(&c, &h->descr, &h->descr_len) != 0) return q35_fail(err, errlen, "header: 'descr' is an unterminated string");
                h->descr_is_str = 1;
            } else {
                return q35_fail(err, errlen, "'descr' is not a dtype string (structured dtypes are not supported)");
            }
        } else if (which == 1) {
            h->fortran = parse_bool(&c);
            if (h->fortran < 0) return q35_fail(err, errlen, "'fortran_order' is not True or False");
        } else if (parse_shape(&c, h, err, errlen) != 0) {
            return -1;
        }
        if (!eat(&c, ',')) {
            if (eat(&c, '}')) break;
            return q35_fail(err, errlen, "header is not a Python dict (',' or '}' expected)");
        }
    }
    skip_ws(&c);
    if (c.p < c.end) return q35_fail(err, errlen, "header has bytes after its dict");
    static const char *const names[3] = { "descr", "fortran_order", "shape" };
    for (int i = 0; i < 3; i++)
        if (!seen[i]) return q35_fail(err, errlen, "header lacks the key '%s'", names[i]);
    return 0;
}

static const struct {
    const char *descr;
    q35_dtype dt;
} dtypes[] = { { "<f4", Q35_F32 }, { "<f2", Q35_F16 }, { "<u2", Q35_BF16 },
               { "<f8", Q35_F64 }, { "<i8", Q35_I64 }, { "<i4", Q35_I32 } };

#define SUPPORTED "<f4, <f2, <u2 (bf16 bits), <f8, <i8, <i4"

static const char *descr_of(q35_dtype dt) {
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].dt == dt) return dtypes[i].descr;
    return NULL;
}

static int parse_descr(const header *h, q35_dtype *dt, char *err, size_t errlen) {
    char buf[200];
    printable(buf, sizeof buf, h->descr, h->descr_len, 40);
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (h->descr_len == 3 && memcmp(h->descr, dtypes[i].descr, 3) == 0) { *dt = dtypes[i].dt; return 0; }
    if (h->descr_len > 0 && h->descr[0] == '>')
        return q35_fail(err, errlen, "dtype '%s': big-endian is not supported (save with arr.astype(arr.dtype.newbyteorder('<')))", buf);
    return q35_fail(err, errlen, "dtype '%s' is not supported (q35 reads " SUPPORTED ")", buf);
}

/* ---- the directory ---- */

typedef struct {
    char *fname;       /* the file name, with ".npy" */
    struct timespec mtime;
} listed;

static int cmp_listed(const void *a, const void *b) {
    const listed *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec) return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec) return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->fname, y->fname);
}

/* As safetensors.c: strcmp on the names, which q35_st_find's binary search expects. */
static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const q35_st_entry *)a)->name, ((const q35_st_entry *)b)->name);
}

static int ends_npy(const char *s) {
    size_t n = strlen(s);
    return n >= 4 && memcmp(s + n - 4, ".npy", 4) == 0;
}

/* Maps the last file of st (its path set by the caller, who has counted it in st->nfiles), checks
 * it, and fills e (named by fname without ".npy"). */
static int open_npy(q35_st *st, q35_st_entry *e, const char *fname, char *err, size_t errlen) {
    q35_st_file *f = &st->files[st->nfiles - 1];
    const char *path = f->path;
    char msg[1024];
    /* a FIFO swapped in after the listing fails at once */
    if (q35_st_map_file(f, path, MAGIC_LEN + 2, "not a .npy file", "shorter than the magic and version", err, errlen) != 0)
        return -1;
    const unsigned char *p = f->map;
    if (memcmp(p, MAGIC, MAGIC_LEN) != 0) return q35_fail(err, errlen, "%s: not a .npy file (wrong magic, \\x93NUMPY expected)", path);
    unsigned major = p[6], minor = p[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0)
        return q35_fail(err, errlen, "%s: unsupported .npy version %u.%u (1.0, 2.0 and 3.0 are read)", path, major, minor);
    size_t start = major == 1 ? 10 : 12;
    if (f->size < start)
        return q35_fail(err, errlen, "%s: truncated: %zu bytes, shorter than the version %u.0 header length field", path, f->size, major);
    uint64_t hlen = major == 1 ? (uint64_t)p[8] | (uint64_t)p[9] << 8
                               : (uint64_t)p[8] | (uint64_t)p[9] << 8 | (uint64_t)p[10] << 16 | (uint64_t)p[11] << 24;
    if (hlen > f->size - start)
        return q35_fail(err, errlen, "%s: header length %llu points past the end of the file (%zu bytes after the length field): truncated",
                        path, (unsigned long long)hlen, f->size - start);
    header h;
    if (parse_header((const char *)p + start, (size_t)hlen, &h, msg, sizeof msg) != 0) return q35_fail(err, errlen, "%s: %s", path, msg);
    q35_dtype dt = Q35_F32;
    if (parse_descr(&h, &dt, msg, sizeof msg) != 0) return q35_fail(err, errlen, "%s: %s", path, msg);
    if (h.fortran)
        return q35_fail(err, errlen, "%s: fortran_order is True (column-major), which is not supported: save with numpy.ascontiguousarray(arr)", path);
    memset(e, 0, sizeof *e);
    e->t.dtype = dt;
    e->t.ndim = h.ndim;
    uint64_t numel = 1;
    for (int d = 0; d < h.ndim; d++) e->t.shape[d] = h.shape[d], numel *= (uint64_t)h.shape[d];
    size_t es = q35_dtype_size(dt);
    uint64_t want = numel * es, off = start + hlen, have = f->size - off;
    if (have != want) {
        char shp[200];
        const char *d = descr_of(dt);
        q35_shape_str(shp, sizeof shp, &e->t);
        if (have < want)
            return q35_fail(err, errlen, "%s: truncated: shape %s %s needs %llu bytes, file has %llu after the header", path, shp, d,
                            (unsigned long long)want, (unsigned long long)have);
        return q35_fail(err, errlen,
                        "%s: %llu trailing bytes after the data: shape %s %s needs %llu bytes, file has %llu after the header (is the shape right?)",
                        path, (unsigned long long)(have - want), shp, d, (unsigned long long)want, (unsigned long long)have);
    }
    /* every reader takes elements through typed pointers (numpy aligns the data to 64 bytes) */
    if (want && off % es != 0)
        return q35_fail(err, errlen, "%s: data at offset %llu is not aligned to its %zu-byte elements", path, (unsigned long long)off, es);
    size_t nlen = strlen(fname) - 4;
    e->name = malloc(nlen + 1);
    if (!e->name) return q35_fail(err, errlen, "%s: out of memory", path);
    memcpy(e->name, fname, nlen);
    e->name[nlen] = 0;
    e->t.data = p + off;
    e->nbytes = (size_t)want;
    e->file = st->nfiles - 1;
    return 0;
}

/* Lists the .npy files of dir (regular, names checked), sorted by mtime then name. */
static int list_dir(const char *dir, listed **out, int *nout, char *err, size_t errlen) {
    *out = NULL;
    *nout = 0;
    DIR *d = opendir(dir);
    if (!d) return q35_fail(err, errlen, "%s: cannot open directory: %s", dir, strerror(errno));
    listed *l = NULL;
    int n = 0, cap = 0, rc = -1;
    size_t dlen = strlen(dir);
    char buf[1100]; /* a file name (at most 255 bytes) with every byte escaped */
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno) { q35_fail(err, errlen, "%s: cannot read directory: %s", dir, strerror(errno)); goto out; }
            break;
        }
        const char *nm = de->d_name;
        if (!ends_npy(nm)) continue;
        size_t len = strlen(nm);
        if (!q35_valid_utf8(nm)) {
            q35_fail(err, errlen, "%s/%s: file name is not valid UTF-8 (tensor names must be)", dir, printable(buf, sizeof buf, nm, len, 300));
            goto out;
        }
        if (dlen + 1 + len >= PATH_MAX) {
            /* the file first: the directory alone may fill the message */
            q35_fail(err, errlen, "%s: path too long (%zu bytes, at most %d) in the directory %.200s%s", nm, dlen + 1 + len, PATH_MAX - 1,
                     dir, dlen > 200 ? "..." : "");
            goto out;
        }
        struct stat sb;
        if (fstatat(dirfd(d), nm, &sb, 0) != 0) { q35_fail(err, errlen, "%s/%s: cannot stat: %s", dir, nm, strerror(errno)); goto out; }
        if (!S_ISREG(sb.st_mode)) continue; /* a subdirectory, a FIFO, ... */
        if (len == 4) { q35_fail(err, errlen, "%s/%s: the file name gives an empty tensor name", dir, nm); goto out; }
        if (n == cap) {
            if (cap > INT_MAX / 4) { q35_fail(err, errlen, "%s: too many files", dir); goto out; }
            int nc = cap ? cap * 2 : 64;
            listed *t = realloc(l, (size_t)nc * sizeof *t);
            if (!t) { q35_fail(err, errlen, "%s: out of memory", dir); goto out; }
            l = t, cap = nc;
        }
        l[n].fname = strdup(nm);
        if (!l[n].fname) { q35_fail(err, errlen, "%s: out of memory", dir); goto out; }
        l[n].mtime = sb.st_mtim;
        n++;
    }
    if (n == 0) { q35_fail(err, errlen, "%s: no .npy files in the directory", dir); goto out; }
    qsort(l, (size_t)n, sizeof *l, cmp_listed);
    rc = 0;
out:
    closedir(d);
    if (rc != 0) {
        for (int i = 0; i < n; i++) free(l[i].fname);
        free(l);
        return -1;
    }
    *out = l;
    *nout = n;
    return 0;
}

int q35_npy_dir_open(q35_st *st, const char *dir, char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    struct stat sb;
    if (stat(dir, &sb) != 0) return q35_fail(err, errlen, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) return q35_fail(err, errlen, "%s: not a directory", dir);
    listed *l;
    int n, rc = -1;
    if (list_dir(dir, &l, &n, err, errlen) != 0) return -1;
    st->files = calloc((size_t)n, sizeof *st->files);
    st->entries = calloc((size_t)n, sizeof *st->entries);
    if (!st->files || !st->entries) { q35_fail(err, errlen, "%s: out of memory", dir); goto out; }
    size_t dlen = strlen(dir);
    for (int i = 0; i < n; i++) {
        size_t len = dlen + 1 + strlen(l[i].fname) + 1;
        char *path = malloc(len);
        if (!path) { q35_fail(err, errlen, "%s: out of memory", dir); goto out; }
        snprintf(path, len, "%s/%s", dir, l[i].fname);
        st->files[st->nfiles++].path = path;
        if (open_npy(st, &st->entries[st->n], l[i].fname, err, errlen) != 0) goto out;
        st->n++;
    }
    if (st->n > 1) qsort(st->entries, (size_t)st->n, sizeof *st->entries, cmp_entry);
    rc = 0;
out:
    for (int i = 0; i < n; i++) free(l[i].fname);
    free(l);
    if (rc != 0) q35_st_close(st);
    return rc;
}

int q35_npy_is_dir(const char *path) {
    struct stat sb;
    char p[PATH_MAX];
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) return 0;
    static const char *const ckpt[2] = { "model.safetensors", "model.safetensors.index.json" };
    for (int i = 0; i < 2; i++) {
        if (snprintf(p, sizeof p, "%s/%s", path, ckpt[i]) >= (int)sizeof p) return 0;
        if (stat(p, &sb) == 0) return 0;
    }
    DIR *d = opendir(path);
    if (!d) return 0;
    int found = 0;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL)
        if (ends_npy(de->d_name) && strlen(de->d_name) > 4 && fstatat(dirfd(d), de->d_name, &sb, 0) == 0 && S_ISREG(sb.st_mode))
            found = 1;
    closedir(d);
    return found;
}

/* ---- writer ---- */

int q35_npy_write(const char *path, const q35_tensor *t, char *err, size_t errlen) {
    const char *descr = descr_of(t->dtype);
    if (!descr) return q35_fail(err, errlen, "%s: unknown dtype %d", path, (int)t->dtype);
    if (t->ndim < 0 || t->ndim > Q35_MAX_DIMS) return q35_fail(err, errlen, "%s: bad ndim %d (0 to %d)", path, t->ndim, Q35_MAX_DIMS);
    size_t es = q35_dtype_size(t->dtype), numel = 1, nonzero = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0) return q35_fail(err, errlen, "%s: negative dimension %lld", path, (long long)t->shape[i]);
        if (t->shape[i] && nonzero > SIZE_MAX / es / (uint64_t)t->shape[i]) return q35_fail(err, errlen, "%s: shape overflows", path);
        if (t->shape[i]) nonzero *= (size_t)t->shape[i];
        numel *= (size_t)t->shape[i];
    }
    size_t nbytes = numel * es;
    if (nbytes && !t->data) return q35_fail(err, errlen, "%s: tensor has no data", path);
    /* numpy.save's layout: keys sorted, repr of the shape tuple, spare spaces for the first dim to
     * grow, then spaces and a newline so that the data starts at a multiple of 64 */
    char h[512];
    int len = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < t->ndim; i++)
        len += snprintf(h + len, sizeof h - (size_t)len, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    len += snprintf(h + len, sizeof h - (size_t)len, t->ndim == 1 ? ",), }" : "), }");
    if (t->ndim > 0) {
        int d0 = snprintf(NULL, 0, "%lld", (long long)t->shape[0]);
        for (int i = d0; i < GROWTH_AXIS_MAX_DIGITS; i++) h[len++] = ' ';
    }
    int pad = ALIGN - (MAGIC_LEN + 4 + len + 1) % ALIGN;
    for (int i = 0; i < pad; i++) h[len++] = ' ';
    h[len++] = '\n';
    unsigned char pre[10];
    memcpy(pre, MAGIC, MAGIC_LEN);
    pre[6] = 1, pre[7] = 0, pre[8] = (unsigned char)(len & 0xff), pre[9] = (unsigned char)(len >> 8);

    char *dest = q35_atomic_dest(path, err, errlen); /* written to dest.tmp, renamed over dest (util.h) */
    FILE *fp = dest ? q35_atomic_create(dest, err, errlen) : NULL;
    int rc = -1;
    if (fp) {
        int ok = fwrite(pre, 1, sizeof pre, fp) == sizeof pre && fwrite(h, 1, (size_t)len, fp) == (size_t)len &&
                 (!nbytes || fwrite(t->data, 1, nbytes, fp) == nbytes);
        if (!ok) q35_fail(err, errlen, "%s: write failed: %s", dest, strerror(errno));
        rc = q35_atomic_end(fp, dest, ok, err, errlen);
    }
    free(dest);
    return rc;
}
