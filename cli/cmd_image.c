/* cmd_image.c - preprocess: images to pixel_values as Hugging Face's processor makes them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <utf8proc.h>

#include "cli.h"
#include "logits.h"
#include "policy.h"
#include "q35.h"
#include "util.h"

/* ---- preprocess ---- */

static const char *usage_preprocess =
    "usage: q35 preprocess IMAGE... --out FILE [--model DIR] [--no-exif]\n"
    "\n"
    "Decodes PNG/JPEG images and preprocesses them exactly as Hugging Face's Qwen2-VL image\n"
    "processor does (smart_resize, Pillow's bicubic, rescale and normalise in float32, 2 frames,\n"
    "2x2 merge-block patch order). Writes FILE (safetensors) with pixel_values [N, 1536] (F32) and\n"
    "image_grid_thw [images, 3] (I64), the images' rows concatenated in the order given.\n"
    "\n"
    "  --model DIR   read DIR/preprocessor_config.json (a DIR without one, or no --model: the\n"
    "                released settings: patch 16, merge 2, 65536..16777216 pixels, mean = std = 0.5)\n"
    "  --no-exif     do not apply EXIF orientation\n";

static void print_image(void *ctx, const char *file, const q35_image *im, const int g[3]) {
    const q35_preproc_config *pc = ctx;
    printf("%s: %dx%d -> %dx%d, grid (%d, %d, %d), %d image tokens\n", file, im->w, im->h, g[2] * pc->patch_size,
           g[1] * pc->patch_size, g[0], g[1], g[2], g[0] * g[1] * g[2] / (pc->merge_size * pc->merge_size));
}

int cmd_preprocess(int argc, char **argv) {
    static const char *const vals[] = { "--out", "--model", NULL };
    if (wants_help(argc, argv)) {
        fputs(usage_preprocess, stdout);
        return 0;
    }
    if (argc < 1) {
        fputs(usage_preprocess, stderr);
        return 2;
    }
    const char *out = NULL, *model = NULL;
    int exif = 1, n = 0;
    char **files = calloc((size_t)argc, sizeof *files);
    if (!files) return die("out of memory");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--no-exif") == 0) exif = 0;
        else if (a[0] != '-' || !a[1]) files[n++] = argv[i];
        else if (!(v = cli_value("preprocess", argc, argv, &i, vals))) {
            free(files);
            return 2;
        } else if (strcmp(a, "--out") == 0) out = v;
        else model = v;
    }
    if (!out || n == 0) {
        fprintf(stderr, "q35 preprocess: give images and --out\n%s", usage_preprocess);
        free(files);
        return 2;
    }
    char err[ERRLEN];
    q35_preproc_config pc;
    q35_preproc_defaults(&pc);
    if (model) {
        /* a --model that is not there must not fall back to the released settings in silence */
        struct stat sb;
        int e = stat(model, &sb) != 0 ? errno : 0;
        if (e || !S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "q35 preprocess: --model %s: %s\n", model, e ? strerror(e) : "not a directory");
            free(files);
            return 1;
        }
        char pcfg[4200];
        snprintf(pcfg, sizeof pcfg, "%s/preprocessor_config.json", model);
        err[0] = 0;
        if (q35_preproc_load(&pc, model, err, sizeof err) != 0) {
            free(files);
            return die(err);
        }
        if (access(pcfg, F_OK) != 0)
            fprintf(stderr, "q35 preprocess: note: %s has no preprocessor_config.json; using the released settings\n", model);
    }
    int rc = 1;
    q35_image_batch b;
    int64_t *grid = NULL;
    if (q35_image_batch_load(&b, &pc, (const char *const *)files, n, exif, print_image, &pc, err, sizeof err) != 0) goto out;
    grid = malloc((size_t)n * 3 * sizeof *grid);
    if (!grid) { snprintf(err, sizeof err, "out of memory"); goto out; }
    for (int k = 0; k < n * 3; k++) grid[k] = b.grids[k / 3][k % 3];
    const char *names[2] = { "pixel_values", "image_grid_thw" };
    q35_tensor ts[2] = { { .dtype = Q35_F32, .ndim = 2, .shape = { b.npatch, b.row }, .data = b.pixels },
                         { .dtype = Q35_I64, .ndim = 2, .shape = { n, 3 }, .data = grid } };
    if (q35_st_save(out, names, ts, 2, err, sizeof err) != 0) goto out;
    printf("wrote pixel_values [%d, %d] and image_grid_thw [%d, 3] to %s\n", b.npatch, b.row, n, out);
    rc = 0;
out:
    if (rc) fprintf(stderr, "q35: %s\n", err);
    q35_image_batch_free(&b);
    free(grid);
    free(files);
    return rc;
}
