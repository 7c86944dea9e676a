/* mmlu.h - MMLU as released: per-subject CSVs.
 *
 * Files: DIR/test/<subject>_test.csv (or test_sample/<subject>_test*.csv, or DIR itself) and
 * DIR/dev/<subject>_dev.csv (the few-shot examples, in file order). Two row forms are read: the
 * Hendrycks release (no header; question, four choices, the answer as a letter A-D) and the common
 * re-export with the header question,choice0,choice1,choice2,choice3,answer and a 0-based index. */
#ifndef Q35_MMLU_H
#define Q35_MMLU_H

#include <stddef.h>

#include "dataset.h"

/* Loads every subject under dir into d (test split scored, dev split the shots; each subject's
 * category from lm-eval's groups). -1 with err naming the file and line of a bad row, a subject
 * without its dev file, or a directory without test files. */
int q35_mmlu_load(q35_mc_set *d, const char *dir, char *err, size_t errlen);

#endif
