#!/usr/bin/env python3
"""Write a golden set's prefill tensors the way llama.cpp's qwen35 graph reports them.

Reads GOLDEN/golden.safetensors (phase prefill) and GOLDEN/checkpoint_f32/config.json and writes
OUT/: one NAME.npy per llama.cpp tensor name that golden/aliases/llama.cpp.yaml maps, in
llama.cpp's layout (the dump convention of golden/aliases/README.md: float32 '<f4', numpy shape =
ggml's ne[] reversed, all four axes; value heads in llama.cpp's tiled order; the delta-rule state
as [head][value][key]; ...), written in the order llama.cpp's graph evaluates them, with strictly
increasing mtimes (set with os.utime in nanoseconds). Every layout change here is the INVERSE of a
map entry, written independently of the map (reshape/swap of axes, not the map's index rule).

--check applies the map's FORWARD transforms, exactly as the q35-aliases/1 format defines them
(parsed with PyYAML), to every .npy of a directory and compares the result with the goldens:
bit-identical for the directory this script writes, within --tol for a real llama.cpp dump.

  python3 tests/data/aliases/make_llama_layout.py                 # writes tests/data/aliases/llama_kv_equal
  python3 tests/data/aliases/make_llama_layout.py --check         # map vs. layout writer
  python3 tests/data/aliases/make_llama_layout.py --check --dir DUMP/prefill --tol 2e-4   # a real dump

Needs numpy and PyYAML (--check only).
"""
import argparse
import json
import os
import re
import struct
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_GOLDEN = os.path.join(ROOT, "golden", "data", "kv_equal")
DEFAULT_OUT = os.path.join(HERE, "llama_kv_equal")
DEFAULT_MAP = os.path.join(ROOT, "golden", "aliases", "llama.cpp.yaml")

ST_DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "F16": "<f2"}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=ST_DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = arr
    return out


def load_config(golden):
    with open(os.path.join(golden, "checkpoint_f32", "config.json")) as f:
        return json.load(f)


def cfg_get(cfg, key):
    tc = cfg.get("text_config") or {}
    if key in tc:
        return tc[key]
    return cfg[key]


# ---------------------------------------------------------------------------------------------
# Writer: ours -> llama.cpp layout (inverse transforms, independent of the YAML)
# ---------------------------------------------------------------------------------------------

def to_tiled(x, axis, n_key_heads):
    """Grouped value heads (ours: head h = k*r + i) -> tiled (llama.cpp: head j = i*Hk + k)."""
    axis = axis % x.ndim
    hv = x.shape[axis]
    r = hv // n_key_heads
    assert r * n_key_heads == hv
    shp = x.shape[:axis] + (n_key_heads, r) + x.shape[axis + 1:]
    y = x.reshape(shp)                       # [..., k, i, ...]
    y = np.swapaxes(y, axis, axis + 1)       # [..., i, k, ...]
    return y.reshape(x.shape)


def llama_tensors(g, cfg):
    """[(their name, array in llama.cpp layout)] in llama.cpp's graph evaluation order."""
    P = "prefill."
    hk = cfg_get(cfg, "linear_num_key_heads")
    hv = cfg_get(cfg, "linear_num_value_heads")
    dv = cfg_get(cfg, "linear_value_head_dim")
    dk = cfg_get(cfg, "linear_key_head_dim")
    assert dk == dv, "llama.cpp's qwen35 needs linear_key_head_dim == linear_value_head_dim"
    types = cfg_get(cfg, "layer_types")
    L = g[P + "input_ids"].shape[1]

    def flat(x):          # ours [1,L,X] (or any [.., X] with L rows) -> ggml ne [X, L, 1, 1] -> [1,1,L,X]
        return x.reshape(1, 1, L, -1)

    out = [("model.input_embed", flat(g[P + "text.embed_tokens"]))]
    for i, t in enumerate(types):
        p = P + "text.layers.%d." % i
        c = P + "cache.layers.%d." % i
        out.append(("attn_norm-%d" % i, flat(g[p + "input_norm"])))
        if t == "linear_attention":
            a = g[p + "linear_attn.in_proj_a"]                       # [1,L,Hv]
            out.append(("alpha-%d" % i, to_tiled(a, 2, hk).reshape(1, 1, L, hv)))
            b = g[p + "linear_attn.in_proj_b"]                       # [1,L,Hv]
            out.append(("beta-%d" % i, to_tiled(b, 2, hk).reshape(1, L, hv, 1)))
            s = g[c + "recurrent_state"]                             # [1,Hv,Dk,Dv]
            out.append(("new_state-%d" % i, np.swapaxes(to_tiled(s, 1, hk), 2, 3)))
            o = g[p + "linear_attn.core_attn_out"].reshape(1, L, hv, dv)   # rows l*Hv + h
            out.append(("attn_output-%d" % i, to_tiled(o, 2, hk)))
            fo = g[p + "linear_attn.gated_norm_out"].reshape(1, L, hv, dv)  # rows l*Hv + h
            out.append(("final_output-%d" % i, to_tiled(fo, 2, hk).reshape(1, 1, L, hv * dv)))
            qkv = g[p + "linear_attn.in_proj_qkv"]                   # [1,L,C]: [q | k | v], v grouped
            nv = hv * dv
            vt = to_tiled(qkv[..., -nv:].reshape(1, L, hv, dv), 2, hk).reshape(1, L, nv)
            mixed = np.concatenate([qkv[..., :-nv], vt], axis=-1)
            out.append(("linear_attn_qkv_mixed-%d" % i, mixed.reshape(1, 1, L, -1)))
            conv = g[p + "linear_attn.conv1d_raw"]                   # [1,C,L]
            ct = np.swapaxes(conv, 1, 2)                             # [1,L,C]
            vt = to_tiled(ct[..., -nv:].reshape(1, L, hv, dv), 2, hk).reshape(1, L, nv)
            out.append(("conv_output_raw-%d" % i, np.concatenate([ct[..., :-nv], vt], axis=-1).reshape(1, 1, L, -1)))
            z = g[p + "linear_attn.in_proj_z"].reshape(1, L, hv, dv)
            out.append(("z-%d" % i, to_tiled(z, 2, hk).reshape(1, 1, L, hv * dv)))
            out.append(("z-%d (reshaped)" % i, to_tiled(z, 2, hk)))
            out.append(("linear_attn_out-%d" % i, flat(g[p + "attn_out"])))
        else:
            out.append(("Qcur_full-%d" % i, flat(g[p + "self_attn.q_proj"])))
            out.append(("Qcur_normed-%d" % i, g[p + "self_attn.q_norm"]))         # [1,L,Hq,Dh]
            out.append(("Vcur-%d" % i, flat(g[p + "self_attn.v_proj"])))
            out.append(("Vcur-%d#1" % i, np.swapaxes(g[c + "value"], 1, 2)))     # [1,L,Hkv,Dh]
            out.append(("Kcur-%d" % i, flat(g[p + "self_attn.k_proj"])))
            out.append(("Kcur_normed-%d" % i, g[p + "self_attn.k_norm"]))
            out.append(("Kcur-%d#1" % i, np.swapaxes(g[c + "key"], 1, 2)))
            out.append(("attn_gated-%d" % i, flat(g[p + "self_attn.gated_attn"])))
            out.append(("attn_output-%d" % i, flat(g[p + "attn_out"])))
        out.append(("attn_residual-%d" % i, flat(g[p + "post_attn_residual"])))
        out.append(("attn_post_norm-%d" % i, flat(g[p + "post_attn_norm"])))
        out.append(("ffn_out-%d" % i, flat(g[p + "mlp_out"])))
        out.append(("l_out-%d" % i, flat(g[p + "output"])))
    out.append(("h_nextn", flat(g[P + "text.final_norm"])))
    out.append(("result_output", flat(g[P + "logits"])))
    return out


def write(golden, out_dir):
    g = read_safetensors(os.path.join(golden, "golden.safetensors"))
    cfg = load_config(golden)
    tensors = llama_tensors(g, cfg)
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f.endswith(".npy"):
            os.remove(os.path.join(out_dir, f))
    t0 = time.time_ns() - len(tensors) * 1000
    for n, (name, arr) in enumerate(tensors):
        path = os.path.join(out_dir, name + ".npy")
        np.save(path, np.ascontiguousarray(arr, dtype="<f4"))
        ts = t0 + n * 1000                                         # 1 us apart, strictly increasing
        os.utime(path, ns=(ts, ts))
    size = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    print("wrote %d files (%d bytes) to %s" % (len(tensors), size, out_dir))


# ---------------------------------------------------------------------------------------------
# Check: the map's forward transforms, as the q35-aliases/1 format defines them
# ---------------------------------------------------------------------------------------------

def compile_pattern(theirs):
    """'attn_norm-{L}' -> regex; {NAME} matches a decimal integer; everything else is literal."""
    parts, names, pos = [], [], 0
    for m in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", theirs):
        parts.append(re.escape(theirs[pos:m.start()]))
        parts.append("(?P<%s>[0-9]+)" % m.group(1))
        names.append(m.group(1))
        pos = m.end()
    parts.append(re.escape(theirs[pos:]))
    return re.compile("^" + "".join(parts) + "$"), names


def resolve_param(v, params):
    if isinstance(v, bool):
        raise SystemExit("bad parameter value %r" % (v,))
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v in params:
        return params[v]
    raise SystemExit("unknown parameter %r" % (v,))


def untile_heads(x, axis, G):
    """Their head j = i*G + k (key head k = j % G) -> our head h = k*(H/G) + i."""
    H = x.shape[axis]
    if H % G:
        raise ValueError("untile_heads: axis size %d not a multiple of %d" % (H, G))
    r = H // G
    idx = np.empty(H, dtype=np.int64)
    for h in range(H):
        k, i = h // r, h % r
        idx[h] = i * G + k
    return np.take(x, idx, axis=axis)


def apply_transforms(x, steps, ours_shape, params):
    for st in steps or []:
        if not isinstance(st, dict) or len(st) != 1:
            raise SystemExit("bad transform step %r" % (st,))
        (op, arg), = st.items()
        if op == "transpose":
            x = np.transpose(x, arg)
        elif op == "view":
            if arg == "ours":
                x = x.reshape(ours_shape)
            else:
                dims = [d if isinstance(d, int) else resolve_param(d, params) for d in arg]
                if sum(1 for d in dims if d == -1) > 1:
                    raise SystemExit("view: at most one -1")
                x = x.reshape(dims)
        elif op == "untile_heads" and "heads" in arg:   # only the last heads*head_size entries of the axis
            ax, H, hs = int(arg["axis"]) % x.ndim, resolve_param(arg["heads"], params), resolve_param(arg["head_size"], params)
            pre = x.shape[ax] - H * hs
            head, tail = np.split(x, [pre], axis=ax)
            t = tail.reshape(tail.shape[:ax] + (H, hs) + tail.shape[ax + 1:])
            t = untile_heads(t, ax, resolve_param(arg["groups"], params)).reshape(tail.shape)
            x = np.concatenate([head, t], axis=ax)
        elif op == "untile_heads":
            x = untile_heads(x, int(arg["axis"]), resolve_param(arg["groups"], params))
        else:
            raise SystemExit("unknown transform %r" % op)
    return x


def load_map(path, cfg, overrides):
    import yaml
    with open(path) as f:
        m = yaml.safe_load(f)
    if m.get("format") != "q35-aliases/1":
        raise SystemExit("%s: format is not q35-aliases/1" % path)
    params = {}
    for k, v in (m.get("params") or {}).items():
        params[k] = v if isinstance(v, int) else int(cfg_get(cfg, v))
    params.update(overrides)
    entries = []
    for e in m["aliases"]:
        rx, names = compile_pattern(e["theirs"])
        entries.append((rx, names, e))
    return params, entries


def check(golden, dir_, map_path, phase, tol, overrides):
    g = read_safetensors(os.path.join(golden, "golden.safetensors"))
    cfg = load_config(golden)
    params, entries = load_map(map_path, cfg, overrides)
    files = [f for f in os.listdir(dir_) if f.endswith(".npy")]
    files.sort(key=lambda f: os.stat(os.path.join(dir_, f)).st_mtime_ns)
    used, bad, unmapped, rows = set(), 0, [], []
    for f in files:
        theirs = f[:-4]
        hit = None
        for rx, names, e in entries:
            mm = rx.match(theirs)
            if not mm:
                continue
            ours = e["ours"]
            for nm in names:
                ours = ours.replace("{%s}" % nm, str(int(mm.group(nm))))
            if phase + "." + ours in g:                  # first entry whose ours tensor exists wins
                hit = (e, phase + "." + ours)
                break
        if hit is None:
            unmapped.append(theirs)
            continue
        e, ours = hit
        ref = g[ours]
        x = np.load(os.path.join(dir_, f))
        try:
            y = apply_transforms(x, e.get("transform"), ref.shape, params)
        except ValueError as err:
            rows.append(("FAIL", theirs, ours, "transform error: %s" % err)); bad += 1
            continue
        if tuple(y.shape) != tuple(ref.shape):
            rows.append(("FAIL", theirs, ours, "shape %s != ours %s" % (list(y.shape), list(ref.shape)))); bad += 1
            continue
        d = float(np.max(np.abs(y.astype(np.float64) - ref.astype(np.float64)))) if ref.size else 0.0
        rel = d / max(1.0, float(np.max(np.abs(ref)))) if ref.size else 0.0
        ok = (d == 0.0) if tol is None else (rel <= tol)
        bad += not ok
        used.add(ours)
        rows.append(("ok" if ok else "FAIL", theirs, ours, "max_abs %.3e max_rel %.3e" % (d, rel)))
    for r in rows:
        print("%-4s %-28s -> %-55s %s" % r)
    missing = [n for n in g if n.startswith(phase + ".") and n not in used]
    print("\n%d files, %d mapped, %d failed, %d not mapped by the map" % (len(files), len(rows), bad, len(unmapped)))
    if unmapped:
        print("not mapped: " + ", ".join(unmapped))
    print("%s goldens without a counterpart here (%d): %s" % (phase, len(missing), ", ".join(
        n[len(phase) + 1:] for n in missing)))
    return 1 if bad or not rows else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--golden", default=DEFAULT_GOLDEN, help="golden set directory (default golden/data/kv_equal)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="directory to write (default tests/data/aliases/llama_kv_equal)")
    ap.add_argument("--check", action="store_true", help="apply the map to --dir and compare with the goldens")
    ap.add_argument("--dir", help="(--check) directory of .npy files (default: --out)")
    ap.add_argument("--map", default=DEFAULT_MAP, help="alias map (default golden/aliases/llama.cpp.yaml)")
    ap.add_argument("--phase", default="prefill", help="(--check) golden phase (default prefill)")
    ap.add_argument("--tol", type=float, help="(--check) max_rel bar; default: bit-identical")
    ap.add_argument("--param", action="append", default=[], help="(--check) NAME=VALUE overrides a map param")
    a = ap.parse_args()
    if a.check:
        ov = {}
        for p in a.param:
            k, _, v = p.partition("=")
            ov[k] = int(v)
        sys.exit(check(a.golden, a.dir or a.out, a.map, a.phase, a.tol, ov))
    write(a.golden, a.out)


if __name__ == "__main__":
    main()
