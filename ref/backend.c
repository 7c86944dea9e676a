/* backend.c - the registry of op tables, and the thread count the parallel ones use. */
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ops.h"

static const q35_ops *const registry[] = { &q35_ops_ref, &q35_ops_fast, &q35_ops_fast_bf16 };

const q35_ops *q35_backend(const char *name) {
    for (size_t i = 0; name && i < sizeof registry / sizeof registry[0]; i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}

const char *q35_backend_names(void) { return "ref, fast, fast-bf16"; }

static int n_threads; /* 0: not set, OpenMP's default (every core, or OMP_NUM_THREADS) */

void q35_set_threads(int n) {
#ifdef _OPENMP
    if (n <= 0) n = omp_get_num_procs();
#else
    n = 1;
#endif
    n_threads = n;
}

int q35_get_threads(void) {
#ifdef _OPENMP
    return n_threads > 0 ? n_threads : omp_get_max_threads();
#else
    return 1;
#endif
}
