#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "core/selection.hpp"
#include "wire/diag_wire.hpp"

#include <linux/tcp.h>

#include <cstddef>

using namespace tc;
using testutil::rec;

namespace {
Selection sel_sport(const char* ports) {
    Selection s;
    REQUIRE(parse_ports(ports, s.sports).ok());
    return s;
}
constexpr DumpScope kV4{AF_INET, V6Scope::Any};
}  // namespace

TEST_CASE("dump plan per family choice", "[selection]") {
    Selection s;
    s.ipv4 = true;
    s.ipv6 = false;
    DumpPlan one = plan_dumps(s);  // one walk for IPv4 and v4-mapped
    REQUIRE(one.count == 1);
    CHECK(one.scopes[0].family == AF_UNSPEC);
    CHECK(one.scopes[0].v6 == V6Scope::MappedOnly);
    DumpPlan p = plan_dumps(s, false);
    REQUIRE(p.count == 2);  // IPv4 also lives on dual-stack IPv6 sockets
    CHECK(p.scopes[0].family == AF_INET);
    CHECK(p.scopes[1].family == AF_INET6);
    CHECK(p.scopes[1].v6 == V6Scope::MappedOnly);

    s.ipv4 = false;
    s.ipv6 = true;
    CHECK(plan_dumps(s).scopes[0].family == AF_INET6);  // -6 alone: one family, one walk anyway
    p = plan_dumps(s, false);
    REQUIRE(p.count == 1);
    CHECK(p.scopes[0].family == AF_INET6);
    CHECK(p.scopes[0].v6 == V6Scope::NativeOnly);

    s.ipv4 = true;
    one = plan_dumps(s);
    REQUIRE(one.count == 1);
    CHECK((one.scopes[0].family == AF_UNSPEC && one.scopes[0].v6 == V6Scope::Any));
    p = plan_dumps(s, false);
    REQUIRE(p.count == 2);
    CHECK(p.scopes[1].v6 == V6Scope::Any);
}

TEST_CASE("policy: ports, state, family scope", "[selection]") {
    Selection s = sel_sport("22");
    REQUIRE(parse_ports("1000-2000", s.dports).ok());
    CHECK(selected(s, kV4, rec("127.0.0.1", 22, "127.0.0.1", 1500)));
    CHECK_FALSE(selected(s, kV4, rec("127.0.0.1", 23, "127.0.0.1", 1500)));
    CHECK_FALSE(selected(s, kV4, rec("127.0.0.1", 22, "127.0.0.1", 2001)));
    CHECK_FALSE(selected(s, kV4, rec("127.0.0.1", 22, "127.0.0.1", 1500, 10 /* LISTEN */)));
    CHECK_FALSE(selected(s, kV4, rec("127.0.0.1", 22, "127.0.0.1", 1500, 6 /* TIME_WAIT */)));
    CHECK_FALSE(selected(s, kV4, rec("127.0.0.1", 22, "127.0.0.1", 1500, 200)));
    // A record of the other family never matches a scope (a kernel that
    // mixed families up could not make us act on it).
    CHECK_FALSE(selected(s, kV4, rec("::1", 22, "::1", 1500)));

    DumpScope mapped{AF_INET6, V6Scope::MappedOnly}, native{AF_INET6, V6Scope::NativeOnly};
    CHECK(selected(s, mapped, rec("::ffff:127.0.0.1", 22, "::ffff:127.0.0.1", 1500)));
    CHECK_FALSE(selected(s, mapped, rec("::1", 22, "::1", 1500)));
    CHECK(selected(s, native, rec("::1", 22, "::1", 1500)));
    CHECK_FALSE(selected(s, native, rec("::ffff:127.0.0.1", 22, "::ffff:127.0.0.1", 1500)));
}

TEST_CASE("policy: idle time and last receive limit", "[selection]") {
    Selection s = sel_sport("22");
    s.idle_min_ms = 60000;
    SockRecord r = rec("127.0.0.1", 22, "127.0.0.1", 40000);
    CHECK_FALSE(selected(s, kV4, r));  // no tcp_info: never kill on a guess
    r.has_info = true;
    r.last_data_recv_ms = 59999;
    CHECK_FALSE(selected(s, kV4, r));
    r.last_data_recv_ms = 60000;
    CHECK(selected(s, kV4, r));
    s.last_recv_limit_ms = 120000;
    r.last_data_recv_ms = 119999;
    CHECK(selected(s, kV4, r));
    r.last_data_recv_ms = 120000;
    CHECK_FALSE(selected(s, kV4, r));
    r.last_data_recv_ms = 4294967295u;  // bogus timestamp
    CHECK_FALSE(selected(s, kV4, r));

    Selection only_limit = sel_sport("22");
    only_limit.last_recv_limit_ms = 1000;
    r.last_data_recv_ms = 999;
    CHECK(selected(only_limit, kV4, r));
    r.last_data_recv_ms = 1000;
    CHECK_FALSE(selected(only_limit, kV4, r));
}

TEST_CASE("policy: without usable tcp_info no idle rule selects anything", "[selection]") {
    // has_info false: no tcp_info, or one too short for the fields we read
    // (decode_sock decides that). last_data_recv_ms then holds nothing
    // meaningful; 0 would look "just active", a large value "idle".
    for (uint32_t stale : {0u, 500u, 5000000u}) {
        SockRecord r = rec("127.0.0.1", 22, "127.0.0.1", 40000);
        r.has_info = false;
        r.last_data_recv_ms = stale;
        INFO("last_data_recv_ms " << stale);
        Selection limit_only = sel_sport("22");
        limit_only.last_recv_limit_ms = 1000;
        CHECK_FALSE(selected(limit_only, kV4, r));
        Selection idle_and_limit = sel_sport("22");
        idle_and_limit.idle_min_ms = 100;
        idle_and_limit.last_recv_limit_ms = 10000000;
        CHECK_FALSE(selected(idle_and_limit, kV4, r));
        Selection idle_only = sel_sport("22");
        idle_only.idle_min_ms = 100;
        CHECK_FALSE(selected(idle_only, kV4, r));
        Selection no_rule = sel_sport("22");  // without idle rules tcp_info is not needed
        CHECK(selected(no_rule, kV4, r));
    }
}

TEST_CASE("policy: a connection that matches any exclusion is never selected", "[selection][exclude]") {
    Selection sel;
    Prefix p;
    REQUIRE(parse_prefix("10.0.0.0/8", p).ok());
    REQUIRE(sel.dsts.add(p).ok());
    const DumpScope scope{AF_INET6, V6Scope::MappedOnly};
    const DumpScope v4{AF_INET, V6Scope::Any};
    SockRecord ssh = rec("192.0.2.1", 22, "10.0.0.9", 50000);
    SockRecord out_ssh = rec("192.0.2.1", 50000, "10.0.0.9", 22);
    SockRecord web = rec("192.0.2.1", 443, "10.0.0.9", 50001);
    CHECK(selected(sel, v4, ssh));
    REQUIRE(parse_ports("22", sel.ex.sports).ok());
    CHECK_FALSE(selected(sel, v4, ssh));
    CHECK(selected(sel, v4, out_ssh));
    REQUIRE(parse_ports("22", sel.ex.dports).ok());
    CHECK_FALSE(selected(sel, v4, out_ssh));
    CHECK(selected(sel, v4, web));
    // Addresses: an IPv4 exclusion also covers the v4-mapped form.
    REQUIRE(parse_prefix("10.0.0.9", p).ok());
    REQUIRE(sel.ex.dsts.add(p).ok());
    CHECK_FALSE(selected(sel, v4, web));
    CHECK_FALSE(selected(sel, scope, rec("::ffff:192.0.2.1", 443, "::ffff:10.0.0.9", 50001)));
    CHECK(selected(sel, scope, rec("::ffff:192.0.2.1", 443, "::ffff:10.0.0.8", 50001)));
    REQUIRE(parse_prefix("192.0.2.0/24", p).ok());
    REQUIRE(sel.ex.srcs.add(p).ok());
    CHECK_FALSE(selected(sel, v4, rec("192.0.2.1", 443, "10.0.0.8", 50001)));
    CHECK(selected(sel, v4, rec("198.51.100.1", 443, "10.0.0.8", 50001)));
    // The owner's uid.
    SockRecord other = rec("198.51.100.1", 443, "10.0.0.8", 50001);
    other.uid = 1000;
    other.inode = 78;  // held by a process
    sel.ex.owner.n_uid = 1;
    sel.ex.owner.uid[0] = 1000;
    CHECK_FALSE(selected(sel, v4, other));
    other.uid = 1001;
    CHECK(selected(sel, v4, other));
}

namespace {
// A record whose tcp_info is `n` bytes of a tcp_info with these figures.
SockRecord with_info(uint32_t unacked, uint32_t last_ack, uint32_t last_sent, uint32_t last_recv,
                     size_t n = sizeof(tcp_info)) {
    SockRecord r = rec("192.0.2.1", 40000, "198.51.100.1", 443);
    tcp_info t{};
    t.tcpi_unacked = unacked;
    t.tcpi_last_ack_recv = last_ack;
    t.tcpi_last_data_sent = last_sent;
    t.tcpi_last_data_recv = last_recv;
    read_tcp_figures(&t, n, r);
    r.has_info = n >= offsetof(tcp_info, tcpi_rtt) + 4;
    return r;
}
}  // namespace

TEST_CASE("policy: --stalled and --send_idle read their tcp_info figures", "[selection][stalled]") {
    Selection sel;
    sel.stalled_ms = 30000;
    CHECK(selected(sel, kV4, with_info(2, 30000, 10, 40000)));
    CHECK_FALSE(selected(sel, kV4, with_info(2, 29999, 10, 40000)));  // acknowledged recently
    CHECK_FALSE(selected(sel, kV4, with_info(0, 90000, 90000, 90000)));  // nothing in flight: idle, not stalled
    SockRecord none = rec("192.0.2.1", 40000, "198.51.100.1", 443);
    CHECK_FALSE(selected(sel, kV4, none));  // no tcp_info at all
    // With -t as well: both must hold.
    sel.idle_min_ms = 60000;
    CHECK_FALSE(selected(sel, kV4, with_info(2, 30000, 10, 40000)));
    CHECK(selected(sel, kV4, with_info(2, 30000, 10, 60000)));

    Selection quiet;
    REQUIRE(parse_ports("443", quiet.dports).ok());
    quiet.send_idle_ms = 60000;
    quiet.idle_min_ms = 60000;
    CHECK(selected(quiet, kV4, with_info(0, 0, 60000, 60000)));
    CHECK_FALSE(selected(quiet, kV4, with_info(0, 0, 59999, 60000)));  // sent lately
    CHECK_FALSE(selected(quiet, kV4, with_info(0, 0, 60000, 59999)));  // received lately
}

TEST_CASE("tcp_info figures count only where the kernel's bytes reach them", "[selection][stalled]") {
    const size_t ack_end = offsetof(tcp_info, tcpi_last_ack_recv) + 4;
    const size_t sent_end = offsetof(tcp_info, tcpi_last_data_sent) + 4;
    SockRecord cut = with_info(2, 40000, 40000, 40000, ack_end - 1);
    CHECK((cut.figures & SockRecord::kFigureAckRecv) == 0);
    CHECK((cut.figures & SockRecord::kFigureUnacked) != 0);
    CHECK((cut.figures & SockRecord::kFigureSent) != 0);
    SockRecord whole = with_info(2, 40000, 40000, 40000, ack_end);
    CHECK((whole.figures & SockRecord::kFigureAckRecv) != 0);
    CHECK(whole.last_ack_recv_ms == 40000);
    // Forced usable, the cut one still never matches --stalled on a figure it lacks.
    Selection sel;
    sel.stalled_ms = 30000;
    cut.has_info = whole.has_info = true;
    CHECK_FALSE(selected(sel, kV4, cut));
    CHECK(selected(sel, kV4, whole));
    SockRecord short_sent = with_info(0, 0, 90000, 90000, sent_end - 1);
    short_sent.has_info = true;
    Selection quiet;
    quiet.send_idle_ms = 60000;
    CHECK_FALSE(selected(quiet, kV4, short_sent));
    CHECK((short_sent.figures & SockRecord::kFigureUnacked) != 0);  // tcpi_unacked comes earlier
    SockRecord nothing = with_info(1, 1, 1, 1, 0);
    CHECK(nothing.figures == 0);
}
