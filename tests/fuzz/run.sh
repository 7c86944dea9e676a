#!/bin/sh
# run.sh FUZZ_DIR TARGET SECONDS [libFuzzer flags...] - one libFuzzer run of FUZZ_DIR/fuzz_TARGET
# (built by make fuzz) from the repository root: the working corpus FUZZ_DIR/corpus/TARGET (new
# inputs are written there) plus the seeds tests/fuzz/seeds/TARGET, crashes into
# FUZZ_DIR/crashes/TARGET/, the log into FUZZ_DIR/logs/TARGET.log (its exit status beside it, .rc).
# Always exits 0: summary.sh reads the logs and says what happened.
set -u
dir=$1 t=$2 secs=$3
shift 3
case $t in
safetensors | st_index | tokenizer) maxlen=262144 ;;
image) maxlen=131072 ;;
*) maxlen=65536 ;;
esac
mkdir -p "$dir/corpus/$t" "$dir/crashes/$t" "$dir/logs" "$dir/tmp"

[ -f "tests/fuzz/dicts/$t.dict" ] && set -- "-dict=tests/fuzz/dicts/$t.dict" "$@"
echo "== fuzz $t: ${secs} s (log: $dir/logs/$t.log)"
tmp=$(cd "$dir/tmp" && pwd)
TMPDIR=$tmp UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$dir/fuzz_$t" "$dir/corpus/$t" "tests/fuzz/seeds/$t" \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=20 -max_len="$maxlen" \
    -artifact_prefix="$dir/crashes/$t/" -print_final_stats=1 "$@" >"$dir/logs/$t.log" 2>&1
echo $? >"$dir/logs/$t.rc"
exit 0
