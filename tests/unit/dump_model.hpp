// A model of the kernel's answer to inet_diag dump requests, written from
// net/ipv4/inet_diag.c, tcp_diag.c and udp_diag.c: it holds a table of
// sockets of both protocols and answers each dump request the way the
// kernel would, so the engine's requests (protocol, family, states, the
// ports in the id, the bytecode) are checked for what they let through.
//
//   TCPDIAG_GETSOCK (legacy): TCP sockets of both families.
//   SOCK_DIAG_BY_FAMILY + NLM_F_DUMP: sockets of sdiag_protocol and exactly
//     sdiag_family; protocol 17 without udp_diag: ENOENT.
//   Both: a socket is reported when its state's bit is in idiag_states, its
//   ports equal the id's nonzero ones, and the bytecode (audited first:
//   EINVAL) accepts it.
#pragma once

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <cstring>
#include <deque>
#include <vector>

#include "bc_model.hpp"
#include "core/sock_record.hpp"
#include "engine/transport.hpp"
#include "fake_transport.hpp"
#include "helpers.hpp"

namespace testutil {

class DumpModel final : public tc::DiagTransport {
public:
    std::vector<tc::SockRecord> socks;  // rec.udp says the protocol
    bool udp_diag = true;               // false: udp_diag cannot be loaded
    bool udp6_refused = false;          // only the IPv6 UDP dump is answered ENOENT
    struct Seen {
        uint16_t type;
        uint8_t protocol;
        uint8_t family;
        uint32_t states;
        uint8_t ext;
    };
    std::vector<Seen> requests;
    size_t returned = 0;  // sockets sent back, over all dumps

    tc::Status send(std::span<const uint8_t> msg) override {
        nlmsghdr h;
        if (msg.size() < sizeof h) return tc::make_error(EINVAL, "model: short");
        std::memcpy(&h, msg.data(), sizeof h);
        Seen seen{};
        seen.type = h.nlmsg_type;
        inet_diag_sockid id{};
        size_t body = 0;
        if (h.nlmsg_type == TCPDIAG_GETSOCK) {
            inet_diag_req r;
            std::memcpy(&r, msg.data() + sizeof h, sizeof r);
            seen = {h.nlmsg_type, 6, AF_UNSPEC, r.idiag_states, r.idiag_ext};
            id = r.id;
            body = sizeof r;
        } else {
            inet_diag_req_v2 r;
            std::memcpy(&r, msg.data() + sizeof h, sizeof r);
            seen = {h.nlmsg_type, r.sdiag_protocol, r.sdiag_family, r.idiag_states, r.idiag_ext};
            id = r.id;
            body = sizeof r;
        }
        requests.push_back(seen);
        std::span<const uint8_t> bc;
        const size_t at = sizeof h + body;
        if (msg.size() >= at + 4) {
            nlattr a;
            std::memcpy(&a, msg.data() + at, sizeof a);
            bc = msg.subspan(at + 4, a.nla_len - 4u);
        }
        Bytes d;
        if ((seen.protocol == 17 && (!udp_diag || (udp6_refused && seen.family == AF_INET6))) ||
            (seen.protocol != 6 && seen.protocol != 17)) {
            append_msg(d, NLMSG_ERROR, h.nlmsg_seq, int_payload(-ENOENT));
        } else if (!bc.empty() && !model::audit(bc)) {
            append_msg(d, NLMSG_ERROR, h.nlmsg_seq, int_payload(-EINVAL));
        } else {
            for (const tc::SockRecord& s : socks) {
                if (s.udp != (seen.protocol == 17)) continue;
                if (seen.family != AF_UNSPEC && s.family != seen.family) continue;
                if (s.state >= 32 || !(seen.states & (1u << s.state))) continue;
                if (id.idiag_sport && id.idiag_sport != s.id.idiag_sport) continue;
                if (id.idiag_dport && id.idiag_dport != s.id.idiag_dport) continue;
                if (!bc.empty() && !model::run(bc, entry(s))) continue;
                ++returned;
                inet_diag_msg m{};
                m.idiag_family = s.family;
                m.idiag_state = s.state;
                m.id = s.id;
                m.idiag_inode = s.inode;
                Bytes p(sizeof m);
                std::memcpy(p.data(), &m, sizeof m);
                append_msg(d, h.nlmsg_type, h.nlmsg_seq, p, NLM_F_MULTI);
            }
            append_msg(d, NLMSG_DONE, h.nlmsg_seq, int_payload(0), NLM_F_MULTI);
        }
        queued_.push_back(d);
        return {};
    }

    tc::Result<tc::Received> recv(std::span<uint8_t> buf, bool) override {
        if (queued_.empty()) return tc::make_error(EAGAIN, "model: nothing queued");
        Bytes d = queued_.front();
        queued_.pop_front();
        if (d.size() > buf.size()) return tc::make_error(EMSGSIZE, "model: too big");
        std::memcpy(buf.data(), d.data(), d.size());
        return tc::Received{d.size(), 0, false};
    }

    tc::Result<size_t> recv_many(std::span<uint8_t>, size_t, std::span<tc::Received>, bool) override {
        return tc::make_error(EOPNOTSUPP, "model: dumps only");
    }

private:
    std::deque<Bytes> queued_;
};

// A UDP socket (state 1: connected, 7: unconnected).
inline tc::SockRecord udp_rec(const char* src, uint16_t sport, const char* dst, uint16_t dport, uint8_t state = 1) {
    tc::SockRecord r = rec(src, sport, dst, dport, state);
    r.udp = true;
    return r;
}

}  // namespace testutil
