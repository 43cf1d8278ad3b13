// The text helpers every parser uses.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string_view>

#include "core/text.hpp"

using namespace tc;

TEST_CASE("parse_uint is strict", "[text]") {
    uint64_t v = 0;
    CHECK(parse_uint("0", 10, v));
    CHECK(v == 0);
    CHECK(parse_uint("4294967295", UINT32_MAX, v));
    CHECK(v == 4294967295u);
    CHECK_FALSE(parse_uint("4294967296", UINT32_MAX, v));
    CHECK_FALSE(parse_uint("18446744073709551616", UINT64_MAX, v));
    CHECK_FALSE(parse_uint("", 10, v));
    CHECK_FALSE(parse_uint("-1", 10, v));
    CHECK_FALSE(parse_uint("1e3", 10000, v));
}

TEST_CASE("sv_head, sv_tail and sv_find clamp instead of throwing", "[text]") {
    const std::string_view s = "ab,cd";
    CHECK(sv_head(s, 2) == "ab");
    CHECK(sv_head(s, 99) == "ab,cd");
    CHECK(sv_tail(s, 3) == "cd");
    CHECK(sv_tail(s, 5).empty());
    CHECK(sv_tail(s, 99).empty());
    CHECK(sv_find(s, ',') == 2);
    CHECK(sv_find(s, ',', 3) == std::string_view::npos);
    CHECK(sv_find(s, 'x') == std::string_view::npos);
    CHECK(sv_find(s, 'a', 99) == std::string_view::npos);
}

TEST_CASE("hex_digit: both cases, nothing else", "[text]") {
    CHECK(hex_digit('0') == 0);
    CHECK(hex_digit('9') == 9);
    CHECK(hex_digit('a') == 10);
    CHECK(hex_digit('F') == 15);
    for (char c : {'g', 'G', ' ', '/', ':', '@', '`', '\0'}) CHECK(hex_digit(c) == -1);
}
