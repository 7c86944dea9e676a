/* cmd_eval_diff.c - q35 eval diff: two evaluation runs compared item by item (eval/stats.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stats.h"

static const char *usage_eval_diff =
    "usage: q35 eval diff RUN_A RUN_B [--json] [--list N]\n"
    "\n"
    "Compares two runs of q35 eval (their directories) item by item, paired by (subject, doc_id):\n"
    "whether config, model and backend are the same (and the config.yaml keys that differ), the\n"
    "2x2 table (both right, A only, B only, both wrong), items of only one run (counted, left out\n"
    "of the paired statistics), items fed different prompts (prompt_sha256 or ids_sha256 differ),\n"
    "the accuracies, B - A with its 95% interval (Newcombe's hybrid score interval for paired\n"
    "proportions), McNemar's exact p, the subjects whose predictions differ, and the first N items\n"
    "whose prediction differs (letters; - where none was extracted).\n"
    "\n"
    "  --json     one JSON object instead (keys: eval/stats.h)\n"
    "  --list N   how many changed items to list (default 20)\n";

int cmd_eval_diff(int argc, char **argv) {
    if (wants_help(argc, argv)) {
        fputs(usage_eval_diff, stdout);
        return 0;
    }
    const char *run[2] = { NULL, NULL };
    int nrun = 0, json = 0;
    long list = 20;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--list") == 0) {
            char *end = NULL;
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            list = v ? strtol(v, &end, 10) : -1;
            if (!v || !*v || *end || list < 0 || list > 1000000000) {
                fprintf(stderr, "q35 eval diff: --list needs a number 0..1000000000\n");
                return 2;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "q35 eval diff: unknown option %s (q35 eval diff --help)\n", a);
            return 2;
        } else if (nrun < 2) {
            run[nrun++] = a;
        } else {
            fprintf(stderr, "q35 eval diff: one run too many: %s\n", a);
            return 2;
        }
    }
    if (nrun != 2) {
        fputs(usage_eval_diff, stderr);
        return 2;
    }
    char err[ERRLEN];
    if (q35_eval_diff(run[0], run[1], stdout, json, (int)list, err, sizeof err) != 0) {
        fprintf(stderr, "q35 eval diff: %s\n", err);
        return 1;
    }
    return 0;
}
