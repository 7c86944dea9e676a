#!/usr/bin/env python3
"""Cross-check: the requests lm-evaluation-harness itself builds for MMLU against q35's.

For every item of an MMLU directory (the shipped sample by default), lm-eval's own code (its
mmlu task YAML, ConfigurableTask.fewshot_context / construct_requests, HFLM._encode_pair) makes
the context, the continuations and their token ids, with Hugging Face's tokenizer (and, with
--chat, transformers' apply_chat_template); `q35 eval CONFIG --dry-run` makes its own; the two
are compared item by item, byte for byte and id for id.

    python3 eval/tools/lmeval_requests.py --tokenizer-dir build/tiny --shots 5
    python3 eval/tools/lmeval_requests.py --tokenizer-dir build/tiny --shots 5 --chat --multiturn

Needs lm-eval 0.4.x, transformers and tokenizers (pip); no torch, no weights, no network: the
CSVs are handed to lm-eval as local JSON in cais/mmlu's layout. Exit 0 when every item matches.
"""
import argparse
import csv
import glob
import json
import os
import subprocess
import sys
import tempfile

import yaml


def read_split(path):
    """Rows of an MMLU CSV (Hendrycks: no header, letter answer; or header + 0-based index)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows and rows[0][0] == "question" and rows[0][5] == "answer"
    out = []
    for r in rows[1:] if header else rows:
        ans = int(r[5]) if header else "ABCD".index(r[5])
        out.append({"question": r[0], "choices": r[1:5], "answer": ans})
    return out


def lmeval_task(subject, data_dir, tmp):
    """lm-eval's mmlu_<subject> task, its dataset replaced by local JSON files."""
    import lm_eval
    from lm_eval.api.task import ConfigurableTask

    tdir = os.path.join(os.path.dirname(lm_eval.__file__), "tasks", "mmlu", "default")
    with open(os.path.join(tdir, "_default_template_yaml")) as f:
        cfg = yaml.safe_load(f)
    with open(os.path.join(tdir, f"mmlu_{subject}.yaml")) as f:
        sub = yaml.safe_load(f)
    sub.pop("include", None)
    cfg.update(sub)
    files = {}
    for split, pat in (("test", "test*/%s_test*.csv"), ("dev", "dev/%s_dev.csv")):
        src = sorted(glob.glob(os.path.join(data_dir, pat % subject)))[0]
        dst = os.path.join(tmp, f"{subject}_{split}.json")
        with open(dst, "w") as f:
            for r in read_split(src):
                r["subject"] = subject
                f.write(json.dumps(r) + "\n")
        files[split] = dst
    cfg["dataset_path"] = "json"
    cfg.pop("dataset_name", None)
    cfg["dataset_kwargs"] = {"data_files": files}
    return ConfigurableTask(config=cfg)


class Encoder:
    """What HFLM._encode_pair needs of its self: tok_encode as HFLM does it for Qwen."""

    AUTO_MODEL_CLASS = None
    backend = "causal"

    def __init__(self, tok):
        self.tok = tok
        import transformers

        self.AUTO_MODEL_CLASS = transformers.AutoModelForCausalLM

    def tok_encode(self, s, left_truncate_len=None, add_special_tokens=None):
        return self.tok.encode(s, add_special_tokens=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer-dir", required=True, help="a directory with tokenizer.json (and chat_template.jinja for --chat)")
    ap.add_argument("--data", default="datasets/mmlu")
    ap.add_argument("--shots", type=int, default=5)
    ap.add_argument("--chat", action="store_true", help="--apply_chat_template")
    ap.add_argument("--multiturn", action="store_true", help="--fewshot_as_multiturn")
    ap.add_argument("--limit", type=int, default=0, help="items per subject (0 = all)")
    ap.add_argument("--q35", default="./q35")
    args = ap.parse_args()

    import transformers
    from lm_eval.models.huggingface import HFLM

    tok = transformers.PreTrainedTokenizerFast(tokenizer_file=os.path.join(args.tokenizer_dir, "tokenizer.json"))
    tpl = os.path.join(args.tokenizer_dir, "chat_template.jinja")
    if args.chat:
        with open(tpl) as f:
            tok.chat_template = f.read()

    def chat_template(messages, add_generation_prompt=True):
        return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)

    enc = Encoder(tok)
    cmd = [args.q35, "eval", "eval/configs/mmlu.yaml", "--dry-run", "--data", args.data, "--model" if args.chat else "--tokenizer",
           args.tokenizer_dir if args.chat else os.path.join(args.tokenizer_dir, "tokenizer.json"),
           "--set", f"prompt.num_fewshot={args.shots}", "--set", f"prompt.chat_template={'true' if args.chat else 'false'}",
           "--set", f"prompt.fewshot_as_multiturn={'true' if args.multiturn else 'false'}"]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    ours = {}
    for line in subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines():
        r = json.loads(line)
        ours[(r["subject"], r["doc_id"])] = r

    subjects = sorted({s for s, _ in ours})
    n = bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for subject in subjects:
            task = lmeval_task(subject, args.data, tmp)
            docs = list(task.test_docs())
            for i, doc in enumerate(docs[: args.limit or None]):
                ctx = task.fewshot_context(doc, args.shots, apply_chat_template=args.chat,
                                           fewshot_as_multiturn=args.multiturn,
                                           chat_template=chat_template if args.chat else None)
                reqs = task.construct_requests(doc, ctx, metadata=(task.config.task, i, 1))
                theirs = [HFLM._encode_pair(enc, *r.arguments) for r in reqs]
                mine = ours[(subject, i)]
                n += 1
                problems = []
                if ctx.rstrip() != mine["context"]:
                    problems.append("context text")
                for k, (cids, kids) in enumerate(theirs):
                    if cids != mine["context_ids"]:
                        problems.append(f"context ids (choice {k})")
                    if kids != mine["continuation_ids"][k]:
                        problems.append(f"continuation {k} ids {kids} vs {mine['continuation_ids'][k]}")
                if doc["answer"] != mine["gold"]:
                    problems.append("gold")
                if problems:
                    bad += 1
                    if bad <= 5:
                        print(f"{subject} doc {i}: {', '.join(problems)}")
                        print("  lm-eval:", repr(ctx[-300:]))
                        print("  q35:    ", repr(mine["context"][-300:]))
    mode = f"{args.shots}-shot" + (", chat template" if args.chat else "") + (", shots as turns" if args.multiturn else "")
    print(f"{n} items ({mode}): {n - bad} identical to lm-eval {__import__('lm_eval').__version__} "
          f"(context text, context ids, every continuation's ids, gold), {bad} differ")
    if n != len(ours):
        print(f"q35 listed {len(ours)} items, lm-eval {n}")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
