// libFuzzer: netlink replies from a kernel we do not trust.
//
// The input is a script of datagrams (| len 2 | bytes |...; bit 15 of len
// set: the datagram comes from a port id other than the kernel's, a
// forger). The first byte picks what reads them:
//   0  the message and attribute iterators: every message and attribute
//      they hand out lies inside its datagram; and the conversation
//      (wire/nl_conversation): no message of a forger's datagram, of
//      another sequence number or after its request ended is handed on;
//      a reply that decodes (as TCP and as UDP) re-encodes into a destroy
//      request of its protocol for the same tuple and cookie;
//   1  a dump, read by the engine (TCP, UDP or both): nothing outside the
//      selection reaches the terminator (never an unconnected UDP socket),
//      and the poll ends (no hang) whatever the datagrams say;
//   2  the acks of a destroy batch: every connection gets one defined
//      outcome, and the terminator sends no more than one batch plus one
//      lookup per connection;
//   3  a route dump: the local prefixes read are well formed, and a dump
//      that failed is never done.
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <cstdlib>

#include "fuzz/fuzz_check.hpp"
#include <cstring>
#include <deque>
#include <vector>

#include "engine/engine.hpp"
#include "engine/receive.hpp"
#include "engine/sock_destroy.hpp"
#include "unit/helpers.hpp"
#include "wire/diag_wire.hpp"
#include "wire/netlink.hpp"
#include "wire/nl_conversation.hpp"
#include "wire/route_wire.hpp"

using namespace tc;

namespace {

constexpr uint32_t kForger = 4242;

struct Dgram {
    std::vector<uint8_t> bytes;
    uint32_t sender = 0;
};

std::deque<Dgram> split(const uint8_t* data, size_t size) {
    std::deque<Dgram> out;
    while (size >= 2) {
        size_t n = static_cast<size_t>(data[0]) | static_cast<size_t>(data[1] & 0x7f) << 8;
        const uint32_t sender = data[1] & 0x80 ? kForger : 0;
        data += 2;
        size -= 2;
        if (n > size) n = size;
        out.push_back(Dgram{std::vector<uint8_t>(data, data + n), sender});
        data += n;
        size -= n;
    }
    return out;
}

bool inside(std::span<const uint8_t> part, std::span<const uint8_t> whole) {
    return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

// Hands out the scripted datagrams, then EAGAIN (what a socket with a
// receive timeout answers when the kernel says nothing more).
struct ScriptTransport final : DiagTransport {
    std::deque<Dgram> dgrams;
    size_t sends = 0;
    Status send(std::span<const uint8_t>) override {
        ++sends;
        return {};
    }
    Result<Received> recv(std::span<uint8_t> buf, bool) override {
        if (dgrams.empty()) return make_error(EAGAIN, "script empty");
        Dgram d = std::move(dgrams.front());
        dgrams.pop_front();
        const size_t len = d.bytes.size() < buf.size() ? d.bytes.size() : buf.size();
        if (len) std::memcpy(buf.data(), d.bytes.data(), len);
        return Received{len, d.sender, len < d.bytes.size()};
    }
    Result<size_t> recv_many(std::span<uint8_t> buf, size_t slot, std::span<Received> got, bool) override {
        size_t n = 0;
        while (n < got.size() && (n + 1) * slot <= buf.size() && !dgrams.empty()) {
            Dgram& d = dgrams.front();
            const size_t len = d.bytes.size() < slot ? d.bytes.size() : slot;
            if (len) std::memcpy(buf.data() + n * slot, d.bytes.data(), len);
            got[n++] = Received{len, d.sender, len < d.bytes.size()};
            dgrams.pop_front();
        }
        if (n == 0) return make_error(EAGAIN, "script empty");
        return n;
    }
};

void walk(std::span<const uint8_t> dgram) {
    NlMsgIter it(dgram);
    NlMsg m;
    while (it.next(m)) {
        CHECK_OR_DIE(inside(m.payload, dgram));
        int err = 0;
        (void)nl_payload_errno(m.payload, err);
        if (m.payload.size() > sizeof(inet_diag_msg)) {
            NlAttrIter ai(m.payload.subspan(sizeof(inet_diag_msg)));
            NlAttr a;
            while (ai.next(a)) CHECK_OR_DIE(inside(a.data, m.payload));
        }
        for (Proto p : {Proto::Tcp, Proto::Udp}) {
            Result<SockRecord> rec = decode_sock(m.payload, nullptr, p);
            if (!rec) continue;
            CHECK_OR_DIE(rec->proto() == p);
            CHECK_OR_DIE(p == Proto::Tcp || !rec->has_info);  // UDP has no tcp_info
            uint8_t req[kDestroyRequestLen];
            Result<size_t> n = encode_destroy_request(1, *rec, req);
            if (!n) continue;  // a wildcard cookie is refused, never sent
            CHECK_OR_DIE(*n == kDestroyRequestLen);
            inet_diag_req_v2 r;
            std::memcpy(&r, req + sizeof(nlmsghdr), sizeof r);
            CHECK_OR_DIE(r.sdiag_family == rec->family);
            CHECK_OR_DIE(r.sdiag_protocol == ip_protocol(p));
            CHECK_OR_DIE(std::memcmp(&r.id, &rec->id, sizeof r.id) == 0);
            inet_diag_msg msg;
            std::memcpy(&msg, m.payload.data(), sizeof msg);
            CHECK_OR_DIE(std::memcmp(&r.id, &msg.id, sizeof r.id) == 0);  // the tuple and cookie the kernel sent
        }
    }
}

struct CheckingTerminator final : Terminator {
    const Selection* sel;
    Status end_connections(std::span<const SockRecord> recs, std::span<EndResult> out) override {
        for (size_t i = 0; i < recs.size(); ++i) {
            bool in_some_scope = false;
            DumpPlan plan = plan_dumps(*sel, true);
            for (size_t s = 0; s < plan.count; ++s) in_some_scope |= selected(*sel, plan.scopes[s], recs[i]);
            plan = plan_dumps(*sel, false);
            for (size_t s = 0; s < plan.count; ++s) in_some_scope |= selected(*sel, plan.scopes[s], recs[i]);
            CHECK_OR_DIE(in_some_scope);
            CHECK_OR_DIE(!recs[i].udp || recs[i].state == 1);  // a connected UDP socket only
            out[i] = result_from_errno(0);
        }
        return {};
    }
};

struct NullObserver final : PollObserver {
    void on_filter(const DumpScope&, std::span<const uint8_t>) override {}
    void on_candidate(const SockRecord&, uint32_t, bool) override {}
    void on_result(const SockRecord&, const EndResult&) override {}
};

void dump(const uint8_t* data, size_t size) {
    if (size < 1) return;
    Selection sel;
    (void)parse_ports("22,7000-7099", sel.sports);
    sel.ipv6 = data[0] & 1;
    // UDP (bit 4; bit 8: TCP too) has no idle rules.
    sel.udp = data[0] & 4;
    sel.tcp = !sel.udp || (data[0] & 8);
    sel.idle_min_ms = data[0] & 2 && !sel.udp ? 1000 : 0;
    if (sel.udp && (data[0] & 16)) sel.states = 0xfff & ~(1u << 10);  // --tcp -u --state all
    ScriptTransport t;
    t.dgrams = split(data + 1, size - 1);
    CheckingTerminator term;
    term.sel = &sel;
    Engine engine(t, term);
    NullObserver obs;
    (void)engine.poll(sel, obs);
    CHECK_OR_DIE(t.sends <= 6);  // TCP: one walk, or its refusal and one per family; UDP: one per family
}

void acks(const uint8_t* data, size_t size) {
    if (size < 1) return;
    const size_t n = 1 + data[0] % 200;  // up to two batches
    std::vector<SockRecord> recs;
    for (size_t i = 0; i < n; ++i)
        recs.push_back(testutil::rec("127.0.0.1", 22, "127.0.0.1", static_cast<uint16_t>(10000 + i)));
    ScriptTransport t;
    t.dgrams = split(data + 1, size - 1);
    SockDestroyTerminator term(t);
    std::vector<EndResult> out(n);
    (void)term.end_connections(recs, out);
    for (const EndResult& r : out) {
        CHECK_OR_DIE(r.outcome == Outcome::Ended || r.outcome == Outcome::Vanished || r.outcome == Outcome::Failed);
        CHECK_OR_DIE(r.outcome != Outcome::Failed || r.err != 0);
    }
    CHECK_OR_DIE(t.sends <= 2 + 2 * n);
}

// Every message the conversation hands on came from the kernel, carries a
// sequence number of the conversation, lies inside its datagram, and (for a
// single request) none comes after the request's end.
void converse(const std::deque<Dgram>& script, uint32_t first, uint32_t count) {
    NlConversation conv(first, count);
    uint32_t foreign = 0;
    bool ended = false;
    for (const Dgram& d : script) {
        foreign += d.sender != 0;
        NlReplyIter it(conv, d.bytes, Received{d.bytes.size(), d.sender, false});
        NlReply r;
        while (it.next(r)) {
            CHECK_OR_DIE(d.sender == 0);
            CHECK_OR_DIE(r.index < count);
            CHECK_OR_DIE(inside(r.payload, d.bytes));
            CHECK_OR_DIE(!(ended && count == 1));
            CHECK_OR_DIE(r.kind != NlReply::Kind::Data || r.type >= NLMSG_MIN_TYPE);
            CHECK_OR_DIE(r.kind != NlReply::Kind::Data || !conv.interrupted());  // an interrupted dump is asked again
            ended |= r.kind != NlReply::Kind::Data;
        }
    }
    CHECK_OR_DIE(conv.foreign() == foreign);
}

void routes(const uint8_t* data, size_t size) {
    LocalPrefixes set;
    LocalRouteReader reader(set);
    ScriptTransport t;
    t.dgrams = split(data, size);
    NlConversation conv(1);
    std::vector<uint8_t> rx(32768);
    const bool failed = !receive_answer(t, rx, conv, reader);
    // (The engine clears a set whose dump failed or was interrupted.)
    CHECK_OR_DIE(failed || conv.ended());
    for (size_t i = 0; i < set.size(); ++i) {
        const Prefix& p = set[i];
        CHECK_OR_DIE(p.family == AF_INET || p.family == AF_INET6);
        CHECK_OR_DIE(p.len <= (p.family == AF_INET ? 32 : 128));
        CHECK_OR_DIE(set.covers(p.family, p.addr.data()));  // a prefix covers its own address
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    switch (data[0] % 4) {
        case 0: {
            const std::deque<Dgram> script = split(data + 1, size - 1);
            for (const Dgram& d : script) walk(d.bytes);
            converse(script, 1, 1);
            converse(script, 1, 128);
            break;
        }
        case 1: dump(data + 1, size - 1); break;
        case 2: acks(data + 1, size - 1); break;
        case 3: routes(data + 1, size - 1); break;
    }
    return 0;
}
