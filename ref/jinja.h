/* jinja.h - the subset of Jinja that chat templates use, rendered as transformers renders them
 * (sandboxed jinja2 with trim_blocks, lstrip_blocks and loopcontrols; transformers' tojson, dict,
 * namespace, raise_exception), checked against it on tests/data/chat/jinja_goldens.jsonl.
 *
 * Statements: if/elif/else, for (else, tuple targets, an 'if' filter, loop.index0/index/revindex/
 * revindex0/first/last/length/previtem/nextitem, break, continue), set (names and namespace
 * attributes), macro (defaults). Expressions: literals (Python's string escapes, adjacent strings
 * joined), lists, tuples, dicts, attribute/subscript/slice (strings by code point), calls, filters
 * (trim, length, count, tojson, items, safe, string, list, lower, upper, first, last, join,
 * default), tests (defined, undefined, none, string, number, integer, float, boolean, mapping,
 * iterable, sequence, callable, true, false, odd, even, divisibleby, eq/ne/lt/le/gt/ge and their
 * aliases, in), not/and/or, in, chained comparisons, + - * / // % ** ~, conditional expressions,
 * range, dict, namespace, and string/dict methods (startswith, endswith, split, rsplit, strip,
 * lstrip, rstrip, upper, lower, replace, items, get, keys, values) with Python's Unicode semantics
 * (pystr.h). Printed values read as Python's str(): ['a', None], {'k': 1}, inf. Using an undefined
 * value (an attribute or item of it, arithmetic) is an error, as in Jinja. Anything else is an
 * error naming it, never a different text. */
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
 * iterations, range() items; a macro call is 10 steps, 16 bytes searched or counted 1), 16 MiB of
 * output or of any one string (64 times the longest context), 1 GiB of memory; and integers must
 * fit in 64 bits (a literal or a result of + - * // % ** or unary - that does not is an error, as
 * is division by zero). */
char *q35_jinja_render(const char *template_text, const cJSON *vars, char *err, size_t errlen);

#endif
