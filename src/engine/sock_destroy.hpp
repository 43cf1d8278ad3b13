// Ends connections with SOCK_DESTROY, many requests per send (the kernel's
// rules: src/KERNEL.md, SOCK_DESTROY).
//
// The kernel handles every message of one sendmsg before returning and
// queues one ack (NLMSG_ERROR, error 0 or -errno, our seq echoed) per
// message, so after a send all acks of the batch are already waiting.
// Batches stay small enough that the acks fit the receive buffer; acks that
// did not fit are reported by the next recv as ENOBUFS (the destroys may
// still have happened). Each connection left without an ack is looked up
// again by id and cookie: gone counts as ended, still there as failed.
//
// One socket's EOPNOTSUPP says nothing about the kernel (the probe decides
// that): a connection that closed between the dump and the destroy leaves a
// TIME_WAIT socket with the same id and cookie, which kernels before 6.0
// refuse to destroy. Each such socket is looked up again: gone or TIME_WAIT
// counts as vanished; anything else goes to the fallback terminator (the
// /proc path) for that socket alone.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/pod_vec.hpp"
#include "engine/terminator.hpp"
#include "engine/transport.hpp"
#include "wire/diag_wire.hpp"

namespace tc {

// A second process ending part of a large set through its own netlink
// socket: most of a destroy's cost is the kernel's (the RST, tearing down
// both ends), and two senders keep two CPUs busy with it.
class DestroyHelper {
public:
    // Starts ending `recs` elsewhere. False: no helper could be started
    // (the caller ends them itself).
    virtual bool start(std::span<const SockRecord> recs) = 0;
    // Waits for the helper and copies its results into `out` (the size of
    // the span given to start). Returns how many records, from the front,
    // it finished; the rest are the caller's to end.
    virtual size_t finish(std::span<EndResult> out) = 0;

protected:
    ~DestroyHelper() = default;
};

class SockDestroyTerminator final : public Terminator {
public:
    static constexpr size_t kBatch = 128;
    // From this many connections on, the back half goes to the helper (a
    // fork and a socket cost about as much as 50 destroys).
    static constexpr size_t kSplitMin = 1024;

    // `fallback` (may be null) ends the sockets whose destroy was refused
    // with EOPNOTSUPP although they still exist. `helper` (may be null)
    // takes half of a large set.
    SockDestroyTerminator(DiagTransport& t, Terminator* fallback = nullptr, DestroyHelper* helper = nullptr)
        : transport_(t), fallback_(fallback), helper_(helper) {}
    Status end_connections(std::span<const SockRecord> recs, std::span<EndResult> out) override;
    // The destroys alone, as the kernel acked them (every result comes from
    // result_from_errno): no helper, no second look at refused sockets.
    Status end_batches(std::span<const SockRecord> recs, std::span<EndResult> out);

    // Datagrams dropped since the last call: not sent by the kernel.
    uint32_t take_foreign() {
        const uint32_t n = foreign_;
        foreign_ = 0;
        return n;
    }

private:
    Status end_batch(std::span<const SockRecord> recs, std::span<EndResult> out);
    Status retry_refused(std::span<const SockRecord> recs, std::span<EndResult> out);
    // A destroy whose ack never came (dropped: ENOBUFS; or not within the
    // reply timeout: ETIMEDOUT): ended when the socket is gone now, else
    // failed with `why`.
    EndResult resolve_unanswered(const SockRecord& rec, int why);
    // The socket's state now (TCP_*), or the errno the kernel answered.
    Result<uint8_t> lookup_state(const SockRecord& rec);

    DiagTransport& transport_;
    Terminator* fallback_;
    DestroyHelper* helper_;
    uint32_t seq_ = 1;
    uint32_t foreign_ = 0;
    PodVec<SockRecord> retry_recs_;
    PodVec<EndResult> retry_out_;
    PodVec<size_t> retry_at_;
    std::array<uint8_t, kBatch * kDestroyRequestLen> tx_{};
    // Acks arrive one datagram each (92 bytes: the error and our request's
    // header echoed): a whole batch's acks are taken with one recvmmsg.
    static constexpr size_t kAckSlot = 256;
    std::array<uint8_t, kBatch * kAckSlot> rx_{};
    std::array<Received, kBatch> rx_got_{};
};

// 0 -> Ended by SOCK_DESTROY, ENOENT -> Vanished, anything else -> Failed.
EndResult result_from_errno(int err);
// The errno a result of result_from_errno came from.
int errno_of(const EndResult& r);

// Asks the kernel whether SOCK_DESTROY works, with a request that can touch
// no socket. Returns the errno of the kernel's answer (0, ENOENT, ESTALE:
// supported; EOPNOTSUPP: not configured; EINVAL: kernel before 4.5).
Result<int> probe_sock_destroy(DiagTransport& t, Proto p = Proto::Tcp);

}  // namespace tc
