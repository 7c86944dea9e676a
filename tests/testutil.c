/* testutil.c - small helpers shared by the Check suites. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

const char *tu_mkdtemp(void) {
    static char buf[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, sizeof buf, "%s/q35test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_msg(mkdtemp(buf) != NULL, "mkdtemp failed");
    return buf;
}

const char *tu_mkdtemp_big(unsigned long long need_bytes) {
    static char buf[4096];
    const char *cands[] = { getenv("TMPDIR"), "/tmp", "/var/tmp", "build" };
    const char *best = NULL;
    unsigned long long best_free = 0;
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        struct statvfs sv;
        if (!cands[i] || !*cands[i] || statvfs(cands[i], &sv) != 0) continue;
        unsigned long long avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
        if (avail > best_free) best_free = avail, best = cands[i];
    }
    ck_assert_msg(best && best_free >= need_bytes,
                  "this test writes a real-size checkpoint: it needs %.1f GB free in $TMPDIR, /tmp, /var/tmp or build/ "
                  "(most found: %.1f GB)", need_bytes / 1e9, best_free / 1e9);
    snprintf(buf, sizeof buf, "%s/q35test.XXXXXX", best);
    ck_assert_msg(mkdtemp(buf) != NULL, "mkdtemp in %s failed", best);
    return buf;
}

void tu_write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

void tu_rm_rf(const char *dir) {
    char cmd[4200];
    if (!dir || !*dir || strcmp(dir, "/") == 0) return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
}

int tu_run_suite(Suite *s) {
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
