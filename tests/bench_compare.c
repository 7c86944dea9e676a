/* bench_compare.c - q35 compare on two 1 GiB dumps against reading the same bytes (make bench).
 * Prints absolute figures and the ratio; the files are fresh in the page cache, so the read is
 * the memory-speed bound (a cold disk is slower still). Not a pass/fail test. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "q35.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Writes a dump of ntensors float32 tensors of n elements each, values from seed, offset added. */
static int write_dump(const char *path, int ntensors, int64_t n, float offset, char *err, size_t errlen) {
    q35_stw w;
    if (q35_stw_init(&w, path, err, errlen) != 0) return -1;
    for (int i = 0; i < ntensors; i++) {
        char name[64];
        snprintf(name, sizeof name, "prefill.text.layers.%d.output", i);
        if (q35_stw_add(&w, name, Q35_F32, 1, &n, err, errlen) != 0) return q35_stw_abort(&w), -1;
    }
    if (q35_stw_begin(&w, err, errlen) != 0) return q35_stw_abort(&w), -1;
    float *x = malloc((size_t)n * sizeof *x);
    uint32_t s = 12345;
    for (int i = 0; i < ntensors; i++) {
        for (int64_t k = 0; k < n; k++) {
            s = s * 1664525u + 1013904223u;
            x[k] = (float)(s >> 8) / 16777216.0f - 0.5f + offset;
        }
        if (q35_stw_write(&w, x, (size_t)n * sizeof *x, err, errlen) != 0) return free(x), q35_stw_abort(&w), -1;
    }
    free(x);
    return q35_stw_finish(&w, err, errlen);
}

static double read_all(const char *path) {
    static char buf[1 << 20];
    double sum = 0;
    int fd = open(path, O_RDONLY);
    ssize_t r;
    while (fd >= 0 && (r = read(fd, buf, sizeof buf)) > 0) sum += buf[r - 1];
    if (fd >= 0) close(fd);
    return sum;
}

int main(void) {
    char err[1024], a[512], b[512];
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(a, sizeof a, "%s/q35_bench_a.safetensors", tmp);
    snprintf(b, sizeof b, "%s/q35_bench_b.safetensors", tmp);
    int nt = 64;
    int64_t n = 4 << 20; /* 64 x 16 MiB = 1 GiB per dump */
    if (write_dump(a, nt, n, 0, err, sizeof err) != 0 || write_dump(b, nt, n, 1e-6f, err, sizeof err) != 0) {
        fprintf(stderr, "bench_compare: %s\n", err);
        return 1;
    }
    double t0 = now(), s = read_all(a) + read_all(b), t_read = now() - t0;
    q35_policy pol;
    q35_policy_default(&pol, 2e-4, 1e-4, 0.99999, err, sizeof err);
    q35_compare_opts o = { .ours = a, .theirs = b, .policy = &pol };
    q35_report rep;
    q35_report_init(&rep, "compare");
    t0 = now();
    int rc = q35_compare_files(&o, &rep, err, sizeof err);
    double t_cmp = now() - t0, gib = 2.0 * nt * n * 4 / (1u << 30);
    printf("compare, two 1 GiB dumps (%d tensors each): %.2f s, %.2f GiB/s; reading the same bytes: %.2f s, %.2f GiB/s; "
           "ratio %.2f (status %d%s)\n",
           nt, t_cmp, gib / t_cmp, t_read, gib / t_read, t_cmp / t_read, rc, s == 0.5 ? "" : "");
    q35_report_free(&rep);
    q35_policy_free(&pol);
    remove(a);
    remove(b);
    return rc < 0;
}
