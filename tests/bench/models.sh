#!/usr/bin/env bash
# models.sh - `q35 bench` on random-weight checkpoints of the real sizes, for `make bench`.
#
#   tests/bench/models.sh [Q35_BIN] [MODELS_DIR]
#
# For each preset in $BENCH_PRESETS (default "0.8b 2b 4b"): makes the checkpoint with
# `q35 mkmodel --seed 1` in MODELS_DIR (default build/models; kept between runs, out of git) when
# it is missing and the disk has room for it (a preset without room is skipped, saying so), then
# runs `q35 bench` on 1 thread and on every core ($BENCH_THREADS, default nproc), and prints
# prefill and decode tokens/s, the fractions of this machine's limits measured in the same run, the
# thread scaling and peak memory. The JSON of each run is kept in MODELS_DIR/bench-PRESET-tN.json.
# The 0.8B run also times a 1024x768 image through the vision tower. Figures only: never pass/fail.
#
# Environment: BENCH_PRESETS, BENCH_THREADS, PROMPT [512], GEN [128], REPEAT [3; 2 for 2b/4b].
set -euo pipefail

q35=${1:-./q35}
models=${2:-build/models}
presets=${BENCH_PRESETS:-0.8b 2b 4b}
nthreads=${BENCH_THREADS:-$(nproc)}
prompt=${PROMPT:-512}
gen=${GEN:-128}
mkdir -p "$models"

# Checkpoint bytes of each preset (bf16), with 10% of room to spare.
need_bytes() {
    case "$1" in
        0.8b) echo 2000000000 ;;
        2b) echo 5000000000 ;;
        4b) echo 10000000000 ;;
        *) echo 1000000000 ;;
    esac
}

# Field $2 of the JSON object in file $1 (numbers and strings; no nesting needed).
field() { sed -n "s/.*\"$2\":[[:space:]]*\"\{0,1\}\([^,\"}]*\)\"\{0,1\}.*/\1/p" "$1" | head -n 1; }

for p in $presets; do
    dir=$models/q35-$p
    if [ ! -f "$dir/config.json" ]; then
        free=$(df -B1 --output=avail "$models" | tail -n 1 | tr -d ' ')
        need=$(need_bytes "$p")
        if [ "$free" -lt "$need" ]; then
            echo "== $p: skipped, $((need / 1000000000)) GB needed for its checkpoint, $((free / 1000000000)) GB free in $models"
            continue
        fi
        echo "== $p: making the random-weight checkpoint in $dir (once)"
        "$q35" mkmodel --preset "$p" --seed 1 --out "$dir" > /dev/null
    fi
    repeat=${REPEAT:-3}
    [ "$p" = 0.8b ] || repeat=${REPEAT:-2}
    image=()
    [ "$p" = 0.8b ] && image=(--image 1024x768)
    runs=(1)
    [ "$nthreads" -gt 1 ] && runs+=("$nthreads")
    for t in "${runs[@]}"; do
        out=$models/bench-$p-t$t.json
        echo "== $p, $t thread(s): q35 bench $dir --threads $t --prompt $prompt --gen $gen --repeat $repeat ${image[*]}"
        "$q35" bench "$dir" --threads "$t" --prompt "$prompt" --gen "$gen" --repeat "$repeat" "${image[@]}" --json > "$out"
        printf '   prefill %8.1f tok/s  %6.1f GFLOP/s  %5.1f%% of peak | decode %6.2f tok/s  %5.1f%% of read bandwidth | peak RSS %.2f GB | kernels %s\n' \
            "$(field "$out" prefill_tok_s)" "$(field "$out" prefill_gflop_s)" \
            "$(awk -v f="$(field "$out" prefill_peak_fraction)" 'BEGIN { print 100 * f }')" \
            "$(field "$out" decode_tok_s)" \
            "$(awk -v f="$(field "$out" decode_bw_fraction)" 'BEGIN { print 100 * f }')" \
            "$(awk -v b="$(field "$out" peak_rss_bytes)" 'BEGIN { print b / 1e9 }')" "$(field "$out" kernels)"
        printf '   generation (decode + sampler, preset instruct) %6.2f tok/s: the sampler takes %.2f%% of each step\n' \
            "$(field "$out" decode_sampled_tok_s)" \
            "$(awk -v f="$(field "$out" sampler_fraction)" 'BEGIN { print 100 * f }')"
    done
    # the opt-in backend at llama.cpp's precision, every core, prefill only
    out=$models/bench-$p-bf16.json
    echo "== $p, $nthreads thread(s), fast-bf16: q35 bench $dir --backend fast-bf16 --threads $nthreads --prompt $prompt --gen 0 --repeat $repeat"
    "$q35" bench "$dir" --backend fast-bf16 --threads "$nthreads" --prompt "$prompt" --gen 0 --repeat "$repeat" --json > "$out"
    printf '   prefill %8.1f tok/s  %6.1f GFLOP/s  %5.1f%% of peak | kernels %s\n' \
        "$(field "$out" prefill_tok_s)" "$(field "$out" prefill_gflop_s)" \
        "$(awk -v f="$(field "$out" prefill_peak_fraction)" 'BEGIN { print 100 * f }')" "$(field "$out" kernels)"
    if [ "$nthreads" -gt 1 ]; then
        a=$models/bench-$p-t1.json b=$models/bench-$p-t$nthreads.json
        awk -v p1="$(field "$a" prefill_tok_s)" -v pn="$(field "$b" prefill_tok_s)" \
            -v d1="$(field "$a" decode_tok_s)" -v dn="$(field "$b" decode_tok_s)" -v n="$nthreads" -v m="$p" \
            'BEGIN { printf "   %s thread scaling 1 -> %d: prefill x%.2f, decode x%.2f\n", m, n, pn / p1, dn / d1 }'
    fi
done
