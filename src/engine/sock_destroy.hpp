// Ends connections with SOCK_DESTROY, many requests per send.
//
// The kernel handles every message of one sendmsg before returning and
// queues one ack (NLMSG_ERROR, error 0 or -errno, our seq echoed) per
// message, so after a send all acks of the batch are already waiting.
// Batches stay small enough that the acks fit the receive buffer; acks that
// did not fit are reported by the next recv as ENOBUFS (the destroys still
// happened, but we cannot tell which, so those count as failed).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "wire/diag_wire.hpp"
#include "engine/terminator.hpp"
#include "engine/transport.hpp"

namespace tc {

class SockDestroyTerminator final : public Terminator {
public:
    static constexpr size_t kBatch = 128;

    explicit SockDestroyTerminator(DiagTransport& t) : transport_(t) {}
    Status end_connections(std::span<const SockRecord> recs, std::span<KillResult> out) override;

private:
    Status end_batch(std::span<const SockRecord> recs, std::span<KillResult> out);

    DiagTransport& transport_;
    uint32_t seq_ = 1;
    std::array<uint8_t, kBatch * kDestroyRequestLen> tx_{};
    std::array<uint8_t, 32768> rx_{};
};

// 0 -> Destroyed, ENOENT -> Vanished, anything else -> Failed.
KillResult result_from_errno(int err);

}  // namespace tc
