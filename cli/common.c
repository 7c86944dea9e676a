/* common.c - what every command shares: errors, --help, id lists, --backend and --threads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <utf8proc.h>

#include "cli.h"
#include "logits.h"
#include "policy.h"
#include "q35.h"
#include "util.h"

int die(const char *msg) {
    fprintf(stderr, "q35: %s\n", msg);
    return 1;
}

int wants_help(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    return 0;
}

/* Parses "5,17,300" into a new array; -1 on a malformed list. */
int parse_ids(const char *s, int **out, int *n) {
    int cap = 16, k = 0;
    int *v = malloc((size_t)cap * sizeof *v);
    if (!v) return -1;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || x < 0 || x > 2147483647L || (*end && *end != ',')) {
            free(v);
            return -1;
        }
        if (k == cap) {
            int *w = realloc(v, (size_t)(cap *= 2) * sizeof *v);
            if (!w) { free(v); return -1; }
            v = w;
        }
        v[k++] = (int)x;
        p = *end ? end + 1 : end;
    }
    if (k == 0) { free(v); return -1; }
    *out = v;
    *n = k;
    return 0;
}

const q35_ops *cli_backend(const char *cmd, const char *name) {
    const q35_ops *ops = q35_backend(name);
    if (!ops) fprintf(stderr, "q35 %s: unknown backend '%s' (have: %s)\n", cmd, name, q35_backend_names());
    return ops;
}

int cli_threads(const char *cmd, const char *v) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (end == v || *end || errno || n < 1 || n > 4096) {
        fprintf(stderr, "q35 %s: --threads wants a whole number from 1 to 4096, not '%s'\n", cmd, v);
        return -1;
    }
    q35_set_threads((int)n);
    return 0;
}
