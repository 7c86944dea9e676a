/* mcfile.h - a multiple-choice benchmark exported as JSONL or CSV/TSV (MMLU-Pro, C-Eval, MMMLU,
 * GPQA, SuperGPQA, ...), read through a column mapping.
 *
 * JSONL: one JSON object per line (blank lines skipped); a column is a key. CSV/TSV: RFC 4180
 * with a header row naming the columns (blank lines skipped; every row as many fields as the
 * header). Text must be UTF-8. doc_id is the 0-based data row (header and blank lines excluded):
 * of its file when subjects come from file names, else counted on across a directory's files in
 * name order. line is the 1-based line where the row starts. */
#ifndef Q35_EVAL_MCFILE_H
#define Q35_EVAL_MCFILE_H

#include <stddef.h>

#include "dataset.h"

typedef struct {
    const char *question;      /* column of the question text (required) */
    const char *choices;       /* one column holding a list (JSON array in JSONL; in CSV a JSON array or Python list literal), or a comma-separated list of columns, e.g. "A,B,C,D" */
    const char *answer;        /* column of the gold answer */
    const char *answer_format; /* "letter" (A..), "index" (0-based), "index1" (1-based), "text" (equals exactly one choice's text) or "auto" (letter if a single A-Z letter, else index if digits); NULL = "auto" */
    const char *subject;       /* column naming the subject, or NULL/"file" = from the file name (stem with a trailing _test/_val/_dev/_validation removed), or "" = one subject "all" */
    const char *category;      /* column of a category for reports, or NULL (then MMLU's groups for MMLU subject names) */
} q35_mc_columns;

/* Reads path (a file, or a directory: every file of the format in it, by name; with format NULL
 * every *.jsonl, *.csv and *.tsv, each by its extension) and adds its rows to d's subjects by name
 * (created as needed, then all sorted): into each subject's test split (into_dev 0, the scored
 * one) or dev split (into_dev 1, the few-shot examples), so that a dev load after the test load
 * joins the same subjects. d must be zeroed or hold an earlier load. format: "jsonl", "csv", "tsv"
 * or NULL (by the extension: .jsonl, .csv, .tsv). Every row: 2..26 choices (kept as they are,
 * empty ones too), the answer naming one of them (a JSON number is taken for the index formats
 * and auto), a category, when mapped, the same on every row of a subject. Surrounding whitespace
 * of a letter or index answer is ignored; a text answer must match exactly.
 * 0, or -1 with err naming the file and line (and the column) of the first bad row or header,
 * or the bad mapping; d is then as it was (short of running out of memory while merging). */
int q35_mcfile_load(q35_mc_set *d, const char *path, const char *format, const q35_mc_columns *cols, int into_dev,
                    char *err, size_t errlen);

#endif
