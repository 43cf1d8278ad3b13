#!/bin/sh
# scripts/image.sh BIN OUT: an OCI image of the static binary BIN alone
# (no shell, no libc, nothing else), as an OCI archive (a tar of an OCI
# image layout) at OUT, built with umoci: no container daemon. Prints the
# manifest's digest.
#
# Reproducible: every time stamp is the last commit's (SOURCE_DATE_EPOCH
# if set; the changelog's date outside a git checkout), the tar streams are
# sorted with fixed owners, so the same binary gives the same digest.
#
# /tcp_closer carries the file capability cap_net_admin=p: the image's
# default user, 65534 (nobody), holds CAP_NET_ADMIN as permitted when the
# runtime puts it in the bounding set (and no_new_privs is off), and the
# binary makes it effective when it runs. Without the effective bit exec
# never fails for want of it: --help, --version and a dry run work in any
# container, and a run says which capability is missing. Run as uid 0 for
# what needs more (--all-netns). See scripts/kubernetes/.
set -eu
bin=$1
out=$2
version=$(sed -n 's/^#define TC_VERSION "\(.*\)"$/\1/p' src/core/options.cpp)
[ -n "$version" ] || { echo "image.sh: no version in src/core/options.cpp" >&2; exit 1; }
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null ||
        date -d "$(sed -n 's/^ -- .*>  //p' scripts/changelog | head -n 1)" +%s)
fi
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
# Where the source is: the checkout's remote, if it has one.
source=${IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || echo "tcp_closer $version, commit $revision")}
case $(file -b "$bin") in
    *x86-64*) arch=amd64 ;;
    *aarch64*) arch=arm64 ;;
    *ARM*) arch=arm ;;
    *RISC-V*) arch=riscv64 ;;
    *80386*) arch=386 ;;
    *) echo "image.sh: $bin: not a binary of a known CPU" >&2; exit 1 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 022
layout=$work/layout
# The reference name podman and skopeo load it by: tcp_closer:VERSION.
ref=$layout:tcp_closer:$version
umoci init --layout "$layout"
umoci new --image "$ref"
# One layer: / and /tcp_closer. (umoci insert would write a layer tar
# without its end-of-archive blocks; repack ends it properly.)
umoci unpack --image "$ref" "$work/bundle" >/dev/null
install -m 0755 "$bin" "$work/bundle/rootfs/tcp_closer"
setcap cap_net_admin=p "$work/bundle/rootfs/tcp_closer"
chmod 0755 "$work/bundle/rootfs"
touch -h -d "@$SOURCE_DATE_EPOCH" "$work/bundle/rootfs/tcp_closer" "$work/bundle/rootfs"
umoci repack --image "$ref" --history.created "$created" --history.author tcp_closer \
    --history.created_by "scripts/image.sh: the static binary" "$work/bundle"
# Labels of the OCI image spec: version, where the source is, the commit.
umoci config --image "$ref" --no-history --created "$created" --author "tcp_closer" \
    --architecture "$arch" --os linux --config.user 65534:65534 \
    --config.entrypoint /tcp_closer --config.cmd --help \
    --config.label "org.opencontainers.image.title=tcp_closer" \
    --config.label "org.opencontainers.image.version=$version" \
    --config.label "org.opencontainers.image.revision=$revision" \
    --config.label "org.opencontainers.image.source=$source" \
    --config.label "org.opencontainers.image.licenses=MIT" \
    --config.label "org.opencontainers.image.created=$created"
umoci gc --layout "$layout"
# umoci's blobs are written afresh; their files' times are not part of any
# digest, but the archive's tar headers are: fix them too.
chmod -R a+rX "$layout"
find "$layout" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
mkdir -p "$(dirname "$out")"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$layout" -cf "$out.tmp" .
mv "$out.tmp" "$out"
sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p' "$layout/index.json"
