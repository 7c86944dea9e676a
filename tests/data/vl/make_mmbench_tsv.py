#!/usr/bin/env python3
"""Writes mmbench_sample.tsv: the 5 MMBench items shipped in ../shared/data/vqa/mmbench_samples
(open-compass/MMBench samples, Apache-2.0) in VLMEvalKit's TSV form (base64 JPEG in `image`),
plus, for the first two, their circular copies as VLMEvalKit's MMBench files hold them (index +
k * 1000000, the options rotated by k, the `image` cell naming the original row's index).
Category "sample" (the samples carry none); no hints (the C tests add hand-made ones).

    python3 tests/data/vl/make_mmbench_tsv.py ../shared/data/vqa/mmbench_samples tests/data/vl/mmbench_sample.tsv
"""
import base64
import csv
import json
import os
import sys

src, out = sys.argv[1], sys.argv[2]
items = [json.loads(line) for line in open(os.path.join(src, "items.extracted.jsonl"))]
rows = []
for i, it in enumerate(items):
    index = int(os.path.basename(it["image"]).split(".")[0])
    with open(os.path.join(src, it["image"]), "rb") as f:
        img = base64.b64encode(f.read()).decode()
    letters = sorted(it["options"])
    opts = [it["options"][k] for k in letters]
    gold = letters.index(it["answer"])
    rows.append([index, it["question"], "", *opts, it["answer"], "sample", "sample", "dev", img])
    if i < 2:
        n = len(opts)
        for k in range(1, n):
            rot = [opts[(j + k) % n] for j in range(n)]
            rows.append([index + k * 1000000, it["question"], "", *rot, "ABCD"[(gold - k) % n], "sample", "sample", "dev", str(index)])
with open(out, "w", newline="") as f:
    w = csv.writer(f, delimiter="\t", lineterminator="\n")
    w.writerow(["index", "question", "hint", "A", "B", "C", "D", "answer", "category", "l2-category", "split", "image"])
    w.writerows(rows)
