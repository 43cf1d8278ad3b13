#include "wire/route_wire.hpp"

#include <sys/socket.h>

#include <cstring>

#include "wire/netlink.hpp"

namespace tc {

Result<size_t> encode_route_dump_request(uint32_t seq, std::span<uint8_t> out) {
    ByteWriter w(out);
    nl_put_header(w, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq);
    rtmsg r{};
    r.rtm_family = AF_UNSPEC;  // both families, every table
    w.put(&r, sizeof r);
    return nl_finish(w);
}

Result<Route> decode_route(std::span<const uint8_t> payload) {
    rtmsg m;
    if (payload.size() < sizeof m) return make_error(EPROTO, "short route message");
    std::memcpy(&m, payload.data(), sizeof m);
    const size_t addr_len = m.rtm_family == AF_INET ? 4 : m.rtm_family == AF_INET6 ? 16 : 0;
    if (addr_len == 0) return make_error(EAFNOSUPPORT, "route of another family");
    if (m.rtm_dst_len > addr_len * 8) return make_error(EPROTO, "route prefix longer than its address");
    Route r;
    r.type = m.rtm_type;
    r.table = m.rtm_table;
    r.dst.family = m.rtm_family;
    r.dst.len = m.rtm_dst_len;
    bool has_dst = false;
    NlAttrIter it(payload.subspan(align4(sizeof m) <= payload.size() ? align4(sizeof m) : payload.size()));
    NlAttr a;
    while (it.next(a)) {
        if (a.type == RTA_DST) {
            if (a.data.size() != addr_len) return make_error(EPROTO, "route destination of the wrong length");
            std::memcpy(r.dst.addr.data(), a.data.data(), addr_len);
            has_dst = true;
        } else if (a.type == RTA_TABLE) {
            if (a.data.size() != sizeof r.table) return make_error(EPROTO, "route table of the wrong length");
            std::memcpy(&r.table, a.data.data(), sizeof r.table);
        }
    }
    if (it.malformed()) return make_error(EPROTO, "malformed route attribute");
    if (!has_dst && r.dst.len != 0) return make_error(EPROTO, "route prefix without a destination");
    // Host bits past the length are zero in what the kernel sends; keep
    // the prefix canonical whatever came.
    for (size_t bit = r.dst.len; bit < addr_len * 8; ++bit) r.dst.addr[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
    return r;
}

void scan_addr_events(std::span<const uint8_t> datagram, AddrEvents& ev) {
    NlMsgIter it(datagram);
    NlMsg m;
    while (it.next(m)) {
        if (m.type == RTM_DELROUTE) {
            // A local route gone without an address (AnyIP: `ip route del
            // local PREFIX dev lo`) removes local addresses too. (Removing
            // an address removes its local route right after: not twice.)
            Result<Route> r = decode_route(m.payload);
            if (!r || r->type != RTN_LOCAL || r->dst == ev.first) continue;
            ++ev.removed;
            (r->dst.family == AF_INET6 ? ev.v6 : ev.v4) = true;
            if (ev.first.family == 0) ev.first = r->dst;
            continue;
        }
        if (m.type != RTM_DELADDR) continue;
        ++ev.removed;
        ifaddrmsg a;
        if (m.payload.size() < sizeof a) continue;
        std::memcpy(&a, m.payload.data(), sizeof a);
        ev.v4 |= a.ifa_family == AF_INET;
        ev.v6 |= a.ifa_family == AF_INET6;
        if (ev.first.family != 0) continue;
        const size_t len = a.ifa_family == AF_INET ? 4 : a.ifa_family == AF_INET6 ? 16 : 0;
        if (len == 0) continue;
        // IPv4: IFA_LOCAL is the address (IFA_ADDRESS the peer's on a
        // point-to-point link); IPv6 has only IFA_ADDRESS.
        NlAttrIter ai(m.payload.subspan(align4(sizeof a) <= m.payload.size() ? align4(sizeof a) : m.payload.size()));
        NlAttr at;
        bool found = false;
        while (ai.next(at)) {
            const bool wanted = at.type == (a.ifa_family == AF_INET ? IFA_LOCAL : IFA_ADDRESS);
            if (!wanted || at.data.size() != len) continue;
            ev.first.family = a.ifa_family;
            ev.first.len = static_cast<uint8_t>(len * 8);
            std::memcpy(ev.first.addr.data(), at.data.data(), len);
            found = true;
        }
        if (ai.malformed() && !found) ev.malformed = true;
    }
    if (it.malformed()) ev.malformed = true;
}

Status LocalRouteReader::take(const NlReply& r) {
    if (r.kind == NlReply::Kind::Ack) return make_error(r.err ? r.err : EPROTO, "route dump refused");
    if (r.kind == NlReply::Kind::Done) return r.err ? make_error(r.err, "route dump failed") : Status{};
    if (r.type != RTM_NEWROUTE) return {};
    Result<Route> route = decode_route(r.payload);
    if (!route && route.error().code == EAFNOSUPPORT) return {};  // another family's table (MPLS, bridge...)
    if (!route) return route.error();
    if (route->type == RTN_LOCAL && !out_.add(route->dst)) return make_error(ENOMEM, "no memory for the local addresses");
    return {};
}

}  // namespace tc
