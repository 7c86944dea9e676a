/* util.c - error formatting, whole-file and JSON-object reads, UTF-8 checks. */
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int q35_fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

char *q35_read_file(const char *path, size_t max_bytes, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, k;
    char chunk[65536];
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + k > max_bytes) {
            free(buf);
            fclose(f);
            errno = EFBIG;
            return NULL;
        }
        if (len + k + 1 > cap) {
            cap = (len + k + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
        }
        memcpy(buf + len, chunk, k);
        len += k;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    if (!buf && !(buf = calloc(1, 1))) return NULL;
    buf[len] = 0;
    if (n) *n = len;
    return buf;
}

int q35_valid_utf8(const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned c = *s;
        int n;
        unsigned min;
        if (c < 0x80) { s++; continue; }
        if ((c & 0xe0) == 0xc0) n = 1, min = 0x80, c &= 0x1f;
        else if ((c & 0xf0) == 0xe0) n = 2, min = 0x800, c &= 0x0f;
        else if ((c & 0xf8) == 0xf0) n = 3, min = 0x10000, c &= 0x07;
        else return 0;
        for (int i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80) return 0;
            c = (c << 6) | (s[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
        s += n + 1;
    }
    return 1;
}

cJSON *q35_read_json_object(const char *path, size_t max_bytes, int optional, char *err, size_t errlen) {
    if (errlen) err[0] = 0;
    char *text = q35_read_file(path, max_bytes, NULL);
    if (!text) {
        if (!(optional && (errno == ENOENT || errno == ENOTDIR))) q35_fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        q35_fail(err, errlen, "%s: not a JSON object", path);
        return NULL;
    }
    return j;
}

int q35_ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int q35_regex_safe(const char *pattern, char *err, size_t errlen) {
    size_t n = strlen(pattern);
    if (n > 1000) return q35_fail(err, errlen, "regex of %zu bytes: at most 1000", n);
    int prev_quant = 0, bounds = 0, in_bracket = 0;
    for (size_t i = 0; i < n; i++) {
        char c = pattern[i];
        if (in_bracket) { /* [...]: literal up to the closing ] (a ] first in it is literal) */
            if (c == ']' && !(i > 0 && (pattern[i - 1] == '[' || (pattern[i - 1] == '^' && i > 1 && pattern[i - 2] == '['))))
                in_bracket = 0;
            continue;
        }
        if (c == '\\') {
            i++, prev_quant = 0;
            continue;
        }
        if (c == '[') {
            in_bracket = 1, prev_quant = 0;
            continue;
        }
        int quant = c == '*' || c == '+' || c == '?' || c == '{';
        if (quant && prev_quant)
            return q35_fail(err, errlen, "regex '%.60s': a repetition of a repetition at byte %zu (the regex engine's memory grows with each)", pattern, i);
        if (c == '{') {
            char *end;
            long a = strtol(pattern + i + 1, &end, 10), b = a;
            if (*end == ',') b = end[1] == '}' ? a : strtol(end + 1, &end, 10);
            if (a > 100 || b > 100) return q35_fail(err, errlen, "regex '%.60s': a repeat count over 100", pattern);
            if (++bounds > 2) return q35_fail(err, errlen, "regex '%.60s': more than two {m,n} repeats", pattern);
            const char *close = strchr(pattern + i, '}');
            if (close) i = (size_t)(close - pattern);
        }
        prev_quant = quant;
    }
    return 0;
}

int q35_write_file_atomic(const char *path, const char *data, size_t n, char *err, size_t errlen) {
    char tmp[4300];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return q35_fail(err, errlen, "%s: path too long", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return q35_fail(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
    int bad = fwrite(data, 1, n, f) != n;
    bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return q35_fail(err, errlen, "%s: write failed: %s", path, strerror(e ? e : EIO));
    }
    return 0;
}
