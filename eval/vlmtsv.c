/* vlmtsv.c - VLMEvalKit's multiple-choice TSV format (vlmtsv.h). */
#include "vlmtsv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "util.h"

static int b64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int q35_base64_decode(const char *s, size_t n, unsigned char **out, size_t *out_len) {
    *out = NULL, *out_len = 0;
    if (n == 0 || n % 4) return -1;
    size_t pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0, m = n / 4 * 3 - pad;
    unsigned char *b = malloc(m ? m : 1);
    if (!b) return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)s[i + k];
            int last = i + 4 == n;
            v[k] = c == '=' && last && k >= 4 - (int)pad ? 0 : b64_value(c);
            if (v[k] < 0) return free(b), -1;
        }
        unsigned u = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        unsigned char t[3] = { (unsigned char)(u >> 16), (unsigned char)(u >> 8), (unsigned char)u };
        for (int k = 0; k < 3 && o < m; k++) b[o++] = t[k];
    }
    *out = b, *out_len = m;
    return 0;
}

static int col(const q35_csv_row *h, const char *name) {
    for (int i = 0; i < h->n; i++)
        if (strcmp(h->f[i], name) == 0) return i;
    return -1;
}

static int all_digits(const char *s) {
    if (!*s || strlen(s) > 18) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

int q35_vlmtsv_load(q35_mc_set *d, const char *path, char *err, size_t errlen) {
    memset(d, 0, sizeof *d);
    q35_csv c;
    if (q35_csv_read(&c, path, '\t', err, errlen) != 0) return -1;
    int rc = 0;
    if (c.n < 1) {
        q35_csv_free(&c);
        return q35_fail(err, errlen, "%s: empty", path);
    }
    const q35_csv_row *h = &c.rows[0];
    int ci = col(h, "index"), cq = col(h, "question"), ca = col(h, "answer"), chint = col(h, "hint"),
        ccat = col(h, "category"), cimg = col(h, "image"), cpath = col(h, "image_path"), copt[26];
    for (int k = 0; k < 26; k++) {
        char name[2] = { (char)('A' + k), 0 };
        copt[k] = col(h, name);
    }
    const char *missing = ci < 0 ? "index" : cq < 0 ? "question" : ca < 0 ? "answer" : copt[0] < 0 ? "A" : NULL;
    if (!missing && cimg < 0 && cpath < 0) missing = "image (or image_path)";
    if (missing) {
        q35_csv_free(&c);
        return q35_fail(err, errlen, "%s:1: no '%s' column", path, missing);
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    for (int r = 1; r < c.n && rc == 0; r++) {
        q35_csv_row *row = &c.rows[r];
        if (row->n != h->n) {
            rc = q35_fail(err, errlen, "%s:%d: %d fields, the header has %d", path, row->line, row->n, h->n);
            break;
        }
        q35_mc_item it = { 0 };
        it.doc_id = r - 1, it.line = row->line;
        char *end;
        it.index = strtoll(row->f[ci], &end, 10);
        if (!row->f[ci][0] || *end || it.index < 0) {
            rc = q35_fail(err, errlen, "%s:%d: index '%s' is not a whole number", path, row->line, row->f[ci]);
            break;
        }
        int n = 0;
        while (n < 26 && copt[n] >= 0 && row->f[copt[n]][0]) n++;
        for (int k = n; k < 26 && rc == 0; k++)
            if (copt[k] >= 0 && row->f[copt[k]][0])
                rc = q35_fail(err, errlen, "%s:%d: option %c given after an empty option %c", path, row->line, 'A' + k, 'A' + n);
        if (rc) break;
        if (n < 2) {
            rc = q35_fail(err, errlen, "%s:%d: %d options; a multiple-choice row has at least 2", path, row->line, n);
            break;
        }
        const char *a = row->f[ca];
        if (!(a[0] >= 'A' && a[0] < 'A' + n && !a[1])) {
            rc = q35_fail(err, errlen, "%s:%d: answer '%s' is not one of the row's options A-%c", path, row->line, a, 'A' + n - 1);
            break;
        }
        it.answer = it.orig_answer = a[0] - 'A';
        it.n_choices = n;
        if (!(it.choices = calloc((size_t)n, sizeof *it.choices))) rc = q35_fail(err, errlen, "out of memory");
        for (int k = 0; k < n && rc == 0; k++) it.choices[k] = row->f[copt[k]], row->f[copt[k]] = NULL;
        if (rc == 0) it.question = row->f[cq], row->f[cq] = NULL;
        if (rc == 0 && chint >= 0 && row->f[chint][0]) it.hint = row->f[chint], row->f[chint] = NULL;
        /* the image: base64 here, another row's (by index), or a file */
        const char *img = cimg >= 0 ? row->f[cimg] : "";
        if (rc == 0 && img[0] && !all_digits(img)) {
            if (q35_base64_decode(img, strlen(img), &it.image, &it.image_len) != 0)
                rc = q35_fail(err, errlen, "%s:%d: the image cell is not base64", path, row->line);
        } else if (rc == 0 && img[0]) {
            long long ref = strtoll(img, NULL, 10);
            const q35_mc_item *src = NULL;
            for (int i = 0; i < d->n && !src; i++)
                for (int j = 0; j < d->s[i].n_test && !src; j++)
                    if (d->s[i].test[j].index == ref && d->s[i].test[j].image) src = &d->s[i].test[j];
            if (!src) rc = q35_fail(err, errlen, "%s:%d: the image cell names row %lld, which comes later or has no image", path, row->line, ref);
            else if (!(it.image = malloc(src->image_len))) rc = q35_fail(err, errlen, "out of memory");
            else memcpy(it.image, src->image, src->image_len), it.image_len = src->image_len;
        } else if (rc == 0 && cpath >= 0 && row->f[cpath][0]) {
            const char *pth = row->f[cpath];
            size_t m = strlen(dir) + strlen(pth) + 2;
            if (!(it.image_path = malloc(m))) rc = q35_fail(err, errlen, "out of memory");
            else if (pth[0] == '/') snprintf(it.image_path, m, "%s", pth);
            else snprintf(it.image_path, m, "%s/%s", dir, pth);
        } else if (rc == 0) {
            rc = q35_fail(err, errlen, "%s:%d: no image", path, row->line);
        }
        q35_mc_subject *s = rc == 0 ? q35_mc_set_subject(d, ccat >= 0 && row->f[ccat][0] ? row->f[ccat] : "all") : NULL;
        if (rc == 0 && !s) rc = q35_fail(err, errlen, "out of memory");
        if (rc == 0 && q35_mc_push(&s->test, &s->n_test, &it) != 0) rc = q35_fail(err, errlen, "out of memory");
        if (rc != 0) q35_mc_item_free(&it);
    }
    q35_csv_free(&c);
    if (rc != 0) {
        q35_mc_set_free(d);
        return -1;
    }
    q35_mc_set_sort(d);
    return 0;
}
