/* util.h - the chores every reader shares: formatting an error, reading a small file or JSON
 * object, checking UTF-8. */
#ifndef Q35_UTIL_H
#define Q35_UTIL_H

#include <cJSON.h>
#include <stddef.h>
#include <stdio.h>

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

/* Makes every object in the tree j hold each key once, the last occurrence kept: what Python's
 * json.loads and serde (Hugging Face's tokenizers, transformers) read from {"a": 1, "a": 2}, where
 * cJSON's lookups would find the first. Call it on every parsed file from strangers. */
void q35_json_last_wins(cJSON *j);

/* cJSON_ParseWithLength, then q35_json_last_wins; NULL when the text is not JSON. */
cJSON *q35_json_parse(const char *text, size_t n);

/* s[0, n) as exactly one JSON value with only JSON whitespace after it (a JSONL line), a key
 * given twice counting with its last value: 0 with *out (cJSON_Delete it); -1 when s does not
 * start with a JSON value; -2 when text follows the value, from byte *junk_at (when not NULL). */
int q35_json_parse_one(const char *s, size_t n, cJSON **out, size_t *junk_at);

/* 1 when the JSON text s (n bytes) holds U+0000: a \u0000 escape inside a string, or a raw NUL
 * byte. cJSON would end that string there, silently: callers refuse such text instead. */
int q35_json_has_nul(const char *s, size_t n);

/* 1 when the NUL-terminated s is strict UTF-8: no overlongs, no surrogates, nothing above
 * U+10FFFF (what safetensors and file names must be). */
int q35_valid_utf8(const char *s);
/* The same for the n bytes at s, which may hold NUL (valid UTF-8, as Python's strict decoder
 * takes it). */
int q35_valid_utf8_n(const char *s, size_t n);

/* 0 when pattern (a POSIX extended regex from a file or the command line) is safe to give regcomp:
 * at most 1000 bytes, no repetition of a repetition ("a++", "a*{3}"), repeat counts up to 100 and
 * at most two {m,n}; glibc's regcomp copies the pattern's tree for each of these, so their product
 * can take gigabytes. Else -1 with err. */
int q35_regex_safe(const char *pattern, char *err, size_t errlen);

/* ---- atomic writes ----
 * Every file q35 writes (safetensors dumps, .npy, reports, eval's results) goes to DEST.tmp, is
 * flushed and fsync'd, then renamed over DEST: a reader sees the old file or the whole new one.
 * The rename would replace whatever DEST is, so DEST is checked first: a FIFO, a device, a
 * directory or a socket there is refused, never replaced (as root a rename destroys a device node). */

/* The file an atomic write to path replaces, in a new string (free it): path itself when nothing
 * is there or a regular file is; for a symlink, the regular file it leads to (resolved: the link
 * stays a link and its target gets the new content, as `> path` in a shell would; the temporary
 * file sits beside the target, on its file system). NULL with err naming path when path exists
 * and is not a regular file ("... exists and is not a regular file (a FIFO)"), or is a symlink to
 * such a thing or to nothing (a dangling link is refused rather than guessed at). */
char *q35_atomic_dest(const char *path, char *err, size_t errlen);

/* Creates dest.tmp (dest from q35_atomic_dest) for writing, a new regular file of this process:
 * a stale regular dest.tmp is removed first; anything else there (a FIFO, a device, a directory, a
 * symlink) is refused, never opened. The stream, or NULL with err. */
FILE *q35_atomic_create(const char *dest, char *err, size_t errlen);

/* Ends the write q35_atomic_create began. ok set: flushes, fsyncs and closes f, then renames
 * dest.tmp over dest; 0 when dest holds the new content, else -1 with err (dest.tmp removed).
 * ok 0 (the caller's write failed; its err is left as it is, and may be NULL): closes f, removes
 * dest.tmp and returns -1. */
int q35_atomic_end(FILE *f, const char *dest, int ok, char *err, size_t errlen);

/* Writes n bytes of data to path atomically, through the three above. -1 with err (nothing left
 * behind). */
int q35_write_file_atomic(const char *path, const char *data, size_t n, char *err, size_t errlen);

#endif
