// Decisions of the run that are not about one socket: which capability a
// run needs (for the path it ends connections on, which can change while it
// runs), and which poll errors a daemon rides out. Pure.
#pragma once

#include <cstdint>
#include <string_view>

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
    bool proc_path = false;    // /proc path instead of SOCK_DESTROY (for some protocol)
    bool sock_destroy_too = false;  // proc_path for one protocol, SOCK_DESTROY for the other
    bool other_netns = false;  // --netns / --all-netns: setns
    bool all_netns = false;    // --all-netns: reading other processes' /proc/PID/ns/net
    bool read_marks = false;   // --mark: the kernel shows socket marks only to CAP_NET_ADMIN
    bool find_processes = false;  // --pid/--comm: other processes' /proc/PID/fd
    bool arms = false;         // --arm-*: other processes' sockets through /proc
    bool ends = true;          // some rule ends connections (not all of them arm)
};

// The first capability the run needs that `effective` (bit n = capability
// n) lacks, or nullptr when nothing is missing.
const CapNeed* missing_capability(uint64_t effective, const RunNeeds& needs);

// What the run needs now, kept in one place: the options fix most of it,
// the path (SOCK_DESTROY or /proc) is chosen at start-up and may change
// once, when the engine finds the kernel without tcp_diag and switches to
// the /proc/net tables; every capability check uses the needs of the path
// in use at that moment.
class RunPolicy {
public:
    // `proc_path`: /proc from the start (--use_proc, --kill_owner, or a
    // build without SOCK_DESTROY).
    RunPolicy(bool dry_run, bool proc_path, bool other_netns, bool all_netns, bool read_marks, bool find_processes,
              bool arms = false, bool ends = true);

    bool dry_run() const { return needs_.dry_run; }
    // Connections are ended through /proc (never in a dry run, which ends nothing).
    bool proc_path() const { return needs_.proc_path && !needs_.dry_run; }
    // Some connections are ended with SOCK_DESTROY (its socket is needed).
    bool sock_destroy() const {
        return !needs_.dry_run && needs_.ends && (!needs_.proc_path || needs_.sock_destroy_too);
    }
    const RunNeeds& needs() const { return needs_; }

    // What must be there before the path is chosen (entering namespaces,
    // reading marks, finding processes).
    const CapNeed* missing_before_path(uint64_t effective) const;
    // Everything the run needs on its path.
    const CapNeed* missing(uint64_t effective) const { return missing_capability(effective, needs_); }
    // From now on through /proc (with `sock_destroy_too`: one protocol
    // only, the other still by SOCK_DESTROY): the capability the run then
    // needs and `effective` lacks, or nullptr.
    const CapNeed* use_proc_path(uint64_t effective, bool sock_destroy_too = false);
    // A connection of a daemon's poll failed with `err`: the capability
    // lost since start-up (by the needs of the path in use now), if that is
    // why.
    const CapNeed* lost_capability(uint64_t effective, int err) const;

private:
    RunNeeds needs_;
};

// Does a kernel of this release (uname -r: "5.10.0-8-amd64") report
// IP_TRANSPARENT and IP_FREEBIND in its socket dumps (INET_DIAG_SOCKOPT,
// Linux 5.10)? --src-removed relies on it unless --src bounds it.
bool kernel_reports_sockopt(std::string_view release);

// A daemon keeps polling after a poll that failed with a transient error
// (ENOBUFS, EINTR, a namespace that vanished, a netlink hiccup) and stops
// with exit 1 on a lasting one (permission, protocol or family missing).
bool poll_error_is_lasting(int err);

// Does this error from opening a NETLINK_SOCK_DIAG socket mean the kernel
// (or an emulator such as qemu's user mode) has none? Then sockets are
// found in /proc/net instead.
bool sock_diag_missing(int err);

}  // namespace tc
