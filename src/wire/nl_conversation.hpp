// What we believe of a netlink answer, decided in one place (libmnl's
// mnl_cb_run is the model). A conversation is one request, or a batch of
// `count` requests numbered from `first`, on a socket connected to the
// kernel; every datagram received for it goes through an NlReplyIter, which
// hands on only the messages that belong to it:
//
//   - a datagram whose sender is not the kernel (port id 0) is dropped
//     whole and counted (connect() already makes the kernel refuse such
//     senders; this is the second lock);
//   - a message of another sequence number (a late answer to an earlier
//     request) is skipped, and so is anything after its request ended;
//   - NLMSG_ERROR ends one request: an Ack carrying its errno (0: done);
//   - NLMSG_DONE ends a dump: Done, carrying its errno;
//   - NLM_F_DUMP_INTR marks the dump interrupted (the table changed under
//     it): its data is no longer handed on; the caller reads on to the end,
//     then asks again with a new sequence number;
//   - a datagram cut by the receive buffer, or bytes that are not whole
//     messages, stop the walk: EPROTO, and the answer must not be used.
//
// Pure: no syscalls; the transport (engine/transport.hpp) fills Received.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/result.hpp"
#include "wire/netlink.hpp"

namespace tc {

// One received datagram: its length, the netlink port id that sent it (0:
// the kernel), and whether it was cut to the buffer (`len` is then what
// arrived).
struct Received {
    size_t len = 0;
    uint32_t sender = 0;
    bool cut = false;
};

struct NlReply {
    enum class Kind : uint8_t { Data, Ack, Done };
    Kind kind = Kind::Data;
    uint16_t type = 0;
    uint32_t index = 0;  // which request of the conversation: seq - first
    int err = 0;         // Ack and Done: the kernel's errno, positive (0: none)
    std::span<const uint8_t> payload;
};

class NlConversation {
public:
    explicit NlConversation(uint32_t first, uint32_t count = 1) : first_(first), count_(count) {}
    uint32_t first() const { return first_; }
    // A single request (count 1) has ended: its Ack or Done came.
    bool ended() const { return ended_; }
    // Some message of the answer carried NLM_F_DUMP_INTR.
    bool interrupted() const { return interrupted_; }
    // Datagrams dropped because the kernel did not send them.
    uint32_t foreign() const { return foreign_; }

private:
    friend class NlReplyIter;
    uint32_t first_;
    uint32_t count_;
    uint32_t foreign_ = 0;
    bool ended_ = false;
    bool interrupted_ = false;
};

// Takes the messages of one conversation: Data, then its Ack or Done
// (engine/receive.hpp feeds it).
class NlSink {
public:
    virtual Status take(const NlReply& reply) = 0;

protected:
    ~NlSink() = default;
};

class NlReplyIter {
public:
    NlReplyIter(NlConversation& conv, std::span<const uint8_t> datagram, const Received& how);
    // The next message of the conversation in this datagram; false at its end.
    bool next(NlReply& out);
    // EPROTO when the datagram was cut or malformed: nothing of the answer
    // may be used. Ask after next() returned false.
    Status status() const;

private:
    NlConversation& conv_;
    NlMsgIter msgs_;
    bool cut_;
};

}  // namespace tc
