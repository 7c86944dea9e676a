/* video.c - frame sampling, the video smart_resize and timestamps of Qwen3-VL's video processor. */
#include "video.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "util.h"

int q35_video_config_load(q35_video_config *c, const char *dir, char *err, size_t errlen) {
    *c = (q35_video_config){ .min_pixels = 4096, .max_pixels = 25165824, .patch = 16, .temporal = 2, .merge = 2,
                             .fps = 2, .min_frames = 4, .max_frames = 768 };
    char path[4200];
    snprintf(path, sizeof path, "%s/video_preprocessor_config.json", dir);
    cJSON *j = q35_read_json_object(path, 1u << 20, 1, err, errlen);
    if (!j) return err[0] ? -1 : 0; /* no file: the defaults */
    const cJSON *v, *size = cJSON_GetObjectItemCaseSensitive(j, "size");
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(size, "shortest_edge"))) c->min_pixels = (long)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(size, "longest_edge"))) c->max_pixels = (long)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "patch_size"))) c->patch = (int)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "temporal_patch_size"))) c->temporal = (int)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "merge_size"))) c->merge = (int)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "fps"))) c->fps = v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "min_frames"))) c->min_frames = (int)v->valuedouble;
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "max_frames"))) c->max_frames = (int)v->valuedouble;
    cJSON_Delete(j);
    if (c->patch <= 0 || c->temporal <= 0 || c->merge <= 0 || c->min_pixels <= 0 || c->max_pixels < c->min_pixels ||
        !(c->fps > 0) || c->min_frames < 1 || c->max_frames < c->min_frames)
        return q35_fail(err, errlen, "%s: inconsistent video settings", path);
    return 0;
}

void q35_video_plan_free(q35_video_plan *p) {
    free(p->indices);
    free(p->times);
    memset(p, 0, sizeof *p);
}

int q35_video_plan_make(q35_video_plan *p, const q35_video_config *c, int total_frames, double video_fps, int height,
                        int width, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    if (total_frames <= 0) return q35_fail(err, errlen, "the video has no frames");
    if (height <= 0 || width <= 0) return q35_fail(err, errlen, "video frames of %dx%d: a zero side", width, height);
    if (!(video_fps > 0)) video_fps = 24; /* Hugging Face's assumption when the rate is unknown */
    double want = (double)total_frames / video_fps * c->fps;
    int n = want >= 2147483647.0 ? 2147483647 : (int)want;
    if (n < c->min_frames) n = c->min_frames;
    if (n > c->max_frames) n = c->max_frames;
    if (n > total_frames) n = total_frames;
    if (n < c->temporal) return q35_fail(err, errlen, "%d frames sampled; a video needs at least %d", n, c->temporal);
    /* the video smart_resize */
    int factor = c->patch * c->merge;
    double h = height, w = width;
    if (h < factor || w < factor) {
        double s = fmax(factor / h, factor / w);
        h = floor(h * s), w = floor(w * s);
    }
    if (fmax(h, w) / fmin(h, w) > 200)
        return q35_fail(err, errlen, "video frames of %dx%d have an aspect ratio over 200", width, height);
    double hb = nearbyint(h / factor) * factor, wb = nearbyint(w / factor) * factor; /* Python round: half to even */
    double tb = nearbyint((double)n / c->temporal) * c->temporal;
    if (tb * hb * wb > (double)c->max_pixels) {
        double beta = sqrt((double)n * h * w / (double)c->max_pixels);
        hb = fmax(factor, floor(h / beta / factor) * factor);
        wb = fmax(factor, floor(w / beta / factor) * factor);
    } else if (tb * hb * wb < (double)c->min_pixels) {
        double beta = sqrt((double)c->min_pixels / ((double)n * h * w));
        hb = ceil(h * beta / factor) * factor;
        wb = ceil(w * beta / factor) * factor;
    }
    int groups = (n + c->temporal - 1) / c->temporal;
    p->indices = malloc((size_t)n * sizeof *p->indices);
    p->times = malloc((size_t)groups * sizeof *p->times);
    if (!p->indices || !p->times) {
        q35_video_plan_free(p);
        return q35_fail(err, errlen, "out of memory");
    }
    double step = n > 1 ? (double)(total_frames - 1) / (n - 1) : 0; /* numpy.linspace, endpoint exact */
    for (int i = 0; i < n; i++) p->indices[i] = i == n - 1 && n > 1 ? total_frames - 1 : (int)nearbyint(i * step);
    for (int g = 0; g < groups; g++) { /* the last group repeats the last frame when n is odd */
        int a = g * c->temporal, b = a + c->temporal - 1 < n ? a + c->temporal - 1 : n - 1;
        p->times[g] = (p->indices[a] / video_fps + p->indices[b] / video_fps) / 2;
    }
    p->n = n;
    p->grid[0] = groups, p->grid[1] = (int)hb / c->patch, p->grid[2] = (int)wb / c->patch;
    p->tokens_per_group = p->grid[1] * p->grid[2] / (c->merge * c->merge);
    return 0;
}

char *q35_video_placeholder(const q35_video_plan *p) {
    static const char vs[] = "<|vision_start|>", pad[] = "<|video_pad|>", ve[] = "<|vision_end|>";
    size_t per = 40 + sizeof vs + sizeof ve + (size_t)p->tokens_per_group * (sizeof pad - 1);
    size_t cap = (size_t)p->grid[0] * per + 1, len = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    s[0] = 0;
    for (int g = 0; g < p->grid[0]; g++) {
        len += (size_t)snprintf(s + len, cap - len, "<%.1f seconds>%s", p->times[g], vs);
        for (int k = 0; k < p->tokens_per_group; k++) memcpy(s + len, pad, sizeof pad), len += sizeof pad - 1;
        memcpy(s + len, ve, sizeof ve), len += sizeof ve - 1;
    }
    return s;
}

static int is_frame(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int q35_video_plan_dir(q35_video_plan *p, const q35_video_config *c, const char *dir, double video_fps, char *err,
                       size_t errlen) {
    memset(p, 0, sizeof *p);
    DIR *d = opendir(dir);
    if (!d) return q35_fail(err, errlen, "%s: %s (a video is given as a directory of frames)", dir, strerror(errno));
    char **names = NULL;
    int n = 0, cap = 0, rc = -1;
    for (struct dirent *e; (e = readdir(d));) {
        if (!is_frame(e->d_name)) continue;
        if (n == cap) {
            char **nn = realloc(names, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *nn);
            if (!nn) goto oom;
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name))) goto oom;
        n++;
    }
    closedir(d);
    d = NULL;
    if (n == 0) {
        q35_fail(err, errlen, "%s: no frames (*.png, *.jpg, *.jpeg)", dir);
        goto done;
    }
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    int w0 = 0, h0 = 0;
    for (int pass = 0; pass < 2; pass++) { /* the first frame's size makes the plan; then every sampled frame */
        int count = pass ? p->n : 1;
        for (int k = 0; k < count; k++) {
            char path[4200], e2[512];
            snprintf(path, sizeof path, "%s/%s", dir, names[pass ? p->indices[k] : 0]);
            q35_image im;
            if (q35_image_load_opts(&im, path, 0, e2, sizeof e2) != 0) {
                q35_fail(err, errlen, "%s", e2);
                goto done;
            }
            int w = im.w, h = im.h;
            q35_image_free(&im);
            if (!pass) w0 = w, h0 = h;
            else if (w != w0 || h != h0) {
                q35_fail(err, errlen, "%s: frame of %dx%d, the first frame is %dx%d (a video's frames share one size)", path,
                         w, h, w0, h0);
                goto done;
            }
        }
        if (!pass && q35_video_plan_make(p, c, n, video_fps, h0, w0, err, errlen) != 0) goto done;
    }
    rc = 0;
    goto done;
oom:
    q35_fail(err, errlen, "out of memory");
done:
    if (d) closedir(d);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    if (rc != 0) q35_video_plan_free(p);
    return rc;
}
