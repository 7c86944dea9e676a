/* fuzz_redux.c - libFuzzer target for q35_fuzz_redux (harness.c; README.md says what it feeds). */
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    q35_fuzz_redux(d, n);
    return 0;
}
