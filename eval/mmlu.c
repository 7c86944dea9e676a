/* mmlu.c - MMLU's CSVs as released (mmlu.h). */
#include "mmlu.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "util.h"

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The rows of one split file into items. */
static int load_items(q35_mc_item **out, int *n, const char *path, char *err, size_t errlen) {
    q35_csv c;
    *out = NULL, *n = 0;
    if (q35_csv_read(&c, path, ',', err, errlen) != 0) return -1;
    int first = 0, header = 0, rc = 0;
    if (c.n > 0 && c.rows[0].n == 6 && strcmp(c.rows[0].f[0], "question") == 0 &&
        strcmp(c.rows[0].f[5], "answer") == 0)
        first = 1, header = 1;
    *out = calloc((size_t)(c.n > first ? c.n - first : 1), sizeof **out);
    if (!*out) rc = q35_fail(err, errlen, "%s: out of memory", path);
    for (int i = first; rc == 0 && i < c.n; i++) {
        q35_csv_row *r = &c.rows[i];
        if (r->n != 6) {
            rc = q35_fail(err, errlen, "%s:%d: %d fields; an MMLU row has 6 (question, 4 choices, answer)", path,
                          r->line, r->n);
            break;
        }
        const char *a = r->f[5];
        int ans = -1;
        if (!header && a[0] >= 'A' && a[0] <= 'D' && !a[1]) ans = a[0] - 'A';
        if (header && a[0] >= '0' && a[0] <= '3' && !a[1]) ans = a[0] - '0';
        if (ans < 0) {
            rc = q35_fail(err, errlen, "%s:%d: answer '%s': expected %s", path, r->line, a,
                          header ? "a 0-based index 0-3 (the file has a header)" : "a letter A-D (the file has no header)");
            break;
        }
        q35_mc_item *it = &(*out)[*n];
        if (!(it->choices = malloc(4 * sizeof *it->choices))) {
            rc = q35_fail(err, errlen, "%s: out of memory", path);
            break;
        }
        it->question = r->f[0], r->f[0] = NULL;
        for (int k = 0; k < 4; k++) it->choices[k] = r->f[1 + k], r->f[1 + k] = NULL;
        it->n_choices = 4, it->answer = it->orig_answer = ans, it->doc_id = *n, it->line = r->line;
        (*n)++;
    }
    q35_csv_free(&c);
    if (rc != 0) {
        for (int i = 0; i < *n; i++) q35_mc_item_free(&(*out)[i]);
        free(*out);
        *out = NULL, *n = 0;
    }
    return rc;
}

int q35_mmlu_load(q35_mc_set *d, const char *dir, char *err, size_t errlen) {
    memset(d, 0, sizeof *d);
    char p[4096], test_dir[4096] = "", dev_dir[4096];
    const char *tests[] = { "test", "test_sample", "." };
    for (int i = 0; i < 3 && !test_dir[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, tests[i]);
        DIR *dd = is_dir(p) ? opendir(p) : NULL;
        struct dirent *e;
        int found = 0;
        while (dd && (e = readdir(dd)))
            found |= strstr(e->d_name, "_test") != NULL && strstr(e->d_name, ".csv") != NULL;
        if (dd) closedir(dd);
        if (found) snprintf(test_dir, sizeof test_dir, "%s", p);
    }
    if (!test_dir[0]) return q35_fail(err, errlen, "%s: no <subject>_test*.csv files in it, nor in its test/ or test_sample/", dir);
    snprintf(p, sizeof p, "%s/dev", dir);
    snprintf(dev_dir, sizeof dev_dir, "%s", is_dir(p) ? p : dir);
    DIR *dd = opendir(test_dir);
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && dd && (e = readdir(dd))) {
        const char *t = strstr(e->d_name, "_test");
        if (!t || !strstr(t, ".csv")) continue;
        char name[256], path[8300];
        snprintf(name, sizeof name, "%.*s", (int)(t - e->d_name < 255 ? t - e->d_name : 255), e->d_name);
        q35_mc_subject *s = q35_mc_set_subject(d, name);
        if (!s) {
            rc = q35_fail(err, errlen, "out of memory");
            break;
        }
        if (s->n_test) {
            rc = q35_fail(err, errlen, "%s: two test files of subject %s", test_dir, name);
            break;
        }
        snprintf(path, sizeof path, "%s/%s", test_dir, e->d_name);
        rc = load_items(&s->test, &s->n_test, path, err, errlen);
        if (rc == 0) {
            snprintf(path, sizeof path, "%s/%s_dev.csv", dev_dir, s->name);
            rc = load_items(&s->dev, &s->n_dev, path, err, errlen);
        }
    }
    if (dd) closedir(dd);
    if (rc != 0) {
        q35_mc_set_free(d);
        return -1;
    }
    q35_mc_set_sort(d);
    return 0;
}
