/* redux.h - MMLU-Redux's raw CSVs (github aryopg/mmlu-redux, mmlu_redux/mmlu_<subject>.csv).
 *
 * Each file has a header naming the columns question, choices, answer, error_type, source,
 * correct_answer, potential_reason (the order differs between files; extra unnamed columns are
 * ignored); the separator is ',' or ';' (whichever the header line uses); the text is UTF-8, or
 * cp1252 (mmlu_moral_scenarios.csv), converted to UTF-8 when the bytes are not valid UTF-8.
 *   choices         a Python list literal of 2..26 strings
 *   answer          the 0-based gold index
 *   error_type      the annotators' label, spelt many ways ("OK", "Ok", "ok ", "Wrong groundtruth",
 *                   "Bad Question Clarity", "bad_question_clarity", ...): trimmed, lower-cased, spaces
 *                   and hyphens made underscores, it must be one of ok, wrong_groundtruth,
 *                   multiple_correct_answers, no_correct_answer, bad_question_clarity,
 *                   bad_options_clarity, expert
 *   correct_answer  free text: mostly empty; an index ("2"), a letter ("C", college_chemistry and
 *                   virology), a list ("0,1,2", "1, 2"), a value ("g = 2.105") or a note. Only read
 *                   for wrong_groundtruth rows with `corrected` on, and only when it is a whole
 *                   0-based index or a single letter A-Z naming an existing choice; anything else
 *                   leaves the file's answer.
 * Blank lines are skipped (like Python's csv.DictReader) and are not rows. */
#ifndef Q35_EVAL_REDUX_H
#define Q35_EVAL_REDUX_H

#include <stddef.h>

#include "dataset.h"

typedef struct {
    const char *keep; /* comma-separated error types to keep (NULL or "" = all); spelt like error_type */
    int corrected;    /* 1: where error_type is wrong_groundtruth and correct_answer holds a valid
                         index (or letter), score against it (orig_answer keeps the file's) */
} q35_redux_opts;

/* Loads path (one mmlu_<subject>[.*].csv file, or a directory: every *.csv in it, by name) into d,
 * which it zeroes first: one subject per file (the name with a leading "mmlu_" and everything from
 * the first '.' removed; MMLU categories), its rows in the test split (dev stays empty), subjects
 * sorted. doc_id is the 0-based data row of the file (rows left out by o->keep count, and are
 * validated all the same; they add to d->n_filtered); a subject left with no items is dropped.
 * o may be NULL (keep all, no correction). 0, or -1 with d zeroed and err naming the file and line
 * (a bad header, row, list, answer or label, an undefined cp1252 byte) or the bad keep name. */
int q35_redux_load(q35_mc_set *d, const char *path, const q35_redux_opts *o, char *err, size_t errlen);
/* The same, and, when n_converted is not NULL, how many files were not UTF-8 and were read as
 * cp1252 (set on success). */
int q35_redux_load_ex(q35_mc_set *d, const char *path, const q35_redux_opts *o, int *n_converted, char *err,
                      size_t errlen);

/* Normalises an MMLU-Redux error_type spelling into out (outlen bytes): ASCII whitespace trimmed,
 * lower-cased, ' ' and '-' made '_'. 0 when the result is one of the seven known labels, -1 when
 * not (out then holds the normalised text, cut to fit). */
int q35_redux_error_type(const char *label, char *out, size_t outlen);

/* Parses s, a Python list literal of string literals ('...' or "...", escapes \\ \' \" \n \t \r
 * \xNN \uXXXX \UXXXXXXXX, whitespace and one trailing comma allowed; no NUL, surrogate or line
 * break inside a string) into *out: a new array of *n new UTF-8 strings (q35_strv_free). At most
 * max strings. where prefixes messages (e.g. "file.csv:12"). 0, or -1 with err "<where>: ...". */
int q35_pylist_parse(const char *s, int max, char ***out, int *n, const char *where, char *err, size_t errlen);

/* Frees n strings and their array. */
void q35_strv_free(char **v, int n);

#endif
