// The compiler's negation against the kernel model: --src-removed's local
// prefixes and the --exclude-* fragments, alone, after the positive
// selectors and before the owner ops, and over random selections.
#include <catch2/catch.hpp>

#include <string>

#include <algorithm>
#include <array>
#include <cstring>
#include <span>
#include <random>
#include <vector>

#include "bytecode_rig.hpp"

using namespace tc;
using namespace bctest;
using testutil::entry;
using testutil::rec;

namespace {

void fill(LocalPrefixes& l, std::initializer_list<const char*> texts) {
    for (const char* t : texts) REQUIRE(l.add(prefix(t)));
}

// Compiled with this poll's local prefixes, into a buffer of exactly the bound.
Compiled compile_local(const Selection& sel, DumpScope scope, const LocalPrefixes& local) {
    Compiled c;
    c.buf.resize(filter_size_bound(sel, local.size()));
    Result<size_t> r = compile_filter(sel, scope, c.buf, true, &local);
    REQUIRE(r.ok());
    c.len = *r;
    REQUIRE(model::audit(c.prog()));
    return c;
}

// The policy's side of --src-removed for a socket the kernel reports as
// neither transparent nor freebind.
bool removed_policy(const Selection& sel, const DumpScope& scope, const LocalPrefixes& local, const SockRecord& r) {
    SockExtras x;
    x.has_sockopt = true;
    return matches_filter(sel, scope, r) && src_removed_match(sel, local, r, x);
}

}  // namespace

TEST_CASE("--src-removed in the kernel: sockets on a local prefix are left out, in every dump", "[bytecode]") {
    LocalPrefixes local;
    fill(local, {"127.0.0.0/8", "192.0.2.21/32", "198.51.100.0/24", "::1/128", "2001:db8::21/128"});
    Selection sel;
    sel.src_removed = true;
    Compiled v4 = compile_local(sel, kV4, local);
    CHECK(model::run(v4.prog(), entry(rec("192.0.2.20", 5, "192.0.2.21", 7))));       // removed
    CHECK_FALSE(model::run(v4.prog(), entry(rec("192.0.2.21", 5, "192.0.2.20", 7))));  // local
    CHECK_FALSE(model::run(v4.prog(), entry(rec("198.51.100.9", 5, "10.0.0.1", 7))));  // AnyIP
    CHECK_FALSE(model::run(v4.prog(), entry(rec("127.3.2.1", 5, "127.0.0.1", 7))));
    // The IPv4 dump needs no IPv6 condition: three conditions, three JMPs.
    CHECK(opcodes(v4.prog()) == std::vector<uint8_t>{INET_DIAG_BC_S_COND, INET_DIAG_BC_JMP, INET_DIAG_BC_S_COND,
                                                     INET_DIAG_BC_JMP, INET_DIAG_BC_S_COND, INET_DIAG_BC_JMP});
    Compiled v6 = compile_local(sel, {AF_INET6, V6Scope::Any}, local);
    CHECK(model::run(v6.prog(), entry(rec("2001:db8::20", 5, "2001:db8::21", 7))));
    CHECK_FALSE(model::run(v6.prog(), entry(rec("2001:db8::21", 5, "2001:db8::20", 7))));
    CHECK(model::run(v6.prog(), entry(rec("::ffff:192.0.2.20", 5, "::ffff:192.0.2.21", 7))));  // judged as IPv4
    CHECK_FALSE(model::run(v6.prog(), entry(rec("::ffff:192.0.2.21", 5, "::ffff:192.0.2.20", 7))));
    // AND with the other fragments: ports before, the scope after.
    Selection ports_too = ports(nullptr, "443");
    ports_too.src_removed = true;
    Compiled both = compile_local(ports_too, {AF_INET6, V6Scope::NativeOnly}, local);
    CHECK(model::run(both.prog(), entry(rec("2001:db8::20", 5, "2001:db8::21", 443))));
    CHECK_FALSE(model::run(both.prog(), entry(rec("2001:db8::20", 5, "2001:db8::21", 444))));
    CHECK_FALSE(model::run(both.prog(), entry(rec("::ffff:192.0.2.20", 5, "::ffff:192.0.2.21", 443))));  // scope
    CHECK_FALSE(model::run(both.prog(), entry(rec("::1", 5, "::1", 443))));
    // No local prefixes at all (nothing is local): everything goes through.
    const LocalPrefixes none;
    CHECK(compile_local(sel, kV4, none).len == 0);
    // Without --src-removed the prefixes change nothing.
    Selection plain = ports(nullptr, "443");
    CHECK(compile_local(plain, kV4, local).len == compile(plain, kV4).len);
}

TEST_CASE("--src-removed in the kernel: a zero-length prefix and more than 64 stay in user space", "[bytecode]") {
    Selection sel;
    sel.src_removed = true;
    // 0.0.0.0/0 (every IPv4 address local): older kernels would judge it
    // before the family and reject IPv6 sockets too.
    LocalPrefixes zero;
    fill(zero, {"0.0.0.0/0", "2001:db8::21/128"});
    Compiled z = compile_local(sel, {AF_INET6, V6Scope::Any}, zero);
    CHECK(opcodes(z.prog()) == std::vector<uint8_t>{INET_DIAG_BC_S_COND, INET_DIAG_BC_JMP});
    LocalPrefixes many;
    for (int i = 0; i < 65; ++i) {
        const std::string a = "10.0.0." + std::to_string(i);
        REQUIRE(many.add(prefix(a.c_str())));
    }
    CHECK(compile_local(sel, kV4, many).len == 0);
    many.clear();
    for (int i = 0; i < 64; ++i) {
        const std::string a = "2001:db8::" + std::to_string(i + 1);
        REQUIRE(many.add(prefix(a.c_str())));
    }
    Compiled full = compile_local(sel, {AF_INET6, V6Scope::Any}, many);  // at the bound, audited
    CHECK(opcodes(full.prog()).size() == 128);
    CHECK_FALSE(model::run(full.prog(), entry(rec("2001:db8::40", 5, "::1", 7))));
    CHECK(model::run(full.prog(), entry(rec("2001:db8::ff", 5, "::1", 7))));  // (the list holds ::1 to ::64 as written)
}

TEST_CASE("compiler and policy agree on random --src-removed selections", "[bytecode][policy]") {
    std::mt19937 rng(21);
    const char* locals[] = {"127.0.0.0/8", "10.1.2.3/32", "10.1.0.0/16", "192.0.2.0/25", "::1/128",
                            "2001:db8::1/128", "2001:db8:1::/48", "fe80::/10", "0.0.0.0/0", "::/0"};
    const char* socks4[] = {"10.1.2.3", "10.1.9.9", "127.0.0.1", "192.0.2.200", "192.0.2.1", "11.0.0.1"};
    const char* socks6[] = {"2001:db8::1", "2001:db8:1::9", "::1", "fe80::1", "::ffff:10.1.2.3", "::ffff:11.0.0.1"};
    const DumpScope scopes[] = {{AF_INET, V6Scope::Any},          {AF_INET6, V6Scope::Any},
                                {AF_INET6, V6Scope::MappedOnly},  {AF_INET6, V6Scope::NativeOnly},
                                {AF_UNSPEC, V6Scope::MappedOnly}, {AF_UNSPEC, V6Scope::Any}};
    for (int round = 0; round < 300; ++round) {
        Selection sel;
        sel.src_removed = true;
        LocalPrefixes local;
        bool zero = false;
        for (size_t i = 0, n = rng() % 5; i < n; ++i) {
            const char* l = locals[rng() % 10];
            zero |= std::string(l).find("/0") != std::string::npos;
            REQUIRE(local.add(prefix(l)));
        }
        if (rng() % 2) REQUIRE(sel.dports.add({1, static_cast<uint16_t>(1 + rng() % 3)}).ok());
        if (rng() % 3 == 0) REQUIRE(sel.srcs.add(prefix(rng() % 2 ? "10.0.0.0/8" : "2001:db8::/32")).ok());
        sel.owner.n_dev = static_cast<uint8_t>(rng() % 2);
        sel.owner.ifindex[0] = 1 + rng() % 2;
        for (const DumpScope& scope : scopes) {
            Compiled c = compile_local(sel, scope, local);
            for (int k = 0; k < 30; ++k) {
                const bool is4 = scope.family == AF_INET || (scope.family == AF_UNSPEC && rng() % 2);
                const char* s = is4 ? socks4[rng() % 6] : socks6[rng() % 6];
                const bool mapped = std::string(s).find("ffff") != std::string::npos;
                SockRecord r = rec(s, 9, mapped ? "::ffff:10.9.9.9" : is4 ? "10.9.9.9" : "2001:db8::9",
                                   static_cast<uint16_t>(1 + rng() % 5));
                r.id.idiag_if = 1 + rng() % 2;
                const bool policy = removed_policy(sel, scope, local, r);
                const bool kernel = model::run(c.prog(), entry(r));
                INFO("round " << round << " " << s << " port " << r.dport() << " if " << r.id.idiag_if);
                // A zero-length local prefix stays out of the kernel's half:
                // then it lets more through, never less.
                if (zero)
                    CHECK((kernel || !policy));
                else
                    CHECK(kernel == policy);
            }
        }
    }
}

TEST_CASE("exclusions compile to negated fragments: excluded sockets never come back", "[bytecode][exclude]") {
    Selection sel;
    REQUIRE(sel.dsts.add(prefix("10.0.0.0/8")).ok());
    REQUIRE(parse_ports("22", sel.ex.sports).ok());
    REQUIRE(parse_ports("22,2000-2999", sel.ex.dports).ok());
    Compiled c = compile(sel, kV4);
    CHECK(model::run(c.prog(), entry(rec("192.0.2.1", 443, "10.0.0.9", 50000))));
    CHECK_FALSE(model::run(c.prog(), entry(rec("192.0.2.1", 22, "10.0.0.9", 50000))));
    CHECK_FALSE(model::run(c.prog(), entry(rec("192.0.2.1", 50000, "10.0.0.9", 22))));
    CHECK_FALSE(model::run(c.prog(), entry(rec("192.0.2.1", 50000, "10.0.0.9", 2500))));
    CHECK(model::run(c.prog(), entry(rec("192.0.2.1", 50000, "10.0.0.9", 3000))));
    CHECK_FALSE(model::run(c.prog(), entry(rec("192.0.2.1", 443, "11.0.0.9", 50000))));  // the positive part
    // Each negation is one JMP after its fragment.
    Selection only;
    REQUIRE(only.dsts.add(prefix("10.0.0.0/8")).ok());
    REQUIRE(only.ex.srcs.add(prefix("192.0.2.7")).ok());
    REQUIRE(only.ex.srcs.add(prefix("2001:db8::/32")).ok());
    Compiled a = compile(only, {AF_INET6, V6Scope::Any});
    CHECK(opcodes(a.prog()) == std::vector<uint8_t>{INET_DIAG_BC_D_COND, INET_DIAG_BC_S_COND, INET_DIAG_BC_JMP,
                                                    INET_DIAG_BC_S_COND, INET_DIAG_BC_JMP});
    CHECK_FALSE(model::run(a.prog(), entry(rec("::ffff:192.0.2.7", 1, "::ffff:10.0.0.1", 2))));
    CHECK_FALSE(model::run(a.prog(), entry(rec("2001:db8::1", 1, "::ffff:10.0.0.1", 2))));
    // A negation followed by another fragment: its reject is moved along.
    Selection then = only;
    REQUIRE(parse_ports("7", then.ex.dports).ok());
    then.owner.n_dev = 1;
    then.owner.ifindex[0] = 3;
    Compiled t = compile(then, kV4);
    SockRecord r = rec("192.0.2.8", 1, "10.0.0.1", 8);
    r.id.idiag_if = 3;
    CHECK(model::run(t.prog(), entry(r)));
    r.id.idiag_if = 4;
    CHECK_FALSE(model::run(t.prog(), entry(r)));
    r.id.idiag_if = 3;
    r.id.idiag_dport = htons(7);
    CHECK_FALSE(model::run(t.prog(), entry(r)));
}

TEST_CASE("compiler and policy agree on random selections with exclusions", "[bytecode][policy][exclude]") {
    std::mt19937 rng(2020);
    auto add_ports = [&](PortSet& set) {
        for (size_t i = 0, n = rng() % 3; i < n; ++i) {
            const uint16_t lo = static_cast<uint16_t>(1 + rng() % 6);
            REQUIRE(set.add({lo, static_cast<uint16_t>(lo + rng() % 2)}).ok());
        }
    };
    for (int round = 0; round < 400; ++round) {
        Selection sel;
        for (PrefixSet* set : {&sel.srcs, &sel.dsts, &sel.ex.srcs, &sel.ex.dsts}) {
            size_t n = rng() % 3;
            for (size_t i = 0; i < n; ++i) REQUIRE(set->add(prefix(rng() % 2 ? v4[rng() % 6] : v6[rng() % 6])).ok());
        }
        if (rng() % 2) add_ports(sel.dports);
        add_ports(sel.ex.sports);
        add_ports(sel.ex.dports);
        sel.owner.n_dev = static_cast<uint8_t>(rng() % 2);
        sel.owner.ifindex[0] = 1 + rng() % 2;
        for (const DumpScope& scope : scopes) {
            Compiled c = compile(sel, scope);
            for (int k = 0; k < 30; ++k) {
                const bool is4 = scope.family == AF_INET || (scope.family == AF_UNSPEC && rng() % 2);
                const char* s = is4 ? socks4[rng() % 6] : socks6[rng() % 6];
                const char* d = is4 ? socks4[rng() % 6] : socks6[rng() % 6];
                if (!is4 && (std::string(s).find("ffff") != std::string::npos) != (std::string(d).find("ffff") != std::string::npos))
                    d = s;
                SockRecord r = rec(s, static_cast<uint16_t>(1 + rng() % 8), d, static_cast<uint16_t>(1 + rng() % 8));
                r.id.idiag_if = 1 + rng() % 2;
                INFO("round " << round << " " << s << ":" << r.sport() << " -> " << d << ":" << r.dport());
                CHECK(model::run(c.prog(), entry(r)) == matches_filter(sel, scope, r));
            }
        }
    }
}
