#!/bin/sh
# scripts/package.sh BIN MUSL: builds build/tcp-closer_VERSION_ARCH.deb
# with dpkg-deb from the static binary BIN (MUSL=1: linked against musl,
# which the package then names in Built-Using). Prints the .deb's path.
set -eu
bin=$1
musl=${2:-0}
version=$(sed -n 's/^#define TC_VERSION "\(.*\)"$/\1/p' src/core/options.cpp)
arch=$(dpkg --print-architecture)
[ -n "$version" ] || { echo "package.sh: no version in src/core/options.cpp" >&2; exit 1; }
logged=$(sed -n '1s/^tcp-closer (\([^)]*\)).*/\1/p' scripts/changelog)
[ "$logged" = "$version" ] || { echo "package.sh: scripts/changelog is at $logged, the binary at $version" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
umask 022
chmod 0755 "$root"
install -D -m 0755 "$bin" "$root/usr/sbin/tcp_closer"
ln -s tcp_closer "$root/usr/sbin/tcp-closer"  # the historical package's name
install -d "$root/usr/share/man/man8"
gzip -9n <scripts/tcp_closer.8 >"$root/usr/share/man/man8/tcp_closer.8.gz"
ln -s tcp_closer.8.gz "$root/usr/share/man/man8/tcp-closer.8.gz"
install -D -m 0644 scripts/tcp_closer.bash-completion "$root/usr/share/bash-completion/completions/tcp_closer"
ln -s tcp_closer "$root/usr/share/bash-completion/completions/tcp-closer"
install -D -m 0644 scripts/tcp-closer.service "$root/lib/systemd/system/tcp-closer.service"
install -D -m 0644 scripts/tcp-closer.logrotate "$root/etc/logrotate.d/tcp-closer"
install -D -m 0644 scripts/tcp-closer.default "$root/etc/default/tcp-closer"
install -D -m 0644 scripts/tcp-closer.rules "$root/etc/tcp-closer/rules"
install -D -m 0644 scripts/copyright "$root/usr/share/doc/tcp-closer/copyright"
install -D -m 0644 scripts/tcp-closer.lintian-overrides "$root/usr/share/lintian/overrides/tcp-closer"
gzip -9n <scripts/changelog >"$root/usr/share/doc/tcp-closer/changelog.gz"
chmod 0644 "$root/usr/share/man/man8/tcp_closer.8.gz" "$root/usr/share/doc/tcp-closer/changelog.gz"

mkdir "$root/DEBIAN"
printf '/etc/default/tcp-closer\n/etc/logrotate.d/tcp-closer\n/etc/tcp-closer/rules\n' >"$root/DEBIAN/conffiles"
(cd "$root" && find usr lib -type f | LC_ALL=C sort | xargs md5sum) >"$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
built_using=""
if [ "$musl" = 1 ]; then
    built_using="Built-Using: $(dpkg-query -W -f='${source:Package} (= ${source:Version})' musl-dev)
"
fi
cat >"$root/DEBIAN/control" <<CONTROL
Package: tcp-closer
Version: $version
Architecture: $arch
Maintainer: tcp_closer developers <tcp-closer@example.org>
Installed-Size: $size
${built_using}Section: net
Priority: optional
Description: end dead or idle TCP connections and connected UDP sockets
 tcp_closer ends TCP connections and connected UDP sockets selected by
 port, address, state, owner, idle time or a dead peer, so that
 applications stuck on established-but-dead connections notice and recover.
 It asks the kernel to destroy them (SOCK_DESTROY), or resets them inside
 the processes that hold them where the kernel cannot. Run it once, or as
 the tcp-closer service, which polls every few seconds.
 .
 The binary is static and depends on no library.
CONTROL
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
out="build/tcp-closer_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
