#include "sys/proc_sys.hpp"

#include "wire/diag_wire.hpp"

#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#include "core/fmt.hpp"
#include "proc/procfs.hpp"
#include "sys/dirent_walk.hpp"

namespace tc::sys {
namespace {

// Reads the link "PID/fd/N" (relative to dir_fd) and parses it as a socket.
bool link_inode(int dir_fd, const char* name, uint32_t& inode) {
    char target[64];
    ssize_t n = readlinkat(dir_fd, name, target, sizeof target);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof target) return false;
    return parse_socket_link(std::string_view(target, static_cast<size_t>(n)), inode);
}

int open_root(const char* root) { return open_at(AT_FDCWD, root, O_RDONLY | O_DIRECTORY | O_CLOEXEC); }

// "PID/comm" (relative to the /proc fd) into out; empty when unreadable.
void read_comm(int proc_fd, int32_t pid, char (&out)[16]) {
    out[0] = '\0';
    char path[32];
    fmt(path, sizeof path, "%d/comm", pid);
    Fd f(open_at(proc_fd, path, O_RDONLY | O_CLOEXEC));
    if (!f.valid()) return;
    char buf[64];
    ssize_t n = read(f.get(), buf, sizeof buf);
    if (n > 0) parse_comm(std::span<const char>(buf, static_cast<size_t>(n)), out);
}

}  // namespace

Status ProcSys::find_holders(OwnerMap& map, const OwnerSel* only) {
    Fd proc(open_root(root_));
    if (!proc.valid()) return make_error(errno, "cannot open /proc");
    // --pid alone: just those processes, no listing of /proc.
    if (only && only->n_comm == 0) {
        for (size_t i = 0; i < only->n_pid; ++i)
            if (Status s = scan_process(proc.get(), only->pid[i], map); !s) return s;
        return {};
    }
    Status failed;
    int err = each_dirent(proc.get(), dents_, [&](std::string_view name) {
        int32_t pid = 0;
        if (!parse_pid(name, pid)) return true;
        if (only) {
            char c[16];
            read_comm(proc.get(), pid, c);
            if (!c[0] || !process_selected(*only, pid, c)) return true;
        }
        failed = scan_process(proc.get(), pid, map);
        return failed.ok();
    });
    if (!failed) return failed;
    if (err == EPROTO) return make_error(EPROTO, "malformed /proc directory listing");
    if (err) return make_error(err, "cannot list /proc");
    return {};
}

Status ProcSys::scan_process(int proc_fd, int32_t pid, OwnerMap& map) {
    char path[32];
    fmt(path, sizeof path, "%d/fd", pid);
    Fd dir(open_at(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) {
        if (errno == EACCES || errno == EPERM) map.note_unreadable();
        return {};  // otherwise the process ended during the walk
    }
    bool full = false;
    int err = each_dirent(dir.get(), fd_dents_, [&](std::string_view name) {
        int32_t fd = 0;
        uint32_t inode = 0;
        if (!parse_fd_number(name, fd) || !link_inode(dir.get(), name.data(), inode) || !map.wants(inode))
            return true;
        full = !map.add(inode, pid, fd);
        return !full;
    });
    if (full) return make_error(ENOMEM, "too many socket holders");
    if (err == EACCES || err == EPERM) map.note_unreadable();
    return {};  // a process that ended, or an odd listing, loses that process, not the walk
}

Result<int> ProcSys::dup_fd(int32_t pid, int32_t fd) {
    Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd.valid()) return make_error(errno, "pidfd_open");
    int dup = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0));
    if (dup < 0) return make_error(errno, "pidfd_getfd");
    return dup;
}

Result<FdIdentity> ProcSys::identify(int fd) {
    FdIdentity id;
    struct stat st;
    if (stat_at(fd, "", &st, AT_EMPTY_PATH) != 0) return make_error(errno, "fstat");
    if (!S_ISSOCK(st.st_mode)) return id;  // the fd number now names another file
    id.socket = true;
    id.inode = static_cast<uint32_t>(st.st_ino);
    socklen_t len = sizeof id.cookie;
    if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &id.cookie, &len) != 0 || len != sizeof id.cookie) id.cookie = 0;
    len = sizeof id.local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&id.local), &len) != 0) return make_error(errno, "getsockname");
    len = sizeof id.peer;
    id.connected = getpeername(fd, reinterpret_cast<sockaddr*>(&id.peer), &len) == 0;
    return id;
}

int ProcSys::disconnect(int fd) {
    sockaddr sa{};
    sa.sa_family = AF_UNSPEC;
    return connect(fd, &sa, sizeof sa) == 0 ? 0 : errno;
}

int ProcSys::shutdown_rdwr(int fd) { return shutdown(fd, SHUT_RDWR) == 0 ? 0 : errno; }

int ProcSys::tcp_figures(int fd, SockRecord& rec) {
    tcp_info info{};
    socklen_t len = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return errno;
    read_tcp_figures(&info, len < sizeof info ? len : sizeof info, rec);
    return rec.figures & SockRecord::kFigureRecv ? 0 : EPROTO;
}

int ProcSys::get_int_opt(int fd, int level, int name, int& value) {
    socklen_t len = sizeof value;
    if (getsockopt(fd, level, name, &value, &len) != 0) return errno;
    return len == sizeof value ? 0 : EPROTO;
}

int ProcSys::set_int_opt(int fd, int level, int name, int value) {
    return setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : errno;
}

void ProcSys::close_fd(int fd) { close(fd); }

int ProcSys::kill_holder(const Holder& h) {
    // The pidfd pins the process: once it is open, a link check that still
    // finds our inode proves the signal goes to the holder, not to a new
    // process that reused the pid. Kernels before 5.3 lack it: kill() then.
    Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, h.pid, 0)));
    if (!pidfd.valid() && errno != ENOSYS) return errno;
    Fd proc(open_root(root_));
    if (!proc.valid()) return errno;
    char path[48];
    fmt(path, sizeof path, "%d/fd/%d", h.pid, h.fd);
    uint32_t inode = 0;
    if (!link_inode(proc.get(), path, inode) || inode != h.inode) return ESTALE;
    if (pidfd.valid()) {
        if (syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) == 0) return 0;
        if (errno != ENOSYS) return errno;
    }
    return kill(h.pid, SIGKILL) == 0 ? 0 : errno;
}

void ProcSys::comm(int32_t pid, char (&out)[16]) {
    out[0] = '\0';
    Fd proc(open_root(root_));
    if (proc.valid()) read_comm(proc.get(), pid, out);
}

int32_t ProcSys::self_pid() { return static_cast<int32_t>(getpid()); }

// Through /proc/self/net, which a procfs mounted with subset=pid (systemd's
// ProcSubset=pid) still shows; /proc/net is gone there.
Status ProcNetFiles::open(Proto p, bool v6) {
    static const char* const kPaths[2][2] = {{"/proc/self/net/tcp", "/proc/self/net/tcp6"},
                                             {"/proc/self/net/udp", "/proc/self/net/udp6"}};
    static const char* const kFails[2][2] = {{"cannot open /proc/self/net/tcp", "cannot open /proc/self/net/tcp6"},
                                             {"cannot open /proc/self/net/udp", "cannot open /proc/self/net/udp6"}};
    const size_t i = static_cast<size_t>(p);
    const int fd = open_at(AT_FDCWD, kPaths[i][v6], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        fd_.reset();
        // A kernel without IPv6 has no tcp6 (udp6) table beside its tcp
        // (udp) one: nothing to find there. The IPv4 table is opened to
        // tell, not merely looked up: Linux 5.10 lists both in a procfs
        // mounted with subset=pid and opens neither (src/KERNEL.md). Any
        // other table that cannot be opened is an error, never an empty one.
        if (v6 && err == ENOENT) {
            if (const int v4 = open_at(AT_FDCWD, kPaths[i][0], O_RDONLY | O_CLOEXEC); v4 >= 0) {
                ::close(v4);
                return {};
            }
        }
        return make_error(err, kFails[i][v6]);
    }
    fd_ = Fd(fd);
    return {};
}

Result<size_t> ProcNetFiles::read(std::span<uint8_t> buf) {
    if (!fd_.valid()) return size_t{0};
    while (true) {
        const ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
        if (n >= 0) return static_cast<size_t>(n);
        if (errno != EINTR) return make_error(errno, "cannot read /proc/self/net");
    }
}

}  // namespace tc::sys
