/* util.h - the chores every reader shares: formatting an error, reading a small file or JSON
 * object, checking UTF-8. */
#ifndef Q35_UTIL_H
#define Q35_UTIL_H

#include <cJSON.h>
#include <stddef.h>

/* snprintf(err, errlen, fmt, ...) and return -1, so that `return q35_fail(...)` reports and fails. */
int q35_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The whole file at path, NUL-terminated, in a new buffer (free it); its length in *n when n is
 * not NULL. NULL with errno set when it cannot be read or exceeds max_bytes. */
char *q35_read_file(const char *path, size_t max_bytes, size_t *n);

/* 1 when s ends with suffix. */
int q35_ends_with(const char *s, const char *suffix);

/* The JSON object in the file at path (cJSON_Delete it), at most max_bytes. A file that does not
 * exist gives NULL with err set to "" when optional (the caller keeps its defaults); otherwise NULL
 * with err naming the file: unreadable, not JSON, or not a JSON object. */
cJSON *q35_read_json_object(const char *path, size_t max_bytes, int optional, char *err, size_t errlen);

/* 1 when the NUL-terminated s is strict UTF-8: no overlongs, no surrogates, nothing above
 * U+10FFFF (what safetensors and file names must be). */
int q35_valid_utf8(const char *s);

/* 0 when pattern (a POSIX extended regex from a file or the command line) is safe to give regcomp:
 * at most 1000 bytes, no repetition of a repetition ("a++", "a*{3}"), repeat counts up to 100 and
 * at most two {m,n}; glibc's regcomp copies the pattern's tree for each of these, so their product
 * can take gigabytes. Else -1 with err. */
int q35_regex_safe(const char *pattern, char *err, size_t errlen);

/* Writes n bytes of data to path atomically: into path.tmp, flushed and fsync'd, then renamed
 * over path (a reader sees the old file or the whole new one). -1 with err (the .tmp removed). */
int q35_write_file_atomic(const char *path, const char *data, size_t n, char *err, size_t errlen);

#endif
