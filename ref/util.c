/* util.c - error formatting, whole-file and JSON-object reads, UTF-8 checks. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int q35_valid_utf8_n(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        int k;
        unsigned min;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xe0) == 0xc0) k = 1, min = 0x80, c &= 0x1f;
        else if ((c & 0xf0) == 0xe0) k = 2, min = 0x800, c &= 0x0f;
        else if ((c & 0xf8) == 0xf0) k = 3, min = 0x10000, c &= 0x07;
        else return 0;
        if (n - i <= (size_t)k) return 0;
        for (int j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return 0;
            c = (c << 6) | (s[i + j] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
        i += (size_t)k + 1;
    }
    return 1;
}

int q35_valid_utf8(const char *str) { return q35_valid_utf8_n(str, strlen(str)); }

static uint64_t key_hash(const char *k) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *k; k++) h = (h ^ (unsigned char)*k) * 0x100000001b3ull;
    return h;
}

void q35_json_last_wins(cJSON *j) {
    if (!j) return;
    for (cJSON *c = j->child; c; c = c->next) q35_json_last_wins(c);
    if (!cJSON_IsObject(j) || !j->child || !j->child->next) return;
    size_t n = 0, cap = 16;
    for (cJSON *c = j->child; c; c = c->next) n++;
    while (cap < 2 * n) cap *= 2;
    cJSON **slot = calloc(cap, sizeof *slot); /* open addressing by key: one pass, in document order */
    if (!slot) return;
    for (cJSON *c = j->child, *next; c; c = next) {
        next = c->next;
        const char *k = c->string ? c->string : "";
        size_t i = key_hash(k) & (cap - 1);
        while (slot[i] && strcmp(slot[i]->string ? slot[i]->string : "", k) != 0) i = (i + 1) & (cap - 1);
        if (slot[i]) cJSON_Delete(cJSON_DetachItemViaPointer(j, slot[i])); /* an earlier item with this key */
        slot[i] = c;
    }
    free(slot);
}

cJSON *q35_json_parse(const char *text, size_t n) {
    cJSON *j = cJSON_ParseWithLength(text, n);
    q35_json_last_wins(j);
    return j;
}

int q35_json_parse_one(const char *s, size_t n, cJSON **out, size_t *junk_at) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    *out = NULL;
    if (!j) return -1;
    while (end < s + n && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) end++;
    if (end < s + n) {
        cJSON_Delete(j);
        if (junk_at) *junk_at = (size_t)(end - s);
        return -2;
    }
    q35_json_last_wins(j);
    *out = j;
    return 0;
}

int q35_json_has_nul(const char *s, size_t n) {
    if (memchr(s, 0, n)) return 1;
    for (size_t i = 0, in = 0; i < n; i++) {
        if (!in) in = s[i] == '"';
        else if (s[i] == '"') in = 0;
        else if (s[i] == '\\') {
            if (n - i >= 6 && s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0) return 1;
            i++;
        }
    }
    return 0;
}

cJSON *q35_read_json_object(const char *path, size_t max_bytes, int optional, char *err, size_t errlen) {
    if (errlen) err[0] = 0;
    char *text = q35_read_file(path, max_bytes, NULL);
    if (!text) {
        if (!(optional && (errno == ENOENT || errno == ENOTDIR))) q35_fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    cJSON *j = cJSON_Parse(text);
    q35_json_last_wins(j);
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

/* ---- atomic writes ---- */

/* What kind of file mode m is, for messages ("a FIFO"). */
static const char *file_kind(mode_t m) {
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
         : S_ISSOCK(m) ? "a socket" : S_ISLNK(m) ? "a symlink" : "not a regular file";
}

/* dest + ".tmp" in a new string, or NULL when out of memory. */
static char *tmp_name(const char *dest) {
    size_t n = strlen(dest);
    char *t = malloc(n + 5);
    if (t) memcpy(t, dest, n), memcpy(t + n, ".tmp", 5);
    return t;
}

char *q35_atomic_dest(const char *path, char *err, size_t errlen) {
    struct stat sb;
    char *dest = NULL;
    if (lstat(path, &sb) != 0) {
        if (errno != ENOENT) return q35_fail(err, errlen, "%s: cannot check the destination: %s", path, strerror(errno)), NULL;
        dest = strdup(path); /* nothing there: a new file */
    } else if (S_ISREG(sb.st_mode)) {
        dest = strdup(path);
    } else if (!S_ISLNK(sb.st_mode)) {
        return q35_fail(err, errlen, "%s exists and is not a regular file (%s): refusing to replace it", path,
                        file_kind(sb.st_mode)), NULL;
    } else {
        /* a link: its target is the file meant (the link stays); one that leads nowhere is refused
         * rather than guessed at, and a link to a FIFO or a device is refused as they are */
        if (!(dest = realpath(path, NULL)))
            return q35_fail(err, errlen, "%s is a symlink that leads to no file (%s): refusing to write through it", path,
                            strerror(errno)), NULL;
        if (stat(dest, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            q35_fail(err, errlen, "%s is a symlink to %s, which exists and is not a regular file (%s): refusing to replace it", path,
                     dest, file_kind(sb.st_mode));
            free(dest);
            return NULL;
        }
    }
    if (!dest) q35_fail(err, errlen, "%s: out of memory", path);
    return dest;
}

FILE *q35_atomic_create(const char *dest, char *err, size_t errlen) {
    char *tmp = tmp_name(dest);
    if (!tmp) return q35_fail(err, errlen, "%s: out of memory", dest), NULL;
    struct stat sb;
    FILE *f = NULL;
    int there = lstat(tmp, &sb) == 0;
    if (there && !S_ISREG(sb.st_mode)) {
        q35_fail(err, errlen, "%s exists and is not a regular file (%s): refusing to write over it", tmp, file_kind(sb.st_mode));
    } else if (there && unlink(tmp) != 0) { /* a stale one, left by a killed writer */
        q35_fail(err, errlen, "%s: cannot remove the stale temporary file: %s", tmp, strerror(errno));
    } else {
        /* O_EXCL: a new file of ours, never something put there meanwhile (a link is not followed) */
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) q35_fail(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        else if (!(f = fdopen(fd, "wb"))) {
            q35_fail(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
        }
    }
    free(tmp);
    return f;
}

int q35_atomic_end(FILE *f, const char *dest, int ok, char *err, size_t errlen) {
    char *tmp = tmp_name(dest);
    int e = 0;
    if (ok && (fflush(f) != 0 || fsync(fileno(f)) != 0)) e = errno ? errno : EIO;
    if (fclose(f) != 0 && ok && !e) e = errno ? errno : EIO;
    if (ok && !e && !tmp) e = ENOMEM;
    if (ok && e) q35_fail(err, errlen, "%s: write failed: %s", dest, strerror(e));
    else if (ok && rename(tmp, dest) != 0) e = errno, q35_fail(err, errlen, "%s: cannot rename into place: %s", dest, strerror(e));
    int rc = ok && !e ? 0 : -1;
    if (rc != 0 && tmp) unlink(tmp);
    free(tmp);
    return rc;
}

int q35_write_file_atomic(const char *path, const char *data, size_t n, char *err, size_t errlen) {
    char *dest = q35_atomic_dest(path, err, errlen);
    FILE *f = dest ? q35_atomic_create(dest, err, errlen) : NULL;
    int rc = -1;
    if (f) {
        int ok = fwrite(data, 1, n, f) == n;
        if (!ok) q35_fail(err, errlen, "%s: write failed: %s", dest, strerror(errno ? errno : EIO));
        rc = q35_atomic_end(f, dest, ok, err, errlen);
    }
    free(dest);
    return rc;
}
