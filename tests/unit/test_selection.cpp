#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "core/selection.hpp"

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
