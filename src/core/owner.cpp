#include "core/owner.hpp"

#include <cstring>

#include "core/text.hpp"

namespace tc {
namespace {

bool parse_u32(std::string_view t, uint32_t& out) {
    uint64_t v = 0;
    if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
        t = sv_tail(t, 2);
        if (t.size() > 8) return false;
        for (char c : t) {
            const int d = hex_digit(c);
            if (d < 0) return false;
            v = v << 4 | static_cast<uint64_t>(d);
        }
    } else if (!parse_uint(t, UINT32_MAX, v)) {
        return false;
    }
    out = static_cast<uint32_t>(v);
    return true;
}

// The n-th field (0-based) of a line split by `sep`.
std::string_view field(std::string_view line, size_t n, char sep) {
    size_t start = 0;
    for (; n > 0; --n) {
        const size_t at = sv_find(line, sep, start);
        if (at == std::string_view::npos) return {};
        start = at + 1;
    }
    const size_t end = sv_find(line, sep, start);
    return sv_head(sv_tail(line, start), end == std::string_view::npos ? line.size() : end - start);
}

}  // namespace

bool parse_mark(std::string_view text, MarkSel& out) {
    const size_t slash = sv_find(text, '/');
    MarkSel m;
    m.mask = UINT32_MAX;
    if (!parse_u32(sv_head(text, slash), m.value)) return false;
    if (slash != std::string_view::npos && !parse_u32(sv_tail(text, slash + 1), m.mask)) return false;
    if (m.value & ~m.mask) return false;
    out = m;
    return true;
}

bool process_selected(const OwnerSel& o, int32_t pid, const char* comm) {
    bool pid_ok = o.n_pid == 0, comm_ok = o.n_comm == 0;
    for (size_t i = 0; i < o.n_pid; ++i) pid_ok |= o.pid[i] == pid;
    for (size_t i = 0; i < o.n_comm; ++i) comm_ok |= std::strcmp(o.comm[i], comm) == 0;
    return pid_ok && comm_ok;
}

bool passwd_line_uid(std::string_view line, std::string_view name, uint32_t& uid) {
    uint64_t v = 0;
    if (name.empty() || field(line, 0, ':') != name || !parse_uint(field(line, 2, ':'), UINT32_MAX, v)) return false;
    uid = static_cast<uint32_t>(v);
    return true;
}

bool mountinfo_cgroup2(std::string_view line, char* out, size_t cap) {
    // "36 25 0:31 / /sys/fs/cgroup/unified rw,... shared:10 - cgroup2 cgroup2 rw,..."
    // the fields after the optional ones start after " - "
    size_t dash = 0;
    while ((dash = sv_find(line, '-', dash + 1)) != std::string_view::npos &&
           (line[dash - 1] != ' ' || sv_head(sv_tail(line, dash + 1), 1) != " ")) {
    }
    if (dash == std::string_view::npos || field(sv_tail(line, dash + 2), 0, ' ') != "cgroup2") return false;
    const std::string_view mount = field(line, 4, ' ');
    // (A NUL would cut the path the caller opens: not a mount point.)
    if (mount.empty() || mount.size() >= cap || sv_find(mount, '\0') != std::string_view::npos) return false;
    std::memcpy(out, mount.data(), mount.size());
    out[mount.size()] = '\0';
    return true;
}

bool cgroup_dir(const char* mount, const char* value, char* out, size_t cap) {
    const size_t m = std::strlen(mount), v = std::strlen(value);
    const bool full = v >= m && std::memcmp(value, mount, m) == 0 && (value[m] == '/' || value[m] == '\0');
    const size_t head = full ? 0 : m + (value[0] != '/');
    if (head + v >= cap) return false;
    std::memcpy(out, mount, m);
    out[m] = '/';
    std::memcpy(out + head, value, v + 1);
    return true;
}

}  // namespace tc
