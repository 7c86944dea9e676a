/* test_image.c - decoding against Pillow's pixels, Pillow's bicubic, smart_resize, pixel_values
 * against the goldens, and broken images. Fixtures and Pillow's expected arrays come from
 * tests/data/images/make_fixtures.py (Pillow 9.4); the hostile EXIF/XMP ones and Pillow's verdicts
 * on them from tests/data/images/exif_hostile/make_fixtures.py (Pillow 13.0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q35.h"
#include "testutil.h"

#define DIR "tests/data/images/"

static char err[2048];
static q35_st expected;

static void open_expected(void) {
    ck_assert_msg(q35_st_open(&expected, DIR "expected.safetensors", err, sizeof err) == 0, "%s", err);
}
static void close_expected(void) { q35_st_close(&expected); }

/* Asserts that an RGB buffer equals the expected array name exactly. */
static void same_pixels(const char *name, const uint8_t *rgb, int w, int h) {
    const q35_st_entry *e = q35_st_find(&expected, name);
    ck_assert_msg(e != NULL, "no expected array %s", name);
    ck_assert_msg(e->t.shape[0] == h && e->t.shape[1] == w, "%s: %dx%d, Pillow has %lldx%lld", name, w, h,
                  (long long)e->t.shape[1], (long long)e->t.shape[0]);
    long bad = 0, first = -1;
    for (long i = 0; i < (long)w * h * 3; i++) {
        int64_t v;
        memcpy(&v, (const char *)e->t.data + 8 * i, 8);
        if (v != rgb[i]) {
            if (first < 0) first = i;
            bad++;
        }
    }
    ck_assert_msg(bad == 0, "%s: %ld of %d values differ from Pillow's (first at %ld)", name, bad, w * h * 3, first);
}

static void decodes_like_pillow(const char *file) {
    char path[256], key[256];
    snprintf(path, sizeof path, DIR "%s", file);
    q35_image im;
    ck_assert_msg(q35_image_load(&im, path, err, sizeof err) == 0, "%s", err);
    same_pixels(file, im.rgb, im.w, im.h);
    q35_image_free(&im);
    ck_assert_msg(q35_image_load_opts(&im, path, 0, err, sizeof err) == 0, "%s", err);
    snprintf(key, sizeof key, "%s.noexif", file);
    same_pixels(key, im.rgb, im.w, im.h);
    q35_image_free(&im);
}

START_TEST(png_kinds) {
    const char *files[] = { "rgb8.png", "rgba.png", "grey.png", "grey_alpha.png", "palette.png",
                            "rgb16.png", "grey16.png", "interlaced.png", "grey4.png" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) decodes_like_pillow(files[i]);
}
END_TEST

START_TEST(jpeg_kinds) {
    const char *files[] = { "baseline.jpg", "progressive.jpg", "grey.jpg", "cmyk.jpg" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) decodes_like_pillow(files[i]);
}
END_TEST

START_TEST(exif_orientation) {
    const char *files[] = { "exif3.jpg", "exif6.jpg", "exif8.jpg", "exif6.png" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) decodes_like_pillow(files[i]);
    q35_image a, b;
    ck_assert_int_eq(q35_image_load(&a, DIR "exif6.jpg", err, sizeof err), 0);
    ck_assert_int_eq(q35_image_load_opts(&b, DIR "exif6.jpg", 0, err, sizeof err), 0);
    ck_assert_int_eq(a.w, b.h); /* rotated by 90 degrees */
    ck_assert_int_eq(a.h, b.w);
    q35_image_free(&a);
    q35_image_free(&b);
}
END_TEST

/* FNV-1a 64 of n bytes: the checksum make_fixtures.py records of Pillow's pixels. */
static uint64_t fnv1a64(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* What Hugging Face's load_image (Image.open, ImageOps.exif_transpose, convert("RGB")) gives for
 * each file of exif_hostile/: width, height and FNV-1a 64 of the RGB bytes; w = 0 where it raises
 * (in exif_transpose, or in Image.open). The file names say what each case pins down. */
static const struct {
    const char *file;
    int w, h;
    uint64_t fnv;
} hostile[] = {
    /* tests/data/images/exif_hostile/make_fixtures.py, Pillow 13.0.0 */
    { "j_bare_tiff_6.jpg", 12, 8, 0xe846689619625324ull },
    { "j_exif1_then_exif6.jpg", 12, 8, 0xe846689619625324ull },
    { "j_noorient_then_exif6.jpg", 12, 8, 0xe846689619625324ull },
    { "j_empty_exif_then_6.jpg", 8, 12, 0x5eacc6c0086a6896ull },
    { "j_value_in_second_app1_8.jpg", 8, 12, 0x163a246346752adcull },
    { "j_double_prefix_6.jpg", 8, 12, 0x5eacc6c0086a6896ull },
    { "j_mm002b_header_6.jpg", 8, 12, 0x5eacc6c0086a6896ull },
    { "j_bad_header.jpg", 12, 8, 0xe846689619625324ull },
    { "j_bad_header_dpi.jpg", 0, 0, 0 }, /* raises SyntaxError */
    { "j_bad_header_xmp6.jpg", 12, 8, 0xe846689619625324ull },
    { "j_bigtiff_dpi.jpg", 0, 0, 0 }, /* raises struct.error */
    { "j_xres_one_byte.jpg", 0, 0, 0 }, /* raises PIL.UnidentifiedImageError */
    { "j_xres_one_byte_dpi.jpg", 12, 8, 0xe846689619625324ull },
    { "j_xres_digit.jpg", 0, 0, 0 }, /* raises PIL.UnidentifiedImageError */
    { "j_xres_letter.jpg", 12, 8, 0xe846689619625324ull },
    { "j_byte_6.jpg", 12, 8, 0xe846689619625324ull },
    { "j_long_be_6.jpg", 8, 12, 0x5eacc6c0086a6896ull },
    { "j_float_6.jpg", 8, 12, 0x5eacc6c0086a6896ull },
    { "j_rational_12_2.jpg", 8, 12, 0x5eacc6c0086a6896ull },
    { "j_rational_6_0.jpg", 12, 8, 0xe846689619625324ull },
    { "j_count2_6_3.jpg", 8, 12, 0x5eacc6c0086a6896ull },
    { "j_dup_6_then_3.jpg", 8, 12, 0x5eacc6c0086a6896ull },
    { "j_dup_unknown_type_then_3.jpg", 12, 8, 0x47a5124ec0bd88f2ull },
    { "j_truncated_ifd_6.jpg", 8, 12, 0x5eacc6c0086a6896ull },
    { "j_offset_past_end_before_6.jpg", 12, 8, 0xe846689619625324ull },
    { "j_huge_count_before_6.jpg", 8, 12, 0x5eacc6c0086a6896ull },
    { "j_xmp6.jpg", 8, 12, 0x5eacc6c0086a6896ull },
    { "j_exif1_xmp6.jpg", 12, 8, 0xe846689619625324ull },
    { "j_noorient_xmp6.jpg", 8, 12, 0x5eacc6c0086a6896ull },
    { "j_xmp6_then_xmp3.jpg", 12, 8, 0x47a5124ec0bd88f2ull },
    { "p_exif3_then_exif6_after_idat.png", 8, 12, 0x6a388f7a95e9c0acull },
    { "p_exif_bad_header.png", 0, 0, 0 }, /* raises SyntaxError */
    { "p_text_exif6_then_exif3.png", 12, 8, 0x7a0b52e9190479f0ull },
    { "p_ztxt_exif.png", 0, 0, 0 }, /* raises TypeError */
    { "p_raw_profile_6.png", 8, 12, 0x6a388f7a95e9c0acull },
    { "p_raw_profile_itxt_6.png", 8, 12, 0x6a388f7a95e9c0acull },
    { "p_raw_profile6_exif3.png", 12, 8, 0x7a0b52e9190479f0ull },
    { "p_raw_profile_bad_hex.png", 0, 0, 0 }, /* raises ValueError */
    { "p_raw_profile_corrupt_zlib_xmp8.png", 8, 12, 0x85bd1840306504eeull },
    { "p_raw_profile_no_adler_6.png", 8, 12, 0x6a388f7a95e9c0acull },
    { "p_xmp_itxt_compressed_8.png", 8, 12, 0x85bd1840306504eeull },
    { "p_xmp_bad_utf8_6.png", 8, 12, 0x6a388f7a95e9c0acull },
    { "p_xmp_text3_bad_utf8_6.png", 12, 8, 0x7a0b52e9190479f0ull },
    { "p_exif1_xmp6.png", 12, 8, 0xa45f951d763d0996ull },
    { "p_apng_exif6_after_second_frame.png", 12, 8, 0xa45f951d763d0996ull },
    { "p_apng_exif6_before_second_frame.png", 8, 12, 0x6a388f7a95e9c0acull },
};

START_TEST(exif_like_pillow) {
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, DIR "exif_hostile/%s", hostile[i].file);
        q35_image im;
        int rc = q35_image_load(&im, path, err, sizeof err);
        if (hostile[i].w == 0) {
            ck_assert_msg(rc == -1, "%s: decoded, but Pillow's exif_transpose raises on it", hostile[i].file);
            ck_assert_msg(strstr(err, hostile[i].file) && strstr(err, "load_image cannot load"), "%s", err);
            ck_assert_ptr_null(im.rgb);
            /* without the orientation the image itself decodes */
            ck_assert_msg(q35_image_load_opts(&im, path, 0, err, sizeof err) == 0, "%s", err);
            ck_assert_int_eq(im.w, 12);
            q35_image_free(&im);
            continue;
        }
        ck_assert_msg(rc == 0, "%s", err);
        ck_assert_msg(im.w == hostile[i].w && im.h == hostile[i].h, "%s: %dx%d, Pillow gives %dx%d", hostile[i].file,
                      im.w, im.h, hostile[i].w, hostile[i].h);
        uint64_t h = fnv1a64(im.rgb, (size_t)im.w * im.h * 3);
        ck_assert_msg(h == hostile[i].fnv, "%s: pixels differ from Pillow's (FNV %016llx, Pillow %016llx)",
                      hostile[i].file, (unsigned long long)h, (unsigned long long)hostile[i].fnv);
        q35_image_free(&im);
    }
}
END_TEST

START_TEST(bicubic_like_pillow) {
    const q35_st_entry *src = q35_st_find(&expected, "resize.src");
    ck_assert_ptr_nonnull(src);
    int iw = (int)src->t.shape[1], ih = (int)src->t.shape[0];
    uint8_t *in = malloc((size_t)iw * ih * 3);
    for (long i = 0; i < (long)iw * ih * 3; i++) in[i] = (uint8_t)q35_get_f32(&src->t, i);
    int sizes[][2] = { { 40, 25 }, { 150, 90 }, { 200, 30 }, { 97, 20 }, { 33, 61 } };
    for (int k = 0; k < 5; k++) {
        int w = sizes[k][0], h = sizes[k][1];
        uint8_t *out = malloc((size_t)w * h * 3);
        ck_assert_int_eq(q35_resize_bicubic(out, w, h, in, iw, ih), 0);
        char name[64];
        snprintf(name, sizeof name, "resize.%dx%d_to_%dx%d", iw, ih, w, h);
        same_pixels(name, out, w, h);
        free(out);
    }
    free(in);
}
END_TEST

START_TEST(smart_resize_cases) {
    struct { int h, w, rh, rw; } c[] = {
        { 192, 352, 192, 352 },   /* multiples of 32 and enough pixels: unchanged */
        { 70, 90, 256, 320 },     /* too few pixels: scaled up */
        { 192, 256, 224, 320 },
        { 48, 2000, 64, 1984 },   /* 1.5 rounds to 2 and 62.5 to 62: half to even */
        { 80, 1040, 64, 1024 },   /* 2.5 rounds to 2, 32.5 to 32 */
        { 5000, 5000, 4096, 4096 },/* too many pixels: scaled down */
        { 1, 200, 32, 3648 },     /* too few: scaled up */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int rh, rw;
        ck_assert_msg(q35_smart_resize(c[i].h, c[i].w, 32, 65536, 16777216, &rh, &rw, err, sizeof err) == 0, "%s", err);
        ck_assert_msg(rh == c[i].rh && rw == c[i].rw, "%dx%d -> %dx%d, want %dx%d", c[i].h, c[i].w, rh, rw, c[i].rh,
                      c[i].rw);
        ck_assert_int_le(rh * (long)rw, 16777216);
    }
    int rh, rw;
    ck_assert_int_eq(q35_smart_resize(1, 201, 32, 65536, 16777216, &rh, &rw, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "aspect ratio"), "%s", err);
    ck_assert_int_eq(q35_smart_resize(0, 20, 32, 65536, 16777216, &rh, &rw, err, sizeof err), -1);
}
END_TEST

/* Both small_vl images, one resized and one not, give the golden pixel_values bit for bit. */
START_TEST(pixel_values_match_goldens) {
    q35_st g;
    ck_assert_msg(q35_st_open(&g, "golden/data/small_vl/golden.safetensors", err, sizeof err) == 0, "%s", err);
    const q35_st_entry *pv = q35_st_find(&g, "preproc.pixel_values"), *gt = q35_st_find(&g, "preproc.image_grid_thw");
    const char *files[2] = { "golden/data/small_vl/image_192x352.png", "golden/data/small_vl/image_70x90.png" };
    q35_preproc_config pc;
    q35_preproc_defaults(&pc);
    size_t row = 0;
    for (int k = 0; k < 2; k++) {
        q35_image im;
        ck_assert_msg(q35_image_load(&im, files[k], err, sizeof err) == 0, "%s", err);
        int grid[3];
        ck_assert_int_eq(q35_preproc_grid(&pc, im.h, im.w, grid, err, sizeof err), 0);
        for (int j = 0; j < 3; j++) ck_assert_int_eq(grid[j], (int)q35_get_f32(&gt->t, k * 3 + j));
        size_t n = (size_t)grid[1] * grid[2] * 1536;
        float *out = malloc(n * sizeof(float));
        ck_assert_int_eq(q35_preprocess(out, &pc, &im, grid, err, sizeof err), 0);
        ck_assert_msg(memcmp(out, (const float *)pv->t.data + row * 1536, n * sizeof(float)) == 0,
                      "%s: pixel_values differ from the golden", files[k]);
        row += (size_t)grid[1] * grid[2];
        free(out);
        q35_image_free(&im);
    }
    ck_assert_int_eq(row, pv->t.shape[0]);
    q35_st_close(&g);
}
END_TEST

static void bad(const char *file, const char *frag) {
    q35_image im;
    char path[256];
    snprintf(path, sizeof path, DIR "%s", file);
    ck_assert_msg(q35_image_load(&im, path, err, sizeof err) == -1, "%s decoded", file);
    ck_assert_msg(strstr(err, file) && strstr(err, frag), "%s: '%s' not in: %s", file, frag, err);
    ck_assert_ptr_null(im.rgb);
}

START_TEST(broken_images) {
    bad("bad_truncated.png", "truncated");
    bad("bad_truncated.jpg", "truncated");
    bad("bad_text.png", "not a PNG or JPEG");
    bad("bad_huge.png", "larger than q35 accepts");
    bad("bad_zero.png", "PNG");
    bad("missing.png", "cannot open");
    /* decodes, but preprocessing refuses an aspect ratio over 200 */
    q35_image im;
    ck_assert_int_eq(q35_image_load(&im, DIR "wide_201x1.png", err, sizeof err), 0);
    q35_preproc_config pc;
    q35_preproc_defaults(&pc);
    int grid[3];
    ck_assert_int_eq(q35_preproc_grid(&pc, im.h, im.w, grid, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "aspect ratio"), "%s", err);
    q35_image_free(&im);
}
END_TEST

int main(void) {
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("image");
    tcase_add_checked_fixture(tc, open_expected, close_expected);
    tcase_add_test(tc, png_kinds);
    tcase_add_test(tc, jpeg_kinds);
    tcase_add_test(tc, exif_orientation);
    tcase_add_test(tc, exif_like_pillow);
    tcase_add_test(tc, bicubic_like_pillow);
    tcase_add_test(tc, smart_resize_cases);
    tcase_add_test(tc, pixel_values_match_goldens);
    tcase_add_test(tc, broken_images);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
