/* test_fuzz_regressions.c - every file under tests/fuzz/regressions/<target>/ (inputs that once
 * crashed a parser, kept once fixed) and tests/fuzz/seeds/<target>/ (the fuzzers' starting corpora,
 * made from the shipped files) replayed through the same harness functions the libFuzzer targets
 * call (tests/fuzz/harness.c, compiled here into the normal build; under make asan with the
 * sanitizers too). Each input must come back from its harness (no crash, no abort from a harness
 * invariant), each target must have seeds, every directory must name a target, and the whole
 * replay must stay fast: each target within TARGET_LIMIT_S, the suite within TOTAL_LIMIT_S. */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "fuzz/harness.c"

#define SEEDS "tests/fuzz/seeds"
#define REGRESSIONS "tests/fuzz/regressions"
#define TARGET_LIMIT_S 30.0
#define TOTAL_LIMIT_S 90.0

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The input being replayed, named on stderr if it kills the process. */
static char current[4400];

static void name_current(void) {
    static const char msg[] = "test_fuzz_regressions: died while replaying ";
    if (!current[0]) return;
    ssize_t r = write(2, msg, sizeof msg - 1);
    r = write(2, current, strlen(current));
    r = write(2, "\n", 1);
    (void)r;
}

static void on_fatal(int sig) {
    name_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Present when a sanitizer runtime is linked in (make asan): its reports end the process without
 * a signal, so it is asked to name the input first; its own SIGSEGV handler is kept. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static void catch_fatal(void) {
    int sigs[] = { SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGSEGV };
    size_t n = sizeof sigs / sizeof sigs[0];
    if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(name_current), n--;
    for (size_t i = 0; i < n; i++) signal(sigs[i], on_fatal);
}

static int ntargets(void) {
    int n = 0;
    while (q35_fuzz_targets[n].name) n++;
    return n;
}

static const q35_fuzz_target *target_named(const char *name) {
    for (const q35_fuzz_target *t = q35_fuzz_targets; t->name; t++)
        if (strcmp(t->name, name) == 0) return t;
    return NULL;
}

static int visible(const struct dirent *e) { return e->d_name[0] != '.'; }

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    ck_assert_msg(len >= 0 && len <= (long)Q35_FUZZ_MAX_INPUT, "%s: %ld bytes (the harnesses take at most %u)", path, len,
                  Q35_FUZZ_MAX_INPUT);
    rewind(f);
    uint8_t *d = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(fread(d, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return d;
}

/* Replays every file of root/<t->name>/ (none when the directory is missing); returns how many. */
static int replay(const q35_fuzz_target *t, const char *root, int *accepted, double *slowest, char *slowest_name,
                  size_t sl) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", root, t->name);
    struct dirent **names = NULL;
    int n = scandir(dir, &names, visible, alphasort), count = 0;
    for (int i = 0; i < n; i++) {
        snprintf(current, sizeof current, "%s/%s", dir, names[i]->d_name);
        struct stat sb;
        if (stat(current, &sb) == 0 && S_ISREG(sb.st_mode)) {
            size_t len;
            uint8_t *d = slurp(current, &len);
            double t0 = now_s();
            /* an exact-size copy, as libFuzzer passes it: a read past the end is caught under ASan */
            uint8_t *exact = malloc(len ? len : 1);
            ck_assert_ptr_nonnull(exact);
            memcpy(exact, d, len);
            int rc = t->fn(exact, len);
            double dt = now_s() - t0;
            free(exact);
            free(d);
            ck_assert_msg(rc >= 0 && rc <= 2, "%s: harness returned %d", current, rc);
            *accepted += rc == 0;
            if (dt > *slowest) *slowest = dt, snprintf(slowest_name, sl, "%s", current);
            count++;
        }
        free(names[i]);
    }
    free(names);
    current[0] = 0;
    return count;
}

START_TEST(replay_target) {
    const q35_fuzz_target *t = &q35_fuzz_targets[_i];
    catch_fatal();
    int acc_seeds = 0, acc_regs = 0;
    double slowest = 0, t0 = now_s();
    char slowest_name[4400] = "";
    int nregs = replay(t, REGRESSIONS, &acc_regs, &slowest, slowest_name, sizeof slowest_name);
    int nseeds = replay(t, SEEDS, &acc_seeds, &slowest, slowest_name, sizeof slowest_name);
    double dt = now_s() - t0;
    q35_fuzz_cleanup();
    printf("fuzz %-12s %4d seeds (%d parsed), %3d regressions, %.2f s (slowest %.3f s: %s)\n", t->name, nseeds,
           acc_seeds, nregs, dt, slowest, slowest_name);
    ck_assert_msg(nseeds > 0, "target %s has no seeds in %s/%s", t->name, SEEDS, t->name);
    ck_assert_msg(acc_seeds > 0, "target %s: not one seed is accepted by its parser", t->name);
    ck_assert_msg(dt < TARGET_LIMIT_S, "target %s took %.1f s to replay (limit %.0f s); slowest %s", t->name, dt,
                  TARGET_LIMIT_S, slowest_name);
}
END_TEST

/* Every directory of seeds/ and regressions/ names a target. */
START_TEST(directories_name_targets) {
    const char *roots[2] = { SEEDS, REGRESSIONS };
    for (int r = 0; r < 2; r++) {
        struct dirent **names = NULL;
        int n = scandir(roots[r], &names, visible, alphasort);
        ck_assert_msg(n >= 0, "cannot list %s (run the suite from the repository root)", roots[r]);
        for (int i = 0; i < n; i++) {
            char p[4400];
            struct stat sb;
            snprintf(p, sizeof p, "%s/%s", roots[r], names[i]->d_name);
            if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
                ck_assert_msg(target_named(names[i]->d_name) != NULL, "%s: no fuzz target of that name", p);
            free(names[i]);
        }
        free(names);
    }
}
END_TEST

/* test_fuzz_regressions TARGET FILE...: replays the files through one harness, printing what each
 * gives (Q35_FUZZ_VERBOSE=1 adds the parser's message); without arguments, the suite. */
static int replay_files(int argc, char **argv) {
    const q35_fuzz_target *t = target_named(argv[1]);
    if (!t) {
        fprintf(stderr, "no fuzz target %s; targets:", argv[1]);
        for (t = q35_fuzz_targets; t->name; t++) fprintf(stderr, " %s", t->name);
        fprintf(stderr, "\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        size_t cap = Q35_FUZZ_MAX_INPUT + 1, n = 0;
        uint8_t *d = malloc(cap);
        if (!d) return 2;
        n = fread(d, 1, cap, f);
        fclose(f);
        uint8_t *exact = malloc(n ? n : 1);
        if (!exact) return 2;
        memcpy(exact, d, n);
        free(d);
        double t0 = now_s();
        snprintf(current, sizeof current, "%s", argv[i]);
        int rc = t->fn(exact, n);
        free(exact);
        printf("%s: %s (%.3f s)\n", argv[i], rc == 0 ? "accepted" : rc == 1 ? "refused" : "skipped", now_s() - t0);
    }
    q35_fuzz_cleanup();
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 2) return replay_files(argc, argv);
    double t0 = now_s();
    Suite *s = suite_create("fuzz_regressions");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, directories_name_targets);
    tcase_add_loop_test(tc, replay_target, 0, ntargets());
    suite_add_tcase(s, tc);
    int rc = tu_run_suite(s);
    double dt = now_s() - t0;
    printf("fuzz regressions: every input replayed in %.2f s (limit %.0f s)\n", dt, TOTAL_LIMIT_S);
    if (dt > TOTAL_LIMIT_S) {
        printf("fuzz regressions: FAILED: the replay took %.1f s, over its %.0f s bound\n", dt, TOTAL_LIMIT_S);
        rc = 1;
    }
    return rc;
}
