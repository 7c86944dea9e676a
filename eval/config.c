/* config.c - the evaluation's YAML configuration (config.h), read with libyaml. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "sha256.h"
#include "util.h"

enum { K_STR, K_INT, K_U64, K_BOOL };

typedef struct {
    const char *key;
    int type;
    size_t off;
    long long lo, hi;
} key_def;

#define OFF(f) offsetof(q35_eval_config, f)
static const key_def keys[] = {
    { "task", K_STR, OFF(task), 0, 0 },
    { "model", K_STR, OFF(model), 0, 0 },
    { "backend", K_STR, OFF(backend), 0, 0 },
    { "threads", K_INT, OFF(threads), 0, 4096 },
    { "tokenizer", K_STR, OFF(tokenizer), 0, 0 },
    { "dataset.path", K_STR, OFF(data), 0, 0 },
    { "dataset.format", K_STR, OFF(format), 0, 0 },
    { "prompt.num_fewshot", K_INT, OFF(num_fewshot), 0, 1000 },
    { "scoring", K_STR, OFF(scoring), 0, 0 },
    { "limit", K_INT, OFF(limit), 0, 1000000000 },
    { "seed", K_U64, OFF(seed), 0, 0 },
    { "speed.no_prefix_cache", K_BOOL, OFF(no_prefix_cache), 0, 1 },
};
#define N_KEYS (int)(sizeof keys / sizeof keys[0])

/* The values a string key may take (NULL: any). */
static const char *allowed(const char *key) {
    if (!strcmp(key, "task")) return "mmlu";
    if (!strcmp(key, "backend")) return "fast ref fast-bf16";
    if (!strcmp(key, "dataset.format")) return "mmlu-csv";
    if (!strcmp(key, "scoring")) return "loglikelihood";
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
        if (keys[i].type == K_BOOL) {
            if (strcmp(v, "true") && strcmp(v, "false"))
                return q35_fail(err, errlen, "%s: %s '%s': expected true or false", where, key, v);
            *(int *)f = v[0] == 't';
            return 0;
        }
        char *end;
        errno = 0;
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
    char known[512];
    int n = 0;
    for (int i = 0; i < N_KEYS; i++) n += snprintf(known + n, sizeof known - (size_t)n, "%s%s", i ? ", " : "", keys[i].key);
    return q35_fail(err, errlen, "%s: unknown key '%s' (known: %s)", where, key, known);
}

static void defaults(q35_eval_config *c) {
    memset(c, 0, sizeof *c);
    c->task = strdup("mmlu");
    c->backend = strdup("fast");
    c->format = strdup("mmlu-csv");
    c->scoring = strdup("loglikelihood");
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

char *q35_eval_config_text(q35_eval_config *c) {
    size_t cap = 4096, n = 0;
    char *t = malloc(cap);
    if (!t) return NULL;
    t[0] = 0;
    for (int i = 0; i < N_KEYS; i++) {
        const void *f = (const char *)c + keys[i].off;
        char line[4200];
        if (keys[i].type == K_STR) {
            const char *s = *(char *const *)f;
            snprintf(line, sizeof line, "%s: %s\n", keys[i].key, s ? s : "");
        } else if (keys[i].type == K_BOOL) {
            snprintf(line, sizeof line, "%s: %s\n", keys[i].key, *(const int *)f ? "true" : "false");
        } else if (keys[i].type == K_INT) {
            snprintf(line, sizeof line, "%s: %d\n", keys[i].key, *(const int *)f);
        } else {
            snprintf(line, sizeof line, "%s: %llu\n", keys[i].key, (unsigned long long)*(const uint64_t *)f);
        }
        size_t m = strlen(line);
        if (n + m + 1 > cap) {
            char *nt = realloc(t, cap = 2 * (n + m + 1));
            if (!nt) return free(t), NULL;
            t = nt;
        }
        memcpy(t + n, line, m + 1);
        n += m;
    }
    q35_sha256 h;
    q35_sha256_init(&h);
    q35_sha256_update(&h, t, n);
    q35_sha256_hex(&h, c->hash);
    return t;
}

void q35_eval_config_free(q35_eval_config *c) {
    free(c->task), free(c->model), free(c->backend), free(c->data), free(c->format), free(c->scoring);
    free(c->tokenizer), free(c->source);
    memset(c, 0, sizeof *c);
}
