/* extract.h - answer extraction for generative multiple-choice scoring: the model wrote text (its
 * thinking already removed by the caller); which option letter did it choose?
 *
 * Options are the letters A..Z (option i is 'A' + i, at most 26). The rules below are tried in
 * this order; the first rule that finds a match decides. Within a rule the LAST valid match in the
 * text wins (models restate and correct themselves); a match whose letter is not an option
 * (E with 4 options) is no match, so an earlier valid match of the same rule is taken instead.
 *
 *  1. json: a JSON "answer" field, as in ZeroEval's MCQA output format (the prompt asks for
 *     ```json {"reasoning": "...", "answer": "C"}```). The key is answer in double or single
 *     quotes (any case: "Answer" too), then ':', then the value, quoted ("..." or '...') or bare.
 *     The value must be one option letter:
 *        "C"  "(C)"  "C)"  "C."  "C:"  "C. option text"  "(C) option text"  "C option text"
 *     i.e. an upper-case letter, optionally in parentheses or followed by ')', '.' or ':', and
 *     then the closing quote or whitespace (after which anything may follow); spaces just inside
 *     the quotes are allowed. A lower-case letter counts only when it is the whole value ("c").
 *     Bare values: C  (C)  C)  C.  c  followed by the end, whitespace, ',', '}' or ']'.
 *     Not answers: "Option C", "C/D", "CD", "(c)", "c. text", "", null.
 *     Differences from ZeroEval (which parses the JSON and counts a prediction correct when the
 *     value equals the gold letter or contains "X)"): we return one letter or nothing; a value
 *     such as "C. text" or "C text" gives C here, while ZeroEval needs the exact letter or "C)";
 *     a value such as "B or C)" contains "C)" for ZeroEval but is B here; an escaped key inside a
 *     string (\"answer\") is not a match; the rest of a quoted value after the letter and its
 *     delimiter is not read (a closing quote need not follow), so "A common error" gives A.
 *  2. boxed: LaTeX \boxed{C}, also \boxed{(C)}, \boxed{C.}, \boxed{C)}, \boxed{\text{C}},
 *     \boxed{\textbf{(C)}} (\text, \textbf, \mathrm, \mathbf), with spaces anywhere between the
 *     tokens; lower case only as the whole content (\boxed{c}). \boxed{C. text} is no match.
 *  3. answer_is: the word "answer" (not preceded by an ASCII letter, any case), then ':' or the
 *     word "is" (optionally followed by ':'), then optionally the word "option" or "choice",
 *     then the letter, bare or as (C) or [C]: "Answer: C", "answer is C", "Answer: (C)",
 *     "**Answer:** C", "**Answer**: C", "The correct answer is: **C**", "final answer: C",
 *     "The answer is option B". Whitespace and markdown '*' / '_' may sit between the tokens.
 *     The letter must be upper case and followed by a byte that is not an ASCII letter or digit,
 *     nor an apostrophe followed by a letter: "Answer: Because" and "Answer: I'm" are no match,
 *     "the answer is a bit" is none either (lower case never counts here). "Answer: A bird"
 *     does give A: the rules cannot tell an article from an option.
 *  4. lone_letter: the whole text, trimmed of whitespace and markdown '*' at both ends and of one
 *     trailing '.', is one option: "C", "(C)", "C)", "[C]", "C.", "**C**"; lower case only as a
 *     single letter ("c").
 *
 * Text is bytes, NUL-terminated: bytes >= 0x80 (UTF-8) are never letters, digits or whitespace
 * (so "Answer: Cé" gives C). Between tokens at most Q35_EX_GAP_MAX bytes of whitespace (and, in
 * rule 3, markdown) are skipped. Time is linear in the text length (each candidate is read for a
 * bounded number of bytes); nothing is allocated; no locale is consulted. */
#ifndef Q35_EXTRACT_H
#define Q35_EXTRACT_H

#define Q35_EX_MAX_CHOICES 26
#define Q35_EX_GAP_MAX 64

typedef enum { Q35_EX_NONE = 0, Q35_EX_JSON, Q35_EX_BOXED, Q35_EX_ANSWER_IS, Q35_EX_LONE, Q35_EX_VLM_LETTER, Q35_EX_VLM_TEXT, Q35_EX_YES_NO, Q35_EX_VLM_ANSWER_IS } q35_extract_rule;

/* The option (0-based, < n_choices) that text chose by the rules above, or -1 when no rule finds
 * one, text is NULL or n_choices is outside 1..26. When rule is not NULL, *rule is the rule that
 * matched (Q35_EX_NONE with -1). */
int q35_extract_choice(const char *text, int n_choices, q35_extract_rule *rule);

/* "json", "boxed", "answer_is", "lone_letter" or "none" (also for values outside the enum); a
 * static string. */
const char *q35_extract_rule_name(q35_extract_rule r);

/* VLMEvalKit's rule-based extraction without a judge model (vlmeval/utils/matching_util.py
 * can_infer, at commit e8e78f05): a refusal phrase gives none; else (1) with .()[],:;!*#{} blanked
 * and the reply split into words, the option letter when it is the only one among the words and
 * its first occurrence is among the last four ("vlm_letter"); "Z" alone among them gives none;
 * (2) else "answer is X" (case-insensitive, optional "correct " and asterisks, X in A-D; its first
 * match: "vlm_answer_is"); (3) else, when the reply is at most twice as long as the options' texts
 * together (code points), the one option whose text it contains, lower-cased ("vlm_text"); else
 * -1 (VLMEvalKit would ask its judge model; q35 has none and counts an extraction failure). ASCII
 * case folding and whitespace (Python's also touch non-ASCII). */
int q35_extract_vlmevalkit(const char *text, char *const *choices, int n_choices, q35_extract_rule *rule);

/* A yes/no reply as 0 (yes), 1 (no) or -1 (neither), by lmms-eval's POPE rule (word_rule 0: the
 * reply lower-cased and stripped of whitespace is exactly "yes" or "no") or VLMEvalKit's
 * (word_rule 1, YOrN_Extraction: lower-cased, its process_punctuation (vqa.h), split into words:
 * "yes" among them and "no" not, or the reverse). */
int q35_extract_yes_no(const char *text, int word_rule);

#endif
