# tcp_closer: a static binary by default (musl when musl-tools is installed,
# static glibc otherwise), unit tests without privileges, integration tests
# in a private network namespace.
#
#   make            build/tcp_closer
#   make test       install build deps, build, run unit + integration tests,
#                   the benchmark at a tiny size and each fuzzer for 10 s
#   make fuzz       each fuzzer for FUZZ_TIME seconds (default 300)
#   make churn      the churn test for CHURN_SECS seconds (default 30)
#   make install    PREFIX (default /usr/local) under DESTDIR; make uninstall
#   make package    build/tcp-closer_VERSION_ARCH.deb
#   make image      build/tcp_closer-oci.tar, an OCI image of the binary alone
#   make cross ARCH=aarch64|armhf|riscv64|i386|x86_64, make cross-all
#                   build/ARCH/tcp_closer and build/ARCH/nosd/tcp_closer
#   make test-cross every ARCH's binaries under qemu (make test: aarch64)
#   make demo       install build deps, build, run the demo in a throwaway netns
#   make MUSL=0     force the static glibc build
#   make NO_SOCK_DESTROY=1
#                   build/nosd/tcp_closer: no SOCK_DESTROY code, always the /proc path
#   V=1             print every command (the default is one line per step)

# One line per step; V=1 prints the commands themselves.
ifeq ($(V),1)
Q        :=
step     :=
else
Q        := @
step      = @printf '  %-8s %s\n' '$(1)' '$(2)';
MAKEFLAGS += --no-print-directory
endif

CXX      ?= g++
CC       ?= gcc
OBJCOPY  ?= objcopy
BUILD    := build
BIN      := $(BUILD)/tcp_closer
NOSD_BIN := $(BUILD)/nosd/tcp_closer

LIB_SRCS := $(wildcard src/*/*.cpp)
SD_SRCS  := src/engine/sock_destroy.cpp src/engine/end_path.cpp src/app/destroy_helper.cpp
BIN_SRCS := $(LIB_SRCS) src/main.cpp src/rt.cpp
HDRS     := $(wildcard src/*.hpp src/*/*.hpp)

WARN     := -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion
CXXSTD   := -std=c++20
# Code generation for size, also given to the LTO link (bytes less on
# x86-64 musl; a poll's time is the kernel's, not these loops' and calls':
# make bench measured no difference beyond its noise):
# -fno-inline-small-functions: a small function called from many places
# stays one function (736).
# -fno-ipa-sra: no copies of functions with their struct parameters split
# into scalars (160).
# -fno-move-loop-invariants, -fno-tree-loop-im: a value computed in a loop
# stays there instead of taking a register (or a stack slot, and the code
# to fill it) before the loop (704, then 160).
# -fno-caller-saves: no registers saved around calls at the call sites
# (224). -fno-ipa-modref: no specialising by what a callee may write (96).
# -fno-lifetime-dse: the compiler keeps what was stored into an object
# before its constructor ran (it never takes those bytes for undefined):
# so the zero stores of a value-initialized object (app/run.hpp's
# RunParts) go, the block being zero already (832; alone, without such an
# object, it saves nothing).
# -mno-sse (x86-64 only, added below): no vector registers for copies and
# clears (480); the tool computes nothing in floating point, and a compile
# error would say so if it ever did.
SIZE_FLAGS := -Oz -fno-inline-small-functions -fno-ipa-sra -fno-move-loop-invariants -fno-tree-loop-im \
              -fno-caller-saves -fno-ipa-modref -fno-lifetime-dse
BIN_FLAGS := $(CXXSTD) $(WARN) -Isrc $(SIZE_FLAGS) -fno-exceptions -fno-rtti \
             -fno-threadsafe-statics -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections -flto
# -flto: the link sees the whole program (about 3% smaller); the link
# step repeats the code-generation flags, as LTO wants.
LTO_LINK  := -flto=auto $(SIZE_FLAGS) -fno-exceptions -fno-rtti -fno-asynchronous-unwind-tables

# NO_SOCK_DESTROY=1: the SOCK_DESTROY sources are left out, not just unused.
OBJ_ROOT := $(BUILD)

# --- other CPUs: make cross ARCH=aarch64|armhf|riscv64|i386|x86_64 ---------
# Debian's cross compiler for the CPU, and Debian's musl source built with
# it once into build/cross/ARCH/musl (scripts/cross-musl.sh).
CROSS_ARCHS := aarch64 armhf riscv64 i386 x86_64
TRIPLET_aarch64 := aarch64-linux-gnu
TRIPLET_armhf   := arm-linux-gnueabihf
TRIPLET_riscv64 := riscv64-linux-gnu
TRIPLET_i386    := i686-linux-gnu
TRIPLET_x86_64  := x86_64-linux-gnu
ifneq ($(ARCH),)
TRIPLET  := $(TRIPLET_$(ARCH))
ifeq ($(TRIPLET),)
$(error unknown ARCH '$(ARCH)': one of $(CROSS_ARCHS))
endif
CXX      := $(TRIPLET)-g++
CC       := $(TRIPLET)-gcc
OBJCOPY  := $(TRIPLET)-objcopy
OBJ_ROOT := $(BUILD)/$(ARCH)
BIN      := $(BUILD)/$(ARCH)/tcp_closer
NOSD_BIN := $(BUILD)/$(ARCH)/nosd/tcp_closer
MUSL     := 1
endif

ifeq ($(firstword $(subst -, ,$(shell $(CXX) -dumpmachine))),x86_64)
BIN_FLAGS += -mno-sse
LTO_LINK  += -mno-sse
endif

ifneq ($(NO_SOCK_DESTROY),)
BIN       := $(NOSD_BIN)
BIN_SRCS  := $(filter-out $(SD_SRCS),$(BIN_SRCS))
BIN_FLAGS += -DTC_NO_SOCK_DESTROY
OBJ_ROOT  := $(OBJ_ROOT)/nosd
endif

# --- musl detection: every path comes from the toolchain -----------------
MUSL_GCC   := $(shell command -v musl-gcc 2>/dev/null)
MUSL       ?= $(if $(MUSL_GCC),1,0)
ifeq ($(MUSL),1)
ifneq ($(ARCH),)
MUSL_INC   := $(BUILD)/cross/$(ARCH)/musl/include
MUSL_LIB   := $(BUILD)/cross/$(ARCH)/musl/lib
else
MUSL_SPECS := $(shell sed -n 's/.*-specs "\([^"]*\)".*/\1/p' $(MUSL_GCC))
MUSL_INC   := $(shell tr ' ' '\n' < $(MUSL_SPECS) | grep '^/' | grep -v '%' | grep include | head -n1)
MUSL_LIB   := $(shell sed -n 's/^-L\([^ ]*\) .*/\1/p' $(MUSL_SPECS) | head -n1)
endif
CXX_INCS   := $(shell $(CXX) -E -x c++ -v - </dev/null 2>&1 | sed -n '/<\.\.\.> search starts/,/End of search/p' | sed -n '2,3p')
GCC_INC    := $(shell $(CXX) -print-file-name=include)
LIBGCC     := $(shell $(CXX) -print-libgcc-file-name)
MULTIARCH  := $(shell $(CC) -print-multiarch 2>/dev/null)
UAPI       := $(if $(ARCH),$(BUILD)/$(ARCH)/uapi,$(BUILD)/uapi)
# The kernel headers of the target CPU: those of Debian's
# linux-libc-dev-ARCH-cross under /usr/TRIPLET/include, or (the machine's
# own CPU) the system's.
UAPI_SRC   := $(if $(and $(ARCH),$(wildcard /usr/$(TRIPLET)/include/linux)),/usr/$(TRIPLET)/include,/usr/include)
BIN_FLAGS  += -nostdinc $(addprefix -isystem ,$(CXX_INCS)) -isystem $(MUSL_INC) -isystem $(GCC_INC) \
              -isystem $(UAPI) '-D__GLIBC_PREREQ(a,b)=0'
BIN_OBJDIR := $(OBJ_ROOT)/musl
# -z norelro and -z common-page-size=64: no page of padding before the data
# segment (musl does not apply RELRO to static binaries anyway).
BIN_LINK    = $(CXX) $(LTO_LINK) -static -nostdlib -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,-z,norelro -Wl,-z,common-page-size=64 -Wl,--build-id=none -s -o $@ \
              $(MUSL_LIB)/crt1.o $(MUSL_LIB)/crti.o $(filter %.o,$^) -Wl,--start-group $(MUSL_LIB)/libc.a $(LIBGCC) -Wl,--end-group $(MUSL_LIB)/crtn.o
BIN_PREREQ := $(UAPI)/.stamp
else
BIN_OBJDIR := $(OBJ_ROOT)/glibc
# The C driver links libc and libgcc but never libstdc++.
BIN_LINK    = $(CC) $(LTO_LINK) -static -Wl,--gc-sections -s -o $@ $(filter %.o,$^)
BIN_PREREQ :=
endif

BIN_OBJS := $(patsubst src/%.cpp,$(BIN_OBJDIR)/%.o,$(BIN_SRCS))

# --- tests: host toolchain, sanitizers, Catch2 ----------------------------
TEST_FLAGS := $(CXXSTD) $(WARN) -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -Isrc
UNIT_SRCS  := $(wildcard tests/unit/*.cpp)
INTEG_SRCS := $(wildcard tests/integration/*.cpp)
TEST_LIB_OBJS := $(patsubst src/%.cpp,$(BUILD)/test/src/%.o,$(LIB_SRCS))
UNIT_OBJS  := $(patsubst tests/%.cpp,$(BUILD)/test/%.o,$(UNIT_SRCS))
INTEG_OBJS := $(patsubst tests/%.cpp,$(BUILD)/test/%.o,$(INTEG_SRCS))
TEST_HDRS  := $(wildcard tests/*.hpp tests/*/*.hpp)

.PHONY: compile-fail all nosd cross cross-all test-cross test-cross-one test-old-i386 test-kernels deps test-deps fuzz-deps fuzz fuzz-smoke fuzz-seeds churn install uninstall package test-package image test-image test-kubernetes test unit integration demo bench bench-tiny bench-proc clean
all: $(BIN)

# musl and glibc builds share the binary's name: a stamp naming the libc
# makes switching MUSL relink instead of keeping the other build.
LIBC_STAMP := $(OBJ_ROOT)/.libc-$(if $(filter 1,$(MUSL)),musl,glibc)
$(LIBC_STAMP):
	@mkdir -p $(@D)
	@rm -f $(OBJ_ROOT)/.libc-*
	@touch $@

# The size budget of a musl build: 104 KiB on x86-64 (96 KiB until rules), 128 KiB elsewhere.
SIZE_LIMIT := $(if $(filter x86_64,$(or $(ARCH),$(shell uname -m))),106496,131072)

$(BIN): $(BIN_OBJS) $(LIBC_STAMP)
	$(call step,LINK,$@)
	$(Q)$(BIN_LINK)
	$(Q)$(OBJCOPY) --remove-section=.comment $@
	@file -L $@ | grep -q 'statically linked' || { echo "error: $@ is not statically linked"; exit 1; }
	@[ "$(MUSL)" != 1 ] || [ $$(stat -c %s $@) -le $(SIZE_LIMIT) ] || \
	    { echo "error: $@ is $$(stat -c %s $@) bytes, over the budget of $(SIZE_LIMIT)"; exit 1; }
	@echo "built $@ ($$(stat -c %s $@) bytes, $(if $(filter 1,$(MUSL)),musl,glibc) static)"

$(BIN_OBJDIR)/%.o: src/%.cpp $(HDRS) $(BIN_PREREQ)
	@mkdir -p $(@D)
	$(call step,CXX,$@)
	$(Q)$(CXX) $(BIN_FLAGS) -c -o $@ $<

# musl's include tree lacks the kernel UAPI dirs; the system include dir
# would drag glibc headers back in, so link just those three.
$(UAPI)/.stamp:
	$(Q)mkdir -p $(UAPI)
	$(Q)ln -sfn $(UAPI_SRC)/linux $(UAPI)/linux
	$(Q)ln -sfn $(UAPI_SRC)/asm-generic $(UAPI)/asm-generic
	$(Q)ln -sfn $$(test -d $(UAPI_SRC)/$(MULTIARCH)/asm && echo $(UAPI_SRC)/$(MULTIARCH)/asm || echo $(UAPI_SRC)/asm) $(UAPI)/asm
	$(Q)touch $@

$(BUILD)/test/src $(BUILD)/test/unit $(BUILD)/test/integration:
	$(Q)mkdir -p $@

$(BUILD)/test/src/%.o: src/%.cpp $(HDRS)
	@mkdir -p $(@D)
	$(call step,CXX,$@)
	$(Q)$(CXX) $(TEST_FLAGS) -c -o $@ $<
# Catch2's own main: compiled once, without our warning set.
$(BUILD)/test/unit/catch_main.o: tests/unit/catch_main.cpp | $(BUILD)/test/unit
	$(call step,CXX,$@)
	$(Q)$(CXX) $(CXXSTD) -O1 -g -fsanitize=address,undefined -w -c -o $@ $<
$(BUILD)/test/unit/%.o: tests/unit/%.cpp $(HDRS) $(TEST_HDRS) | $(BUILD)/test/unit
	$(call step,CXX,$@)
	$(Q)$(CXX) $(TEST_FLAGS) -Itests -c -o $@ $<
$(BUILD)/test/integration/netns_main.o: tests/integration/netns_main.cpp | $(BUILD)/test/integration
	$(call step,CXX,$@)
	$(Q)$(CXX) $(CXXSTD) -O1 -g -fsanitize=address,undefined -w -c -o $@ $<
$(BUILD)/test/integration/%.o: tests/integration/%.cpp $(HDRS) $(TEST_HDRS) | $(BUILD)/test/integration
	$(call step,CXX,$@)
	$(Q)$(CXX) $(TEST_FLAGS) -Itests -c -o $@ $<

$(BUILD)/unit_tests: $(UNIT_OBJS) $(TEST_LIB_OBJS)
	$(call step,LINK,$@)
	$(Q)$(CXX) $(TEST_FLAGS) -o $@ $^
$(BUILD)/integration_tests: $(INTEG_OBJS) $(TEST_LIB_OBJS)
	$(call step,LINK,$@)
	$(Q)$(CXX) $(TEST_FLAGS) -o $@ $^

deps:
	@sh scripts/install-deps.sh

# make test also needs the fuzzers' compiler and the packaging checkers.
test-deps:
	@sh scripts/install-deps.sh clang libclang-rt-dev lintian systemd qemu-user prometheus prometheus-node-exporter

# --- fuzzing: clang's libFuzzer over the pure code ------------------------
# make fuzz runs each harness for FUZZ_TIME seconds (make test: FUZZ_SMOKE)
# from its seed corpus in tests/fuzz/corpus/NAME; what it learns goes to
# build/fuzz/corpus/NAME, crashes to build/fuzz/.
FUZZ_CXX   ?= clang++
FUZZ_TIME  ?= 300
FUZZ_SMOKE ?= 10
FUZZERS    := netlink args values rules
FUZZ_FLAGS := $(CXXSTD) -O1 -g -Isrc -Itests -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LIB_OBJS := $(patsubst src/%.cpp,$(BUILD)/fuzz/src/%.o,$(LIB_SRCS))
FUZZ_BINS  := $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZERS))

$(BUILD)/fuzz/src/%.o: src/%.cpp $(HDRS)
	@mkdir -p $(@D)
	$(call step,CXX,$@)
	$(Q)$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.cpp $(FUZZ_LIB_OBJS) $(HDRS) $(TEST_HDRS)
	@mkdir -p $(@D)
	$(call step,LINK,$@)
	$(Q)$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS)

fuzz-deps:
	@sh scripts/install-deps.sh clang libclang-rt-dev

fuzz: fuzz-deps
	$(Q)$(MAKE) -j$(JOBS) $(FUZZ_BINS)
	$(Q)sh scripts/fuzz.sh $(FUZZ_TIME) $(FUZZERS)

# Seeds for fuzz_netlink from the real kernel, in a throwaway namespace.
fuzz-seeds: $(BUILD)/fuzz_capture
	mkdir -p tests/fuzz/corpus/netlink
	unshare -n sh -c 'ip link set lo up && ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up && \
	  ip addr add 192.0.2.10/24 dev v0 && ip -6 addr add 2001:db8::10/64 dev v0 nodad && \
	  ip route add local 198.51.100.0/24 dev lo && ./$(BUILD)/fuzz_capture tests/fuzz/corpus/netlink tests/unit'
$(BUILD)/fuzz_capture: tests/tools/fuzz_capture.cpp $(TEST_LIB_OBJS)
	$(call step,LINK,$@)
	$(Q)$(CXX) $(TEST_FLAGS) -o $@ $^

fuzz-smoke: fuzz-deps
	$(Q)$(MAKE) -j$(JOBS) $(FUZZ_BINS)
	$(call step,FUZZ,each fuzzer for $(FUZZ_SMOKE) s)
	$(Q)sh scripts/fuzz.sh $(FUZZ_SMOKE) $(FUZZERS)

unit: $(BUILD)/unit_tests
	./$(BUILD)/unit_tests

# Formats fmt() must refuse at compile time: every CASE of
# tests/compile_fail/fmt_refused.cpp but 0 must fail to compile.
FMT_REFUSED := 1 2 3 4 5 6 7 8 9 10 11 12
compile-fail:
	$(call step,TEST,formats fmt must refuse at compile time)
	@$(CXX) $(CXXSTD) -Isrc -fsyntax-only -DCASE=0 tests/compile_fail/fmt_refused.cpp || \
	    { echo "compile-fail: CASE 0 (the same calls done right) does not compile"; exit 1; }
	@for c in $(FMT_REFUSED); do \
	    if $(CXX) $(CXXSTD) -Isrc -fsyntax-only -DCASE=$$c tests/compile_fail/fmt_refused.cpp 2>/dev/null; then \
	        echo "compile-fail: CASE $$c of tests/compile_fail/fmt_refused.cpp compiled"; exit 1; fi; \
	done
	@echo "compile-fail: fmt refused all $(words $(FMT_REFUSED)) bad formats at compile time"

# The integration tests unshare their own network namespace before they
# open any socket; they need root (CAP_SYS_ADMIN for unshare).
integration: $(BIN) $(BUILD)/integration_tests $(BUILD)/churn
	TC_MODE=sock_destroy ./$(BUILD)/integration_tests

JOBS ?= $(shell nproc 2>/dev/null || echo 2)

nosd:
	$(Q)$(MAKE) NO_SOCK_DESTROY=1 all

# The integration suite runs three times: SOCK_DESTROY, --use_proc on the
# same binary, and the NO_SOCK_DESTROY=1 binary; then its [core] cases run
# once more with the binary under qemu-x86_64, which has no NETLINK_SOCK_DIAG
# (the /proc/net path; see tests/integration/harness.hpp).
test: test-deps
	$(Q)$(MAKE) -j$(JOBS) all $(BUILD)/unit_tests $(BUILD)/integration_tests $(BUILD)/conn_holder $(BUILD)/churn $(BUILD)/old_kernel
	$(Q)$(MAKE) -j$(JOBS) NO_SOCK_DESTROY=1 all
	$(call step,TEST,unit tests)
	$(Q)bash tests/pass.sh unit ./$(BUILD)/unit_tests
	$(Q)$(MAKE) compile-fail
	$(call step,TEST,integration tests: SOCK_DESTROY)
	$(Q)TC_MODE=sock_destroy bash tests/pass.sh sock_destroy ./$(BUILD)/integration_tests
	$(call step,TEST,integration tests: --use_proc)
	$(Q)TC_MODE=use_proc bash tests/pass.sh use_proc ./$(BUILD)/integration_tests
	$(call step,TEST,integration tests: NO_SOCK_DESTROY=1 binary)
	$(Q)TC_MODE=nosd TCP_CLOSER=$(NOSD_BIN) bash tests/pass.sh nosd ./$(BUILD)/integration_tests
	$(call step,TEST,integration tests [core] [stalled] [arm]: /proc/net on this kernel (seccomp hides NETLINK_SOCK_DIAG; tcp_info from the holders))
	$(Q)TC_MODE=procnet bash tests/pass.sh procnet ./$(BUILD)/integration_tests "[core],[stalled],[arm]"
	$(call step,TEST,integration tests [core]: under qemu-x86_64)
	$(Q)TC_MODE=qemu TC_QEMU=qemu-x86_64 bash tests/pass.sh qemu-x86_64 ./$(BUILD)/integration_tests "$(QEMU_USER_CASES)"
	$(Q)$(MAKE) test-cross-one ARCH=aarch64
	$(Q)$(MAKE) test-old-i386
	$(Q)$(MAKE) test-kernels
	$(Q)$(MAKE) bench-tiny
	$(Q)$(MAKE) test-package
	$(Q)$(MAKE) test-image
	$(Q)$(MAKE) test-kubernetes
	$(Q)$(MAKE) fuzz-smoke

# --- install and the Debian package ---------------------------------------
PREFIX ?= /usr/local
INSTALLED := $(DESTDIR)$(PREFIX)/sbin/tcp_closer $(DESTDIR)$(PREFIX)/share/man/man8/tcp_closer.8 \
             $(DESTDIR)$(PREFIX)/share/bash-completion/completions/tcp_closer

install: all
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/tcp_closer
	install -D -m 0644 scripts/tcp_closer.8 $(DESTDIR)$(PREFIX)/share/man/man8/tcp_closer.8
	install -D -m 0644 scripts/tcp_closer.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/tcp_closer

# Removes exactly what install put there, then those directories if empty.
uninstall:
	rm -f $(INSTALLED)
	-rmdir $(dir $(INSTALLED)) 2>/dev/null

# build/tcp-closer_VERSION_ARCH.deb (scripts/package.sh).
package: all
	sh scripts/package.sh $(BIN) $(MUSL)

# build/tcp_closer-oci.tar: an OCI image of the binary alone, built with
# umoci (scripts/image.sh); it prints the manifest's digest.
IMAGE := $(dir $(BIN))tcp_closer-oci.tar
image: all
	@sh scripts/install-deps.sh umoci libcap2-bin
	$(call step,IMAGE,$(IMAGE))
	$(Q)sh scripts/image.sh $(BIN) $(IMAGE)

# The image run by runc and podman (tests/image/test_image.sh), in make test.
test-image: all $(BUILD)/conn_holder
	@sh scripts/install-deps.sh umoci libcap2-bin runc jq podman
	$(call step,TEST,the OCI image under runc and podman)
	$(Q)sh tests/image/test_image.sh

# The Kubernetes manifests against the binary and the README
# (tests/kubernetes/test_manifests.py), in make test.
test-kubernetes: all
	@sh scripts/install-deps.sh python3 python3-yaml
	$(call step,TEST,the Kubernetes manifests)
	$(Q)/usr/bin/python3 tests/kubernetes/test_manifests.py

# The package and install tests (tests/package/test_package.sh), in make test.
test-package: all
	$(call step,TEST,the Debian package and make install)
	$(Q)sh tests/package/test_package.sh

# make cross ARCH=...: the cross compiler (installed from Debian), musl for
# that CPU (built once, cached), then both binaries: build/ARCH/tcp_closer
# and build/ARCH/nosd/tcp_closer. make cross-all: every ARCH.
cross:
	@test -n "$(ARCH)" || { echo "make cross ARCH=one of: $(CROSS_ARCHS)"; exit 1; }
	@sh scripts/install-deps.sh g++-$(subst _,-,$(TRIPLET)) dpkg-dev
	$(Q)sh scripts/cross-musl.sh $(ARCH) $(TRIPLET)
	$(Q)$(MAKE) ARCH=$(ARCH) all
	$(Q)$(MAKE) ARCH=$(ARCH) NO_SOCK_DESTROY=1 all

cross-all:
	$(Q)for a in $(CROSS_ARCHS); do $(MAKE) cross ARCH=$$a || exit 1; done

# The integration tests' core cases against both binaries of one ARCH under
# qemu's user-mode emulation (no NETLINK_SOCK_DIAG there: the /proc/net
# path). make test does aarch64; make test-cross every ARCH.
QEMU_aarch64 := qemu-aarch64
QEMU_armhf   := qemu-arm
QEMU_riscv64 := qemu-riscv64
QEMU_i386    := qemu-i386
QEMU_x86_64  := qemu-x86_64
# Under qemu's user mode TCP_INFO comes back short: the [idle] cases run in
# real kernels instead (make test-kernels), and the one that checks the
# fallback (nothing idle, said once) runs here.
QEMU_USER_CASES := [core]~[idle],[qemu_user]
test-cross-one:
	@test -x $(BUILD)/integration_tests || { echo "build $(BUILD)/integration_tests first (make test-cross does)"; exit 1; }
	$(Q)$(MAKE) cross ARCH=$(ARCH)
	$(call step,TEST,integration tests [core]: the $(ARCH) binary under $(QEMU_$(ARCH)))
	$(Q)TC_MODE=qemu TC_QEMU=$(QEMU_$(ARCH)) TCP_CLOSER=$(BUILD)/$(ARCH)/tcp_closer bash tests/pass.sh qemu-$(ARCH) ./$(BUILD)/integration_tests "$(QEMU_USER_CASES)"
	$(call step,TEST,integration tests [core]: the $(ARCH) NO_SOCK_DESTROY=1 binary under $(QEMU_$(ARCH)))
	$(Q)TC_MODE=qemu TC_QEMU=$(QEMU_$(ARCH)) TCP_CLOSER=$(BUILD)/$(ARCH)/nosd/tcp_closer bash tests/pass.sh qemu-$(ARCH)-nosd ./$(BUILD)/integration_tests "$(QEMU_USER_CASES)"

# Real Debian kernels booted under QEMU (software emulation), the [core]
# cases in each in four passes (scripts/test_kernels.sh; tests/README.md).
# A kernel whose packages cannot be fetched is reported SKIP, never PASS.
TEST_KERNELS ?= bullseye:amd64 bookworm:amd64 trixie:amd64 bullseye:arm64 bookworm:arm64
test-kernels: all nosd
	@sh scripts/install-deps.sh qemu-system-x86 qemu-system-arm busybox-static xz-utils g++-aarch64-linux-gnu
	$(Q)$(MAKE) NO_SOCK_DESTROY=1 all
	$(Q)$(MAKE) cross ARCH=aarch64
	$(call step,TEST,the [core] cases inside real kernels under QEMU: $(TEST_KERNELS))
	$(Q)KERNELS="$(TEST_KERNELS)" BUILD=$(BUILD) bash scripts/test_kernels.sh

# The i386 binary run natively (x86-64 hosts) as on a kernel before 4.3,
# where 32-bit programs reach socket calls only through socketcall(2).
# Not every x86-64 kernel executes 32-bit programs (no IA32 emulation, or
# ia32_emulation=0): old_kernel says so with exit status 125 (ENOEXEC).
# There this pass is reported SKIPPED, the machine's reason given, and the
# i386 binaries' [core] cases run under qemu-i386 instead (the 32-bit code
# still runs; socketcall is not exercised, qemu makes the direct calls).
test-old-i386: $(BUILD)/integration_tests $(BUILD)/old_kernel
	$(Q)$(MAKE) cross ARCH=i386
	$(Q)rc=0; ./$(BUILD)/old_kernel --i386-before-4.3 $(BUILD)/i386/tcp_closer --version \
	    >/dev/null 2>$(BUILD)/i386/exec-probe.err || rc=$$?; \
	if [ $$rc = 0 ]; then \
	    printf '  %-8s %s\n' TEST 'integration tests [core]: the i386 binary as on Linux before 4.3 (socketcall only)'; \
	    TC_MODE=old_i386 TCP_CLOSER=$(BUILD)/i386/tcp_closer bash tests/pass.sh old_i386 ./$(BUILD)/integration_tests "[core]"; \
	elif [ $$rc = 125 ]; then \
	    printf '  %-8s %s\n' SKIPPED "integration tests [core]: the i386 binary as on Linux before 4.3: this kernel cannot execute 32-bit programs ($$(cat $(BUILD)/i386/exec-probe.err)); the i386 binaries run under qemu-i386 instead"; \
	    $(MAKE) test-cross-one ARCH=i386; \
	else \
	    cat $(BUILD)/i386/exec-probe.err; echo "error: the i386 binary failed to start (exit status $$rc)"; exit 1; \
	fi

test-cross: test-deps
	$(MAKE) -j$(JOBS) $(BUILD)/integration_tests $(BUILD)/conn_holder
	for a in $(CROSS_ARCHS); do $(MAKE) test-cross-one ARCH=$$a || exit 1; done

# The churn test at full length (make test runs it for 5 s in each mode).
churn: all $(BUILD)/integration_tests $(BUILD)/churn
	CHURN_SECS=$${CHURN_SECS:-30} TC_MODE=sock_destroy ./$(BUILD)/integration_tests "[churn]"
	CHURN_SECS=$${CHURN_SECS:-30} TC_MODE=use_proc ./$(BUILD)/integration_tests "[churn]"

demo: deps
	$(MAKE) all $(BUILD)/conn_holder
	sh scripts/demo.sh $(BIN) $(BUILD)/conn_holder

BENCH_TOOLS := $(BUILD)/conn_holder $(BUILD)/floor $(BUILD)/dgram_sink
bench: all $(BENCH_TOOLS)
	bash scripts/bench.sh

# The benchmark at a tiny size, only to keep the script working (make test).
bench-tiny: all $(BENCH_TOOLS)
	$(call step,BENCH,scripts/bench.sh at a tiny size (the script still works))
	$(Q)KILL=200 OTHER=200 UDP_KILL=200 UDP_OTHER=200 VIP_KILL=200 VIP_OTHER=200 VIP_IDLE_SECS=1 NETNS_N=3 NETNS_CONNS=20 NETNS_SECS=1 NETNS_SS_ROUNDS=1 PER=100 RUNS=1 QUIET_SECS=1 RULES_SECS=1 bash scripts/bench.sh

bench-proc: all nosd $(BUILD)/conn_holder
	bash scripts/bench_proc.sh

$(BUILD)/conn_holder: tests/tools/conn_holder.cpp
	@mkdir -p $(BUILD)
	$(call step,CXX,$@)
	$(Q)$(CXX) $(CXXSTD) -O2 -o $@ $<
$(BUILD)/churn: tests/tools/churn.cpp
	@mkdir -p $(BUILD)
	$(call step,CXX,$@)
	$(Q)$(CXX) $(CXXSTD) -O2 -o $@ $<
$(BUILD)/floor: tests/tools/floor.cpp
	@mkdir -p $(BUILD)
	$(call step,CXX,$@)
	$(Q)$(CXX) $(CXXSTD) -O2 -pthread -o $@ $<
$(BUILD)/old_kernel: tests/tools/old_kernel.cpp
	@mkdir -p $(BUILD)
	$(call step,CXX,$@)
	$(Q)$(CXX) $(CXXSTD) -O2 -o $@ $<
$(BUILD)/dgram_sink: tests/tools/dgram_sink.cpp
	@mkdir -p $(BUILD)
	$(call step,CXX,$@)
	$(Q)$(CXX) $(CXXSTD) -O2 -o $@ $<

clean:
	rm -rf $(BUILD)
