/* video.h - video placeholders: the frames Hugging Face's Qwen3-VL video processor samples from a
 * video, the grid it makes of them, and the prompt text each temporal group becomes.
 *
 * A video of total_frames frames at video_fps is sampled at fps (2) frames per second:
 * n = int(total / video_fps * fps), clamped to [min_frames, max_frames] and to total; indices =
 * round-half-even of numpy.linspace(0, total - 1, n). The frames are resized by the video
 * smart_resize (factor patch * merge = 32; sides under 32 scaled up first; the pixel budget
 * counts all n frames: [shortest_edge, longest_edge] of video_preprocessor_config.json, 4096 ..
 * 25165824 by default, no per-frame cap, as transformers 5.24 does by default) and padded to an
 * even count by repeating the last; each pair of frames is one temporal group. In the prompt each
 * <|video_pad|> becomes, per group, "<T seconds>" (T, one decimal, the mean timestamp of the
 * group's two frames) + <|vision_start|> + (grid_h * grid_w / merge^2) x <|video_pad|> +
 * <|vision_end|>, inside the template's own <|vision_start|> ... <|vision_end|>.
 * Only the placeholders: video pixels do not go through the vision tower yet. */
#ifndef Q35_VIDEO_H
#define Q35_VIDEO_H

#include <stddef.h>

typedef struct {
    long min_pixels, max_pixels;  /* size.shortest_edge, size.longest_edge */
    int patch, temporal, merge;
    double fps;                   /* frames sampled per second of video */
    int min_frames, max_frames;
} q35_video_config;

typedef struct {
    int n;                        /* frames sampled */
    int *indices;                 /* their indices in the video (owned) */
    int grid[3];                  /* temporal groups, patch rows, patch columns */
    double *times;                /* grid[0] timestamps, seconds (owned) */
    int tokens_per_group;         /* <|video_pad|> tokens of one group */
} q35_video_plan;

/* Defaults, then the checkpoint directory's video_preprocessor_config.json when it has one. */
int q35_video_config_load(q35_video_config *c, const char *dir, char *err, size_t errlen);
/* The plan for a video of total_frames frames of height x width at video_fps (<= 0: unknown, 24
 * as Hugging Face assumes). Errors: no frames, fewer than 2 sampled, a zero side, an aspect ratio
 * over 200. */
int q35_video_plan_make(q35_video_plan *p, const q35_video_config *c, int total_frames, double video_fps, int height,
                        int width, char *err, size_t errlen);
/* The plan for a video given as a directory of frames (PNG/JPEG files, in name order: every frame
 * of the video, video_fps frames per second). The sampled frames are decoded (no EXIF rotation, as
 * for frames from a video decoder) and must all have the first one's size. Errors name the file. */
int q35_video_plan_dir(q35_video_plan *p, const q35_video_config *c, const char *dir, double video_fps, char *err,
                       size_t errlen);
/* The text that replaces the video's <|video_pad|> (new string), NULL when out of memory. */
char *q35_video_placeholder(const q35_video_plan *p);
void q35_video_plan_free(q35_video_plan *p);

#endif
