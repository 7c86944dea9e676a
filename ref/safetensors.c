/* safetensors.c - mmap reader (single file or sharded) and streaming writer. */
#include "safetensors.h"
#include "util.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HEADER (100u << 20) /* the format's own limit on the JSON header (100 MB) */

/* A \u0000 escape (after an even run of backslashes): cJSON would end the string there. */
static int has_nul_escape(const char *s, size_t n) {
    for (size_t i = 0; i + 6 <= n; i++) {
        if (memcmp(s + i, "\\u0000", 6) != 0) continue;
        size_t k = 0;
        while (k < i && s[i - 1 - k] == '\\') k++;
        if (k % 2 == 0) return 1;
    }
    return 0;
}

static int parse_dtype(const char *s, q35_dtype *dt) {
    static const struct { const char *name; q35_dtype dt; } known[] = {
        { "F32", Q35_F32 }, { "BF16", Q35_BF16 }, { "F16", Q35_F16 }, { "I64", Q35_I64 },
        { "F64", Q35_F64 }, { "I32", Q35_I32 } };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(s, known[i].name) == 0) { *dt = known[i].dt; return 0; }
    return -1;
}

/* A JSON number that is a non-negative integer representable exactly (< 2^53). */
static int json_uint(const cJSON *j, uint64_t *out) {
    if (!cJSON_IsNumber(j)) return -1;
    double d = j->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || d != (double)(uint64_t)d) return -1;
    *out = (uint64_t)d;
    return 0;
}

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const q35_st_entry *)a)->name, ((const q35_st_entry *)b)->name);
}

typedef struct {
    uint64_t begin, end;
    const char *name;
} span;

static int cmp_span(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end < y->end ? -1 : x->end > y->end);
}

static int add_entry(q35_st *st, int *cap) {
    if (st->n < *cap) return 0;
    int nc = *cap ? *cap * 2 : 64;
    q35_st_entry *e = realloc(st->entries, (size_t)nc * sizeof *e);
    if (!e) return -1;
    st->entries = e;
    *cap = nc;
    return 0;
}

/* Maps one file and appends its tensors to st. */
static int open_file(q35_st *st, int *cap, const char *path, char *err, size_t errlen) {
    q35_st_file *files = realloc(st->files, (size_t)(st->nfiles + 1) * sizeof *files);
    if (!files) return q35_fail(err, errlen, "%s: out of memory", path);
    st->files = files;
    q35_st_file *f = &st->files[st->nfiles];
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    if (!f->path) return q35_fail(err, errlen, "%s: out of memory", path);
    st->nfiles++;
    if (q35_st_map_file(f, path, 8, "truncated", "shorter than the 8-byte header length", err, errlen) != 0) return -1;
    const unsigned char *p = f->map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | p[i];
    if (hlen > f->size - 8)
        return q35_fail(err, errlen, "%s: header length %llu is larger than the file (%zu bytes): truncated or not safetensors",
                    path, (unsigned long long)hlen, f->size);
    if (hlen > MAX_HEADER) return q35_fail(err, errlen, "%s: header length %llu exceeds 100 MB", path, (unsigned long long)hlen);
    const char *hdr = (const char *)p + 8;
    uint64_t data_size = f->size - 8 - hlen;
    const unsigned char *data = p + 8 + hlen;
    if (has_nul_escape(hdr, (size_t)hlen))
        return q35_fail(err, errlen, "%s: header holds a \\u0000 escape (a NUL inside a name would cut it short)", path);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, (size_t)hlen, &end, 0);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return q35_fail(err, errlen, "%s: header is not a JSON object", path);
    }
    /* only padding may follow the object (writers pad with spaces to align the data) */
    for (; end < hdr + hlen; end++)
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
            cJSON_Delete(root);
            return q35_fail(err, errlen, "%s: header has bytes after its JSON object", path);
        }
    int rc = -1, nspan = 0;
    span *spans = calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof *spans);
    if (!spans) { q35_fail(err, errlen, "%s: out of memory", path); goto out; }
    for (const cJSON *t = root->child; t; t = t->next) {
        const char *name = t->string;
        if (!name) { q35_fail(err, errlen, "%s: header entry without a name", path); goto out; }
        if (strcmp(name, "__metadata__") == 0) {
            if (!cJSON_IsObject(t)) { q35_fail(err, errlen, "%s: __metadata__ is not an object", path); goto out; }
            continue;
        }
        if (!q35_valid_utf8(name)) {
            q35_fail(err, errlen, "%s: a tensor name is not valid UTF-8", path);
            goto out;
        }
        const cJSON *jd = cJSON_GetObjectItemCaseSensitive(t, "dtype");
        const cJSON *js = cJSON_GetObjectItemCaseSensitive(t, "shape");
        const cJSON *jo = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
        if (!cJSON_IsObject(t) || !cJSON_IsString(jd) || !cJSON_IsArray(js) || !cJSON_IsArray(jo)) {
            q35_fail(err, errlen, "%s: tensor %s: entry needs \"dtype\" (string), \"shape\" and \"data_offsets\" (arrays)", path, name);
            goto out;
        }
        q35_dtype dt;
        if (parse_dtype(jd->valuestring, &dt) != 0) {
            q35_fail(err, errlen, "%s: tensor %s has dtype %.32s, which q35 does not read (F32, BF16, F16, I64, F64, I32)", path, name,
                 jd->valuestring);
            goto out;
        }
        int ndim = cJSON_GetArraySize(js);
        if (ndim > Q35_MAX_DIMS) { q35_fail(err, errlen, "%s: tensor %s has %d dimensions (at most %d)", path, name, ndim, Q35_MAX_DIMS); goto out; }
        if (add_entry(st, cap) != 0) { q35_fail(err, errlen, "%s: out of memory", path); goto out; }
        q35_st_entry *e = &st->entries[st->n];
        memset(e, 0, sizeof *e);
        e->t.dtype = dt;
        e->t.ndim = ndim;
        /* the product of the non-zero dims must fit too: code that multiplies a subset of the
         * dims (a row's size) must not overflow on a [0, 2^40, 2^40] tensor */
        uint64_t numel = 1, nonzero = 1;
        int k = 0;
        for (const cJSON *d = js->child; d; d = d->next, k++) {
            uint64_t v;
            if (json_uint(d, &v) != 0) { q35_fail(err, errlen, "%s: tensor %s: shape entries must be non-negative integers", path, name); goto out; }
            if (v && nonzero > UINT64_MAX / 8 / v) { q35_fail(err, errlen, "%s: tensor %s: shape overflows", path, name); goto out; }
            if (v) nonzero *= v;
            numel *= v;
            e->t.shape[k] = (int64_t)v;
        }
        uint64_t b, en;
        if (cJSON_GetArraySize(jo) != 2 || json_uint(jo->child, &b) != 0 || json_uint(jo->child->next, &en) != 0) {
            q35_fail(err, errlen, "%s: tensor %s: data_offsets must be two non-negative integers", path, name);
            goto out;
        }
        if (b > en || en > data_size) {
            q35_fail(err, errlen, "%s: tensor %s: data_offsets [%llu, %llu] outside the data section (%llu bytes)", path, name,
                 (unsigned long long)b, (unsigned long long)en, (unsigned long long)data_size);
            goto out;
        }
        uint64_t want = numel * q35_dtype_size(dt);
        if (en - b != want) {
            q35_fail(err, errlen, "%s: tensor %s: %llu bytes of data, but its shape and dtype %s need %llu", path, name,
                 (unsigned long long)(en - b), q35_dtype_name(dt), (unsigned long long)want);
            goto out;
        }
        /* every reader takes elements through typed pointers: refuse data that is not aligned to its
         * element size (files written by safetensors pad the header so that it always is) */
        if (want && (uintptr_t)(data + b) % q35_dtype_size(dt) != 0) {
            q35_fail(err, errlen, "%s: tensor %s: data at offset %llu is not aligned to its %zu-byte elements", path, name,
                     (unsigned long long)b, q35_dtype_size(dt));
            goto out;
        }
        spans[nspan++] = (span){ b, en, name }; /* fillers too: they cover bytes (names live as long as root) */
        if (strncmp(name, Q35_ST_PAD, strlen(Q35_ST_PAD)) == 0) continue; /* a writer's alignment filler */
        e->name = strdup(name);
        if (!e->name) { q35_fail(err, errlen, "%s: out of memory", path); goto out; }
        e->t.data = data + b;
        e->nbytes = (size_t)want;
        e->file = st->nfiles - 1;
        st->n++;
    }
    /* The tensors must cover the data section exactly, as the format's own library requires: sorted
     * by offset, the first begins at 0, each where the one before ended, the last at the section's
     * end. A gap, an overlap or a stray byte (one extra byte in front shifts every tensor by one)
     * is refused. Zero-size tensors cover nothing and may sit anywhere inside the section. */
    if (nspan > 1) qsort(spans, (size_t)nspan, sizeof *spans, cmp_span);
    uint64_t pos = 0;  /* the end of the bytes covered so far */
    int last = -1;     /* the non-empty span that ends there */
    for (int i = 0; i < nspan; i++) {
        if (spans[i].end == spans[i].begin) continue;
        if (spans[i].begin < pos) {
            q35_fail(err, errlen, "%s: tensors %s and %s overlap in the data section (bytes [%llu, %llu) and [%llu, %llu))", path,
                     spans[last].name, spans[i].name, (unsigned long long)spans[last].begin, (unsigned long long)spans[last].end,
                     (unsigned long long)spans[i].begin, (unsigned long long)spans[i].end);
            goto out;
        }
        if (spans[i].begin > pos) {
            if (last < 0)
                q35_fail(err, errlen, "%s: tensor %s begins at byte %llu of the data section: bytes [0, %llu) belong to no tensor "
                         "(the tensors must cover the data section exactly; extra bytes in front would shift every tensor)",
                         path, spans[i].name, (unsigned long long)spans[i].begin, (unsigned long long)spans[i].begin);
            else
                q35_fail(err, errlen, "%s: a gap in the data section: bytes [%llu, %llu) between tensors %s and %s belong to no "
                         "tensor (the tensors must cover the data section exactly)", path, (unsigned long long)pos,
                         (unsigned long long)spans[i].begin, spans[last].name, spans[i].name);
            goto out;
        }
        pos = spans[i].end;
        last = i;
    }
    if (pos != data_size) {
        if (last < 0)
            q35_fail(err, errlen, "%s: the data section holds %llu bytes but no tensor covers any of them (the tensors must cover "
                     "the data section exactly)", path, (unsigned long long)data_size);
        else
            q35_fail(err, errlen, "%s: the data section holds %llu bytes but its tensors cover %llu: the last, tensor %s, ends at "
                     "byte %llu and the %llu bytes after it belong to no tensor (trailing bytes, or bytes inserted in front "
                     "that would shift every tensor)", path, (unsigned long long)data_size, (unsigned long long)pos,
                     spans[last].name, (unsigned long long)pos, (unsigned long long)(data_size - pos));
        goto out;
    }
    rc = 0;
out:
    free(spans);
    cJSON_Delete(root);
    return rc;
}

static int file_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Sorts the entries by name and rejects a name held twice (in one file or across shards). */
static int sort_and_check_duplicates(q35_st *st, char *err, size_t errlen) {
    if (st->n > 1) qsort(st->entries, (size_t)st->n, sizeof *st->entries, cmp_entry); /* qsort(NULL, 0) is UB */
    for (int i = 1; i < st->n; i++)
        if (strcmp(st->entries[i - 1].name, st->entries[i].name) == 0) {
            const char *f1 = st->files[st->entries[i - 1].file].path, *f2 = st->files[st->entries[i].file].path;
            if (strcmp(f1, f2) == 0) return q35_fail(err, errlen, "%s: duplicate tensor name %s", f1, st->entries[i].name);
            return q35_fail(err, errlen, "duplicate tensor name %s in %s and %s", st->entries[i].name, f1, f2);
        }
    return 0;
}

/* Opens the shards named by an index.json's weight_map, each once, and checks that every indexed
 * name is in the shard it names. */
static int open_index(q35_st *st, int *cap, const char *dir, const char *index, char *err, size_t errlen) {
    size_t n;
    char *text = q35_read_file(index, 64u << 20, &n);
    if (!text) return q35_fail(err, errlen, "%s: cannot read: %s", index, strerror(errno));
    cJSON *root = q35_json_parse(text, n);
    free(text);
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    int rc = -1;
    char path[4096];
    if (!cJSON_IsObject(wm)) { q35_fail(err, errlen, "%s: not JSON or no \"weight_map\" object", index); goto out; }
    for (const cJSON *e = wm->child; e; e = e->next) {
        if (!cJSON_IsString(e)) { q35_fail(err, errlen, "%s: weight_map[%s] is not a file name", index, e->string); goto out; }
        const char *shard = e->valuestring;
        if (!*shard || strchr(shard, '/') || strcmp(shard, "..") == 0 || strcmp(shard, ".") == 0) {
            q35_fail(err, errlen, "%s: shard name '%.200s' is not a plain file name", index, shard);
            goto out;
        }
        int seen = 0;
        snprintf(path, sizeof path, "%s/%s", dir, shard);
        for (int i = 0; i < st->nfiles && !seen; i++) seen = strcmp(st->files[i].path, path) == 0;
        if (!seen && open_file(st, cap, path, err, errlen) != 0) goto out;
    }
    /* every indexed tensor must be in its shard */
    if (sort_and_check_duplicates(st, err, errlen) != 0) goto out;
    for (const cJSON *e = wm->child; e; e = e->next) {
        const q35_st_entry *t = q35_st_find(st, e->string);
        snprintf(path, sizeof path, "%s/%s", dir, e->valuestring);
        if (!t || strcmp(st->files[t->file].path, path) != 0) {
            q35_fail(err, errlen, "%s: tensor %s is indexed in %s but that file does not hold it", index, e->string, e->valuestring);
            goto out;
        }
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

int q35_st_map_file(q35_st_file *f, const char *path, size_t min_size, const char *kind, const char *short_why, char *err,
                    size_t errlen) {
    /* O_NONBLOCK: a FIFO given as a file must fail below, not hang in open() */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return q35_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return q35_fail(err, errlen, "%s: not a regular file", path);
    }
    f->size = (size_t)sb.st_size;
    if (f->size < min_size) {
        close(fd);
        return q35_fail(err, errlen, "%s: %s: %zu bytes, %s", path, kind, f->size, short_why);
    }
    f->map = f->size ? mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        return q35_fail(err, errlen, "%s: mmap failed: %s", path, strerror(errno));
    }
    return 0;
}

int q35_st_open(q35_st *st, const char *path, char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    int cap = 0, rc;
    struct stat sb;
    if (stat(path, &sb) != 0) return q35_fail(err, errlen, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        char p[4096];
        snprintf(p, sizeof p, "%s/model.safetensors.index.json", path);
        if (file_exists(p)) rc = open_index(st, &cap, path, p, err, errlen);
        else {
            snprintf(p, sizeof p, "%s/model.safetensors", path);
            if (!file_exists(p)) return q35_fail(err, errlen, "%s: no model.safetensors or model.safetensors.index.json", path);
            rc = open_file(st, &cap, p, err, errlen);
        }
    } else {
        rc = open_file(st, &cap, path, err, errlen);
    }
    if (rc == 0) rc = sort_and_check_duplicates(st, err, errlen);
    if (rc != 0) q35_st_close(st);
    return rc;
}

const q35_st_entry *q35_st_find(const q35_st *st, const char *name) {
    int lo = 0, hi = st->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(st->entries[mid].name, name);
        if (c == 0) return &st->entries[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

void q35_st_close(q35_st *st) {
    for (int i = 0; i < st->n; i++) free(st->entries[i].name);
    free(st->entries);
    for (int i = 0; i < st->nfiles; i++) {
        if (st->files[i].map) munmap(st->files[i].map, st->files[i].size);
        free(st->files[i].path);
    }
    free(st->files);
    memset(st, 0, sizeof *st);
}

/* ---- writer ---- */

int q35_stw_init(q35_stw *w, const char *path, char *err, size_t errlen) {
    memset(w, 0, sizeof *w);
    w->path = strdup(path);
    if (!w->path) return q35_fail(err, errlen, "%s: out of memory", path);
    return 0;
}

int q35_stw_meta(q35_stw *w, const char *key, const char *value, char *err, size_t errlen) {
    cJSON *m = w->metadata_json ? cJSON_Parse(w->metadata_json) : cJSON_CreateObject();
    if (!m || !cJSON_AddStringToObject(m, key, value)) {
        cJSON_Delete(m);
        return q35_fail(err, errlen, "%s: out of memory", w->path);
    }
    free(w->metadata_json);
    w->metadata_json = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    return w->metadata_json ? 0 : q35_fail(err, errlen, "%s: out of memory", w->path);
}

int q35_stw_add(q35_stw *w, const char *name, q35_dtype dtype, int ndim, const int64_t *shape, char *err,
                size_t errlen) {
    if (w->fp) return q35_fail(err, errlen, "%s: tensor %s declared after the header was written", w->path, name);
    if (ndim < 0 || ndim > Q35_MAX_DIMS) return q35_fail(err, errlen, "%s: tensor %s: bad ndim %d", w->path, name, ndim);
    if (!q35_valid_utf8(name)) return q35_fail(err, errlen, "%s: tensor name is not valid UTF-8", w->path);
    /* a reader takes this key for the metadata and would drop the tensor */
    if (strcmp(name, "__metadata__") == 0) return q35_fail(err, errlen, "%s: __metadata__ is not a tensor name", w->path);
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->tensors[i].name, name) == 0) return q35_fail(err, errlen, "%s: duplicate tensor name %s", w->path, name);
    if (w->n == w->cap) {
        int cap = w->cap ? w->cap * 2 : 64;
        q35_stw_tensor *t = realloc(w->tensors, (size_t)cap * sizeof *t);
        if (!t) return q35_fail(err, errlen, "%s: out of memory", w->path);
        w->tensors = t;
        w->cap = cap;
    }
    q35_stw_tensor *t = &w->tensors[w->n];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (!t->name) return q35_fail(err, errlen, "%s: out of memory", w->path);
    t->dtype = dtype;
    t->ndim = ndim;
    size_t numel = 1, nonzero = 1, es = q35_dtype_size(dtype);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) { free(t->name); return q35_fail(err, errlen, "%s: tensor %s: negative dimension", w->path, name); }
        if (shape[i] && nonzero > SIZE_MAX / es / (size_t)shape[i]) {
            free(t->name);
            return q35_fail(err, errlen, "%s: tensor %s: shape overflows", w->path, name);
        }
        if (shape[i]) nonzero *= (size_t)shape[i];
        t->shape[i] = shape[i];
        numel *= (size_t)shape[i];
    }
    t->nbytes = numel * es;
    if (t->nbytes > SIZE_MAX - w->expected) { free(t->name); return q35_fail(err, errlen, "%s: data size overflows", w->path); }
    w->expected += t->nbytes;
    w->n++;
    return 0;
}

int q35_stw_begin(q35_stw *w, char *err, size_t errlen) {
    if (w->fp) return q35_fail(err, errlen, "%s: header already written", w->path);
    /* the header is built by hand so that keys keep the declared order */
    size_t cap = 256 + (w->metadata_json ? strlen(w->metadata_json) : 0), len = 0;
    for (int i = 0; i < w->n; i++) cap += strlen(w->tensors[i].name) * 6 + 160 + 24 * (size_t)(w->tensors[i].ndim + 2);
    char *h = malloc(cap + 8);
    if (!h) return q35_fail(err, errlen, "%s: out of memory", w->path);
    len += (size_t)snprintf(h + len, cap - len, "{");
    if (w->metadata_json) len += (size_t)snprintf(h + len, cap - len, "\"__metadata__\":%s", w->metadata_json);
    size_t off = 0;
    for (int i = 0; i < w->n; i++) {
        const q35_stw_tensor *t = &w->tensors[i];
        size_t es = q35_dtype_size(t->dtype), start = (off + es - 1) / es * es;
        if (start > off) /* an alignment gap: a filler tensor covers it, since the format allows no holes */
            len += (size_t)snprintf(h + len, cap - len, "%s\"" Q35_ST_PAD "%d\":{\"dtype\":\"F16\",\"shape\":[%zu],"
                                    "\"data_offsets\":[%zu,%zu]}", len > 1 ? "," : "", i, (start - off) / 2, off, start);
        off = start;
        w->tensors[i].offset = off;
        cJSON *js = cJSON_CreateString(t->name); /* JSON-escape the name */
        char *qn = js ? cJSON_PrintUnformatted(js) : NULL;
        cJSON_Delete(js);
        if (!qn) { free(h); return q35_fail(err, errlen, "%s: out of memory", w->path); }
        len += (size_t)snprintf(h + len, cap - len, "%s%s:{\"dtype\":\"%s\",\"shape\":[", len > 1 ? "," : "", qn,
                                q35_dtype_name(t->dtype));
        free(qn);
        for (int d = 0; d < t->ndim; d++)
            len += (size_t)snprintf(h + len, cap - len, d ? ",%lld" : "%lld", (long long)t->shape[d]);
        len += (size_t)snprintf(h + len, cap - len, "],\"data_offsets\":[%zu,%zu]}", off, off + t->nbytes);
        off += t->nbytes;
    }
    len += (size_t)snprintf(h + len, cap - len, "}");
    while ((8 + len) % 8) h[len++] = ' '; /* data section starts 8-aligned */
    /* an atomic write (util.h): from here w->path is the file replaced (a symlink's target) */
    char *dest = q35_atomic_dest(w->path, err, errlen);
    FILE *fp = dest ? q35_atomic_create(dest, err, errlen) : NULL;
    if (!fp) {
        free(h);
        free(dest);
        return -1;
    }
    free(w->path);
    w->path = dest;
    unsigned char lenb[8];
    for (int i = 0; i < 8; i++) lenb[i] = (unsigned char)((uint64_t)len >> (8 * i));
    int ok = fwrite(lenb, 1, 8, fp) == 8 && fwrite(h, 1, len, fp) == len;
    free(h);
    w->fp = fp;
    if (!ok) return q35_fail(err, errlen, "%s: write failed: %s", w->path, strerror(errno));
    return 0;
}

/* Zero bytes up to data-section offset to (the padding before an aligned tensor). */
static int stw_pad(q35_stw *w, size_t to) {
    static const char zeros[8];
    while (w->file_off < to) {
        size_t k = to - w->file_off > sizeof zeros ? sizeof zeros : to - w->file_off;
        if (fwrite(zeros, 1, k, (FILE *)w->fp) != k) return -1;
        w->file_off += k;
    }
    return 0;
}

int q35_stw_write(q35_stw *w, const void *data, size_t nbytes, char *err, size_t errlen) {
    if (!w->fp) return q35_fail(err, errlen, "%s: data written before the header", w->path);
    if (nbytes > w->expected - w->written)
        return q35_fail(err, errlen, "%s: more data than the declared tensors hold (%zu bytes)", w->path, w->expected);
    const char *p = data;
    while (nbytes) { /* split at tensor boundaries, padding each tensor to its aligned start */
        while (w->cur < w->n && w->cur_done == w->tensors[w->cur].nbytes) w->cur++, w->cur_done = 0;
        if (w->cur_done == 0 && stw_pad(w, w->tensors[w->cur].offset) != 0)
            return q35_fail(err, errlen, "%s: write failed: %s", w->path, strerror(errno));
        size_t k = w->tensors[w->cur].nbytes - w->cur_done;
        if (k > nbytes) k = nbytes;
        if (fwrite(p, 1, k, (FILE *)w->fp) != k) return q35_fail(err, errlen, "%s: write failed: %s", w->path, strerror(errno));
        p += k, nbytes -= k, w->cur_done += k, w->file_off += k, w->written += k;
    }
    return 0;
}

static void stw_free(q35_stw *w) {
    for (int i = 0; i < w->n; i++) free(w->tensors[i].name);
    free(w->tensors);
    free(w->metadata_json);
    free(w->path);
    memset(w, 0, sizeof *w);
}

int q35_stw_finish(q35_stw *w, char *err, size_t errlen) {
    int rc = 0;
    if (!w->path) return q35_fail(err, errlen, "safetensors writer was not initialised");
    if (!w->fp) rc = q35_stw_begin(w, err, errlen);
    if (rc == 0 && w->written != w->expected)
        rc = q35_fail(err, errlen, "%s: %zu bytes of data written, the declared tensors need %zu", w->path, w->written, w->expected);
    /* trailing empty tensors may sit past the last byte written: the data section must hold them */
    for (int i = 0; rc == 0 && w->fp && i < w->n; i++)
        if (stw_pad(w, w->tensors[i].offset + w->tensors[i].nbytes) != 0)
            rc = q35_fail(err, errlen, "%s: write failed: %s", w->path, strerror(errno));
    /* renamed into place when all went well, else the temporary file removed */
    if (w->fp && q35_atomic_end((FILE *)w->fp, w->path, rc == 0, err, errlen) != 0) rc = -1;
    w->fp = NULL;
    stw_free(w);
    return rc;
}

void q35_stw_abort(q35_stw *w) {
    if (w->fp) q35_atomic_end((FILE *)w->fp, w->path, 0, NULL, 0); /* only a temporary file this writer made */
    stw_free(w);
}

int q35_st_save(const char *path, const char *const *names, const q35_tensor *tensors, int n, char *err,
                size_t errlen) {
    q35_stw w;
    if (q35_stw_init(&w, path, err, errlen) != 0) return -1;
    for (int i = 0; i < n; i++)
        if (q35_stw_add(&w, names[i], tensors[i].dtype, tensors[i].ndim, tensors[i].shape, err, errlen) != 0) {
            q35_stw_abort(&w);
            return -1;
        }
    if (q35_stw_begin(&w, err, errlen) != 0) {
        q35_stw_abort(&w);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (q35_stw_write(&w, tensors[i].data, w.tensors[i].nbytes, err, errlen) != 0) {
            q35_stw_abort(&w);
            return -1;
        }
    return q35_stw_finish(&w, err, errlen);
}
