#!/bin/bash
# make bench-proc: how long each way of ending connections takes on the same
# set, in the same run.
#
# In private network, PID and mount namespaces (so /proc shows only this
# benchmark's processes): HOLDERS conn_holder processes hold KILL
# connections on ports 7001.. (both ends each); OTHERS other processes run
# beside them (one conn_holder with NOISE connections, the rest sleeping).
# Each measured command gets a fresh set and must end exactly the set:
#   sock_destroy  build/tcp_closer            (SOCK_DESTROY, batched)
#   use_proc      build/tcp_closer --use_proc (one /proc walk, then a reset per socket)
#   nosd          build/nosd/tcp_closer       (the NO_SOCK_DESTROY=1 binary)
#   arm           build/tcp_closer --arm-user-timeout --arm-keepalive
#                 (one /proc walk, then the options set on each socket
#                 through a duplicate: nothing is ended, every one armed)
# Each is run RUNS times; the table gives the median and the range.
set -euo pipefail
BIN=${BIN:-build/tcp_closer}
NOSD_BIN=${NOSD_BIN:-build/nosd/tcp_closer}
HOLDER=${HOLDER:-build/conn_holder}
KILL=${KILL:-1000}
HOLDERS=${HOLDERS:-20}
OTHERS=${OTHERS:-200}
NOISE=${NOISE:-1000}
RUNS=${RUNS:-3}

if [ "${TCP_CLOSER_BENCH_NS:-}" != 1 ]; then
    command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
    exec env TCP_CLOSER_BENCH_NS=1 unshare -n -p -f -m --mount-proc bash "$0" "$@"
fi
ip link set lo up
ulimit -n 20000

now_ns() { date +%s%N; }
per=$(( KILL / HOLDERS ))
kill_hi=$(( 7000 + HOLDERS ))

start_holder() {  # $1 = port, $2 = connections; prints the pid
    local out
    out=$(mktemp)
    "$HOLDER" -p "$1" -n "$2" >"$out" &
    local pid=$!
    while ! grep -q ready "$out" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { echo "conn_holder on port $1 failed" >&2; exit 1; }
        sleep 0.05
    done
    rm -f "$out"
    echo "$pid"
}
start_set() {
    set_pids=""
    for i in $(seq 1 "$HOLDERS"); do set_pids="$set_pids $(start_holder $(( 7000 + i )) "$per")"; done
}
stop_pids() {
    kill "$@" 2>/dev/null || true
    for pid in "$@"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done; done
}
established() {  # $1 first port, $2 last port
    ss -Htn state established "( sport >= :$1 and sport <= :$2 )" | wc -l
}

# The other processes: one with NOISE connections (2 fds each), the rest idle.
other_pids="$(start_holder 9001 "$NOISE")"
for _ in $(seq 2 "$OTHERS"); do sleep 3600 & other_pids="$other_pids $!"; done
nproc_seen=$(ls -d /proc/[0-9]* | wc -l)

echo "kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "$KILL connections to end (local ports 7001-$kill_hi) held by $HOLDERS processes;" \
     "$OTHERS other processes ($NOISE noise connections); $nproc_seen processes in /proc"

declare -A results
run_case() {  # $1 = name, rest = command
    local name=$1; shift
    local log stats
    log=$(mktemp)
    stats=$(mktemp)
    start_set
    local before
    before=$(established 7001 "$kill_hi")
    [ "$before" -eq "$KILL" ] || { echo "set not ready: $before established" >&2; exit 1; }
    local t0 t1
    t0=$(now_ns)
    /usr/bin/time -f "%U %S %M" -o "$stats" "$@" -s "7001-$kill_hi" --disable_syslog -f "$log"
    t1=$(now_ns)
    local left noise want=0
    left=$(established 7001 "$kill_hi")
    noise=$(established 9001 9001)
    local summary
    summary=$(grep 'poll:' "$log" | sed 's/.*poll: //')
    if [ "$name" = arm ]; then
        want=$KILL
        case " $summary " in *" armed=$KILL "*) ;; *) echo "arm: not all armed: $summary" >&2; exit 1 ;; esac
    fi
    if [ "$left" -ne "$want" ] || [ "$noise" -ne "$NOISE" ]; then
        echo "$name: wrong set ended (left $left, noise $noise of $NOISE): $summary" >&2
        exit 1
    fi
    results[$name]="${results[$name]:-} $(( (t1 - t0) / 1000000 )):$(cat "$stats" | tr ' ' ':')"
    last_summary[$name]=$summary
    rm -f "$log" "$stats"
    stop_pids $set_pids
}
declare -A last_summary

for _ in $(seq 1 "$RUNS"); do
    run_case sock_destroy "$BIN"
    run_case use_proc "$BIN" --use_proc
    [ -x "$NOSD_BIN" ] && run_case nosd "$NOSD_BIN"
    run_case arm "$BIN" --arm-user-timeout 60000 --arm-keepalive 60000,10000,3
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)] " (" a[1] "-" a[NR] ")"}'; }
printf '\n%-13s %-20s %-14s %-14s %-10s\n' "way" "wall ms" "user s" "system s" "peak RSS KB"
for name in sock_destroy use_proc nosd arm; do
    [ -n "${results[$name]:-}" ] || continue
    col() { for r in ${results[$name]}; do echo "$r" | cut -d: -f"$1"; done | tr '\n' ' ' | median; }
    printf '%-13s %-20s %-14s %-14s %-10s\n' "$name" "$(col 1)" "$(col 2)" "$(col 3)" "$(col 4)"
done
wall_median() { for r in ${results[$1]}; do echo "$r" | cut -d: -f1; done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
if [ -n "${results[arm]:-}" ]; then
    # The issue's target: arming takes at most 1.5 times the /proc reset.
    awk -v a="$(wall_median arm)" -v u="$(wall_median use_proc)" \
        'BEGIN { printf "arm / use_proc, wall medians: %.2f (target: at most 1.50)\n", a / u }'
fi
echo
for name in sock_destroy use_proc nosd arm; do
    [ -n "${last_summary[$name]:-}" ] && echo "$name: ${last_summary[$name]}"
done
echo "binaries: $BIN $(stat -c %s "$BIN") bytes; $NOSD_BIN $(stat -c %s "$NOSD_BIN" 2>/dev/null || echo '-') bytes"
stop_pids $other_pids
