/* image.h - image decoding and Qwen3.5's image preprocessing.
 *
 * Decoding uses libpng and libjpeg-turbo, the decoders Pillow uses, so the 8-bit RGB pixels are
 * the ones Hugging Face's processor sees. Preprocessing reproduces Qwen2-VL's image processor
 * (the PIL path) bit for bit: smart_resize, Pillow's bicubic resampling, rescale and normalise in
 * float32, temporal duplication and the 2x2 merge-block patch order. */
#ifndef Q35_IMAGE_H
#define Q35_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define Q35_IMAGE_MAX_SIDE 65500          /* larger sides are refused before allocating */
#define Q35_IMAGE_MAX_PIXELS (1u << 28)   /* and so are more pixels than this */

typedef struct {
    int w, h;
    uint8_t *rgb; /* [h, w, 3], owned */
} q35_image;

/* Decodes a PNG or JPEG file (by content, not by name) to 8-bit RGB as Pillow's convert("RGB")
 * does: 16-bit samples reduced to 8, palette expanded, grey replicated, alpha dropped (not
 * composited). Returns -1 with err for unreadable, corrupt, truncated or oversized images. */
int q35_image_load(q35_image *im, const char *path, char *err, size_t errlen);
/* The same; exif = 0 skips the EXIF orientation (Hugging Face applies it for images loaded from a
 * path, as ImageOps.exif_transpose, and not for PIL images passed in directly). With exif = 1 the
 * orientation is the one Pillow 13's exif_transpose finds: JPEG's first "Exif\0\0" APP1 (later ones
 * appended), PNG's last eXIf or "exif" text chunk, else its "Raw profile type exif" text, then XMP's
 * tiff:Orientation when IFD0 has none; and the load fails (-1, err says why) where exif_transpose
 * raises on the metadata, as Hugging Face's load_image then does. */
int q35_image_load_opts(q35_image *im, const char *path, int exif, char *err, size_t errlen);
void q35_image_free(q35_image *im);

/* Qwen2-VL smart_resize: both sides multiples of factor, area within [min_pixels, max_pixels],
 * aspect kept as far as possible (Python's round-half-to-even). -1 with err when the aspect ratio
 * exceeds 200 or a side is zero. */
int q35_smart_resize(int h, int w, int factor, long min_pixels, long max_pixels, int *out_h, int *out_w,
                     char *err, size_t errlen);

/* Pillow's bicubic resize (Image.resize(..., BICUBIC), libImaging/Resample.c) of an 8-bit RGB
 * image: horizontal pass then vertical, each rounded and clipped to 8 bits. out [oh, ow, 3]. A
 * pass whose size does not change is skipped, as Pillow does. Returns -1 on allocation failure. */
int q35_resize_bicubic(uint8_t *out, int ow, int oh, const uint8_t *in, int iw, int ih);

typedef struct {
    int patch_size, temporal_patch_size, merge_size;
    long min_pixels, max_pixels;
    float mean[3], std[3];
} q35_preproc_config;

/* The released preprocessor_config.json values (patch 16, temporal 2, merge 2, 65536..16777216
 * pixels, mean = std = 0.5). */
void q35_preproc_defaults(q35_preproc_config *p);
/* Reads dir/preprocessor_config.json over the defaults when the file exists. */
int q35_preproc_load(q35_preproc_config *p, const char *dir, char *err, size_t errlen);

/* Rows of pixel_values for an image: resized (h', w') from smart_resize, grid (1, h'/p, w'/p). */
int q35_preproc_grid(const q35_preproc_config *p, int h, int w, int grid_thw[3], char *err, size_t errlen);

/* pixel_values [N, 3*T*p*p] for im, N = grid_h * grid_w, rows in 2x2 merge-block order, each row
 * (channel, frame, y, x). out must hold N * 3*T*p*p floats (sizes from q35_preproc_grid). */
int q35_preprocess(float *out, const q35_preproc_config *p, const q35_image *im, const int grid_thw[3], char *err,
                   size_t errlen);

/* The images of one prompt, preprocessed: pixel rows of all images concatenated in order. */
typedef struct {
    int n;              /* images */
    int (*grids)[3];    /* [n] (t, h, w) in patches */
    float *pixels;      /* [npatch, row] */
    int npatch, row;
    const float *embeds; /* the vision tower's output for these images, when the caller already has it
                          * (not owned; NULL: computed from pixels) */
} q35_image_batch;

/* Called for each decoded image (before resizing) with its grid; may be NULL. */
typedef void (*q35_image_seen_fn)(void *ctx, const char *file, const q35_image *im, const int grid[3]);

/* Decodes files[0..n) (exif: apply EXIF orientation) and preprocesses each with p into b.
 * Errors name the file. On error b is left empty. */
int q35_image_batch_load(q35_image_batch *b, const q35_preproc_config *p, const char *const *files, int n, int exif,
                         q35_image_seen_fn seen, void *ctx, char *err, size_t errlen);
void q35_image_batch_free(q35_image_batch *b);

#endif
