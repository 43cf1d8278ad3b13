#include "sys/netns.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/fmt.hpp"
#include "proc/procfs.hpp"
#include "sys/dirent_walk.hpp"
#include "sys/sys.hpp"

namespace tc::sys {

Result<int> open_netns(const char* path) {
    int fd = open_at(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(errno, "cannot open the network namespace");
    // NS_GET_NSTYPE (4.11): refuse a file that is not a network namespace.
    int type = ioctl(fd, NS_GET_NSTYPE);
    if (type >= 0 && type != CLONE_NEWNET) {
        close(fd);
        return make_error(EINVAL, "not a network namespace");
    }
    return fd;
}

Status enter_netns(int fd) {
    if (setns(fd, CLONE_NEWNET) != 0) return make_error(errno, "cannot enter the network namespace");
    return {};
}

namespace {

// Each directory entry of `dir` (getdents64), as a NUL-terminated name.
template <typename Fn>
void each_entry(const char* dir, Fn fn) {
    Fd d(open_at(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!d.valid()) return;
    alignas(8) uint8_t buf[8192];
    (void)each_dirent(d.get(), buf, [&](std::string_view name) {
        fn(name);
        return true;
    });
}

}  // namespace

Status list_netns(NetnsList& out) {
    out.clear();
    bool ok = true;
    auto add = [&](std::string_view name, const char* path) {
        struct stat st{};
        if (stat_at(AT_FDCWD, path, &st, 0) != 0) return;  // vanished, or not ours to see
        ok = ok && out.add(st.st_dev, st.st_ino, name, path);
    };
    // Named ones (as ip netns makes them), then every process's.
    for (const char* dir : {"/var/run/netns", "/proc"}) {
        const bool named = dir[1] == 'v';
        each_entry(dir, [&](std::string_view name) {
            char path[64], label[32];
            int32_t pid = 0;
            if (named) {
                if (name == "." || name == "..") return;
                if (fmt(path, sizeof path, "/var/run/netns/%s", name.data()) < static_cast<int>(sizeof path))
                    add(name, path);
                return;
            }
            if (!parse_pid(name, pid)) return;
            fmt(path, sizeof path, "/proc/%d/ns/net", pid);
            fmt(label, sizeof label, "pid:%d", pid);
            add(label, path);
        });
    }
    if (!ok) return make_error(ENOMEM, "too many network namespaces");
    return {};
}

}  // namespace tc::sys
