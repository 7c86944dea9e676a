/* config.h - an evaluation's YAML configuration: a mapping of known keys (nested mappings are
 * written as dotted keys), every error naming the file and line, --set KEY=VALUE overrides, and
 * the effective configuration with its SHA-256 for every report. */
#ifndef Q35_EVAL_CONFIG_H
#define Q35_EVAL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* The keys q35 knows, with their meaning: see q35_eval_keys. */
typedef struct {
    char *task;          /* task: "mmlu" (multiple choice, loglikelihood) */
    char *model;         /* model: checkpoint directory */
    char *backend;       /* backend: fast | ref | fast-bf16 */
    int threads;         /* threads: 0 = every core */
    char *data;          /* dataset.path: the dataset directory */
    char *format;        /* dataset.format: "mmlu-csv" */
    int num_fewshot;     /* prompt.num_fewshot */
    char *scoring;       /* scoring: "loglikelihood" */
    int limit;           /* limit: items per subject (0 = all) */
    uint64_t seed;       /* seed */
    char *tokenizer;     /* tokenizer: a tokenizer.json instead of the model's */
    int no_prefix_cache; /* speed.no_prefix_cache: 1 = run every context whole (for checking) */
    char *source;        /* the file read */
    char hash[65];       /* SHA-256 of the effective configuration's canonical text */
} q35_eval_config;

/* Reads path (YAML) into c, with defaults for the keys it does not give. -1 with err
 * ("path:line: ...") on YAML errors, unknown keys, wrong types or values out of range. */
int q35_eval_config_load(q35_eval_config *c, const char *path, char *err, size_t errlen);
/* Applies "key=value" (a dotted key) over c. -1 with err on an unknown key or a bad value. */
int q35_eval_config_set(q35_eval_config *c, const char *kv, char *err, size_t errlen);
/* Recomputes c->hash and returns the canonical text (a new string: "key: value\n" per key, in a
 * fixed order), which is also what goes into a run directory as config.yaml. */
char *q35_eval_config_text(q35_eval_config *c);
void q35_eval_config_free(q35_eval_config *c);

#endif
