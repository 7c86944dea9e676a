#!/usr/bin/env python3
"""Makes extra_qwen3_ids.jsonl and extra_qwen35_style_ids.jsonl: a second corpus for the tokenizer
tests, made the same way as the shipped goldens but from other texts (the evaluation datasets'
samples: MMLU, MMLU-Redux, MMBench, POPE; paragraphs of at most 2000 characters, the first 372).
Ids from Hugging Face's tokenizers library (pip install tokenizers; 0.23.3 was used), decoded with
skip_special_tokens=False. Run from the repository root with the evaluation data in DATA:
    python3 tests/data/tokenizer/make_extra.py DATA
"""
import glob
import json
import os
import sys

from tokenizers import Tokenizer

data = sys.argv[1]
texts = []
for f in sorted(glob.glob(os.path.join(data, "**", "*"), recursive=True)):
    if os.path.isfile(f) and f.endswith((".jsonl", ".json", ".md", ".csv", ".tsv", ".txt")) and \
            os.path.getsize(f) < 3_000_000 and "tokenizer" not in f:
        try:
            t = open(f, encoding="utf-8").read()
        except Exception:
            continue
        texts += [chunk[:2000] for chunk in t.split("\n\n") if chunk.strip()]
texts = texts[:1500]
here = os.path.dirname(os.path.abspath(__file__))
for tok, name in [("qwen3_tokenizer.json", "qwen3"), ("qwen35_style_tokenizer.json", "qwen35_style")]:
    tk = Tokenizer.from_file(os.path.join(here, tok))
    with open(os.path.join(here, f"extra_{name}_ids.jsonl"), "w") as o:
        for i, t in enumerate(texts):
            ids = tk.encode(t, add_special_tokens=False).ids
            rec = {"id": f"extra-{i:04d}", "text": t, "ids": ids, "decoded": tk.decode(ids, skip_special_tokens=False)}
            o.write(json.dumps(rec, ensure_ascii=False) + "\n")
