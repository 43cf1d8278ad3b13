// The route dump (wire/route_wire.*): the request's golden bytes, a real
// answer captured in a private namespace, and cut, malformed and
// interrupted answers, which must fail rather than give a partial set.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "fake_transport.hpp"
#include "wire/netlink.hpp"
#include "wire/route_wire.hpp"

using namespace tc;
using testutil::Datagram;
using testutil::Bytes;

namespace {

const Datagram kRouteDump[] = {
#include "route_dump_golden.inc"
};

Prefix pfx(const char* text) {
    Prefix p;
    REQUIRE(parse_prefix(text, p).ok());
    return p;
}

bool has(const LocalPrefixes& set, const char* text) {
    const Prefix want = pfx(text);
    for (size_t i = 0; i < set.size(); ++i)
        if (set[i] == want) return true;
    return false;
}

// The datagrams through the conversation (as engine/receive does) into the
// reader; EAGAIN when the dump was interrupted (the engine asks again).
Status read_all(const std::vector<Bytes>& dgrams, LocalPrefixes& out, bool& done, uint32_t seq = 1) {
    LocalRouteReader reader(out);
    NlConversation conv(seq);
    done = false;
    for (const Bytes& d : dgrams) {
        NlReplyIter it(conv, d, Received{d.size(), 0, false});
        NlReply r;
        while (it.next(r))
            if (Status s = reader.take(r); !s) return s;
        if (Status s = it.status(); !s) return s;
    }
    done = conv.ended();
    if (conv.interrupted()) return make_error(EAGAIN, "interrupted");
    return {};
}

std::vector<Bytes> captured() {
    std::vector<Bytes> v;
    for (const Datagram& d : kRouteDump) {
        REQUIRE(d.len == d.bytes.size());
        v.push_back(d.bytes);
    }
    return v;
}

// One RTM_NEWROUTE payload: rtmsg and the attributes given.
Bytes route(uint8_t family, uint8_t dst_len, uint8_t type, uint8_t table, const Bytes& attrs) {
    rtmsg m{};
    m.rtm_family = family;
    m.rtm_dst_len = dst_len;
    m.rtm_type = type;
    m.rtm_table = table;
    Bytes p(sizeof m);
    std::memcpy(p.data(), &m, sizeof m);
    p.insert(p.end(), attrs.begin(), attrs.end());
    return p;
}

Bytes attr(uint16_t type, const Bytes& data) {
    nlattr a{static_cast<uint16_t>(4 + data.size()), type};
    Bytes b(4);
    std::memcpy(b.data(), &a, 4);
    b.insert(b.end(), data.begin(), data.end());
    while (b.size() % 4) b.push_back(0);
    return b;
}

Bytes one_dump(const std::vector<Bytes>& routes, uint16_t flags = NLM_F_MULTI) {
    Bytes d;
    for (const Bytes& r : routes) testutil::append_msg(d, RTM_NEWROUTE, 1, r, flags);
    testutil::append_msg(d, NLMSG_DONE, 1, testutil::int_payload(0), NLM_F_MULTI);
    return d;
}

}  // namespace

TEST_CASE("route dump request golden bytes: every table, both families", "[route_wire]") {
    std::array<uint8_t, 64> out{};
    Result<size_t> n = encode_route_dump_request(9, out);
    REQUIRE(n.ok());
    const std::vector<uint8_t> golden = {
        // nlmsghdr: len 28, RTM_GETROUTE (26), REQUEST|DUMP (0x301), seq 9
        28, 0, 0, 0,  26, 0,  0x01, 0x03,  9, 0, 0, 0,  0, 0, 0, 0,
        // rtmsg: AF_UNSPEC, no lengths, table 0 (all), type 0
        0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
    };
    CHECK(std::vector<uint8_t>(out.begin(), out.begin() + static_cast<long>(*n)) == golden);
    std::array<uint8_t, 27> small{};
    CHECK_FALSE(encode_route_dump_request(9, small).ok());
}

TEST_CASE("a captured route dump: the local prefixes of every family", "[route_wire]") {
    LocalPrefixes set;
    bool done = false;
    REQUIRE(read_all(captured(), set, done).ok());
    CHECK(done);
    // Assigned addresses, loopback's 127.0.0.0/8, ::1, and the AnyIP prefix.
    CHECK(has(set, "127.0.0.0/8"));
    CHECK(has(set, "127.0.0.1"));
    CHECK(has(set, "192.0.2.10"));
    CHECK(has(set, "198.51.100.0/24"));
    CHECK(has(set, "::1"));
    CHECK(has(set, "2001:db8::10"));
    // The on-link /24 and /64 are unicast routes, and 192.0.2.255 a
    // broadcast one: none of them is local.
    CHECK_FALSE(has(set, "192.0.2.0/24"));
    CHECK_FALSE(has(set, "2001:db8::/64"));
    uint8_t a[16] = {};
    inet_pton(AF_INET, "192.0.2.11", a);
    CHECK_FALSE(set.covers(AF_INET, a));
    inet_pton(AF_INET, "192.0.2.10", a);
    CHECK(set.covers(AF_INET, a));
    inet_pton(AF_INET6, "::ffff:198.51.100.77", a);  // v4-mapped, by its IPv4 address
    CHECK(set.covers(AF_INET6, a));
    inet_pton(AF_INET6, "::ffff:192.0.2.11", a);
    CHECK_FALSE(set.covers(AF_INET6, a));
    inet_pton(AF_INET6, "2001:db8::11", a);
    CHECK_FALSE(set.covers(AF_INET6, a));
}

TEST_CASE("a cut route dump is never done; another seq is skipped", "[route_wire]") {
    std::vector<Bytes> all = captured();
    LocalPrefixes set;
    bool done = true;
    std::vector<Bytes> cut(all.begin(), all.end() - 1);  // the last datagram holds NLMSG_DONE
    REQUIRE(read_all(cut, set, done).ok());
    CHECK_FALSE(done);
    REQUIRE(read_all(all, set, done, 2).ok());  // answers to seq 1 while waiting for seq 2
    CHECK_FALSE(done);
    CHECK(set.size() == 0);
    // A datagram cut inside a message is malformed.
    Bytes half(all[0].begin(), all[0].begin() + static_cast<long>(all[0].size() / 2));
    CHECK_FALSE(read_all({half}, set, done).ok());
}

TEST_CASE("route replies that are wrong fail the dump", "[route_wire]") {
    const Bytes dst4 = attr(RTA_DST, {192, 0, 2, 10});
    LocalPrefixes set;
    bool done = false;
    REQUIRE(read_all({one_dump({route(AF_INET, 32, RTN_LOCAL, RT_TABLE_LOCAL, dst4)})}, set, done).ok());
    CHECK((done && set.size() == 1));
    const std::vector<Bytes> bad = {
        route(AF_INET, 33, RTN_LOCAL, RT_TABLE_LOCAL, dst4),                          // longer than the address
        route(AF_INET, 32, RTN_LOCAL, RT_TABLE_LOCAL, attr(RTA_DST, {192, 0, 2})),     // short address
        route(AF_INET6, 128, RTN_LOCAL, RT_TABLE_LOCAL, dst4),                        // IPv4 bytes for IPv6
        route(AF_INET, 32, RTN_LOCAL, RT_TABLE_LOCAL, {}),                            // a length, no address
        route(AF_INET, 32, RTN_LOCAL, RT_TABLE_LOCAL, attr(RTA_TABLE, {1, 0})),       // short table id
        route(AF_INET, 32, RTN_LOCAL, RT_TABLE_LOCAL, Bytes{8, 0, 1, 0, 192}),        // attribute past the end
        Bytes(11, 0),                                                                  // short header
    };
    for (size_t i = 0; i < bad.size(); ++i) {
        INFO("case " << i);
        CHECK_FALSE(read_all({one_dump({bad[i]})}, set, done).ok());
    }
    // Refused, failed, or interrupted by a change: never a set to judge by.
    Bytes refused;
    testutil::append_msg(refused, NLMSG_ERROR, 1, testutil::int_payload(-EPERM));
    Status s = read_all({refused}, set, done);
    CHECK((!s && s.error().code == EPERM));
    Bytes failed;
    testutil::append_msg(failed, NLMSG_DONE, 1, testutil::int_payload(-EINTR), NLM_F_MULTI);
    CHECK_FALSE(read_all({failed}, set, done).ok());
    s = read_all({one_dump({route(AF_INET, 32, RTN_LOCAL, RT_TABLE_LOCAL, dst4)}, NLM_F_MULTI | NLM_F_DUMP_INTR)},
                 set, done);
    CHECK((!s && s.error().code == EAGAIN));
}

TEST_CASE("local routes of any table count (a VRF's own); other types and families do not", "[route_wire]") {
    const Bytes table10 = attr(RTA_TABLE, {10, 0, 0, 0});
    const Bytes table300 = attr(RTA_TABLE, {44, 1, 0, 0});  // above 255: RTA_TABLE only
    LocalPrefixes set;
    bool done = false;
    REQUIRE(read_all({one_dump({
                         route(AF_INET, 32, RTN_LOCAL, 10, attr(RTA_DST, {10, 9, 8, 7}) ),
                         route(AF_INET, 32, RTN_LOCAL, RT_TABLE_COMPAT, [&] {
                             Bytes b = attr(RTA_DST, {10, 9, 8, 6});
                             b.insert(b.end(), table300.begin(), table300.end());
                             return b;
                         }()),
                         route(AF_INET6, 128, RTN_LOCAL, 10, [&] {
                             Bytes b = attr(RTA_DST, {0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9});
                             b.insert(b.end(), table10.begin(), table10.end());
                             return b;
                         }()),
                         route(AF_INET, 32, RTN_BROADCAST, RT_TABLE_LOCAL, attr(RTA_DST, {10, 9, 8, 255})),
                         route(AF_INET, 24, RTN_UNICAST, RT_TABLE_MAIN, attr(RTA_DST, {10, 9, 8, 0})),
                         route(AF_INET, 0, RTN_UNICAST, RT_TABLE_MAIN, {}),  // the default route
                         route(28 /* AF_MPLS */, 20, RTN_UNICAST, RT_TABLE_MAIN, {}),
                     })},
                     set, done)
                .ok());
    CHECK(done);
    CHECK(set.size() == 3);
    CHECK(has(set, "10.9.8.7"));
    CHECK(has(set, "10.9.8.6"));
    CHECK(has(set, "2001:db8::9"));
    CHECK_FALSE(has(set, "10.9.8.255"));
    // `ip route add local default dev lo`: everything is local.
    REQUIRE(read_all({one_dump({route(AF_INET, 0, RTN_LOCAL, RT_TABLE_LOCAL, {})})}, set, done).ok());
    uint8_t a[16] = {203, 0, 113, 1};
    CHECK(set.covers(AF_INET, a));
}

TEST_CASE("address events: removals counted, the first named; additions ignored", "[route_wire]") {
    auto addr_msg = [](uint16_t type, uint8_t family, std::vector<std::pair<uint16_t, Bytes>> attrs) {
        ifaddrmsg m{};
        m.ifa_family = family;
        m.ifa_prefixlen = family == AF_INET ? 32 : 128;
        Bytes p(sizeof m);
        std::memcpy(p.data(), &m, sizeof m);
        for (auto& [t, v] : attrs) {
            Bytes a = attr(t, v);
            p.insert(p.end(), a.begin(), a.end());
        }
        Bytes d;
        testutil::append_msg(d, type, 0, p);
        return d;
    };
    AddrEvents ev;
    scan_addr_events(addr_msg(RTM_NEWADDR, AF_INET, {{IFA_LOCAL, {192, 0, 2, 1}}}), ev);
    CHECK(ev.removed == 0);
    CHECK(ev.first.family == 0);
    // IPv4 on a point-to-point link: IFA_ADDRESS is the peer, IFA_LOCAL ours.
    scan_addr_events(addr_msg(RTM_DELADDR, AF_INET, {{IFA_ADDRESS, {10, 0, 0, 2}}, {IFA_LOCAL, {10, 0, 0, 1}}}), ev);
    CHECK(ev.removed == 1);
    CHECK(ev.first == pfx("10.0.0.1"));
    CHECK((ev.v4 && !ev.v6));
    scan_addr_events(addr_msg(RTM_DELADDR, AF_INET6,
                              {{IFA_ADDRESS, {0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9}}}),
                     ev);
    CHECK(ev.removed == 2);
    CHECK(ev.first == pfx("10.0.0.1"));  // the first stays
    CHECK((ev.v4 && ev.v6));             // but the family of each removal is kept
    CHECK_FALSE(ev.malformed);
    AddrEvents v6;
    scan_addr_events(addr_msg(RTM_DELADDR, AF_INET6,
                              {{IFA_ADDRESS, {0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9}}}),
                     v6);
    CHECK(v6.first == pfx("2001:db8::9"));
    CHECK((v6.v6 && !v6.v4));
    // A removal whose address cannot be read still counts (a poll is due).
    AddrEvents odd;
    scan_addr_events(addr_msg(RTM_DELADDR, AF_INET, {{IFA_LOCAL, {10, 0, 0}}}), odd);
    CHECK(odd.removed == 1);
    CHECK(odd.first.family == 0);
    // A local route removed without an address (AnyIP) counts; other
    // route removals (and additions) do not.
    AddrEvents routes;
    Bytes d;
    testutil::append_msg(d, RTM_NEWROUTE, 0, route(AF_INET, 24, RTN_LOCAL, RT_TABLE_LOCAL, attr(RTA_DST, {198, 51, 100, 0})));
    testutil::append_msg(d, RTM_DELROUTE, 0, route(AF_INET, 24, RTN_UNICAST, RT_TABLE_MAIN, attr(RTA_DST, {10, 1, 0, 0})));
    testutil::append_msg(d, RTM_DELROUTE, 0, route(AF_INET, 24, RTN_LOCAL, RT_TABLE_LOCAL, attr(RTA_DST, {198, 51, 100, 0})));
    scan_addr_events(d, routes);
    CHECK(routes.removed == 1);
    CHECK(routes.first == pfx("198.51.100.0/24"));
    // An address's removal, then its own local route's: one removal.
    AddrEvents one;
    scan_addr_events(addr_msg(RTM_DELADDR, AF_INET, {{IFA_LOCAL, {192, 0, 2, 9}}}), one);
    Bytes own;
    testutil::append_msg(own, RTM_DELROUTE, 0, route(AF_INET, 32, RTN_LOCAL, RT_TABLE_LOCAL, attr(RTA_DST, {192, 0, 2, 9})));
    scan_addr_events(own, one);
    CHECK(one.removed == 1);
    const Bytes whole = addr_msg(RTM_DELADDR, AF_INET, {{IFA_LOCAL, {10, 0, 0, 1}}});
    const Bytes cut(whole.begin(), whole.end() - 6);
    AddrEvents broken;
    scan_addr_events(cut, broken);
    CHECK(broken.malformed);
}
