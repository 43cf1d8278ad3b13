#include "core/run_policy.hpp"

#include <cerrno>

#include "core/text.hpp"

namespace tc {

const CapNeed* missing_capability(uint64_t effective, const RunNeeds& needs) {
    static constexpr CapNeed kNetns{kCapSysAdmin, "CAP_SYS_ADMIN", "to enter other network namespaces"};
    static constexpr CapNeed kDestroy{kCapNetAdmin, "CAP_NET_ADMIN", "to destroy sockets with SOCK_DESTROY"};
    static constexpr CapNeed kPtrace{kCapSysPtrace, "CAP_SYS_PTRACE",
                                     "to reach other processes' sockets through /proc"};
    // /proc/PID/fd of another user's process is a 0500 directory: listing
    // it takes CAP_DAC_READ_SEARCH; reading its links takes CAP_SYS_PTRACE.
    static constexpr CapNeed kList{kCapDacReadSearch, "CAP_DAC_READ_SEARCH",
                                   "to list other processes' descriptors in /proc"};
    static constexpr CapNeed kKill{kCapKill, "CAP_KILL", "to kill the owners of sockets as the last resort"};
    auto has = [&](const CapNeed& c) { return (effective >> c.cap) & 1; };
    static constexpr CapNeed kFindNetns{kCapSysPtrace, "CAP_SYS_PTRACE",
                                        "to find the network namespaces of other processes"};
    if (needs.other_netns && !has(kNetns)) return &kNetns;
    if (needs.all_netns && !has(kFindNetns)) return &kFindNetns;
    static constexpr CapNeed kMarks{kCapNetAdmin, "CAP_NET_ADMIN", "to read socket marks (--mark)"};
    if (needs.read_marks && !has(kMarks)) return &kMarks;
    if (needs.find_processes && !has(kPtrace)) return &kPtrace;
    if (needs.find_processes && !has(kList)) return &kList;
    if (needs.dry_run) return nullptr;
    if (needs.arms && !has(kPtrace)) return &kPtrace;
    if (needs.arms && !has(kList)) return &kList;
    if (!needs.ends) return nullptr;
    if ((!needs.proc_path || needs.sock_destroy_too) && !has(kDestroy)) return &kDestroy;
    if (!needs.proc_path) return nullptr;
    if (!has(kPtrace)) return &kPtrace;
    if (!has(kList)) return &kList;
    if (!has(kKill)) return &kKill;
    return nullptr;
}

RunPolicy::RunPolicy(bool dry_run, bool proc_path, bool other_netns, bool all_netns, bool read_marks,
                     bool find_processes, bool arms, bool ends) {
    needs_.dry_run = dry_run;
    needs_.proc_path = proc_path;
    needs_.other_netns = other_netns;
    needs_.all_netns = all_netns;
    needs_.read_marks = read_marks;
    needs_.find_processes = find_processes;
    needs_.arms = arms;
    needs_.ends = ends;
}

const CapNeed* RunPolicy::missing_before_path(uint64_t effective) const {
    RunNeeds before = needs_;
    before.dry_run = true;  // everything but the path
    return missing_capability(effective, before);
}

const CapNeed* RunPolicy::use_proc_path(uint64_t effective, bool sock_destroy_too) {
    needs_.proc_path = true;
    needs_.sock_destroy_too = sock_destroy_too;
    return missing(effective);
}

const CapNeed* RunPolicy::lost_capability(uint64_t effective, int err) const {
    if (err != EPERM && err != EACCES) return nullptr;
    return missing(effective);
}

bool kernel_reports_sockopt(std::string_view release) {
    uint64_t major = 0, minor = 0;
    const size_t dot = sv_find(release, '.');
    if (dot == std::string_view::npos || !parse_uint(sv_head(release, dot), 1000, major)) return false;
    std::string_view rest = sv_tail(release, dot + 1);
    size_t end = 0;
    while (end < rest.size() && rest[end] >= '0' && rest[end] <= '9') ++end;
    if (!parse_uint(sv_head(rest, end), 1000, minor)) return false;
    return major > 5 || (major == 5 && minor >= 10);
}

bool poll_error_is_lasting(int err) {
    switch (err) {
        case EPERM:
        case EACCES:
        case EPROTONOSUPPORT:
        case EAFNOSUPPORT:
        case ENOMEM:
            return true;
        default:
            return false;
    }
}

bool sock_diag_missing(int err) {
    return err == EPROTONOSUPPORT || err == EAFNOSUPPORT || err == EPFNOSUPPORT || err == ESOCKTNOSUPPORT;
}

}  // namespace tc
