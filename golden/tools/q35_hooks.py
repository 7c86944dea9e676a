"""Hugging Face transformers' Qwen3.5 under q35's golden names: the one copy of the hooks and naming
code that make_set.py (golden sets) and hf_dump.py (a dump of any checkpoint) share.

Names and phases are those of golden/data/README.md: `<phase>.<name>` with the phases preproc
(image decoding and preprocessing), prefill (prompt on empty caches, then `prefill.cache.*`) and
decode0, decode1, ... (one greedy token each on the caches). A store is a dict filled in execution
order; golden_dtypes() gives its golden dtypes (float32, and int64 for ids, positions and grids).

On a machine with Debian's packages only, set HF_REF_TRANSFORMERS_SRC and HF_REF_PYDEPS as
../shared/hf-reference/README.md describes: its hfenv shims are then loaded before transformers
(from Q35_HF_REFERENCE, default ../shared/hf-reference beside the repository).
"""
import json
import os
import struct
import sys
import time

_hfenv = None
if os.environ.get("HF_REF_TRANSFORMERS_SRC"):
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.environ.get("Q35_HF_REFERENCE",
                                      os.path.join(_here, "..", "..", "..", "shared", "hf-reference")))
    import hfenv as _hfenv  # noqa: E402  (before torch and transformers)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402

if _hfenv is not None:
    _hfenv.patch_transformers()


class Recorder:
    """Forward hooks that store tensors under '<phase>.<golden name>' (nothing while phase is None)."""

    def __init__(self, inner, visual=None):
        self.store = {}
        self.phase = None
        self.handles = []

        def out_hook(name, pick=None):
            def h(mod, args, kwargs, out):
                t = out if pick is None else pick(out)
                self.put(name, t)
            return h

        def pre_hook(name, idx=0):
            def h(mod, args, kwargs):
                self.put(name, args[idx] if len(args) > idx else list(kwargs.values())[idx])
            return h

        def reg_out(mod, name, pick=None):
            self.handles.append(mod.register_forward_hook(out_hook(name, pick), with_kwargs=True))

        def reg_pre(mod, name, idx=0):
            self.handles.append(mod.register_forward_pre_hook(pre_hook(name, idx), with_kwargs=True))

        reg_out(inner.embed_tokens, "text.embed_tokens")

        def rotary(mod, args, kwargs, out):
            pos = kwargs.get("position_ids", args[1] if len(args) > 1 else None)
            self.put("text.position_ids", pos)
            self.put("text.rope_cos", out[0])
            self.put("text.rope_sin", out[1])
        self.handles.append(inner.rotary_emb.register_forward_hook(rotary, with_kwargs=True))
        for i, layer in enumerate(inner.layers):
            p = f"text.layers.{i}."

            def layer_in(mod, args, kwargs, p=p):
                x = args[0] if args else kwargs["hidden_states"]
                self.put(p + "input", x)
            self.handles.append(layer.register_forward_pre_hook(layer_in, with_kwargs=True))
            reg_out(layer, p + "output", lambda o: o[0] if isinstance(o, tuple) else o)
            reg_out(layer.input_layernorm, p + "input_norm")
            reg_pre(layer.post_attention_layernorm, p + "post_attn_residual")
            reg_out(layer.post_attention_layernorm, p + "post_attn_norm")
            reg_out(layer.mlp, p + "mlp_out")
            if hasattr(layer, "linear_attn"):
                la = layer.linear_attn
                reg_out(la, p + "attn_out", lambda o: o[0] if isinstance(o, tuple) else o)
                q = p + "linear_attn."
                for proj in ("in_proj_qkv", "in_proj_z", "in_proj_a", "in_proj_b"):
                    reg_out(getattr(la, proj), q + proj)

                def conv_raw(mod, args, kwargs, out, q=q, la=la):
                    # the depthwise conv's output before SiLU, first L columns (what nn.Conv1d with
                    # padding K-1 gives); only where the conv ran over the whole prompt (prefill)
                    if self.phase is None or self.phase.startswith("decode"):
                        return
                    x = out.transpose(1, 2)
                    L = x.shape[-1]
                    y = F.conv1d(x, la.conv1d.weight, None, padding=la.conv1d.weight.shape[-1] - 1,
                                 groups=x.shape[1])[..., :L]
                    self.put(q + "conv1d_raw", y)
                self.handles.append(la.in_proj_qkv.register_forward_hook(conv_raw, with_kwargs=True))

                def norm_in(mod, args, kwargs, q=q):
                    self.put(q + "core_attn_out", args[0])
                    self.put(q + "z_rows", args[1] if len(args) > 1 else kwargs["gate"])
                self.handles.append(la.norm.register_forward_pre_hook(norm_in, with_kwargs=True))
                reg_out(la.norm, q + "gated_norm_out")
            else:
                sa = layer.self_attn
                reg_out(sa, p + "attn_out", lambda o: o[0] if isinstance(o, tuple) else o)
                q = p + "self_attn."
                for proj in ("q_proj", "k_proj", "v_proj", "q_norm", "k_norm"):
                    reg_out(getattr(sa, proj), q + proj)
                reg_pre(sa.o_proj, q + "gated_attn")
        reg_out(inner.norm, "text.final_norm")
        if visual is not None:
            reg_out(visual.patch_embed, "vision.patch_embed")

            def blocks_in(mod, args, kwargs):
                self.put("vision.blocks_input", args[0] if args else kwargs["hidden_states"])
                cos, sin = kwargs["position_embeddings"]
                self.put("vision.rope_cos", cos)
                self.put("vision.rope_sin", sin)
            self.handles.append(visual.blocks[0].register_forward_pre_hook(blocks_in, with_kwargs=True))
            for j, blk in enumerate(visual.blocks):
                p = f"vision.blocks.{j}."
                reg_out(blk.norm1, p + "norm1")
                reg_out(blk.attn, p + "attn_out", lambda o: o[0] if isinstance(o, tuple) else o)
                reg_out(blk.norm2, p + "norm2")
                reg_out(blk.mlp, p + "mlp_out")
                reg_out(blk, p + "output", lambda o: o[0] if isinstance(o, tuple) else o)
            reg_out(visual.merger.norm, "vision.merger_norm")
            reg_out(visual.merger, "vision.merger_out")

    @classmethod
    def for_model(cls, model):
        """Hooks on a Qwen3_5ForCausalLM (text) or Qwen3_5ForConditionalGeneration (text + vision)."""
        if is_vl(model):
            return cls(model.model.language_model, model.model.visual)
        return cls(model.model)

    def put(self, name, t):
        if self.phase is None:
            return
        self.store[f"{self.phase}.{name}"] = t.detach().clone().contiguous()


def is_vl(model):
    return hasattr(model.model, "visual")


def cache_tensors(cache, cfg, phase):
    """The caches after a phase: conv_state/recurrent_state (linear attention), key/value (full)."""
    out = {}
    for i, lt in enumerate(cfg.layer_types):
        p = f"{phase}.cache.layers.{i}."
        layer = cache.layers[i]
        if lt == "linear_attention":
            out[p + "conv_state"] = cache.get_conv_state(i).detach().clone()
            out[p + "recurrent_state"] = cache.get_recurrent_state(i).detach().clone().float()
        else:
            out[p + "key"] = layer.keys.detach().clone()
            out[p + "value"] = layer.values.detach().clone()
    return out


def _call(model, **kw):
    """model(**kw) with the cache passed as `cache` (transformers >= 5.2x) or `past_key_values`;
    returns (logits, cache)."""
    import inspect
    if "cache" in kw and "cache" not in inspect.signature(model.forward).parameters:
        kw["past_key_values"] = kw.pop("cache")
    out = model(**kw)
    cache = getattr(out, "cache", None)
    if cache is None:
        cache = out.past_key_values
    return out.logits, cache


def image_token_counts(grid, merge):
    """Merged patches per image = its number of image_pad tokens in the prompt."""
    return [int(g.prod()) // (merge * merge) for g in grid]


def image_processor(vision_config, source=None):
    """The PIL-based Qwen2-VL image processor (the one the goldens used, not the torchvision one):
    `source`'s preprocessor_config.json when it has one (a directory with the file, or a hub id),
    else the released Qwen3.5 settings."""
    if source is not None and (not os.path.isdir(source) or
                               os.path.exists(os.path.join(source, "preprocessor_config.json"))):
        from transformers import AutoImageProcessor
        return AutoImageProcessor.from_pretrained(source, use_fast=False)
    cls = getattr(transformers, "Qwen2VLImageProcessorPil", None) or transformers.Qwen2VLImageProcessor
    return cls(min_pixels=65536, max_pixels=16777216, patch_size=vision_config.patch_size,
               temporal_patch_size=vision_config.temporal_patch_size, merge_size=vision_config.spatial_merge_size,
               image_mean=[0.5] * 3, image_std=[0.5] * 3)


def load_images(files):
    """PIL images as transformers loads a path: EXIF orientation applied, converted to RGB."""
    from transformers.image_utils import load_image
    return [load_image(os.path.abspath(f) if os.path.exists(f) else f) for f in files]


def rope_index(model, ids, grid):
    """Multimodal (T, H, W) positions of the prompt and the rope delta (Qwen3_5Model.get_rope_index)."""
    mm = (ids == model.config.image_token_id).to(torch.int32)
    return model.model.get_rope_index(ids, mm, image_grid_thw=grid, attention_mask=torch.ones_like(ids))


def preproc_tensors(model, pil, pixel_values, grid, ids):
    """preproc.*: decoded pixels, pixel_values, grid, vision position tables, multimodal positions."""
    with torch.no_grad():
        return _preproc_tensors(model, pil, pixel_values, grid, ids)


def _preproc_tensors(model, pil, pixel_values, grid, ids):
    from transformers.models.qwen3_5 import modeling_qwen3_5 as hf
    store = {}
    for im in pil:
        store[f"preproc.image_{im.height}x{im.width}_rgb"] = torch.from_numpy(
            np.asarray(im.convert("RGB")).astype(np.int64))
    store["preproc.pixel_values"] = pixel_values.float()
    store["preproc.image_grid_thw"] = grid.to(torch.int64)
    visual = model.model.visual
    ms = model.config.vision_config.spatial_merge_size
    idx, w = hf.get_vision_interpolation_indices_and_weights(
        grid, num_grid_per_side=visual.num_grid_per_side, mode=visual.interpolation_mode,
        align_corners=visual.interpolation_align_corners, spatial_merge_size=ms)
    store["preproc.vision.pos_embed_interp"] = (visual.pos_embed(idx) * w[:, :, None]).sum(1)
    vpos = hf.get_vision_position_ids(grid, ms)
    inv = visual.rotary_pos_emb.inv_freq
    store["preproc.vision.rot_pos_emb"] = torch.cat(
        [vpos[..., None].float()[:, 0] * inv, vpos[..., None].float()[:, 1] * inv], -1) \
        if vpos.dim() == 2 and vpos.shape[1] == 2 else (vpos[..., None].float() * inv).flatten(1)
    pos, deltas = rope_index(model, ids, grid)
    store["preproc.text.mrope_position_ids"] = pos[-3:].to(torch.int64)
    store["preproc.text.mrope_deltas"] = deltas.reshape(1, 1).to(torch.int64)
    return store


def run_phases(model, rec, prompt, decode_steps, pixel_values=None, grid=None):
    """prefill (prompt on empty caches, then its caches) and `decode_steps` greedy decode steps on the
    caches, recorded into rec.store in execution order. A vision-language model gets an all-ones
    attention mask, its images, and decode positions n + rope delta on all three rows, given
    explicitly. Returns (decoded ids, seconds per phase)."""
    store, timings, decoded = rec.store, {}, []
    vl = is_vl(model)
    ids = torch.tensor([prompt])
    kw = {}
    if vl:
        mm = (ids == model.config.image_token_id).to(torch.int32)
        kw = dict(attention_mask=torch.ones_like(ids), mm_token_type_ids=mm)
        if pixel_values is not None:
            kw.update(pixel_values=pixel_values, image_grid_thw=grid)
        delta = int(rope_index(model, ids, grid)[1].reshape(-1)[0])
    with torch.no_grad():
        t0 = time.time()
        rec.phase = "prefill"
        store["prefill.input_ids"] = ids.clone()
        logits, cache = _call(model, input_ids=ids, use_cache=True, **kw)
        store["prefill.logits"] = logits.clone()
        store.update(cache_tensors(cache, model.config.get_text_config(), "prefill"))
        timings["prefill"] = time.time() - t0
        last, mask = logits[0, -1], torch.ones_like(ids)
        for s in range(decode_steps):
            t0 = time.time()
            rec.phase = f"decode{s}"
            tok = int(torch.argmax(last))
            decoded.append(tok)
            step = torch.tensor([[tok]])
            store[f"decode{s}.input_ids"] = step.clone()
            kw = {}
            if vl:
                mask = torch.cat([mask, torch.ones_like(step)], 1)
                dpos = torch.full((3, 1, 1), len(prompt) + s + delta, dtype=torch.long)
                kw = dict(attention_mask=mask, position_ids=dpos,
                          mm_token_type_ids=torch.zeros_like(step, dtype=torch.int32))
            logits, cache = _call(model, input_ids=step, cache=cache, use_cache=True, **kw)
            store[f"decode{s}.logits"] = logits.clone()
            last = logits[0, -1]
            timings[f"decode{s}"] = time.time() - t0
        rec.phase = None
    return decoded, timings


def golden_dtypes(store):
    """The golden dtypes: int64 for token ids, positions, grids and pixels, float32 for the rest."""
    return {k: (v.to(torch.int64) if not v.is_floating_point() else v.float()).contiguous()
            for k, v in store.items()}


_ST_DTYPE = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}


def write_ordered(tensors, path, metadata=None):
    """A safetensors file with the tensors in the dict's order, header and data (`q35 compare` takes
    the first file's data order as execution order; safetensors' own save_file sorts by name). A
    tensor is aligned to its element size as q35's reader requires; where that leaves a gap (an
    int64 tensor after an odd number of float32 values) a zero F16 filler tensor "__q35_pad_<i>"
    covers it, as q35's own writer does (the format allows no holes; q35's reader skips fillers)."""
    header, off, spans = {}, 0, []
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for i, (name, t) in enumerate(tensors.items()):
        code = _ST_DTYPE[t.dtype][0]
        es = t.element_size()
        start = (off + es - 1) // es * es
        if start > off:
            header["__q35_pad_%d" % i] = {"dtype": "F16", "shape": [(start - off) // 2], "data_offsets": [off, start]}
        off = start
        n = t.numel() * es
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + n]}
        spans.append((off, t))
        off += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-(8 + len(h)) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        pos = 0
        for start, t in spans:
            f.write(b"\0" * (start - pos))
            b = t.contiguous().numpy().astype(_ST_DTYPE[t.dtype][1], copy=False).tobytes()
            f.write(b)
            pos = start + len(b)
    os.replace(tmp, path)
