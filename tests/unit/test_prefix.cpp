// --src/--dst prefixes and --state names.
#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/prefix.hpp"

using namespace tc;

namespace {

std::string show(const Prefix& p) {
    char a[64];
    inet_ntop(p.family, p.addr.data(), a, sizeof a);
    return std::string(a) + "/" + std::to_string(p.len);
}

Prefix parsed(const char* text) {
    Prefix p;
    Status s = parse_prefix(text, p);
    INFO(text);
    REQUIRE(s.ok());
    return p;
}

bool in(const char* prefix, const char* addr) {
    Prefix p = parsed(prefix);
    uint8_t b[16] = {};
    int family = std::string(addr).find(':') == std::string::npos ? AF_INET : AF_INET6;
    REQUIRE(inet_pton(family, addr, b) == 1);
    return prefix_matches(p, static_cast<uint8_t>(family), b);
}

}  // namespace

TEST_CASE("prefixes: forms, defaults, host bits cleared", "[prefix]") {
    CHECK(show(parsed("10.0.0.0/8")) == "10.0.0.0/8");
    CHECK(show(parsed("192.0.2.7")) == "192.0.2.7/32");
    CHECK(show(parsed("10.1.2.3/8")) == "10.0.0.0/8");
    CHECK(show(parsed("10.255.255.255/9")) == "10.128.0.0/9");
    CHECK(show(parsed("0.0.0.0/0")) == "0.0.0.0/0");
    CHECK(show(parsed("1.2.3.4/0")) == "0.0.0.0/0");
    CHECK(show(parsed("2001:db8::/32")) == "2001:db8::/32");
    CHECK(show(parsed("::1")) == "::1/128");
    CHECK(show(parsed("2001:db8:ffff::1/33")) == "2001:db8:8000::/33");
    // v4-mapped spellings (ss prints [::ffff:127.0.0.1]) are the IPv4 ones.
    CHECK(show(parsed("::ffff:10.1.2.3/120")) == "10.1.2.0/24");
    CHECK(show(parsed("::ffff:10.1.2.3")) == "10.1.2.3/32");
    CHECK(show(parsed("::ffff:0:0/96")) == "0.0.0.0/0");
    CHECK(show(parsed("::ffff:0a01:0203")) == "10.1.2.3/32");
    CHECK(show(parsed("::ffff:0:0/95")) == "::fffe:0:0/95");  // wider than the mapped range: IPv6
    CHECK(show(parsed("::fffe:10.1.2.3")) == "::fffe:a01:203/128");
    CHECK(parsed("::ffff:10.1.2.3").family == AF_INET);
    CHECK(parsed("10.0.0.0/8").family == AF_INET);
    CHECK(parsed("::/0").family == AF_INET6);
}

TEST_CASE("prefixes: bad values", "[prefix]") {
    for (const char* bad : {"", "10.0.0.0/33", "1.2.3", "::g", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
                            "/8", "::/129", "10.0.0.256", "010.0.0.1", "1.2.3.4.5", "2001:db8::/1a", " 10.0.0.1",
                            "10.0.0.1 ", "localhost", "1:2:3:4:5:6:7:8:9"}) {
        INFO("'" << bad << "'");
        Prefix p;
        Status s = parse_prefix(bad, p);
        CHECK_FALSE(s.ok());
        CHECK(std::string(s.error().what).size() > 0);
    }
}

TEST_CASE("prefixes: matching, including IPv4 on IPv6 sockets", "[prefix]") {
    CHECK(in("10.0.0.0/8", "10.200.1.1"));
    CHECK_FALSE(in("10.0.0.0/8", "11.0.0.0"));
    CHECK(in("10.0.0.0/8", "::ffff:10.1.1.1"));        // v4-mapped on a dual-stack socket
    CHECK_FALSE(in("10.0.0.0/8", "::10.1.1.1"));        // not mapped
    CHECK_FALSE(in("10.0.0.0/8", "2001:db8::a00:1"));
    CHECK(in("0.0.0.0/0", "::ffff:1.2.3.4"));
    CHECK_FALSE(in("0.0.0.0/0", "::1"));
    CHECK(in("::/0", "::1"));
    CHECK_FALSE(in("::/0", "127.0.0.1"));               // an IPv6 prefix never matches an IPv4 socket
    CHECK(in("2001:db8::/32", "2001:db8:1234::1"));
    CHECK_FALSE(in("2001:db8::/32", "2001:db9::1"));
    CHECK(in("192.0.2.128/25", "192.0.2.200"));
    CHECK_FALSE(in("192.0.2.128/25", "192.0.2.127"));
}

TEST_CASE("prefixes: an IPv4 socket's address is its first 4 bytes only", "[prefix]") {
    // Older kernels leave the other 12 bytes of idiag_src/dst uninitialised.
    const uint8_t garbage[16] = {10, 1, 2, 3, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(prefix_matches(parsed("10.0.0.0/8"), AF_INET, garbage));
    CHECK(prefix_matches(parsed("10.1.2.3"), AF_INET, garbage));
    CHECK_FALSE(prefix_matches(parsed("10.1.2.4"), AF_INET, garbage));
}

TEST_CASE("prefix sets: any member matches, duplicates fold, a cap", "[prefix]") {
    PrefixSet s;
    uint8_t a[16] = {10, 1, 2, 3};
    CHECK(s.matches(AF_INET, a));  // empty: everything
    REQUIRE(s.add(parsed("192.0.2.0/24")).ok());
    CHECK_FALSE(s.matches(AF_INET, a));
    REQUIRE(s.add(parsed("10.0.0.0/8")).ok());
    REQUIRE(s.add(parsed("10.9.9.9/8")).ok());  // the same prefix once normalised
    CHECK(s.size() == 2);
    CHECK(s.matches(AF_INET, a));
    CHECK(s.has_family(AF_INET));
    CHECK_FALSE(s.has_family(AF_INET6));
    PrefixSet full;
    for (int i = 0; i < 64; ++i) REQUIRE(full.add(parsed(("10." + std::to_string(i) + ".0.0/16").c_str())).ok());
    Status over = full.add(parsed("11.0.0.0/8"));
    CHECK_FALSE(over.ok());
    CHECK(over.error().code == E2BIG);
}

TEST_CASE("prefixes: our address parser accepts exactly what inet_pton does", "[prefix]") {
    // The C library's inet_pton (glibc here) is the reference; the binary
    // uses its own parser.
    std::vector<std::string> inputs = {
        "0.0.0.0", "255.255.255.255", "1.2.3.4", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1..2.3",
        "1.2.3.", ".1.2.3", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "1.2.3.1000", "0.0.0.00", "10.0.0.0",
        "::", "::1", "1::", "1::2", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::",
        "::1:2:3:4:5:6:7", "1::2::3", ":::", "1:::2", ":1::", "1::2:", "::ffff:1.2.3.4", "::1.2.3.4",
        "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::ffff:1.2.3", "::ffff:01.2.3.4", "12345::", "abcd::EF01",
        "g::", "1:2:3:4:5:6::1.2.3.4", "fe80::1%eth0", "1.2.3.4::", "::1.2.3.4:1", "2001:db8::", "0:0:0:0:0:0:0:0",
        ":", "1:", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "1::2:3:4:5:6:7", "1::2:3:4:5:6:7:8",
    };
    std::mt19937 rng(7);
    const char alphabet[] = "0123456789abcdef:.";
    for (int i = 0; i < 20000; ++i) {
        std::string s;
        const size_t n = 1 + rng() % 20;
        for (size_t k = 0; k < n; ++k) s += alphabet[rng() % (sizeof alphabet - 1)];
        inputs.push_back(s);
    }
    for (const std::string& text : inputs) {
        INFO("'" << text << "'");
        const int family = text.find(':') == std::string::npos ? AF_INET : AF_INET6;
        uint8_t want[16] = {};
        const bool libc_ok = inet_pton(family, text.c_str(), want) == 1;
        Prefix p;
        const bool ours_ok = parse_prefix(text, p).ok();
        if (text.find('/') != std::string::npos) continue;  // the alphabet has no '/', but keep the rule clear
        CHECK(ours_ok == libc_ok);
        if (!ours_ok || !libc_ok) continue;
        if (p.family == AF_INET && family == AF_INET6) {  // a v4-mapped address, taken as the IPv4 one
            const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
            CHECK(std::memcmp(want, mapped, 12) == 0);
            CHECK(std::memcmp(p.addr.data(), want + 12, 4) == 0);
        } else {
            CHECK(std::memcmp(p.addr.data(), want, family == AF_INET ? 4 : 16) == 0);
        }
    }
}
