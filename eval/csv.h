/* csv.h - RFC 4180 CSV as the datasets ship it: quoted fields with "" escapes and line breaks
 * inside, CRLF or LF line ends, a separator of the caller's choice. Strict: a quote left open, a
 * stray quote inside an unquoted field or a NUL byte is an error naming the line. */
#ifndef Q35_CSV_H
#define Q35_CSV_H

#include <stddef.h>

typedef struct {
    char **f;   /* fields, NUL-terminated copies */
    int n;      /* how many */
    int line;   /* 1-based line of the file where the row starts */
} q35_csv_row;

typedef struct {
    q35_csv_row *rows;
    int n;
} q35_csv;

/* Parses len bytes of text (no BOM handling beyond skipping a UTF-8 BOM at the start) into rows;
 * an empty last line is not a row. name is the file name for messages. 0, or -1 with err
 * ("name:line: ..."). */
int q35_csv_parse(q35_csv *c, const char *text, size_t len, char sep, const char *name, char *err, size_t errlen);
/* Reads and parses a file of at most 256 MiB. */
int q35_csv_read(q35_csv *c, const char *path, char sep, char *err, size_t errlen);
void q35_csv_free(q35_csv *c);

#endif
