#!/usr/bin/env python3
"""Makes the added-token flag goldens (single_word, normalized, lstrip, rstrip, special) for
tests/test_tokenizer.c: three small tokenizer.json variants and, for each, the Hugging Face ids and
decoded text of a list of tricky texts.

The base tokenizer is ../qwen35_style_tokenizer.json cut down to its 256 byte tokens and first
MERGES merges (ids renumbered densely in the original id order, so that Hugging Face gives the
added tokens the ids written here: it assigns them itself and only warns on a mismatch; checked
below). Variants:
  nfc    NFC normalizer, the Qwen3.5 Split pattern, the added tokens of TOKENS
  raw    no normalizer, the Qwen2/Qwen3 Split pattern, the same added tokens (normalized true then
         only means "matched after the raw ones")
  mixed  NFC inside a normalizer Sequence, the Qwen3.5 pattern, TOKENS with the flags permuted
         (single_word and normalized flipped, lstrip/rstrip cycled, every third token special)
No two normalized tokens of a variant share a normalised form: Hugging Face 0.23 builds its
matcher from a hash map, so which of two equal patterns wins changes from run to run.

Output, per variant V: V_tokenizer.json and V_ids.jsonl, one line per text:
  id, text, ids (encode, add_special_tokens=False), decoded (decode, skip_special_tokens=False),
  decoded_skip (skip_special_tokens=True), plain_ids (the ids from the same tokenizer with
  single_word and normalized set false on every added token: what an implementation ignoring those
  two flags gives; the test checks that enough lines differ from it).
Made with Hugging Face tokenizers 0.23.3 (pip install tokenizers). Deterministic. Run from the
repository root:
    python3 tests/data/tokenizer/flags/make_flags.py
"""
import copy
import json
import os
import unicodedata

from tokenizers import Tokenizer

MERGES = 3000
here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, "..")

# (content, special, normalized, single_word, lstrip, rstrip)
TOKENS = [
    ("<|sp|>", True, False, False, False, False),
    ("<|spn|>", True, True, False, False, False),
    ("<e\u0301>", False, False, False, False, False),      # raw only: not NFC, never matches NFC text
    ("<e\u0301n>", False, True, False, False, False),      # matched as "<\u00e9n>" after NFC
    ("cafe\u0301", False, True, True, False, False),       # "caf\u00e9", whole words only
    ("ring", False, False, True, False, False),
    ("rings", False, True, False, False, False),
    ("\u212bx", False, True, False, False, False),         # ANGSTROM SIGN: NFC gives U+00C5
    ("A\u030ay", False, False, False, False, False),
    ("<L>", False, False, False, True, False),
    ("<R>", False, False, False, False, True),
    ("<LR>", True, False, False, True, True),
    ("<LRW>", False, False, True, True, True),
    ("<lr\u0301>", False, True, False, True, True),        # NFC: "<l\u0155>"
    ("xyz", False, False, True, False, False),
    ("yz", False, False, False, False, False),
    ("<a>", False, False, False, False, False),
    ("<a><b>", False, False, False, False, False),
    ("<b>", True, True, False, False, False),
    (" @@", False, False, False, False, False),
    ("\u3000", False, False, False, False, False),
    ("=-=", False, True, True, False, False),
    ("\u4e2d\u6587", False, False, True, False, False),
    ("\U0001f525", False, True, True, False, False),
    ("\u0301q", False, True, False, False, False),         # NFC of "e\u0301q" is "\u00e9q": no match
    ("\u0301w", False, False, False, False, False),
    ("\u2126m", True, True, False, False, False),          # OHM SIGN, special and normalized
    ("_x_", False, False, True, False, False),
    ("caf\u00e9!", False, False, False, False, False),     # all byte-level characters: decodes to U+FFFD
]

CONTEXTS = ["", "a", "Z", "7", "_", " ", "  ", "\t", "\n", "\r\n", ".", "-", "'", "\u4e2d", "\U0001f600",
            "\u00e9", "e\u0301", "\u0301", "\u24b6", "\u216b", "\u0663", "\u00b2", "\u200d", "\u200b",
            "\u00a0", "\u3000", "\u203f", "\u3005", "\U0001f170", "$", "<", ">"]

HAND = [
    "", " ", "ring", "rings", "ring ring ring", "ringring", "ring_ring", "ring-ring", "string ring strings",
    "ring's ring\u2019s", "ringe\u0301 ring\u0301", "xyz xyzyz axyzyz xyzxyz", "yz xyz", "axyz", "axyz xyz",
    "<a><b><a> <b> <a><a><b><b>", "<a><b>", "<a><b", "x<a><b>y", "<b><a><b>",
    "<R>\u3000x", "<R> \u3000 x", "<R> @@", "<R>  @@", "<R>\n\n<L>", "a <L> b <L>", "  <L>", "<R>  ",
    "<L><R>", "<R><L>", "<R>   <L>", "x <LR> y <LR>\t<LR>\u2000", "<LR><LR><LR>", " <LR> ", "a<LRW>b a <LRW> b",
    "<LRW>", " <LRW> <LRW> ", "<lr\u0301> x <l\u0155> y", "x<lr\u0301>y", "  <l\u0155>  <l\u0155>  ",
    "<e\u0301> <\u00e9>", "<e\u0301n> <\u00e9n> <e\u0301n>", "<e\u0301><e\u0301n>", "<e\u0301n><e\u0301>",
    "cafe\u0301 caf\u00e9 cafe\u0301s caf\u00e9s xcaf\u00e9", "<|sp|>caf\u00e9<|sp|>", "<|sp|>cafe\u0301",
    "caf\u00e9<|spn|>caf\u00e9", "<|spn|>ring<|spn|>", "<|sp|>ring<|sp|>rings<|sp|>",
    "\u212bx A\u030ax \u00c5x A\u030ay \u00c5y \u212by", "A\u030a\u030ay", "\u212bxx", "x\u212bx",
    "e\u0301q \u00e9q \u0301q q\u0301q", "e\u0301w \u00e9w \u0301w", "\u0301q\u0301w\u0301q",
    "a=-=b a =-= b =-=-= =-==-= =-= =-=", "=-=a", "a=-=", "(=-=)", "\u4e2d\u6587 \u4e2d\u6587\u5b57 \u6211\u4e2d\u6587",
    "\u4e2d\u6587\u3002\u4e2d\u6587", "\U0001f525\U0001f525 a\U0001f525 \U0001f525a \U0001f525!",
    "\u2126m \u03a9m <|sp|>\u2126m", "_x_ __x_ _x__ a_x_ _x_a (_x_)", "caf\u00e9! cafe\u0301!",
    "<|sp|><|spn|><b>\u2126m", "ring\u200dring ring\u200bring ring\u200cring", "\u24b6ring \u216bring \u0663ring",
    "ring\u00b2 ring\u00aa ring\u02b0", "\u00e9<|sp|>e\u0301", "e<|sp|>\u0301", "e\u0301<e\u0301>\u0301",
    "Hello <|sp|> world <|spn|>!\n<LR>\n", "  leading and trailing  ",
]


def load_json(name):
    with open(os.path.join(src, name), encoding="utf-8") as f:
        return json.load(f)


def nfc(s):
    return unicodedata.normalize("NFC", s)


def base_tokenizer():
    j = load_json("qwen35_style_tokenizer.json")
    vocab, merges = j["model"]["vocab"], j["model"]["merges"]
    keep = set(k for k, _ in sorted(vocab.items(), key=lambda kv: kv[1])[:256])
    ms = []
    for a, b in merges[:MERGES]:
        assert a in keep and b in keep and a + b in vocab, (a, b)
        keep.add(a + b)
        ms.append([a, b])
    toks = sorted(keep, key=lambda k: vocab[k])
    j["model"] = dict(j["model"], vocab={k: i for i, k in enumerate(toks)}, merges=ms)
    j["added_tokens"] = []
    return j


def permuted(tokens):
    out = []
    for i, (c, sp, n, sw, l, r) in enumerate(tokens):
        l, r = [(False, False), (True, False), (False, True), (True, True)][i % 4]
        out.append((c, i % 3 == 0, not n, not sw, l, r))
    return out


def with_tokens(base, tokens, normalizer, pre_tokenizer):
    j = copy.deepcopy(base)
    j["normalizer"] = normalizer
    j["pre_tokenizer"] = pre_tokenizer
    v = len(j["model"]["vocab"])
    j["added_tokens"] = [dict(id=v + i, content=c, single_word=sw, lstrip=l, rstrip=r, normalized=n, special=sp)
                         for i, (c, sp, n, sw, l, r) in enumerate(tokens)]
    return j


def texts():
    forms = []
    for c, *_ in TOKENS:
        for f in (c, nfc(c)):
            if f not in forms:
                forms.append(f)
    for f in ("A\u030ax", "\u00c5x", "\u00c5y", "<\u00e9>", "ring's"):
        if f not in forms:
            forms.append(f)
    out = []
    for k, f in enumerate(forms):
        for m, ctx in enumerate(CONTEXTS):
            out.append((f"left-{k:02d}-{m:02d}", ctx + f + " end"))
            out.append((f"right-{k:02d}-{m:02d}", "go " + f + ctx))
        out.append((f"twice-{k:02d}", f + f))
        out.append((f"spaced-{k:02d}", " " + f + " " + f + " "))
    for k, t in enumerate(HAND):
        out.append((f"hand-{k:03d}", t))
    return out


def main():
    base = base_tokenizer()
    qwen2_pre = load_json("qwen3_tokenizer.json")["pre_tokenizer"]
    qwen35_pre = base["pre_tokenizer"]
    variants = {
        "nfc": with_tokens(base, TOKENS, {"type": "NFC"}, qwen35_pre),
        "raw": with_tokens(base, TOKENS, None, qwen2_pre),
        "mixed": with_tokens(base, permuted(TOKENS), {"type": "Sequence", "normalizers": [{"type": "NFC"}]},
                             qwen35_pre),
    }
    tx = texts()
    for name, j in variants.items():
        norm = j["normalizer"] is not None
        pats = [nfc(a["content"]) if norm else a["content"] for a in j["added_tokens"] if a["normalized"]]
        assert len(pats) == len(set(pats)), f"{name}: two normalized tokens share a pattern"
        s = json.dumps(j, ensure_ascii=False, separators=(",", ":"))
        path = os.path.join(here, f"{name}_tokenizer.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(s)
        tk = Tokenizer.from_file(path)
        for a in j["added_tokens"]:
            assert tk.token_to_id(a["content"]) == a["id"], (name, a)
        plain = copy.deepcopy(j)
        for a in plain["added_tokens"]:
            a["single_word"] = a["normalized"] = False
        tp = Tokenizer.from_str(json.dumps(plain))
        flagged = {a["id"] for a in j["added_tokens"] if a["single_word"] or a["normalized"] or a["lstrip"] or a["rstrip"]}
        nflag = ndiff = 0
        with open(os.path.join(here, f"{name}_ids.jsonl"), "w", encoding="utf-8") as o:
            for tid, t in tx:
                ids = tk.encode(t, add_special_tokens=False).ids
                pids = tp.encode(t, add_special_tokens=False).ids
                nflag += any(i in flagged for i in ids)
                ndiff += ids != pids
                rec = {"id": tid, "text": t, "ids": ids, "decoded": tk.decode(ids, skip_special_tokens=False),
                       "decoded_skip": tk.decode(ids, skip_special_tokens=True), "plain_ids": pids}
                o.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
        print(f"{name}: {len(tx)} lines, {nflag} with a flagged token matched, {ndiff} differ from plain_ids")


if __name__ == "__main__":
    main()
