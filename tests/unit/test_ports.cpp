#include <catch2/catch.hpp>

#include <string>

#include "core/ports.hpp"

using namespace tc;

namespace {
PortSet parsed(const char* text) {
    PortSet s;
    REQUIRE(parse_ports(text, s).ok());
    return s;
}
}  // namespace

TEST_CASE("single ports, ranges and lists", "[ports]") {
    PortSet s = parsed("80,443,8000-8100");
    REQUIRE(s.size() == 3);
    CHECK(s[0] == PortRange{80, 80});
    CHECK(s[1] == PortRange{443, 443});
    CHECK(s[2] == PortRange{8000, 8100});
    CHECK(s.contains(80));
    CHECK(s.contains(8050));
    CHECK_FALSE(s.contains(81));
    CHECK_FALSE(s.contains(8101));
    CHECK(parsed("1")[0] == PortRange{1, 1});
    CHECK(parsed("65535")[0] == PortRange{65535, 65535});
    CHECK(parsed("7000-7000")[0] == PortRange{7000, 7000});
}

TEST_CASE("overlapping and adjacent ranges merge, order does not matter", "[ports]") {
    PortSet s = parsed("100-200,150-250,251,10,9,5-8");
    REQUIRE(s.size() == 2);
    CHECK(s[0] == PortRange{5, 10});
    CHECK(s[1] == PortRange{100, 251});
    PortSet t;
    REQUIRE(parse_ports("22", t).ok());
    REQUIRE(parse_ports("22,21", t).ok());  // repeated flags accumulate
    REQUIRE(t.size() == 1);
    CHECK(t[0] == PortRange{21, 22});
}

TEST_CASE("a range inside an earlier one keeps the wider range", "[ports]") {
    PortSet a = parsed("7000-7099,7050");
    REQUIRE(a.size() == 1);
    CHECK(a[0] == PortRange{7000, 7099});
    PortSet b = parsed("1-65535,80");
    REQUIRE(b.size() == 1);
    CHECK(b[0] == PortRange{1, 65535});
    PortSet c = parsed("7000-7099,7010-7020,7098-7099,7000");  // inside, at the end, at the start
    REQUIRE(c.size() == 1);
    CHECK(c[0] == PortRange{7000, 7099});
    PortSet d = parsed("10-20,30-40,5-50");  // a later range covering earlier ones
    REQUIRE(d.size() == 1);
    CHECK(d[0] == PortRange{5, 50});
}

TEST_CASE("bad port lists are rejected", "[ports]") {
    const char* bad[] = {"", "0", "65536", "99999999999999999999", "abc", "7000x", "x7000", "-1", "+5",
                         " 22", "22 ", "1,", ",1", "1,,2", "5-", "-5", "10-5", "1-2-3", "0-10", "10-70000",
                         "22.5", "0x16"};
    for (const char* b : bad) {
        PortSet s;
        INFO("input '" << b << "'");
        CHECK_FALSE(parse_ports(b, s).ok());
    }
}

TEST_CASE("too many ranges is an error, not an overflow", "[ports]") {
    PortSet s;
    for (uint32_t i = 0; i < PortSet::kMaxRanges; ++i)
        REQUIRE(s.add({static_cast<uint16_t>(2 * i + 1), static_cast<uint16_t>(2 * i + 1)}).ok());
    Status st = s.add({60000, 60000});
    CHECK_FALSE(st.ok());
    CHECK(st.error().code == E2BIG);
    CHECK(s.size() == PortSet::kMaxRanges);
    CHECK_FALSE(s.contains(60000));  // the refused range left nothing behind
    CHECK(s.contains(1023));
}

TEST_CASE("the range cap counts the merged set", "[ports]") {
    // Found by a user: 512 single ports, then a range covering them all,
    // was refused although the merged set is one range.
    std::string singles;
    for (int i = 0; i < 512; ++i) singles += (i ? "," : "") + std::to_string(2 * i + 1);
    PortSet s;
    REQUIRE(parse_ports(singles, s).ok());
    CHECK(s.size() == 512);
    REQUIRE(parse_ports("1-1100", s).ok());
    CHECK(s.size() == 1);
    CHECK(s[0] == PortRange{1, 1100});
    // A 513th range that merges with a neighbour is fine too.
    PortSet t;
    REQUIRE(parse_ports(singles, t).ok());
    REQUIRE(parse_ports("2", t).ok());  // joins 1 and 3
    CHECK(t.size() == 511);
}
