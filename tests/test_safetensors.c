/* test_safetensors.c - round trips, sharded checkpoints, and every kind of broken or hostile file:
 * each must give an error naming the file and the problem, never a crash or an out-of-bounds read
 * (the suite also runs under AddressSanitizer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "safetensors.h"
#include "tensor.h"
#include "testutil.h"

static char err[2048];
static char dir[4096];

static void setup(void) { snprintf(dir, sizeof dir, "%s", tu_mkdtemp()); }
static void teardown(void) { tu_rm_rf(dir); }

/* Writes a safetensors file from a header string and a data section of n bytes (zero-filled). */
static const char *craft_as(const char *fname, const char *header, size_t data_bytes, int pad) {
    static char path[4200];
    size_t hl = strlen(header), padded = pad ? (hl + 7) / 8 * 8 : hl; /* writers pad with spaces to 8 */
    size_t n = 8 + padded + data_bytes;
    unsigned char *buf = calloc(1, n);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    memcpy(buf + 8, header, hl);
    memset(buf + 8 + hl, ' ', padded - hl);
    snprintf(path, sizeof path, "%s/%s", dir, fname);
    tu_write_file(path, buf, n);
    free(buf);
    return path;
}

/* The header padded so that the data section starts 8-aligned, as real files are. */
static const char *craft(const char *fname, const char *header, size_t data_bytes) {
    return craft_as(fname, header, data_bytes, 1);
}

/* Opening open_path must fail with a message naming the file path and holding each fragment. */
static void expect_error_at(const char *open_path, const char *path, const char *frag1, const char *frag2) {
    q35_st st;
    int rc = q35_st_open(&st, open_path, err, sizeof err);
    ck_assert_msg(rc == -1, "%s opened, expected an error about '%s'", open_path, frag1);
    ck_assert_int_eq(st.n, 0);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    ck_assert_msg(strstr(err, base), "message does not name the file: %s", err);
    ck_assert_msg(strstr(err, frag1), "message lacks '%s': %s", frag1, err);
    if (frag2) ck_assert_msg(strstr(err, frag2), "message lacks '%s': %s", frag2, err);
    q35_st_close(&st); /* safe on a failed open */
}

static void expect_error(const char *path, const char *frag1, const char *frag2) {
    expect_error_at(path, path, frag1, frag2);
}

START_TEST(round_trip_all_dtypes) {
    float f[6] = { 1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-30f };
    uint16_t b[4] = { 0x3f80, 0xc020, 0x0000, 0x7f80 }, h[3] = { 0x3c00, 0xc000, 0x0001 };
    int64_t i[2] = { -7, 1234567890123ll };
    double d64[2] = { 0.1, -1e300 };
    int32_t i32[3] = { -5, 2147483647, 0 };
    q35_tensor ts[6] = {
        { .dtype = Q35_F32, .ndim = 2, .shape = { 2, 3 }, .data = f },
        { .dtype = Q35_BF16, .ndim = 1, .shape = { 4 }, .data = b },
        { .dtype = Q35_F16, .ndim = 3, .shape = { 1, 3, 1 }, .data = h },
        { .dtype = Q35_I64, .ndim = 2, .shape = { 1, 2 }, .data = i },
        { .dtype = Q35_F64, .ndim = 1, .shape = { 2 }, .data = d64 },
        { .dtype = Q35_I32, .ndim = 1, .shape = { 3 }, .data = i32 },
    };
    const char *names[6] = { "w.f32", "w.bf16", "h\xc3\xa9", "ids", "d64", "i32" }; /* a non-ASCII (valid UTF-8) name */
    char path[4200];
    snprintf(path, sizeof path, "%s/rt.safetensors", dir);
    ck_assert_msg(q35_st_save(path, names, ts, 6, err, sizeof err) == 0, "%s", err);
    q35_st st;
    ck_assert_msg(q35_st_open(&st, path, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(st.n, 6);
    ck_assert(q35_get_f64(&q35_st_find(&st, "d64")->t, 0) == 0.1);
    ck_assert(q35_get_f64(&q35_st_find(&st, "i32")->t, 1) == 2147483647.0);
    for (int k = 0; k < 6; k++) {
        const q35_st_entry *e = q35_st_find(&st, names[k]);
        ck_assert_ptr_nonnull(e);
        ck_assert_int_eq(e->t.dtype, ts[k].dtype);
        ck_assert_int_eq(e->t.ndim, ts[k].ndim);
        for (int d = 0; d < ts[k].ndim; d++) ck_assert_int_eq(e->t.shape[d], ts[k].shape[d]);
        ck_assert_mem_eq(e->t.data, ts[k].data, e->nbytes);
        ck_assert_int_eq(((uintptr_t)e->t.data - (uintptr_t)st.files[0].map) % 8 == 0 || k != 0, 1);
    }
    ck_assert_ptr_null(q35_st_find(&st, "nope"));
    q35_st_close(&st);
}
END_TEST

START_TEST(streamed_writer_in_pieces) {
    char path[4200];
    snprintf(path, sizeof path, "%s/stream.safetensors", dir);
    q35_stw w;
    int64_t s1[1] = { 1000 }, s2[2] = { 3, 5 };
    ck_assert_int_eq(q35_stw_init(&w, path, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_meta(&w, "format", "pt", err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_add(&w, "a", Q35_F32, 1, s1, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_add(&w, "b", Q35_BF16, 2, s2, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_add(&w, "a", Q35_F32, 1, s1, err, sizeof err), -1); /* duplicate */
    ck_assert_msg(strstr(err, "duplicate"), "%s", err);
    ck_assert_int_eq(q35_stw_begin(&w, err, sizeof err), 0);
    float a[1000];
    for (int i = 0; i < 1000; i++) a[i] = (float)i;
    for (int i = 0; i < 1000; i += 250) ck_assert_int_eq(q35_stw_write(&w, a + i, 250 * sizeof(float), err, sizeof err), 0);
    uint16_t b[15];
    for (int i = 0; i < 15; i++) b[i] = q35_f32_to_bf16((float)-i);
    ck_assert_int_eq(q35_stw_write(&w, b, 7 * 2, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_write(&w, b + 7, 8 * 2, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_write(&w, b, 2, err, sizeof err), -1); /* past the declared data */
    ck_assert_msg(q35_stw_finish(&w, err, sizeof err) == 0, "%s", err);
    q35_st st;
    ck_assert_msg(q35_st_open(&st, path, err, sizeof err) == 0, "%s", err);
    ck_assert_mem_eq(q35_st_find(&st, "a")->t.data, a, sizeof a);
    ck_assert_float_eq(q35_get_f32(&q35_st_find(&st, "b")->t, 14), -14.0f);
    q35_st_close(&st);

    /* finishing with too little data fails and leaves no file under the final name */
    snprintf(path, sizeof path, "%s/short.safetensors", dir);
    ck_assert_int_eq(q35_stw_init(&w, path, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_add(&w, "a", Q35_F32, 1, s1, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_begin(&w, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_write(&w, a, 10, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_finish(&w, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "bytes"), "%s", err);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_null(f);
}
END_TEST

/* Two shards and an index, as released checkpoints above a few GB are laid out. */
static void write_shards(const char *index_json) {
    float x[4] = { 1, 2, 3, 4 }, y[2] = { 5, 6 };
    int64_t sx[1] = { 4 }, sy[1] = { 2 };
    q35_tensor tx = q35_view_f32(x, 1, sx), ty = q35_view_f32(y, 1, sy);
    const char *nx[] = { "x" }, *ny[] = { "y" };
    char p[4200];
    snprintf(p, sizeof p, "%s/model-00001-of-00002.safetensors", dir);
    ck_assert_int_eq(q35_st_save(p, nx, &tx, 1, err, sizeof err), 0);
    snprintf(p, sizeof p, "%s/model-00002-of-00002.safetensors", dir);
    ck_assert_int_eq(q35_st_save(p, ny, &ty, 1, err, sizeof err), 0);
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    tu_write_file(p, index_json, strlen(index_json));
}

START_TEST(sharded_directory) {
    write_shards("{\"metadata\": {\"total_size\": 24}, \"weight_map\": {\"x\": \"model-00001-of-00002.safetensors\","
                 " \"y\": \"model-00002-of-00002.safetensors\"}}");
    q35_st st;
    ck_assert_msg(q35_st_open(&st, dir, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(st.nfiles, 2);
    ck_assert_int_eq(st.n, 2);
    ck_assert_float_eq(q35_get_f32(&q35_st_find(&st, "y")->t, 1), 6.0f);
    ck_assert_int_eq(q35_st_find(&st, "y")->file, 1);
    q35_st_close(&st);
}
END_TEST

START_TEST(sharded_name_not_in_its_shard) {
    write_shards("{\"weight_map\": {\"x\": \"model-00002-of-00002.safetensors\", \"y\": \"model-00002-of-00002.safetensors\"}}");
    char p[4200];
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    expect_error_at(dir, p, "tensor x", "does not hold it");
}
END_TEST

START_TEST(sharded_missing_shard) {
    write_shards("{\"weight_map\": {\"x\": \"model-00001-of-00002.safetensors\", \"z\": \"model-00003-of-00003.safetensors\"}}");
    q35_st st;
    ck_assert_int_eq(q35_st_open(&st, dir, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "model-00003-of-00003.safetensors") && strstr(err, "cannot open"), "%s", err);
}
END_TEST

START_TEST(sharded_path_escape) {
    write_shards("{\"weight_map\": {\"x\": \"../../etc/passwd\"}}");
    char p[4200];
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    expect_error_at(dir, p, "not a plain file name", NULL);
}
END_TEST

START_TEST(sharded_duplicate_across_shards) {
    write_shards("{\"weight_map\": {\"x\": \"model-00001-of-00002.safetensors\", \"y\": \"model-00002-of-00002.safetensors\"}}");
    /* rewrite shard 2 to hold x as well */
    float x[4] = { 0 };
    int64_t sx[1] = { 4 };
    q35_tensor t[2] = { q35_view_f32(x, 1, sx), q35_view_f32(x, 1, sx) };
    t[1].shape[0] = 2;
    const char *n[] = { "x", "y" };
    char p[4200];
    snprintf(p, sizeof p, "%s/model-00002-of-00002.safetensors", dir);
    ck_assert_int_eq(q35_st_save(p, n, t, 2, err, sizeof err), 0);
    q35_st st;
    ck_assert_int_eq(q35_st_open(&st, dir, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "duplicate tensor name x"), "%s", err);
}
END_TEST

START_TEST(no_checkpoint_in_directory) {
    q35_st st;
    ck_assert_int_eq(q35_st_open(&st, dir, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no model.safetensors"), "%s", err);
}
END_TEST

START_TEST(truncated_file) {
    char p[4200];
    snprintf(p, sizeof p, "%s/short.safetensors", dir);
    tu_write_file(p, "\x05\x00\x00", 3);
    expect_error(p, "truncated", NULL);
    snprintf(p, sizeof p, "%s/empty.safetensors", dir);
    tu_write_file(p, "", 0);
    expect_error(p, "truncated", NULL);
}
END_TEST

START_TEST(header_longer_than_file) {
    char p[4200];
    snprintf(p, sizeof p, "%s/hdr.safetensors", dir);
    unsigned char buf[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}' }; /* 2^64-1 */
    tu_write_file(p, buf, sizeof buf);
    expect_error(p, "header length", "larger than the file");
    buf[0] = 100, memset(buf + 1, 0, 7);
    tu_write_file(p, buf, sizeof buf);
    expect_error(p, "header length 100", NULL);
}
END_TEST

START_TEST(header_not_json) {
    expect_error(craft("nj.safetensors", "{\"a\": {\"dtype\": \"F32\", ", 0), "not a JSON object", NULL);
    expect_error(craft("arr.safetensors", "[1, 2, 3]", 0), "not a JSON object", NULL);
}
END_TEST

START_TEST(unknown_dtype) {
    expect_error(craft("f8.safetensors", "{\"w\": {\"dtype\": \"F8_E4M3\", \"shape\": [2], \"data_offsets\": [0, 2]}}", 2),
                 "dtype F8_E4M3", "tensor w");
    expect_error(craft("u8.safetensors", "{\"w\": {\"dtype\": \"U8\", \"shape\": [2], \"data_offsets\": [0, 2]}}", 2),
                 "dtype U8", NULL);
}
END_TEST

START_TEST(entry_missing_fields) {
    expect_error(craft("m1.safetensors", "{\"w\": {\"shape\": [2], \"data_offsets\": [0, 8]}}", 8), "tensor w", "dtype");
    expect_error(craft("m1b.safetensors", "{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 8]}}", 8), "tensor w", "shape");
    expect_error(craft("m1c.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2]}}", 8), "tensor w", "data_offsets");
}
END_TEST

START_TEST(entry_wrong_json_types) {
    expect_error(craft("m2.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": \"2\", \"data_offsets\": [0, 8]}}", 8),
                 "tensor w", "shape");
    expect_error(craft("m2b.safetensors", "{\"w\": {\"dtype\": 3, \"shape\": [2], \"data_offsets\": [0, 8]}}", 8),
                 "tensor w", "dtype");
    expect_error(craft("m2c.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [\"0\", \"8\"]}}", 8),
                 "tensor w", "data_offsets");
    expect_error(craft("m3.safetensors", "{\"w\": 5}", 0), "tensor w", NULL);
    expect_error(craft("m3b.safetensors", "{\"w\": [\"F32\", [2], [0, 8]]}", 8), "tensor w", NULL);
}
END_TEST

START_TEST(negative_shape) {
    expect_error(craft("m4.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", 8),
                 "non-negative", "tensor w");
}
END_TEST

START_TEST(non_integer_shape) {
    expect_error(craft("m5.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 8]}}", 8),
                 "non-negative integers", NULL);
    expect_error(craft("m5b.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [true], \"data_offsets\": [0, 4]}}", 4),
                 "non-negative integers", NULL);
    expect_error(craft("m5c.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1e300], \"data_offsets\": [0, 4]}}", 4),
                 "non-negative integers", NULL);
}
END_TEST

START_TEST(too_many_dims) {
    expect_error(craft("m6.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": [0, 4]}}", 4),
                 "9 dimensions", "tensor w");
}
END_TEST

START_TEST(shape_overflow) {
    expect_error(craft("m7.safetensors",
                       "{\"w\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 4294967296], \"data_offsets\": [0, 4]}}", 4),
                 "overflows", "tensor w");
    /* a zero dim does not excuse the others: rows of [0, 2^40, 2^40] would overflow elsewhere */
    expect_error(craft("m7b.safetensors",
                       "{\"w\": {\"dtype\": \"F32\", \"shape\": [0, 1099511627776, 1099511627776], \"data_offsets\": [0, 0]}}", 0),
                 "overflows", NULL);
}
END_TEST

START_TEST(bad_data_offsets) {
    expect_error(craft("m8.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0]}}", 8),
                 "data_offsets", NULL);
    expect_error(craft("m8b.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [-8, 0]}}", 8),
                 "data_offsets", NULL);
}
END_TEST

START_TEST(metadata_not_object) {
    expect_error(craft("m9.safetensors", "{\"__metadata__\": 3}", 0), "__metadata__", NULL);
    expect_error(craft("m9b.safetensors", "{\"__metadata__\": [\"a\"]}", 0), "__metadata__", NULL);
}
END_TEST

START_TEST(header_trailing_bytes) {
    expect_error(craft("tr.safetensors", "{}   xyz", 0), "after its JSON object", NULL);
}
END_TEST

START_TEST(nul_escape_in_name) {
    /* cJSON would cut both names at the NUL: "a" and "a", or worse, a silently renamed tensor */
    expect_error(craft("nul.safetensors", "{\"a\\u0000x\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [0, 0]}}", 0),
                 "u0000", NULL);
    /* an escaped backslash followed by u0000 is plain text */
    q35_st st;
    const char *ok = craft("bs.safetensors", "{\"a\\\\u0000\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [0, 0]}}", 0);
    ck_assert_msg(q35_st_open(&st, ok, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_nonnull(q35_st_find(&st, "a\\u0000"));
    q35_st_close(&st);
}
END_TEST

START_TEST(offsets_outside_data) {
    expect_error(craft("o1.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 8),
                 "outside the data section", "tensor w");
    expect_error(craft("o3.safetensors",
                       "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [18446744073709551612, 18446744073709551616]}}", 8),
                 "data_offsets", NULL);
}
END_TEST

START_TEST(offsets_begin_after_end) {
    expect_error(craft("o2.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 4]}}", 8),
                 "data_offsets [8, 4] outside", "tensor w");
}
END_TEST

START_TEST(size_not_matching_shape) {
    expect_error(craft("s1.safetensors", "{\"w\": {\"dtype\": \"BF16\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8),
                 "need 6", "tensor w");
}
END_TEST

START_TEST(overlapping_tensors) {
    expect_error(craft("ov.safetensors",
                       "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
                       " \"e\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [2, 2]},"
                       " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}", 16),
                 "overlap", NULL);
    /* touching is fine, and so is a zero-size tensor anywhere */
    q35_st st;
    const char *ok = craft("touch.safetensors",
                           "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                           " \"e\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 4]},"
                           " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}", 16);
    ck_assert_msg(q35_st_open(&st, ok, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(st.n, 3);
    q35_st_close(&st);
}
END_TEST

START_TEST(duplicate_names) {
    expect_error(craft("dup.safetensors",
                       "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                       " \"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8),
                 "duplicate tensor name w", NULL);
}
END_TEST

START_TEST(non_utf8_names) {
    /* a lone continuation byte, an overlong '/', an encoded surrogate, U+110000, a 5-byte lead,
     * a sequence cut short */
    const char *bad[] = { "{\"a\x80\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
                          "{\"a\xc0\xaf\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
                          "{\"a\xed\xa0\x80\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
                          "{\"a\xf4\x90\x80\x80\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
                          "{\"a\xf8\x88\x80\x80\x80\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
                          "{\"a\xe2\x82\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}" };
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "u%d.safetensors", i);
        expect_error(craft(name, bad[i], 4), "UTF-8", NULL);
    }
    /* the largest code point is fine */
    q35_st st;
    const char *ok = craft("max.safetensors", "{\"\xf4\x8f\xbf\xbf\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4);
    ck_assert_msg(q35_st_open(&st, ok, err, sizeof err) == 0, "%s", err);
    q35_st_close(&st);
}
END_TEST

/* A file with no tensors (only metadata) is valid and finds nothing. */
START_TEST(no_tensors) {
    q35_st st;
    const char *p = craft("none.safetensors", "{\"__metadata__\": {\"format\": \"pt\"}}", 0);
    ck_assert_msg(q35_st_open(&st, p, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(st.n, 0);
    ck_assert_ptr_null(q35_st_find(&st, "x"));
    q35_st_close(&st);
    char path[4200];
    snprintf(path, sizeof path, "%s/saved_empty.safetensors", dir);
    ck_assert_msg(q35_st_save(path, NULL, NULL, 0, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(q35_st_open(&st, path, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(st.n, 0);
    q35_st_close(&st);
}
END_TEST

/* A FIFO (or any non-regular file) is refused at once, not waited on. */
START_TEST(not_a_regular_file) {
    char p[4200];
    snprintf(p, sizeof p, "%s/pipe.safetensors", dir);
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    expect_error(p, "not a regular file", NULL);
}
END_TEST

/* Entries come back sorted whatever the header order, and find is a binary search over them. */
START_TEST(entries_sorted_and_found) {
    enum { N = 100 };
    float v[N];
    q35_tensor ts[N];
    char names[N][16];
    const char *np[N];
    int64_t s1[1] = { 1 };
    for (int i = 0; i < N; i++) {
        v[i] = (float)i;
        snprintf(names[i], sizeof names[i], "t%03d", (i * 37) % N); /* declared out of order */
        np[i] = names[i];
        ts[i] = q35_view_f32(&v[i], 1, s1);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/many.safetensors", dir);
    ck_assert_msg(q35_st_save(path, np, ts, N, err, sizeof err) == 0, "%s", err);
    q35_st st;
    ck_assert_msg(q35_st_open(&st, path, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(st.n, N);
    for (int i = 1; i < N; i++) ck_assert_int_lt(strcmp(st.entries[i - 1].name, st.entries[i].name), 0);
    for (int i = 0; i < N; i++) ck_assert_float_eq(q35_get_f32(&q35_st_find(&st, np[i])->t, 0), (float)i);
    ck_assert_ptr_null(q35_st_find(&st, "t"));
    ck_assert_ptr_null(q35_st_find(&st, "t0999"));
    q35_st_close(&st);
}
END_TEST

/* The header keeps the declared order and pads so that the data starts at a multiple of 8; each
 * tensor starts aligned to its element size (6 bytes of BF16, a 2-byte filler tensor, then the I64). */
START_TEST(writer_layout) {
    char path[4200];
    snprintf(path, sizeof path, "%s/layout.safetensors", dir);
    q35_stw w;
    int64_t s3[1] = { 3 }, s1[1] = { 1 };
    ck_assert_int_eq(q35_stw_init(&w, path, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_add(&w, "zeta", Q35_BF16, 1, s3, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_add(&w, "alpha", Q35_I64, 1, s1, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_add(&w, "__metadata__", Q35_F32, 1, s1, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "__metadata__"), "%s", err);
    ck_assert_int_eq(q35_stw_begin(&w, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_begin(&w, err, sizeof err), -1); /* twice */
    unsigned char d[14];
    for (int i = 0; i < 14; i++) d[i] = (unsigned char)i;
    ck_assert_int_eq(q35_stw_write(&w, d, 14, err, sizeof err), 0);
    ck_assert_msg(q35_stw_finish(&w, err, sizeof err) == 0, "%s", err);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char buf[512];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | buf[i];
    ck_assert_uint_eq((8 + hl) % 8, 0);
    ck_assert_uint_eq(n, 8 + hl + 16);
    char hdr[512];
    memcpy(hdr, buf + 8, hl);
    hdr[hl] = 0;
    ck_assert_msg(strstr(hdr, "zeta") < strstr(hdr, "alpha"), "declared order lost: %s", hdr);
    ck_assert_msg(strstr(hdr, "\"data_offsets\":[0,6]") && strstr(hdr, "\"data_offsets\":[8,16]"), "%s", hdr);
    /* the gap is covered by a filler tensor: no holes, as the format requires */
    ck_assert_msg(strstr(hdr, "\"__q35_pad_1\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[6,8]}"), "%s", hdr);
    ck_assert_mem_eq(buf + 8 + hl, d, 6);
    ck_assert_uint_eq(buf[8 + hl + 6], 0);
    ck_assert_uint_eq(buf[8 + hl + 7], 0);
    ck_assert_mem_eq(buf + 8 + hl + 8, d + 6, 8);
    q35_st st; /* q35's reader skips the filler */
    ck_assert_msg(q35_st_open(&st, path, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(st.n, 2);
    ck_assert_ptr_null(q35_st_find(&st, "__q35_pad_1"));
    q35_st_close(&st);
    snprintf(path, sizeof path, "%s/layout.safetensors.tmp", dir);
    ck_assert_ptr_null(fopen(path, "rb")); /* renamed away */
}
END_TEST

/* An aborted writer leaves neither the final file nor its temporary. */
START_TEST(writer_abort) {
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/ab.safetensors", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    q35_stw w;
    int64_t s1[1] = { 4 };
    ck_assert_int_eq(q35_stw_init(&w, path, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_add(&w, "a", Q35_F32, 1, s1, err, sizeof err), 0);
    ck_assert_int_eq(q35_stw_begin(&w, err, sizeof err), 0);
    struct stat sb;
    ck_assert_int_eq(stat(tmp, &sb), 0);
    q35_stw_abort(&w);
    ck_assert_int_ne(stat(tmp, &sb), 0);
    ck_assert_int_ne(stat(path, &sb), 0);
}
END_TEST

/* A tensor in a shard but not in the index is still read. */
START_TEST(sharded_tensor_not_indexed) {
    write_shards("{\"weight_map\": {\"x\": \"model-00001-of-00002.safetensors\"}}");
    q35_st st;
    ck_assert_msg(q35_st_open(&st, dir, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(st.nfiles, 1); /* shard 2 is not named, so not opened */
    ck_assert_ptr_nonnull(q35_st_find(&st, "x"));
    q35_st_close(&st);
    /* both shards named, y only in shard 2 and indexed; shard 1 gains an unindexed "extra" */
    float x[4] = { 0 }, e1[1] = { 9 };
    int64_t sx[1] = { 4 }, se[1] = { 1 };
    q35_tensor t[2] = { q35_view_f32(x, 1, sx), q35_view_f32(e1, 1, se) };
    const char *n[] = { "x", "extra" };
    char p[4200];
    snprintf(p, sizeof p, "%s/model-00001-of-00002.safetensors", dir);
    ck_assert_int_eq(q35_st_save(p, n, t, 2, err, sizeof err), 0);
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    const char *idx = "{\"weight_map\": {\"x\": \"model-00001-of-00002.safetensors\", \"y\": \"model-00002-of-00002.safetensors\"}}";
    tu_write_file(p, idx, strlen(idx));
    ck_assert_msg(q35_st_open(&st, dir, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(st.n, 3);
    ck_assert_float_eq(q35_get_f32(&q35_st_find(&st, "extra")->t, 0), 9.0f);
    q35_st_close(&st);
}
END_TEST

START_TEST(golden_file_reads) {
    q35_st st;
    ck_assert_msg(q35_st_open(&st, "golden/data/small_text/golden.safetensors", err, sizeof err) == 0, "%s", err);
    const q35_st_entry *e = q35_st_find(&st, "prefill.logits");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->t.dtype, Q35_F32);
    ck_assert_int_eq(e->t.ndim, 3);
    ck_assert_int_eq(e->t.shape[0], 1);
    ck_assert_int_eq(e->t.shape[1], 24);
    ck_assert_int_eq(e->t.shape[2], 1000);
    ck_assert_uint_eq(e->nbytes, 24 * 1000 * 4);
    e = q35_st_find(&st, "prefill.input_ids");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->t.dtype, Q35_I64);
    ck_assert_int_eq(e->t.ndim, 2);
    ck_assert_int_eq(e->t.shape[0], 1);
    ck_assert_int_eq(e->t.shape[1], 24);
    q35_st_close(&st);
}
END_TEST

/* A header of odd length puts F32 data at an odd address: refused, never read misaligned. */
START_TEST(misaligned_data) {
    expect_error(craft_as("odd.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}} ", 4, 0),
                 "not aligned", "tensor w");
    expect_error(craft("odd2.safetensors", "{\"w\": {\"dtype\": \"BF16\", \"shape\": [1], \"data_offsets\": [1, 3]}}", 4),
                 "not aligned", NULL);
}
END_TEST

int main(void) {
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("io");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip_all_dtypes);
    tcase_add_test(tc, streamed_writer_in_pieces);
    tcase_add_test(tc, sharded_directory);
    tcase_add_test(tc, sharded_name_not_in_its_shard);
    tcase_add_test(tc, sharded_missing_shard);
    tcase_add_test(tc, sharded_path_escape);
    tcase_add_test(tc, sharded_duplicate_across_shards);
    tcase_add_test(tc, no_checkpoint_in_directory);
    tcase_add_test(tc, truncated_file);
    tcase_add_test(tc, header_longer_than_file);
    tcase_add_test(tc, header_not_json);
    tcase_add_test(tc, unknown_dtype);
    tcase_add_test(tc, entry_missing_fields);
    tcase_add_test(tc, entry_wrong_json_types);
    tcase_add_test(tc, negative_shape);
    tcase_add_test(tc, non_integer_shape);
    tcase_add_test(tc, too_many_dims);
    tcase_add_test(tc, shape_overflow);
    tcase_add_test(tc, bad_data_offsets);
    tcase_add_test(tc, metadata_not_object);
    tcase_add_test(tc, header_trailing_bytes);
    tcase_add_test(tc, nul_escape_in_name);
    tcase_add_test(tc, offsets_begin_after_end);
    tcase_add_test(tc, offsets_outside_data);
    tcase_add_test(tc, size_not_matching_shape);
    tcase_add_test(tc, overlapping_tensors);
    tcase_add_test(tc, duplicate_names);
    tcase_add_test(tc, non_utf8_names);
    tcase_add_test(tc, no_tensors);
    tcase_add_test(tc, not_a_regular_file);
    tcase_add_test(tc, entries_sorted_and_found);
    tcase_add_test(tc, writer_layout);
    tcase_add_test(tc, writer_abort);
    tcase_add_test(tc, sharded_tensor_not_indexed);
    tcase_add_test(tc, golden_file_reads);
    tcase_add_test(tc, misaligned_data);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
