#!/bin/sh
# The OCI image (make test-image, part of make test): two builds give the
# same digest; the image holds the binary alone, labelled; unpacked with
# umoci into a bundle, a real OCI runtime (runc) runs it as nobody holding
# only CAP_NET_ADMIN, read-only root, in a network namespace this test made,
# and it ends the test's connections there and nothing outside it.
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
for t in umoci runc jq setcap; do
    command -v "$t" >/dev/null || fail "$t is missing: make test-image installs it"
done
tmp=$(mktemp -d)
cleanup() {
    [ -n "${holders:-}" ] && kill $holders 2>/dev/null || true
    runc --root "$tmp/runc" delete -f tcimg-$$ >/dev/null 2>&1 || true
    rm -rf "$tmp"
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
#    for the container, with connections in both on the same port.
mount -t tmpfs tmpfs /run
ip link set lo up
ip netns add tcimg
ip -n tcimg link set lo up
holders=""
build/conn_holder -p 7900 -n 2 -r 6 >"$tmp/outside" &
holders="$holders $!"
ip netns exec tcimg build/conn_holder -p 7900 -n 3 -r 6 >"$tmp/inside" &
holders="$holders $!"
for f in outside inside; do
    for _ in $(seq 100); do grep -q ready "$tmp/$f" && break; sleep 0.05; done
    grep -q ready "$tmp/$f" || fail "the $f holder did not start"
done

# 4. The bundle: nobody, CAP_NET_ADMIN alone (from the binary's file
#    capability: no ambient set), read-only root, the named namespace.
umoci unpack --image "$layout:$version" "$tmp/bundle" >/dev/null
jq --arg ns /run/netns/tcimg '
    .process.args = ["/tcp_closer", "-s", "7900", "--disable_syslog"] |
    .process.terminal = false |
    .process.noNewPrivileges = false |
    .process.capabilities = {bounding: ["CAP_NET_ADMIN"], permitted: [], effective: [], inheritable: [], ambient: []} |
    .root.readonly = true |
    .linux.namespaces = [.linux.namespaces[] | select(.type != "network" and .type != "user")] + [{type: "network", path: $ns}]
' "$tmp/bundle/config.json" >"$tmp/config.json"
mv "$tmp/config.json" "$tmp/bundle/config.json"
[ "$(jq -r '.process.user.uid' "$tmp/bundle/config.json")" = 65534 ] || fail "the bundle does not run as nobody"
status=0
runc --root "$tmp/runc" run --bundle "$tmp/bundle" tcimg-$$ >"$tmp/run.out" 2>"$tmp/run.err" </dev/null || status=$?
wait $holders || true
holders=""
[ "$status" = 0 ] || { cat "$tmp/run.err" >&2; fail "the container exited $status"; }
[ "$(grep -c '^.* destroyed 127.0.0.1:7900 .* by=sock_destroy' "$tmp/run.err")" = 3 ] ||
    { cat "$tmp/run.err" >&2; fail "the container did not destroy the 3 connections"; }
[ "$(grep -c 'destroyed (owner saw ECONNABORTED)' "$tmp/inside")" = 3 ] ||
    { cat "$tmp/inside" >&2; fail "the connections in the container's namespace live on"; }
[ "$(grep -c '  alive$' "$tmp/outside")" = 2 ] ||
    { cat "$tmp/outside" >&2; fail "a connection outside the container's namespace was touched"; }
echo "test_image: ok ($archive, $size bytes, $digest1; runc ended 3 connections in its namespace, 2 outside alive)"
