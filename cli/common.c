/* common.c - what every command shares: errors, --help, strict numbers and option values, id lists,
 * --backend and --threads. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
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

/* ---- strict numbers ---- */

/* Optional sign, then decimal digits to the end of s: the magnitude into *mag and the sign into
 * *neg. 0 done, -1 not that form, -2 a magnitude beyond 2^64 - 1. */
static int parse_whole(const char *s, int *neg, uint64_t *mag) {
    *neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    if (!*s) return -1;
    uint64_t m = 0;
    int big = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        unsigned d = (unsigned)(*s - '0');
        if (m > (UINT64_MAX - d) / 10) big = 1;
        else m = m * 10 + d;
    }
    *mag = m;
    return big ? -2 : 0;
}

int cli_digits(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
    int neg;
    uint64_t mag;
    if (*s < '0' || *s > '9') return -1; /* no sign, no blank: digits from the first byte */
    int rc = parse_whole(s, &neg, &mag);
    if (rc != 0) return rc;
    if (mag < lo || mag > hi) return -2;
    *out = mag;
    return 0;
}

/* Whether s is a plain decimal number: [+-]digits[.digits][(e|E)[+-]digits], at least one digit
 * before the exponent. Rules out blanks, hex, "nan", "inf" and suffixes before strtod sees it. */
static int is_decimal(const char *s) {
    int digits = 0;
    if (*s == '-' || *s == '+') s++;
    for (; *s >= '0' && *s <= '9'; s++) digits++;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++) digits++;
    if (!digits) return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+') s++;
        if (*s < '0' || *s > '9') return 0;
        while (*s >= '0' && *s <= '9') s++;
    }
    return *s == 0;
}

/* The message every numeric option gives: the option, the value (quoted when empty), what is
 * wrong with it, and the range: "q35 forward: --top 2147483648 is out of range; want a whole number
 * from 1 to 1000". bad_form: not a number at all (else out of range); kind: "whole number" or
 * "number"; lo, hi: the range as text. */
static void num_error(const char *cmd, const char *opt, const char *v, int bad_form, const char *kind, const char *lo,
                      const char *hi) {
    const char *q = *v ? "" : "'";
    if (bad_form)
        fprintf(stderr, "q35 %s: %s %s%s%s is not a %s%s; want %s to %s\n", cmd, opt, q, v, q,
                strcmp(kind, "number") == 0 ? "finite decimal " : "", kind, lo, hi);
    else
        fprintf(stderr, "q35 %s: %s %s is out of range; want a %s from %s to %s\n", cmd, opt, v, kind, lo, hi);
}

int cli_int64(const char *cmd, const char *opt, const char *v, int64_t lo, int64_t hi, int64_t *out) {
    char los[24], his[24];
    snprintf(los, sizeof los, "%lld", (long long)lo);
    snprintf(his, sizeof his, "%lld", (long long)hi);
    int neg;
    uint64_t mag;
    int rc = v ? parse_whole(v, &neg, &mag) : -1;
    /* the value as int64 when it is one; anything beyond is out of range */
    int fits = rc == 0 && (neg ? mag <= (uint64_t)INT64_MAX + 1 : mag <= (uint64_t)INT64_MAX);
    int64_t x = !fits ? 0 : neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
    if (rc == -1 || !fits || x < lo || x > hi) {
        num_error(cmd, opt, v ? v : "", rc == -1, "whole number", los, his);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_int(const char *cmd, const char *opt, const char *v, int lo, int hi, int *out) {
    int64_t x;
    if (cli_int64(cmd, opt, v, lo, hi, &x) != 0) return -1;
    *out = (int)x;
    return 0;
}

int cli_u64(const char *cmd, const char *opt, const char *v, uint64_t *out) {
    int neg;
    uint64_t mag;
    int rc = v ? parse_whole(v, &neg, &mag) : -1;
    if (rc != 0 || (neg && mag)) {
        num_error(cmd, opt, v ? v : "", rc == -1, "whole number", "0", "18446744073709551615");
        return -1;
    }
    *out = mag;
    return 0;
}

int cli_real(const char *cmd, const char *opt, const char *v, double lo, double hi, double *out) {
    char los[32], his[32];
    snprintf(los, sizeof los, "%g", lo);
    snprintf(his, sizeof his, "%g", hi);
    int form = v && is_decimal(v);
    char *end = NULL;
    double x = form ? strtod(v, &end) : 0;
    /* beyond a double (1e999) strtod gives inf: out of range; below its smallest (1e-999), 0 */
    if (!form || *end || !isfinite(x) || x < lo || x > hi) {
        num_error(cmd, opt, v ? v : "", !form, "number", los, his);
        return -1;
    }
    *out = x;
    return 0;
}

/* ---- options ---- */

const char *cli_value(const char *cmd, int argc, char **argv, int *i, const char *const *names) {
    const char *a = argv[*i];
    for (int k = 0; names[k]; k++) {
        if (strcmp(a, names[k]) != 0) continue;
        if (*i + 1 >= argc) {
            fprintf(stderr, "q35 %s: %s needs a value (q35 %s --help)\n", cmd, a, cmd);
            return NULL;
        }
        return argv[++*i];
    }
    fprintf(stderr, "q35 %s: unknown option %s (q35 %s --help)\n", cmd, a, cmd);
    return NULL;
}

static int listed(const char *s, const char *const *names) {
    for (int k = 0; names && names[k]; k++)
        if (strcmp(s, names[k]) == 0) return 1;
    return 0;
}

int cli_positional(const char *cmd, const char *s, const char *what, const char *const *vals, const char *const *flags) {
    if (s[0] != '-' || !s[1]) return 0;
    if (listed(s, vals) || listed(s, flags))
        fprintf(stderr, "q35 %s: %s comes first, before options such as %s (q35 %s --help)\n", cmd, what, s, cmd);
    else
        fprintf(stderr, "q35 %s: unknown option %s (q35 %s --help)\n", cmd, s, cmd);
    return -1;
}

/* Parses "5,17,300" into a new array; -1 on a malformed list. */
int parse_ids(const char *s, int **out, int *n) {
    int cap = 16, k = 0;
    int *v = malloc((size_t)cap * sizeof *v);
    if (!v) return -1;
    const char *p = s;
    char item[32];
    while (*p) {
        size_t len = strcspn(p, ",");
        uint64_t mag;
        if (len == 0 || len >= sizeof item) { free(v); return -1; }
        memcpy(item, p, len);
        item[len] = 0;
        if (cli_digits(item, 0, 2147483647u, &mag) != 0) {
            free(v);
            return -1;
        }
        if (k == cap) {
            int *w = realloc(v, (size_t)(cap *= 2) * sizeof *v);
            if (!w) { free(v); return -1; }
            v = w;
        }
        v[k++] = (int)mag;
        p += len;
        if (*p == ',') {
            p++;
            if (!*p) { free(v); return -1; } /* a trailing comma */
        }
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
    int n;
    if (cli_int(cmd, "--threads", v, 1, 4096, &n) != 0) return -1;
    q35_set_threads(n);
    return 0;
}

ssize_t cli_read_line(FILE *f, const char *name, long lineno, size_t max, char **buf, size_t *cap, char *err, size_t errlen) {
    size_t n = 0;
    int c;
    errno = 0;
    while ((c = getc_unlocked(f)) != EOF) {
        if (n == max)
            return q35_fail(err, errlen, "%s: line %ld is longer than %zu MiB, the most a line may hold here", name, lineno, max >> 20);
        if (n + 2 > *cap) {
            size_t nc = *cap ? *cap * 2 : 4096;
            if (nc > max + 2) nc = max + 2;
            char *nb = realloc(*buf, nc);
            if (!nb) return q35_fail(err, errlen, "%s: line %ld: out of memory", name, lineno);
            *buf = nb, *cap = nc;
        }
        (*buf)[n++] = (char)c;
        if (c == '\n') break;
    }
    if (ferror(f)) {
        int e = errno;
        q35_fail(err, errlen, "%s: cannot read line %ld: %s", name, lineno, strerror(e));
        errno = e;
        return -1;
    }
    if (n) (*buf)[n] = 0;
    return (ssize_t)n;
}
