#!/usr/bin/env python3
"""Dump a golden set's prompt through Hugging Face transformers with forward hooks, as the
dumper of golden/aliases/README.md names module outputs, and check golden/aliases/hf.yaml on it.

Runs the set's checkpoint_f32 with transformers' own Qwen3.5 classes (float32, eager attention,
CPU): Qwen3_5ForCausalLM for a text set (module paths model.layers...), and
Qwen3_5ForConditionalGeneration for a vision-language set (model.language_model..., model.visual...;
pixel_values and image_grid_thw are taken from the set's preproc.* goldens). A forward hook on
every named module writes its output to OUT/MODULE_PATH.npy (float32; a tuple output: element 0
as MODULE_PATH.npy, element k >= 1 as MODULE_PATH[k].npy; ModelOutput objects skipped; a module
run again in the same forward: MODULE_PATH#1.npy, ...), in call order, with strictly increasing
mtimes. Only the prefill (the prompt on empty caches) is dumped.

  python3 tests/data/aliases/make_hf_layout.py                       # writes tests/data/aliases/hf_kv_equal
  python3 tests/data/aliases/make_hf_layout.py --check               # hf.yaml on it vs. the goldens
  python3 tests/data/aliases/make_hf_layout.py --golden golden/data/small_vl --out /tmp/hf_vl
  python3 tests/data/aliases/make_hf_layout.py --golden golden/data/small_vl --out /tmp/hf_vl --check --tol 2e-4

Needs torch and transformers (writing), numpy and PyYAML (--check).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True          # no __pycache__ in tests/data
sys.path.insert(0, HERE)
from make_llama_layout import ROOT, check, read_safetensors  # noqa: E402

DEFAULT_GOLDEN = os.path.join(ROOT, "golden", "data", "kv_equal")
DEFAULT_OUT = os.path.join(HERE, "hf_kv_equal")
DEFAULT_MAP = os.path.join(ROOT, "golden", "aliases", "hf.yaml")


def build(golden):
    import torch
    from safetensors.torch import load_file
    ck = os.path.join(golden, "checkpoint_f32")
    cfg_dict = json.load(open(os.path.join(ck, "config.json")))
    sd = {k: v.float() for k, v in load_file(os.path.join(ck, "model.safetensors")).items()}
    drop = ("architectures", "transformers_version", "dtype")
    if "text_config" in cfg_dict:
        from transformers import Qwen3_5Config, Qwen3_5ForConditionalGeneration
        cfg = Qwen3_5Config(**{k: v for k, v in cfg_dict.items() if k not in drop})
        for c in (cfg, cfg.text_config, cfg.vision_config):
            c._attn_implementation = "eager"
        model = Qwen3_5ForConditionalGeneration(cfg)
        emb = "model.language_model.embed_tokens.weight"
    else:
        from transformers import Qwen3_5ForCausalLM, Qwen3_5TextConfig
        cfg = Qwen3_5TextConfig(**{k: v for k, v in cfg_dict.items() if k not in drop + ("model_type",)})
        cfg._attn_implementation = "eager"
        model = Qwen3_5ForCausalLM(cfg)
        # released names (model.language_model.*) -> the causal-LM class's (model.*)
        sd = {("model." + k[len("model.language_model."):]) if k.startswith("model.language_model.") else k: v
              for k, v in sd.items()}
        emb = "model.embed_tokens.weight"
    if "lm_head.weight" not in sd:
        sd["lm_head.weight"] = sd[emb]
    sd = {k: v for k, v in sd.items() if not k.startswith("mtp.")}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [m for m in missing if not m.endswith("inv_freq")]
    if missing or unexpected:
        raise SystemExit("checkpoint: missing %s, unexpected %s" % (missing, unexpected))
    return model.float().eval(), cfg


def write(golden, out_dir):
    import torch
    model, cfg = build(golden)
    man = json.load(open(os.path.join(golden, "manifest.json")))
    ids = torch.tensor([man["prompt_ids"]])
    records = []                   # (file name, array) in call order
    seen = {}

    def put(name, t):
        k = seen.get(name, 0)
        seen[name] = k + 1
        a = t.detach().cpu()
        a = a.float().numpy().astype("<f4") if a.is_floating_point() else a.numpy().astype("<i8")
        records.append((name if k == 0 else "%s#%d" % (name, k), a))

    def hook(name):
        def h(mod, args, out):
            if isinstance(out, torch.Tensor):
                put(name, out)
            elif isinstance(out, (tuple, list)):
                for j, e in enumerate(out):
                    if isinstance(e, torch.Tensor):
                        put(name if j == 0 else "%s[%d]" % (name, j), e)
            # ModelOutput / dict / None: nothing
        return h

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if n]
    with torch.no_grad():
        if "text_config" in man.get("config", {}) or hasattr(cfg, "vision_config"):
            g = read_safetensors(os.path.join(golden, "golden.safetensors"))
            pv = torch.from_numpy(np.array(g["preproc.pixel_values"]))
            grid = torch.from_numpy(np.array(g["preproc.image_grid_thw"]))
            mm = (ids == cfg.image_token_id).to(torch.int32)
            model(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=pv, image_grid_thw=grid,
                  mm_token_type_ids=mm, use_cache=True)
        else:
            model(input_ids=ids, use_cache=True)
    for h in handles:
        h.remove()

    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f.endswith(".npy"):
            os.remove(os.path.join(out_dir, f))
    t0 = time.time_ns() - len(records) * 1000
    for n, (name, a) in enumerate(records):
        path = os.path.join(out_dir, name + ".npy")
        np.save(path, np.ascontiguousarray(a))
        os.utime(path, ns=(t0 + n * 1000, t0 + n * 1000))
    size = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    print("wrote %d files (%d bytes) to %s" % (len(records), size, out_dir))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--golden", default=DEFAULT_GOLDEN, help="golden set directory (default golden/data/kv_equal)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="directory to write (default tests/data/aliases/hf_kv_equal)")
    ap.add_argument("--check", action="store_true", help="apply the map to --dir and compare with the goldens")
    ap.add_argument("--dir", help="(--check) directory of .npy files (default: --out)")
    ap.add_argument("--map", default=DEFAULT_MAP, help="alias map (default golden/aliases/hf.yaml)")
    ap.add_argument("--tol", type=float, help="(--check) max_rel bar; default: bit-identical")
    a = ap.parse_args()
    if a.check:
        sys.exit(check(a.golden, a.dir or a.out, a.map, "prefill", a.tol, {}))
    write(a.golden, a.out)


if __name__ == "__main__":
    main()
