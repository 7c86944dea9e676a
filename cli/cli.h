/* cli.h - the command line's shared helpers and its commands (each cmd_X takes the arguments after
 * "q35 X" and returns the process exit status: 0 done, 1 failed, 2 bad usage). */
#ifndef Q35_CLI_H
#define Q35_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ops.h"

#define ERRLEN 2048

/* Prints "q35: msg" on stderr; returns 1. */
int die(const char *msg);
/* 1 when --help or -h is among the arguments. */
int wants_help(int argc, char **argv);
/* Strict numbers: every numeric option of every command goes through these. v must be the number
 * and nothing else: an optional sign and decimal digits (a real may add a fraction and an
 * exponent); no blanks, no suffix ("12x"), no hex, "nan" or "inf"; a real must be finite; the
 * value must lie in [lo, hi] (an integer is checked without overflow, however many digits it has).
 * On failure one line on stderr names the command, the option, the value and the range, e.g.
 *   q35 forward: --top 2147483648 is out of range; want a whole number from 1 to 1000
 *   q35 compare: --tol abc is not a finite decimal number; want 0 to 1e+09
 * and -1 is returned (the caller exits 2); 0 with *out set otherwise. cmd is the command's name
 * ("forward"), opt the option as typed ("--top"). */
int cli_int(const char *cmd, const char *opt, const char *v, int lo, int hi, int *out);
int cli_int64(const char *cmd, const char *opt, const char *v, int64_t lo, int64_t hi, int64_t *out);
int cli_u64(const char *cmd, const char *opt, const char *v, uint64_t *out); /* 0 .. 2^64 - 1 */
int cli_real(const char *cmd, const char *opt, const char *v, double lo, double hi, double *out);
/* s as decimal digits and nothing else (no sign, no blank, no suffix) in [lo, hi], for numbers
 * where a sign means nothing (token ids, --shard K/N): 0 with *out; -1 when s is not that form
 * (" 5", "+5", "-0", "5x", ""), -2 when it is out of range, however many digits. Prints nothing. */
int cli_digits(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* Why a conversation whose JSON holds U+0000 is refused (q35_json_has_nul). */
#define CLI_NUL_REFUSED                                                                                          \
    "a JSON string holds U+0000 (\\u0000 or a raw NUL byte); the chat template renderer cannot carry it, so the " \
    "conversation is refused rather than cut short there"

/* Reads the next line of f into *buf (grown as needed, *cap its size), its '\n' kept,
 * NUL-terminated. Returns its length; 0 at the end of the file; -1 with err naming name and
 * lineno (the number of the line being read) when reading fails (EISDIR when name is a
 * directory, EIO, EINTR, out of memory: errno tells) or the line is longer than max bytes. */
ssize_t cli_read_line(FILE *f, const char *name, long lineno, size_t max, char **buf, size_t *cap, char *err, size_t errlen);
/* The value of the option argv[*i] when it is one of names (a NULL-terminated list of the
 * command's options that take a value), advancing *i past it. NULL after a line on stderr when
 * it is not among them ("unknown option --bogus") or is last ("--out needs a value"). */
const char *cli_value(const char *cmd, int argc, char **argv, int *i, const char *const *names);
/* For a command's first positional argument s (what: "DIR"): 0 when s is not an option; -1 after
 * a line on stderr when it is one: "unknown option --x", or, for one of the command's own options
 * (vals: those taking a value, flags: the others; either may be NULL), that what comes first. */
int cli_positional(const char *cmd, const char *s, const char *what, const char *const *vals, const char *const *flags);
/* Parses "5,17,300" (decimal ids 0..2147483647, no blanks) into a new array; -1 on a malformed list. */
int parse_ids(const char *s, int **out, int *n);
/* The backend called name, or NULL after saying on stderr which ones exist. */
const q35_ops *cli_backend(const char *cmd, const char *name);
/* Sets the thread count from a --threads value; -1 after a message on stderr when it is not 1..4096. */
int cli_threads(const char *cmd, const char *v);

int cmd_info(int argc, char **argv);
int cmd_forward(int argc, char **argv);
int cmd_mkmodel(int argc, char **argv);
int cmd_preprocess(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_chat_format(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_eval_diff(int argc, char **argv); /* q35 eval diff RUN_A RUN_B (cli/cmd_eval_diff.c) */

#endif
