#include "sys/sys.hpp"

#include <sys/utsname.h>

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "core/fmt.hpp"
#include "sys/file_type.hpp"

namespace tc::sys {

Fd& Fd::operator=(Fd&& o) {
    if (this != &o) {
        reset();
        fd_ = o.release();
    }
    return *this;
}

void Fd::reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
}

static void set_buffer(int fd, int force_opt, int opt, int bytes) {
    if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes) == 0) return;
    (void)setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);  // best effort
}

const char* kernel_release(char* buf, size_t n) {
    utsname u;
    if (n == 0) return "";
    buf[0] = '\0';
    if (uname(&u) != 0) return buf;
    size_t i = 0;
    for (; i + 1 < n && u.release[i]; ++i) buf[i] = u.release[i];
    buf[i] = '\0';
    return buf;
}

Status DiagSocket::open(int rcvbuf, int sndbuf, int protocol, uint32_t groups) {
    int fd = new_socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0)
        return make_error(errno, protocol == NETLINK_ROUTE ? "cannot open NETLINK_ROUTE socket"
                                                           : "cannot open NETLINK_SOCK_DIAG socket");
    fd_ = Fd(fd);
    set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf);
    set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, sndbuf);
    const timeval limit{kReplyTimeoutMs / 1000, kReplyTimeoutMs % 1000 * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0)
        return make_error(errno, "cannot set the netlink receive timeout");
    // Groups are joined by bind, before connect binds the socket itself.
    sockaddr_nl me{};
    me.nl_family = AF_NETLINK;
    me.nl_groups = groups;
    if (groups && bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) != 0)
        return make_error(errno, "cannot subscribe to address events");
    // Connected to the kernel (port id 0), the socket takes no unicast
    // from any other sender (KERNEL.md: Who may send to us).
    me.nl_groups = 0;
    if (connect(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) != 0)
        return make_error(errno, "cannot connect the netlink socket to the kernel");
    return {};
}

Status DiagSocket::send(std::span<const uint8_t> msg) {
    while (true) {
        ssize_t n = ::send(fd_.get(), msg.data(), msg.size(), 0);
        if (n >= 0) {
            if (static_cast<size_t>(n) != msg.size()) return make_error(EMSGSIZE, "short netlink send");
            return {};
        }
        if (errno != EINTR) return make_error(errno, "netlink send failed");
    }
}

Result<Received> DiagSocket::recv(std::span<uint8_t> buf, bool wait) {
    while (true) {
        iovec iov{buf.data(), buf.size()};
        sockaddr_nl from{};
        msghdr mh{};
        mh.msg_name = &from;
        mh.msg_namelen = sizeof from;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        ssize_t n = recvmsg(fd_.get(), &mh, wait ? 0 : MSG_DONTWAIT);
        if (n >= 0) return Received{static_cast<size_t>(n), from.nl_pid, (mh.msg_flags & MSG_TRUNC) != 0};
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK) return make_error(EAGAIN, "no netlink data");
        return make_error(errno, "netlink receive failed");
    }
}

Result<size_t> DiagSocket::recv_many(std::span<uint8_t> buf, size_t slot, std::span<Received> got, bool wait) {
    constexpr size_t kMax = 256;
    mmsghdr msgs[kMax];
    iovec iovs[kMax];
    sockaddr_nl from[kMax];
    size_t n = got.size() < kMax ? got.size() : kMax;
    if (slot == 0 || buf.size() / slot < n) n = slot ? buf.size() / slot : 0;
    if (n == 0) return make_error(EINVAL, "no room to receive");
    for (size_t i = 0; i < n; ++i) {
        iovs[i] = iovec{buf.data() + i * slot, slot};
        msgs[i] = mmsghdr{};
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    while (true) {
        int k = recvmmsg(fd_.get(), msgs, static_cast<unsigned>(n), wait ? MSG_WAITFORONE : MSG_DONTWAIT, nullptr);
        if (k >= 0) {
            for (int i = 0; i < k; ++i)
                got[i] = Received{msgs[i].msg_len, from[i].nl_pid, (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0};
            return static_cast<size_t>(k);
        }
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK) return make_error(EAGAIN, "no netlink data");
        return make_error(errno, "netlink receive failed");
    }
}

// libc's clock_gettime: through the vDSO where the kernel offers one (no
// system call), with 64-bit seconds on every CPU (musl's time_t).
timespec realtime_now() {
    timespec ts{};
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
}

uint64_t monotonic_ns() {
    timespec ts{};
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

static volatile sig_atomic_t g_stop = 0;
static volatile sig_atomic_t g_hup = 0;
static bool g_daemon = false;
static sigset_t g_wait_mask;  // the mask in force while waiting: TERM, INT, HUP open

static void on_stop_signal(int) { g_stop = 1; }
static void on_hup_signal(int) { g_hup = 1; }

int stat_at(int dir_fd, const char* path, struct stat* st, int flags) {
#if __SIZEOF_LONG__ == 8 && defined(SYS_newfstatat)
    return static_cast<int>(syscall(SYS_newfstatat, dir_fd, path, st, flags));
#else
    return fstatat(dir_fd, path, st, flags);
#endif
}

int open_at(int dir_fd, const char* path, int flags, int mode) {
    return static_cast<int>(syscall(SYS_openat, dir_fd, path, flags | O_LARGEFILE, mode));
}

int new_socket(int domain, int type, int protocol) { return socket(domain, type, protocol); }

void ensure_std_fds() {
    for (int fd = 0; fd <= 2; ++fd) {
        struct stat st;  // (not fcntl: stat_at is linked anyway, fcntl would add 400 bytes)
        if (stat_at(fd, "", &st, AT_EMPTY_PATH) == 0 || errno != EBADF) continue;
        // open returns the lowest free descriptor: this one.
        int n = open_at(AT_FDCWD, "/dev/null", O_RDWR | O_NOCTTY);
        if (n >= 0 && n != fd) close(n);
    }
}

static int set_handler(int sig, void (*fn)(int)) {
    struct sigaction sa{};
    sa.sa_handler = fn;
    return sigaction(sig, &sa, nullptr);
}

Status install_signals(bool daemon) {
    if (set_handler(SIGPIPE, SIG_IGN) != 0) return make_error(errno, "sigaction failed");
    if (!daemon) return {};
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &block, &g_wait_mask) != 0) return make_error(errno, "sigprocmask failed");
    sigdelset(&g_wait_mask, SIGTERM);
    sigdelset(&g_wait_mask, SIGINT);
    sigdelset(&g_wait_mask, SIGHUP);
    if (set_handler(SIGTERM, on_stop_signal) != 0 || set_handler(SIGINT, on_stop_signal) != 0 ||
        set_handler(SIGHUP, on_hup_signal) != 0)
        return make_error(errno, "sigaction failed");
    g_daemon = true;
    return {};
}

bool stop_requested() { return g_stop != 0; }

static timespec span_ts(uint64_t ns) {
    return timespec{static_cast<time_t>(ns / 1000000000ull), static_cast<long>(ns % 1000000000ull)};
}

Wake wait_until(uint64_t deadline_ns, int fd) {
    while (true) {
        uint64_t now = monotonic_ns();
        uint64_t left = now >= deadline_ns ? 0 : deadline_ns - now;
        timespec ts = span_ts(left);
        pollfd p{fd, POLLIN, 0};
        // ppoll swaps in the wait mask atomically: a signal that arrived
        // during the poll is delivered here, even with a zero timeout.
        const int ready = ppoll(fd >= 0 ? &p : nullptr, fd >= 0 ? 1 : 0,
                                deadline_ns == UINT64_MAX ? nullptr : &ts, g_daemon ? &g_wait_mask : nullptr);
        if (g_stop) return Wake::Stop;
        if (g_hup) {
            g_hup = 0;
            return Wake::Hangup;
        }
        if (ready > 0 && (p.revents & (POLLIN | POLLERR))) return Wake::Event;
        if (monotonic_ns() >= deadline_ns) return Wake::Deadline;
    }
}

Status read_small_file(const char* path, PodVec<char>& out, size_t max) {
    const int fd = open_at(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
    if (fd < 0) return make_error(errno, "cannot open");
    Fd owner(fd);
    out.clear();
    while (true) {
        const size_t have = out.size();
        if (!out.resize(have + 4096)) return make_error(ENOMEM, "cannot read");
        const ssize_t n = read(fd, out.data() + have, 4096);
        if (n < 0 && errno == EINTR) {
            (void)out.resize(have);
            continue;
        }
        if (n < 0) return make_error(errno, "cannot read");
        (void)out.resize(have + static_cast<size_t>(n));
        if (n == 0) break;
        if (out.size() > max) return make_error(EFBIG, "file too large (at most 1 MiB)");
    }
    return {};
}

Result<int> open_append(const char* path) {
    int fd = open_at(AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd < 0) return make_error(errno, "cannot open log file");
    return fd;
}

Status reopen_append(const char* path, int fd) {
    Result<int> n = open_append(path);
    if (!n) return n.error();
    int r = static_cast<int>(syscall(SYS_dup3, *n, fd, O_CLOEXEC));
    int err = errno;
    close(*n);
    if (r < 0) return make_error(err, "cannot reopen log file");
    return {};
}

namespace {

constexpr char kCannotCreate[] = "cannot create a temporary file beside the metrics file";

// A temporary file beside `path` (PATH.tmp.PID.SALT), open for writing.
// A name of our own: two writers of one PATH never rename each other's
// half-written file, and a temporary file someone else left (in a sticky
// directory, not ours to remove) only makes us pick another name.
Result<int> create_beside(const char* path, char (&tmp)[PATH_MAX]) {
    int fd = -1;
    uint32_t salt = static_cast<uint32_t>(monotonic_ns());
    for (int attempt = 0; fd < 0 && attempt < 8; ++attempt, salt = salt * 2654435761u + 1) {
        if (static_cast<size_t>(fmt(tmp, sizeof tmp, "%s.tmp.%d.%x", path, self_pid(), salt)) >= sizeof tmp)
            return make_error(ENAMETOOLONG, kCannotCreate);
        fd = open_at(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) return make_error(errno, kCannotCreate);
    return fd;
}

}  // namespace

Status check_replaceable(const char* path) {
    // rename() could never replace a directory (EISDIR), and would replace
    // a device, a FIFO or a socket (--metrics /dev/null) with a plain file.
    const int type = file_type(path);
    // (Before Linux 4.11, no statx: a directory is found by opening it.)
    const bool dir = type == S_IFDIR ||
                     (type == -ENOSYS && Fd(open_at(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)).valid());
    if (dir) return make_error(EISDIR, "the metrics file is a directory");
    if (type > 0 && type != S_IFREG && type != S_IFLNK)
        return make_error(EEXIST, "the metrics file is not a regular file, and replacing it would remove it");
    char tmp[PATH_MAX];
    Result<int> fd = create_beside(path, tmp);
    if (!fd) return fd.error();
    const int err = write(*fd, "#\n", 2) == 2 ? 0 : errno;
    close(*fd);
    (void)unlink(tmp);
    if (err) return make_error(err, "cannot write beside the metrics file");
    return {};
}

Status check_writable(int fd) {
    if (write(fd, "", 0) < 0) return make_error(errno, "cannot write log file");
    return {};
}

Status replace_file(const char* path, const char* data, size_t len) {
    char tmp[PATH_MAX];
    Result<int> made = create_beside(path, tmp);
    if (!made) return made.error();
    const int fd = *made;
    int err = 0;
    for (size_t done = 0; done < len && !err;) {
        const ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno != EINTR) err = errno;
        if (w > 0) done += static_cast<size_t>(w);
    }
    if (close(fd) != 0 && !err) err = errno;
    if (!err && rename(tmp, path) != 0) err = errno;
    if (!err) return {};
    (void)unlink(tmp);
    return make_error(err, "cannot write metrics file");
}

int write_out(int fd, const char* data, size_t len) {
    while (len > 0) {
        // Wait (with stop signals open) until the reader makes room; a
        // regular file or a reading terminal is ready at once.
        // A daemon waits at most a second for a stalled reader; a one-shot
        // run (tcp_closer -n ... | less) waits as long as the reader does.
        // After a stop signal, only what goes without waiting is written.
        pollfd p{fd, POLLOUT, 0};
        timespec second{1, 0}, none{0, 0};
        int r = ppoll(&p, 1, g_stop ? &none : g_daemon ? &second : nullptr, g_daemon ? &g_wait_mask : nullptr);
        if (r < 0) {
            if (errno == EINTR) continue;  // a signal: the next round sees g_stop
            return errno;
        }
        if (r == 0) return g_stop ? EINTR : ETIMEDOUT;
        if (p.revents & (POLLERR | POLLNVAL)) return p.revents & POLLNVAL ? EBADF : EPIPE;
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return errno;
        }
        data += n;
        len -= static_cast<size_t>(n);
    }
    return 0;
}

uint64_t effective_caps(bool raise) {
    __user_cap_header_struct hdr{};
    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    hdr.pid = 0;
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &hdr, data) != 0) return 0;
    if (raise && (data[0].effective != data[0].permitted || data[1].effective != data[1].permitted)) {
        data[0].effective = data[0].permitted;
        data[1].effective = data[1].permitted;
        if (syscall(SYS_capset, &hdr, data) != 0) (void)syscall(SYS_capget, &hdr, data);
    }
    return static_cast<uint64_t>(data[1].effective) << 32 | data[0].effective;
}

static int g_syslog_fd = -1;

static bool syslog_connect() {
    if (g_syslog_fd < 0) g_syslog_fd = new_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (g_syslog_fd < 0) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    static const char path[] = "/dev/log";
    static_assert(sizeof path <= sizeof addr.sun_path);
    for (size_t i = 0; i < sizeof path; ++i) addr.sun_path[i] = path[i];
    return connect(g_syslog_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

void syslog_open() { (void)syslog_connect(); }

void syslog_send(const char* datagram, size_t len) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (send(g_syslog_fd, datagram, len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) return;
        // A full queue: drop the line rather than wait (syslog must never
        // stall a kill). Anything else: the daemon restarted, or was never
        // there: reconnect once.
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return;
        if (g_syslog_fd >= 0) close(g_syslog_fd);
        g_syslog_fd = -1;
        if (!syslog_connect()) return;
    }
}

int self_pid() { return static_cast<int>(getpid()); }

}  // namespace tc::sys
