/* cli.h - the command line's shared helpers and its commands (each cmd_X takes the arguments after
 * "q35 X" and returns the process exit status: 0 done, 1 failed, 2 bad usage). */
#ifndef Q35_CLI_H
#define Q35_CLI_H

#include "ops.h"

#define ERRLEN 2048

/* Prints "q35: msg" on stderr; returns 1. */
int die(const char *msg);
/* 1 when --help or -h is among the arguments. */
int wants_help(int argc, char **argv);
/* Parses "5,17,300" into a new array; -1 on a malformed list. */
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
