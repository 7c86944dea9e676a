/* util.h - the two chores every reader shares: formatting an error, reading a small file. */
#ifndef Q35_UTIL_H
#define Q35_UTIL_H

#include <stddef.h>

/* snprintf(err, errlen, fmt, ...) and return -1, so that `return q35_fail(...)` reports and fails. */
int q35_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The whole file at path, NUL-terminated, in a new buffer (free it); its length in *n when n is
 * not NULL. NULL with errno set when it cannot be read or exceeds max_bytes. */
char *q35_read_file(const char *path, size_t max_bytes, size_t *n);

#endif
