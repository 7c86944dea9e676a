/* util.h - the chores every reader shares: formatting an error, reading a small file, checking UTF-8. */
#ifndef Q35_UTIL_H
#define Q35_UTIL_H

#include <stddef.h>

/* snprintf(err, errlen, fmt, ...) and return -1, so that `return q35_fail(...)` reports and fails. */
int q35_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The whole file at path, NUL-terminated, in a new buffer (free it); its length in *n when n is
 * not NULL. NULL with errno set when it cannot be read or exceeds max_bytes. */
char *q35_read_file(const char *path, size_t max_bytes, size_t *n);

/* 1 when the NUL-terminated s is strict UTF-8: no overlongs, no surrogates, nothing above
 * U+10FFFF (what safetensors and file names must be). */
int q35_valid_utf8(const char *s);

#endif
