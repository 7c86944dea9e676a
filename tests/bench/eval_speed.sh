#!/usr/bin/env bash
# eval_speed.sh - how fast q35 eval scores 5-shot MMLU items, for `make bench`.
#
#   tests/bench/eval_speed.sh [Q35_BIN] [MODEL_DIR] [THREADS]
#
# Runs eval/configs/mmlu.yaml (lm-eval's 5-shot MMLU, loglikelihood) on the shipped sample, 3
# items of each of 4 subjects, and prints items/s and the projected time of the full benchmark
# (14,042 test items in 57 subjects): each subject's first item also computes the subject's
# description and shots once (the prefix snapshot), the others only their own question, so
# full time ~ 57 x (first-item time) + (14,042 - 57) x (later-item time). Figures only.
set -euo pipefail
q35=${1:-./q35}
model=${2:-build/models/q35-0.8b}
threads=${3:-$(nproc)}
[ -f "$model/config.json" ] || { echo "== eval speed: skipped, no checkpoint at $model"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$q35" eval eval/configs/mmlu.yaml --model "$model" --threads "$threads" --limit 3 --backend "${BACKEND:-fast}" \
    --set dataset.subjects=abstract_algebra,anatomy,high_school_us_history,world_religions --out "$out/run" 2> /dev/null
awk -v threads="$threads" -v model="$model" -v backend="${BACKEND:-fast}" '
    { s = $0; sub(/.*"seconds":/, "", s); sec = s + 0
      r = $0; sub(/.*"prefix_tokens_reused":/, "", r); r = r + 0
      p = $0; sub(/.*"prompt_tokens":/, "", p); p = p + 0
      subj = $0; sub(/.*"subject":"/, "", subj); sub(/".*/, "", subj)
      if (!(subj in seen)) { seen[subj] = 1; first += sec; nf++ } else { later += sec; nl++; reused += r; toks += p } }
    END {
      if (nf == 0 || nl == 0) { print "== eval speed: no items logged"; exit }
      f = first / nf; l = later / nl; full = 57 * f + (14042 - 57) * l
      printf "== eval: 5-shot MMLU items on %s, %d thread(s), backend %s\n", model, threads, backend
      printf "   first item of a subject %.2f s (its prefix computed once); later items %.3f s each = %.2f items/s (%.0f of %.0f prompt tokens reused)\n", f, l, 1 / l, reused / nl, toks / nl
      printf "   projected full 5-shot MMLU (14,042 items): %.1f hours on this machine\n", full / 3600
      printf "   lm-eval 0.4.x HF backend, float32, as measured beside this harness on a 2-core machine: ~11 s per 5-shot item (~43 hours): ratio %.0fx\n", 11 / l
    }' "$out/run/samples.jsonl"
