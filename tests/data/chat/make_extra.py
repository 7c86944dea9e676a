#!/usr/bin/env python3
"""Makes extra_chat_goldens.jsonl: more chat cases, rendered the way the shipped chat goldens were
(transformers' render_jinja_template: sandboxed jinja2, trim_blocks, lstrip_blocks, transformers'
tojson; transformers 5.24.0 and jinja2 3.1.6 were used) with both Qwen3.5 templates, and the text
encoded with the Qwen3.5-style test tokenizer (tokenizers library, add_special_tokens=False).
Run from the repository root: python3 tests/data/chat/make_extra.py
"""
import json
import os

from tokenizers import Tokenizer
from transformers.utils.chat_template_utils import render_jinja_template

here = os.path.dirname(os.path.abspath(__file__))
tok = Tokenizer.from_file(os.path.join(here, "..", "tokenizer", "qwen35_style_tokenizer.json"))
weather = {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                          "required": ["city"]}}}
search = {"type": "function", "function": {"name": "search", "description": "Search the web: returns «snippets».",
          "parameters": {"type": "object", "properties": {"q": {"type": "string"}, "filters": {"type": "object"}}}}}
cases = {
    "multi_tool_calls": ([{"role": "system", "content": "Be brief."},
                          {"role": "user", "content": "Weather in Paris and Oslo for 3 days?"},
                          {"role": "assistant", "content": "",
                           "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}},
                                          {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo", "days": 3}}}]},
                          {"role": "tool", "content": "{\"temp\": 21}"}, {"role": "tool", "content": "{\"temp\": 9}"}],
                         {"add_generation_prompt": True, "tools": [weather, search]}),
    "nested_tool_args": ([{"role": "user", "content": "Find news"},
                          {"role": "assistant", "content": "Let me look.\n",
                           "tool_calls": [{"function": {"name": "search", "arguments": {"q": "news \"today\"", "filters": {"lang": ["en", "fr"], "safe": True, "max": None}}}}]},
                          {"role": "tool", "content": "nothing"},
                          {"role": "assistant", "content": "<think>\nnothing found\n</think>\n\nNo news."},
                          {"role": "user", "content": "Thanks"}],
                         {"add_generation_prompt": True, "tools": [search], "enable_thinking": False}),
    "reasoning_kept_after_last_query": ([{"role": "user", "content": "Q1"},
                                         {"role": "assistant", "content": "A1", "reasoning_content": "  thought 1  "},
                                         {"role": "user", "content": "Q2"},
                                         {"role": "assistant", "content": "A2", "reasoning_content": "thought 2"}],
                                        {"add_generation_prompt": False}),
    "vision_ids_across_turns": ([{"role": "user", "content": [{"type": "image"}, {"type": "video"}, {"type": "text", "text": "Compare."}]},
                                 {"role": "assistant", "content": "They differ."},
                                 {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x.png"}}, {"type": "text", "text": " and this? "}]}],
                                {"add_generation_prompt": True, "add_vision_id": True}),
    "unicode_and_whitespace": ([{"role": "system", "content": [{"type": "text", "text": "  Système: réponds en français.\n"}]},
                                {"role": "user", "content": "\t¿Qué tal? 你好 👋🏽  \n\n"}],
                               {"add_generation_prompt": True, "enable_thinking": True}),
    "tool_then_user_query": ([{"role": "user", "content": "Start"},
                              {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Rome"}}}]},
                              {"role": "tool", "content": "sunny"},
                              {"role": "user", "content": "<tool_response>\nnot really a tool\n</tool_response>"}],
                             {"add_generation_prompt": True, "tools": [weather]}),
    "float_tool_values": ([{"role": "user", "content": "Scale it"},
                           {"role": "assistant", "content": "",
                            "tool_calls": [{"function": {"name": "scale", "arguments": {"factor": 2.0, "eps": 1e-05, "n": 3,
                                                                                          "big": 1e16, "ratio": 0.25}}}]},
                           {"role": "tool", "content": "done"}],
                          {"add_generation_prompt": True,
                           "tools": [{"type": "function", "function": {"name": "scale", "description": "Scale by a factor.",
                                      "parameters": {"type": "object", "properties": {
                                          "factor": {"type": "number", "default": 1.0, "minimum": 0.0, "maximum": 1e3},
                                          "eps": {"type": "number", "default": 1e-05}, "n": {"type": "integer", "default": 3}}}}}]}),
    "error_system_image": ([{"role": "system", "content": [{"type": "image"}]}, {"role": "user", "content": "hi"}],
                           {"add_generation_prompt": True}),
    "error_no_messages": ([], {"add_generation_prompt": True}),
}
with open(os.path.join(here, "extra_chat_goldens.jsonl"), "w") as out:
    for tname in ("chat_template.jinja", "chat_template_0.8b_2b.jinja"):
        tpl = open(os.path.join(here, tname)).read()
        for cid, (msgs, flags) in cases.items():
            rec = {"id": cid, "template": tname, "messages": msgs, "flags": flags}
            kw = {k: v for k, v in flags.items() if k not in ("add_generation_prompt", "tools")}
            try:
                text = render_jinja_template(conversations=[msgs], chat_template=tpl, tools=flags.get("tools"),
                                             add_generation_prompt=flags["add_generation_prompt"], **kw)[0][0]
                rec["text"] = text
                rec["ids"] = tok.encode(text, add_special_tokens=False).ids
            except Exception as e:
                rec["error"] = str(e)
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
