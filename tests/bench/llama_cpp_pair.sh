#!/usr/bin/env bash
# llama_cpp_pair.sh - q35 against llama.cpp on the same checkpoint, the same machine, back to back.
#
#   tests/bench/llama_cpp_pair.sh [MODEL_DIR]
#
# 1. builds llama.cpp's llama-bench from the llama.cpp that PyPI's llama-cpp-python sdist vendors
#    (pip download; cmake -DGGML_NATIVE=ON, the llama-bench target only), into a cache directory,
#    reused when already built;
# 2. converts the q35 checkpoint (default: a random-weight 0.8B one made with `q35 mkmodel`) to a
#    BF16 GGUF with the vendored convert_hf_to_gguf.py (--outtype bf16 --no-mtp: q35 does not run
#    the MTP head either), in a Python venv of the cache holding what the converter imports
#    (gguf from the vendored gguf-py, numpy, torch, transformers, sentencepiece, safetensors). A
#    checkpoint gets the real-vocabulary tokenizer of shared/tokenizer/qwen35_vocab/ (or
#    Q35_TOKENIZER) in place of its own where that file exists;
# 3. runs `llama-bench -m GGUF -t T -p P -n G -r R` and `q35 bench MODEL_DIR --backend B --threads T
#    --prompt P --gen G --repeat R --json` for each backend B, one after the other, and prints them
#    side by side.
#
# Not part of `make check`: the first run downloads ~80 MB of source and a few GB of Python wheels
# (PyPI's torch), and builds llama.cpp (~15 minutes on 2 cores).
#
# Environment (defaults in brackets):
#   Q35_LLAMA_CACHE   cache directory [~/.cache/q35-llama.cpp]
#   LLAMA_CPP_PYTHON  llama-cpp-python sdist version [0.3.36]; "latest" for the newest
#   THREADS [2]  PROMPT [512]  GEN [128]  REPEAT [3]
#   Q35               the q35 binary [./q35 in the repository, built with make when missing]
#   Q35_BACKEND       q35's backends, comma-separated, each benched in turn [fast,fast-bf16]
#   Q35_TOKENIZER     tokenizer.json(.gz) for a checkpoint without one [shared/tokenizer/qwen35_vocab]
#   PYTHON            Python for the venv [python3]
#   NICE              niceness of the llama.cpp build [10]
#   MAKE_JOBS         build jobs [nproc]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${Q35_LLAMA_CACHE:-$HOME/.cache/q35-llama.cpp}
version=${LLAMA_CPP_PYTHON:-0.3.36}
threads=${THREADS:-2}
prompt=${PROMPT:-512}
gen=${GEN:-128}
repeat=${REPEAT:-3}
python=${PYTHON:-python3}
niceness=${NICE:-10}
jobs=${MAKE_JOBS:-$(nproc)}
q35=${Q35:-$repo/q35}

say() { printf '== %s\n' "$*" >&2; }
fail() { printf 'llama_cpp_pair: %s\n' "$*" >&2; exit 1; }

case "${1:-}" in
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
[ $# -le 1 ] || fail "one MODEL_DIR at most (--help)"
mkdir -p "$cache"

# ---- 1. llama-bench ----
src=$cache/src
bench_bin=$cache/build/bin/llama-bench
if [ ! -x "$bench_bin" ]; then
    if [ ! -f "$src/CMakeLists.txt" ]; then
        say "downloading the llama-cpp-python sdist ($version) from PyPI"
        rm -rf "$cache/dl" && mkdir -p "$cache/dl"
        spec=llama-cpp-python
        [ "$version" = latest ] || spec="llama-cpp-python==$version"
        "$python" -m pip download --quiet --no-binary :all: --no-deps "$spec" -d "$cache/dl"
        tarball=$(ls "$cache"/dl/llama_cpp_python-*.tar.gz | head -1)
        [ -n "$tarball" ] || fail "pip download gave no llama_cpp_python-*.tar.gz"
        tar -xzf "$tarball" -C "$cache/dl"
        vendored=$(ls -d "$cache"/dl/llama_cpp_python-*/vendor/llama.cpp | head -1)
        [ -f "$vendored/CMakeLists.txt" ] || fail "no vendor/llama.cpp in $tarball"
        rm -rf "$src" && mv "$vendored" "$src"
        rm -rf "$cache/dl"
    fi
    say "building llama-bench in $cache/build (nice $niceness, $jobs jobs; a while on few cores)"
    nice -n "$niceness" cmake -S "$src" -B "$cache/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
        -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF >/dev/null
    nice -n "$niceness" cmake --build "$cache/build" --target llama-bench -j "$jobs"
    [ -x "$bench_bin" ] || fail "the build made no $bench_bin"
fi

# ---- 2. the model and its GGUF ----
if [ ! -x "$q35" ]; then
    say "building q35"
    make -C "$repo" q35 >/dev/null
fi
if [ $# -eq 1 ]; then
    model=$(cd "$1" && pwd)
else
    model=${TMPDIR:-/tmp}/q35-pair-0.8b
    if [ ! -f "$model/config.json" ]; then
        say "making a random-weight 0.8B checkpoint in $model"
        rm -rf "$model"
        "$q35" mkmodel --preset 0.8b --seed 1 --out "$model" >&2
    fi
fi
[ -f "$model/config.json" ] || fail "$model holds no config.json"

venv=$cache/venv
if ! "$venv/bin/python" -c 'import gguf, numpy, torch, transformers, sentencepiece, safetensors' 2>/dev/null; then
    say "installing the converter's Python packages into $venv (PyPI's torch is large)"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --progress-bar off numpy sentencepiece transformers safetensors protobuf torch \
        "$src/gguf-py"
fi

# The GGUF lives in the cache under a key of the checkpoint's path, size and time; remade when
# the checkpoint changes.
key=$(stat -c '%n %s %Y' "$model"/*.safetensors "$model/config.json" | sha1sum | cut -c1-16)
gguf_dir=$cache/gguf/$key
gguf=$gguf_dir/model-bf16.gguf
if [ ! -s "$gguf" ]; then
    say "converting $model to a BF16 GGUF"
    stage=$gguf_dir/hf
    rm -rf "$gguf_dir" && mkdir -p "$stage"
    # mkmodel's checkpoints carry q35's test tokenizer (Qwen3's BPE with Qwen3.5's added tokens), which
    # the converter may not recognise: the real-vocabulary one is staged instead where it exists
    tok=${Q35_TOKENIZER:-$repo/../shared/tokenizer/qwen35_vocab/tokenizer.json.gz}
    for f in "$model"/*; do
        case "$(basename "$f")" in
            tokenizer.json|tokenizer_config.json) [ -f "$tok" ] && continue ;;
        esac
        ln -s "$f" "$stage/"
    done
    if [ ! -e "$stage/tokenizer.json" ]; then
        [ -f "$tok" ] || fail "$model has no tokenizer.json and $tok is missing (set Q35_TOKENIZER)"
        case "$tok" in
            *.gz) gunzip -c "$tok" > "$stage/tokenizer.json" ;;
            *) cp "$tok" "$stage/tokenizer.json" ;;
        esac
    fi
    if [ ! -e "$stage/tokenizer_config.json" ]; then
        cat > "$stage/tokenizer_config.json" <<'EOF'
{"tokenizer_class": "Qwen2Tokenizer", "bos_token": null, "eos_token": "<|im_end|>",
 "pad_token": "<|endoftext|>", "unk_token": null, "model_max_length": 262144,
 "add_prefix_space": false, "errors": "replace", "clean_up_tokenization_spaces": false}
EOF
    fi
    nice -n "$niceness" "$venv/bin/python" "$src/convert_hf_to_gguf.py" "$stage" --outtype bf16 --no-mtp \
        --outfile "$gguf.part" > "$gguf_dir/convert.log" 2>&1 || { tail -20 "$gguf_dir/convert.log" >&2; fail "conversion failed (log: $gguf_dir/convert.log)"; }
    mv "$gguf.part" "$gguf"
fi

# ---- 3. the race ----
out=$gguf_dir/run-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
say "llama.cpp: llama-bench -m $gguf -t $threads -p $prompt -n $gen -r $repeat"
"$bench_bin" -m "$gguf" -t "$threads" -p "$prompt" -n "$gen" -r "$repeat" -o json > "$out/llama.json"
q35_jsons=()
IFS=, read -r -a backends <<< "${Q35_BACKEND:-fast,fast-bf16}"
for b in "${backends[@]}"; do
    say "q35: q35 bench $model --backend $b --threads $threads --prompt $prompt --gen $gen --repeat $repeat --json"
    "$q35" bench "$model" --backend "$b" --threads "$threads" --prompt "$prompt" --gen "$gen" --repeat "$repeat" \
        --json > "$out/q35-$b.json"
    q35_jsons+=("$out/q35-$b.json")
done

"$venv/bin/python" - "$prompt" "$gen" "$out/llama.json" "${q35_jsons[@]}" <<'EOF'
import json, statistics, sys
P, G = int(sys.argv[1]), int(sys.argv[2])
llama = json.load(open(sys.argv[3]))
runs = [json.load(open(f)) for f in sys.argv[4:]]

def llama_row(pp, tg):
    for r in llama:
        if r.get("n_prompt") == pp and r.get("n_gen") == tg:
            s = r.get("samples_ts") or [r["avg_ts"]]
            return statistics.median(s), min(s), max(s), r
    return None

pp, tg = llama_row(P, 0), llama_row(0, G)
info = (pp or tg)[3]
print(f"machine: {runs[0].get('cpu')}, {runs[0].get('threads')} threads")
print(f"llama.cpp: build {info.get('build_commit')} ({info.get('build_number')}), {info.get('model_type')}, "
      f"backends {info.get('backends')}, {info.get('cpu_info')}")
print()
print(f"{'test':<8} {'who':<34} {'t/s (min..max)':>24} {'/ llama.cpp':>12}")
def cell(m, lo, hi):
    return f"{m:8.2f} ({lo:.2f}..{hi:.2f})"
for name, l, key in ((f"pp{P}", pp, "prefill"), (f"tg{G}", tg, "decode")):
    print(f"{name:<8} {'llama.cpp':<34} {cell(*l[:3]) if l else '-':>24}")
    for q35 in runs:
        q = q35.get(f"{key}_tok_s")
        who = f"q35 {q35.get('backend')} ({q35.get('kernels')})"
        qc = cell(q, q35[f"{key}_tok_s_min"], q35[f"{key}_tok_s_max"]) if q else "-"
        ratio = f"{q / l[0]:.3f}" if q and l else "-"
        print(f"{'':<8} {who:<34} {qc:>24} {ratio:>12}")
for q35 in runs:
    lim = q35.get("limits") or {}
    if not lim:
        continue
    print()
    print(f"q35 {q35.get('backend')}: limits (same threads): read {lim['read_bw_bytes_s'] / 1e9:.2f} GB/s, "
          f"FP32 FMA {lim['fma_fp32_gflop_s']:.1f} GFLOP/s, BF16 dot {lim['bf16_dot_gflop_s']:.1f} GFLOP/s")
    bpt = q35.get("decode_bytes_per_token")
    if bpt and tg:
        print(f"  decode bandwidth: llama.cpp {bpt * tg[0] / 1e9:.2f} GB/s "
              f"({bpt * tg[0] / lim['read_bw_bytes_s']:.1%} of read), q35 {(q35.get('decode_bw_bytes_s') or 0) / 1e9:.2f} GB/s "
              f"({(q35.get('decode_bw_fraction') or 0):.1%}) (q35's bytes/token for both)")
    fl = q35.get("prefill_flop")
    if fl and pp:
        used = lim.get("prefill_peak_used")
        peak = lim["bf16_dot_gflop_s"] if used == "bf16_dot" else lim["fma_fp32_gflop_s"]
        print(f"  prefill: llama.cpp {fl / P * pp[0] / 1e9:.1f} GFLOP/s, q35 {(q35.get('prefill_gflop_s') or 0):.1f} GFLOP/s "
              f"= {(q35.get('prefill_peak_fraction') or 0):.1%} of the {used} peak {peak:.1f} GFLOP/s (q35's flop count for both)")
print(f"\nraw results: {' '.join(sys.argv[3:])}")
EOF
