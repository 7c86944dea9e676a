/* harness.h - the fuzz harnesses: one function per parser, shared by the libFuzzer targets
 * (tests/fuzz/fuzz_<name>.c, built by `make fuzz`) and by the regression suite
 * (tests/test_fuzz_regressions.c, built by the normal `make check`).
 *
 * Each q35_fuzz_<name>(d, n) feeds the n bytes at d to one parser through its public entry point
 * (a buffer API where there is one, else a file in a private temporary directory), exercises what
 * the parser returns, frees everything, and returns normally: 0 when the parser accepted the input,
 * 1 when it refused it (an error message), 2 when the harness skipped it (too large). A crash, a
 * sanitizer report, a leak, or an abort() from a harness invariant (HARNESS INVARIANT on stderr)
 * is a bug in the parser. README.md in this directory describes each input format. */
#ifndef Q35_FUZZ_HARNESS_H
#define Q35_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* Inputs longer than this are skipped by every harness (the targets' -max_len is smaller). */
#define Q35_FUZZ_MAX_INPUT (1u << 20)

int q35_fuzz_safetensors(const uint8_t *d, size_t n);
int q35_fuzz_st_index(const uint8_t *d, size_t n);
int q35_fuzz_config(const uint8_t *d, size_t n);
int q35_fuzz_tokenizer(const uint8_t *d, size_t n);
int q35_fuzz_jinja(const uint8_t *d, size_t n);
int q35_fuzz_image(const uint8_t *d, size_t n);
int q35_fuzz_npy(const uint8_t *d, size_t n);
int q35_fuzz_alias(const uint8_t *d, size_t n);
int q35_fuzz_policy(const uint8_t *d, size_t n);
int q35_fuzz_yaml(const uint8_t *d, size_t n);
int q35_fuzz_csv(const uint8_t *d, size_t n);
int q35_fuzz_evalconfig(const uint8_t *d, size_t n);
int q35_fuzz_redux(const uint8_t *d, size_t n);
int q35_fuzz_mcfile(const uint8_t *d, size_t n);

typedef struct {
    const char *name; /* the target: fuzz_<name>, seeds/<name>/, regressions/<name>/ */
    int (*fn)(const uint8_t *d, size_t n);
} q35_fuzz_target;

/* Every target, then { NULL, NULL }. */
extern const q35_fuzz_target q35_fuzz_targets[];

/* Removes the harnesses' temporary directory (made on first use under $TMPDIR or /tmp). */
void q35_fuzz_cleanup(void);

#endif
