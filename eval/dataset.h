/* dataset.h - a multiple-choice benchmark in memory, whatever file form it came from: subjects
 * (MMLU's 57, C-Eval's 52, or one "all"), each with its scored split and an optional few-shot
 * split, each item a question, 2..26 options, the gold option and where the row came from.
 *
 * Readers (each its own file): mmlu.c (Hendrycks' CSVs and the header + index re-export),
 * redux.c (MMLU-Redux's raw CSVs), mcfile.c (a generic JSONL/CSV with a column mapping). */
#ifndef Q35_EVAL_DATASET_H
#define Q35_EVAL_DATASET_H

#include <stddef.h>

#define Q35_MC_MAX_CHOICES 26

typedef struct {
    char *question;
    char **choices;   /* n_choices option texts (without their letters) */
    int n_choices;    /* 2..Q35_MC_MAX_CHOICES */
    int answer;       /* 0-based gold option */
    int doc_id;       /* 0-based row of its split's file, header excluded (rows filtered out still count) */
    int line;         /* 1-based line of the file where the row starts */
    char *error_type; /* MMLU-Redux's label, normalised: "ok", "wrong_groundtruth", ...; NULL elsewhere */
    int orig_answer;  /* the file's own answer column before any correction (== answer elsewhere) */
    /* vision-language items (VLMEvalKit TSVs, POPE) */
    char *hint;              /* the row's hint, or NULL */
    unsigned char *image;    /* the encoded image (PNG/JPEG bytes), or NULL */
    size_t image_len;
    char *image_path;        /* or a file holding it, or NULL */
    long long index;         /* the row's own index (MMBench: rotation k of item i is i + k * 1000000) */
} q35_mc_item;

typedef struct {
    char *name;     /* "abstract_algebra" */
    char *category; /* a group for reports ("stem", "humanities", ...); NULL when none is known */
    q35_mc_item *test, *dev;
    int n_test, n_dev;
} q35_mc_subject;

typedef struct {
    q35_mc_subject *s; /* sorted by name */
    int n;
    int n_filtered;    /* rows read but left out by a configured filter (e.g. MMLU-Redux's error_type) */
} q35_mc_set;

/* Frees every item of subject s's two splits and the subject's strings (not s itself). */
void q35_mc_subject_free(q35_mc_subject *s);
/* Frees d's subjects and zeroes d. */
void q35_mc_set_free(q35_mc_set *d);
/* Frees one item's strings. */
void q35_mc_item_free(q35_mc_item *it);
/* Sorts d's subjects by name. */
void q35_mc_set_sort(q35_mc_set *d);
/* The subject named name, appended (empty) when d has none yet. NULL on out of memory. */
q35_mc_subject *q35_mc_set_subject(q35_mc_set *d, const char *name);
/* Appends a copy-free item to split (*items, *n): takes ownership of it's strings. -1 on out of
 * memory (it is then freed). */
int q35_mc_push(q35_mc_item **items, int *n, q35_mc_item *it);

/* MMLU's subject -> category map (lm-evaluation-harness's groups: "stem", "humanities",
 * "social_sciences", "other"); NULL for a name it does not hold. */
const char *q35_mmlu_category(const char *subject);

#endif
