/* prompt.h - a multiple-choice item's prompt text, as lm-evaluation-harness 0.4.x builds it for
 * its multiple_choice tasks (plain text, or through the chat template with --apply_chat_template,
 * shots in one user turn or as turns of their own with --fewshot_as_multiturn), parameterised so
 * the same code writes other harnesses' prompts (ZeroEval's MCQA template, ...).
 *
 * Plain text: description + per shot (doc_to_text + target_delimiter + gold letter +
 * fewshot_delimiter) + doc_to_text(item), where doc_to_text = question_format with {question}
 * (stripped as Python's str.strip() when strip_question) and {options} (option_format per option,
 * {letter} and {text}, concatenated), and the description's {subject} is the subject's name with
 * '_' as ' '. Only these exact placeholders are replaced, each once per occurrence of the format
 * (text inserted is never rescanned); other braces are literal.
 *
 * Chat: messages as lm-eval makes them: a system turn holding system + fewshot_delimiter +
 * description (or either alone, none when both are empty); then, with shots, one user turn with
 * the shots' text (each shot + fewshot_delimiter) to which the item's doc_to_text is appended, or
 * with multiturn a user turn (doc_to_text) and an assistant turn (the gold letter) per shot, then
 * the item's user turn; rendered with add_generation_prompt (enable_thinking only when thinking is
 * 0 or 1). */
#ifndef Q35_EVAL_PROMPT_H
#define Q35_EVAL_PROMPT_H

#include <stddef.h>

#include "dataset.h"

typedef struct {
    const char *description;       /* "{subject}" replaced */
    const char *question_format;   /* "{question}", "{options}" replaced */
    const char *option_format;     /* "{letter}", "{text}" replaced */
    const char *target_delimiter;  /* between a shot's doc_to_text and its letter; the scored
                                    * continuations are target_delimiter + letter */
    const char *fewshot_delimiter; /* after each shot */
    int strip_question;            /* Python's str.strip() on the question */
    int chat;                      /* through the chat template */
    int multiturn;                 /* shots as user/assistant turns */
    const char *system;            /* system instruction, or NULL */
    int thinking;                  /* -1: the template's default; 0, 1: enable_thinking */
    const char *template_text;     /* the chat template (chat only) */
} q35_mc_prompt;

/* The context of item it of subject s with its first k shots from s->dev (a new string). NULL with
 * err when k exceeds the dev split, on a template error or out of memory. */
char *q35_mc_context(const q35_mc_prompt *p, const q35_mc_subject *s, const q35_mc_item *it, int k, char *err,
                     size_t errlen);

/* lm-eval's request split of (context, continuation): trailing whitespace of the context moves to
 * the front of the continuation. *ctx and *cont are new strings; -1 on out of memory. */
int q35_split_request(const char *context, const char *continuation, char **ctx, char **cont);

/* The named prompt styles' texts: "lm-eval-mmlu" (lm-eval's mmlu task) and "zeroeval-mcqa"
 * (ZeroEval's MCQA template, which Qwen-family reports use for MMLU-Redux). Fills the string
 * fields of p that are NULL and strip_question when it is < 0; -1 for an unknown name. */
int q35_mc_prompt_style(q35_mc_prompt *p, const char *style);

/* The text part of a vision-language multiple-choice item's user turn (its image goes before it),
 * as each harness writes it (a new string; NULL for an unknown style or out of memory):
 *   "vlmevalkit" (VLMEvalKit's dataset default, which its Qwen3.5 configs use):
 *       ["Hint: {hint}\n"] "Question: {question}\n" "Options:\n" "A. {A}\n" ...
 *       "Please select the correct answer from the options above. \n"
 *   "vlmevalkit-qwen" (the Qwen-VL custom prompt): the same lines, then "Answer with the option
 *       letter only.", trailing whitespace stripped;
 *   "lmms-eval" (lmms-eval's mmbench tasks, options A-E only): ["{hint} "] "{question} There are
 *       several options:\nA. {A}\n...E. {E}" then "\n\nAnswer with the option's letter from the
 *       given choices directly.". */
char *q35_vl_user_text(const char *style, const q35_mc_item *it);
/* The same for a yes/no question (POPE): "lmms-eval": question.strip() + "\nAnswer the question
 * using a single word or phrase."; "vlmevalkit": the question as it is; "vlmevalkit-qwen": the
 * question + " Please answer yes or no.". */
char *q35_vl_yes_no_text(const char *style, const q35_mc_item *it);
/* The same for an open question (VQAv2): "lmms-eval": the question + "\nAnswer the question using
 * a single word or phrase." (not stripped); "vlmevalkit": the question; "vlmevalkit-qwen": the
 * question + "\nPlease answer concisely with short words or phrases when possible.". */
char *q35_vl_open_text(const char *style, const q35_mc_item *it);

#endif
