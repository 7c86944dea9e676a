/* genconfig.h - a checkpoint's generation_config.json: the sampling defaults its authors ship. */
#ifndef Q35_GENCONFIG_H
#define Q35_GENCONFIG_H

#include <stddef.h>

#include "sampler.h"

/* The fields q35 uses; has_X says the file gives X (only those override a preset). */
typedef struct {
    int present; /* the file exists */
    int has_temperature, has_top_p, has_top_k, has_min_p, has_presence, has_frequency, has_repetition;
    int has_do_sample, has_max_new_tokens;
    q35_sampling s;     /* the values given (others zero) */
    int do_sample;      /* false means greedy whatever the temperature (transformers) */
    int max_new_tokens;
    int eos[16], n_eos; /* eos_token_id: one id or a list */
} q35_genconfig;

/* Reads dir/generation_config.json into g. A missing file is not an error (g->present = 0); a
 * file that is not JSON, or a field of the wrong type or out of range, is (-1 with err naming the
 * field). */
int q35_genconfig_load(q35_genconfig *g, const char *dir, char *err, size_t errlen);

#endif
