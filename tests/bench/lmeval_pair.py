#!/usr/bin/env python3
"""q35 eval against lm-evaluation-harness's HF backend, back to back on this machine.

The same 5-shot MMLU items (the shipped sample, N items of each of the given subjects) scored by
lm-eval 0.4.x (`--model hf`, CPU, batch 1, float32, torch with T threads) and by `q35 eval` (T
threads): seconds per item of each, the ratio, and how close the per-choice log-likelihoods are
(max |difference|, same argmax). The checkpoint is a q35 mkmodel random-weight one of the real
size (speed does not depend on the weights' values).

    python3 tests/bench/lmeval_pair.py /tmp/q08 --threads 2 --limit 3

Needs lm-eval 0.4.x, torch, transformers (pip); eval/tools/lmeval_requests.py's task loader.
Figures only, never pass/fail.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "eval", "tools"))
from lmeval_requests import lmeval_task  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--limit", type=int, default=3)
    ap.add_argument("--subjects", default="abstract_algebra,anatomy,high_school_us_history,world_religions")
    ap.add_argument("--data", default="datasets/mmlu")
    ap.add_argument("--q35", default="./q35")
    ap.add_argument("--backend", default="fast")
    args = ap.parse_args()
    subjects = args.subjects.split(",")

    # q35 first (it is the quick one)
    with tempfile.TemporaryDirectory() as tmp:
        run = os.path.join(tmp, "run")
        t0 = time.time()
        subprocess.run([args.q35, "eval", "eval/configs/mmlu.yaml", "--model", args.model, "--data", args.data,
                        "--threads", str(args.threads), "--limit", str(args.limit), "--backend", args.backend,
                        "--set", "dataset.subjects=" + ",".join(sorted(subjects)), "--out", run],
                       check=True, stderr=subprocess.DEVNULL)
        q35_wall = time.time() - t0
        with open(os.path.join(run, "samples.jsonl")) as f:
            ours = [json.loads(line) for line in f]

    import torch
    from lm_eval import evaluator
    from lm_eval.models.huggingface import HFLM

    torch.set_num_threads(args.threads)
    t0 = time.time()
    lm = HFLM(pretrained=args.model, dtype="float32", device="cpu", batch_size=1)
    load_s = time.time() - t0
    with tempfile.TemporaryDirectory() as tmp:
        tasks = {}
        for s in subjects:
            t = lmeval_task(s, args.data, tmp)
            t.set_config(key="num_fewshot", value=5)
            tasks[t.config.task] = t
        t0 = time.time()
        res = evaluator.evaluate(lm=lm, task_dict=tasks, limit=args.limit, log_samples=True)
        lm_s = time.time() - t0
    theirs = {}
    for name, samples in res["samples"].items():
        subj = name[len("mmlu_"):]
        for smp in samples:
            theirs[(subj, smp["doc_id"])] = [r[0][0] for r in smp["resps"]]
    worst, same, n = 0.0, 0, 0
    for r in ours:
        k = (r["subject"], r["doc_id"])
        if k not in theirs:
            continue
        a, b = r["loglik"], theirs[k]
        worst = max(worst, max(abs(x - y) for x, y in zip(a, b)))
        same += a.index(max(a)) == b.index(max(b))
        n += 1
    nq = len(ours)
    q35_item = sum(r["seconds"] for r in ours) / nq
    seen, later = set(), []
    for r in ours:  # a subject's first item also computes the subject's shared prefix, once
        (later.append(r["seconds"]) if r["subject"] in seen else seen.add(r["subject"]))
    q35_later = sum(later) / len(later) if later else q35_item
    print(f"== {nq} 5-shot MMLU items ({args.limit} of each of {len(subjects)} subjects), {args.threads} thread(s), {args.model}")
    print(f"   lm-eval {__import__('lm_eval').__version__} hf float32 (torch {torch.__version__}): {lm_s / nq:.2f} s/item "
          f"({lm_s:.1f} s, model load {load_s:.1f} s)")
    print(f"   q35 eval --backend {args.backend}: {q35_item:.2f} s/item ({q35_wall:.1f} s wall incl. model open)")
    print(f"   q35 / lm-eval items/s: {lm_s / nq / q35_item:.1f}x on these items, where 1 in {args.limit} pays its subject's prefix;")
    print(f"   {lm_s / nq / q35_later:.1f}x for a subject's later items ({q35_later:.2f} s each), which a full run consists of "
          f"(MMLU: 246 test items per subject on average)")
    print(f"   log-likelihoods: {n} items compared, max |q35 - lm-eval| {worst:.3g} nats, same argmax on {same} of {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
