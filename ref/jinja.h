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
 * line) or the message of raise_exception (err then starts with "raise_exception: "). */
char *q35_jinja_render(const char *template_text, const cJSON *vars, char *err, size_t errlen);

#endif
