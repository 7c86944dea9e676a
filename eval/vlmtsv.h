/* vlmtsv.h - VLMEvalKit's multiple-choice TSV format (MMBench, MMStar, AI2D, RealWorldQA, ...).
 *
 * A header row, then one row per question: `index`, `question`, options in single-letter columns
 * `A`, `B`, ... (an empty cell: no such option; present options must run from A without a gap),
 * `answer` (a letter), optional `hint`, `category`, `l2-category`, `split`, and the image as
 * base64 in `image` (a cell holding only digits names another row's index whose image it shares,
 * as VLMEvalKit allows) or a file in `image_path` (relative to the TSV's directory). Cells may be
 * quoted as pandas writes them. MMBench's circular copies are rows of their own whose index is the
 * item's plus k x 1,000,000 (rotation k). */
#ifndef Q35_EVAL_VLMTSV_H
#define Q35_EVAL_VLMTSV_H

#include <stddef.h>

#include "dataset.h"

/* Loads path into d: one subject per category (or "all" without a category column), items in file
 * order with doc_id = the data row's 0-based number. -1 with err naming the file and line: a
 * missing column, bad base64, an image reference to no row, an answer that is not a present
 * option, options with a gap. */
int q35_vlmtsv_load(q35_mc_set *d, const char *path, char *err, size_t errlen);

/* Strict base64 (RFC 4648, padding required, no whitespace) of n bytes of s into a new buffer
 * (*out, *out_len). -1 on a bad character or length. */
int q35_base64_decode(const char *s, size_t n, unsigned char **out, size_t *out_len);

#endif
