#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include "core/local_prefixes.hpp"

using namespace tc;

namespace {

Prefix pfx(const char* text) {
    Prefix p;
    REQUIRE(parse_prefix(text, p).ok());
    return p;
}

bool covers(const LocalPrefixes& set, const char* addr) {
    uint8_t a[16] = {};
    const bool v4 = inet_pton(AF_INET, addr, a) == 1;
    if (!v4) REQUIRE(inet_pton(AF_INET6, addr, a) == 1);
    return set.covers(v4 ? AF_INET : AF_INET6, a);
}

}  // namespace

TEST_CASE("local prefixes: addresses and AnyIP prefixes; v4-mapped judged as IPv4", "[local_prefixes]") {
    LocalPrefixes set;
    CHECK_FALSE(covers(set, "127.0.0.1"));  // empty: nothing is local
    REQUIRE(set.add(pfx("127.0.0.0/8")));
    REQUIRE(set.add(pfx("192.0.2.10")));
    REQUIRE(set.add(pfx("198.51.100.0/24")));
    REQUIRE(set.add(pfx("2001:db8::10")));
    REQUIRE(set.add(pfx("192.0.2.10")));  // the same route from another table: kept once
    CHECK(set.size() == 4);
    CHECK(covers(set, "127.3.4.5"));
    CHECK(covers(set, "192.0.2.10"));
    CHECK_FALSE(covers(set, "192.0.2.11"));
    CHECK(covers(set, "198.51.100.200"));
    CHECK_FALSE(covers(set, "198.51.101.1"));
    CHECK(covers(set, "2001:db8::10"));
    CHECK_FALSE(covers(set, "2001:db8::11"));
    CHECK(covers(set, "::ffff:192.0.2.10"));
    CHECK_FALSE(covers(set, "::ffff:192.0.2.11"));
    CHECK_FALSE(covers(set, "::1"));  // no ::1 route here
    set.clear();
    CHECK(set.size() == 0);
    CHECK_FALSE(covers(set, "192.0.2.10"));
}
