#!/usr/bin/env python3
"""Dump every intermediate of Hugging Face transformers' Qwen3.5 on a prompt under q35's golden names.

Runs a checkpoint (Qwen3_5ForCausalLM for model_type qwen3_5_text, Qwen3_5ForConditionalGeneration
for qwen3_5 with a vision_config) with eager attention on the CPU: the prompt on empty caches
(prefill.*, then its caches prefill.cache.*), then --decode N greedy tokens on the caches
(decode0.*, decode1.*, ...), and with images the preprocessing (preproc.*) and the vision tower
(prefill.vision.*). The safetensors file holds the tensors in execution order, float32 (int64 for
ids, positions and grids), under the names of golden/data/README.md, so that
  ./q35 compare hf.safetensors golden/data/SET/golden.safetensors
  ./q35 forward DIR --ids ... --decode-ids D0,D1 --dump q35.safetensors    (D: the decoded ids printed)
  ./q35 compare hf.safetensors q35.safetensors
match tensor by tensor. --dtype bfloat16 computes in bfloat16 (tensors still written as float32;
such a dump does not meet the float32 bars of q35 compare).

Prompt: --ids A,B,C (no tokenizer needed), or --prompt TEXT, tokenized with the checkpoint's
tokenizer and no special tokens added; --chat first renders TEXT as one user message with the
tokenizer's chat template (add_generation_prompt=True; with images, one image part per --image
before the text). Images (--image, in prompt order) go through the PIL-based Qwen2-VL image
processor (use_fast=False; the checkpoint's preprocessor_config.json, else the released Qwen3.5
settings). The prompt holds, per image, either its whole run of <|image_pad|> tokens or a single
<|image_pad|>, expanded here to the image's number of merged patches; without --chat, a --prompt
with images must hold the placeholders itself: <|vision_start|><|image_pad|><|vision_end|>.

--model is a local directory or a Hugging Face hub id; a hub id needs network access or the hub
cache (not tested: `make check-hf` runs local directories only). --names-only still runs the model.
Needs `pip install torch transformers safetensors pillow`.

Examples:
  python3 golden/tools/hf_dump.py --model DIR --prompt "Hello" --chat --decode 3 --out hf.safetensors
  python3 golden/tools/hf_dump.py --model DIR --prompt "Describe this." --chat --image a.jpg --out hf.safetensors
  python3 golden/tools/hf_dump.py --model golden/data/small_text/checkpoint_f32 --ids 5,17,300 --decode 2 --out hf.safetensors
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from q35_hooks import (Recorder, golden_dtypes, image_processor, image_token_counts, is_vl,  # noqa: E402
                       load_images, preproc_tensors, run_phases, write_ordered)
import torch  # noqa: E402
import transformers  # noqa: E402


def load_model(src, dtype):
    if os.path.isdir(src) and not os.path.exists(os.path.join(src, "config.json")):
        raise SystemExit(f"{src}: no config.json (give a checkpoint directory or a hub id)")
    cfg = transformers.AutoConfig.from_pretrained(src)
    if cfg.model_type == "qwen3_5" and getattr(cfg, "vision_config", None) is not None:
        cls = transformers.Qwen3_5ForConditionalGeneration
    elif cfg.model_type == "qwen3_5_text":
        cls = transformers.Qwen3_5ForCausalLM
    else:
        raise SystemExit(f"{src}: model_type {cfg.model_type!r} is not Qwen3.5 (qwen3_5 or qwen3_5_text)")
    model, info = cls.from_pretrained(src, dtype=dtype, attn_implementation="eager", output_loading_info=True)
    missing = [k for k in info.get("missing_keys", []) if not k.endswith("inv_freq")]
    if missing:  # would run on random weights
        raise SystemExit(f"{src}: tensors missing from the checkpoint: {sorted(missing)[:8]}")
    return model.eval()


def prompt_ids(a, n_images):
    if a.ids is not None:
        return [int(x) for x in a.ids.split(",") if x.strip()]
    if os.path.isdir(a.model) and not any(os.path.exists(os.path.join(a.model, f))
                                          for f in ("tokenizer.json", "vocab.json", "tokenizer_config.json")):
        raise SystemExit(f"{a.model}: no tokenizer (tokenizer.json); give the prompt as --ids")
    tok = transformers.AutoTokenizer.from_pretrained(a.model)
    text = a.prompt
    if a.chat:
        content = text if not n_images else [{"type": "image"}] * n_images + [{"type": "text", "text": text}]
        text = tok.apply_chat_template([{"role": "user", "content": content}], tokenize=False,
                                       add_generation_prompt=True)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise SystemExit(f"{a.model}: the tokenizer gives no ids for the prompt")
    return ids


def expand_image_pads(ids, pad, counts):
    """Each image's run of `pad` tokens: kept when it has the image's count, expanded when it is one."""
    runs, i = [], 0
    while i < len(ids):
        if ids[i] == pad:
            j = i
            while j < len(ids) and ids[j] == pad:
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    if len(runs) != len(counts):
        raise SystemExit(f"the prompt has {len(runs)} run(s) of <|image_pad|> ({pad}), "
                         f"for {len(counts)} image(s)")
    out, prev = [], 0
    for (i, j), n in zip(runs, counts):
        if j - i not in (1, n):
            raise SystemExit(f"a run of {j - i} <|image_pad|> tokens for an image of {n} tokens (give 1 or {n})")
        out += ids[prev:i] + [pad] * n
        prev = j
    return out + ids[prev:]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="checkpoint directory or hub id")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--prompt", help="prompt text (the checkpoint's tokenizer)")
    src.add_argument("--ids", help="prompt token ids A,B,C (no tokenizer needed)")
    ap.add_argument("--image", action="append", default=[], help="an image of the prompt (repeat, in prompt order)")
    ap.add_argument("--chat", action="store_true", help="wrap --prompt in the chat template (add_generation_prompt)")
    ap.add_argument("--decode", type=int, default=0, metavar="N", help="greedy decode steps on the caches (default 0)")
    ap.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32",
                    help="compute dtype (default float32; tensors are written as float32)")
    ap.add_argument("--out", help="output safetensors file")
    ap.add_argument("--names-only", action="store_true",
                    help="print the names (shape, dtype) it would write, write nothing (still runs the model)")
    a = ap.parse_args()
    if not a.out and not a.names_only:
        ap.error("--out FILE is needed (or --names-only)")
    if a.chat and a.prompt is None:
        ap.error("--chat needs --prompt (--ids are used as they are)")
    if a.decode < 0:
        ap.error("--decode N needs N >= 0")

    t0 = time.time()
    torch.set_grad_enabled(False)
    if not os.environ.get("TRANSFORMERS_VERBOSITY"):  # its fallback and deprecation notes, progress bars
        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
    model = load_model(a.model, getattr(torch, a.dtype))
    cfg = model.config
    if a.image and not is_vl(model):
        raise SystemExit(f"{a.model}: --image needs a vision-language checkpoint (model_type qwen3_5 with vision_config)")
    ids = prompt_ids(a, len(a.image))
    if not ids:
        raise SystemExit("empty prompt")
    pixel_values = grid = None
    rec = Recorder.for_model(model)
    if a.image:
        pil = load_images(a.image)
        pp = image_processor(cfg.vision_config, a.model)(images=pil, return_tensors="pt")
        pixel_values, grid = pp["pixel_values"], pp["image_grid_thw"]
        ids = expand_image_pads(ids, cfg.image_token_id, image_token_counts(grid, cfg.vision_config.spatial_merge_size))
        rec.store.update(preproc_tensors(model, pil, pixel_values, grid, torch.tensor([ids])))
    elif is_vl(model) and cfg.image_token_id in ids:
        raise SystemExit(f"the prompt holds <|image_pad|> ({cfg.image_token_id}) but no --image was given")
    decoded, _ = run_phases(model, rec, ids, a.decode, pixel_values, grid)
    tensors = golden_dtypes(rec.store)
    if a.names_only:
        for k, v in tensors.items():
            print(f"{k} {list(v.shape)} {str(v.dtype).replace('torch.', '')}")
        return
    write_ordered(tensors, a.out, {"producer": "golden/tools/hf_dump.py", "model": a.model,
                                   "model_class": type(model).__name__, "dtype": a.dtype,
                                   "transformers": transformers.__version__, "torch": torch.__version__})
    print(f"{a.out}: {len(tensors)} tensors, {type(model).__name__} ({a.dtype}), prompt {len(ids)} tokens, "
          f"{len(a.image)} image(s), decoded {decoded}, {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
