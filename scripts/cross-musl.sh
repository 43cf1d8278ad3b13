#!/bin/sh
# scripts/cross-musl.sh ARCH TRIPLET: musl for another CPU, from Debian's
# own musl source package, built with Debian's cross compiler TRIPLET-gcc
# into build/cross/ARCH/musl (libc.a, crt*.o, headers). The source comes
# through apt (which checks the archive's signatures) from a deb-src entry
# for the mirror and suite this machine already uses, kept under
# build/cross/apt; it is fetched once, and each CPU is built once.
set -eu
arch=$1
triplet=$2
top=$(pwd)/build/cross
prefix=$top/$arch/musl
[ -f "$prefix/lib/libc.a" ] && exit 0

src=$top/src/musl
if [ ! -d "$src" ]; then
    apt=$top/apt
    mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$top/src"
    # URIs and Suites of the machine's Debian entry (deb822 or one-line form).
    uri=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
    suite=$(sed -n 's/^Suites: *\([a-z]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
    if [ -z "$uri" ] || [ -z "$suite" ]; then
        line=$(grep -h '^deb http' /etc/apt/sources.list 2>/dev/null | head -n1)
        uri=$(echo "$line" | cut -d' ' -f2)
        suite=$(echo "$line" | cut -d' ' -f3)
    fi
    [ -n "$uri" ] && [ -n "$suite" ] || { echo "cross-musl.sh: cannot find the machine's Debian mirror" >&2; exit 1; }
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" >"$apt/sources.list"
    opts="-o Dir::Etc::SourceList=$apt/sources.list -o Dir::Etc::SourceParts=/dev/null"
    opts="$opts -o Dir::State::Lists=$apt/lists -o Dir::Cache::Archives=$apt/archives -o APT::Sandbox::User=root"
    # shellcheck disable=SC2086
    apt-get $opts update -qq
    # shellcheck disable=SC2086
    (cd "$top/src" && apt-get $opts -qq source --download-only musl)
    # apt has checked the .dsc and tarballs against the signed index.
    (cd "$top/src" && dpkg-source --no-check -x musl_*.dsc musl >/dev/null)
fi

# Our make's ARCH (and its flags) must not reach musl's build, which has
# an ARCH of its own (arm, not armhf).
unset MAKEFLAGS MFLAGS MAKELEVEL ARCH
# Built out of tree: the source stays as Debian ships it, for every CPU.
work=$top/$arch/work
rm -rf "$work"
mkdir -p "$work"
cd "$work"
"$src/configure" --target="$triplet" CROSS_COMPILE="$triplet-" --prefix="$prefix" --disable-shared >/dev/null
make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
make install >/dev/null
cd "$top" && rm -rf "$work"
echo "musl for $arch in $prefix"
