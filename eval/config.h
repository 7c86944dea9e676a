/* config.h - an evaluation's YAML configuration: a mapping of known keys (nested mappings are
 * written as dotted keys), every error naming the file and line, --set KEY=VALUE overrides, and
 * the effective configuration with its SHA-256 for every report. The keys and what they mean are
 * listed in the README ("q35 eval: the configuration"). */
#ifndef Q35_EVAL_CONFIG_H
#define Q35_EVAL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    /* what is run */
    char *task;          /* task: a name for reports ("mmlu", "mmlu_redux", ...) */
    char *type;          /* type: "multiple_choice" */
    char *model;         /* model: checkpoint directory */
    char *backend;       /* backend: fast | ref | fast-bf16 */
    int threads;         /* threads: 0 = every core */
    char *tokenizer;     /* tokenizer: a tokenizer.json instead of the model's */
    /* dataset */
    char *format;        /* dataset.format: mmlu-csv | mmlu-redux | jsonl | csv | tsv */
    char *data;          /* dataset.path: the scored split (a file or a directory) */
    char *images;        /* dataset.images: the image directory (POPE, VQAv2) */
    char *annotations;   /* dataset.annotations: VQAv2's annotations file */
    char *fewshot_data;  /* dataset.fewshot_path: the few-shot split (jsonl/csv/tsv formats) */
    char *keep;          /* dataset.keep: MMLU-Redux error types kept ("ok", ...; empty = all) */
    int corrected;       /* dataset.corrected_labels: MMLU-Redux's correct_answer where wrong_groundtruth */
    char *col_question, *col_choices, *col_answer, *answer_format, *col_subject, *col_category;
                         /* dataset.columns.{question,choices,answer,answer_format,subject,category} */
    char *subjects;      /* dataset.subjects: comma-separated subset (empty = all) */
    /* prompt */
    char *style;         /* prompt.style: lm-eval-mmlu | zeroeval-mcqa (defaults of the keys below) */
    char *description, *question_format, *option_format, *target_delimiter, *fewshot_delimiter;
    int strip_question;  /* prompt.strip_question: -1 = the style's */
    int num_fewshot;     /* prompt.num_fewshot */
    int chat_template;   /* prompt.chat_template: through the model's chat template */
    int multiturn;       /* prompt.fewshot_as_multiturn */
    char *system;        /* prompt.system */
    int thinking;        /* prompt.thinking: -1 the template's default, 0 off, 1 on */
    /* scoring */
    char *scoring;       /* scoring: loglikelihood | generate */
    char *preset;        /* sampling.preset: a q35 generate preset name */
    double temperature, top_p, min_p, presence_penalty, frequency_penalty, repetition_penalty;
    int top_k;           /* sampling.*: NAN / -1 = not stated */
    int max_new_tokens;  /* max_new_tokens: 0 = not stated */
    int limit;           /* limit: items per subject (0 = all) */
    uint64_t seed;       /* seed: the sampler's seed for every item is derived from it and the item */
    int no_prefix_cache; /* speed.no_prefix_cache: run every context whole (for checking) */
    int no_vision_cache; /* speed.no_vision_cache: run the vision tower for every item (for checking) */
    /* vision-language items */
    char *extract;       /* extract: card (JSON answer, \boxed, Answer:, lone letter) | vlmevalkit (can_infer) */
    int circular;        /* circular: MMBench's circular evaluation beside the plain score */
    int min_pixels, max_pixels; /* image.min_pixels, image.max_pixels: the image budget (0 = the model's) */
    /* the published score to print beside ours, by model size */
    double ref_08b, ref_2b, ref_4b; /* reference.0_8b, reference.2b, reference.4b (percent; NAN = none) */
    char *ref_source;    /* reference.source */
    char *source;        /* the file read */
    char hash[65];       /* SHA-256 of the effective configuration's canonical text */
} q35_eval_config;

/* Reads path (YAML) into c, with defaults for the keys it does not give. -1 with err
 * ("path:line: ...") on YAML errors, unknown keys, wrong types or values out of range. */
int q35_eval_config_load(q35_eval_config *c, const char *path, char *err, size_t errlen);
/* Applies "key=value" (a dotted key) over c. -1 with err on an unknown key or a bad value. */
int q35_eval_config_set(q35_eval_config *c, const char *kv, char *err, size_t errlen);
/* Checks what keys mean together (a generative task states its sampling and max_new_tokens, the
 * dataset format has the keys it needs, the style exists) and fills the prompt keys the style
 * gives. -1 with err naming the key. */
int q35_eval_config_finish(q35_eval_config *c, char *err, size_t errlen);
/* Recomputes c->hash and returns the canonical text (a new string: "key: value\n" per key in a
 * fixed order, strings JSON-quoted; itself a valid configuration), which is also what goes into a
 * run directory as config.yaml. */
char *q35_eval_config_text(q35_eval_config *c);
/* The known keys, comma-separated (for messages and --help). */
const char *q35_eval_config_keys(void);
void q35_eval_config_free(q35_eval_config *c);

#endif
