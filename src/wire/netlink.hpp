// Netlink framing without allocation: a bounds-checked writer for requests,
// and iterators over messages and attributes in a caller-owned receive
// buffer. Headers are copied out with memcpy (no alignment or aliasing
// assumptions) and every length is checked before it is used: a malformed
// or truncated message stops the walk, it never reads past the buffer.
//
//   message:   | nlmsghdr (16) | payload ... | pad to 4 |
//   attribute: | len u16 | type u16 | data ... | pad to 4 |
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "core/result.hpp"

namespace tc {

static_assert(sizeof(nlmsghdr) == 16);
static_assert(sizeof(nlattr) == 4);

constexpr size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

// Every put can fail; once one has failed the writer stays failed, so a
// caller can check ok() once at the end.
class ByteWriter {
public:
    explicit ByteWriter(std::span<uint8_t> buf) : buf_(buf) {}
    bool ok() const { return ok_; }
    size_t size() const { return len_; }
    bool put(const void* p, size_t n);
    bool put_zeros(size_t n);
    bool pad4() { return put_zeros(align4(len_) - len_); }
    // Overwrites bytes already written (to fill in a length afterwards).
    bool patch(size_t at, const void* p, size_t n);

private:
    std::span<uint8_t> buf_;
    size_t len_ = 0;
    bool ok_ = true;
};

// A request's header (its length is filled in by nl_finish).
bool nl_put_header(ByteWriter& w, uint16_t type, uint16_t flags, uint32_t seq);
// Patches the header's length in; the request's size, or EMSGSIZE when it
// did not fit.
Result<size_t> nl_finish(ByteWriter& w);

struct NlMsg {
    uint16_t type = 0;
    uint16_t flags = 0;
    uint32_t seq = 0;
    std::span<const uint8_t> payload;
};

class NlMsgIter {
public:
    explicit NlMsgIter(std::span<const uint8_t> buf) : rest_(buf) {}
    // False at the end of the buffer or at the first malformed header.
    bool next(NlMsg& out);
    // True when the walk stopped on bytes that were not a whole message.
    bool malformed() const { return malformed_; }

private:
    std::span<const uint8_t> rest_;
    bool malformed_ = false;
};

struct NlAttr {
    uint16_t type = 0;  // with NLA_F_NESTED / NLA_F_NET_BYTEORDER masked off
    std::span<const uint8_t> data;
};

class NlAttrIter {
public:
    explicit NlAttrIter(std::span<const uint8_t> buf) : rest_(buf) {}
    bool next(NlAttr& out);
    bool malformed() const { return malformed_; }

private:
    std::span<const uint8_t> rest_;
    bool malformed_ = false;
};

// The errno carried by an NLMSG_ERROR or NLMSG_DONE payload (0 or -errno in
// the kernel's sign), turned positive. False when the payload is too short.
bool nl_payload_errno(std::span<const uint8_t> payload, int& err);

}  // namespace tc
