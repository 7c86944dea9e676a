/* pope.c - POPE's question files (pope.h). */
#include "pope.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "util.h"

static int load_file(q35_mc_set *d, const char *path, const char *image_dir, char *err, size_t errlen) {
    size_t n;
    char *text = q35_read_file(path, 256u << 20, &n);
    if (!text) return q35_fail(err, errlen, "%s: cannot read (or over 256 MiB)", path);
    char name[256];
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strncmp(base, "coco_pope_", 10) == 0) base += 10;
    snprintf(name, sizeof name, "%.*s", (int)strcspn(base, "."), base);
    q35_mc_subject *s = q35_mc_set_subject(d, name);
    if (!s) return free(text), q35_fail(err, errlen, "out of memory");
    if (s->n_test) return free(text), q35_fail(err, errlen, "%s: a second file of split '%s'", path, name);
    int line = 0, rc = 0, row = 0;
    for (char *p = text; rc == 0 && p < text + n;) {
        char *nl = memchr(p, '\n', (size_t)(text + n - p)), *end = nl ? nl : text + n;
        line++;
        *end = 0;
        char *q = p;
        p = end + 1;
        while (*q == ' ' || *q == '\t' || *q == '\r') q++;
        if (!*q) continue;
        if (strlen(q) != (size_t)(end - q)) {
            rc = q35_fail(err, errlen, "%s:%d: a NUL byte", path, line);
            break;
        }
        if (q35_json_has_nul(q, (size_t)(end - q))) {
            rc = q35_fail(err, errlen, "%s:%d: a string holds U+0000 (\\u0000), which a prompt cannot carry", path, line);
            break;
        }
        cJSON *j = cJSON_ParseWithOpts(q, NULL, 1); /* text after the object: not JSON, as Python's json says */
        q35_json_last_wins(j);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "question_id"), *im = cJSON_GetObjectItemCaseSensitive(j, "image"),
                    *tx = cJSON_GetObjectItemCaseSensitive(j, "text"), *lb = cJSON_GetObjectItemCaseSensitive(j, "label");
        const char *what = !cJSON_IsObject(j) ? "not a JSON object" : !cJSON_IsNumber(id) ? "no question_id number"
                           : !cJSON_IsString(im) || !im->valuestring[0] || strchr(im->valuestring, '/') ? "no image file name"
                           : !cJSON_IsString(tx) ? "no text string"
                           : !cJSON_IsString(lb) || (strcmp(lb->valuestring, "yes") && strcmp(lb->valuestring, "no"))
                               ? "label is not \"yes\" or \"no\""
                               : NULL;
        if (what) {
            cJSON_Delete(j);
            rc = q35_fail(err, errlen, "%s:%d: %s", path, line, what);
            break;
        }
        q35_mc_item it = { 0 };
        size_t m = strlen(image_dir) + strlen(im->valuestring) + 2;
        it.image_path = malloc(m);
        it.choices = calloc(2, sizeof *it.choices);
        it.question = strdup(tx->valuestring);
        if (it.choices) it.choices[0] = strdup("yes"), it.choices[1] = strdup("no");
        it.n_choices = 2;
        if (!it.image_path || !it.choices || !it.question || !it.choices[0] || !it.choices[1]) {
            cJSON_Delete(j);
            q35_mc_item_free(&it);
            rc = q35_fail(err, errlen, "out of memory");
            break;
        }
        snprintf(it.image_path, m, "%s/%s", image_dir, im->valuestring);
        it.answer = it.orig_answer = strcmp(lb->valuestring, "yes") != 0;
        it.index = (long long)id->valuedouble, it.doc_id = row++, it.line = line;
        cJSON_Delete(j);
        if (access(it.image_path, R_OK) != 0) {
            rc = q35_fail(err, errlen, "%s:%d: image %s is not there", path, line, it.image_path);
            q35_mc_item_free(&it);
            break;
        }
        if (q35_mc_push(&s->test, &s->n_test, &it) != 0) rc = q35_fail(err, errlen, "out of memory");
    }
    free(text);
    if (rc == 0 && s->n_test == 0) rc = q35_fail(err, errlen, "%s: no questions", path);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int q35_pope_load(q35_mc_set *d, const char *path, const char *image_dir, char *err, size_t errlen) {
    memset(d, 0, sizeof *d);
    if (!image_dir || !image_dir[0]) return q35_fail(err, errlen, "POPE needs its images: dataset.images DIR (or --images DIR)");
    struct stat st;
    if (stat(path, &st) != 0) return q35_fail(err, errlen, "%s: not there", path);
    int rc = 0;
    if (!S_ISDIR(st.st_mode)) {
        rc = load_file(d, path, image_dir, err, errlen);
    } else {
        DIR *dd = opendir(path);
        char *names[64];
        int k = 0;
        struct dirent *e;
        while (dd && (e = readdir(dd)) && k < 64) {
            const char *dot = strrchr(e->d_name, '.');
            if (dot && (!strcmp(dot, ".json") || !strcmp(dot, ".jsonl")) && e->d_name[0] != '.') names[k++] = strdup(e->d_name);
        }
        if (dd) closedir(dd);
        qsort(names, (size_t)k, sizeof *names, cmp_str);
        for (int i = 0; i < k; i++) {
            char p[8300];
            snprintf(p, sizeof p, "%s/%s", path, names[i] ? names[i] : "");
            if (rc == 0) rc = names[i] ? load_file(d, p, image_dir, err, errlen) : q35_fail(err, errlen, "out of memory");
            free(names[i]);
        }
        if (rc == 0 && k == 0) rc = q35_fail(err, errlen, "%s: no .json or .jsonl files", path);
    }
    if (rc != 0) {
        q35_mc_set_free(d);
        return -1;
    }
    q35_mc_set_sort(d);
    return 0;
}
