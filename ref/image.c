/* image.c - PNG/JPEG decoding (libpng, libjpeg-turbo) and Qwen2-VL image preprocessing. */
#include "image.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>

#include <jpeglib.h> /* after stdio.h: it uses FILE */
#include <jerror.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void q35_image_free(q35_image *im) {
    if (!im) return;
    free(im->rgb);
    memset(im, 0, sizeof *im);
}

static int check_size(const char *path, long w, long h, char *err, size_t errlen) {
    if (w <= 0 || h <= 0) return q35_fail(err, errlen, "%s: image has a zero side (%ldx%ld)", path, w, h);
    if (w > Q35_IMAGE_MAX_SIDE || h > Q35_IMAGE_MAX_SIDE || (unsigned long)w * (unsigned long)h > Q35_IMAGE_MAX_PIXELS)
        return q35_fail(err, errlen, "%s: image of %ldx%ld pixels is larger than q35 accepts (sides up to %d, %u pixels)",
                        path, w, h, Q35_IMAGE_MAX_SIDE, Q35_IMAGE_MAX_PIXELS);
    return 0;
}

/* ---- PNG ---- */

/* EXIF orientation (tag 0x0112 of IFD0) from a TIFF-structured EXIF block, with or without the
 * "Exif\0\0" prefix of JPEG's APP1; 1 when absent or invalid. */
static int exif_orientation(const uint8_t *p, size_t n) {
    if (n >= 6 && memcmp(p, "Exif\0\0", 6) == 0) p += 6, n -= 6;
    if (n < 8) return 1;
    int le = p[0] == 'I' && p[1] == 'I';
    if (!le && !(p[0] == 'M' && p[1] == 'M')) return 1;
#define U16(o) (le ? (unsigned)(p[o] | p[(o) + 1] << 8) : (unsigned)(p[o] << 8 | p[(o) + 1]))
#define U32(o) (le ? ((uint32_t)p[o] | (uint32_t)p[(o) + 1] << 8 | (uint32_t)p[(o) + 2] << 16 | (uint32_t)p[(o) + 3] << 24) \
                   : ((uint32_t)p[o] << 24 | (uint32_t)p[(o) + 1] << 16 | (uint32_t)p[(o) + 2] << 8 | (uint32_t)p[(o) + 3]))
    uint32_t ifd = U32(4);
    if ((size_t)ifd + 2 > n) return 1; /* in size_t: an offset near 2^32 must not wrap past the check */
    unsigned count = U16(ifd);
    for (unsigned i = 0; i < count; i++) {
        size_t e = ifd + 2 + 12 * (size_t)i;
        if (e + 12 > n) return 1;
        if (U16(e) == 0x0112) {
            unsigned v = U16(e + 8);
            return v >= 1 && v <= 8 ? (int)v : 1;
        }
    }
#undef U16
#undef U32
    return 1;
}


typedef struct {
    jmp_buf jb;
    char msg[200];
} png_errctx;

static void png_error_fn(png_structp png, png_const_charp msg) {
    png_errctx *e = png_get_error_ptr(png);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    longjmp(e->jb, 1);
}
static void png_warning_fn(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static int load_png(q35_image *im, FILE *f, const char *path, int *orientation, char *err, size_t errlen) {
    png_errctx ectx = { .msg = "" };
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ectx, png_error_fn, png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *volatile raw = NULL;
    png_bytep *volatile rows = NULL;
    if (!png || !info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        return q35_fail(err, errlen, "%s: out of memory", path);
    }
    if (setjmp(ectx.jb)) {
        png_destroy_read_struct(&png, &info, NULL);
        free(raw);
        free(rows);
        return q35_fail(err, errlen, "%s: corrupt or truncated PNG: %s", path, ectx.msg);
    }
    png_init_io(png, f);
    png_set_user_limits(png, 1000000, 1000000); /* libpng's own bound; q35's stricter one follows */
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if (check_size(path, (long)w, (long)h, err, errlen) != 0) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    int ct = png_get_color_type(png, info);
    /* Pillow opens 16-bit grey as 32-bit integers ("I") and convert("RGB") clips them to 255;
     * other 16-bit samples keep their high byte (Pillow's ;16B unpackers). Palettes and low-depth
     * grey expand, grey replicates, alpha and tRNS transparency are dropped. */
    int grey16 = ct == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) == 16;
    if (!grey16) {
        png_set_strip_16(png);
        png_set_packing(png);
        if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
        if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA) {
            png_set_expand_gray_1_2_4_to_8(png);
            png_set_gray_to_rgb(png);
        }
        /* expanding a palette with tRNS adds alpha: drop it like any other */
        if ((ct & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS)) png_set_strip_alpha(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (rowbytes != (size_t)w * (grey16 ? 2 : 3)) png_error(png, "unexpected row layout after conversion");
    raw = malloc(rowbytes * h);
    rows = malloc((size_t)h * sizeof(png_bytep));
    if (!raw || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = raw + (size_t)y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, info); /* an eXIf chunk may follow the image data */
    png_bytep exif = NULL;
    png_uint_32 exif_len = 0;
    *orientation = png_get_eXIf_1(png, info, &exif_len, &exif) ? exif_orientation(exif, exif_len) : 1;
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    if (grey16) { /* in place: 2 bytes in, 3 out, so convert into a new buffer */
        uint8_t *rgb = malloc((size_t)w * h * 3);
        if (!rgb) {
            free(raw);
            return q35_fail(err, errlen, "%s: out of memory", path);
        }
        for (size_t i = 0; i < (size_t)w * h; i++) {
            unsigned v = (unsigned)raw[2 * i] << 8 | raw[2 * i + 1];
            rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (uint8_t)(v > 255 ? 255 : v);
        }
        free(raw);
        raw = rgb;
    }
    im->w = (int)w, im->h = (int)h, im->rgb = raw;
    return 0;
}

/* ---- JPEG ---- */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
} jpg_errctx;

static void jpg_error_exit(j_common_ptr cinfo) {
    jpg_errctx *e = (jpg_errctx *)cinfo->err;
    longjmp(e->jb, 1);
}
/* libjpeg only warns on a premature end of data and fills the rest with grey; Pillow refuses
 * such a file ("image file is truncated"), and so does q35. Other warnings are ignored. */
static void jpg_emit(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) cinfo->err->error_exit(cinfo);
}

static int load_jpeg(q35_image *im, FILE *f, const char *path, int *orientation, char *err, size_t errlen) {
    struct jpeg_decompress_struct cinfo;
    jpg_errctx jerr;
    uint8_t *volatile rgb = NULL, *volatile row = NULL;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = jpg_error_exit;
    jerr.pub.emit_message = jpg_emit;
    if (setjmp(jerr.jb)) {
        char msg[JMSG_LENGTH_MAX];
        (*cinfo.err->format_message)((j_common_ptr)&cinfo, msg);
        int eof = cinfo.err->msg_code == JWRN_JPEG_EOF;
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        free(row);
        if (eof) return q35_fail(err, errlen, "%s: truncated JPEG (the data ends early)", path);
        return q35_fail(err, errlen, "%s: corrupt JPEG: %s", path, msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(&cinfo, TRUE);
    if (check_size(path, (long)cinfo.image_width, (long)cinfo.image_height, err, errlen) != 0) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    *orientation = 1;
    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && (*orientation = exif_orientation(m->data, m->data_length)) != 1) break;
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB; /* grey is replicated to RGB */
    jpeg_start_decompress(&cinfo);
    size_t w = cinfo.output_width, h = cinfo.output_height, nc = (size_t)cinfo.output_components;
    rgb = malloc(w * h * 3);
    row = malloc(w * nc);
    if (!rgb || !row) {
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        free(row);
        return q35_fail(err, errlen, "%s: out of memory", path);
    }
    /* Adobe CMYK JPEGs store inverted values (Pillow's "CMYK;I"); convert("RGB") then computes
     * each channel as (255 - k) - (c * (255 - k)) / 255 with Pillow's rounding */
    int inverted = cmyk && cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < h) {
        size_t y = cinfo.output_scanline;
        JSAMPROW rp = row;
        jpeg_read_scanlines(&cinfo, &rp, 1);
        uint8_t *o = rgb + y * w * 3;
        if (!cmyk) {
            memcpy(o, row, w * 3);
            continue;
        }
        for (size_t x = 0; x < w; x++) {
            unsigned v[4];
            for (int c = 0; c < 4; c++) v[c] = inverted ? 255u - row[x * 4 + c] : row[x * 4 + c];
            unsigned nk = 255 - v[3];
            for (int c = 0; c < 3; c++) {
                unsigned t = v[c] * nk + 128;
                int r = (int)nk - (int)(((t >> 8) + t) >> 8);
                o[x * 3 + c] = (uint8_t)(r < 0 ? 0 : r);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    im->w = (int)w, im->h = (int)h, im->rgb = rgb;
    return 0;
}

/* Applies an EXIF orientation (2..8) as Pillow's ImageOps.exif_transpose does. */
static int apply_orientation(q35_image *im, int o) {
    if (o <= 1 || o > 8) return 0;
    int w = im->w, h = im->h, swap = o >= 5;
    int ow = swap ? h : w, oh = swap ? w : h;
    uint8_t *out = malloc((size_t)ow * oh * 3);
    if (!out) return -1;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            int sx, sy; /* source pixel of output (x, y) */
            switch (o) {
            case 2: sx = w - 1 - x, sy = y; break;           /* mirror horizontal */
            case 3: sx = w - 1 - x, sy = h - 1 - y; break;   /* rotate 180 */
            case 4: sx = x, sy = h - 1 - y; break;           /* mirror vertical */
            case 5: sx = y, sy = x; break;                   /* transpose */
            case 6: sx = y, sy = h - 1 - x; break;           /* rotate 90 clockwise */
            case 7: sx = w - 1 - y, sy = h - 1 - x; break;   /* transverse */
            default: sx = w - 1 - y, sy = x; break;          /* 8: rotate 90 counter-clockwise */
            }
            memcpy(out + ((size_t)y * ow + x) * 3, im->rgb + ((size_t)sy * w + sx) * 3, 3);
        }
    free(im->rgb);
    im->rgb = out, im->w = ow, im->h = oh;
    return 0;
}

int q35_image_load(q35_image *im, const char *path, char *err, size_t errlen) {
    return q35_image_load_opts(im, path, 1, err, errlen);
}

int q35_image_load_opts(q35_image *im, const char *path, int exif, char *err, size_t errlen) {
    memset(im, 0, sizeof *im);
    FILE *f = fopen(path, "rb");
    if (!f) return q35_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    uint8_t sig[8] = {0};
    size_t n = fread(sig, 1, 8, f);
    rewind(f);
    int rc, orientation = 1;
    if (n == 8 && png_sig_cmp(sig, 0, 8) == 0) rc = load_png(im, f, path, &orientation, err, errlen);
    else if (n >= 3 && sig[0] == 0xff && sig[1] == 0xd8 && sig[2] == 0xff) rc = load_jpeg(im, f, path, &orientation, err, errlen);
    else rc = q35_fail(err, errlen, "%s: not a PNG or JPEG image", path);
    fclose(f);
    if (rc == 0 && exif && apply_orientation(im, orientation) != 0) {
        q35_image_free(im);
        return q35_fail(err, errlen, "%s: out of memory", path);
    }
    return rc;
}

/* ---- smart_resize ---- */

int q35_smart_resize(int h, int w, int factor, long min_pixels, long max_pixels, int *out_h, int *out_w,
                     char *err, size_t errlen) {
    if (h <= 0 || w <= 0) return q35_fail(err, errlen, "image has a zero side (%dx%d)", w, h);
    double hi = h > w ? h : w, lo = h > w ? w : h;
    if (hi / lo > 200)
        return q35_fail(err, errlen, "image of %dx%d has an aspect ratio of %.1f; at most 200 is accepted", w, h, hi / lo);
    /* nearbyint in the default rounding mode is Python's round: half to even */
    double hb = nearbyint((double)h / factor) * factor, wb = nearbyint((double)w / factor) * factor;
    if (hb * wb > (double)max_pixels) {
        double beta = sqrt((double)h * w / (double)max_pixels);
        hb = fmax(factor, floor(h / beta / factor) * factor);
        wb = fmax(factor, floor(w / beta / factor) * factor);
    } else if (hb * wb < (double)min_pixels) {
        double beta = sqrt((double)min_pixels / ((double)h * w));
        hb = ceil(h * beta / factor) * factor;
        wb = ceil(w * beta / factor) * factor;
    }
    *out_h = (int)hb, *out_w = (int)wb;
    return 0;
}

/* ---- Pillow's bicubic resampling (libImaging/Resample.c, 8 bits per channel) ---- */

#define PRECISION_BITS (32 - 8 - 2)

static double bicubic(double x) {
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* Fixed-point coefficients of each output sample: bounds[2i] = first input, bounds[2i+1] = count. */
static int coeffs(int in_size, int out_size, int **bounds_out, int32_t **kk_out) {
    double scale = (double)in_size / out_size, filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 2.0 * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *pre = malloc((size_t)out_size * ksize * sizeof(double));
    int *bounds = malloc((size_t)out_size * 2 * sizeof(int));
    int32_t *kk = malloc((size_t)out_size * ksize * sizeof(int32_t));
    if (!pre || !bounds || !kk) {
        free(pre), free(bounds), free(kk);
        return -1;
    }
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double *k = pre + (size_t)xx * ksize;
        int x;
        for (x = 0; x < xmax; x++) {
            double wgt = bicubic((x + xmin - center + 0.5) * ss);
            k[x] = wgt;
            ww += wgt;
        }
        for (x = 0; x < xmax; x++)
            if (ww != 0.0) k[x] /= ww;
        for (; x < ksize; x++) k[x] = 0;
        bounds[xx * 2] = xmin, bounds[xx * 2 + 1] = xmax;
    }
    for (size_t i = 0; i < (size_t)out_size * ksize; i++) /* rounded half away from zero */
        kk[i] = pre[i] < 0 ? (int32_t)(-0.5 + pre[i] * (1 << PRECISION_BITS)) : (int32_t)(0.5 + pre[i] * (1 << PRECISION_BITS));
    free(pre);
    *bounds_out = bounds;
    *kk_out = kk;
    return ksize;
}

static uint8_t clip8(int32_t v) {
    v >>= PRECISION_BITS; /* arithmetic shift, as Pillow's lookup table indexes */
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

int q35_resize_bicubic(uint8_t *out, int ow, int oh, const uint8_t *in, int iw, int ih) {
    int *hb = NULL, *vb = NULL;
    int32_t *hk = NULL, *vk = NULL;
    uint8_t *tmp = NULL;
    int rc = -1;
    int kh = coeffs(iw, ow, &hb, &hk), kv = coeffs(ih, oh, &vb, &vk);
    if (kh < 0 || kv < 0) goto done;
    const uint8_t *src = in;
    int sw = iw, sh = ih, y0 = 0;
    if (ow != iw) { /* horizontal pass over the rows the vertical pass will read */
        int first = vb[0], last = vb[(oh - 1) * 2] + vb[(oh - 1) * 2 + 1];
        if (oh == ih) first = 0, last = ih;
        tmp = malloc((size_t)ow * (last - first) * 3);
        if (!tmp) goto done;
        for (int y = first; y < last; y++)
            for (int x = 0; x < ow; x++) {
                int xmin = hb[x * 2], xn = hb[x * 2 + 1];
                const int32_t *k = hk + (size_t)x * kh;
                for (int c = 0; c < 3; c++) {
                    int32_t ss = 1 << (PRECISION_BITS - 1);
                    for (int j = 0; j < xn; j++) ss += in[((size_t)y * iw + xmin + j) * 3 + c] * k[j];
                    tmp[((size_t)(y - first) * ow + x) * 3 + c] = clip8(ss);
                }
            }
        src = tmp, sw = ow, sh = last - first, y0 = first;
    }
    if (oh != ih) {
        for (int y = 0; y < oh; y++) {
            int ymin = vb[y * 2] - y0, yn = vb[y * 2 + 1];
            const int32_t *k = vk + (size_t)y * kv;
            for (int x = 0; x < sw; x++)
                for (int c = 0; c < 3; c++) {
                    int32_t ss = 1 << (PRECISION_BITS - 1);
                    for (int j = 0; j < yn; j++) ss += src[((size_t)(ymin + j) * sw + x) * 3 + c] * k[j];
                    out[((size_t)y * sw + x) * 3 + c] = clip8(ss);
                }
        }
    } else {
        memcpy(out, src, (size_t)sw * sh * 3);
    }
    rc = 0;
done:
    free(hb), free(vb), free(hk), free(vk), free(tmp);
    return rc;
}

/* ---- preprocessing ---- */

void q35_preproc_defaults(q35_preproc_config *p) {
    p->patch_size = 16;
    p->temporal_patch_size = 2;
    p->merge_size = 2;
    p->min_pixels = 65536;
    p->max_pixels = 16777216;
    for (int c = 0; c < 3; c++) p->mean[c] = 0.5f, p->std[c] = 0.5f;
}

int q35_preproc_load(q35_preproc_config *p, const char *dir, char *err, size_t errlen) {
    q35_preproc_defaults(p);
    char path[4096];
    snprintf(path, sizeof path, "%s/preprocessor_config.json", dir);
    cJSON *j = q35_read_json_object(path, 1u << 20, 1, err, errlen);
    if (!j) return err[0] ? -1 : 0; /* no file: the released settings */
    const cJSON *v, *size = cJSON_GetObjectItemCaseSensitive(j, "size");
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(size, "shortest_edge"))) p->min_pixels = (long)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(size, "longest_edge"))) p->max_pixels = (long)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "min_pixels"))) p->min_pixels = (long)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "max_pixels"))) p->max_pixels = (long)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "patch_size"))) p->patch_size = (int)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "temporal_patch_size"))) p->temporal_patch_size = (int)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "merge_size"))) p->merge_size = (int)v->valuedouble;
    const char *keys[2] = { "image_mean", "image_std" };
    float *dst[2] = { p->mean, p->std };
    for (int k = 0; k < 2; k++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, keys[k]);
        if (cJSON_IsArray(a) && cJSON_GetArraySize(a) == 3)
            for (int c = 0; c < 3; c++) dst[k][c] = (float)cJSON_GetArrayItem(a, c)->valuedouble;
    }
    cJSON_Delete(j);
    if (p->patch_size <= 0 || p->temporal_patch_size <= 0 || p->merge_size <= 0 || p->min_pixels <= 0 ||
        p->max_pixels < p->min_pixels || p->std[0] == 0 || p->std[1] == 0 || p->std[2] == 0)
        return q35_fail(err, errlen, "%s: inconsistent preprocessing settings", path);
    return 0;
}

int q35_preproc_grid(const q35_preproc_config *p, int h, int w, int grid_thw[3], char *err, size_t errlen) {
    int rh, rw, factor = p->patch_size * p->merge_size;
    if (q35_smart_resize(h, w, factor, p->min_pixels, p->max_pixels, &rh, &rw, err, errlen) != 0) return -1;
    grid_thw[0] = 1, grid_thw[1] = rh / p->patch_size, grid_thw[2] = rw / p->patch_size;
    return 0;
}

int q35_preprocess(float *out, const q35_preproc_config *p, const q35_image *im, const int grid_thw[3], char *err,
                   size_t errlen) {
    int ps = p->patch_size, T = p->temporal_patch_size, m = p->merge_size;
    int gh = grid_thw[1], gw = grid_thw[2], rh = gh * ps, rw = gw * ps;
    const uint8_t *px = im->rgb;
    uint8_t *resized = NULL;
    if (rh != im->h || rw != im->w) { /* Pillow resizes only when the size changes */
        resized = malloc((size_t)rh * rw * 3);
        if (!resized || q35_resize_bicubic(resized, rw, rh, im->rgb, im->w, im->h) != 0) {
            free(resized);
            return q35_fail(err, errlen, "out of memory resizing a %dx%d image to %dx%d", im->w, im->h, rw, rh);
        }
        px = resized;
    }
    /* rescale in double then normalise in float32, as the processor's numpy dtypes do */
    float lut[3][256];
    for (int c = 0; c < 3; c++)
        for (int u = 0; u < 256; u++) lut[c][u] = ((float)((double)u * (1.0 / 255.0)) - p->mean[c]) / p->std[c];
    size_t row_len = (size_t)3 * T * ps * ps, r = 0;
    for (int br = 0; br < gh / m; br++)
        for (int bc = 0; bc < gw / m; bc++)
            for (int ir = 0; ir < m; ir++)
                for (int ic = 0; ic < m; ic++, r++) {
                    int prow = br * m + ir, pcol = bc * m + ic;
                    float *o = out + r * row_len;
                    for (int c = 0; c < 3; c++)
                        for (int t = 0; t < T; t++) /* a still image is repeated over the frames */
                            for (int y = 0; y < ps; y++)
                                for (int x = 0; x < ps; x++)
                                    *o++ = lut[c][px[((size_t)(prow * ps + y) * rw + pcol * ps + x) * 3 + c]];
                }
    free(resized);
    return 0;
}

void q35_image_batch_free(q35_image_batch *b) {
    free(b->grids);
    free(b->pixels);
    memset(b, 0, sizeof *b);
}

int q35_image_batch_load(q35_image_batch *b, const q35_preproc_config *p, const char *const *files, int n, int exif,
                         q35_image_seen_fn seen, void *ctx, char *err, size_t errlen) {
    memset(b, 0, sizeof *b);
    b->row = 3 * p->temporal_patch_size * p->patch_size * p->patch_size;
    b->grids = calloc((size_t)n + 1, sizeof *b->grids);
    if (!b->grids) return q35_fail(err, errlen, "out of memory");
    for (int k = 0; k < n; k++) {
        q35_image im;
        char msg[1024];
        if (q35_image_load_opts(&im, files[k], exif, err, errlen) != 0) goto fail;
        int *g = b->grids[k];
        if (q35_preproc_grid(p, im.h, im.w, g, msg, sizeof msg) != 0) {
            q35_image_free(&im);
            q35_fail(err, errlen, "%s: %s", files[k], msg);
            goto fail;
        }
        if (seen) seen(ctx, files[k], &im, g);
        int add = g[0] * g[1] * g[2];
        float *px = realloc(b->pixels, (size_t)(b->npatch + add) * b->row * sizeof(float));
        int rc = px ? q35_preprocess(px + (size_t)b->npatch * b->row, p, &im, g, err, errlen)
                    : q35_fail(err, errlen, "%s: out of memory", files[k]);
        if (px) b->pixels = px;
        q35_image_free(&im);
        if (rc != 0) goto fail;
        b->npatch += add;
        b->n = k + 1;
    }
    return 0;
fail:
    q35_image_batch_free(b);
    return -1;
}
