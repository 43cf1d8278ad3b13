// The thin syscall layer: everything here talks to the kernel, nothing else
// in src/ (except main) does.
#pragma once

#include <linux/netlink.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>

#include "core/pod_vec.hpp"
#include "core/result.hpp"
#include "engine/transport.hpp"

namespace tc::sys {

// A move-only file descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) : fd_(o.release()) {}
    Fd& operator=(Fd&& o);
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release() {
        int f = fd_;
        fd_ = -1;
        return f;
    }
    void reset();

private:
    int fd_ = -1;
};

// A NETLINK_SOCK_DIAG (or NETLINK_ROUTE) socket in the caller's network
// namespace, connected to the kernel: no other sender's unicast reaches it.
class DiagSocket final : public DiagTransport {
public:
    // rcvbuf/sndbuf: wanted sizes; the FORCE variants are tried first (root),
    // then the plain ones (capped by net.core.*mem_max). `protocol`:
    // NETLINK_SOCK_DIAG, or NETLINK_ROUTE for the route dump. `groups`
    // (NETLINK_ROUTE: RTMGRP_IPV4_IFADDR ...): the kernel's events then
    // arrive on this socket too.
    Status open(int rcvbuf, int sndbuf, int protocol = NETLINK_SOCK_DIAG, uint32_t groups = 0);
    int fd() const { return fd_.get(); }
    // The kernel answers a request before the send returns (a dump refills
    // the socket inside each recv), so a receive that waits this long is
    // told EAGAIN: no answer is coming.
    static constexpr int kReplyTimeoutMs = 2000;
    Status send(std::span<const uint8_t> msg) override;
    Result<Received> recv(std::span<uint8_t> buf, bool wait) override;
    Result<size_t> recv_many(std::span<uint8_t> buf, size_t slot, std::span<Received> got, bool wait) override;

private:
    Fd fd_;
};

// The running kernel's release (uname -r), in `buf`; "" if unknown.
const char* kernel_release(char* buf, size_t n);

timespec realtime_now();
uint64_t monotonic_ns();

// fstatat(2) as the system call: musl's wrapper converts through a kernel
// struct (about 550 bytes); on 64-bit CPUs the kernel's struct stat is
// libc's, so the call writes it directly. 0 or -1 with errno.
int stat_at(int dir_fd, const char* path, struct stat* st, int flags);

// openat(2) as the system call (it is the same on every CPU). -1 with
// errno on failure.
int open_at(int dir_fd, const char* path, int flags, int mode = 0);
// socket(2) through libc, whose wrapper falls back to socketcall(2) where
// the CPU's kernel lacks the direct call (i386 before Linux 4.3).
int new_socket(int domain, int type, int protocol);

// Before anything else is opened: descriptors 0-2 that are closed are
// opened on /dev/null, so no socket or log file can become "stderr".
void ensure_std_fds();

// SIGPIPE is ignored (a log reader that went away is an error to report,
// not a reason to die). With `daemon`, SIGTERM, SIGINT and SIGHUP are caught
// and kept blocked except inside the waits of this layer (between polls,
// and while a log line waits for its reader), so a poll's system calls are
// never interrupted, yet a stop is seen within those waits at once.
Status install_signals(bool daemon);
bool stop_requested();

enum class Wake : uint8_t { Deadline, Stop, Hangup, Event };
// Sleeps until the monotonic deadline, a stop signal (SIGTERM/SIGINT),
// SIGHUP, or (fd >= 0) something to read on `fd` (Event; an error such as
// ENOBUFS counts). Signals that arrived during the poll are taken first,
// even when the deadline has already passed. UINT64_MAX: no deadline.
Wake wait_until(uint64_t deadline_ns, int fd = -1);

// A small file read whole into `out`; EFBIG past `max` bytes.
Status read_small_file(const char* path, PodVec<char>& out, size_t max);
Result<int> open_append(const char* path);
// Opens `path` again (after logrotate moved it) onto descriptor `fd`.
Status reopen_append(const char* path, int fd);
// Replaces the file at `path` with `data` at once, as node_exporter's
// textfile collector wants: written to PATH.tmp.PID.SALT (in the same
// directory, so on the same filesystem; created afresh, O_EXCL, never
// through a symbolic link, mode 0644), then renamed over PATH. A write that
// fails part way (a full filesystem) leaves PATH as it was.
Status replace_file(const char* path, const char* data, size_t len);
// Before anything is ended: can replace_file write `path`? A directory at
// PATH is EISDIR; the temporary file is created, written and removed, so a
// directory that is missing, read-only, full or not a real file system
// (/proc) fails now, with its errno, and not after the first poll.
Status check_replaceable(const char* path);
// Can `fd` be written at all? A zero-length write fails on files that take
// no writes (/proc/version: EIO) and on /dev/full; a regular file on a full
// file system passes (its first real write fails).
Status check_writable(int fd);
// Writes all of data, or fails with an errno: EPIPE (reader gone), ENOSPC,
// ETIMEDOUT (a daemon's reader has not taken anything for a second: the line
// is dropped rather than stalling the run), EINTR (a stop signal came).
int write_out(int fd, const char* data, size_t len);
// write_out for output that has nowhere else to go (help, usage errors).
inline void write_all(int fd, const char* data, size_t len) { (void)write_out(fd, data, len); }

// The effective capability set (bit n = capability n), from capget. With
// `raise`, every permitted capability is made effective first: a binary
// whose file capability has no effective bit (the image's
// cap_net_admin=p) starts with none effective, so that exec never fails
// where the bounding set lacks it, and takes them up here, for a run.
uint64_t effective_caps(bool raise = false);
// Our own /dev/log client (libc's syslog drags in time zone and strftime
// code that would double the binary). A missing syslog daemon is not an
// error: lines are dropped, and the next line tries to reconnect.
void syslog_open();
void syslog_send(const char* datagram, size_t len);
int self_pid();

}  // namespace tc::sys
