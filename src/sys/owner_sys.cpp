#include "sys/owner_sys.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/fmt.hpp"
#include "proc/procnet.hpp"
#include "sys/sys.hpp"

namespace tc::sys {
namespace {

// Calls fn(ctx, line) for every line of the file at `path` (one function
// for every caller: the line splitter is a template).
Status each_line(const char* path, const char* what, void (*fn)(void*, std::string_view), void* ctx) {
    Fd f(open_at(AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
    if (!f.valid()) return make_error(errno, what);
    LineSplitter lines;
    auto take = [&](std::string_view line) { fn(ctx, line); };
    uint8_t buf[4096];
    while (true) {
        const ssize_t n = read(f.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return make_error(errno, what);
        if (n == 0) break;
        lines.feed(std::span<const uint8_t>(buf, static_cast<size_t>(n)), take);
    }
    lines.finish(take);
    return {};
}

struct UserLookup {
    const char* name;
    uint32_t* uid;
    bool found;
};

void user_line(void* ctx, std::string_view line) {
    auto* u = static_cast<UserLookup*>(ctx);
    u->found = u->found || passwd_line_uid(line, u->name, *u->uid);
}

constexpr size_t kMountMax = 256;  // the cgroup2 mount point, NUL included

void mount_line(void* ctx, std::string_view line) {
    char* mount = static_cast<char*>(ctx);
    if (!mount[0]) mountinfo_cgroup2(line, mount, kMountMax);
}

// The cgroup v2 id of a directory: its kernfs file handle (8 bytes).
Status cgroup_id(const char* mount, const char* value, uint64_t& id) {
    char path[4096];
    if (!cgroup_dir(mount, value, path, sizeof path)) return usage_error(ENAMETOOLONG, "cgroup path too long");
    Fd dir(open_at(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid() && (errno == ENOENT || errno == ENOTDIR)) return usage_error(errno, "no such cgroup directory");
    if (!dir.valid()) return make_error(errno, "cannot open the cgroup directory");
    struct statfs fs;
    if (fstatfs(dir.get(), &fs) != 0) return make_error(errno, "cannot statfs the cgroup");
    if (fs.f_type != CGROUP2_SUPER_MAGIC) return usage_error(ENOTDIR, "not a cgroup v2 directory");
    struct {  // struct file_handle with room for kernfs's 8 bytes
        uint32_t bytes;
        int32_t type;
        uint64_t id;
    } h{sizeof(uint64_t), 0, 0};
    int mount_id = 0;
    if (syscall(SYS_name_to_handle_at, dir.get(), "", &h, &mount_id, AT_EMPTY_PATH) != 0)
        return make_error(errno, "cannot read the cgroup id of");
    id = h.id;
    return {};
}

}  // namespace

Status resolve_owner(OwnerSel& o, OwnerProblem& why) {
    for (size_t i = 0; i < o.n_pid; ++i) {
        char path[32];
        fmt(path, sizeof path, "/proc/%d", o.pid[i]);
        if (access(path, F_OK) == 0) continue;
        fmt(why.number, sizeof why.number, "%d", o.pid[i]);
        why.value = why.number;
        return make_error(ESRCH, "no process");
    }
    for (size_t i = 0; i < o.n_uid; ++i) {
        if (!o.uid_name[i]) continue;
        why = {o.uid_name[i], "; a numeric uid works without it (--uid 1000)"};
        UserLookup u{o.uid_name[i], &o.uid[i], false};
        if (Status s = each_line("/etc/passwd", "cannot read /etc/passwd to look up user", user_line, &u); !s)
            return s;
        why.hint = nullptr;
        if (!u.found) return usage_error(ENOENT, "unknown user");
    }
    if (o.n_cgroup) {
        char mount[kMountMax] = "";
        why = {o.cgroup_path[0], "; --cgroup needs /proc mounted"};
        if (Status s = each_line("/proc/self/mountinfo", "cannot read /proc/self/mountinfo to find the cgroup2 mount for",
                                 mount_line, mount);
            !s)
            return s;
        why.hint = nullptr;
        if (!mount[0]) return make_error(ENOENT, "no cgroup v2 file system is mounted for");
        for (size_t i = 0; i < o.n_cgroup; ++i) {
            why.value = o.cgroup_path[i];
            if (Status c = cgroup_id(mount, o.cgroup_path[i], o.cgroup[i]); !c) return c;
        }
    }
    if (o.n_dev) {
        Fd sock(new_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (!sock.valid()) return make_error(errno, "cannot open a socket to look up interface");
        for (size_t i = 0; i < o.n_dev; ++i) {
            why.value = o.dev_name[i];
            ifreq req{};
            std::memcpy(req.ifr_name, o.dev_name[i], std::strlen(o.dev_name[i]));  // at most 15 (parse_args)
            if (ioctl(sock.get(), SIOCGIFINDEX, &req) != 0) {
                if (errno == ENODEV) return usage_error(ENODEV, "no such network interface");
                return make_error(errno, "cannot look up network interface");
            }
            o.ifindex[i] = static_cast<uint32_t>(req.ifr_ifindex);
        }
    }
    return {};
}

}  // namespace tc::sys
