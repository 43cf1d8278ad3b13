#!/bin/sh
# --netns and --all-netns against real namespaces. Run by test_netns.cpp as
#   unshare -p -f -m --mount-proc sh netns.sh TOOL HOLDER [TOOL ARGS...]
# inside the test's own network namespace: in private PID and mount
# namespaces, /proc lists only this script's processes and /run/netns is a
# tmpfs of its own, so the tool can only ever find the test's namespaces.
set -eu
TOOL=$1
HOLDER=$2
shift 2
fail() { echo "FAIL: $*"; exit 1; }
wait_ready() {  # FILE...: each holder's output says ready within 5 s
    for f in "$@"; do
        n=0
        until grep -q ready "$dir/$f" 2>/dev/null; do
            n=$((n + 1)); [ $n -lt 100 ] || fail "holder $f not ready"; sleep 0.05
        done
    done
}

mkdir -p /run/netns
mount -t tmpfs tcb-netns /run/netns
[ /var/run/netns -ef /run/netns ] || mount --bind /run/netns /var/run/netns
ip netns add tcb1
ip netns add tcb2
ip -n tcb1 link set lo up
ip -n tcb2 link set lo up
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# hold NAME PORT N: connections held for 8 s, then their fates in $dir/NAME
ip netns exec tcb1 "$HOLDER" -p 7600 -n 2 -r 8 >"$dir/A" &
ip netns exec tcb1 "$HOLDER" -p 7610 -n 2 -r 8 >"$dir/E" &
ip netns exec tcb2 "$HOLDER" -p 7600 -n 2 -r 8 >"$dir/B" &
ip netns exec tcb2 "$HOLDER" -p 7610 -n 2 -r 8 >"$dir/F" &
ip netns exec tcb2 "$HOLDER" -p 7611 -n 1 -r 8 >"$dir/G" &
unshare -n sh -c "ip link set lo up; \"$HOLDER\" -p 7600 -n 3 -r 8 >$dir/C & \"$HOLDER\" -p 7610 -n 3 -r 8 >$dir/C2 & wait" &
unnamed=$!
"$HOLDER" -p 7600 -n 1 -r 8 >"$dir/D" &
"$HOLDER" -p 7610 -n 1 -r 8 >"$dir/H" &
wait_ready A E B F G C C2 D H

"$TOOL" --netns tcb1 -s 7600 --disable_syslog "$@" 2>"$dir/log1" || fail "--netns tcb1: exit $?"
[ "$(grep -c 'netns=tcb1 destroyed 127.0.0.1:7600' "$dir/log1")" = 2 ] || fail "--netns tcb1: $(cat "$dir/log1")"

"$TOOL" -N "/proc/$unnamed/ns/net" -s 7600 --disable_syslog "$@" 2>"$dir/log2" || fail "--netns path: exit $?"
[ "$(grep -c 'destroyed 127.0.0.1:7600' "$dir/log2")" = 3 ] || fail "--netns path: $(cat "$dir/log2")"

"$TOOL" --all-netns -s 7610 --disable_syslog "$@" 2>"$dir/log3" || fail "--all-netns: exit $?"
in_ns() {  # NAMESPACE COUNT: lines of log3 naming it
    [ "$(grep -c "$1 destroyed 127.0.0.1:7610" "$dir/log3")" = "$2" ] || fail "--all-netns, $1: $(cat "$dir/log3")"
}
in_ns netns=tcb1 2
in_ns netns=tcb2 2
in_ns "netns=pid:$unnamed" 3
in_ns netns=pid:1 1  # the namespace it started in (this script is PID 1)
[ "$(grep -c ' destroyed 127' "$dir/log3")" = 8 ] || fail "--all-netns total: $(cat "$dir/log3")"

# UDP the same way: connected clients in two namespaces (their servers stay).
ip netns exec tcb1 "$HOLDER" -u -p 7630 -n 2 >"$dir/U1" &
u1=$!
ip netns exec tcb2 "$HOLDER" -u -p 7630 -n 3 >"$dir/U2" &
u2=$!
wait_ready U1 U2
"$TOOL" --all-netns -u -d 7630 --disable_syslog "$@" 2>"$dir/logu" || fail "--all-netns -u: exit $?"
for ns in tcb1:2 tcb2:3; do
    [ "$(grep -c "netns=${ns%:*} destroyed 127.0.0.1:[0-9]* -> 127.0.0.1:7630 state=ESTABLISHED proto=udp" "$dir/logu")" = "${ns#*:}" ] ||
        fail "--all-netns -u, ${ns%:*}: $(cat "$dir/logu")"
    [ "$(ip netns exec "${ns%:*}" ss -Hun state established | grep -c ':7630')" = 0 ] || fail "udp left in ${ns%:*}"
    [ "$(ip netns exec "${ns%:*}" ss -Hun state closed | grep -c '127.0.0.1:7630 ')" = 1 ] || fail "udp server gone in ${ns%:*}"
done
kill "$u1" "$u2"

# --src-removed judges each namespace by its own routes: 192.0.2.80 is
# removed in tcb1 only; the same address stays local in tcb2.
for ns in tcb1 tcb2; do
    ip -n $ns addr add 192.0.2.80/32 dev lo
    ip -n $ns addr add 192.0.2.81/32 dev lo
done
ip netns exec tcb1 "$HOLDER" -p 7640 -n 2 -a 192.0.2.81 -c 192.0.2.80 -r 4 >"$dir/R1" &
ip netns exec tcb2 "$HOLDER" -p 7640 -n 2 -a 192.0.2.81 -c 192.0.2.80 -r 4 >"$dir/R2" &
wait_ready R1 R2
ip -n tcb1 addr del 192.0.2.80/32 dev lo
"$TOOL" --all-netns --src-removed -d 7640 --disable_syslog "$@" 2>"$dir/logr" || fail "--all-netns --src-removed: exit $?"
[ "$(grep -c 'netns=tcb1 destroyed 192.0.2.80:' "$dir/logr")" = 2 ] || fail "--src-removed, tcb1: $(cat "$dir/logr")"
[ "$(grep -c ' destroyed ' "$dir/logr")" = 2 ] || fail "--src-removed beyond tcb1: $(cat "$dir/logr")"

status=0
"$TOOL" --netns no-such-namespace -s 7600 --disable_syslog 2>"$dir/log4" || status=$?
[ "$status" = 2 ] || fail "--netns no-such-namespace: exit $status"
grep -q "no such network namespace: 'no-such-namespace'" "$dir/log4" || fail "no-such: $(cat "$dir/log4")"

# A daemon picks up a namespace that appears, and skips quietly one that goes.
"$TOOL" --all-netns -i 0.1 -s 7620 --disable_syslog "$@" 2>"$dir/log5" &
daemon=$!
sleep 0.3
ip netns add tcb3
ip -n tcb3 link set lo up
ip netns exec tcb3 "$HOLDER" -p 7620 -n 2 -r 1 >"$dir/I"
ip netns del tcb3  # its last process is gone too: the namespace vanished
sleep 0.3
kill -0 "$daemon" || fail "the daemon died: $(cat "$dir/log5")"
kill "$daemon"
status=0
wait "$daemon" || status=$?
[ "$status" = 0 ] || fail "daemon exit $status: $(cat "$dir/log5")"
[ "$(grep -c 'netns=tcb3 destroyed 127.0.0.1:7620' "$dir/log5")" = 2 ] || fail "new namespace: $(cat "$dir/log5")"
grep -q -e 'poll failed' -e error "$dir/log5" && fail "a vanished namespace was not quiet: $(cat "$dir/log5")"

# A namespace that cannot be entered (here a file that is none) is
# skipped, and said once, not at every poll; the others are still served.
touch /run/netns/tcb-bogus
"$TOOL" --all-netns -i 0.05 -s 7630 --disable_syslog "$@" 2>"$dir/log6" &
daemon=$!
sleep 0.5
kill "$daemon"
status=0
wait "$daemon" || status=$?
rm /run/netns/tcb-bogus
[ "$status" = 0 ] || fail "daemon with a bogus namespace: exit $status: $(cat "$dir/log6")"
[ "$(grep -c 'netns=tcb-bogus skipped: cannot enter the network namespace: Invalid argument' "$dir/log6")" = 1 ] ||
    fail "bogus namespace not said once: $(cat "$dir/log6")"
[ "$(grep -c 'skipped' "$dir/log6")" = 1 ] || fail "other namespaces skipped: $(cat "$dir/log6")"

wait
# What each owner saw: killed where the tool was aimed, alive everywhere else.
check() {  # FILE KILLED ALIVE
    k=$(grep -c -v -e ready -e ' alive$' "$dir/$1" || true)
    a=$(grep -c ' alive$' "$dir/$1" || true)
    [ "$k" = "$2" ] && [ "$a" = "$3" ] || fail "$1: $k killed, $a alive: $(cat "$dir/$1")"
}
check A 2 0; check B 0 2; check C 3 0; check D 0 1
check E 2 0; check F 2 0; check G 0 1; check C2 3 0; check H 1 0; check I 2 0
# (the server ends of R1 hear nothing: the RST would come from the removed
# address; the log lines above are the proof)
check R1 0 2; check R2 0 2
# A rule's names are looked up in the namespace of the run: an interface
# that only tcb1 has.
ip -n tcb1 link add tcbdev0 type veth peer name tcbdev1
printf 'd: --dev tcbdev0 -s 1\n' >"$dir/rules"
out=$("$TOOL" --netns tcb1 --rules "$dir/rules" --check 2>&1) || fail "--netns tcb1 --rules --check: $out"
[ "$out" = "1 rule" ] || fail "--netns tcb1 --rules --check: $out"
if out=$("$TOOL" --rules "$dir/rules" --check 2>&1); then fail "--dev tcbdev0 resolved outside tcb1: $out"; fi
echo "$out" | grep -q "rules:1: " || fail "--dev tcbdev0 outside tcb1: $out"
echo "netns tests passed"
