#!/usr/bin/env python3
"""make_seeds.py - (re)writes tests/fuzz/seeds/<target>/ from the files the project ships.

Run from the repository root:  python3 tests/fuzz/make_seeds.py
Deterministic (no randomness, sorted inputs); every target's seeds stay under 2 MB. The input
format of each target (selector bytes, NUL and shard separators) is the one tests/fuzz/harness.c
reads and README.md describes.
"""
import glob
import json
import os
import shutil
import struct
import sys

ROOT = "tests/fuzz/seeds"
SHARD_SEP = b"\n==shard==\n"
LIMIT = 2 << 20

seeds = {}


def add(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    seeds.setdefault(target, {})[name] = data


def read(path):
    with open(path, "rb") as f:
        return f.read()


def tag(path):
    """A seed name from a path: golden/data/kv_equal/checkpoint_f32/config.json -> kv_equal_checkpoint_f32_config.json"""
    for pre in ("golden/data/", "tests/data/", "datasets/", "golden/", "eval/configs/"):
        if path.startswith(pre):
            path = path[len(pre):]
            break
    return path.replace("/", "_")


# ---- safetensors ---------------------------------------------------------------------------

DSIZE = {"F32": 4, "BF16": 2, "F16": 2, "I64": 8, "F64": 8, "I32": 4}


def st_header(path):
    b = read(path)
    n = struct.unpack("<Q", b[:8])[0]
    return json.loads(b[8:8 + n])


def st_build(entries, meta=None, fill=0):
    """entries: [(name, dtype, shape)] -> a valid safetensors file (each tensor aligned to its
    element size, a gap before it covered by an F16 filler tensor as q35's writer does, so that the
    offsets cover the data section exactly; data bytes = fill pattern)."""
    hdr, off, npad = {}, 0, 0
    if meta is not None:
        hdr["__metadata__"] = meta
    for name, dt, shape in entries:
        es = DSIZE[dt]
        gap = (-off) % es
        if gap:
            hdr["__q35_pad_%d" % npad] = {"dtype": "F16", "shape": [gap // 2], "data_offsets": [off, off + gap]}
            npad, off = npad + 1, off + gap
        n = es
        for d in shape:
            n *= d
        hdr[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + n]}
        off += n
    text = json.dumps(hdr, separators=(",", ":")).encode()
    text += b" " * ((-len(text)) % 8)
    data = bytes((i * 37 + fill) & 0xFF for i in range(off))
    return struct.pack("<Q", len(text)) + text + data


def shrink(h):
    """A golden header with its tensors' names and dtypes, every dim cut to at most 2."""
    meta = h.get("__metadata__")
    out = []
    for name in sorted(k for k in h if k != "__metadata__"):
        e = h[name]
        out.append((name, e["dtype"], [min(d, 2) for d in e["shape"]]))
    return out, meta


for path in sorted(glob.glob("golden/data/*/checkpoint_*/model.safetensors") + glob.glob("golden/data/*/golden.safetensors")):
    entries, meta = shrink(st_header(path))
    add("safetensors", tag(path), st_build(entries, meta))

# hand-made edges: scalars, empty tensors, every dtype, the writer's padding filler, spaces after the header
add("safetensors", "edge_dtypes.safetensors",
    st_build([("a", "F32", [2, 3]), ("b", "BF16", [3]), ("c", "F16", [1, 1, 1]), ("d", "I64", [2]), ("e", "F64", []),
              ("f", "I32", [0, 5]), ("g", "F32", [0])], {"format": "pt"}))
add("safetensors", "edge_pad.safetensors",
    st_build([("x", "F32", [1]), ("__q35_pad_0", "F16", [2]), ("y", "I64", [1])]))
add("safetensors", "edge_empty_header.safetensors", struct.pack("<Q", 8) + b"{}      ")
add("safetensors", "edge_meta_only.safetensors", st_build([], {"a": "b"}))
add("safetensors", "edge_8dims.safetensors", st_build([("t", "F32", [1, 1, 1, 1, 1, 1, 1, 2])]))

# ---- sharded: index.json + shards s1..s3 ---------------------------------------------------------


def index_seed(entries_per_shard, meta=None):
    wm = {}
    parts = []
    for k, entries in enumerate(entries_per_shard, 1):
        for name, _, _ in entries:
            wm[name] = "s%d.safetensors" % k
        parts.append(st_build(entries, meta, fill=k))
    idx = json.dumps({"metadata": {"total_size": sum(len(p) for p in parts)}, "weight_map": wm}, indent=2).encode()
    return SHARD_SEP.join([idx] + parts)


for path in sorted(glob.glob("golden/data/*/checkpoint_bf16/model.safetensors")):
    entries, meta = shrink(st_header(path))
    half = len(entries) // 2
    add("st_index", tag(path).replace(".safetensors", "_2shards"), index_seed([entries[:half], entries[half:]], meta))
entries, meta = shrink(st_header("golden/data/kv_equal/checkpoint_f32/model.safetensors"))
third = len(entries) // 3
add("st_index", "kv_equal_f32_3shards", index_seed([entries[:third], entries[third:2 * third], entries[2 * third:]]))
add("st_index", "one_shard", index_seed([[("a", "F32", [2]), ("b", "I64", [1])]]))

# ---- config.json ---------------------------------------------------------------------------------

for path in sorted(glob.glob("golden/data/*/checkpoint_*/config.json") + glob.glob("golden/data/*/source_config.json")):
    add("config", tag(path), read(path))
add("config", "empty_object.json", "{}")
add("config", "flat_minimal.json", json.dumps({"model_type": "qwen3_5_text", "hidden_size": 64, "num_hidden_layers": 2,
                                                "layer_types": ["linear_attention", "full_attention"]}))

# ---- tokenizer.json NUL text ---------------------------------------------------------------------

texts = []
for line in read("tests/data/tokenizer/corpus.jsonl").decode().splitlines():
    try:
        t = json.loads(line).get("text")
    except Exception:
        t = None
    if isinstance(t, str) and t:
        texts.append(t)
texts = sorted(set(texts), key=lambda t: (len(t), t))
picked = [texts[i] for i in range(0, len(texts), max(1, len(texts) // 8))][:8] if texts else ["Hello world"]

for path in sorted(glob.glob("tests/data/tokenizer/flags/*_tokenizer.json")):
    data = read(path)
    if len(data) > 200000:
        continue
    add("tokenizer", tag(path), data + b"\0" + picked[0].encode())


def tiny_tokenizer(src, nmerges, normalizer, added):
    """A small tokenizer.json from a shipped one: its 256 byte-level tokens, its first nmerges
    merges and what they make, the given normalizer and added tokens."""
    j = json.loads(read(src))
    vocab = j["model"]["vocab"]
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    keep = dict(by_id[:256])
    merges = []
    for m in j["model"]["merges"]:
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        if a in keep and b in keep and a + b in vocab:
            keep[a + b] = vocab[a + b]
            merges.append(m)
        if len(merges) >= nmerges:
            break
    # ids made dense
    ids = {tok: i for i, (tok, _) in enumerate(sorted(keep.items(), key=lambda kv: kv[1]))}
    j["model"]["vocab"] = ids
    j["model"]["merges"] = merges
    j["normalizer"] = normalizer
    j["added_tokens"] = [dict(a, id=len(ids) + i) for i, a in enumerate(added)]
    return json.dumps(j, ensure_ascii=False).encode()


ADDED = [
    {"content": "<|im_start|>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True},
    {"content": "<|im_end|>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True},
    {"content": "<think>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": False},
    {"content": "ring", "single_word": True, "lstrip": True, "rstrip": False, "normalized": True, "special": False},
    {"content": "cafe\u0301", "single_word": False, "lstrip": False, "rstrip": True, "normalized": True, "special": False},
]
src = "tests/data/tokenizer/flags/mixed_tokenizer.json"
if os.path.exists(src):
    nfc = {"type": "NFC"}
    seq = {"type": "Sequence", "normalizers": [{"type": "NFC"}]}
    for k, (norm, nm) in enumerate([(nfc, 200), (None, 60), (seq, 400)]):
        tok = tiny_tokenizer(src, nm, norm, ADDED)
        for i, t in enumerate(picked[k * 2:k * 2 + 3]):
            add("tokenizer", "tiny%d_text%d.json" % (k, i), tok + b"\0" + t.encode())
    add("tokenizer", "tiny_no_text.json", tiny_tokenizer(src, 100, None, ADDED))
    add("tokenizer", "tiny_specials_text.json",
        tiny_tokenizer(src, 100, nfc, ADDED) + b"\0<|im_start|>user\nring rings cafe\xcc\x81 caf\xc3\xa9<|im_end|>\n<think>")

# ---- jinja: template NUL messages NUL flags -------------------------------------------------------

for jl in ("tests/data/chat/chat_goldens.jsonl", "tests/data/chat/extra_chat_goldens.jsonl"):
    for line in read(jl).decode().splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        tmpl = read(os.path.join("tests/data/chat", case["template"]))
        msgs = json.dumps(case["messages"], ensure_ascii=False).encode()
        flags = json.dumps(case.get("flags", {}), ensure_ascii=False).encode()
        which = "small" if "0.8b" in case["template"] else "large"
        add("jinja", "%s_%s_%s" % (os.path.basename(jl).split(".")[0], which, case["id"]), tmpl + b"\0" + msgs + b"\0" + flags)
demo = read("tests/data/chat/demo_messages.json")
for t in sorted(glob.glob("tests/data/chat/*.jinja")):
    add("jinja", tag(t) + "_demo", read(t) + b"\0" + demo + b"\0" + b'{"add_generation_prompt": true}')
SMALL_TEMPLATES = {
    "loop": "{% for m in messages %}{{ loop.index0 }} {{ m.role }}: {{ m.content | trim }}{% if not loop.last %}\n{% endif %}{% endfor %}",
    "macro": "{% macro f(x, y=2) %}[{{ x ~ y }}]{% endmacro %}{{ f(1) }}{{ f('a', y='b') }}",
    "namespace": "{% set ns = namespace(n=0, s='') %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}",
    "filters": "{{ messages | length }}{{ messages[0].content | upper }}{{ [1, 2, 3] | join(',') }}{{ {'a': 1} | tojson }}{{ x | default('d') }}",
    "tests": "{% if messages is sequence and messages[0] is mapping and 1 is integer and none is none %}ok{% endif %}",
    "slices": "{{ 'abcdef'[1:4] }}{{ messages[::-1] | length }}{{ 'a,b'.split(',') }}{{ ' x '.strip() }}",
    "raise": "{% if messages | length > 100 %}{{ raise_exception('too many') }}{% endif %}{{ 7 // 2 }}{{ 7 % 3 }}{{ -1 }}",
    "items": "{% for k, v in {'a': 1, 'b': [1, 2]}.items() %}{{ k }}={{ v }};{% else %}none{% endfor %}",
}
for name, t in SMALL_TEMPLATES.items():
    add("jinja", "small_" + name, t)

# ---- images ---------------------------------------------------------------------------------------

for path in sorted(glob.glob("tests/data/images/*") + glob.glob("golden/data/*/*.png") + glob.glob("golden/data/*/*.jpg") +
                   glob.glob("tests/data/chat/video_frames/*.png")):
    if path.endswith((".png", ".jpg", ".jpeg")):
        add("image", tag(path), read(path))

# ---- npy ------------------------------------------------------------------------------------------

for path in sorted(glob.glob("tests/data/npy/*.npy") + glob.glob("tests/data/npy/sub/*.npy")):
    add("npy", tag(path), read(path))
for path in sorted(glob.glob("tests/data/aliases/*/*.npy")):
    if os.path.getsize(path) <= 4096 and len(seeds.get("npy", {})) < 40:
        add("npy", tag(path), read(path))

# ---- YAML: alias maps, policies, eval configs ------------------------------------------------------

for path in sorted(glob.glob("golden/aliases/*.yaml")):
    add("alias", tag(path), read(path))
    add("yaml", tag(path), read(path))
add("alias", "small_params.yaml", """format: q35-aliases/1
implementation: test
params: { key_heads: 2, heads: linear_num_value_heads, dim: 3 }
aliases:
  - theirs: "x-{L}"
    ours: "text.layers.{L}.x"
    transform: [ {transpose: [1, 0]}, {view: [4, -1]}, {untile_heads: {axis: 0, groups: key_heads}} ]
  - theirs: "y-{L}#{K}"
    ours: "text.layers.{L}.y"
    transform: [ {view: ours} ]
  - theirs: "z"
    ours: "z"
    note: "no transform"
  - theirs: "w-{A}"
    ours: "w.{A}"
    transform: [ {view: [dim, -1]}, {untile_heads: {axis: 1, groups: 2, heads: 4, head_size: 2}} ]
""")

POLICIES = {
    "test_compare.yaml": "format: q35-tolerances/1\nrules:\n  - name: loose layer 3\n    match: \"\\\\.layers\\\\.3\\\\.\"\n"
                         "    max_rel: 1e-2\n  - match: \"output$\"\n    dtype: f32\n    atol: 1e-3\n    rtol: 1e-2\n",
    "strict.yaml": "format: q35-tolerances/1\nrules:\n  - match: \"layers\\\\.2\\\\.\"\n    max_rel: 0\n    name: zero\n",
    "logits.yaml": "format: q35-tolerances/1\nrules:\n  - name: my logits\n    match: \"\\\\.logits$\"\n    top1_min: 0.99\n"
                   "    kl_max: 1e-3\n    cosine: 0.9999\n  - dtype: bf16\n    max_rel: 2e-2\n  - dtype: int\n    max_rel: 0\n",
    "no_format.yaml": "rules:\n  - match: \"[a-z]+_(q|k|v)\\\\b\"\n    cosine: 0.999\n  - dtype: f64\n    atol: 0\n",
}
for name, text in POLICIES.items():
    add("policy", name, text)
    add("yaml", "policy_" + name, text)

for path in sorted(glob.glob("eval/configs/*.yaml")):
    add("evalconfig", tag(path), read(path))
    add("yaml", "eval_" + tag(path), read(path))
add("evalconfig", "demo_with_sets.yaml",
    read("eval/configs/demo.yaml") + b"\0limit=3\0scoring=generate\0max_new_tokens=16\0sampling.temperature=0.7\0prompt.num_fewshot=0\0seed=18446744073709551615\0reference.2b=61.5")
add("yaml", "flow_and_scalars.yaml", "a: [1, -2, 3.5e-4, true, false, null, ~, '', \"q\"]\nb: {c: {d: [x, y]}}\n? e\n: |\n  block\n  text\n")

# ---- CSV: selector byte (0 ',', 1 ';', 2 TAB, 3 '|'), then the text -------------------------------

for path in sorted(glob.glob("datasets/mmlu/dev/*.csv"))[:30] + sorted(glob.glob("datasets/mmlu/test_sample/*.csv"))[:15]:
    add("csv", tag(path), b"\0" + read(path))
for path in sorted(glob.glob("datasets/mmlu_redux/*.csv"))[:10]:
    data = read(path)
    sep = b"\1" if data.split(b"\n", 1)[0].count(b";") > data.split(b"\n", 1)[0].count(b",") else b"\0"
    add("csv", tag(path), sep + data)
add("csv", "quoted_crlf_bom.csv", b"\0\xef\xbb\xbfa,\"b\"\"c\",\"d\r\ne\"\r\n1,2,3\r\n\r\n")
add("csv", "tsv.csv", b"\2x\ty\tz\n1\t\"2\t3\"\t4\n")

# ---- MMLU-Redux: selector byte (bit 0 corrected, bits 1-2 keep; bit 3: a Python list instead) -----

for i, path in enumerate(sorted(glob.glob("datasets/mmlu_redux/*.csv"))):
    add("redux", tag(path), bytes([i % 8]) + read(path))
for i, lit in enumerate(["['a', 'b', 'c']", "[\"x\", 'it\\'s', '\\xa0\\u00e9\\U0001F600\\n\\t\\\\', ]",
                         "[ 'one' ,\n 'two' ]", "[]", "['\\x41', \"\\\"\"]"]):
    add("redux", "pylist_%d" % i, bytes([8 | (16 if i == 0 else 0)]) + lit.encode())

# ---- generic multiple-choice files: selector byte (bits 0-1 format: jsonl csv tsv by-extension;
# bits 2-4 column mapping, see harness.c; bit 5 dev split; bit 6 loaded twice) ----------------------

opts = json.dumps(["o%d" % i for i in range(9)] + ["N/A"])
MC = [
    (0 | 0 << 2, "{\"question_id\": 70, \"question\": \"Q math\", \"options\": %s, \"answer\": \"J\", \"answer_index\": 9, \"category\": \"math\"}\r\n\r\n"
                 "{\"question_id\": 71, \"question\": \"Q law \\u00e9\", \"options\": %s, \"answer\": \"C\", \"answer_index\": 2, \"category\": \"law\"}\n"
                 "{\"question_id\": 72, \"question\": \"Q math 2\", \"options\": [\"x\", \"y\"], \"answer\": \" B \", \"answer_index\": 1, \"category\": \"math\"}" % (opts, opts)),
    (0 | 1 << 2 | 64, "{\"question\": \"q\", \"options\": [\"a\", \"b\", \"c\"], \"answer_index\": 2}\n"),
    (0 | 6 << 2, "{\"question\": \"q\", \"options\": [\"a\", \"b\"], \"answer_index\": 1, \"category\": \"c\"}\n"),
    (1 | 2 << 2, "id,question,A,B,C,D,answer\n0,\"\xe6\xb3\x95\xe5\xbe\x8b, \xe9\x97\xae\xe9\xa2\x98\",a,b,c,d,B\n1,q2,a,b,c,d,D\n"),
    (1 | 2 << 2 | 32, "id,question,A,B,C,D,answer,explanation\r\n0,\"Two\r\nlines\",a,b,c,d,A,x\r\n"),
    (2 | 3 << 2, "Question\tA\tB\tC\tD\tAnswer\tSubject\nq\ta\tb\tc\td\tD\tabstract_algebra\nq\ta\tb\tc\td\t3\tvirology\n"),
    (0 | 4 << 2, "{\"q\": \"Capital of France?\", \"c\": [\"Rome\", \"Berlin\", \"Paris\"], \"a\": \"Paris\"}\n"),
    (3 | 5 << 2, "Question,choices,Correct\nq1,\"['x', 'y\\'s', \"\"z\"\"]\",y's\nq2,\"[\"\"\\u00e9\"\", \"\"b\"\"]\",\u00e9\n"),
    (1 | 7 << 2, "q,A,B,C,D,E,F,G,H,I,J,a,subject,category\nx,1,2,3,4,5,6,7,8,9,10,J,s,c\ny,1,2,,,,,,,,,1,s,c\n"),
]
for i, (sel, text) in enumerate(MC):
    add("mcfile", "mc_%d" % i, bytes([sel]) + (text.encode() if isinstance(text, str) else text))


def main():
    if not os.path.isdir("tests/fuzz"):
        sys.exit("run from the repository root")
    for target, files in sorted(seeds.items()):
        d = os.path.join(ROOT, target)
        if os.path.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d)
        total = 0
        for name, data in sorted(files.items()):
            if total + len(data) > LIMIT:
                print("  %s: %s left out (over 2 MB)" % (target, name))
                continue
            total += len(data)
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print("%-12s %4d seeds, %8d bytes" % (target, len(os.listdir(d)), total))


main()
