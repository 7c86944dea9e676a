/* jinja.h - the subset of Jinja that Qwen-family chat templates use, rendered as transformers
 * renders them (trim_blocks and lstrip_blocks on, transformers' tojson, raise_exception).
 *
 * Statements: if/elif/else, for (with else, tuple targets, loop.index0/index/first/last/length/
 * previtem/nextitem), set (names and namespace attributes), macro (defaults). Expressions:
 * literals, lists, dicts, attribute/subscript/slice, calls, filters (trim, length, tojson, items,
 * safe, string, list, lower, upper, first, last, join, default), tests (defined, undefined, none,
 * string, number, mapping, iterable, sequence, true, false, boolean, integer), not/and/or, in,
 * comparisons, + - * / % ~, conditional expressions, and string/dict methods (startswith,
 * endswith, split, strip, lstrip, rstrip, upper, lower, replace, items, get, keys, values).
 * Anything else is an error naming it. */
#ifndef Q35_JINJA_H
#define Q35_JINJA_H

#include <stddef.h>

#include <cJSON.h>

/* Renders template (NUL-terminated) with the variables of the JSON object vars (messages, tools,
 * add_generation_prompt, ...). Returns a new string, or NULL with err: a template error (with its
 * line) or the message of raise_exception (err then starts with "raise_exception: ").
 * A template is data from strangers: a render has limits, each an error naming the template line:
 * 200 nested blocks or macro calls, 200 nested expression levels in the parser and 500 nested
 * evaluations (the C stack stays under 1 MiB, 0.4 MiB with -O2), 10^7 steps of work (loop
 * iterations, range() items; a macro call is 10 steps, 16 bytes searched or counted 1), 64 MiB of
 * output or of any one string, 1 GiB of memory; and integers must fit in 64 bits (a literal or a
 * result of + - * // % or unary - that does not is an error, as is division by zero). */
char *q35_jinja_render(const char *template_text, const cJSON *vars, char *err, size_t errlen);

#endif
