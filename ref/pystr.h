/* pystr.h - Python's str semantics on UTF-8 text, code point by code point: what the chat-template
 * renderer needs so that a template's string methods and filters (strip, split, upper, lower,
 * printing a list) give the text transformers' Jinja gives. Unicode data from utf8proc; the
 * multi-character case mappings of SpecialCasing.txt (which utf8proc leaves out) are a table here. */
#ifndef Q35_PYSTR_H
#define Q35_PYSTR_H

#include <stddef.h>
#include <stdint.h>

/* The code point at s[*i] (of n bytes), advancing *i past it. A byte that does not start a valid
 * UTF-8 sequence decodes as U+FFFD and advances one byte, so any input makes progress. */
int32_t q35_py_next(const char *s, size_t n, size_t *i);

/* The code point that ends at s[*i], not starting before s[start], moving *i back to its first
 * byte. -1 when the bytes before *i end no valid UTF-8 sequence: then *i moves back one byte. */
int32_t q35_py_prev(const char *s, size_t start, size_t *i);

/* Writes cp (at most U+10FFFF) as UTF-8 to out (4 bytes of room); returns the bytes written. */
size_t q35_py_put(char *out, int32_t cp);

/* 1 if every byte of s is ASCII (then bytes and code points coincide). */
int q35_py_ascii(const char *s, size_t n);

/* str.isspace() of one code point (Unicode White_Space as Python counts it: also U+001C..U+001F). */
int q35_py_isspace(int32_t cp);

/* str.upper() (upper != 0) or str.lower() of s into out, which has room for 3 * n bytes (the
 * largest growth: one code point of 2 bytes becomes three of 2 bytes). Full case mapping as
 * Python: 'ß'.upper() == 'SS', 'İ'.lower() == 'i̇', a final capital sigma lowers to 'ς'.
 * Returns the bytes written. */
size_t q35_py_case(char *out, const char *s, size_t n, int upper);

/* repr() of a str into out, which has room for 4 * n + 2 bytes: quoted with ' unless the text
 * holds ' and no ", backslash escapes for the quote, \\, \t \n \r, other control and
 * non-printable code points (\xHH, \uHHHH, \UHHHHHHHH); printable text as it is. Returns the
 * bytes written. */
size_t q35_py_repr(char *out, const char *s, size_t n);

#endif
