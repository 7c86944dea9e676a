/* mmlu.h - MMLU as released (per-subject CSVs) and lm-evaluation-harness 0.4.x's prompt for it.
 *
 * Files: DIR/test/<subject>_test.csv (or test_sample/<subject>_test*.csv, or DIR itself) and
 * DIR/dev/<subject>_dev.csv (the few-shot examples, in file order). Two row forms are read: the
 * Hendrycks release (no header; question, four choices, the answer as a letter A-D) and the common
 * re-export with the header question,choice0,choice1,choice2,choice3,answer and a 0-based index. */
#ifndef Q35_MMLU_H
#define Q35_MMLU_H

#include <stddef.h>

typedef struct {
    char *question;
    char *choices[4];
    int answer; /* 0..3 */
    int doc_id; /* 0-based row of its split's file, header excluded */
    int line;   /* line of the file where the row starts */
} q35_mc_item;

typedef struct {
    char *name;       /* "abstract_algebra" */
    q35_mc_item *test, *dev;
    int n_test, n_dev;
} q35_mmlu_subject;

typedef struct {
    q35_mmlu_subject *s; /* sorted by name */
    int n;
    char *test_dir, *dev_dir;
} q35_mmlu;

/* Loads every subject under dir. -1 with err naming the file and line of a bad row, a subject
 * without its dev file, or a directory without test files. */
int q35_mmlu_load(q35_mmlu *d, const char *dir, char *err, size_t errlen);
void q35_mmlu_free(q35_mmlu *d);

/* lm-eval's context for item of subject s with k shots from its dev split (the first k, in file
 * order): "The following are multiple choice questions (with answers) about {subject, _ as
 * spaces}.\n\n", then per shot "{question.strip()}\nA. {c0}\nB. {c1}\nC. {c2}\nD. {c3}\nAnswer: {gold
 * letter}" joined and followed by "\n\n", then the item's "...\nAnswer:". A new string; NULL when
 * k exceeds the dev split or on out of memory. */
char *q35_mmlu_context(const q35_mmlu_subject *s, const q35_mc_item *it, int k);

/* The part of every context of subject s that comes before the item: the description and the k
 * shots (ends with "\n\n" when k > 0). A new string; NULL as q35_mmlu_context. */
char *q35_mmlu_prefix(const q35_mmlu_subject *s, int k);

/* lm-eval's request split of (context, continuation): trailing whitespace of the context moves to
 * the front of the continuation. *ctx and *cont are new strings. */
int q35_split_request(const char *context, const char *continuation, char **ctx, char **cont);

#endif
