/* config.c - the evaluation's YAML configuration (config.h), read with libyaml. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <yaml.h>

#include "prompt.h"
#include "sampler.h"
#include "sha256.h"
#include "util.h"

enum { K_STR, K_INT, K_U64, K_BOOL, K_TRI, K_FLOAT };

typedef struct {
    const char *key;
    int type;
    size_t off;
    long long lo, hi;  /* K_INT range; K_FLOAT: lo..hi as whole numbers */
    int nohash;        /* where things are, not what is run: outside the hash (shards on
                        * machines with other paths share it) */
} key_def;

#define OFF(f) offsetof(q35_eval_config, f)
static const key_def keys[] = {
    { "task", K_STR, OFF(task), 0, 0, 0 },
    { "type", K_STR, OFF(type), 0, 0, 0 },
    { "model", K_STR, OFF(model), 0, 0, 1 },
    { "backend", K_STR, OFF(backend), 0, 0, 0 },
    { "threads", K_INT, OFF(threads), 0, 4096, 1 },
    { "tokenizer", K_STR, OFF(tokenizer), 0, 0, 1 },
    { "dataset.format", K_STR, OFF(format), 0, 0, 0 },
    { "dataset.path", K_STR, OFF(data), 0, 0, 1 },
    { "dataset.fewshot_path", K_STR, OFF(fewshot_data), 0, 0, 1 },
    { "dataset.images", K_STR, OFF(images), 0, 0, 1 },
    { "dataset.annotations", K_STR, OFF(annotations), 0, 0, 1 },
    { "dataset.keep", K_STR, OFF(keep), 0, 0, 0 },
    { "dataset.corrected_labels", K_BOOL, OFF(corrected), 0, 1, 0 },
    { "dataset.columns.question", K_STR, OFF(col_question), 0, 0, 0 },
    { "dataset.columns.choices", K_STR, OFF(col_choices), 0, 0, 0 },
    { "dataset.columns.answer", K_STR, OFF(col_answer), 0, 0, 0 },
    { "dataset.columns.answer_format", K_STR, OFF(answer_format), 0, 0, 0 },
    { "dataset.columns.subject", K_STR, OFF(col_subject), 0, 0, 0 },
    { "dataset.columns.category", K_STR, OFF(col_category), 0, 0, 0 },
    { "dataset.subjects", K_STR, OFF(subjects), 0, 0, 0 },
    { "prompt.style", K_STR, OFF(style), 0, 0, 0 },
    { "prompt.description", K_STR, OFF(description), 0, 0, 0 },
    { "prompt.question_format", K_STR, OFF(question_format), 0, 0, 0 },
    { "prompt.option_format", K_STR, OFF(option_format), 0, 0, 0 },
    { "prompt.target_delimiter", K_STR, OFF(target_delimiter), 0, 0, 0 },
    { "prompt.fewshot_delimiter", K_STR, OFF(fewshot_delimiter), 0, 0, 0 },
    { "prompt.strip_question", K_TRI, OFF(strip_question), 0, 1, 0 },
    { "prompt.num_fewshot", K_INT, OFF(num_fewshot), 0, 1000, 0 },
    { "prompt.chat_template", K_BOOL, OFF(chat_template), 0, 1, 0 },
    { "prompt.fewshot_as_multiturn", K_BOOL, OFF(multiturn), 0, 1, 0 },
    { "prompt.system", K_STR, OFF(system), 0, 0, 0 },
    { "prompt.thinking", K_TRI, OFF(thinking), 0, 1, 0 },
    { "scoring", K_STR, OFF(scoring), 0, 0, 0 },
    { "sampling.preset", K_STR, OFF(preset), 0, 0, 0 },
    { "sampling.temperature", K_FLOAT, OFF(temperature), 0, 100, 0 },
    { "sampling.top_p", K_FLOAT, OFF(top_p), 0, 1, 0 },
    { "sampling.top_k", K_INT, OFF(top_k), 0, 1000000, 0 },
    { "sampling.min_p", K_FLOAT, OFF(min_p), 0, 1, 0 },
    { "sampling.presence_penalty", K_FLOAT, OFF(presence_penalty), -100, 100, 0 },
    { "sampling.frequency_penalty", K_FLOAT, OFF(frequency_penalty), -100, 100, 0 },
    { "sampling.repetition_penalty", K_FLOAT, OFF(repetition_penalty), 0, 100, 0 },
    { "max_new_tokens", K_INT, OFF(max_new_tokens), 0, 10000000, 0 },
    { "limit", K_INT, OFF(limit), 0, 1000000000, 0 },
    { "seed", K_U64, OFF(seed), 0, 0, 0 },
    { "speed.no_prefix_cache", K_BOOL, OFF(no_prefix_cache), 0, 1, 0 },
    { "speed.no_vision_cache", K_BOOL, OFF(no_vision_cache), 0, 1, 0 },
    { "extract", K_STR, OFF(extract), 0, 0, 0 },
    { "circular", K_BOOL, OFF(circular), 0, 1, 0 },
    { "image.min_pixels", K_INT, OFF(min_pixels), 0, 1 << 30, 0 },
    { "image.max_pixels", K_INT, OFF(max_pixels), 0, 1 << 30, 0 },
    { "reference.0_8b", K_FLOAT, OFF(ref_08b), 0, 100, 0 },
    { "reference.2b", K_FLOAT, OFF(ref_2b), 0, 100, 0 },
    { "reference.4b", K_FLOAT, OFF(ref_4b), 0, 100, 0 },
    { "reference.source", K_STR, OFF(ref_source), 0, 0, 0 },
};
#define N_KEYS (int)(sizeof keys / sizeof keys[0])

/* The values a string key may take (NULL: any). */
static const char *allowed(const char *key) {
    if (!strcmp(key, "type")) return "multiple_choice yes_no vqa";
    if (!strcmp(key, "backend")) return "fast ref fast-bf16";
    if (!strcmp(key, "dataset.format")) return "mmlu-csv mmlu-redux jsonl csv tsv vlmevalkit-tsv pope vqav2";
    if (!strcmp(key, "extract")) return "card vlmevalkit exact yorn soft";
    if (!strcmp(key, "dataset.columns.answer_format")) return "letter index index1 text auto";
    if (!strcmp(key, "prompt.style")) return "lm-eval-mmlu zeroeval-mcqa vlmevalkit vlmevalkit-qwen lmms-eval";
    if (!strcmp(key, "scoring")) return "loglikelihood generate";
    return NULL;
}

static int in_list(const char *v, const char *list) {
    size_t n = strlen(v);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ' ');
        size_t m = e ? (size_t)(e - p) : strlen(p);
        if (m == n && strncmp(p, v, n) == 0) return 1;
        p += m + (e != NULL);
    }
    return 0;
}

const char *q35_eval_config_keys(void) {
    static char known[2048];
    if (!known[0]) {
        size_t n = 0;
        for (int i = 0; i < N_KEYS && n < sizeof known; i++)
            n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", i ? ", " : "", keys[i].key);
    }
    return known;
}

/* Sets key to the text v; where names "file:line" for messages. */
static int set_key(q35_eval_config *c, const char *key, const char *v, const char *where, char *err, size_t errlen) {
    for (int i = 0; i < N_KEYS; i++) {
        if (strcmp(keys[i].key, key) != 0) continue;
        void *f = (char *)c + keys[i].off;
        if (keys[i].type == K_STR) {
            const char *a = allowed(key);
            if (a && !in_list(v, a)) return q35_fail(err, errlen, "%s: %s '%s': expected one of: %s", where, key, v, a);
            char *s = strdup(v);
            if (!s) return q35_fail(err, errlen, "out of memory");
            free(*(char **)f);
            *(char **)f = s;
            return 0;
        }
        if (keys[i].type == K_BOOL || keys[i].type == K_TRI) {
            if (strcmp(v, "true") && strcmp(v, "false"))
                return q35_fail(err, errlen, "%s: %s '%s': expected true or false", where, key, v);
            *(int *)f = v[0] == 't';
            return 0;
        }
        char *end;
        errno = 0;
        if (keys[i].type == K_FLOAT) {
            double d = strtod(v, &end);
            if (!*v || *end || errno || !isfinite(d) || d < (double)keys[i].lo || d > (double)keys[i].hi)
                return q35_fail(err, errlen, "%s: %s '%s': expected a number in [%lld, %lld]", where, key, v, keys[i].lo,
                                keys[i].hi);
            *(double *)f = d;
            return 0;
        }
        unsigned long long u = strtoull(v, &end, 10);
        if (!*v || *end || errno || v[0] == '-' || v[0] == '+' ||
            (keys[i].type == K_INT && (u < (unsigned long long)keys[i].lo || u > (unsigned long long)keys[i].hi)))
            return keys[i].type == K_INT
                       ? q35_fail(err, errlen, "%s: %s '%s': expected a whole number in [%lld, %lld]", where, key, v,
                                  keys[i].lo, keys[i].hi)
                       : q35_fail(err, errlen, "%s: %s '%s': expected a whole number >= 0", where, key, v);
        if (keys[i].type == K_INT) *(int *)f = (int)u;
        else *(uint64_t *)f = u;
        return 0;
    }
    return q35_fail(err, errlen, "%s: unknown key '%s' (known: %s)", where, key, q35_eval_config_keys());
}

static void defaults(q35_eval_config *c) {
    memset(c, 0, sizeof *c);
    c->task = strdup("mmlu");
    c->type = strdup("multiple_choice");
    c->backend = strdup("fast");
    c->format = strdup("mmlu-csv");
    c->style = strdup("lm-eval-mmlu");
    c->scoring = strdup("loglikelihood");
    c->strip_question = c->thinking = c->top_k = -1;
    c->temperature = c->top_p = c->min_p = c->presence_penalty = c->frequency_penalty = c->repetition_penalty = NAN;
    c->ref_08b = c->ref_2b = c->ref_4b = NAN;
}

/* Walks a mapping node of the document, keys prefixed by prefix. */
static int walk(q35_eval_config *c, yaml_document_t *doc, yaml_node_t *map, const char *prefix, const char *path,
                char *err, size_t errlen) {
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key), *v = yaml_document_get_node(doc, p->value);
        char where[4200];
        snprintf(where, sizeof where, "%s:%lu", path, (unsigned long)k->start_mark.line + 1);
        if (k->type != YAML_SCALAR_NODE) return q35_fail(err, errlen, "%s: a key must be a plain name", where);
        char key[256];
        snprintf(key, sizeof key, "%s%s", prefix, (const char *)k->data.scalar.value);
        if (v->type == YAML_MAPPING_NODE) {
            char pre[300];
            snprintf(pre, sizeof pre, "%s.", key);
            if (walk(c, doc, v, pre, path, err, errlen) != 0) return -1;
            continue;
        }
        snprintf(where, sizeof where, "%s:%lu", path, (unsigned long)v->start_mark.line + 1);
        if (v->type != YAML_SCALAR_NODE) return q35_fail(err, errlen, "%s: %s must be a single value, not a list", where, key);
        const char *sv = (const char *)v->data.scalar.value;
        if (v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && (!sv[0] || !strcmp(sv, "~") || !strcmp(sv, "null")))
            continue; /* "key:" with no value: not set */
        if (set_key(c, key, (const char *)v->data.scalar.value, where, err, errlen) != 0) return -1;
    }
    return 0;
}

int q35_eval_config_load(q35_eval_config *c, const char *path, char *err, size_t errlen) {
    defaults(c);
    c->source = strdup(path);
    size_t n;
    char *text = q35_read_file(path, 1u << 20, &n);
    if (!text) {
        q35_eval_config_free(c);
        return q35_fail(err, errlen, "%s: cannot read (or over 1 MiB)", path);
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, n);
    int rc = 0;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = q35_fail(err, errlen, "%s:%lu: %s", path, (unsigned long)parser.problem_mark.line + 1,
                      parser.problem ? parser.problem : "not YAML");
    } else {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) rc = q35_fail(err, errlen, "%s: empty", path);
        else if (root->type != YAML_MAPPING_NODE) rc = q35_fail(err, errlen, "%s:1: expected a mapping of keys", path);
        else rc = walk(c, &doc, root, "", path, err, errlen);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    free(text);
    if (rc != 0) q35_eval_config_free(c);
    return rc;
}

int q35_eval_config_set(q35_eval_config *c, const char *kv, char *err, size_t errlen) {
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) return q35_fail(err, errlen, "--set %s: expected KEY=VALUE", kv);
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
    return set_key(c, key, eq + 1, "--set", err, errlen);
}

/* Key i's value as canonical text into line, or 0 when it is not set. */
static int value_text(const q35_eval_config *c, int i, char *line, size_t n) {
    const void *f = (const char *)c + keys[i].off;
    switch (keys[i].type) {
    case K_STR: {
        const char *s = *(char *const *)f;
        if (!s) return 0;
        cJSON *j = cJSON_CreateString(s);
        char *q = j ? cJSON_PrintUnformatted(j) : NULL;
        cJSON_Delete(j);
        if (!q) return 0;
        snprintf(line, n, "%s: %s\n", keys[i].key, q);
        free(q);
        return 1;
    }
    case K_TRI:
        if (*(const int *)f < 0) return 0;
        /* fall through */
    case K_BOOL: snprintf(line, n, "%s: %s\n", keys[i].key, *(const int *)f ? "true" : "false"); return 1;
    case K_FLOAT:
        if (isnan(*(const double *)f)) return 0;
        snprintf(line, n, "%s: %.17g\n", keys[i].key, *(const double *)f);
        return 1;
    case K_INT:
        if (*(const int *)f < 0) return 0;
        snprintf(line, n, "%s: %d\n", keys[i].key, *(const int *)f);
        return 1;
    default: snprintf(line, n, "%s: %llu\n", keys[i].key, (unsigned long long)*(const uint64_t *)f); return 1;
    }
}

char *q35_eval_config_text(q35_eval_config *c) {
    size_t cap = 4096, n = 0;
    char *t = malloc(cap);
    if (!t) return NULL;
    t[0] = 0;
    q35_sha256 h;
    q35_sha256_init(&h);
    for (int i = 0; i < N_KEYS; i++) {
        size_t big = 65536;
        char *line = malloc(big);
        if (!line) return free(t), NULL;
        if (!value_text(c, i, line, big)) {
            free(line);
            continue;
        }
        size_t m = strlen(line);
        if (!keys[i].nohash) q35_sha256_update(&h, line, m);
        if (n + m + 1 > cap) {
            char *nt = realloc(t, cap = 2 * (n + m + 1));
            if (!nt) return free(line), free(t), NULL;
            t = nt;
        }
        memcpy(t + n, line, m + 1);
        n += m;
        free(line);
    }
    q35_sha256_hex(&h, c->hash);
    return t;
}

int q35_eval_config_finish(q35_eval_config *c, char *err, size_t errlen) {
    char **fields[] = { &c->description, &c->question_format, &c->option_format, &c->target_delimiter, &c->fewshot_delimiter };
    int vl_style = !strcmp(c->style, "vlmevalkit") || !strcmp(c->style, "vlmevalkit-qwen") || !strcmp(c->style, "lmms-eval"),
        vl_data = !strcmp(c->format, "vlmevalkit-tsv") || !strcmp(c->format, "pope") || !strcmp(c->format, "vqav2"),
        yes_no = !strcmp(c->type, "yes_no"), vqa = !strcmp(c->type, "vqa");
    if (vqa != !strcmp(c->format, "vqav2"))
        return q35_fail(err, errlen, "type vqa goes with dataset.format vqav2 (type %s, format %s)", c->type, c->format);
    if (vqa && c->extract && strcmp(c->extract, "soft"))
        return q35_fail(err, errlen, "extract %s: VQA answers are scored by soft accuracy (extract: soft)", c->extract);
    if (!vqa && c->extract && !strcmp(c->extract, "soft")) return q35_fail(err, errlen, "extract soft is for type vqa");
    if (vqa && c->circular) return q35_fail(err, errlen, "circular is for multiple-choice items");
    if (vqa && (!c->annotations || !c->images))
        return q35_fail(err, errlen, "dataset.format vqav2 needs dataset.annotations and dataset.images (--annotations, --images)");
    if (yes_no != !strcmp(c->format, "pope"))
        return q35_fail(err, errlen, "type yes_no goes with dataset.format pope (type %s, format %s)", c->type, c->format);
    if (c->extract && yes_no != (!strcmp(c->extract, "exact") || !strcmp(c->extract, "yorn")))
        return q35_fail(err, errlen, "extract %s is for %s questions", c->extract, yes_no ? "multiple-choice" : "yes/no");
    if (yes_no && c->circular) return q35_fail(err, errlen, "circular is for multiple-choice items");
    if (vl_style != vl_data)
        return q35_fail(err, errlen, "prompt.style %s is for %s data (dataset.format is %s)", c->style,
                        vl_style ? "vision-language (vlmevalkit-tsv, pope, vqav2)" : "text", c->format);
    if (vl_data && (strcmp(c->scoring, "generate") || !c->chat_template))
        return q35_fail(err, errlen, "vision-language items are scored by generating through the chat template: "
                                     "scoring: generate and prompt.chat_template: true");
    if (!strcmp(c->format, "pope") && !c->images)
        return q35_fail(err, errlen, "dataset.format pope needs dataset.images (the COCO val2014 directory; --images DIR)");
    if (vl_data && c->num_fewshot) return q35_fail(err, errlen, "vision-language items take no shots (prompt.num_fewshot: 0)");
    if (!vl_data && (c->circular || c->min_pixels || c->max_pixels))
        return q35_fail(err, errlen, "circular and image.* are for vision-language data (dataset.format: vlmevalkit-tsv, pope)");
    if (c->min_pixels && c->max_pixels && c->min_pixels > c->max_pixels)
        return q35_fail(err, errlen, "image.min_pixels %d is above image.max_pixels %d", c->min_pixels, c->max_pixels);
    if (!c->extract && !(c->extract = strdup(vqa ? "soft" : yes_no ? "exact" : vl_data ? "vlmevalkit" : "card"))) return q35_fail(err, errlen, "out of memory");
    q35_mc_prompt p = { 0 };
    p.strip_question = c->strip_question;
    if (vl_style) p.strip_question = 0;
    else if (q35_mc_prompt_style(&p, c->style) != 0) return q35_fail(err, errlen, "prompt.style '%s': unknown", c->style);
    const char *given[] = { p.description, p.question_format, p.option_format, p.target_delimiter, p.fewshot_delimiter };
    for (int i = 0; i < 5 && !vl_style; i++) {
        if (*fields[i]) continue;
        if (!(*fields[i] = strdup(given[i]))) return q35_fail(err, errlen, "out of memory");
    }
    if (!vl_style) c->strip_question = p.strip_question;
    if (!strcmp(c->scoring, "generate")) {
        if (c->max_new_tokens <= 0)
            return q35_fail(err, errlen, "scoring: generate needs max_new_tokens (the card's evaluations state theirs)");
        const q35_preset *pr = c->preset ? q35_preset_find(c->preset) : NULL;
        if (c->preset && !pr) return q35_fail(err, errlen, "sampling.preset '%s': unknown (q35 generate --help lists them)", c->preset);
        const char *unstated = NULL;
        if (!pr) {
            if (isnan(c->temperature)) unstated = "temperature";
            else if (isnan(c->top_p)) unstated = "top_p";
            else if (c->top_k < 0) unstated = "top_k";
            else if (isnan(c->min_p)) unstated = "min_p";
            else if (isnan(c->presence_penalty)) unstated = "presence_penalty";
            else if (isnan(c->repetition_penalty)) unstated = "repetition_penalty";
        }
        if (unstated)
            return q35_fail(err, errlen,
                            "scoring: generate refuses an unstated setting: give sampling.preset or sampling.%s "
                            "(and every other sampling value)", unstated);
    } else if (c->preset || !isnan(c->temperature) || c->max_new_tokens > 0) {
        return q35_fail(err, errlen, "sampling and max_new_tokens are for scoring: generate (this config scores loglikelihood)");
    }
    if (c->multiturn && !c->chat_template) return q35_fail(err, errlen, "prompt.fewshot_as_multiturn needs prompt.chat_template: true");
    int generic = !strcmp(c->format, "jsonl") || !strcmp(c->format, "csv") || !strcmp(c->format, "tsv");
    if (generic && (!c->col_question || !c->col_choices || !c->col_answer))
        return q35_fail(err, errlen, "dataset.format %s needs dataset.columns.question, .choices and .answer", c->format);
    if (!generic && (c->col_question || c->col_choices || c->col_answer || c->fewshot_data))
        return q35_fail(err, errlen, "dataset.columns and dataset.fewshot_path are for the jsonl, csv and tsv formats");
    if (strcmp(c->format, "mmlu-redux") && (c->keep || c->corrected))
        return q35_fail(err, errlen, "dataset.keep and dataset.corrected_labels are for dataset.format mmlu-redux");
    return 0;
}

void q35_eval_config_free(q35_eval_config *c) {
    for (int i = 0; i < N_KEYS; i++)
        if (keys[i].type == K_STR) free(*(char **)((char *)c + keys[i].off));
    free(c->source);
    memset(c, 0, sizeof *c);
}
