// The seam between the logic and the kernel: a datagram channel to
// NETLINK_SOCK_DIAG. The real one (sys.hpp) wraps a socket; tests replay
// recorded or malformed kernel answers through a fake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/result.hpp"
#include "core/sock_record.hpp"
#include "wire/nl_conversation.hpp"

namespace tc {

class DiagTransport {
public:
    virtual Status send(std::span<const uint8_t> msg) = 0;
    // Receives one datagram. With `wait` false, returns EAGAIN when nothing
    // is queued; with it, EAGAIN when nothing came within the reply timeout.
    virtual Result<Received> recv(std::span<uint8_t> buf, bool wait) = 0;
    // Takes up to got.size() queued datagrams in one go: datagram i lands
    // at buf[i * slot] (cut to `slot` bytes), what is known of it in got[i].
    // Returns how many. Without `wait`, EAGAIN when none is queued; with it,
    // waits for the first one, EAGAIN when none came within the socket's
    // reply timeout. For acks, which the kernel sends one datagram each.
    virtual Result<size_t> recv_many(std::span<uint8_t> buf, size_t slot, std::span<Received> got, bool wait) = 0;

protected:
    ~DiagTransport() = default;
};

// Waits: the grace between --src-removed's two route dumps.
class Pause {
public:
    virtual void wait_ms(uint32_t ms) = 0;

protected:
    ~Pause() = default;
};

// The /proc/net/tcp, tcp6, udp and udp6 tables, where the kernel has no
// NETLINK_SOCK_DIAG (or no diag module for a protocol). The real one
// (sys.hpp) reads the files; tests hand over text.
class ProcNetTables {
public:
    // Starts reading /proc/net/tcp (v6 false) or /proc/net/tcp6 (or udp,
    // udp6) afresh.
    virtual Status open(Proto p, bool v6) = 0;
    // The next bytes of the table opened last; 0 at its end.
    virtual Result<size_t> read(std::span<uint8_t> buf) = 0;

protected:
    ~ProcNetTables() = default;
};

}  // namespace tc
