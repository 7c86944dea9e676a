/* yamljson.c - YAML to cJSON through libyaml's event parser. */
#include "yamljson.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "util.h"

/* A plain scalar's JSON value: number, boolean, null or string. */
static cJSON *plain_scalar(const char *s) {
    if (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
        return cJSON_CreateNull();
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0) return cJSON_CreateTrue();
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0) return cJSON_CreateFalse();
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end != s && *end == 0 && errno == 0 && isfinite(v) && strncmp(s, "0x", 2) != 0 && strncmp(s, "0X", 2) != 0)
        return cJSON_CreateNumber(v);
    return cJSON_CreateString(s);
}

/* Builds the node that starts with event ev (already taken); NULL with err on failure. */
static cJSON *build(yaml_parser_t *p, yaml_event_t *ev, const char *path, int depth, char *err, size_t errlen) {
    if (depth > 64) {
        q35_fail(err, errlen, "%s:%zu: nesting deeper than 64 levels", path, ev->start_mark.line + 1);
        return NULL;
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        q35_fail(err, errlen, "%s:%zu: YAML aliases (*name) are not supported", path, ev->start_mark.line + 1);
        return NULL;
    case YAML_SCALAR_EVENT: {
        if (ev->data.scalar.anchor) {
            q35_fail(err, errlen, "%s:%zu: YAML anchors (&name) are not supported", path, ev->start_mark.line + 1);
            return NULL;
        }
        const char *v = (const char *)ev->data.scalar.value;
        cJSON *j = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(v) : cJSON_CreateString(v);
        if (!j) q35_fail(err, errlen, "out of memory");
        return j;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        if ((is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor) != NULL) {
            q35_fail(err, errlen, "%s:%zu: YAML anchors (&name) are not supported", path, ev->start_mark.line + 1);
            return NULL;
        }
        cJSON *node = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
        if (!node) {
            q35_fail(err, errlen, "out of memory");
            return NULL;
        }
        for (;;) {
            yaml_event_t e;
            if (!yaml_parser_parse(p, &e)) {
                q35_fail(err, errlen, "%s:%zu:%zu: %s", path, p->problem_mark.line + 1, p->problem_mark.column + 1,
                         p->problem ? p->problem : "YAML syntax error");
                cJSON_Delete(node);
                return NULL;
            }
            if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&e);
                return node;
            }
            char *key = NULL;
            size_t line = e.start_mark.line + 1;
            if (is_map) {
                if (e.type != YAML_SCALAR_EVENT) {
                    q35_fail(err, errlen, "%s:%zu: a mapping key must be a plain value", path, line);
                    yaml_event_delete(&e);
                    cJSON_Delete(node);
                    return NULL;
                }
                key = strdup((const char *)e.data.scalar.value);
                yaml_event_delete(&e);
                if (!key || !yaml_parser_parse(p, &e)) {
                    if (key) q35_fail(err, errlen, "%s:%zu:%zu: %s", path, p->problem_mark.line + 1,
                                      p->problem_mark.column + 1, p->problem ? p->problem : "YAML syntax error");
                    else q35_fail(err, errlen, "out of memory");
                    free(key);
                    cJSON_Delete(node);
                    return NULL;
                }
                if (cJSON_GetObjectItemCaseSensitive(node, key)) {
                    q35_fail(err, errlen, "%s:%zu: key '%s' appears twice in one mapping", path, line, key);
                    free(key);
                    yaml_event_delete(&e);
                    cJSON_Delete(node);
                    return NULL;
                }
            }
            cJSON *child = build(p, &e, path, depth + 1, err, errlen);
            yaml_event_delete(&e);
            if (!child) {
                free(key);
                cJSON_Delete(node);
                return NULL;
            }
            if (is_map) cJSON_AddItemToObject(node, key, child);
            else cJSON_AddItemToArray(node, child);
            free(key);
        }
    }
    default:
        q35_fail(err, errlen, "%s:%zu: unexpected YAML event", path, ev->start_mark.line + 1);
        return NULL;
    }
}

cJSON *q35_yaml_load(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        q35_fail(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) { /* fopen takes a directory; reading it fails */
        fclose(f);
        q35_fail(err, errlen, "%s: %s", path, strerror(EISDIR));
        return NULL;
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fclose(f);
        q35_fail(err, errlen, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_file(&p, f);
    cJSON *root = NULL;
    int done = 0, failed = 0, docs = 0;
    if (errlen) err[0] = 0;
    while (!done && !failed) {
        yaml_event_t e;
        if (!yaml_parser_parse(&p, &e)) {
            q35_fail(err, errlen, "%s:%zu:%zu: %s", path, p.problem_mark.line + 1, p.problem_mark.column + 1,
                     p.problem ? p.problem : "YAML syntax error");
            failed = 1;
            break;
        }
        if (e.type == YAML_STREAM_END_EVENT) {
            done = 1;
        } else if (e.type == YAML_DOCUMENT_START_EVENT && docs++ > 0) { /* a second document would be ignored */
            q35_fail(err, errlen, "%s:%zu: a second YAML document ('---'): q35 reads one document per file", path,
                     e.start_mark.line + 1);
            failed = 1;
        } else if (e.type != YAML_STREAM_START_EVENT && e.type != YAML_DOCUMENT_START_EVENT && e.type != YAML_DOCUMENT_END_EVENT) {
            if (root) {
                q35_fail(err, errlen, "%s: more than one top-level value", path);
                failed = 1;
            } else if (!(root = build(&p, &e, path, 0, err, errlen))) {
                failed = 1;
            }
        }
        yaml_event_delete(&e);
    }
    if (failed) {
        cJSON_Delete(root);
        root = NULL;
    } else if (!root && !(root = cJSON_CreateObject())) { /* an empty file */
        q35_fail(err, errlen, "out of memory");
    }
    yaml_parser_delete(&p);
    fclose(f);
    return root;
}
