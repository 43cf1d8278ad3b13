#include "wire/nl_conversation.hpp"

#include <cerrno>

namespace tc {

NlReplyIter::NlReplyIter(NlConversation& conv, std::span<const uint8_t> datagram, const Received& how)
    : conv_(conv), msgs_(how.sender == 0 ? datagram : std::span<const uint8_t>{}), cut_(how.cut) {
    if (how.sender != 0) ++conv.foreign_;
}

bool NlReplyIter::next(NlReply& out) {
    NlMsg m;
    while (!cut_ && msgs_.next(m)) {
        const uint32_t index = m.seq - conv_.first_;
        if (index >= conv_.count_ || conv_.ended_) continue;
        if (m.flags & NLM_F_DUMP_INTR) conv_.interrupted_ = true;
        out.type = m.type;
        out.index = index;
        out.payload = m.payload;
        out.err = 0;
        if (m.type == NLMSG_ERROR || m.type == NLMSG_DONE) {
            out.kind = m.type == NLMSG_ERROR ? NlReply::Kind::Ack : NlReply::Kind::Done;
            // A DONE may carry no errno (old kernels): none. An ERROR must.
            if (!nl_payload_errno(m.payload, out.err) && m.type == NLMSG_ERROR) out.err = EPROTO;
            conv_.ended_ = conv_.count_ == 1;
            return true;
        }
        if (m.type < NLMSG_MIN_TYPE || conv_.interrupted_) continue;  // NOOP, OVERRUN; or a dump to be asked again
        out.kind = NlReply::Kind::Data;
        return true;
    }
    return false;
}

Status NlReplyIter::status() const {
    if (cut_) return make_error(EPROTO, "netlink datagram larger than the buffer");
    if (msgs_.malformed()) return make_error(EPROTO, "malformed netlink message");
    return {};
}

}  // namespace tc
