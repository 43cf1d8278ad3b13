#!/bin/sh
# The OCI image (make test-image, part of make test): two builds give the
# same digest; the image holds the binary alone, labelled; unpacked with
# umoci into a bundle, a real OCI runtime (runc) runs it as nobody holding
# only CAP_NET_ADMIN, read-only root, in a network namespace this test made,
# and it ends the test's connections there and nothing outside it; without
# CAP_NET_ADMIN --help works and a run names what is missing. podman loads
# the archive as tcp_closer:VERSION and does the same.
#
# Runs itself in private network and mount namespaces: the "outside" it
# checks is that private namespace, never the machine's own, and the named
# namespace lives on a tmpfs over /run that goes away with the test.
set -eu
fail() { echo "test_image: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (unshare, runc)"
if [ -z "${TC_IMAGE_INNER:-}" ]; then
    export TC_IMAGE_INNER=1
    exec unshare -n -m --propagation private sh "$0" "$@"
fi
for t in umoci runc jq setcap podman; do
    command -v "$t" >/dev/null || fail "$t is missing: make test-image installs it"
done
tmp=$(mktemp -d)
cleanup() {
    [ -n "${holders:-}" ] && kill $holders 2>/dev/null || true
    runc --root "$tmp/runc" delete -f tcimg-$$ >/dev/null 2>&1 || true
    rm -rf "$tmp" 2>/dev/null || true
}
trap cleanup EXIT

# 1. Reproducible: the second build, from a binary with a new mtime, gives
#    the same archive byte for byte.
digest1=$(make -s --no-print-directory image | tail -n 1)
archive=build/tcp_closer-oci.tar
[ -f "$archive" ] || fail "make image made no $archive"
sum1=$(sha256sum <"$archive")
touch build/tcp_closer
digest2=$(make -s --no-print-directory image | tail -n 1)
sum2=$(sha256sum <"$archive")
case $digest1 in sha256:????????????????????????????????????????????????????????????????) ;;
    *) fail "make image printed no digest: '$digest1'" ;; esac
[ "$digest1" = "$digest2" ] || fail "two builds, two digests: $digest1 $digest2"
[ "$sum1" = "$sum2" ] || fail "two builds, two archives"

# 2. The binary alone: one layer holding / and /tcp_closer; the config's
#    entrypoint, user and labels.
layout=$tmp/layout
mkdir "$layout"
tar -xf "$archive" -C "$layout"
blob() { echo "$layout/blobs/sha256/${1#sha256:}"; }
[ "$(jq -r '.manifests[0].digest' "$layout/index.json")" = "$digest1" ] || fail "index.json names another manifest"
manifest=$(blob "$digest1")
[ "$(jq '.layers | length' "$manifest")" = 1 ] || fail "not one layer"
config=$(blob "$(jq -r .config.digest "$manifest")")
files=$(tar -tzf "$(blob "$(jq -r '.layers[0].digest' "$manifest")")" | sort | tr '\n' ' ')
[ "$files" = ". tcp_closer " ] || fail "the layer holds more than the binary: $files"
[ "$(jq -c .config.Entrypoint "$config")" = '["/tcp_closer"]' ] || fail "entrypoint"
[ "$(jq -r .config.User "$config")" = 65534:65534 ] || fail "user"
version=$(sed -n 's/^#define TC_VERSION "\(.*\)"$/\1/p' src/core/options.cpp)
[ "$(jq -r '.config.Labels."org.opencontainers.image.version"' "$config")" = "$version" ] || fail "version label"
[ -n "$(jq -r '.config.Labels."org.opencontainers.image.source" // empty' "$config")" ] || fail "no source label"
size=$(stat -c %s "$archive")

# 3. Namespaces: lo up here (the stand-in for "outside"), and a named one
#    for the containers. podman's state lives in $tmp and on tmpfs mounts
#    that go away with this mount namespace.
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/lib  # podman keeps a blob cache in /var/lib/containers
ip link set lo up
ip netns add tcimg
ip -n tcimg link set lo up
# Connections in both namespaces on the same port, held for 6 seconds,
# then each end's fate written to $tmp/outside and $tmp/inside.
hold() {
    holders=""
    build/conn_holder -p 7900 -n 2 -r 6 >"$tmp/outside" &
    holders="$holders $!"
    ip netns exec tcimg build/conn_holder -p 7900 -n 3 -r 6 >"$tmp/inside" &
    holders="$holders $!"
    for f in outside inside; do
        for _ in $(seq 100); do grep -q ready "$tmp/$f" && break; sleep 0.05; done
        grep -q ready "$tmp/$f" || fail "the $f holder did not start"
    done
}
# $1 ended inside (3 or 0), of 3; the 2 outside are always alive.
fates() {
    wait $holders || true
    holders=""
    [ "$(grep -c 'destroyed (owner saw ECONNABORTED)' "$tmp/inside")" = "$1" ] ||
        { cat "$tmp/inside" >&2; fail "$2: not $1 connections ended in the container's namespace"; }
    [ "$(grep -c '  alive$' "$tmp/outside")" = 2 ] ||
        { cat "$tmp/outside" >&2; fail "$2: a connection outside the container's namespace was touched"; }
}

# 4. runc: the bundle runs as nobody, read-only root, in the named
#    namespace, with the capabilities of $1 in its bounding set (no
#    ambient set: what it holds comes from the binary's file capability),
#    running /tcp_closer with the other arguments.
umoci unpack --image "$layout:tcp_closer:$version" "$tmp/bundle" >/dev/null
base=$tmp/config.base.json
cp "$tmp/bundle/config.json" "$base"
[ "$(jq -r '.process.user.uid' "$base")" = 65534 ] || fail "the bundle does not run as nobody"
run_runc() {
    bounding=$1
    shift
    args=$(printf '%s\n' /tcp_closer "$@" | jq -R . | jq -s -c .)
    jq --arg ns /run/netns/tcimg --argjson caps "$bounding" --argjson args "$args" '
        .process.args = $args |
        .process.terminal = false |
        .process.noNewPrivileges = false |
        .process.capabilities = {bounding: $caps, permitted: [], effective: [], inheritable: [], ambient: []} |
        .root.readonly = true |
        .linux.namespaces = [.linux.namespaces[] | select(.type != "network" and .type != "user")] + [{type: "network", path: $ns}]
    ' <"$base" >"$tmp/bundle/config.json"
    status=0
    runc --root "$tmp/runc" run --bundle "$tmp/bundle" tcimg-$$ >"$tmp/run.out" 2>"$tmp/run.err" </dev/null || status=$?
    runc --root "$tmp/runc" delete -f tcimg-$$ >/dev/null 2>&1 || true
}
# What each run must have given ($1 names the runtime and its settings):
# the usage; the refusal naming the missing capability; the 3 connections
# in the container's namespace ended, the 2 outside alive.
expect_help() {
    [ "$status" = 0 ] && grep -q '^Usage: tcp_closer' "$tmp/run.out" ||
        { cat "$tmp/run.err" >&2; fail "$1: --help exited $status"; }
}
expect_refused() {
    [ "$status" = 1 ] && grep -q 'missing capability CAP_NET_ADMIN.*--cap-add NET_ADMIN' "$tmp/run.err" ||
        { cat "$tmp/run.err" >&2; fail "$1: exit $status, not the missing capability"; }
}
expect_ended() {
    [ "$status" = 0 ] || { cat "$tmp/run.err" >&2; fail "$1: the container exited $status"; }
    [ "$(grep -c '^.* destroyed 127.0.0.1:7900 .* by=sock_destroy' "$tmp/run.err")" = 3 ] ||
        { cat "$tmp/run.err" >&2; fail "$1: the container did not destroy the 3 connections"; }
    fates 3 "$1"
}
# --help needs no capability: the file capability has no effective bit,
# so exec does not fail where the bounding set lacks CAP_NET_ADMIN.
run_runc '[]' --help
expect_help "runc, no capabilities"
hold
run_runc '[]' -s 7900 --disable_syslog
expect_refused "runc, no capabilities"
run_runc '["CAP_NET_ADMIN"]' -s 7900 --disable_syslog
expect_ended runc

# 5. podman (its runc: crun cannot run on this kind of machine's hybrid
#    cgroups), storage of its own: loaded by the archive's reference name,
#    then with podman's own defaults and with all capabilities dropped but
#    NET_ADMIN.
podman="podman --root $tmp/storage --runroot $tmp/runroot --tmpdir $tmp/ptmp --runtime $(command -v runc)
    --cgroup-manager cgroupfs --events-backend file"
$podman load -i "$archive" >"$tmp/load" 2>&1 || { cat "$tmp/load" >&2; fail "podman load failed"; }
grep -q "^Loaded image: localhost/tcp_closer:$version\$" "$tmp/load" ||
    { cat "$tmp/load" >&2; fail "podman load does not name it tcp_closer:$version"; }
prun() {
    status=0
    $podman run --rm --network ns:/run/netns/tcimg --ulimit nofile=1024:1024 --ulimit nproc=1000:1000 \
        "$@" >"$tmp/run.out" 2>"$tmp/run.err" </dev/null || status=$?
}
prun --cap-drop all "tcp_closer:$version" --help
expect_help "podman, no capabilities"
hold
prun "tcp_closer:$version" -s 7900 --disable_syslog
expect_refused "podman's defaults"
prun --cap-drop all --cap-add NET_ADMIN --read-only --user 65534:65534 "tcp_closer:$version" -s 7900 --disable_syslog
expect_ended podman
echo "test_image: ok ($archive, $size bytes, $digest1; loads as tcp_closer:$version; runc and podman: --help with no capability, the missing one named, 3 connections ended in the container's namespace with NET_ADMIN alone, 2 outside alive)"
