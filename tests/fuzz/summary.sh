#!/bin/sh
# summary.sh FUZZ_DIR TARGET... - a line per target from the logs run.sh wrote: executions,
# executions per second, corpus size, crash artifacts this run (and in all, in FUZZ_DIR/crashes/),
# and what the run ended with. Exits 1 when any run left a crash, timeout, OOM or leak.
set -u
dir=$1
shift
fail=0
printf '%-12s %10s %8s %7s %11s  %s\n' target runs exec/s corpus crashes status
for t in "$@"; do
    log=$dir/logs/$t.log
    if [ ! -f "$log" ]; then
        printf '%-12s %10s %8s %7s %11s  %s\n' "$t" - - - - "not run"
        continue
    fi
    stat() { sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$log" | tail -1; }
    runs=$(stat number_of_executed_units)
    eps=$(stat average_exec_per_sec)
    corpus=$(ls "$dir/corpus/$t" 2>/dev/null | wc -l)
    new=$(grep -c 'Test unit written to' "$log")
    # -fork=N: no final stats; the last status line "#RUNS: cov: .. time: Ts .. oom/timeout/crash: a/b/c"
    last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1)
    if [ -z "$runs" ] && [ -n "$last" ]; then
        runs=$(echo "$last" | sed 's/^#\([0-9]*\):.*/\1/')
        secs=$(echo "$last" | sed -n 's/.* time: \([0-9]*\)s.*/\1/p')
        [ -n "$secs" ] && [ "$secs" -gt 0 ] && eps=$((runs / secs))
        new=$(echo "$last" | sed -n 's|.*oom/timeout/crash: \([0-9]*\)/\([0-9]*\)/\([0-9]*\).*|\1 \2 \3|p' | awk '{print $1 + $2 + $3}')
        new=${new:-0}
    fi
    all=$(ls "$dir/crashes/$t" 2>/dev/null | wc -l)
    rc=$(cat "$dir/logs/$t.rc" 2>/dev/null || echo '?')
    if [ "$new" -gt 0 ]; then
        what=$(grep -m1 -o -E 'HARNESS INVARIANT failed: .*|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer|UndefinedBehaviorSanitizer): [a-zA-Z0-9_ -]*|runtime error: .*|ALARM: .*' "$log" | cut -c1-90)
        where=$(grep -m1 -o -E '^SUMMARY: [A-Za-z]+Sanitizer: .*' "$log" | sed 's/^SUMMARY: //' | cut -c1-80)
        [ -n "$where" ] && what="$what; $where"
        art=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | tail -1)
        [ -n "$art" ] || art="$dir/crashes/$t/"
        status="CRASH ($what): $art"
        fail=1
    elif [ "$rc" != 0 ]; then
        status="exit $rc (see $log)"
        fail=1
    else
        status=ok
    fi
    printf '%-12s %10s %8s %7s %5s/%-5s  %s\n' "$t" "${runs:--}" "${eps:--}" "$corpus" "$new" "$all" "$status"
done
[ $fail = 0 ] || echo "make fuzz: a run crashed; reproduce with FUZZ_DIR/fuzz_TARGET ARTIFACT (tests/fuzz/README.md)"
exit $fail
