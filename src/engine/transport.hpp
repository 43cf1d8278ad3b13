// The seam between the logic and the kernel: a datagram channel to
// NETLINK_SOCK_DIAG. The real one (sys.hpp) wraps a socket; tests replay
// recorded or malformed kernel answers through a fake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/result.hpp"

namespace tc {

class DiagTransport {
public:
    virtual Status send(std::span<const uint8_t> msg) = 0;
    // Receives one datagram. With `wait` false, returns EAGAIN when nothing
    // is queued. A datagram larger than `buf` is an error (EMSGSIZE).
    virtual Result<size_t> recv(std::span<uint8_t> buf, bool wait) = 0;

protected:
    ~DiagTransport() = default;
};

}  // namespace tc
