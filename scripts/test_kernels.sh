#!/bin/bash
# make test-kernels: the [core] integration cases inside real Debian
# kernels booted under QEMU (software emulation), three passes each:
#   sock_destroy    inet_diag, tcp_diag and udp_diag loaded from the
#                   kernel's own package: SOCK_DESTROY
#   kernel_procnet  none of them loaded: the /proc/net path on a real kernel
#   nosd            the NO_SOCK_DESTROY=1 binary, the modules loaded
#   on_demand       the modules unloaded, a modprobe that finds them: the
#                   kernel loads them itself at the tool's first dump
# Everything comes from Debian's mirror (the one this machine's apt uses):
# each kernel package by name, and the guest's root (busybox-static and
# iproute2 with what it needs) for the guest's CPU, fetched with apt into a
# private state under build/kernels (never the machine's own sources), and
# cached there. The guest's console goes to build/kernels/LOG; a guest that
# does not finish in time is killed and its pass fails with the console's
# last lines.
#
#   KERNELS   "SUITE:ARCH ..." (default: bullseye and bookworm, amd64)
#   TIMEOUT   seconds a guest may take (default 300)
#   CASES     the Catch2 test spec (default [core])
set -euo pipefail
BUILD=${BUILD:-build}
mkdir -p "$BUILD/kernels"
K=$(cd "$BUILD/kernels" && pwd)  # absolute: apt reads its Dir:: paths from /
KERNELS=${KERNELS:-"bullseye:amd64 bookworm:amd64"}
TIMEOUT=${TIMEOUT:-300}
CASES=${CASES:-[core]}
USERLAND_SUITE=${USERLAND_SUITE:-bookworm}

mirror() {
    local m
    m=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1)
    [ -n "$m" ] || m=$(awk '$1 == "deb" && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
    echo "${m:-http://deb.debian.org/debian}"
}
MIRROR=$(mirror)

# apt with a private state for SUITE and ARCH: sets APT_OPTS.
apt_state() {
    local d=$K/apt/$1-$2
    mkdir -p "$d/state/lists/partial" "$d/cache/archives/partial"
    [ -f "$d/status" ] || : > "$d/status"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $1 main" > "$d/sources.list"
    APT_OPTS=(-o "Dir::State=$d/state" -o "Dir::State::status=$d/status" -o "Dir::Cache=$d/cache"
              -o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "APT::Architecture=$2" -o "APT::Architectures::=$2" -o Acquire::Languages=none
              -o Debug::NoLocking=1)
    if [ ! -f "$d/updated" ]; then
        apt-get "${APT_OPTS[@]}" -qq update >/dev/null 2>&1 || return 1
        touch "$d/updated"
    fi
}

# Downloads PACKAGES of SUITE/ARCH into DIR (cached: skipped when there).
fetch() {  # suite arch dir packages...
    local suite=$1 arch=$2 dir=$3
    shift 3
    apt_state "$suite" "$arch"
    mkdir -p "$dir"
    (cd "$dir" && apt-get "${APT_OPTS[@]}" -qq download "$@" 2>&1 | grep -v "unsandboxed" || true)
}

# The versioned kernel package the meta package of SUITE/ARCH names.
kernel_package() {
    apt_state "$1" "$2" || return 0
    apt-cache "${APT_OPTS[@]}" depends "linux-image-$2" | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)/\1/p' | head -n1
}

# The guest's userland for ARCH: busybox and iproute2 with its dependencies.
userland() {  # arch dir
    local arch=$1 dir=$2 pkgs
    [ -f "$dir/.done" ] && return 0
    apt_state "$USERLAND_SUITE" "$arch"
    pkgs=$(apt-cache "${APT_OPTS[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances --no-pre-depends iproute2 | grep '^[a-z0-9]' | sort -u)
    fetch "$USERLAND_SUITE" "$arch" "$dir/debs" busybox-static dash $pkgs
    mkdir -p "$dir/root"
    for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
    touch "$dir/.done"
}

declare -A TRIPLET=([amd64]=x86_64-linux-gnu [arm64]=aarch64-linux-gnu)
declare -A MUSL_ARCH=([amd64]="" [arm64]=aarch64)

# The static test programs for ARCH (built again when a source changed).
test_programs() {  # arch dir
    local arch=$1 dir=$2 cxx
    if [ -x "$dir/conn_holder" ] &&
        [ -z "$(find src tests/integration tests/tools/conn_holder.cpp -name '*.[ch]pp' -newer "$dir/conn_holder" | head -n1)" ]; then
        return 0
    fi
    mkdir -p "$dir"
    cxx=${TRIPLET[$arch]}-g++
    [ "$arch" = amd64 ] && cxx=g++
    "$cxx" -std=c++20 -O1 -Isrc -Itests -static -o "$dir/integration_tests" tests/integration/*.cpp src/*/*.cpp
    "$cxx" -std=c++20 -O2 -static -o "$dir/conn_holder" tests/tools/conn_holder.cpp
}

# The guest's init: three passes, each announced on the console.
write_init() {  # path
    cat > "$1" <<'INIT'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
ip link set lo up
echo "TC_KERNEL $(uname -r)"
cases=$(cat /tc_cases)
modules="inet_diag tcp_diag udp_diag"
load() { for m in $modules veth; do insmod "/tc_mod/$m.ko" 2>/dev/null; done; }
unload() { for m in udp_diag tcp_diag inet_diag; do rmmod "$m" 2>/dev/null; done; }
cd /tc
load
TC_MODE=sock_destroy TCP_CLOSER=build/tcp_closer ./integration_tests "$cases" > /dev/console 2>&1
echo "TC_PASS sock_destroy $?"
unload
TC_MODE=kernel_procnet TCP_CLOSER=build/tcp_closer ./integration_tests "$cases" > /dev/console 2>&1
echo "TC_PASS kernel_procnet $?"
load
TC_MODE=nosd TCP_CLOSER=build/nosd/tcp_closer ./integration_tests "$cases" > /dev/console 2>&1
echo "TC_PASS nosd $?"
# On demand: where modprobe finds them (busybox's, over the modules.dep and
# modules.alias of its depmod), the kernel loads inet_diag and tcp_diag
# itself at the first dump, and the tool never sees them missing.
unload
mkdir -p "/lib/modules/$(uname -r)"
cp /tc_mod/*.ko "/lib/modules/$(uname -r)/"
busybox depmod
ln -sf /bin/busybox /sbin/modprobe
out=$(build/tcp_closer -n -s 7999 --disable_syslog 2>&1)
echo "$out" > /dev/console
r=0
case "$out" in *"poll (dry run): matched=0"*) ;; *) r=1 ;; esac
case "$out" in *"refused"* | *"not available"*) r=1 ;; esac
lsmod | grep -q '^tcp_diag' || r=1
lsmod > /dev/console
echo "TC_PASS on_demand $r"
poweroff -f
INIT
    chmod +x "$1"
}

# One guest: SUITE:ARCH. Prints one line per pass.
run_guest() {
    local suite=${1%%:*} arch=${1##*:} kpkg kdir root log img
    kpkg=$(kernel_package "$suite" "$arch")
    if [ -z "$kpkg" ]; then
        echo "  SKIP  $suite $arch: its kernel package cannot be fetched from $MIRROR (apt's lists for $suite, or linux-image-$arch there)"
        return 2
    fi
    kdir=$K/$suite-$arch
    if [ ! -f "$kdir/.done" ]; then
        fetch "$suite" "$arch" "$kdir/deb" "$kpkg"
        mkdir -p "$kdir/x"
        dpkg-deb -x "$kdir"/deb/"$kpkg"_*.deb "$kdir/x"
        touch "$kdir/.done"
    fi
    userland "$arch" "$K/userland-$arch"
    test_programs "$arch" "$K/tests-$arch"

    root=$K/root-$suite-$arch
    rm -rf "$root"
    mkdir -p "$root"
    cp -a "$K/userland-$arch/root/." "$root/"
    mkdir -p "$root"/{proc,sys,dev,tmp,run,root,tc_mod,tc/build/nosd}
    # dash is the shell (busybox's own would run its own ip, not
    # iproute2's); busybox-static gives the few tools the packages do not.
    # (No modprobe: the kernel's own request for a missing module must fail
    # as on a machine without it.)
    ln -sf dash "$root/bin/sh"
    for a in $(busybox --list); do
        case $a in modprobe | depmod | sh | busybox) continue ;; esac
        [ -e "$root/bin/$a" ] || [ -e "$root/sbin/$a" ] || [ -e "$root/usr/bin/$a" ] || [ -e "$root/usr/sbin/$a" ] ||
            ln -s busybox "$root/bin/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' > "$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
    local mods
    mods=$(find "$kdir/x" -path '*/lib/modules/*' \( -name 'inet_diag.ko*' -o -name 'tcp_diag.ko*' -o -name 'udp_diag.ko*' -o -name 'veth.ko*' \))
    for m in $mods; do
        case $m in
            *.xz) xz -dc "$m" > "$root/tc_mod/$(basename "${m%.xz}")" ;;
            *.zst) zstd -qdc "$m" > "$root/tc_mod/$(basename "${m%.zst}")" ;;
            *) cp "$m" "$root/tc_mod/" ;;
        esac
    done
    local bin=$BUILD/tcp_closer nosd=$BUILD/nosd/tcp_closer
    if [ "$arch" != amd64 ]; then bin=$BUILD/${MUSL_ARCH[$arch]}/tcp_closer; nosd=$BUILD/${MUSL_ARCH[$arch]}/nosd/tcp_closer; fi
    cp "$bin" "$root/tc/build/tcp_closer"
    cp "$nosd" "$root/tc/build/nosd/tcp_closer"
    cp "$K/tests-$arch/integration_tests" "$root/tc/"
    cp "$K/tests-$arch/conn_holder" "$root/tc/build/"
    echo "$CASES" > "$root/tc_cases"
    write_init "$root/init"
    img=$K/initrd-$suite-$arch.gz
    (cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 > "$img"

    log=$K/console-$suite-$arch.log
    local vmlinuz qemu
    vmlinuz=$(ls "$kdir"/x/boot/vmlinuz-* | head -n1)
    case $arch in
        amd64) qemu=(qemu-system-x86_64 -m 1024 -smp 2 -append "console=ttyS0 panic=-1 quiet") ;;
        arm64) qemu=(qemu-system-aarch64 -M virt -cpu max -m 1024 -smp 2 -append "console=ttyAMA0 panic=-1 quiet") ;;
    esac
    local t0 t1 rc=0
    t0=$(date +%s)
    timeout "$TIMEOUT" "${qemu[@]}" -nographic -no-reboot -kernel "$vmlinuz" -initrd "$img" > "$log" 2>&1 || rc=$?
    t1=$(date +%s)
    local version
    version=$(sed -n 's/.*TC_KERNEL \([^ \r]*\).*/\1/p' "$log" | head -n1)
    local failed=0 pass
    for pass in sock_destroy kernel_procnet nosd on_demand; do
        local r
        r=$(sed -n "s/.*TC_PASS $pass \([0-9]*\).*/\1/p" "$log" | head -n1)
        if [ "$r" = 0 ]; then
            printf '  PASS  %-8s %-6s %-24s %-15s (%s s for the guest)\n' "$suite" "$arch" "${version:-?}" "$pass" $(( t1 - t0 ))
        else
            failed=1
            printf '  FAIL  %-8s %-6s %-24s %-15s %s\n' "$suite" "$arch" "${version:-?}" "$pass" \
                "$([ -z "$r" ] && { [ "$rc" = 124 ] && echo "guest killed after ${TIMEOUT}s" || echo "no result"; } || echo "exit $r")"
        fi
    done
    if [ "$failed" = 1 ]; then
        echo "  the console's last lines ($log):"
        tail -n 40 "$log" | sed 's/\x1b\[[0-9;]*m//g; s/^/    /'
        return 1
    fi
}

status=0 skipped=0
for k in $KERNELS; do
    rc=0
    run_guest "$k" || rc=$?
    case $rc in 0) ;; 2) skipped=$(( skipped + 1 )) ;; *) status=1 ;; esac
done
[ "$skipped" = 0 ] || echo "  $skipped of $(echo $KERNELS | wc -w) kernels skipped: their packages could not be fetched (not passed)"
exit "$status"
