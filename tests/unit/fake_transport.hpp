// A scripted stand-in for the kernel: records what was sent and hands back
// prepared datagrams, or answers each destroy request by a rule.
#pragma once

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <set>
#include <vector>

#include "engine/transport.hpp"

namespace testutil {

using Bytes = std::vector<uint8_t>;

// One datagram of a golden capture (tests/unit/*_golden.inc, written by
// tests/tools/fuzz_capture): the length the kernel gave, and the bytes.
struct Datagram {
    size_t len;
    Bytes bytes;
};

inline void append_msg(Bytes& dgram, uint16_t type, uint32_t seq, const Bytes& payload, uint16_t flags = 0) {
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(sizeof h + payload.size());
    h.nlmsg_type = type;
    h.nlmsg_flags = flags;
    h.nlmsg_seq = seq;
    const uint8_t* p = reinterpret_cast<const uint8_t*>(&h);
    dgram.insert(dgram.end(), p, p + sizeof h);
    dgram.insert(dgram.end(), payload.begin(), payload.end());
    while (dgram.size() % 4) dgram.push_back(0);
}

inline Bytes int_payload(int v) {
    Bytes b(4);
    std::memcpy(b.data(), &v, 4);
    return b;
}

// A datagram waiting to be received, and who sent it (0: the kernel;
// anything else: a forger with CAP_NET_ADMIN in the namespace).
struct Queued {
    Queued(Bytes b, uint32_t from = 0) : bytes(std::move(b)), sender(from) {}
    Bytes bytes;
    uint32_t sender;
};

class FakeTransport final : public tc::DiagTransport {
public:
    std::vector<Bytes> sent;
    std::deque<Queued> queued;         // datagrams waiting to be received
    int send_error = 0;                // fail every send with this errno
    size_t sends_that_work = SIZE_MAX; // after this many sends, every send fails with EPERM
    // For destroy tests: the errno (0 = success) to ack each request with.
    std::function<int(const inet_diag_req_v2&)> destroy_rule;
    // For exact lookups (SOCK_DIAG_BY_FAMILY without NLM_F_DUMP): the errno
    // to answer, or 0 and the socket's state to report.
    std::function<int(const inet_diag_req_v2&, uint8_t& state)> lookup_rule;
    size_t lookups = 0;
    size_t acks_per_datagram = 1;      // the kernel sends one ack per datagram
    size_t drop_acks_after = SIZE_MAX; // simulate a full receive buffer
    std::set<uint32_t> late_seqs;      // acks of these seqs come only to a receive that waits
    std::deque<Bytes> late;
    std::set<uint32_t> silent_seqs;    // acks of these seqs never come
    bool duplicate_acks = false;       // every ack datagram arrives twice
    std::deque<Bytes> before_lookup;   // datagrams queued ahead of the next lookup's answer
    bool overflowed = false;

    tc::Status send(std::span<const uint8_t> msg) override {
        if (send_error) return tc::make_error(send_error, "fake send");
        if (sent.size() >= sends_that_work) return tc::make_error(EPERM, "fake send broke off");
        sent.emplace_back(msg.begin(), msg.end());
        if (destroy_rule || lookup_rule) answer(msg);
        return {};
    }

    // A datagram larger than buf is cut to it, as the socket would.
    tc::Result<tc::Received> recv(std::span<uint8_t> buf, bool) override {
        if (overflowed) {
            overflowed = false;
            return tc::make_error(ENOBUFS, "fake overflow");
        }
        if (queued.empty()) return tc::make_error(EAGAIN, "fake empty");
        Queued d = queued.front();
        queued.pop_front();
        const size_t n = std::min(d.bytes.size(), buf.size());
        std::memcpy(buf.data(), d.bytes.data(), n);
        return tc::Received{n, d.sender, n < d.bytes.size()};
    }

    size_t recv_many_calls = 0;
    size_t waits = 0;  // recv_many calls that would have waited for the reply timeout
    tc::Result<size_t> recv_many(std::span<uint8_t> buf, size_t slot, std::span<tc::Received> lens, bool wait) override {
        ++recv_many_calls;
        waits += wait;
        if (wait && queued.empty())
            while (!late.empty()) {
                queued.push_back(late.front());
                late.pop_front();
            }
        size_t n = 0;
        while (n < lens.size() && (n + 1) * slot <= buf.size()) {
            tc::Result<tc::Received> got = recv(std::span<uint8_t>(buf.data() + n * slot, slot), false);
            if (!got) {
                if (n > 0 && got.error().code == EAGAIN) break;
                if (n > 0) {  // report it on the next call, as a real socket would
                    overflowed = got.error().code == ENOBUFS;
                    break;
                }
                return got.error();
            }
            lens[n++] = *got;
        }
        return n;
    }

private:
    void answer(std::span<const uint8_t> msg) {
        size_t off = 0, acked = 0;
        Bytes dgram;
        while (off + sizeof(nlmsghdr) <= msg.size()) {
            nlmsghdr h;
            std::memcpy(&h, msg.data() + off, sizeof h);
            inet_diag_req_v2 req;
            std::memcpy(&req, msg.data() + off + sizeof h, sizeof req);
            int err = EOPNOTSUPP;
            if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY && !(h.nlmsg_flags & NLM_F_DUMP)) {
                ++lookups;
                while (!before_lookup.empty()) {
                    queued.push_back(before_lookup.front());
                    before_lookup.pop_front();
                }
                uint8_t state = 0;
                err = lookup_rule ? lookup_rule(req, state) : ENOENT;
                if (err == 0) {  // the socket as it is now, then the ack
                    inet_diag_msg m{};
                    m.idiag_family = req.sdiag_family;
                    m.idiag_state = state;
                    m.id = req.id;
                    Bytes payload(sizeof m);
                    std::memcpy(payload.data(), &m, sizeof m);
                    append_msg(dgram, SOCK_DIAG_BY_FAMILY, h.nlmsg_seq, payload);
                }
            } else if (destroy_rule) {
                err = destroy_rule(req);
            }
            if (acked++ >= drop_acks_after) {
                overflowed = true;
            } else if (silent_seqs.count(h.nlmsg_seq)) {
                // this ack is never sent
            } else if (late_seqs.count(h.nlmsg_seq)) {
                Bytes late_ack;
                Bytes payload = int_payload(-err);
                const uint8_t* hp = reinterpret_cast<const uint8_t*>(&h);
                payload.insert(payload.end(), hp, hp + sizeof h);
                append_msg(late_ack, NLMSG_ERROR, h.nlmsg_seq, payload);
                late.push_back(late_ack);
            } else {
                Bytes payload = int_payload(-err);
                const uint8_t* hp = reinterpret_cast<const uint8_t*>(&h);
                payload.insert(payload.end(), hp, hp + sizeof h);  // the kernel echoes the header
                append_msg(dgram, NLMSG_ERROR, h.nlmsg_seq, payload);
                if (acked % acks_per_datagram == 0) {
                    if (duplicate_acks) queued.push_back(dgram);
                    queued.push_back(dgram);
                    dgram.clear();
                }
            }
            off += h.nlmsg_len;
        }
        if (!dgram.empty()) queued.push_back(dgram);
    }
};

}  // namespace testutil
