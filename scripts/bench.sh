#!/bin/bash
# make bench: tcp_closer against `ss -K` on the same set in the same run.
#
# In a private network namespace: KILL connections (default 10,000) on the
# ports to be killed among TOTAL (default 40,000) established loopback
# connections, held by several conn_holder processes (the per-process
# descriptor limit is 20,000 and each connection holds two). ss -K kills
# the set first; the set is rebuilt; then tcp_closer kills it. Both are
# checked to have killed exactly the set.
set -euo pipefail
BIN=${BIN:-build/tcp_closer}
HOLDER=${HOLDER:-build/conn_holder}
TOTAL=${TOTAL:-40000}
KILL=${KILL:-10000}
PER=${PER:-5000}   # connections per holder process

if [ "${TCP_CLOSER_BENCH_NETNS:-}" != 1 ]; then
    exec env TCP_CLOSER_BENCH_NETNS=1 unshare -n bash "$0" "$@"
fi
ip link set lo up
sysctl -q -w net.ipv4.ip_local_port_range="10000 65000"
ulimit -n 20000

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Kill-set holders listen on 7001.., the others on 8001..
start_holders() {  # $1 = first port, $2 = number of connections; prints pids
    local port=$1 left=$2 pids="" out
    while [ "$left" -gt 0 ]; do
        local n=$(( left < PER ? left : PER ))
        out=$(mktemp)
        "$HOLDER" -p "$port" -n "$n" >"$out" &
        pids="$pids $!"
        while ! grep -q ready "$out" 2>/dev/null; do
            kill -0 $! 2>/dev/null || { echo "conn_holder on port $port failed" >&2; exit 1; }
            sleep 0.1
        done
        rm -f "$out"
        left=$(( left - n ))
        port=$(( port + 1 ))
    done
    echo "$pids"
}
stop_holders() {  # waits until they are gone, so their ports are free again
    kill $@ 2>/dev/null || true
    for pid in $@; do while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; done
}
count_established() {  # $1 = first port, $2 = last port
    ss -Htn state established "( sport >= :$1 and sport <= :$2 )" | wc -l
}

nkill_ports=$(( (KILL + PER - 1) / PER ))
kill_lo=7001
kill_hi=$(( 7000 + nkill_ports ))
echo "setting up $TOTAL connections ($KILL on local ports $kill_lo-$kill_hi to be killed)..."
t0=$(now_ms)
other_pids=$(start_holders 8001 $(( TOTAL - KILL )))
kill_pids=$(start_holders $kill_lo "$KILL")
echo "  ready in $(( $(now_ms) - t0 )) ms; established sockets in the namespace: $(ss -Htn state established | wc -l)"

filter="( sport >= :$kill_lo and sport <= :$kill_hi )"
t0=$(now_ms)
ss -K -tn state established "$filter" >/dev/null
t1=$(now_ms)
ss_ms=$(( t1 - t0 ))
left=$(count_established $kill_lo $kill_hi)
others=$(count_established 8001 9000)
echo "ss -K:       ${ss_ms} ms (left on kill ports: $left, others still established: $others)"

stop_holders $kill_pids
kill_pids=$(start_holders $kill_lo "$KILL")

log=$(mktemp)
t0=$(now_ms)
"$BIN" -s "$kill_lo-$kill_hi" --disable_syslog -f "$log"
t1=$(now_ms)
tc_ms=$(( t1 - t0 ))
left=$(count_established $kill_lo $kill_hi)
others=$(count_established 8001 9000)
echo "tcp_closer:  ${tc_ms} ms (left on kill ports: $left, others still established: $others)"
grep 'poll:' "$log" | sed 's/^/  /'
rm -f "$log"
if [ "$tc_ms" -gt 0 ]; then
    echo "speed-up: $(awk -v a="$ss_ms" -v b="$tc_ms" 'BEGIN { printf "%.1fx", a / b }')"
fi
echo "binary: $BIN $(stat -c %s "$BIN") bytes"
stop_holders $kill_pids $other_pids
