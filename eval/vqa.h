/* vqa.h - VQAv2-style open answers: the official evaluation's answer normalisation (as
 * lmms-eval 0.7.3 applies it: newlines and tabs as spaces, stripped, process_punctuation,
 * process_digit_article) and soft accuracy. */
#ifndef Q35_EVAL_VQA_H
#define Q35_EVAL_VQA_H

/* The normalised answer (a new string; NULL on out of memory): punctuation deleted or turned into
 * spaces as the official code decides, periods not before a digit removed, lower case, number words
 * "none".."ten" as digits, articles a/an/the dropped, contractions given their apostrophes
 * ("dont" -> "don't"), words joined by one space. ASCII case and whitespace only (the official
 * code's str.lower and split also touch non-ASCII letters and spaces). */
char *q35_vqa_normalize(const char *answer);

/* process_punctuation in place: each of ;/[]"{}()=+\_-><@`,?! is deleted when the text has it next
 * to a space or holds a digit-comma-digit run, else turned into a space; then up to 32 periods
 * are deleted (both codes pass re.UNICODE where re.sub takes its count): with vlmevalkit = 0 as
 * lmms-eval's EvalAIAnswerProcessor (periods not followed by a digit; a comma run of any length),
 * with 1 as VLMEvalKit's vlmeval/smp/misc.py (periods neither after nor before a digit; one comma). */
void q35_vqa_punctuation(char *t, int vlmevalkit);

/* VQA soft accuracy of reply against the n human answers (VQAv2: 10): the mean, over leaving each
 * human answer out in turn, of min(1, matches among the other n-1 / 3), after normalising both
 * sides. -1 on out of memory. */
double q35_vqa_soft_accuracy(const char *reply, char *const *answers, int n);

#include <stddef.h>

#include "dataset.h"

/* VQAv2's release files: questions ({"questions": [{"image_id", "question", "question_id"}]}) and
 * annotations ({"annotations": [{"question_id", "answers": [{"answer"}...], "answer_type"}]}),
 * the images image_dir/COCO_val2014_<image_id, 12 digits>.jpg (which must exist). Into d: one
 * subject per answer_type ("yes/no", "number", "other"), each item its question, its human answers
 * as choices (answer unused), index its question_id. -1 with err naming the file and the question:
 * malformed JSON, a question without annotation, no answers, a missing image. */
int q35_vqav2_load(q35_mc_set *d, const char *questions, const char *annotations, const char *image_dir, char *err,
                   size_t errlen);

#endif
