#!/bin/sh
# Installs the Debian packages the build and the tests need, if missing,
# plus any named as arguments (make fuzz: clang libclang-rt-dev).
set -eu
pkgs="g++ make musl-tools catch2 iproute2 file util-linux $*"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "error: missing packages:$missing (run as root or install them)" >&2; exit 1
    fi
else
    SUDO=""
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
