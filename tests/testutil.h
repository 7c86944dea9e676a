/* testutil.h - small helpers shared by the Check suites. */
#ifndef Q35_TESTUTIL_H
#define Q35_TESTUTIL_H

#include <stddef.h>

/* A fresh empty directory under $TMPDIR (or /tmp); the returned string is static per call site
 * only until the next call: copy it if you need two. */
const char *tu_mkdtemp(void);
/* Like tu_mkdtemp, but in whichever of $TMPDIR, /tmp, /var/tmp and build/ has the most free
 * space (a real-size checkpoint needs a few GB); fails the test naming the need when none has
 * need_bytes free. */
const char *tu_mkdtemp_big(unsigned long long need_bytes);
/* Writes n bytes to path; aborts the test on failure. */
void tu_write_file(const char *path, const void *data, size_t n);
/* Removes dir and everything under it. */
void tu_rm_rf(const char *dir);
/* Runs a Check suite built by make_suite(); returns the process exit status (0 = all passed). */
#include <check.h>
int tu_run_suite(Suite *s);

#endif
