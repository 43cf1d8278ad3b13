#!/bin/sh
# scripts/fuzz.sh SECONDS NAME...: runs build/fuzz/fuzz_NAME for SECONDS
# each, starting from tests/fuzz/corpus/NAME (the seeds, kept in git) and
# build/fuzz/corpus/NAME (what earlier runs found). Stops at the first
# finding; prints executions per second and coverage per harness.
set -eu
secs=$1
shift
for name in "$@"; do
    work=build/fuzz/corpus/$name
    mkdir -p "$work"
    log=build/fuzz/$name.log
    echo "fuzz_$name: $secs s"
    if ! build/fuzz/fuzz_"$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix=build/fuzz/"$name"- "$work" tests/fuzz/corpus/"$name" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz_$name: FINDING (input saved as build/fuzz/$name-*)" >&2
        exit 1
    fi
    # The last status line: runs, coverage (cov) and features (ft), exec/s.
    grep -E '^#[0-9]+' "$log" | tail -n 1
    grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec' "$log" | tr '\n' ' '
    echo
done
