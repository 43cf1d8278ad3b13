// Selection by owner: user, firewall mark, bound interface, cgroup v2,
// process id and command name. Pure: the values the user gave, the parsers
// for them, and the lookups in /etc/passwd and /proc/self/mountinfo text
// (the files themselves are read by sys/owner_sys.cpp).
//
// Within one kind any value matches; kinds are AND-ed with each other and
// with the rest of the selection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tc {

struct MarkSel {
    uint32_t value = 0;  // already masked
    uint32_t mask = 0;
};

struct OwnerSel {
    static constexpr size_t kMax = 8;  // values per kind

    uint8_t n_uid = 0, n_mark = 0, n_dev = 0, n_cgroup = 0, n_pid = 0, n_comm = 0;
    uint32_t uid[kMax] = {};
    const char* uid_name[kMax] = {};     // a name to look up, or nullptr (a number)
    MarkSel mark[kMax] = {};
    uint32_t ifindex[kMax] = {};         // filled from dev_name at start-up
    const char* dev_name[kMax] = {};
    uint64_t cgroup[kMax] = {};          // cgroup v2 ids, filled from cgroup_path at start-up
    const char* cgroup_path[kMax] = {};  // as the user wrote it
    int32_t pid[kMax] = {};
    const char* comm[kMax] = {};         // at most 15 characters, NUL-terminated (argv)

    // Kinds the kernel filter can express (newer ops than the port ones).
    bool kernel_ops() const { return n_dev || n_mark || n_cgroup; }
    // Kinds that need the walk over /proc.
    bool processes() const { return n_pid || n_comm; }
    bool any() const { return n_uid || kernel_ops() || processes(); }
};

// "VALUE" or "VALUE/MASK", each decimal or 0x-hex, 32 bits; no bits of
// VALUE outside MASK (the kernel compares mark & MASK with VALUE, so such a
// value could never match). Without a mask, all 32 bits.
bool parse_mark(std::string_view text, MarkSel& out);

// Does the process with this command name (as /proc/PID/comm has it, at
// most 15 characters) belong to the --pid/--comm selection?
bool process_selected(const OwnerSel& o, int32_t pid, const char* comm);

// One /etc/passwd line: the uid of user `name`, if the line is that user's.
bool passwd_line_uid(std::string_view line, std::string_view name, uint32_t& uid);

// One /proc/self/mountinfo line: the mount point of a cgroup2 file system
// (copied into out, NUL-terminated), if the line is one.
bool mountinfo_cgroup2(std::string_view line, char* out, size_t cap);

// The directory a --cgroup value names, given the cgroup2 mount point: a
// path that starts with the mount point is taken as it is, any other is
// below the mount ("/system.slice/x" -> "/sys/fs/cgroup/system.slice/x").
// False if the result does not fit.
bool cgroup_dir(const char* mount, const char* value, char* out, size_t cap);

}  // namespace tc
