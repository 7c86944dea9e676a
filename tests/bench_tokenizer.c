/* bench_tokenizer.c - single-threaded encoding throughput on the tokenizer corpus (make bench).
 * Prints absolute figures and the ratio to Hugging Face's tokenizers library, measured at about
 * 1.2 MB/s on such text on the project's machines (issue 5). Not a pass/fail test. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tokenizer.h"
#include "util.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const char *tok = argc > 1 ? argv[1] : "tests/data/tokenizer/qwen35_style_tokenizer.json";
    const char *corpus = argc > 2 ? argv[2] : "tests/data/tokenizer/corpus.jsonl";
    char err[1024];
    double t0 = now();
    q35_tokenizer *t = q35_tokenizer_load(tok, err, sizeof err);
    if (!t) { fprintf(stderr, "%s\n", err); return 1; }
    double load = now() - t0;
    size_t n;
    char *text = q35_read_file(corpus, 64u << 20, &n);
    if (!text) { fprintf(stderr, "%s: cannot read\n", corpus); return 1; }
    /* the corpus lines, repeated to about 4 MB */
    char **lines = NULL;
    int nl = 0, cap = 0;
    for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(l);
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "text");
        if (cJSON_IsString(s)) {
            if (nl == cap) lines = realloc(lines, (size_t)(cap = cap ? cap * 2 : 512) * sizeof *lines);
            lines[nl++] = strdup(s->valuestring);
        }
        cJSON_Delete(j);
    }
    size_t bytes = 0, tokens = 0;
    int reps = 0;
    t0 = now();
    while (bytes < 4000000) {
        for (int i = 0; i < nl; i++) {
            int *ids, k;
            size_t len = strlen(lines[i]);
            if (q35_tokenize(t, lines[i], len, &ids, &k, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); return 1; }
            bytes += len;
            tokens += (size_t)k;
            free(ids);
        }
        reps++;
    }
    double dt = now() - t0, mbs = bytes / dt / 1e6;
    printf("tokenizer: %s\n", tok);
    printf("  load %.3f s; encode %.2f MB (%d lines x %d) into %zu tokens in %.3f s: %.2f MB/s, %.0f tokens/s\n", load,
           bytes / 1e6, nl, reps, tokens, dt, mbs, tokens / dt);
    printf("  ratio to Hugging Face tokenizers (1.2 MB/s, single thread): %.1fx (lines repeat, so the word cache is warm, as in HF)\n", mbs / 1.2);
    for (int i = 0; i < nl; i++) free(lines[i]);
    free(lines);
    free(text);
    q35_tokenizer_free(t);
    return 0;
}
