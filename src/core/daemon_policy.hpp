// Decisions of the run that are not about one socket: which capability a
// run needs, and which poll errors a daemon rides out. Pure.
#pragma once

#include <cstdint>

namespace tc {

// Capability numbers from <linux/capability.h>.
constexpr int kCapDacReadSearch = 2;
constexpr int kCapKill = 5;
constexpr int kCapNetAdmin = 12;
constexpr int kCapSysPtrace = 19;
constexpr int kCapSysAdmin = 21;

struct CapNeed {
    int cap;
    const char* name;  // "CAP_NET_ADMIN"
    const char* why;   // "to destroy sockets with SOCK_DESTROY"
};

struct RunNeeds {
    bool dry_run = false;      // a dump needs no capability
    bool proc_path = false;    // /proc path instead of SOCK_DESTROY
    bool other_netns = false;  // --netns / --all-netns: setns
    bool all_netns = false;    // --all-netns: reading other processes' /proc/PID/ns/net
    bool read_marks = false;   // --mark: the kernel shows socket marks only to CAP_NET_ADMIN
    bool find_processes = false;  // --pid/--comm: other processes' /proc/PID/fd
};

// The first capability the run needs that `effective` (bit n = capability
// n) lacks, or nullptr when nothing is missing.
const CapNeed* missing_capability(uint64_t effective, const RunNeeds& needs);

// A daemon keeps polling after a poll that failed with a transient error
// (ENOBUFS, EINTR, a namespace that vanished, a netlink hiccup) and stops
// with exit 1 on a lasting one (permission, protocol or family missing).
bool poll_error_is_lasting(int err);

// Does this error from opening a NETLINK_SOCK_DIAG socket mean the kernel
// (or an emulator such as qemu's user mode) has none? Then sockets are
// found in /proc/net instead.
bool sock_diag_missing(int err);

}  // namespace tc
