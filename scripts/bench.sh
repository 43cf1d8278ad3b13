#!/bin/bash
# make bench: tcp_closer next to `ss` and a floor (build/floor: one filtered
# dump, then SOCK_DESTROY in batches, printing nothing), on the same sets in
# the same run, in a private network (and mount) namespace on loopback.
#
# KILL matching sockets (server ends on local ports 7001..) among
# 2 x (KILL + OTHER) established sockets, held by conn_holder processes of
# PER connections each (the open-file limit is 20,000 per process and each
# connection holds two). Every measured command gets a fresh kill set and
# must end exactly it. Scenarios:
#   mass      kill the set: ss -K, tcp_closer -f LOG, the floor, and the
#             floor with its destroys split over two threads and sockets
#   syslog    the same with syslog on (a receiver bound at /dev/log)
#   idle      half the set receives data every 100 ms; tcp_closer -t 1000,
#             and the same with -n (the dump and the choice alone)
#   quiet     nothing matches (one port, a range, the range with two
#             exclusions), tcp_closer -i 0.2 for
#             QUIET_SECS: CPU per poll, beside `ss -tn` listing the same empty
#             selection every 0.2 s
#   list      --dry-run of the set to /dev/null beside `ss -tn` of it
#   udp       UDP_KILL connected UDP sockets (to ports 7501..) among
#             UDP_OTHER more (to ports 8501..), the unconnected servers and
#             all the TCP sockets above: ss -K -u and tcp_closer -u, each
#             checked to end exactly the set (the servers stay)
#   vip       VIP_KILL connections to a virtual IP (192.0.2.100, ports
#             7601..) among VIP_OTHER to 192.0.2.101, in a namespace of
#             their own whose clients live in another, over a veth pair (the
#             other hosts). A `--src-removed --watch` daemon (no -i) idles
#             for VIP_IDLE_SECS (its CPU and wake-ups are counted), then
#             192.0.2.100 is removed: the time from the removal to the log
#             line of the poll that ended them; the clients' ends and the
#             other connections must stay. VIP_ARGS: more options for the
#             daemon (--removed-grace 0: the time without the grace)
#   rules     --rules: among all 2 x (KILL + OTHER) sockets, nothing
#             matching, a daemon (-i 0.2) with one rule, one with ten rules
#             of different kinds (ports, a range, addresses, an owner, an
#             exclusion, idle and stalled thresholds), and each of the ten
#             alone: CPU per poll over RULES_SECS each (one rule, a range
#             and the ten: RUNS times in turn, medians); then the mass kill
#             through a rules file of the kill rule alone, and through the
#             same rule last of ten
#   netns     NETNS_N namespaces of their own, NETNS_CONNS connections in
#             each, under an idle `--all-netns -s 9999 -i 0.2` daemon (in
#             private PID and mount namespaces: it finds only the named
#             namespaces and its own) for NETNS_SECS: CPU per poll (polls
#             counted by its --metrics file), beside one
#             `ip netns exec NS ss -tn` per namespace in the same run; once
#             with the namespaces' sockets in the machine's one table, once
#             with a table each (NETNS_EHASH: tcp_child_ehash_entries values)
# Medians of RUNS runs (quiet: one run per variant, averaged per poll).
set -euo pipefail
BIN=${BIN:-build/tcp_closer}
HOLDER=${HOLDER:-build/conn_holder}
FLOOR=${FLOOR:-build/floor}
SINK=${SINK:-build/dgram_sink}
KILL=${KILL:-40000}
OTHER=${OTHER:-40000}
PER=${PER:-8000}
RUNS=${RUNS:-3}
QUIET_SECS=${QUIET_SECS:-30}
UDP_KILL=${UDP_KILL:-20000}
UDP_OTHER=${UDP_OTHER:-20000}
VIP_KILL=${VIP_KILL:-10000}
VIP_OTHER=${VIP_OTHER:-100000}
VIP_IDLE_SECS=${VIP_IDLE_SECS:-60}
NETNS_N=${NETNS_N:-100}
NETNS_CONNS=${NETNS_CONNS:-200}
NETNS_SECS=${NETNS_SECS:-30}
NETNS_SS_ROUNDS=${NETNS_SS_ROUNDS:-5}
NETNS_EHASH=${NETNS_EHASH:-0 1024}
RULES_SECS=${RULES_SECS:-10}
SCENARIOS=${SCENARIOS:-mass syslog idle list quiet rules udp vip netns}
want() { case " $SCENARIOS " in *" $1 "*) return 0 ;; esac; return 1; }

if [ "${TCP_CLOSER_BENCH_NETNS:-}" != 1 ]; then
    command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
    exec env TCP_CLOSER_BENCH_NETNS=1 unshare -n -m bash "$0" "$@"
fi
ip link set lo up
sysctl -q -w net.ipv4.ip_local_port_range="10000 65000"
ulimit -n 20000
work=$(mktemp -d)
# Holders are started in command substitutions (not jobs of this shell):
# their pids go to a file, so that any exit stops them all.
trap 'kill $(jobs -p) $(cat "$work/pids" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT

now_ns() { date +%s%N; }
median() { tr ' ' '\n' | { grep -v '^$' || true; } | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
start_holders() {  # FIRST_PORT COUNT [BUSY] [-u]: prints pids; BUSY of each holder's connections get data every 100 ms; -u: connected UDP sockets instead; $HOLDER_WRAP: a command to run the holders under, $HOLDER_ARGS: more of their options
    local port=$1 left=$2 busy_frac=${3:-0} udp=${4:-} pids="" out
    while [ "$left" -gt 0 ]; do
        local n=$(( left < PER ? left : PER ))
        local b=$(( n * busy_frac / 100 ))
        out="$work/ready.$port"
        rm -f "$out"  # a file left from the last set would say "ready" too early
        if [ -n "$udp" ]; then
            "$HOLDER" -u -p "$port" -n "$n" >"$out" &
        else
            ${HOLDER_WRAP:-} "$HOLDER" -p "$port" -n $(( n - b )) -b "$b" ${HOLDER_ARGS:-} >"$out" &
        fi
        pids="$pids $!"
        echo $! >>"$work/pids"
        until grep -q ready "$out" 2>/dev/null; do
            kill -0 $! 2>/dev/null || { echo "conn_holder on port $port failed" >&2; exit 1; }
            sleep 0.05
        done
        left=$(( left - n ))
        port=$(( port + 1 ))
    done
    echo "$pids"
}
stop_holders() {
    kill "$@" 2>/dev/null || true
    for pid in "$@"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done; done
}
established() {  # FIRST LAST local port
    ss -Htn state established "( sport >= :$1 and sport <= :$2 )" | wc -l
}

udp_count() {  # STATE FIRST LAST: UDP sockets in that state (established: connected to; unconn: bound to) the ports
    if [ "$1" = established ]; then
        ss -Hun state established "( dport >= :$2 and dport <= :$3 )" | wc -l
    else
        ss -Hun state closed "( sport >= :$2 and sport <= :$3 )" | wc -l
    fi
}

nports=$(( (KILL + PER - 1) / PER ))
klo=7001
khi=$(( 7000 + nports ))
other_pids=$(start_holders 8001 "$OTHER")
echo "kernel $(uname -r); CPU$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); $(nproc) cores"
echo "$KILL matching sockets (local ports $klo-$khi) among $(( 2 * (KILL + OTHER) )) established sockets; medians of $RUNS runs"

declare -A R  # "tool|scenario" -> list of "wall user sys rss"
record() {  # TOOL SCENARIO WALL_S: reads $work/time
    R["$1|$2"]="${R["$1|$2"]:-} $3:$(tr ' ' ':' <"$work/time")"
}
# run_kill TOOL SCENARIO WANT_LEFT CMD...: a fresh set, the command timed, the result checked.
run_kill() {
    local tool=$1 scenario=$2 want_left=$3 busy=${BUSY:-0}
    shift 3
    local pids
    pids=$(start_holders $klo "$KILL" "$busy")
    [ "$busy" = 0 ] || sleep 1.5  # idle ones must be idle for more than -t 1000
    local others_before t0 t1
    others_before=$(established 8001 8999)
    t0=$(now_ns)
    /usr/bin/time -f "%U %S %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    t1=$(now_ns)
    local left others
    left=$(established $klo $khi)
    others=$(established 8001 8999)
    if [ "$others" != "$others_before" ]; then
        echo "$tool/$scenario: killed outside the set: others $others_before -> $others" >&2
        exit 1
    fi
    if [ "$left" != "$want_left" ]; then
        # ss -K destroys while it dumps, which can make the kernel skip
        # sockets: say so. Ours and the floor must be exact.
        if [ "$tool" = ss ]; then
            echo "note: ss -K left $left of the set alive" >&2
        else
            echo "$tool/$scenario: wrong set ended: $left left on the kill ports (want $want_left)" >&2
            exit 1
        fi
    fi
    record "$tool" "$scenario" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
    stop_holders $pids
}

filter="( sport >= :$klo and sport <= :$khi )"
# --rules: ten rules that match none of the sockets here (the clients'
# ports are 10000-65000), then each alone, and the kill rule last of ten.
ten_rules=("ports: -s 9999" "range: -s 9990-9998" "dst: --dst 192.0.2.0/24" "src: -4 -6 --src 2001:db8::1"
    "owner: --uid 4242 -s 9000-9100" "exclusion: -d 9999 --exclude-sport 22" "idle: -s 9800 -t 60000"
    "stalled: -d 9801 --stalled 30000" "both: -4 -6 -s 9700-9710" "state: -s 9600 --state close-wait")
printf '%s\n' "${ten_rules[@]}" >"$work/rules10"
for i in "${!ten_rules[@]}"; do printf '%s\n' "${ten_rules[$i]}" >"$work/rules1.$i"; done
printf 'kill: -s %s-%s\n' $klo $khi >"$work/rules-kill1"
{ printf '%s\n' "${ten_rules[@]:0:9}"; printf 'kill: -s %s-%s\n' $klo $khi; } >"$work/rules-kill10"
# A syslog receiver at /dev/log, in this script's own mount namespace.
"$SINK" "$work/log.sock" &
receiver=$!
until [ -S "$work/log.sock" ]; do sleep 0.05; done
mount -t tmpfs tmpfs /dev  # our mount namespace only: /dev/log -> the receiver
touch /dev/null /dev/log
mount --bind "$work/log.sock" /dev/log

for _ in $(seq 1 "$RUNS"); do
    if want mass; then
        run_kill ss mass 0 ss -K -tn state established "$filter"
        run_kill tcp_closer mass 0 "$BIN" -s "$klo-$khi" --disable_syslog -f "$work/log"
        run_kill floor mass 0 "$FLOOR" $klo $khi
        run_kill floor-2thr mass 0 "$FLOOR" $klo $khi 2
    fi
    if want rules; then
        run_kill tcp_closer rules-1 0 "$BIN" --rules "$work/rules-kill1" --disable_syslog -f "$work/log"
        run_kill tcp_closer rules-10 0 "$BIN" --rules "$work/rules-kill10" --disable_syslog -f "$work/log"
    fi
    want syslog && run_kill tcp_closer syslog 0 "$BIN" -s "$klo-$khi" -f "$work/log"
    want idle && BUSY=50 run_kill tcp_closer idle $(( KILL / 2 )) "$BIN" -s "$klo-$khi" -t 1000 --disable_syslog -f "$work/log"
    # The same dump and choice without ending anything: the dump's share.
    want idle && BUSY=50 run_kill tcp_closer idle-n "$KILL" "$BIN" -n -s "$klo-$khi" -t 1000 --disable_syslog
done
# UDP: a fresh kill set per command, among other UDP sockets and all the TCP ones.
if want udp; then
    echo "udp: $UDP_KILL connected UDP sockets among $(( UDP_KILL + UDP_OTHER )) connected UDP ones, their servers and the $(( 2 * OTHER )) TCP sockets"
    unports=$(( (UDP_KILL + PER - 1) / PER ))
    ulo=7501
    uhi=$(( 7500 + unports ))
    uother_pids=$(start_holders 8501 "$UDP_OTHER" 0 -u)
    uohi=$(( 8500 + (UDP_OTHER + PER - 1) / PER ))
    for _ in $(seq 1 "$RUNS"); do
        for tool in ss tcp_closer; do
            pids=$(start_holders $ulo "$UDP_KILL" 0 -u)
            [ "$(udp_count established $ulo $uhi)" = "$UDP_KILL" ] || { echo "udp: the set is not up" >&2; exit 1; }
            before_u=$(udp_count established 8501 "$uohi")
            before_t=$(established 8001 8999)
            t0=$(now_ns)
            if [ $tool = ss ]; then
                /usr/bin/time -f "%U %S %M" -o "$work/time" ss -K -un state established \
                    "( dport >= :$ulo and dport <= :$uhi )" >/dev/null
            else
                /usr/bin/time -f "%U %S %M" -o "$work/time" "$BIN" -u -d "$ulo-$uhi" --disable_syslog \
                    -f "$work/udplog" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
            fi
            t1=$(now_ns)
            left=$(udp_count established $ulo $uhi)
            servers=$(udp_count unconnected $ulo $uhi)
            if [ "$(udp_count established 8501 "$uohi")" != "$before_u" ] || [ "$(established 8001 8999)" != "$before_t" ]; then
                echo "udp/$tool: ended sockets outside the set" >&2
                exit 1
            fi
            [ "$servers" = "$unports" ] || { echo "udp/$tool: $servers of $unports servers left" >&2; exit 1; }
            if [ "$left" != 0 ]; then
                [ $tool = ss ] || { echo "udp/$tool: $left of the set left" >&2; exit 1; }
                echo "note: ss -K -u left $left of the set" >&2
            fi
            record $tool udp "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
            stop_holders $pids
        done
    done
    grep -q "destroyed=$UDP_KILL " "$work/udplog" || { echo "udp: the log does not count $UDP_KILL destroyed" >&2; exit 1; }
    stop_holders $uother_pids
fi

if want mass; then
    grep -q "destroyed=$KILL " "$work/log" || { echo "the log does not count $KILL destroyed" >&2; exit 1; }
    [ "$(grep -c " destroyed 127" "$work/log")" -ge "$KILL" ] || { echo "not every connection was logged" >&2; exit 1; }
fi

# Listing: the set stays; each lister runs RUNS times. It stays for the
# quiet daemon too, so that one walks all the sockets.
kill_pids=$(start_holders $klo "$KILL")
want list && for _ in $(seq 1 "$RUNS"); do
    for tool in ss tcp_closer; do
        t0=$(now_ns)
        if [ $tool = ss ]; then
            /usr/bin/time -f "%U %S %M" -o "$work/time" ss -tn state established "$filter" >"$work/list"
        else
            /usr/bin/time -f "%U %S %M" -o "$work/time" "$BIN" -n -s "$klo-$khi" --disable_syslog >"$work/list" 2>/dev/null
        fi
        t1=$(now_ns)
        lines=$(grep -c 127.0.0.1 "$work/list" || true)
        [ "$lines" = "$KILL" ] || { echo "$tool listed $lines of $KILL" >&2; exit 1; }
        record $tool list "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
    done
done

# Quiet daemon: nothing matches among all the sockets, one port and a
# range of ten. tcp_closer -i 0.2: CPU per poll from /proc/PID/stat between
# 1 s after the start and QUIET_SECS later. ss polls at the same pace (a
# poll every 0.2 s, so both find the socket table as cold in the CPU's
# caches): CPU of the loop and its ss runs, per run.
declare -A Q
hz=$(getconf CLK_TCK)
cpu_ticks() { read -r -a st <"/proc/$1/stat"; echo $(( st[13] + st[14] )); }
mkfifo "$work/tick"
quiet_ports=("9999" "9990-9999" "9990-9999+2ex")
quiet_args=("-s 9999" "-s 9990-9999" "-s 9990-9999 --exclude-sport 9995 --exclude-dport 22")
quiet_ss=("( sport = :9999 )" "( sport >= :9990 and sport <= :9999 )"
    "( sport >= :9990 and sport <= :9999 ) and not ( sport = :9995 ) and not ( dport = :22 )")
if want quiet; then
    for i in 0 1 2; do
        for variant in "-4" "-4 -6"; do
            "$BIN" $variant ${quiet_args[$i]} -i 0.2 --disable_syslog 2>/dev/null &
            pid=$!
            sleep 1
            c0=$(cpu_ticks "$pid")
            sleep "$QUIET_SECS"
            c1=$(cpu_ticks "$pid")
            kill "$pid"
            wait "$pid" || true
            Q["tcp_closer $variant|$i"]=$(awk -v c="$(( c1 - c0 ))" -v hz="$hz" -v s="$QUIET_SECS" \
                'BEGIN { printf "%.2f", c * 1000 / hz / (s / 0.2) }')
        done
        n=$(( QUIET_SECS * 5 ))
        /usr/bin/time -f "%U %S %M" -o "$work/time" bash -c \
            'exec 3<>"$1"; for _ in $(seq "$2"); do ss -tn state established "$3" >/dev/null; read -r -t 0.2 -u 3 || true; done' \
            _ "$work/tick" "$n" "${quiet_ss[$i]}"
        read -r u s _ <"$work/time"
        Q["ss -tn|$i"]=$(awk -v u="$u" -v s="$s" -v n="$n" 'BEGIN { printf "%.2f", (u + s) * 1000 / n }')
    done
fi

# Rules: CPU per poll of a daemon over RULES_SECS, nothing matching.
declare -A RQ
rules_cpu() {  # ARGS...: ms of CPU per poll
    "$BIN" "$@" -i 0.2 --disable_syslog 2>/dev/null &
    local pid=$!
    sleep 1
    local c0 c1
    c0=$(cpu_ticks "$pid")
    sleep "$RULES_SECS"
    c1=$(cpu_ticks "$pid")
    kill "$pid"
    wait "$pid" || true
    awk -v c="$(( c1 - c0 ))" -v hz="$hz" -v s="$RULES_SECS" 'BEGIN { printf "%.2f", c * 1000 / hz / (s / 0.2) }'
}
if want rules; then
    # One rule and ten in turn, RUNS times each: medians.
    ones="" tens="" ranges=""
    for _ in $(seq 1 "$RUNS"); do
        ones="$ones $(rules_cpu --rules "$work/rules1.0")"
        tens="$tens $(rules_cpu --rules "$work/rules10")"
        ranges="$ranges $(rules_cpu --rules "$work/rules1.1")"
    done
    RQ[one]=$(echo "$ones" | median)
    RQ[ten]=$(echo "$tens" | median)
    RQ[range]=$(echo "$ranges" | median)
    sum=0
    for i in "${!ten_rules[@]}"; do
        RQ[single$i]=$(rules_cpu --rules "$work/rules1.$i")
        sum=$(awk -v a="$sum" -v b="${RQ[single$i]}" 'BEGIN { printf "%.2f", a + b }')
    done
    RQ[sum]=$sum
fi

stop_holders $kill_pids

# A virtual IP goes away under a --watch daemon (no -i: only the event can
# wake it). Two namespaces of their own, joined by a veth pair: the
# servers' (the virtual IP and another address on lo) and the clients',
# standing in for the other hosts. The daemon works in the servers' one
# (--netns). Its idle CPU first, then the removal. The other sets are
# gone by then: the kernel walks the sockets of every namespace in a dump.
if want vip; then
    stop_holders $other_pids
    mount -t tmpfs tmpfs /run  # our mount namespace only: the namespaces' names stay in it
    ip netns add tcvip_srv
    ip netns add tcvip_cli
    ip link add vs0 netns tcvip_srv type veth peer name vc0 netns tcvip_cli
    for ns in tcvip_srv tcvip_cli; do ip -n $ns link set lo up; done
    ip -n tcvip_srv link set vs0 up
    ip -n tcvip_cli link set vc0 up
    ip -n tcvip_srv addr add 10.99.0.1/24 dev vs0
    ip -n tcvip_cli addr add 10.99.0.2/24 dev vc0
    ip -n tcvip_cli route add 192.0.2.0/24 via 10.99.0.1
    ip -n tcvip_srv addr add 192.0.2.101/32 dev lo
    ip netns exec tcvip_cli sysctl -q -w net.ipv4.ip_local_port_range="10000 65000"
    vhi=$(( 7600 + (VIP_KILL + PER - 1) / PER ))
    vother_pids=$(HOLDER_WRAP="ip netns exec tcvip_srv" HOLDER_ARGS="-a 192.0.2.101 -N /run/netns/tcvip_cli" \
        start_holders 7701 "$VIP_OTHER")
    vip_up() { ss -N tcvip_srv -Htn state established src "$1" | wc -l; }
    clients_up() { ss -N tcvip_cli -Htn state established | wc -l; }
    stamp() {  # the log's time of the first line with $1, in ns since the epoch
        local t
        t=$(grep -m1 -- "$1" "$work/viplog" | cut -d' ' -f1) || { echo "vip: no '$1' in the log" >&2; cat "$work/viplog" >&2; exit 1; }
        echo $(( $(date -d "$t" +%s%3N) * 1000000 ))
    }
    ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) / 1e6 }'; }
    wakes="" ended="" logged=""
    for run in $(seq 1 "$RUNS"); do  # a fresh virtual IP and set each run
        ip -n tcvip_srv addr add 192.0.2.100/32 dev lo
        vip_pids=$(HOLDER_WRAP="ip netns exec tcvip_srv" HOLDER_ARGS="-a 192.0.2.100 -N /run/netns/tcvip_cli" \
            start_holders 7601 "$VIP_KILL")
        [ "$(vip_up 192.0.2.100)" = "$VIP_KILL" ] || { echo "vip: the set is not up" >&2; exit 1; }
        before_o=$(vip_up 192.0.2.101)
        before_c=$(clients_up)
        sockets=$(ss -N tcvip_srv -Htan | wc -l)
        rm -f "$work/viplog"
        # shellcheck disable=SC2086 # VIP_ARGS is a list of options
        "$BIN" --netns tcvip_srv --src-removed --watch ${VIP_ARGS:-} --disable_syslog -f "$work/viplog" &
        vpid=$!
        sleep 1  # its first poll (nothing removed yet) is long over
        if [ "$run" = 1 ]; then  # idle: CPU and wake-ups
            c0=$(cpu_ticks "$vpid")
            w0=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$vpid/status")
            sleep "$VIP_IDLE_SECS"
            c1=$(cpu_ticks "$vpid")
            w1=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$vpid/status")
        fi
        t0=$(now_ns)
        ip -n tcvip_srv addr del 192.0.2.100/32 dev lo
        for _ in $(seq 600); do
            grep -q "^.* poll: matched=" "$work/viplog" 2>/dev/null && break
            sleep 0.05
        done
        kill "$vpid"
        wait "$vpid" || true
        [ -z "${VIP_LOG_COPY:-}" ] || cp "$work/viplog" "$VIP_LOG_COPY"
        wakes+=" $(ms "$t0" "$(stamp "address 192.0.2.100 removed")")"
        ended+=" $(ms "$t0" "$(stamp " destroyed 192.0.2.100:")")"  # results are logged once every one was ended
        logged+=" $(ms "$t0" "$(stamp " poll: matched=")")"
        grep -q " poll: matched=$VIP_KILL destroyed=$VIP_KILL " "$work/viplog" ||
            { echo "vip: the log does not count $VIP_KILL destroyed" >&2; grep poll: "$work/viplog" >&2; exit 1; }
        left=$(ss -N tcvip_srv -Htn state established "( sport >= :7601 and sport <= :$vhi )" | wc -l)
        [ "$left" = 0 ] || { echo "vip: $left of the set left" >&2; exit 1; }
        if [ "$(vip_up 192.0.2.101)" != "$before_o" ] || [ "$(clients_up)" != "$before_c" ]; then
            echo "vip: ended connections outside the set (or the clients')" >&2
            exit 1
        fi
        stop_holders $vip_pids
    done
    vip_line=$(printf 'vip: %s connections to 192.0.2.100 among %s to 192.0.2.101 (%s sockets in the namespace), clients in another;' \
        "$VIP_KILL" "$VIP_OTHER" "$sockets")
    vip_line+=$(printf '\n  from the removal (ip started), medians of %s (log times in ms): daemon awake %s ms, all ended %s ms (runs:%s), poll logged %s ms' \
        "$RUNS" "$(echo "$wakes" | median)" "$(echo "$ended" | median)" "$ended" "$(echo "$logged" | median)")
    vip_line+=$(printf '\n  idle --watch daemon over %s s: %s CPU ticks (%s/s), %s wake-ups' \
        "$VIP_IDLE_SECS" $(( c1 - c0 )) "$hz" $(( w1 - w0 )))
    stop_holders $vother_pids
    ip netns del tcvip_srv
    ip netns del tcvip_cli
fi

# An idle --all-netns daemon over many namespaces, once per value of
# NETNS_EHASH. The big sets are gone (the kernel walks its socket table for
# every namespace's dump).
netns_run() {  # EHASH_ENTRIES
    local ns_pids="" i
    # Each new namespace gets a socket table of its own of this size (0:
    # they share the machine's; Linux 6.1). Set in our own namespace only.
    sysctl -q -w net.ipv4.tcp_child_ehash_entries="$1" 2>/dev/null || [ "$1" = 0 ] ||
        { echo "netns: this kernel has no tcp_child_ehash_entries" >&2; exit 1; }
    for i in $(seq 1 "$NETNS_N"); do
        ip netns add "tcns$i"
        ip -n "tcns$i" link set lo up
        ns_pids+=" $(HOLDER_WRAP="ip netns exec tcns$i" PER=$NETNS_CONNS start_holders 7801 "$NETNS_CONNS")"
    done
    ns_sockets=$(( $(for i in $(seq 1 "$NETNS_N"); do ss -N "tcns$i" -Htn; done | wc -l) ))
    [ "$ns_sockets" = $(( 2 * NETNS_N * NETNS_CONNS )) ] || { echo "netns: $ns_sockets sockets, not $(( 2 * NETNS_N * NETNS_CONNS ))" >&2; exit 1; }
    rm -f "$work/ns.prom"
    # Its CPU from GNU time (the kernel's exact figures, to 10 ms), its
    # polls from its own --metrics file.
    /usr/bin/time -f "%U %S" -o "$work/nstime" unshare -p -f --mount-proc --kill-child "$BIN" --all-netns -s 9999 \
        -i 0.2 --disable_syslog --metrics "$work/ns.prom" -f "$work/nslog" &
    upid=$!
    sleep "$NETNS_SECS"
    last=$(sed -n 's/^tcp_closer_last_poll_duration_seconds //p' "$work/ns.prom")
    pkill -TERM -f -- "^$BIN --all-netns -s 9999"  # the daemon (unshare --fork ignores SIGTERM)
    wait "$upid" || true
    read -r du ds <"$work/nstime"
    p=$(sed -n 's/^tcp_closer_polls_total //p' "$work/ns.prom")
    if grep -q "destroyed\|error" "$work/nslog"; then echo "netns: the daemon ended or failed something" >&2; cat "$work/nslog" >&2; exit 1; fi
    visited=$(( NETNS_N + 1 ))  # and its own
    /usr/bin/time -f "%U %S %e" -o "$work/time" bash -c \
        'for _ in $(seq "$1"); do for i in $(seq 1 "$2"); do ip netns exec "tcns$i" ss -tn >/dev/null; done; ss -tn >/dev/null; done' \
        _ "$NETNS_SS_ROUNDS" "$NETNS_N"
    read -r u s e <"$work/time"
    [ "$(( $(for i in $(seq 1 "$NETNS_N"); do ss -N "tcns$i" -Htn; done | wc -l) ))" = "$ns_sockets" ] ||
        { echo "netns: connections were lost" >&2; exit 1; }
    netns_line+=$(awk -v c="$(awk -v u="$du" -v s="$ds" 'BEGIN { print (u + s) * 1e9 }')" -v p="$p" -v n="$visited" -v u="$u" -v s="$s" \
        -v r="$NETNS_SS_ROUNDS" -v e="$e" -v last="$last" -v conns="$NETNS_CONNS" \
        -v tables="$( [ "$1" = 0 ] && echo "their sockets in the machine's one table" || echo "a table of $1 buckets each (tcp_child_ehash_entries)")" 'BEGIN {
        t = c / 1e6 / p; q = (u + s) * 1000 / r
        printf "idle --all-netns daemon, %d namespaces of %d connections (and its own), -i 0.2, %s:\n", n - 1, conns, tables
        printf "  tcp_closer: %d polls, CPU %.1f ms per poll (%.3f ms per namespace), last poll %.1f ms wall\n", p, t, t / n, last * 1000
        printf "  ip netns exec NS ss -tn for each: CPU %.1f ms per round (%.3f ms per namespace), %.0f ms wall per round\n", q, q / n, e * 1000 / r
        printf "  tcp_closer / ss loop: %.0f%%", 100 * t / q }')$'\n'
    stop_holders $ns_pids
    for i in $(seq 1 "$NETNS_N"); do ip netns del "tcns$i"; done
    sysctl -q -w net.ipv4.tcp_child_ehash_entries=0 2>/dev/null || true
}
if want netns; then
    stop_holders $other_pids
    mountpoint -q /run || mount -t tmpfs tmpfs /run  # our mount namespace only
    netns_line=""
    for eh in $NETNS_EHASH; do netns_run "$eh"; done
fi

# The table.
col() { for r in ${R["$1"]:-}; do echo "$r" | cut -d: -f"$2"; done | tr '\n' ' ' | median; }
printf '\n%-11s %-8s %9s %8s %8s %9s %10s\n' tool scenario "wall s" "user s" "sys s" "RSS KiB" "ss / this"
for key in "ss|mass" "tcp_closer|mass" "floor|mass" "floor-2thr|mass" "tcp_closer|syslog" "tcp_closer|idle" "tcp_closer|idle-n" "ss|list" "tcp_closer|list" "ss|udp" "tcp_closer|udp"; do
    [ -n "${R[$key]:-}" ] || continue
    tool=${key%|*}
    scen=${key#*|}
    wall=$(col "$key" 1)
    case $scen in list | udp) ref=$(col "ss|$scen" 1) ;; *) ref=$(col "ss|mass" 1) ;; esac
    printf '%-11s %-8s %9s %8s %8s %9s %10s\n' "$tool" "$scen" "$wall" "$(col "$key" 2)" "$(col "$key" 3)" \
        "$(col "$key" 4)" "$(awk -v a="$ref" -v b="$wall" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", a / b; else print "-" }')"
done
if want quiet; then
    echo
    echo "quiet daemon, CPU per poll (user + system), nothing matching among $(( 2 * (KILL + OTHER) )) sockets:"
    for i in 0 1 2; do
        for k in "tcp_closer -4" "tcp_closer -4 -6" "ss -tn"; do
            printf '  %-18s ports %-14s %8s ms  (%s of ss -tn)\n' "$k" "${quiet_ports[$i]}" "${Q["$k|$i"]}" \
                "$(awk -v a="${Q["$k|$i"]}" -v b="${Q["ss -tn|$i"]}" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }')"
        done
    done
fi
if want rules; then
    echo
    echo "rules, CPU per poll, nothing matching among $(( 2 * (KILL + OTHER) )) sockets:"
    printf '  one rule (-s 9999)            %8s ms  (a single port goes into the request: the kernel skips the filter)\n' "${RQ[one]}"
    printf '  one rule (-s 9990-9998)       %8s ms  (a range: the filter runs for every socket)\n' "${RQ[range]}"
    printf '  ten rules, one daemon         %8s ms  (%s of the single port, %s of the range; target at most 1.3x)\n' \
        "${RQ[ten]}" "$(awk -v a="${RQ[ten]}" -v b="${RQ[one]}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')" \
        "$(awk -v a="${RQ[ten]}" -v b="${RQ[range]}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
    printf '  ten daemons of one rule each  %8s ms  (ten rules in one daemon: %s of it; target at most 15%%)\n' \
        "${RQ[sum]}" "$(awk -v a="${RQ[ten]}" -v b="${RQ[sum]}" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }')"
    for i in "${!ten_rules[@]}"; do printf '    %-38s %8s ms\n' "${ten_rules[$i]}" "${RQ[single$i]}"; done
    one=$(col "tcp_closer|rules-1" 1)
    ten=$(col "tcp_closer|rules-10" 1)
    printf '  mass kill of %s: the rule alone %s s, last of ten %s s (%s; target at most 1.15x)\n' "$KILL" "$one" "$ten" \
        "$(awk -v a="$ten" -v b="$one" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
fi
if want vip; then
    echo
    echo "$vip_line"
fi
if want netns; then
    echo
    printf '%s' "$netns_line"
fi
echo
echo "binary: $BIN $(stat -c %s "$BIN") bytes"
kill "$receiver" 2>/dev/null || true
stop_holders $other_pids
