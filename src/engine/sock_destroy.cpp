#include "engine/sock_destroy.hpp"

#include "wire/netlink.hpp"

namespace tc {

KillResult result_from_errno(int err) {
    if (err == 0) return {Outcome::Destroyed, 0};
    if (err == ENOENT) return {Outcome::Vanished, 0};
    return {Outcome::Failed, err};
}

Status SockDestroyTerminator::end_connections(std::span<const SockRecord> recs, std::span<KillResult> out) {
    if (out.size() != recs.size()) return make_error(EINVAL, "result buffer size mismatch");
    for (KillResult& r : out) r = {Outcome::Failed, EPROTO};
    for (size_t at = 0; at < recs.size(); at += kBatch) {
        size_t n = recs.size() - at < kBatch ? recs.size() - at : kBatch;
        if (Status s = end_batch(recs.subspan(at, n), out.subspan(at, n)); !s) return s;
    }
    return {};
}

Status SockDestroyTerminator::end_batch(std::span<const SockRecord> recs, std::span<KillResult> out) {
    const uint32_t base = seq_;
    seq_ += static_cast<uint32_t>(recs.size());
    bool answered[kBatch] = {};
    size_t len = 0;
    size_t pending = 0;
    for (size_t i = 0; i < recs.size(); ++i) {
        Result<size_t> n = encode_destroy_request(base + static_cast<uint32_t>(i), recs[i],
                                                  std::span<uint8_t>(tx_).subspan(len));
        if (!n) {
            out[i] = {Outcome::Failed, n.error().code};
            answered[i] = true;
            continue;
        }
        len += *n;
        ++pending;
    }
    if (pending == 0) return {};
    if (Status s = transport_.send(std::span<const uint8_t>(tx_.data(), len)); !s) return s;

    int lost = 0;  // ENOBUFS: some acks were dropped
    while (pending > 0) {
        Result<size_t> got = transport_.recv(rx_, false);
        if (!got) {
            if (got.error().code == ENOBUFS) {
                lost = ENOBUFS;
                continue;
            }
            if (got.error().code == EAGAIN) break;
            return got.error();
        }
        NlMsgIter it(std::span<const uint8_t>(rx_.data(), *got));
        NlMsg m;
        while (it.next(m)) {
            if (m.type != NLMSG_ERROR) continue;
            uint32_t idx = m.seq - base;
            int err = 0;
            if (idx >= recs.size() || answered[idx] || !nl_payload_errno(m.payload, err)) continue;
            answered[idx] = true;
            out[idx] = result_from_errno(err);
            --pending;
        }
    }
    for (size_t i = 0; i < recs.size(); ++i)
        if (!answered[i]) out[i] = {Outcome::Failed, lost ? lost : EPROTO};
    return {};
}

}  // namespace tc
