// Our printf subset against the C library's snprintf, and our address
// formatting against inet_ntop.
#include <catch2/catch.hpp>

// The clamping tests truncate on purpose.
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <arpa/inet.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "core/fmt.hpp"
#include "report/report.hpp"

using namespace tc;

namespace {

// Both formatters into buffers of size n; the texts and return values must agree.
#define SAME(n, ...)                                              \
    do {                                                          \
        char ours[n], libc[n];                                    \
        std::memset(ours, 'Z', n);                                \
        std::memset(libc, 'Z', n);                                \
        int a = tc::fmt(ours, n, __VA_ARGS__);                    \
        int b = std::snprintf(libc, n, __VA_ARGS__);              \
        INFO("format " << #__VA_ARGS__);                          \
        CHECK(a == b);                                            \
        CHECK(std::string(ours) == std::string(libc));            \
    } while (0)

}  // namespace

TEST_CASE("fmt: every conversion the tool uses, as snprintf prints it", "[fmt]") {
    for (int v : {0, 1, -1, 7, 42, -42, 999, 2147483647, INT_MIN}) {
        SAME(64, "%d", v);
        SAME(64, "%02d", v);
        SAME(64, "%04d", v);
        SAME(64, "%2d", v);
        SAME(64, "<%-5d>", v);
    }
    for (unsigned v : {0u, 5u, 65535u, 4294967295u}) {
        SAME(64, "%u", v);
        SAME(64, "%-3u|%-5u|", v, v);
        SAME(64, "%x", v);
        SAME(64, "0x%x/0x%08x", v, v);
    }
    for (long v : {0L, 123L, 999L, -5L, LONG_MAX, LONG_MIN}) {
        SAME(64, "%03ld", v);
        SAME(64, "%ld", v);
    }
    for (size_t v : {size_t{0}, size_t{7}, size_t{20472}, SIZE_MAX}) {
        SAME(64, "%zu", v);
        SAME(64, "%4zu", v);
    }
    SAME(64, "%s|%-6s|%.3s|%.*s|%%|%s", "abc", "S_GE", "JanFeb", 2, "xyz", "");
    SAME(64, "%-6s|", "toolongname");
    SAME(64, "no conversions at all");
    SAME(64, "%.*s", 0, "hidden");
}

// printf's format check accepted these conversions while fmt skipped them
// without taking their argument, so every later argument was read one place
// off. They are implemented now; every other one does not compile
// (tests/compile_fail/fmt_refused.cpp).
TEST_CASE("fmt: %c, %i, %X and %p take their argument, as snprintf does", "[fmt]") {
    for (int v : {0, 1, -1, 42, 2147483647, INT_MIN}) {
        SAME(64, "%i|%5i|%-4i|%03i", v, v, v, v);
        SAME(64, "%i then %s", v, "next");
    }
    for (unsigned v : {0u, 10u, 0xabcdefu, 4294967295u}) {
        SAME(64, "%X|%08X|%lX", v, v, static_cast<unsigned long>(v) << 4);
        SAME(64, "%X then %u", v, 7u);
    }
    SAME(64, "%c%c%c|%3c|%-3c|", 'a', 'b', 'c', 'x', 'y');
    SAME(64, "%c then %d then %s", 'q', 42, "end");
    int here = 0;
    const void* p = &here;
    SAME(64, "%p then %d", p, 5);
    SAME(64, "[%20p]", p);
    SAME(64, "%p", static_cast<const void*>(reinterpret_cast<const char*>(0x1000)));
}

TEST_CASE("fmt: clamps like snprintf and reports the full length", "[fmt]") {
    SAME(1, "%s", "abc");
    SAME(4, "%s-%d", "abcdef", 12345);
    SAME(8, "%04d-%02d-%02d", 2026, 11, 27);
    SAME(6, "%-10s|", "ab");
    char none[1] = {'Z'};
    CHECK(tc::fmt(none, 0, "%s", "abc") == 3);
    CHECK(none[0] == 'Z');  // n == 0 writes nothing
    CHECK(tc::fmt(nullptr, 0, "%d", 12345) == 5);
}

TEST_CASE("format_addr: as inet_ntop prints it (RFC 5952)", "[fmt]") {
    std::mt19937 rng(7);
    auto check = [](const uint8_t b[16]) {
        uint32_t a[4];
        std::memcpy(a, b, 16);
        char ours[64], libc[64];
        format_addr(ours, sizeof ours, AF_INET6, a);
        REQUIRE(inet_ntop(AF_INET6, b, libc, sizeof libc));
        INFO(libc);
        CHECK(std::string(ours) == libc);
        format_addr(ours, sizeof ours, AF_INET, a);
        REQUIRE(inet_ntop(AF_INET, b, libc, sizeof libc));
        CHECK(std::string(ours) == libc);
    };
    // Random addresses with many zero groups, so every run length and
    // position of "::" shows up.
    for (int i = 0; i < 20000; ++i) {
        uint8_t b[16] = {};
        for (int g = 0; g < 8; ++g) {
            if (rng() % 2) continue;
            uint16_t w = static_cast<uint16_t>(rng() % 4 == 0 ? rng() % 16 : rng());
            b[2 * g] = static_cast<uint8_t>(w >> 8);
            b[2 * g + 1] = static_cast<uint8_t>(w);
        }
        // glibc prints the deprecated IPv4-compatible form (::a.b.c.d) when
        // only the last 32 bits are set; we print hex groups there.
        bool v4_compatible = std::all_of(b, b + 12, [](uint8_t x) { return x == 0; }) && (b[12] | b[13]) != 0;
        if (!v4_compatible) check(b);
    }
    for (const char* text : {"::", "::1", "1::", "2001:db8::1", "fe80::1:0:0:1", "1:0:0:2:0:0:0:3", "1:0:2:0:3:0:4:0",
                             "::ffff:127.0.0.1", "::ffff:0.0.0.0", "1:2:3:4:5:6:7:8", "0:0:1::", "1::2:0:0:3"}) {
        uint8_t b[16];
        REQUIRE(inet_pton(AF_INET6, text, b) == 1);
        check(b);
    }
    uint32_t compat[4] = {0, 0, 0, htonl(0x01020304)};
    char ours[64];
    format_addr(ours, sizeof ours, AF_INET6, compat);
    CHECK(std::string(ours) == "::102:304");
    // AF_INET reads only the first 4 bytes: the rest may be garbage.
    uint32_t v4[4] = {htonl(0x7f000001), 0xdeadbeef, 0xdeadbeef, 0xdeadbeef};
    format_addr(ours, sizeof ours, AF_INET, v4);
    CHECK(std::string(ours) == "127.0.0.1");
}
