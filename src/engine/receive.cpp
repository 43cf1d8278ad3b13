#include "engine/receive.hpp"

#include <cerrno>

namespace tc {

Status receive_answer(DiagTransport& t, std::span<uint8_t> rx, NlConversation& conv, NlSink& sink) {
    Status first;  // the first failure; the answer is read to its end anyway
    bool seen = false;
    while (!conv.ended()) {
        Result<Received> got = t.recv(rx, true);
        if (!got) {
            if (!first) return first;  // (the end of a broken answer may never come)
            const int err = got.error().code;
            if (err == ENOBUFS && !seen) continue;
            if (err == EAGAIN) return make_error(ETIMEDOUT, "the kernel stopped answering");
            return got.error();
        }
        if (got->len == 0 && got->sender == 0) return make_error(EPROTO, "netlink socket closed");
        NlReplyIter it(conv, rx.first(got->len < rx.size() ? got->len : rx.size()), *got);
        NlReply r;
        while (it.next(r)) {
            seen = true;
            if (first) first = sink.take(r);
        }
        if (first) first = it.status();
    }
    return first;
}

}  // namespace tc
