#!/bin/sh
# The package and install tests (make test-package, part of make test):
# the .deb's file list exactly, lintian without errors, the unit verified,
# the packaged binary runs, install/uninstall leave nothing behind, and the
# bash completion offers every option --help lists.
set -eu
fail() { echo "test_package: FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

deb=$(make -s --no-print-directory package | tail -n 1)
[ -f "$deb" ] || fail "make package did not print a .deb"

# 1. Exactly these paths (directories, files, links), nothing else.
dpkg-deb -c "$deb" | awk '{ p = $6; if ($7 == "->") p = p " -> " $8; print p }' | LC_ALL=C sort >"$tmp/got"
LC_ALL=C sort >"$tmp/want" <<'LIST'
./
./etc/
./etc/default/
./etc/default/tcp-closer
./etc/logrotate.d/
./etc/logrotate.d/tcp-closer
./etc/tcp-closer/
./etc/tcp-closer/rules
./lib/
./lib/systemd/
./lib/systemd/system/
./lib/systemd/system/tcp-closer.service
./usr/
./usr/sbin/
./usr/sbin/tcp-closer -> tcp_closer
./usr/sbin/tcp_closer
./usr/share/
./usr/share/bash-completion/
./usr/share/bash-completion/completions/
./usr/share/bash-completion/completions/tcp-closer -> tcp_closer
./usr/share/bash-completion/completions/tcp_closer
./usr/share/doc/
./usr/share/doc/tcp-closer/
./usr/share/doc/tcp-closer/changelog.gz
./usr/share/doc/tcp-closer/copyright
./usr/share/lintian/
./usr/share/lintian/overrides/
./usr/share/lintian/overrides/tcp-closer
./usr/share/man/
./usr/share/man/man8/
./usr/share/man/man8/tcp-closer.8.gz -> tcp_closer.8.gz
./usr/share/man/man8/tcp_closer.8.gz
LIST
diff -u "$tmp/want" "$tmp/got" || fail "the package's file list differs (- wanted, + got)"
dpkg-deb -f "$deb" Depends Pre-Depends | grep -q . && fail "the package depends on something"
[ "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)" ] || fail "wrong Architecture"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$tmp/conffiles"
printf '/etc/default/tcp-closer\n/etc/logrotate.d/tcp-closer\n/etc/tcp-closer/rules\n' | cmp -s - "$tmp/conffiles" ||
    fail "conffiles"

# 2. lintian: no errors (warnings and infos are listed in the README).
lintian --fail-on error --allow-root "$deb" || fail "lintian reports errors"

# 3. The packaged binary runs, under both names; the unit verifies.
root=$tmp/root
dpkg-deb -x "$deb" "$root"
"$root/usr/sbin/tcp_closer" --version | grep -q '^tcp_closer ' || fail "packaged binary does not run"
"$root/usr/sbin/tcp_closer" --version | grep -q '^MIT License' || fail "--version does not name the licence"
grep -q '^License: Expat' "$root/usr/share/doc/tcp-closer/copyright" || fail "the copyright file names no licence"
grep -q 'Permission is hereby granted' LICENSE || fail "LICENSE is not the MIT licence"
"$root/usr/sbin/tcp-closer" --version | grep -q '^tcp_closer ' || fail "tcp-closer link does not run"
# The verifier resolves the unit's dependencies and commands inside the
# root: give it the system's targets and slices, and the two commands the
# unit runs besides ours. Its man page is looked up in the package.
mkdir -p "$tmp/scaffold/bin"
cp /lib/systemd/system/*.target /lib/systemd/system/*.slice "$root/lib/systemd/system/"
cp /bin/sh /bin/kill "$tmp/scaffold/bin/"
cp -r "$tmp/scaffold/bin" "$root/"
MANPATH="$root/usr/share/man" systemd-analyze verify --root="$root" /lib/systemd/system/tcp-closer.service \
    2>"$tmp/verify" || { cat "$tmp/verify" >&2; fail "systemd-analyze verify"; }
[ ! -s "$tmp/verify" ] || { cat "$tmp/verify" >&2; fail "systemd-analyze verify warns"; }  # bad values only warn
score=$(systemd-analyze security --offline=yes --root="$root" /lib/systemd/system/tcp-closer.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for tcp-closer.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "no systemd-analyze security score"
awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }' || fail "the unit's exposure grew to $score (README says 1.1)"
# The shipped rules file holds no rule, and is valid.
unshare -n "$root/usr/sbin/tcp_closer" --rules "$root/etc/tcp-closer/rules" --check >"$tmp/check" || fail "the shipped rules file is refused"
[ "$(cat "$tmp/check")" = "0 rules" ] || fail "the shipped rules file holds a rule: $(cat "$tmp/check")"
# systemctl reload, by hand: the unit's ExecReload= lines in order, the
# first that fails ends the reload (as systemd does), against a daemon in
# a namespace of its own with the default file's options.
unit=$root/lib/systemd/system/tcp-closer.service
opts=$(sed -n 's/^TCP_CLOSER_OPTS="\(.*\)"$/\1/p' "$root/etc/default/tcp-closer")
[ "$opts" = "-i 5" ] || fail "the default file's options are not -i 5: $opts"
grep -q '^ExecStart=/usr/sbin/tcp_closer --rules /etc/tcp-closer/rules \$TCP_CLOSER_OPTS ' "$unit" ||
    fail "the unit does not run the rules file"
printf 'a: -s 7000\n' >"$tmp/rules"
unshare -n "$root/usr/sbin/tcp_closer" --rules "$tmp/rules" -i 0.05 -v -f "$tmp/daemon.log" --disable_syslog &
daemon=$!
reload() {  # the unit's ExecReload= lines, with the test's paths and pid
    sed -n 's/^ExecReload=//p' "$unit" | while read -r line; do
        line=$(printf '%s' "$line" | sed "s|/usr/sbin/tcp_closer|$root/usr/sbin/tcp_closer|; s|/etc/tcp-closer/rules|$tmp/rules|;
            s|\\\$TCP_CLOSER_OPTS|$opts|; s|\\\$MAINPID|$daemon|")
        unshare -n sh -c "$line" >/dev/null 2>>"$tmp/reload.err" || return 1
    done
}
waitlog() { i=0; until grep -q "$1" "$tmp/daemon.log" 2>/dev/null; do i=$((i + 1)); [ $i -lt 100 ] || return 1; sleep 0.05; done; }
waitlog 'filter for' || fail "the daemon did not start"  # its signal handlers are in place
printf 'a: -s 7000\nb: -s 7001\n' >"$tmp/rules"
reload || fail "a reload of a good file failed: $(cat "$tmp/reload.err")"
waitlog 'again: 2 rule(s)' || fail "the daemon did not read the good file again"
printf 'a: -s 7000\nb: -s 0\n' >"$tmp/rules"
if reload; then fail "a reload of a broken file succeeded"; fi
grep -q 'rules:2: ' "$tmp/reload.err" || fail "the failed reload does not say where: $(cat "$tmp/reload.err")"
sleep 0.2
grep -q 'keeping the' "$tmp/daemon.log" && fail "the broken file reached the daemon (SIGHUP sent after a failed check)"
kill -0 "$daemon" || fail "the daemon did not survive the reloads"
kill "$daemon"
wait "$daemon" || true

# 4. make install / uninstall under DESTDIR: exactly three files, then none.
dest=$tmp/dest
make -s install DESTDIR="$dest" >/dev/null
(cd "$dest" && find . -type f -o -type l | LC_ALL=C sort) >"$tmp/installed"
printf '%s\n' ./usr/local/sbin/tcp_closer ./usr/local/share/bash-completion/completions/tcp_closer \
    ./usr/local/share/man/man8/tcp_closer.8 | LC_ALL=C sort | cmp -s - "$tmp/installed" ||
    { cat "$tmp/installed" >&2; fail "make install put other files"; }
make -s uninstall DESTDIR="$dest" >/dev/null
[ -z "$(cd "$dest" && find . -type f -o -type l)" ] || fail "make uninstall left files"
make -s install DESTDIR="$dest" PREFIX=/usr >/dev/null
[ -x "$dest/usr/sbin/tcp_closer" ] || fail "PREFIX=/usr not honoured"
make -s uninstall DESTDIR="$dest" PREFIX=/usr >/dev/null

# 5. The completion offers every option --help lists, and the state names.
build/tcp_closer --help | grep -o -- '--[a-z][a-z_-]*\|^  -[a-zA-Z46]' | sed 's/^  //' | LC_ALL=C sort -u >"$tmp/help_opts"
[ "$(wc -l <"$tmp/help_opts")" -ge 30 ] || fail "found too few options in --help"
complete_words() {  # WORD...: what completing the last word offers
    bash -c '. scripts/tcp_closer.bash-completion; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _tcp_closer
             printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}
complete_words tcp_closer - | LC_ALL=C sort -u >"$tmp/offered"
missing=$(LC_ALL=C comm -23 "$tmp/help_opts" "$tmp/offered")
[ -z "$missing" ] || fail "the completion does not offer: $missing"
complete_words tcp_closer --state est | grep -qx established || fail "no state completion"
complete_words tcp_closer --state established,time | grep -qx 'established,time-wait' || fail "no state list completion"
[ -z "$(complete_words tcp_closer -s '')" ] || fail "completes a port"
echo "test_package: ok ($deb, $(stat -c %s "$deb") bytes; systemd-analyze security: $score)"
