#!/usr/bin/env python3
"""Makes jinja_goldens.jsonl: templates exercising Jinja's semantics (Python's str methods on
Unicode text, printing of values, comparisons, undefined values, whitespace control, loop controls,
escapes), each rendered by transformers' own chat-template environment (sandboxed jinja2 with
trim_blocks, lstrip_blocks, loopcontrols, its tojson, raise_exception, dict, namespace).

A line is {"template", "vars", "text"} when transformers renders it, or {"template", "vars",
"error"} when it raises; "unsupported": true marks the templates q35's renderer refuses by design
(features the Qwen-family templates do not use): tests/test_jinja.c asserts that q35 gives exactly
"text", or fails (never a different text).
Run from the repository root: python3 tests/data/chat/make_jinja_goldens.py
(transformers 5.25.0 and jinja2 3.1.6 made the shipped file.)
"""
import json
import os

from transformers.utils.chat_template_utils import _compile_jinja_template

here = os.path.dirname(os.path.abspath(__file__))
VARS = {"messages": [{"role": "user", "content": "héllo wörld 日本"}], "tools": None, "documents": None,
        "add_generation_prompt": False}

# Features q35 refuses on purpose: a template using them gets a clear error, never other text.
UNSUPPORTED = ["|title", "|capitalize", ".find(", "|sort", "|reverse", "|format", "sameas", "varargs", "|abs", "|int",
               "|float", "|round", "|sum", "|max", "|min", "|unique", "|map", "|select", "selectattr", "|reject", "|indent", "|e ",
               "|escape", ".format(", "|wordcount", "|center", "|batch", "|dictsort", "{% set x %}", "{% filter",
               "{% call", " is lower", " is upper", "\\N{", "{% raw", "2 ** 63", "10 ** 20", "9223372036854775807 + 1",
               "(-8) ** 0.5", "[1,2] < [1,3]", "[1,2]|items", "\\u0000", "\\ud83d\\ude00", "{% set a, b", "loop.cycle",
               '"%d" %', "{1: 2}", "10000000000000000000",
               "strftime_now", "range is defined", "namespace is defined", "joiner", "cycler", "lipsum"]

MULTILINE = [
    "{% if true %}\n  a\n{% endif %}\n  {% if true %}x{% endif %}",
    "{%- if true %}  a  {% endif -%}\n   b",
    "{% if true +%}\n  c\n{%+ endif %}",
    "a  {%- if true -%}  b  {%- endif -%}  c",
    "{# comment #}x{#- comment -#} y\n  {# c2 #}\nz",
    "{% for m in messages %}\r\n{{ m.role }}\r\n{% endfor %}\r\nend\r\n",
    "line1\rline2\r{% if true %}\rx{% endif %}\r",
    "\u3000{%- if true -%}\u3000a\u00a0{%- endif -%}\u2003b",
    "{{ 'a' -}}\n\n   {{- 'b' }}",
    "{% set x = 1 %}\n{% if true %}\n{% set x = 2 %}\n{% endif %}\n{{ x }}",
    "{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}",
    "{% macro f() %}{% set y = 5 %}{{ y }}{% endmacro %}{{ f() }}{{ y }}|",
    "{{ \"a\\\nb\" }}",
    "{{ 'multi\nline' }}",
    "{% for x in [1,2] %}{{ x }}{% continue %}{% else %}e{% endfor %}",
    "{% for x in [1,2] %}{% if x == 1 %}{% continue %}{% endif %}{% else %}e{% endfor %}",
    "{% for x in [1,2] %}{% break %}{% else %}e{% endfor %}",
    "{% for x in [1,2] %}{{x}}{% break %}{% else %}e{% endfor %}",
    "{% for x in [1,2] %}{% if x==2 %}{% break %}{% endif %}{{x}}{% else %}e{% endfor %}",
    "{{ {'a': {'b': {}}} }}",
    "{{ {'a': {}}|tojson }}",
    "{{ '}}' ~ \"%}\" ~ '{{' }}",
    "{% if '%}' in 'a%}b' %}yes{% endif %}",
    "{{ [1, [2, (3, 4)]] }}",
    "{{ 'a' 'b'\n 'c' }}",
]


def render(t):
    try:
        text = _compile_jinja_template(t).render(**VARS)
        text.encode("utf-8")  # a lone surrogate cannot reach the tokenizer: an error there
        return {"text": text}
    except Exception as ex:  # the error class is what matters
        return {"error": type(ex).__name__}


def main():
    single = json.load(open(os.path.join(here, "jinja_cases.json"), encoding="utf-8"))
    with open(os.path.join(here, "jinja_goldens.jsonl"), "w", encoding="utf-8") as f:
        for t in single + MULTILINE:
            row = {"template": t, "vars": VARS}
            row.update(render(t))
            if "text" in row and any(u in t for u in UNSUPPORTED):
                row["unsupported"] = True
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
