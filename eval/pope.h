/* pope.h - POPE (object hallucination) as released: JSON lines {"question_id", "image", "text",
 * "label": "yes"|"no"} per split file (coco_pope_random.json, _popular, _adversarial), the images
 * (COCO val2014) in a directory of the user's. */
#ifndef Q35_EVAL_POPE_H
#define Q35_EVAL_POPE_H

#include <stddef.h>

#include "dataset.h"

/* Loads path (one split file, or a directory of them: every *.json / *.jsonl file, sorted) into d:
 * one subject per split, named after its file without a "coco_pope_" prefix and the extension
 * ("random", "popular", "adversarial"); each item two choices "yes" and "no", the gold its label,
 * index its question_id, its image image_dir/<image> (which must exist). -1 with err naming the
 * file and line: not a JSON object, a missing or mistyped field, a label other than yes/no, an
 * image that is not there. */
int q35_pope_load(q35_mc_set *d, const char *path, const char *image_dir, char *err, size_t errlen);

#endif
