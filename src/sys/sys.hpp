// The thin syscall layer: everything here talks to the kernel, nothing else
// in src/ (except main) does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>

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

// A NETLINK_SOCK_DIAG socket in the caller's network namespace.
class DiagSocket final : public DiagTransport {
public:
    // rcvbuf/sndbuf: wanted sizes; the FORCE variants are tried first (root),
    // then the plain ones (capped by net.core.*mem_max).
    Status open(int rcvbuf, int sndbuf);
    Status send(std::span<const uint8_t> msg) override;
    Result<size_t> recv(std::span<uint8_t> buf, bool wait) override;

private:
    Fd fd_;
};

timespec realtime_now();
uint64_t monotonic_ns();

// SIGTERM and SIGINT are blocked except while waiting between polls, so a
// poll is never cut in half and a signal that arrives during a poll is
// seen by the next wait at once.
Status install_stop_signals();
bool stop_requested();
// Sleeps until the monotonic deadline or a stop signal; true if stopped.
bool wait_until(uint64_t deadline_ns);

Result<int> open_append(const char* path);
void write_all(int fd, const char* data, size_t len);
// Our own /dev/log client (libc's syslog drags in time zone and strftime
// code that would double the binary). A missing syslog daemon is not an
// error: lines are dropped, and the next line tries to reconnect.
void syslog_open();
void syslog_send(const char* datagram, size_t len);
int self_pid();

}  // namespace tc::sys
