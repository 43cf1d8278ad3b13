#!/bin/sh
# make demo: a throwaway network namespace with a few idle and a few busy
# connections on port 7000; tcp_closer -t kills the idle ones only. Then the
# same on port 7001 through /proc (--use_proc), as on a kernel without
# SOCK_DESTROY: each idle connection is reset inside the process holding it,
# and that process keeps running. Last, by owner: two identical processes,
# and --pid picks the idle connections of one of them. And UDP: clients
# connected to a server on 5353 are ended with -u, the server's socket stays.
# Last, a virtual IP goes away: a --src-removed --watch daemon ends the
# connections bound to it at once, and those on the other address stay.
set -eu
BIN=${1:-build/tcp_closer}
HOLDER=${2:-build/conn_holder}

if [ "${TCP_CLOSER_DEMO_NETNS:-}" != 1 ]; then
    # Re-run this script in a private network namespace: the host's
    # connections are never visible to it.
    exec env TCP_CLOSER_DEMO_NETNS=1 unshare -n sh "$0" "$BIN" "$HOLDER"
fi

ip link set lo up
echo "== In a private network namespace: 3 idle and 3 busy connections to 127.0.0.1:7000"
echo "   (busy ones receive a byte every 100 ms; idle ones receive nothing)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$HOLDER" -p 7000 -n 3 -b 3 -r 5 >"$out" &
holder=$!
while ! grep -q ready "$out" 2>/dev/null; do sleep 0.1; done
sleep 2.5
echo
echo "== Before: ss -tn state established '( sport = :7000 )'"
ss -tn state established '( sport = :7000 )'
echo
echo "== Running: $BIN -s 7000 -t 2000 --disable_syslog"
echo "   (kill connections on local port 7000 that received no data for 2 s)"
"$BIN" -s 7000 -t 2000 --disable_syslog
echo
echo "== After: ss -tn state established '( sport = :7000 )'"
ss -tn state established '( sport = :7000 )'
wait "$holder"
echo
echo "== What the owning process saw:"
grep -v ready "$out"

echo
echo "== Again on port 7001, through /proc, as on a kernel without SOCK_DESTROY"
"$HOLDER" -p 7001 -n 2 -b 2 -r 5 >"$out" &
holder=$!
while ! grep -q ready "$out" 2>/dev/null; do sleep 0.1; done
sleep 2.5
echo "== Running: $BIN --use_proc -s 7001 -t 2000 --disable_syslog"
"$BIN" --use_proc -s 7001 -t 2000 --disable_syslog
echo
echo "== Is the owning process (pid $holder) still running?"
if kill -0 "$holder" 2>/dev/null; then echo "   yes"; else echo "   no"; fi
wait "$holder"
echo
echo "== What it saw:"
grep -v ready "$out"

echo
echo "== By owner: two identical processes hold connections (ports 7002 and 7003)"
out2=$(mktemp)
trap 'rm -f "$out" "$out2"' EXIT
"$HOLDER" -p 7002 -n 2 -b 1 -r 5 >"$out" &
first=$!
"$HOLDER" -p 7003 -n 2 -b 1 -r 5 >"$out2" &
second=$!
for f in "$out" "$out2"; do
    while ! grep -q ready "$f" 2>/dev/null; do
        kill -0 "$first" "$second" 2>/dev/null || { echo "a holder failed to start" >&2; exit 1; }
        sleep 0.1
    done
done
sleep 2.5
echo "== Running: $BIN --pid $first -s 7002-7003 -t 2000 --disable_syslog"
echo "   (only the idle connections that process $first holds)"
"$BIN" --pid "$first" -s 7002-7003 -t 2000 --disable_syslog
wait "$first" "$second"
echo
echo "== What process $first saw:"
grep -v ready "$out"
echo "== What process $second saw:"
grep -v ready "$out2"

echo
echo "== UDP: a server bound to 127.0.0.1:5353 and 3 clients that connect()ed to it"
"$HOLDER" -u -p 5353 -n 3 -r 2 >"$out" &
holder=$!
while ! grep -q ready "$out" 2>/dev/null; do sleep 0.1; done
ss -uan '( sport = :5353 or dport = :5353 )'
echo
echo "== Running: $BIN -u -d 5353 --disable_syslog"
echo "   (connected UDP sockets to port 5353; an unconnected one, like the server's, is never touched)"
"$BIN" -u -d 5353 --disable_syslog
echo
echo "== After: ss -uan '( sport = :5353 or dport = :5353 )'"
ss -uan '( sport = :5353 or dport = :5353 )'
wait "$holder"
echo
echo "== What the clients saw:"
grep -v ready "$out"

echo
echo "== A virtual IP: connections on 192.0.2.100 (the VIP) and on 192.0.2.1"
ip addr add 192.0.2.100/32 dev lo
ip addr add 192.0.2.1/32 dev lo
"$HOLDER" -a 192.0.2.100 -p 7100 -n 2 -r 3 >"$out" &
vip=$!
"$HOLDER" -a 192.0.2.1 -p 7101 -n 2 -r 3 >"$out2" &
other=$!
for f in "$out" "$out2"; do
    while ! grep -q ready "$f" 2>/dev/null; do sleep 0.1; done
done
echo "== Running: $BIN --src-removed --watch --disable_syslog   (a daemon; no -i: it waits for address events)"
"$BIN" --src-removed --watch --disable_syslog &
daemon=$!
sleep 0.5
echo "== The VIP moves to another node: ip addr del 192.0.2.100/32 dev lo"
ip addr del 192.0.2.100/32 dev lo
sleep 0.5
kill "$daemon"
wait "$daemon" || true
wait "$vip" "$other"
echo
echo "== What the owner of the VIP's connections saw:"
grep -v ready "$out"
echo "== What the owner of the other address's connections saw:"
grep -v ready "$out2"
