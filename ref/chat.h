/* chat.h - the chat format: a checkpoint's chat template rendered over messages, then tokenized,
 * with each image placeholder expanded to its image's size. */
#ifndef Q35_CHAT_H
#define Q35_CHAT_H

#include <stddef.h>

#include <cJSON.h>

#include "tokenizer.h"

/* The chat template for path: a .jinja file itself, or in a directory its chat_template.jinja,
 * else the "chat_template" string of its tokenizer_config.json, else a built-in copy of
 * Qwen3.5's (the 0.8B/2B variant when config.json says hidden_size <= 2048). A new string;
 * *source (optional) says where it came from. NULL with err when a file cannot be read. */
char *q35_chat_template_load(const char *path, const char **source, char *err, size_t errlen);

/* The built-in copy of Qwen3.5's chat template: small (0.8B/2B: thinking only when asked) or the
 * larger models' and the 4B's (thinking by default). */
const char *q35_chat_template_builtin(int small);

/* Renders template over messages (a JSON list) and flags (a JSON object: add_generation_prompt,
 * enable_thinking, add_vision_id, tools; absent keys are not passed). A new string, or NULL with
 * err (template errors, or "raise_exception: ..." from the template itself). */
char *q35_chat_render(const char *template_text, const cJSON *messages, const cJSON *flags, char *err, size_t errlen);

/* A cJSON number node written with a fraction or an exponent ("2.0", "1e3") carries this bit in
 * its type, so that templates print it as Python would (2.0, not 2); cJSON ignores the bit. */
#define Q35_JSON_FLOAT (1 << 14)

/* cJSON_Parse that also marks every number written as a float with Q35_JSON_FLOAT (messages,
 * tools and flags for q35_chat_render go through it). NULL when text is not JSON. */
cJSON *q35_chat_parse_json(const char *text);

/* Replaces the k-th "<|video_pad|>" of the rendered text with placeholders[k] (video.h's
 * q35_video_placeholder: per temporal group a timestamp and its run of pads), as the processor does
 * before tokenizing. A new string; NULL with err when the text holds another number of videos. */
char *q35_expand_video_text(const char *text, char *const *placeholders, int nvideos, char *err, size_t errlen);

/* Expands the k-th run of image_token_id in ids (a single placeholder, or a run already of the
 * right length) to counts[k] tokens. *out is a new array. -1 with err when runs and counts differ. */
int q35_expand_image_tokens(int **out, int *nout, const int *ids, int n, int image_token_id, const int *counts,
                            int nimages, char *err, size_t errlen);

#endif
