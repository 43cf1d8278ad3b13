#include "wire/netlink.hpp"

#include <cerrno>

namespace tc {

bool nl_put_header(ByteWriter& w, uint16_t type, uint16_t flags, uint32_t seq) {
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_flags = flags;
    h.nlmsg_seq = seq;
    return w.put(&h, sizeof h);
}

Result<size_t> nl_finish(ByteWriter& w) {
    if (!w.ok() || w.size() > UINT32_MAX) return make_error(EMSGSIZE, "netlink request does not fit");
    uint32_t len = static_cast<uint32_t>(w.size());
    if (!w.patch(offsetof(nlmsghdr, nlmsg_len), &len, sizeof len))
        return make_error(EMSGSIZE, "netlink request does not fit");
    return w.size();
}

bool ByteWriter::put(const void* p, size_t n) {
    if (!ok_ || n > buf_.size() - len_) return ok_ = false;
    if (n) std::memcpy(buf_.data() + len_, p, n);
    len_ += n;
    return true;
}

bool ByteWriter::put_zeros(size_t n) {
    if (!ok_ || n > buf_.size() - len_) return ok_ = false;
    std::memset(buf_.data() + len_, 0, n);
    len_ += n;
    return true;
}

bool ByteWriter::patch(size_t at, const void* p, size_t n) {
    if (!ok_ || at > len_ || n > len_ - at) return ok_ = false;
    std::memcpy(buf_.data() + at, p, n);
    return true;
}

bool NlMsgIter::next(NlMsg& out) {
    if (rest_.empty() || malformed_) return false;
    nlmsghdr h;
    if (rest_.size() < sizeof h) return !(malformed_ = true);
    std::memcpy(&h, rest_.data(), sizeof h);
    if (h.nlmsg_len < sizeof h || h.nlmsg_len > rest_.size()) return !(malformed_ = true);
    out.type = h.nlmsg_type;
    out.flags = h.nlmsg_flags;
    out.seq = h.nlmsg_seq;
    out.payload = rest_.subspan(sizeof h, h.nlmsg_len - sizeof h);
    // The last message of a datagram may omit its trailing padding.
    size_t step = align4(h.nlmsg_len);
    rest_ = step >= rest_.size() ? std::span<const uint8_t>{} : rest_.subspan(step);
    return true;
}

bool NlAttrIter::next(NlAttr& out) {
    if (rest_.empty() || malformed_) return false;
    nlattr a;
    if (rest_.size() < sizeof a) return !(malformed_ = true);
    std::memcpy(&a, rest_.data(), sizeof a);
    if (a.nla_len < sizeof a || a.nla_len > rest_.size()) return !(malformed_ = true);
    out.type = a.nla_type & NLA_TYPE_MASK;
    out.data = rest_.subspan(sizeof a, a.nla_len - sizeof a);
    size_t step = align4(a.nla_len);
    rest_ = step >= rest_.size() ? std::span<const uint8_t>{} : rest_.subspan(step);
    return true;
}

bool nl_payload_errno(std::span<const uint8_t> payload, int& err) {
    int v;
    if (payload.size() < sizeof v) return false;
    std::memcpy(&v, payload.data(), sizeof v);
    // -INT_MIN does not exist; no real errno is that large.
    err = v == INT32_MIN ? EPROTO : (v < 0 ? -v : v);
    return true;
}

}  // namespace tc
