#include "engine/sock_destroy.hpp"

#include "engine/receive.hpp"
#include "wire/netlink.hpp"

namespace tc {

namespace {

constexpr uint8_t kTcpTimeWait = 6;  // TCP_TIME_WAIT
constexpr uint8_t kTcpClose = 7;     // TCP_CLOSE

// The answer to one lookup or probe: its ack's errno, and the socket a
// lookup found (SOCK_DIAG_BY_FAMILY before the ack).
class AckSink final : public NlSink {
public:
    explicit AckSink(SockRecord* rec) : rec_(rec) {}
    Status take(const NlReply& r) override {
        if (r.kind != NlReply::Kind::Data) {
            err = r.err;
        } else if (r.type == SOCK_DIAG_BY_FAMILY && rec_) {
            Result<SockRecord> got = decode_sock(r.payload);
            if (got) {
                *rec_ = *got;
                found = true;
            }
        }
        return {};
    }
    int err = EPROTO;
    bool found = false;

private:
    SockRecord* rec_;
};

Result<int> await_ack(DiagTransport& t, std::span<uint8_t> rx, uint32_t seq, AckSink& sink, uint32_t& foreign) {
    NlConversation conv(seq);
    Status s = receive_answer(t, rx, conv, sink);
    foreign += conv.foreign();
    if (!s) return s.error();
    return sink.err;
}

}  // namespace

EndResult result_from_errno(int err) {
    EndResult r;
    if (err == 0) {
        r.outcome = Outcome::Ended;
        r.method = Method::SockDestroy;
    } else if (err == ENOENT) {
        r.outcome = Outcome::Vanished;
    } else {
        r.outcome = Outcome::Failed;
        r.err = err;
    }
    return r;
}

int errno_of(const EndResult& r) {
    if (r.outcome == Outcome::Ended) return 0;
    return r.outcome == Outcome::Vanished ? ENOENT : r.err;
}

Result<int> probe_sock_destroy(DiagTransport& t, Proto p) {
    std::array<uint8_t, kDestroyRequestLen> tx{};
    std::array<uint8_t, 4096> rx{};
    constexpr uint32_t kProbeSeq = 0x7072;  // "pr": never a batch's seq (those start at 1 on another socket)
    Result<size_t> len = encode_probe_request(kProbeSeq, tx, p);
    if (!len) return len.error();
    if (Status s = t.send(std::span<const uint8_t>(tx.data(), *len)); !s) return s.error();
    AckSink sink(nullptr);
    uint32_t foreign = 0;  // (no poll yet to say it in; connect() refuses them anyway)
    return await_ack(t, rx, kProbeSeq, sink, foreign);
}

Result<uint8_t> SockDestroyTerminator::lookup_state(const SockRecord& rec) {
    const uint32_t seq = seq_++;
    Result<size_t> len = encode_lookup_request(seq, rec, tx_);
    if (!len) return len.error();
    if (Status s = transport_.send(std::span<const uint8_t>(tx_.data(), *len)); !s) return s.error();
    SockRecord now;
    AckSink sink(&now);
    Result<int> err = await_ack(transport_, rx_, seq, sink, foreign_);
    if (!err) return err.error();
    if (*err != 0) return make_error(*err, "socket lookup");
    if (!sink.found) return make_error(ENOENT, "socket lookup");
    return now.state;
}

Status SockDestroyTerminator::retry_refused(std::span<const SockRecord> recs, std::span<EndResult> out) {
    retry_recs_.clear();
    retry_at_.clear();
    for (size_t i = 0; i < recs.size(); ++i) {
        if (out[i].outcome != Outcome::Failed || out[i].err != EOPNOTSUPP) continue;
        if (recs[i].state == kTcpTimeWait) {  // selected as TIME_WAIT (--state): a refusal of the state
            out[i].note = Note::TimeWaitRefused;
            continue;
        }
        Result<uint8_t> state = lookup_state(recs[i]);
        bool gone = state ? (*state == kTcpTimeWait || *state == kTcpClose)
                          : (state.error().code == ENOENT || state.error().code == ESTALE);
        if (gone) {
            out[i] = result_from_errno(ENOENT);
            continue;
        }
        if (!fallback_) continue;
        if (!retry_recs_.push_back(recs[i]) || !retry_at_.push_back(i))
            return make_error(ENOMEM, "too many connections to retry");
    }
    if (retry_recs_.size() == 0) return {};
    if (!retry_out_.resize(retry_recs_.size())) return make_error(ENOMEM, "too many connections to retry");
    // A /proc failure here is this socket's failure, written into its
    // result; it does not end the run.
    (void)fallback_->end_connections(std::span<const SockRecord>(retry_recs_.data(), retry_recs_.size()),
                                     std::span<EndResult>(retry_out_.data(), retry_out_.size()));
    for (size_t k = 0; k < retry_at_.size(); ++k) out[retry_at_[k]] = retry_out_[k];
    return {};
}

Status SockDestroyTerminator::end_connections(std::span<const SockRecord> recs, std::span<EndResult> out) {
    if (out.size() != recs.size()) return make_error(EINVAL, "result buffer size mismatch");
    for (EndResult& r : out) r = result_from_errno(EPROTO);
    size_t mine = recs.size();
    bool helped = false;
    if (helper_ && recs.size() >= kSplitMin) {
        mine = (recs.size() / 2 + kBatch - 1) / kBatch * kBatch;
        helped = helper_->start(recs.subspan(mine));
        if (!helped) mine = recs.size();
    }
    Status s = end_batches(recs.first(mine), out.first(mine));
    if (helped) {  // waited for even when our half broke off
        const size_t done = mine + helper_->finish(out.subspan(mine));
        if (s && done < recs.size()) s = end_batches(recs.subspan(done), out.subspan(done));
    }
    if (!s) return s;
    return retry_refused(recs, out);
}

Status SockDestroyTerminator::end_batches(std::span<const SockRecord> recs, std::span<EndResult> out) {
    if (out.size() != recs.size()) return make_error(EINVAL, "result buffer size mismatch");
    for (size_t at = 0; at < recs.size(); at += kBatch) {
        size_t n = recs.size() - at < kBatch ? recs.size() - at : kBatch;
        if (Status s = end_batch(recs.subspan(at, n), out.subspan(at, n)); !s) return s;
    }
    return {};
}

Status SockDestroyTerminator::end_batch(std::span<const SockRecord> recs, std::span<EndResult> out) {
    const uint32_t base = seq_;
    seq_ += static_cast<uint32_t>(recs.size());
    bool answered[kBatch] = {};
    size_t len = 0;
    size_t pending = 0;
    for (size_t i = 0; i < recs.size(); ++i) {
        Result<size_t> n = encode_destroy_request(base + static_cast<uint32_t>(i), recs[i],
                                                  std::span<uint8_t>(tx_).subspan(len));
        if (!n) {
            out[i] = result_from_errno(n.error().code);
            answered[i] = true;
            continue;
        }
        len += *n;
        ++pending;
    }
    if (pending == 0) return {};
    if (Status s = transport_.send(std::span<const uint8_t>(tx_.data(), len)); !s) return s;

    // The kernel queues every ack before the send returns. Take what is
    // queued; if acks are missing although none were dropped, wait once
    // more (up to the reply timeout) for late ones.
    int lost = 0;  // ENOBUFS: some acks were dropped and will not come
    bool wait = false;
    NlConversation conv(base, static_cast<uint32_t>(recs.size()));
    while (pending > 0) {
        Result<size_t> got = transport_.recv_many(rx_, kAckSlot, rx_got_, wait);
        if (!got) {
            const int err = got.error().code;
            if (err == ENOBUFS) {
                lost = ENOBUFS;
                continue;
            }
            if (err != EAGAIN) return got.error();
            if (lost || wait) break;
            wait = true;
            continue;
        }
        wait = false;
        for (size_t d = 0; d < *got; ++d) {
            const size_t got_len = rx_got_[d].len < kAckSlot ? rx_got_[d].len : kAckSlot;
            // (A cut ack is not believed: its socket is looked up again.)
            NlReplyIter it(conv, std::span<const uint8_t>(rx_.data() + d * kAckSlot, got_len), rx_got_[d]);
            NlReply m;
            while (it.next(m)) {
                if (m.kind != NlReply::Kind::Ack || answered[m.index]) continue;
                answered[m.index] = true;
                out[m.index] = result_from_errno(m.err);
                --pending;
            }
        }
    }
    foreign_ += conv.foreign();
    for (size_t i = 0; i < recs.size(); ++i)
        if (!answered[i]) out[i] = resolve_unanswered(recs[i], lost ? lost : ETIMEDOUT);
    return {};
}

EndResult SockDestroyTerminator::resolve_unanswered(const SockRecord& rec, int why) {
    // Its destroy went out, so a connection that is gone now (or closing
    // in TIME_WAIT) has ended; one still there has not.
    Result<uint8_t> state = lookup_state(rec);
    if (!state) {
        const int err = state.error().code;
        return result_from_errno(err == ENOENT || err == ESTALE ? 0 : why);
    }
    return result_from_errno(*state == kTcpClose || *state == kTcpTimeWait ? 0 : why);
}

}  // namespace tc
