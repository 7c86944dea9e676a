/* genconfig.c - generation_config.json: sampling defaults and end tokens. */
#include "genconfig.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "util.h"

/* A number field: 1 when present (*v set), 0 when absent or null, -1 (err) when not a number or
 * outside [lo, hi]. */
static int num_field(const cJSON *j, const char *key, double lo, double hi, double *v, const char *path, char *err,
                     size_t errlen) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!x || cJSON_IsNull(x)) return 0;
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) || x->valuedouble < lo || x->valuedouble > hi)
        return q35_fail(err, errlen, "%s: \"%s\" must be a number in [%g, %g]", path, key, lo, hi);
    *v = x->valuedouble;
    return 1;
}

int q35_genconfig_load(q35_genconfig *g, const char *dir, char *err, size_t errlen) {
    memset(g, 0, sizeof *g);
    char path[4096];
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fclose(f);
    size_t n;
    char *text = q35_read_file(path, 1u << 20, &n);
    if (!text) return q35_fail(err, errlen, "%s: cannot read (or over 1 MiB)", path);
    cJSON *j = q35_json_parse(text, n);
    free(text);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return q35_fail(err, errlen, "%s: not a JSON object", path);
    }
    g->present = 1;
    double v;
    int rc = 0, k;
#define NUM(key, lo, hi, flag, dst)                                                                     \
    if (rc == 0) {                                                                                       \
        k = num_field(j, key, lo, hi, &v, path, err, errlen);                                            \
        if (k < 0) rc = -1;                                                                              \
        else if (k > 0) g->flag = 1, dst;                                                                \
    }
    NUM("temperature", 0, 1e6, has_temperature, g->s.temperature = (float)v)
    NUM("top_p", 0, 1, has_top_p, g->s.top_p = (float)v)
    NUM("top_k", 0, 1e9, has_top_k, g->s.top_k = (int)v)
    NUM("min_p", 0, 1, has_min_p, g->s.min_p = (float)v)
    NUM("presence_penalty", -1e6, 1e6, has_presence, g->s.presence_penalty = (float)v)
    NUM("frequency_penalty", -1e6, 1e6, has_frequency, g->s.frequency_penalty = (float)v)
    NUM("repetition_penalty", 1e-6, 1e6, has_repetition, g->s.repetition_penalty = (float)v)
    NUM("max_new_tokens", 0, 1e9, has_max_new_tokens, g->max_new_tokens = (int)v)
#undef NUM
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(j, "do_sample");
    if (rc == 0 && ds && !cJSON_IsNull(ds)) {
        if (!cJSON_IsBool(ds)) rc = q35_fail(err, errlen, "%s: \"do_sample\" must be true or false", path);
        else g->has_do_sample = 1, g->do_sample = cJSON_IsTrue(ds);
    }
    const cJSON *eos = cJSON_GetObjectItemCaseSensitive(j, "eos_token_id");
    if (rc == 0 && eos && !cJSON_IsNull(eos)) {
        const cJSON *e;
        if (cJSON_IsNumber(eos)) {
            g->eos[g->n_eos++] = eos->valueint;
        } else if (cJSON_IsArray(eos)) {
            cJSON_ArrayForEach(e, eos) {
                if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 1e9 || g->n_eos >= 16) {
                    rc = q35_fail(err, errlen, "%s: \"eos_token_id\" must be an id or a list of at most 16 ids", path);
                    break;
                }
                g->eos[g->n_eos++] = e->valueint;
            }
        } else {
            rc = q35_fail(err, errlen, "%s: \"eos_token_id\" must be an id or a list of ids", path);
        }
    }
    cJSON_Delete(j);
    return rc;
}
