#!/usr/bin/env python3
"""Writes the hostile tokenizer.json fixtures of this directory and hf_expected.jsonl, what Hugging
Face's `tokenizers` does with each (pip install tokenizers; the version is recorded in every line).

Every fixture is a tiny byte-level BPE (the 256 byte tokens and the merges of a few words) with
one thing changed. One line of hf_expected.jsonl per fixture:
  file       the fixture
  what       the change
  tokenizers the version of Hugging Face's tokenizers that gave hf
  hf         {"ids": [[text, ids], ...]} (encode(text, add_special_tokens=True), its default) or
             {"error": message} when it refuses the file
  q35        "ids": q35 must give hf's ids; else a fragment of the error q35 must refuse it with

Run from the repository root: python3 tests/data/tokenizer/hostile/make_hostile.py
"""
import copy
import json
import os
import sys

import tokenizers
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
PAT = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|"
       "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
BL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
TEXTS = ["hello", "Hello world", "$hello", "xyz", "a<x><y>", "a  <x>", "<|a|><b>"]


def byte_chars():
    """GPT-2's bytes_to_unicode: byte -> its character in the byte-level alphabet."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


B2U = byte_chars()


def base():
    """The byte tokens (ids 0-255 by byte value), then the merges of these words, letter by letter,
    in this order; "xyz" is in the vocabulary without merges."""
    vocab = {B2U[b]: b for b in range(256)}
    merges = []
    for w in ["$h", "hello", "Hello", " world", "ello"]:
        s = "".join(B2U[b] for b in w.encode())
        cur = s[0]
        for ch in s[1:]:
            if [cur, ch] not in merges:
                merges.append([cur, ch])
            cur += ch
            vocab.setdefault(cur, len(vocab))
    vocab["xyz"] = len(vocab)
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
            "normalizer": {"type": "NFC"},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": PAT}, "behavior": "Isolated", "invert": False}, dict(BL)]},
            "post_processor": dict(BL), "decoder": dict(BL),
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": vocab, "merges": merges}}


def added(content, id, special=False, **flags):
    a = {"id": id, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": not special, "special": special}
    a.update(flags)
    return a


def variant(fn):
    j = base()
    fn(j)
    return j


B = base()
V = len(B["model"]["vocab"])  # the next id Hugging Face gives a new added token
ID = B["model"]["vocab"]


def merges_front(j, pair):
    j["model"]["merges"].insert(0, pair)


def collide(j):  # the last vocab entry moved up one id: a hole at V-1, and id V taken
    j["model"]["vocab"]["xyz"] = V
    j["added_tokens"] = [added("<x>", V)]


def added_ok(j):
    j["model"]["vocab"]["<|a|>"] = 1000  # a vocab token far past the others (a hole), as Qwen's
    j["added_tokens"] = [added("hello", ID["hello"], special=True), added("<x>", V + 1), added("<y>", V + 2),
                         added("<x>", V + 1), added("<|a|>", 1000, special=True), added("<b>", V + 3)]


def options_ok(j):
    m = j["model"]
    m.update(dropout=0.0, unk_token="<unk>", fuse_unk=True, continuing_subword_prefix=None, end_of_word_suffix=None,
             byte_fallback=None, ignore_merges=None)
    j["post_processor"] = None


def no_normalized(j):
    a = added("<x>", V)
    del a["normalized"]
    j["added_tokens"] = [a]


TEMPLATE = {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "!", "type_id": 0}},
                                                     {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"!": {"id": "!", "ids": [0], "tokens": ["!"]}}}

# (file, what, how, q35: "ids" or the error fragment)
FIXTURES = [
    ("base.json", "the base tokenizer", lambda j: None, "ids"),
    ("merge_dup_front.json", "merge e+l listed again first: its later (lower-priority) rank counts",
     lambda j: merges_front(j, ["e", "l"]), "ids"),
    ("merge_dup_back.json", "merge h+e listed again last: it becomes the lowest priority",
     lambda j: j["model"]["merges"].append(["h", "e"]), "ids"),
    ("merge_legacy.json", "merges as \"a b\" strings after a #version line (skipped)",
     lambda j: j["model"].update(merges=["#version: 0.2"] + [" ".join(m) for m in j["model"]["merges"]]), "ids"),
    ("added_ok.json", "added tokens at the ids Hugging Face gives: vocab ids, then new ones from the vocab size",
     added_ok, "ids"),
    ("options_ok.json", "BPE options at values that change nothing", options_ok, "ids"),
    ("added_id_vocab.json", "'hello' added with id 500: Hugging Face gives it its vocab id",
     lambda j: j.update(added_tokens=[added("hello", 500)]), "would give it id %d" % ID["hello"]),
    ("added_id_steal.json", "'<x>' added with Hello's id",
     lambda j: j.update(added_tokens=[added("<x>", ID["Hello"])]), "that id belongs to 'Hello'"),
    ("added_id_gap.json", "'<x>' added with an id past the next free one",
     lambda j: j.update(added_tokens=[added("<x>", V + 100)]), "would give it id %d" % V),
    ("added_id_collide.json", "the next free id is a vocab id", collide, "belongs to 'xyz'"),
    ("added_dup_flags.json", "'<x>' added twice, the second with lstrip",
     lambda j: j.update(added_tokens=[added("<x>", V), added("<x>", V, lstrip=True)]), "other flags"),
    ("added_no_normalized.json", "an added token without its normalized field", no_normalized, "normalized"),
    ("truncation.json", "truncation to 2 tokens",
     lambda j: j.update(truncation={"max_length": 2, "strategy": "LongestFirst", "stride": 0, "direction": "Right"}),
     "truncation"),
    ("padding.json", "padding to 6 tokens",
     lambda j: j.update(padding={"strategy": {"Fixed": 6}, "direction": "Right", "pad_to_multiple_of": None,
                                 "pad_id": 0, "pad_type_id": 0, "pad_token": "!"}), "padding"),
    ("dropout.json", "BPE dropout 1 (every merge dropped)", lambda j: j["model"].update(dropout=1.0), "model.dropout"),
    ("end_of_word_suffix.json", "end_of_word_suffix </w>", lambda j: j["model"].update(end_of_word_suffix="</w>"),
     "model.end_of_word_suffix"),
    ("continuing_subword_prefix.json", "continuing_subword_prefix ##",
     lambda j: j["model"].update(continuing_subword_prefix="##"), "model.continuing_subword_prefix"),
    ("ignore_merges.json", "ignore_merges: a word in the vocab is taken whole",
     lambda j: j["model"].update(ignore_merges=True), "model.ignore_merges"),
    ("post_processor.json", "a TemplateProcessing post-processor that puts '!' first",
     lambda j: j.update(post_processor=TEMPLATE), "post_processor 'TemplateProcessing'"),
    ("use_regex_absent.json", "pre-tokenizer ByteLevel without use_regex (true by default)",
     lambda j: j["pre_tokenizer"]["pretokenizers"][1].pop("use_regex"), "use_regex"),
    ("version.json", "version 2.0", lambda j: j.update(version="2.0"), "version"),
    ("merge_three.json", "a merge \"h e l\" of three parts",
     lambda j: j["model"].update(merges=[" ".join(m) for m in j["model"]["merges"]] + ["h e l"]), "one space"),
    ("merge_mixed.json", "merges both as strings and as pairs",
     lambda j: j["model"]["merges"].__setitem__(0, " ".join(j["model"]["merges"][0])), "all"),
]


def hf_result(text):
    try:
        tk = Tokenizer.from_str(text)
    except BaseException as e:  # a Rust panic is a BaseException
        return {"error": str(e).splitlines()[0][:200]}
    return {"ids": [[s, tk.encode(s).ids] for s in TEXTS]}


def main():
    lines = []
    for name, what, how, q35 in FIXTURES:
        j = base()
        how(j)
        text = json.dumps(j, ensure_ascii=False)
        lines.append((name, what, text, q35))
    # a vocab key given twice: serde keeps the last value, 300
    j = base()
    text = json.dumps(j, ensure_ascii=False)
    text = text.replace('"xyz": %d}' % ID["xyz"], '"xyz": %d, "hello": 300}' % ID["xyz"])
    assert '"hello": 300' in text
    lines.append(("vocab_dup.json", "'hello' twice in the vocab, the last at id 300", text, "ids"))
    with open(os.path.join(HERE, "hf_expected.jsonl"), "w") as out:
        for name, what, text, q35 in lines:
            with open(os.path.join(HERE, name), "w") as f:
                f.write(text)
            hf = hf_result(text)
            if q35 == "ids" and "ids" not in hf:
                sys.exit("%s: Hugging Face refuses it: %s" % (name, hf))
            rec = {"file": name, "what": what, "tokenizers": tokenizers.__version__, "hf": hf, "q35": q35}
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            print(name, json.dumps(hf, ensure_ascii=False)[:200])


if __name__ == "__main__":
    main()
