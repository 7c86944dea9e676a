/* test_npy.c - directories of .npy files: fixtures written by numpy (tests/data/npy, made by its
 * make_fixtures.py) read back exactly for every dtype and shape, the writer reproducing numpy.save
 * byte for byte, the file order (modification time, then name), and every kind of broken or
 * hostile file: each must give an error naming the file and the problem, never a crash or a read
 * outside the file (the suite also runs under AddressSanitizer).
 *
 * Q35_NPY_EXPORT=DIR makes writer_matches_numpy also write every fixture it re-wrote into DIR, for
 *     python3 tests/data/npy/make_fixtures.py --check DIR
 * (numpy loads each and compares it with numpy.save's bytes; never needed by make check). */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npy.h"
#include "safetensors.h"
#include "tensor.h"
#include "testutil.h"
#include "util.h"

#define FIX "tests/data/npy"
#define NFIX 17 /* the fixtures make_fixtures.py writes (notes.txt and sub/ are not tensors) */

static char err[2048];
static char dir[4096];
static int ncase;

static void setup(void) {
    snprintf(dir, sizeof dir, "%s", tu_mkdtemp());
    ncase = 0;
}
static void teardown(void) { tu_rm_rf(dir); }

/* ---- helpers ---- */

static void open_ok(q35_st *st, const char *d) {
    ck_assert_msg(q35_npy_dir_open(st, d, err, sizeof err) == 0, "%s", err);
}

static const q35_st_entry *get(const q35_st *st, const char *name, q35_dtype dt, int ndim, const int64_t *shape) {
    const q35_st_entry *e = q35_st_find(st, name);
    ck_assert_msg(e != NULL, "no entry %s", name);
    ck_assert_int_eq(e->t.dtype, dt);
    ck_assert_int_eq(e->t.ndim, ndim);
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        ck_assert_int_eq(e->t.shape[d], shape[d]);
        numel *= shape[d];
    }
    ck_assert_uint_eq(e->nbytes, (size_t)numel * q35_dtype_size(dt));
    return e;
}

/* The bytes of a .npy file: magic, version major.minor, the header length (2 bytes for major 1,
 * else 4), the header (when pad, followed by spaces and a newline so that the data starts at a
 * multiple of 64, as numpy writes), then data_bytes bytes of 0x11. */
static unsigned char *npy_bytes(int major, int minor, const char *header, int pad, size_t data_bytes, size_t *n) {
    size_t pre = major == 1 ? 10 : 12, hl = strlen(header), padded = hl;
    if (pad) padded = ((pre + hl + 1 + 63) / 64) * 64 - pre;
    *n = pre + padded + data_bytes;
    unsigned char *b = malloc(*n + 1);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major, b[7] = (unsigned char)minor;
    for (size_t i = 0; i < pre - 8; i++) b[8 + i] = (unsigned char)(padded >> (8 * i));
    memcpy(b + pre, header, hl);
    if (pad) {
        memset(b + pre + hl, ' ', padded - hl);
        b[pre + padded - 1] = '\n';
    }
    memset(b + pre + padded, 0x11, data_bytes);
    return b;
}

/* A fresh directory dir/cN holding only fname with the n bytes b; returns its path. */
static const char *craft_raw(const char *fname, const void *b, size_t n) {
    static char d[4200];
    char path[4500];
    snprintf(d, sizeof d, "%s/c%d", dir, ncase++);
    ck_assert_int_eq(mkdir(d, 0755), 0);
    snprintf(path, sizeof path, "%s/%s", d, fname);
    tu_write_file(path, b, n);
    return d;
}

static const char *craft(const char *fname, int major, int minor, const char *header, int pad, size_t data_bytes) {
    size_t n;
    unsigned char *b = npy_bytes(major, minor, header, pad, data_bytes, &n);
    const char *d = craft_raw(fname, b, n);
    free(b);
    return d;
}

/* Opening d must fail with a message naming fname (when not NULL) and holding each fragment. */
static void expect_error(const char *d, const char *fname, const char *frag1, const char *frag2) {
    q35_st st;
    int rc = q35_npy_dir_open(&st, d, err, sizeof err);
    ck_assert_msg(rc == -1, "%s opened, expected an error about '%s'", d, frag1);
    ck_assert_int_eq(st.n, 0);
    ck_assert_int_eq(st.nfiles, 0);
    ck_assert_ptr_null(st.entries);
    if (fname) ck_assert_msg(strstr(err, fname), "message does not name %s: %s", fname, err);
    ck_assert_msg(strstr(err, frag1), "message lacks '%s': %s", frag1, err);
    if (frag2) ck_assert_msg(strstr(err, frag2), "message lacks '%s': %s", frag2, err);
    q35_st_close(&st); /* safe on a failed open */
}

/* A header that numpy would write for descr and shape text. */
static const char *hdr(const char *descr, const char *fortran, const char *shape) {
    static char h[4096];
    snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, fortran, shape);
    return h;
}

/* ---- numpy's fixtures ---- */

START_TEST(fixtures_every_dtype) {
    q35_st st;
    open_ok(&st, FIX);
    ck_assert_int_eq(st.n, NFIX);
    ck_assert_int_eq(st.nfiles, NFIX);

    const q35_st_entry *e = get(&st, "f32", Q35_F32, 2, (int64_t[]){ 2, 3 });
    for (int i = 0; i < 6; i++) {
        float want = (float)i * 0.1f - 0.3f; /* numpy: float32 ops, each rounded (no FMA here either) */
        ck_assert_mem_eq((const float *)e->t.data + i, &want, 4);
    }
    e = get(&st, "f16", Q35_F16, 1, (int64_t[]){ 7 });
    for (int i = 0; i < 7; i++) {
        ck_assert(q35_get_f32(&e->t, i) == (float)(i - 3) * 0.125f);
        ck_assert_uint_eq(((const uint16_t *)e->t.data)[i], q35_f32_to_f16((float)(i - 3) * 0.125f));
    }
    e = get(&st, "bf16", Q35_BF16, 2, (int64_t[]){ 2, 4 });
    for (int i = 0; i < 8; i++) {
        ck_assert(q35_get_f32(&e->t, i) == (float)(i - 4) * 0.375f);
        ck_assert_uint_eq(((const uint16_t *)e->t.data)[i], q35_f32_to_bf16((float)(i - 4) * 0.375f));
    }
    e = get(&st, "f64", Q35_F64, 1, (int64_t[]){ 3 });
    for (int i = 0; i < 3; i++) {
        double want = (double)i * 0.1 - 2.5;
        ck_assert_mem_eq((const double *)e->t.data + i, &want, 8);
        ck_assert(q35_get_f64(&e->t, i) == want);
    }
    e = get(&st, "i64", Q35_I64, 2, (int64_t[]){ 2, 2 });
    for (int i = 0; i < 4; i++) ck_assert_int_eq(((const int64_t *)e->t.data)[i], (int64_t)(i - 2) * 3000000019ll);
    e = get(&st, "i32", Q35_I32, 1, (int64_t[]){ 5 });
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(((const int32_t *)e->t.data)[i], (int32_t)((i - 2) * 1000000007ll));
        ck_assert(q35_get_f64(&e->t, i) == (double)((i - 2) * 1000000007ll));
    }
    q35_st_close(&st);
    ck_assert_int_eq(st.n, 0);
}
END_TEST

START_TEST(fixtures_shapes) {
    q35_st st;
    open_ok(&st, FIX);
    const q35_st_entry *e = get(&st, "scalar", Q35_F32, 0, NULL);
    ck_assert_uint_eq(e->nbytes, 4);
    ck_assert(q35_get_f32(&e->t, 0) == 2.5f);
    get(&st, "empty", Q35_F32, 1, (int64_t[]){ 0 });
    get(&st, "empty3", Q35_F64, 3, (int64_t[]){ 2, 0, 3 });
    e = get(&st, "dims8", Q35_F32, 8, (int64_t[]){ 1, 1, 1, 1, 1, 1, 2, 3 });
    for (int i = 0; i < 6; i++) ck_assert(q35_get_f32(&e->t, i) == (float)i);
    e = get(&st, "f32_4d", Q35_F32, 4, (int64_t[]){ 2, 3, 4, 5 });
    for (int i = 0; i < 120; i++) ck_assert(q35_get_f32(&e->t, i) == (float)i * 0.5f);
    /* data points into the file's map, 64-aligned as numpy writes it */
    const q35_st_file *f = &st.files[e->file];
    ck_assert_msg(strstr(f->path, "/f32_4d.npy") != NULL, "%s", f->path);
    ck_assert((const char *)e->t.data >= (const char *)f->map);
    ck_assert((const char *)e->t.data + e->nbytes == (const char *)f->map + f->size);
    ck_assert_uint_eq(((const char *)e->t.data - (const char *)f->map) % 64, 0);
    q35_st_close(&st);
}
END_TEST

START_TEST(fixtures_header_versions) {
    q35_st st;
    open_ok(&st, FIX);
    const q35_st_entry *e = get(&st, "v2", Q35_I32, 1, (int64_t[]){ 4 });
    ck_assert_uint_eq(((const unsigned char *)st.files[e->file].map)[6], 2); /* really version 2.0 */
    for (int i = 0; i < 4; i++) ck_assert_int_eq(((const int32_t *)e->t.data)[i], 10 + i);
    e = get(&st, "v3", Q35_F16, 1, (int64_t[]){ 2 });
    ck_assert_uint_eq(((const unsigned char *)st.files[e->file].map)[6], 3);
    ck_assert(q35_get_f32(&e->t, 0) == 1.5f && q35_get_f32(&e->t, 1) == -2.0f);
    q35_st_close(&st);
}
END_TEST

/* Names verbatim ('#', '-', dots), other files and subdirectories ignored, entries sorted for
 * q35_st_find, each entry's file its own. */
START_TEST(fixtures_names_and_ignored_files) {
    q35_st st;
    open_ok(&st, FIX);
    static const struct { const char *name; int n; float v; } named[] = {
        { "Kcur-3", 2, 3.0f }, { "Kcur-3#1", 2, 31.0f }, { "attn_norm-0", 1, 0.5f }, { "model.layers.0.mlp", 3, 7.0f } };
    for (int k = 0; k < 4; k++) {
        const q35_st_entry *e = get(&st, named[k].name, Q35_F32, 1, (int64_t[]){ named[k].n });
        for (int i = 0; i < named[k].n; i++) ck_assert(q35_get_f32(&e->t, i) == named[k].v);
    }
    ck_assert_ptr_null(q35_st_find(&st, "Kcur"));
    ck_assert_ptr_null(q35_st_find(&st, "notes"));
    ck_assert_ptr_null(q35_st_find(&st, "notes.txt"));
    ck_assert_ptr_null(q35_st_find(&st, "inner"));
    ck_assert_ptr_null(q35_st_find(&st, "sub/inner"));
    ck_assert_ptr_null(q35_st_find(&st, "make_fixtures"));
    ck_assert_ptr_null(q35_st_find(&st, "f32.npy"));
    for (int i = 1; i < st.n; i++) ck_assert_int_lt(strcmp(st.entries[i - 1].name, st.entries[i].name), 0);
    int used[NFIX] = { 0 };
    for (int i = 0; i < st.n; i++) {
        const q35_st_entry *e = &st.entries[i];
        ck_assert(e->file >= 0 && e->file < st.nfiles);
        used[e->file]++;
        char want[512];
        snprintf(want, sizeof want, "%s/%s.npy", FIX, e->name);
        ck_assert_str_eq(st.files[e->file].path, want);
        ck_assert_ptr_eq(q35_st_find(&st, e->name), e);
    }
    for (int i = 0; i < NFIX; i++) ck_assert_int_eq(used[i], 1);
    q35_st_close(&st);
}
END_TEST

/* q35_npy_write lays every fixture numpy wrote out as numpy.save did, byte for byte: numpy reads
 * what q35 writes (make_fixtures.py --check confirms it with numpy itself). */
START_TEST(writer_matches_numpy) {
    q35_st st;
    open_ok(&st, FIX);
    const char *exp = getenv("Q35_NPY_EXPORT");
    int same = 0;
    for (int i = 0; i < st.n; i++) {
        const q35_st_entry *e = &st.entries[i];
        const q35_st_file *f = &st.files[e->file];
        char path[4500];
        snprintf(path, sizeof path, "%s/%s.npy", dir, e->name);
        ck_assert_msg(q35_npy_write(path, &e->t, err, sizeof err) == 0, "%s", err);
        size_t n;
        char *b = q35_read_file(path, 1u << 20, &n);
        ck_assert_ptr_nonnull(b);
        const unsigned char *orig = f->map;
        if (orig[6] == 1) { /* version 1.0, what numpy.save writes (v2 and v3 fixtures were forced) */
            ck_assert_msg(n == f->size && memcmp(b, orig, n) == 0, "%s: q35_npy_write differs from numpy.save's file", e->name);
            same++;
        } else {
            ck_assert_uint_eq(n - e->nbytes, 128); /* v1 header here; the data as numpy's */
            ck_assert_mem_eq(b + 128, e->t.data, e->nbytes);
        }
        free(b);
        if (exp && *exp) {
            snprintf(path, sizeof path, "%s/%s.npy", exp, e->name);
            ck_assert_msg(q35_npy_write(path, &e->t, err, sizeof err) == 0, "%s", err);
        }
    }
    ck_assert_int_eq(same, NFIX - 2);
    q35_st_close(&st);
}
END_TEST

/* ---- writing ---- */

START_TEST(round_trip_all_dtypes) {
    uint32_t fb[6] = { 0x3fc00000u, 0xc0000000u, 0x7fc00001u /* a NaN payload */, 0x80000000u, 0x7f800000u, 1u };
    uint16_t b[4] = { 0x3f80, 0xc020, 0x0000, 0x7f81 }, h[3] = { 0x3c00, 0xc000, 0x0001 };
    int64_t i64[2] = { INT64_MIN, INT64_MAX };
    double d64[3] = { 0.1, -1e300, DBL_MIN / 4 };
    int32_t i32[3] = { INT32_MIN, -1, INT32_MAX };
    float sc = -7.25f;
    q35_tensor ts[8] = {
        { .dtype = Q35_F32, .ndim = 2, .shape = { 2, 3 }, .data = fb },
        { .dtype = Q35_BF16, .ndim = 1, .shape = { 4 }, .data = b },
        { .dtype = Q35_F16, .ndim = 3, .shape = { 1, 3, 1 }, .data = h },
        { .dtype = Q35_I64, .ndim = 2, .shape = { 1, 2 }, .data = i64 },
        { .dtype = Q35_F64, .ndim = 1, .shape = { 3 }, .data = d64 },
        { .dtype = Q35_I32, .ndim = 1, .shape = { 3 }, .data = i32 },
        { .dtype = Q35_F32, .ndim = 0, .data = &sc },
        { .dtype = Q35_I64, .ndim = 2, .shape = { 0, 5 }, .data = NULL }, /* empty: no data needed */
    };
    const char *names[8] = { "w.f32", "Kcur-3#1", "h\xc3\xa9", "ids", "d64", "i32", "scalar", "none" };
    char path[4500];
    for (int k = 0; k < 8; k++) {
        snprintf(path, sizeof path, "%s/%s.npy", dir, names[k]);
        ck_assert_msg(q35_npy_write(path, &ts[k], err, sizeof err) == 0, "%s", err);
        /* the layout: version 1.0, data at a multiple of 64, nothing after the data */
        size_t n;
        char *f = q35_read_file(path, 1u << 20, &n);
        ck_assert_ptr_nonnull(f);
        ck_assert_mem_eq(f, "\x93NUMPY\x01\x00", 8);
        size_t hl = (unsigned char)f[8] | (size_t)(unsigned char)f[9] << 8;
        ck_assert_uint_eq((10 + hl) % 64, 0);
        ck_assert_int_eq(f[10 + hl - 1], '\n');
        size_t es = q35_dtype_size(ts[k].dtype);
        ck_assert_uint_eq(n, 10 + hl + (size_t)q35_numel(&ts[k]) * es);
        free(f);
        strcat(path, ".tmp");
        ck_assert_int_ne(access(path, F_OK), 0); /* renamed away */
    }
    /* rewriting replaces the file */
    snprintf(path, sizeof path, "%s/scalar.npy", dir);
    sc = 3.0f;
    ck_assert_msg(q35_npy_write(path, &ts[6], err, sizeof err) == 0, "%s", err);
    q35_st st;
    open_ok(&st, dir);
    ck_assert_int_eq(st.n, 8);
    for (int k = 0; k < 8; k++) {
        const q35_st_entry *e = get(&st, names[k], ts[k].dtype, ts[k].ndim, ts[k].shape);
        if (e->nbytes) ck_assert_mem_eq(e->t.data, ts[k].data, e->nbytes);
    }
    ck_assert(q35_get_f32(&q35_st_find(&st, "scalar")->t, 0) == 3.0f);
    ck_assert(q35_get_f64(&q35_st_find(&st, "d64")->t, 2) == DBL_MIN / 4);
    q35_st_close(&st);
}
END_TEST

START_TEST(writer_errors) {
    float x[2] = { 1, 2 };
    char path[4500];
    snprintf(path, sizeof path, "%s/bad.npy", dir);
    q35_tensor t = { .dtype = Q35_F32, .ndim = Q35_MAX_DIMS + 1, .data = x };
    ck_assert_int_eq(q35_npy_write(path, &t, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "ndim") && strstr(err, "bad.npy"), "%s", err);
    t.ndim = -1;
    ck_assert_int_eq(q35_npy_write(path, &t, err, sizeof err), -1);
    t = (q35_tensor){ .dtype = Q35_F32, .ndim = 2, .shape = { 2, -1 }, .data = x };
    ck_assert_int_eq(q35_npy_write(path, &t, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "negative"), "%s", err);
    t = (q35_tensor){ .dtype = Q35_F32, .ndim = 3, .shape = { 0, INT64_MAX, INT64_MAX }, .data = x };
    ck_assert_int_eq(q35_npy_write(path, &t, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "overflows"), "%s", err);
    t = (q35_tensor){ .dtype = Q35_F32, .ndim = 1, .shape = { 2 }, .data = NULL };
    ck_assert_int_eq(q35_npy_write(path, &t, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no data"), "%s", err);
    t = (q35_tensor){ .dtype = (q35_dtype)99, .ndim = 1, .shape = { 2 }, .data = x };
    ck_assert_int_eq(q35_npy_write(path, &t, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "dtype"), "%s", err);
    ck_assert_int_ne(access(path, F_OK), 0);
    /* a directory that does not exist: nothing left behind */
    snprintf(path, sizeof path, "%s/nodir/x.npy", dir);
    t = (q35_tensor){ .dtype = Q35_F32, .ndim = 1, .shape = { 2 }, .data = x };
    ck_assert_int_eq(q35_npy_write(path, &t, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "cannot create") && strstr(err, "x.npy.tmp"), "%s", err);
}
END_TEST

/* ---- order ---- */

static void touch_at(const char *name, time_t sec, long nsec) {
    char path[4500];
    float v = 1.0f;
    q35_tensor t = { .dtype = Q35_F32, .ndim = 1, .shape = { 1 }, .data = &v };
    snprintf(path, sizeof path, "%s/%s.npy", dir, name);
    ck_assert_msg(q35_npy_write(path, &t, err, sizeof err) == 0, "%s", err);
    struct timespec ts[2] = { { sec, nsec }, { sec, nsec } };
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* st->files follows the modification time to the nanosecond, then the name; entries stay sorted
 * by name and point to their own file. */
START_TEST(files_in_mtime_order) {
    touch_at("z", 1000, 5);
    touch_at("a", 1000, 7);
    touch_at("m", 999, 999999999);
    touch_at("b", 1000, 5); /* same time as z: name order */
    touch_at("c-1", 2000, 0);
    touch_at("c#0", 1500, 0);
    q35_st st;
    open_ok(&st, dir);
    static const char *const order[] = { "m", "b", "z", "a", "c#0", "c-1" };
    ck_assert_int_eq(st.nfiles, 6);
    for (int i = 0; i < 6; i++) {
        char want[4500];
        snprintf(want, sizeof want, "%s/%s.npy", dir, order[i]);
        ck_assert_str_eq(st.files[i].path, want);
        const q35_st_entry *e = q35_st_find(&st, order[i]);
        ck_assert_ptr_nonnull(e);
        ck_assert_int_eq(e->file, i);
    }
    static const char *const sorted[] = { "a", "b", "c#0", "c-1", "m", "z" };
    for (int i = 0; i < 6; i++) ck_assert_str_eq(st.entries[i].name, sorted[i]);
    q35_st_close(&st);
}
END_TEST

/* ---- what the reader accepts ---- */

/* Keys in any order, either quote, whitespace anywhere, no trailing comma, Python 2's 3L. */
START_TEST(header_variants_accepted) {
    const char *d = craft("a.npy", 1, 0, "{ \"shape\" :\t( 2 ,\n 3 , ) ,'fortran_order':False,\r\n 'descr' : '<f4' }", 1, 24);
    q35_st st;
    open_ok(&st, d);
    get(&st, "a", Q35_F32, 2, (int64_t[]){ 2, 3 });
    q35_st_close(&st);
    d = craft("s.npy", 2, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': ()}", 1, 8);
    open_ok(&st, d);
    get(&st, "s", Q35_F64, 0, NULL);
    q35_st_close(&st);
    d = craft("l.npy", 1, 0, "{'descr': '<i8', 'fortran_order': False, 'shape': (5L,), }", 1, 40);
    open_ok(&st, d);
    get(&st, "l", Q35_I64, 1, (int64_t[]){ 5 });
    q35_st_close(&st);
    /* no padding at all: fine while the data stays aligned (10 + 54 = 64) */
    d = craft("u.npy", 1, 0, "{'descr':'<u2','fortran_order':False,'shape':(3,)}    ", 0, 6);
    open_ok(&st, d);
    get(&st, "u", Q35_BF16, 1, (int64_t[]){ 3 });
    q35_st_close(&st);
}
END_TEST

/* A symbolic link to a .npy is read; a subdirectory or a FIFO named *.npy is ignored. */
START_TEST(links_followed_others_ignored) {
    const char *d = craft("real.npy", 1, 0, hdr("<f4", "False", "(1,)"), 1, 4);
    char sub[4300], p[4500], target[4500];
    snprintf(sub, sizeof sub, "%s", d);
    snprintf(target, sizeof target, "%s/real.npy", sub);
    snprintf(p, sizeof p, "%s/link.npy", sub);
    ck_assert_int_eq(symlink(target, p), 0);
    snprintf(p, sizeof p, "%s/dir.npy", sub);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/fifo.npy", sub);
    ck_assert_int_eq(mkfifo(p, 0644), 0);
    snprintf(p, sizeof p, "%s/real.npy.tmp", sub); /* a writer's leftover */
    tu_write_file(p, "junk", 4);
    q35_st st;
    open_ok(&st, sub);
    ck_assert_int_eq(st.n, 2);
    ck_assert_ptr_nonnull(q35_st_find(&st, "link"));
    ck_assert_ptr_nonnull(q35_st_find(&st, "real"));
    q35_st_close(&st);
    ck_assert_int_eq(q35_npy_is_dir(sub), 1);
}
END_TEST

START_TEST(is_dir) {
    ck_assert_int_eq(q35_npy_is_dir(FIX), 1);
    ck_assert_int_eq(q35_npy_is_dir(FIX "/f32.npy"), 0);
    ck_assert_int_eq(q35_npy_is_dir(FIX "/nope"), 0);
    ck_assert_int_eq(q35_npy_is_dir(dir), 0); /* empty */
    char p[4500];
    snprintf(p, sizeof p, "%s/x.npy", dir);
    ck_assert_int_eq(mkdir(p, 0755), 0); /* only a directory named *.npy */
    snprintf(p, sizeof p, "%s/notes.txt", dir);
    tu_write_file(p, "x", 1);
    ck_assert_int_eq(q35_npy_is_dir(dir), 0);
    const char *d = craft("t.npy", 1, 0, hdr("<f4", "False", "(1,)"), 1, 4);
    char c[4300];
    snprintf(c, sizeof c, "%s", d);
    ck_assert_int_eq(q35_npy_is_dir(c), 1);
    snprintf(p, sizeof p, "%s/model.safetensors", c);
    tu_write_file(p, "x", 1);
    ck_assert_int_eq(q35_npy_is_dir(c), 0); /* a checkpoint with a stray .npy */
    remove(p);
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", c);
    tu_write_file(p, "{}", 2);
    ck_assert_int_eq(q35_npy_is_dir(c), 0);
}
END_TEST

/* ---- directories that are not .npy directories ---- */

START_TEST(not_a_npy_directory) {
    char p[4500];
    expect_error(FIX "/nope", "nope", "No such file", NULL);
    expect_error(FIX "/f32.npy", "f32.npy", "not a directory", NULL);
    expect_error(dir, NULL, "no .npy files", NULL);
    snprintf(p, sizeof p, "%s/other.txt", dir);
    tu_write_file(p, "x", 1);
    snprintf(p, sizeof p, "%s/sub.npy", dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    expect_error(dir, NULL, "no .npy files", NULL);
    /* a dangling link is named, not skipped */
    snprintf(p, sizeof p, "%s/gone.npy", dir);
    ck_assert_int_eq(symlink("/nonexistent/q35/gone.npy", p), 0);
    expect_error(dir, "gone.npy", "cannot stat", NULL);
}
END_TEST

/* ---- bad files: each error names the file and says what is wrong ---- */

START_TEST(wrong_magic) {
    expect_error(craft_raw("text.npy", "hello, world, not numpy", 23), "text.npy", "wrong magic", NULL);
    size_t n;
    unsigned char *b = npy_bytes(1, 0, hdr("<f4", "False", "(1,)"), 1, 4, &n);
    b[0] = 0x94;
    expect_error(craft_raw("m.npy", b, n), "m.npy", "wrong magic", NULL);
    free(b);
    expect_error(craft_raw("empty.npy", "", 0), "empty.npy", "shorter than the magic", NULL);
    expect_error(craft_raw("short.npy", "\x93NUMPY\x01", 7), "short.npy", "shorter than the magic", NULL);
}
END_TEST

START_TEST(unsupported_version) {
    expect_error(craft("v4.npy", 4, 0, hdr("<f4", "False", "(1,)"), 1, 4), "v4.npy", "unsupported .npy version 4.0", NULL);
    expect_error(craft("v11.npy", 1, 1, hdr("<f4", "False", "(1,)"), 1, 4), "v11.npy", "version 1.1", NULL);
    expect_error(craft("v0.npy", 0, 0, hdr("<f4", "False", "(1,)"), 1, 4), "v0.npy", "version 0.0", NULL);
    expect_error(craft("v255.npy", 255, 0, hdr("<f4", "False", "(1,)"), 1, 4), "v255.npy", "version 255.0", NULL);
}
END_TEST

START_TEST(big_endian) {
    expect_error(craft("be.npy", 1, 0, hdr(">f4", "False", "(2,)"), 1, 8), "be.npy", "big-endian", "'>f4'");
    expect_error(craft("be8.npy", 1, 0, hdr(">i8", "False", "(1,)"), 1, 8), "be8.npy", "big-endian is not supported", NULL);
}
END_TEST

START_TEST(other_descr) {
    static const char *const bad[] = { "|u1", "|i1", "|b1", "<c8", "<u4", "<i2", "|O", "<U5", "=f4", "<f4 ", "f4", "", "<M8[ns]" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "dtype '%s' is not supported", bad[i]);
        expect_error(craft("d.npy", 1, 0, hdr(bad[i], "False", "(1,)"), 1, 16), "d.npy", want, "<u2 (bf16 bits)");
    }
    /* hostile bytes in the descr come out escaped */
    expect_error(craft("x.npy", 1, 0, hdr("\x01\xff", "False", "(1,)"), 1, 16), "x.npy", "dtype '\\x01\\xff' is not supported", NULL);
    /* a structured dtype is a list, not a string */
    expect_error(craft("st.npy", 1, 0, "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", 1, 8),
                 "st.npy", "structured dtypes are not supported", NULL);
}
END_TEST

START_TEST(fortran_order) {
    expect_error(craft("f.npy", 1, 0, hdr("<f4", "True", "(2, 3)"), 1, 24), "f.npy", "fortran_order", "numpy.ascontiguousarray");
}
END_TEST

START_TEST(too_many_dims) {
    expect_error(craft("d9.npy", 1, 0, hdr("<f4", "False", "(1, 1, 1, 1, 1, 1, 1, 1, 1)"), 1, 4), "d9.npy", "9 dimensions", "at most 8");
    /* many more dims than fit: counted without being stored */
    char shape[2100] = "(";
    for (int i = 0; i < 1000; i++) strcat(shape, "1,");
    strcat(shape, ")");
    expect_error(craft("d1000.npy", 1, 0, hdr("<f4", "False", shape), 1, 4), "d1000.npy", "1000 dimensions", NULL);
}
END_TEST

START_TEST(negative_shape) {
    expect_error(craft("n.npy", 1, 0, hdr("<f4", "False", "(2, -3)"), 1, 24), "n.npy", "negative", NULL);
    expect_error(craft("n1.npy", 1, 0, hdr("<f4", "False", "(-1,)"), 1, 4), "n1.npy", "negative", NULL);
}
END_TEST

START_TEST(overflowing_shape) {
    expect_error(craft("o1.npy", 1, 0, hdr("<f4", "False", "(99999999999999999999999,)"), 1, 4), "o1.npy", "overflows", NULL);
    expect_error(craft("o2.npy", 1, 0, hdr("<f4", "False", "(4294967296, 4294967296)"), 1, 4), "o2.npy", "overflows", NULL);
    /* an empty tensor with huge other dims: a row's size would still overflow */
    expect_error(craft("o3.npy", 1, 0, hdr("<f4", "False", "(0, 1099511627776, 1099511627776)"), 1, 0), "o3.npy", "overflows", NULL);
    /* 2^61 elements of 8 bytes: no byte count fits; 2^60 does, and is then only too big for the file */
    expect_error(craft("o4.npy", 1, 0, hdr("<f8", "False", "(2305843009213693952,)"), 1, 8), "o4.npy", "overflows", NULL);
    expect_error(craft("o5.npy", 1, 0, hdr("<f8", "False", "(1152921504606846976,)"), 1, 8), "o5.npy", "truncated", "needs 9223372036854775808 bytes");
}
END_TEST

START_TEST(truncated_data) {
    expect_error(craft("t.npy", 1, 0, hdr("<f4", "False", "(2, 3)"), 1, 20), "t.npy",
                 "truncated: shape [2,3] <f4 needs 24 bytes, file has 20 after the header", NULL);
    expect_error(craft("s.npy", 1, 0, hdr("<f8", "False", "()"), 1, 0), "s.npy", "truncated: shape [] <f8 needs 8 bytes, file has 0", NULL);
    /* every prefix of a good file fails */
    size_t n;
    unsigned char *b = npy_bytes(1, 0, hdr("<i4", "False", "(3,)"), 1, 12, &n);
    for (size_t k = 0; k < n; k++) expect_error(craft_raw("p.npy", b, k), "p.npy", k >= 64 ? "truncated" : "", NULL);
    free(b);
}
END_TEST

START_TEST(trailing_bytes) {
    expect_error(craft("t.npy", 1, 0, hdr("<f4", "False", "(2, 3)"), 1, 28), "t.npy", "4 trailing bytes after the data",
                 "shape [2,3] <f4 needs 24 bytes, file has 28 after the header");
    expect_error(craft("e.npy", 1, 0, hdr("<f4", "False", "(0,)"), 1, 1), "e.npy", "1 trailing bytes", NULL);
}
END_TEST

START_TEST(header_length_past_end) {
    size_t n;
    unsigned char *b = npy_bytes(1, 0, hdr("<f4", "False", "(1,)"), 1, 4, &n);
    b[8] = 0xff, b[9] = 0x00; /* 255 > 64 + 4 - 10 */
    expect_error(craft_raw("h1.npy", b, n), "h1.npy", "header length 255 points past the end", NULL);
    b[8] = 0xff, b[9] = 0xff;
    expect_error(craft_raw("h2.npy", b, n), "h2.npy", "header length 65535 points past the end", NULL);
    free(b);
    b = npy_bytes(2, 0, hdr("<f4", "False", "(1,)"), 1, 4, &n);
    b[8] = b[9] = b[10] = b[11] = 0xff;
    expect_error(craft_raw("h3.npy", b, n), "h3.npy", "header length 4294967295 points past the end", NULL);
    free(b);
    expect_error(craft_raw("h4.npy", "\x93NUMPY\x01\x00\x05", 9), "h4.npy", "shorter than the version 1.0 header length field", NULL);
    expect_error(craft_raw("h5.npy", "\x93NUMPY\x02\x00\x05\x00\x00", 11), "h5.npy", "shorter than the version 2.0 header length", NULL);
    expect_error(craft_raw("h6.npy", "\x93NUMPY\x01\x00\x00\x00", 10), "h6.npy", "not a Python dict", NULL); /* empty header */
}
END_TEST

START_TEST(header_syntax) {
    static const struct { const char *h, *frag; } bad[] = {
        { "", "'{' expected" },
        { "[1, 2]", "'{' expected" },
        { "{'descr': '<f4', 'fortran_order': False}", "lacks the key 'shape'" },
        { "{'fortran_order': False, 'shape': (1,)}", "lacks the key 'descr'" },
        { "{'descr': '<f4', 'shape': (1,)}", "lacks the key 'fortran_order'" },
        { "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "repeats the key 'descr'" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "unexpected key 'extra'" },
        { "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,)}", "True or False" },
        { "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", "True or False" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (4)}", "not the tuple (N,)" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': [4]}", "not a tuple" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (4,,)}", "not a tuple" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (,)}", "not a tuple" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2 2)}", "',' expected" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}", "not a tuple of integers" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (0x4,)}", "not a tuple of integers" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)", "',' or '}' expected" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)} x", "bytes after its dict" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}}", "bytes after its dict" },
        { "{'descr': '<f4' 'fortran_order': False, 'shape': (4,)}", "',' or '}' expected" },
        { "{'descr' '<f4', 'fortran_order': False, 'shape': (4,)}", "':' expected" },
        { "{descr: '<f4', 'fortran_order': False, 'shape': (4,)}", "quoted key" },
        { "{'descr': '<f4, 'fortran_order': False, 'shape': (4,)}", "" },
        { "{'descr': <f4, 'fortran_order': False, 'shape': (4,)}", "not a dtype string" },
        { "{,}", "quoted key" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "syn%zu.npy", i);
        expect_error(craft(name, 1, 0, bad[i].h, 1, 16), name, bad[i].frag, NULL);
    }
}
END_TEST

/* Headers that end in the middle of a token exactly at the end of a page-sized file: a parser
 * reading one byte too far faults (or trips AddressSanitizer's checks on the copies made). */
START_TEST(header_at_page_end) {
    static const struct { const char *head, *tail, *frag; } cut[] = {
        { "{", "'descr", "quoted key" },
        { "{'descr':", "'<f4", "unterminated" },
        { "{'descr':", "'<f4\\", "unterminated" },
        { "{'descr': '<f4', 'fortran_order':", "Fals", "True or False" },
        { "{'descr': '<f4', 'fortran_order':", "True", "',' or '}' expected" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (", "12", "',' expected" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (1,", "", "not a tuple of integers" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape':", "(1,", "not a tuple of integers" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", ",", "quoted key" },
        { "{'descr': '<f4'", "", "',' or '}' expected" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "}", "truncated" },
    };
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        size_t n = 4096, hl = n - 10, a = strlen(cut[i].head), z = strlen(cut[i].tail);
        unsigned char *b = malloc(n);
        memcpy(b, "\x93NUMPY\x01\x00", 8);
        b[8] = (unsigned char)(hl & 0xff), b[9] = (unsigned char)(hl >> 8);
        memcpy(b + 10, cut[i].head, a);
        memset(b + 10 + a, ' ', hl - a - z);
        memcpy(b + n - z, cut[i].tail, z);
        expect_error(craft_raw("page.npy", b, n), "page.npy", cut[i].frag, NULL);
        free(b);
    }
}
END_TEST

/* Every header byte replaced by each of a few troublemakers: an error or a consistent entry, never
 * a crash. */
START_TEST(header_mutations) {
    static const char subst[] = { 0, '}', '{', '\'', '"', '(', ')', ',', ':', '-', '9', ' ', 'x', '\\', '\n', '>', 'L' };
    size_t n;
    unsigned char *b = npy_bytes(1, 0, hdr("<i4", "False", "(3, 2)"), 1, 24, &n);
    char d[4300], path[4500];
    snprintf(d, sizeof d, "%s", craft_raw("m.npy", b, n));
    snprintf(path, sizeof path, "%s/m.npy", d);
    int opened = 0, failed = 0;
    for (size_t pos = 10; pos < 64; pos++)
        for (size_t s = 0; s < sizeof subst; s++) {
            unsigned char keep = b[pos];
            b[pos] = (unsigned char)subst[s];
            tu_write_file(path, b, n);
            b[pos] = keep;
            q35_st st;
            if (q35_npy_dir_open(&st, d, err, sizeof err) == 0) {
                ck_assert_int_eq(st.n, 1);
                const q35_st_entry *e = &st.entries[0];
                ck_assert_uint_eq(e->nbytes, (size_t)q35_numel(&e->t) * q35_dtype_size(e->t.dtype));
                ck_assert((const char *)e->t.data + e->nbytes == (const char *)st.files[0].map + st.files[0].size);
                opened++;
            } else {
                ck_assert_msg(strstr(err, "m.npy"), "%s", err);
                ck_assert_int_eq(st.n, 0);
                failed++;
            }
            q35_st_close(&st);
        }
    ck_assert_int_gt(opened, 0); /* e.g. spaces where spaces are allowed */
    ck_assert_int_gt(failed, 0);
    free(b);
}
END_TEST

START_TEST(misaligned_data) {
    /* 10 + 51 bytes of header: the f4 data starts at offset 61 */
    expect_error(craft("odd.npy", 1, 0, "{'descr':'<f4','fortran_order':False,'shape':(1,)} ", 0, 4), "odd.npy", "not aligned",
                 "4-byte");
    /* an empty tensor has nothing to misalign */
    q35_st st;
    open_ok(&st, craft("odd0.npy", 1, 0, "{'descr':'<f4','fortran_order':False,'shape':(0,)} ", 0, 0));
    q35_st_close(&st);
}
END_TEST

/* ---- bad file names ---- */

START_TEST(non_utf8_name) {
    expect_error(craft("\xff\xfe.npy", 1, 0, hdr("<f4", "False", "(1,)"), 1, 4), "\\xff\\xfe.npy", "not valid UTF-8", NULL);
    expect_error(craft("a\xc0\xaf.npy", 1, 0, hdr("<f4", "False", "(1,)"), 1, 4), "a\\xc0\\xaf.npy", "not valid UTF-8", NULL); /* overlong '/' */
    expect_error(craft("\xed\xa0\x80.npy", 1, 0, hdr("<f4", "False", "(1,)"), 1, 4), ".npy", "not valid UTF-8", NULL); /* a surrogate */
    /* valid UTF-8 beyond ASCII is a name like any other */
    q35_st st;
    open_ok(&st, craft("h\xc3\xa9-\xe2\x82\xac.npy", 1, 0, hdr("<f4", "False", "(1,)"), 1, 4));
    ck_assert_ptr_nonnull(q35_st_find(&st, "h\xc3\xa9-\xe2\x82\xac"));
    q35_st_close(&st);
}
END_TEST

START_TEST(empty_name) {
    expect_error(craft(".npy", 1, 0, hdr("<f4", "False", "(1,)"), 1, 4), "/.npy", "empty tensor name", NULL);
}
END_TEST

/* A file whose path would reach PATH_MAX: named, refused (never cut short). */
START_TEST(overlong_path) {
    char deep[PATH_MAX], seg[201];
    memset(seg, 'd', 200);
    seg[200] = 0;
    snprintf(deep, sizeof deep, "%s", dir);
    while (strlen(deep) + 201 <= PATH_MAX - 11) { /* each mkdir's path stays under PATH_MAX */
        strcat(deep, "/");
        strcat(deep, seg);
        ck_assert_int_eq(mkdir(deep, 0755), 0);
    }
    char name[256];
    memset(name, 'n', 240);
    memcpy(name + 240, ".npy", 5);
    ck_assert_uint_ge(strlen(deep) + 1 + strlen(name), PATH_MAX);
    int dfd = open(deep, O_RDONLY | O_DIRECTORY);
    ck_assert_int_ge(dfd, 0);
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    close(fd);
    close(dfd);
    expect_error(deep, "nnnnnnnnnn.npy", "path too long", NULL);
}
END_TEST

/* The first bad file of several fails the whole directory, naming that file. */
START_TEST(one_bad_file_among_good) {
    char p[4500];
    float v[2] = { 1, 2 };
    q35_tensor t = { .dtype = Q35_F32, .ndim = 1, .shape = { 2 }, .data = v };
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/good%d.npy", dir, i);
        ck_assert_msg(q35_npy_write(p, &t, err, sizeof err) == 0, "%s", err);
    }
    size_t n;
    unsigned char *b = npy_bytes(1, 0, hdr(">f4", "False", "(2,)"), 1, 8, &n);
    snprintf(p, sizeof p, "%s/bad-1#2.npy", dir);
    tu_write_file(p, b, n);
    free(b);
    expect_error(dir, "bad-1#2.npy", "big-endian", NULL);
}
END_TEST

int main(void) {
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("npy");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, fixtures_every_dtype);
    tcase_add_test(tc, fixtures_shapes);
    tcase_add_test(tc, fixtures_header_versions);
    tcase_add_test(tc, fixtures_names_and_ignored_files);
    tcase_add_test(tc, writer_matches_numpy);
    tcase_add_test(tc, round_trip_all_dtypes);
    tcase_add_test(tc, writer_errors);
    tcase_add_test(tc, files_in_mtime_order);
    tcase_add_test(tc, header_variants_accepted);
    tcase_add_test(tc, links_followed_others_ignored);
    tcase_add_test(tc, is_dir);
    tcase_add_test(tc, not_a_npy_directory);
    tcase_add_test(tc, wrong_magic);
    tcase_add_test(tc, unsupported_version);
    tcase_add_test(tc, big_endian);
    tcase_add_test(tc, other_descr);
    tcase_add_test(tc, fortran_order);
    tcase_add_test(tc, too_many_dims);
    tcase_add_test(tc, negative_shape);
    tcase_add_test(tc, overflowing_shape);
    tcase_add_test(tc, truncated_data);
    tcase_add_test(tc, trailing_bytes);
    tcase_add_test(tc, header_length_past_end);
    tcase_add_test(tc, header_syntax);
    tcase_add_test(tc, header_at_page_end);
    tcase_add_test(tc, header_mutations);
    tcase_add_test(tc, misaligned_data);
    tcase_add_test(tc, non_utf8_name);
    tcase_add_test(tc, empty_name);
    tcase_add_test(tc, overlong_path);
    tcase_add_test(tc, one_bad_file_among_good);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
