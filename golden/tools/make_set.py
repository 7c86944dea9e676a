#!/usr/bin/env python3
"""Make a golden set with Hugging Face transformers' own Qwen3.5: text (Qwen3_5ForCausalLM), or
vision-language with --vl-config.

The set has the layout of golden/data/small_text (see golden/data/README.md): checkpoint_f32/,
checkpoint_bf16/, golden.safetensors and manifest.json. transformers runs in float32, eager
attention, batch 1, on the CPU; every intermediate is captured with forward hooks under the golden
names, in the phases prefill (with its caches), decode0.. (greedy, on the caches), full, long and
bf16w.

With --vl-config, a vision-language set in the small_vl layout (Qwen3_5ForConditionalGeneration and
the PIL-based Qwen2-VL image processor; also needs Pillow). The hooks and names are those of
q35_hooks.py beside this file, shared with hf_dump.py (a dump of any checkpoint).

Needs `pip install torch transformers safetensors` (and pillow for --vl-config). Not used by `make check`.

Examples:
  # a new set with other dimensions
  python3 golden/tools/make_set.py --config my_config.json --seed 5 --prompt-len 300 --long-len 200 --out golden/data/my_set
  # a vision-language set: text before, between and after the images
  python3 golden/tools/make_set.py --vl-config my_vl_config.json --seed 5 --image a.jpg --image b.png \\
      --text-lens 4,3,5 --out golden/data/my_vl_set
  # re-run a shipped set's checkpoint and prompts (to compare transformers versions)
  python3 golden/tools/make_set.py --from-checkpoint golden/data/small_text/checkpoint_f32 \\
      --prompt-ids-from golden/data/small_text/manifest.json --out /tmp/check
  ./q35 compare /tmp/check/golden.safetensors golden/data/small_text/golden.safetensors
"""
import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from q35_hooks import (Recorder, golden_dtypes, image_processor, image_token_counts, load_images,  # noqa: E402
                       preproc_tensors, run_phases)
import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

import transformers  # noqa: E402
from transformers import Qwen3_5ForCausalLM, Qwen3_5TextConfig  # noqa: E402

def released_name(hf_name):
    if hf_name.startswith("model."):
        return "model.language_model." + hf_name[len("model."):]
    return hf_name


def hf_name(released):
    if released.startswith("model.language_model."):
        return "model." + released[len("model.language_model."):]
    return released


def init_weights(model, seed):
    """The distributions of golden/data/README.md ('Weights are non-trivial on purpose')."""
    g = torch.Generator().manual_seed(seed)
    desc = {}
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if ".visual." in name or name.startswith("visual."):
                if name.endswith("bias"):
                    p.normal_(0.0, 0.1, generator=g); d = "N(0,0.1)"
                elif "norm" in name:
                    p.uniform_(0.5, 1.5, generator=g); d = "U(0.5,1.5)"
                elif name.endswith("pos_embed.weight"):
                    p.normal_(0.0, 0.5, generator=g); d = "N(0,0.5)"
                else:
                    std = 1.0 / (p[0].numel() ** 0.5)
                    p.normal_(0.0, std, generator=g); d = "N(0,1/sqrt(fan_in))"
            elif name.endswith("embed_tokens.weight"):
                p.normal_(0.0, 0.5, generator=g); d = "N(0,0.5)"
            elif name.endswith("conv1d.weight"):
                p.normal_(0.0, 0.5, generator=g); d = "N(0,0.5)"
            elif name.endswith("linear_attn.norm.weight"):
                p.uniform_(0.5, 1.5, generator=g); d = "U(0.5,1.5)"
            elif name.endswith("norm.weight"):
                p.uniform_(-0.5, 0.5, generator=g); d = "U(-0.5,0.5) (applied as 1+w)"
            elif name.endswith("A_log"):
                p.uniform_(-3.0, 0.5, generator=g); d = "U(-3,0.5)"
            elif name.endswith("dt_bias"):
                p.uniform_(-1.0, 1.0, generator=g); d = "U(-1,1)"
            elif p.dim() == 2:
                std = 1.0 / p.shape[1] ** 0.5
                p.normal_(0.0, std, generator=g); d = "N(0,1/sqrt(fan_in))"
            else:
                raise SystemExit(f"no init rule for {name} {tuple(p.shape)}")
            desc[name] = d
    return desc


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_checkpoint(model, cfg_dict, out_dir, bf16):
    os.makedirs(out_dir, exist_ok=True)
    tensors = {}
    for name, p in model.state_dict().items():
        if name == "lm_head.weight" and cfg_dict.get("tie_word_embeddings"):
            continue
        t = p.detach().clone().contiguous()
        tensors[released_name(name)] = t.to(torch.bfloat16) if bf16 else t
    save_file(tensors, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    c = dict(cfg_dict)
    c["dtype"] = "bfloat16" if bf16 else "float32"
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    gen = {"eos_token_id": c.get("eos_token_id"), "transformers_version": transformers.__version__}
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=2)
    return {k: list(v.shape) for k, v in tensors.items()}


def load_released(model, path):
    sd = load_file(path)
    mapped = {hf_name(k): v.float() for k, v in sd.items()}
    if "lm_head.weight" not in mapped:
        mapped["lm_head.weight"] = mapped["model.embed_tokens.weight"]
    missing, unexpected = model.load_state_dict(mapped, strict=False)
    missing = [m for m in missing if not m.endswith("inv_freq")]
    if missing or unexpected:
        raise SystemExit(f"{path}: missing {missing}, unexpected {unexpected}")


def build_model(cfg_dict):
    keys = {k: v for k, v in cfg_dict.items() if k not in ("architectures", "transformers_version", "model_type", "dtype")}
    cfg = Qwen3_5TextConfig(**keys)
    cfg._attn_implementation = "eager"
    model = Qwen3_5ForCausalLM(cfg).float().eval()
    return model, cfg


def describe(name):
    return name.split(".", 1)[1] if "." in name else name


def main_vl(a):
    """A vision-language set in the small_vl layout (Qwen3_5ForConditionalGeneration + its processor)."""
    from transformers import Qwen3_5Config, Qwen3_5ForConditionalGeneration

    cfg_dict = json.load(open(a.vl_config))
    cfg = Qwen3_5Config(**{k: v for k, v in cfg_dict.items() if k not in ("architectures", "transformers_version")})
    for c in (cfg, cfg.text_config, cfg.vision_config):
        c._attn_implementation = "eager"
    model = Qwen3_5ForConditionalGeneration(cfg).float().eval()
    weight_init = init_weights(model, a.seed)
    if cfg.tie_word_embeddings:
        model.lm_head.weight = model.model.language_model.embed_tokens.weight
    tc, vc = cfg.text_config, cfg.vision_config
    V = tc.vocab_size
    proc = image_processor(vc)  # the released settings, PIL-based
    pil = load_images(a.image)  # exif_transpose + RGB, as for a path
    pp = proc(images=pil, return_tensors="pt")
    pixel_values, grid = pp["pixel_values"], pp["image_grid_thw"]
    n_tok = image_token_counts(grid, vc.spatial_merge_size)
    g = torch.Generator().manual_seed(a.seed + 1)
    text_lens = [int(x) for x in a.text_lens.split(",")]
    if len(text_lens) != len(a.image) + 1:
        raise SystemExit("--text-lens needs one more entry than --image")
    special = {cfg.image_token_id, cfg.video_token_id, cfg.vision_start_token_id, cfg.vision_end_token_id}
    def text(n):
        out = []
        while len(out) < n:
            t = int(torch.randint(0, V - 40, (1,), generator=g))
            if t not in special:
                out.append(t)
        return out
    prompt = text(text_lens[0])
    for k in range(len(a.image)):
        prompt += [cfg.vision_start_token_id] + [cfg.image_token_id] * n_tok[k] + [cfg.vision_end_token_id] + text(text_lens[k + 1])

    os.makedirs(a.out, exist_ok=True)
    images_meta = []
    for k, f in enumerate(a.image):
        base = os.path.basename(f)
        with open(f, "rb") as src, open(os.path.join(a.out, base), "wb") as dst:
            dst.write(src.read())
        images_meta.append({"file": base, "height": pil[k].height, "width": pil[k].width,
                            "grid_thw": grid[k].tolist()})
    for sub, bf16 in (("checkpoint_f32", False), ("checkpoint_bf16", True)):
        d = os.path.join(a.out, sub)
        os.makedirs(d, exist_ok=True)
        tensors = {}
        for name, p in model.state_dict().items():
            if name == "lm_head.weight" and cfg.tie_word_embeddings:
                continue
            t = p.detach().clone().contiguous()
            tensors[name] = t.to(torch.bfloat16) if bf16 else t
        save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
        c = dict(cfg_dict)
        c["dtype"] = "bfloat16" if bf16 else "float32"
        json.dump(c, open(os.path.join(d, "config.json"), "w"), indent=2)
        if not bf16:
            ck32 = {k: list(v.shape) for k, v in tensors.items()}

    ids = torch.tensor([prompt])
    mm = (ids == cfg.image_token_id).to(torch.int32)
    rec = Recorder.for_model(model)
    store = rec.store
    store.update(preproc_tensors(model, pil, pixel_values, grid, ids))
    decoded, _ = run_phases(model, rec, prompt, a.decode_steps, pixel_values, grid)
    with torch.no_grad():
        fids = torch.tensor([prompt + decoded])
        fmm = (fids == cfg.image_token_id).to(torch.int32)
        full = model(input_ids=fids, attention_mask=torch.ones_like(fids), pixel_values=pixel_values, image_grid_thw=grid,
                     mm_token_type_ids=fmm, use_cache=False).logits
        store["full.input_ids"], store["full.logits"] = fids, full.clone()
        mb = Qwen3_5ForConditionalGeneration(cfg).float().eval()
        sd = load_file(os.path.join(a.out, "checkpoint_bf16", "model.safetensors"))
        sd = {k: v.float() for k, v in sd.items()}
        if "lm_head.weight" not in sd:
            sd["lm_head.weight"] = sd["model.language_model.embed_tokens.weight"]
        mb.load_state_dict(sd, strict=False)
        store["bf16w.logits"] = mb(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=pixel_values,
                                   image_grid_thw=grid, mm_token_type_ids=mm, use_cache=False).logits.clone()
    goldens = golden_dtypes(store)
    gpath = os.path.join(a.out, "golden.safetensors")
    save_file(goldens, gpath)
    manifest = {
        "config_name": os.path.basename(os.path.normpath(a.out)), "golden_set": os.path.basename(os.path.normpath(a.out)),
        "model_class": "Qwen3_5ForConditionalGeneration", "transformers_version": transformers.__version__,
        "torch_version": torch.__version__, "seed": a.seed, "attn_implementation": "eager", "compute_dtype": "float32",
        "batch_size": 1, "notes": "Made by golden/tools/make_set.py; " + " ".join(sys.argv[1:]),
        "prompt_ids": prompt, "decoded_ids": decoded, "images": images_meta,
        "image_processor": {"class": type(proc).__name__, "min_pixels": 65536, "max_pixels": 16777216},
        "config": cfg_dict, "checkpoint_tensors": ck32, "weight_init": weight_init,
        "goldens_file": "golden.safetensors", "goldens_sha256": sha256(gpath),
        "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""), "description": describe(k)}
                    for k, v in goldens.items()},
    }
    json.dump(manifest, open(os.path.join(a.out, "manifest.json"), "w"), indent=1)
    print(f"{a.out}: {len(goldens)} goldens, prompt {len(prompt)}, images {[m['grid_thw'] for m in images_meta]}, decoded {decoded}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", help="a flat qwen3_5_text config.json for a new random model")
    src.add_argument("--vl-config", help="a qwen3_5 (text_config + vision_config) config.json: a vision-language set")
    ap.add_argument("--image", action="append", default=[], help="(--vl-config) an image of the prompt, in order")
    ap.add_argument("--text-lens", default="4,3,5", help="(--vl-config) text tokens before, between and after the images")
    src.add_argument("--from-checkpoint", help="an existing checkpoint directory (its config and weights)")
    ap.add_argument("--seed", type=int, default=7, help="weight seed (with --config), prompt seed + 1")
    ap.add_argument("--prompt-len", type=int, default=24)
    ap.add_argument("--decode-steps", type=int, default=3)
    ap.add_argument("--long-len", type=int, default=0, help="length of the long. phase prompt (0: none)")
    ap.add_argument("--prompt-ids-from", help="take prompt_ids / long_prompt_ids from this manifest.json")
    ap.add_argument("--out", required=True, help="output directory (created)")
    a = ap.parse_args()
    if a.vl_config:
        return main_vl(a)

    torch.manual_seed(a.seed)
    if a.config:
        cfg_dict = json.load(open(a.config))
    else:
        cfg_dict = json.load(open(os.path.join(a.from_checkpoint, "config.json")))
    cfg_dict.setdefault("architectures", ["Qwen3_5ForCausalLM"])
    cfg_dict.setdefault("model_type", "qwen3_5_text")
    model, cfg = build_model(cfg_dict)
    if a.config:
        weight_init = init_weights(model, a.seed)
        if cfg_dict.get("tie_word_embeddings"):
            model.lm_head.weight = model.model.embed_tokens.weight
    else:
        load_released(model, os.path.join(a.from_checkpoint, "model.safetensors"))
        weight_init = {}
    V = cfg.vocab_size

    g = torch.Generator().manual_seed(a.seed + 1)
    if a.prompt_ids_from:
        man = json.load(open(a.prompt_ids_from))
        prompt = list(man["prompt_ids"])
        long_prompt = list(man.get("long_prompt_ids") or [])
    else:
        prompt = torch.randint(0, V - 40, (a.prompt_len,), generator=g).tolist()
        long_prompt = torch.randint(0, V - 40, (a.long_len,), generator=g).tolist() if a.long_len else []

    os.makedirs(a.out, exist_ok=True)
    ck32 = save_checkpoint(model, cfg_dict, os.path.join(a.out, "checkpoint_f32"), bf16=False)
    save_checkpoint(model, cfg_dict, os.path.join(a.out, "checkpoint_bf16"), bf16=True)

    rec = Recorder.for_model(model)
    store = rec.store
    decoded, timings = run_phases(model, rec, prompt, a.decode_steps)
    with torch.no_grad():  # logits only from here on
        full_ids = torch.tensor([prompt + decoded])
        full = model(input_ids=full_ids, use_cache=False).logits
        store["full.input_ids"], store["full.logits"] = full_ids, full.clone()
        if long_prompt:
            lids = torch.tensor([long_prompt])
            store["long.input_ids"], store["long.logits"] = lids, model(input_ids=lids, use_cache=False).logits.clone()
        # bf16w: the bf16-rounded weights upcast to fp32, fp32 compute
        mb, _ = build_model(cfg_dict)
        load_released(mb, os.path.join(a.out, "checkpoint_bf16", "model.safetensors"))
        store["bf16w.logits"] = mb(input_ids=torch.tensor([prompt]), use_cache=False).logits.clone()

    goldens = golden_dtypes(store)
    gpath = os.path.join(a.out, "golden.safetensors")
    save_file(goldens, gpath)

    checks = {
        "prefill_vs_full_forward_maxabs": float((full[0, : len(prompt)] - store["prefill.logits"][0]).abs().max()),
        "decode_vs_full_forward_maxabs": [
            float((full[0, len(prompt) + s] - store[f"decode{s}.logits"][0, 0]).abs().max()) for s in range(a.decode_steps)
        ],
    }
    files = {}
    for sub in ("checkpoint_f32", "checkpoint_bf16"):
        p = os.path.join(a.out, sub, "model.safetensors")
        files[f"{sub}/model.safetensors"] = {"bytes": os.path.getsize(p), "sha256": sha256(p)}
    manifest = {
        "config_name": os.path.basename(os.path.normpath(a.out)),
        "golden_set": os.path.basename(os.path.normpath(a.out)),
        "model_class": "Qwen3_5ForCausalLM",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "seed": a.seed,
        "seeds": {"weights": a.seed, "prompt": a.seed + 1},
        "attn_implementation": "eager",
        "compute_dtype": "float32",
        "batch_size": 1,
        "notes": "Made by golden/tools/make_set.py; " + " ".join(sys.argv[1:]),
        "prompt_ids": prompt,
        "decoded_ids": decoded,
        "long_prompt_ids": long_prompt,
        "long_phase_records": "input_ids and logits only (no per-layer goldens)",
        "lm_head": "tied (logits = final_norm @ embed_tokens.weight^T)" if cfg_dict.get("tie_word_embeddings")
        else "untied (logits = final_norm @ lm_head.weight^T)",
        "weights": "fp32 (checkpoint_f32); checkpoint_bf16 = rounded copy",
        "timings_s": timings,
        "consistency_checks": checks,
        "config": cfg_dict,
        "checkpoint_tensors": ck32,
        "checkpoint_files": files,
        "weight_init": weight_init,
        "goldens_file": "golden.safetensors",
        "goldens_sha256": sha256(gpath),
        "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""),
                        "description": describe(k)} for k, v in goldens.items()},
    }
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"{a.out}: {len(goldens)} goldens, prompt {len(prompt)}, decoded {decoded}, checks {checks}")


if __name__ == "__main__":
    main()
