// The helper process behind SockDestroyTerminator's DestroyHelper seam: a
// fork that opens its own NETLINK_SOCK_DIAG socket (in the network
// namespace we are in), ends its share batch by batch and writes each
// batch's acks (an errno per record: 4 bytes, not a whole result) into
// memory shared with us before it counts the batch done. A
// helper that dies leaves the batches it did not count to us: a destroy it
// sent but did not count comes back as vanished when we repeat it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/sock_destroy.hpp"

namespace tc {

class ForkHelper final : public DestroyHelper {
public:
    explicit ForkHelper(int socket_buffer) : socket_buffer_(socket_buffer) {}
    ~ForkHelper();
    ForkHelper(const ForkHelper&) = delete;
    ForkHelper& operator=(const ForkHelper&) = delete;

    bool start(std::span<const SockRecord> recs) override;
    size_t finish(std::span<EndResult> out) override;

private:
    // The shared block: the count of records finished (from the front),
    // then the errno each one's destroy was acked with.
    static constexpr size_t kHeader = 64;
    int32_t* acks() const { return reinterpret_cast<int32_t*>(shared_ + kHeader); }
    size_t* done_count() const { return reinterpret_cast<size_t*>(shared_); }
    [[noreturn]] void run_child(std::span<const SockRecord> recs);
    void release();

    int socket_buffer_;
    uint8_t cpus_ = 0;  // usable CPUs, 1 or (more) 2, counted at the first batch (0: not yet)
    int pid_ = -1;
    uint8_t* shared_ = nullptr;
    size_t shared_bytes_ = 0;
};

}  // namespace tc
