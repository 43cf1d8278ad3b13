#!/bin/bash
# One pass of a test binary as make test runs it: its whole output goes to
# the terminal and to build/test-logs/NAME.log; when it fails, a short
# account of what failed comes last (the test cases, each failed assertion
# with its expansion), so the last lines of a long CI log say which case it
# was, not only how many.
#
#   tests/pass.sh NAME COMMAND [ARG...]
set -u
name=$1
shift
mkdir -p build/test-logs
log=build/test-logs/$name.log
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] && exit 0
echo "==== pass '$name' failed (exit $rc); the whole output is in $log ===="
# Catch2's console reporter: a failed case opens with a line of dashes, its
# name (and section) lines, a line of dashes; each failed assertion is
# "FILE:LINE: FAILED:", the expression, "with expansion:" and its value,
# then the INFO messages (of which the first lines are shown).
awk '
    /^-+$/ && length($0) > 60 { if (inhead) { inhead = 0; print "  case: " head } else { inhead = 1; head = "" } next }
    inhead { sep = head == "" ? "" : ($0 ~ /^ / ? " / " : " "); sub(/^ +/, ""); head = head sep $0; next }
    / FAILED:$/ { show = 7; print "    " $0; next }
    show > 0 {
        if ($0 ~ /^\.+$/ || $0 == "") { show = 0; next }
        print "      " substr($0, 1, 160); show--
    }
' "$log"
tail -n 3 "$log" | grep -E '^(test cases|assertions):' || true
exit "$rc"
