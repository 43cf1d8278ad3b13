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

TEST_CASE("model audit rejects broken programs", "[bytecode][model]") {
    // The model must be able to say no, or agreeing with it proves nothing.
    const inet_diag_bc_op not_multiple_of_4[] = {{INET_DIAG_BC_S_GE, 8, 18}, {0, 0, 22}};
    CHECK_FALSE(model::audit({reinterpret_cast<const uint8_t*>(not_multiple_of_4), sizeof not_multiple_of_4}));
    // `no` lands on the port operand of a pair: not on the yes chain.
    const inet_diag_bc_op off_chain[] = {{INET_DIAG_BC_JMP, 4, 8}, {INET_DIAG_BC_S_GE, 8, 12}, {0, 0, 22}};
    CHECK_FALSE(model::audit({reinterpret_cast<const uint8_t*>(off_chain), sizeof off_chain}));
    const inet_diag_bc_op truncated_pair[] = {{INET_DIAG_BC_S_GE, 8, 12}};
    CHECK_FALSE(model::audit({reinterpret_cast<const uint8_t*>(truncated_pair), sizeof truncated_pair}));
    const inet_diag_bc_op unknown_code[] = {{200, 4, 8}};
    CHECK_FALSE(model::audit({reinterpret_cast<const uint8_t*>(unknown_code), sizeof unknown_code}));
    const inet_diag_bc_op good[] = {{INET_DIAG_BC_S_GE, 8, 12}, {0, 0, 22}};
    CHECK(model::audit({reinterpret_cast<const uint8_t*>(good), sizeof good}));
}

TEST_CASE("a single port compiles to one GE/LE pair", "[bytecode]") {
    Compiled c = compile(ports("22", nullptr), kV4);
    // | S_GE yes=8 no=20 | port 22 | S_LE yes=8 no=12 | port 22 |
    const inet_diag_bc_op expected[] = {
        {INET_DIAG_BC_S_GE, 8, 20}, {0, 0, 22}, {INET_DIAG_BC_S_LE, 8, 12}, {0, 0, 22}};
    REQUIRE(c.len == sizeof expected);
    CHECK(std::memcmp(c.buf.data(), expected, sizeof expected) == 0);
}

TEST_CASE("source port sets: every port 0..65535 agrees with the set", "[bytecode]") {
    Selection sel = ports("22,7000-7099,8080,65535", nullptr);
    Compiled c = compile(sel, kV4);
    CHECK(c.len == 4 * 16 + 3 * 4);  // a pair per range, a JMP between ranges
    for (uint32_t p = 0; p <= 65535; ++p) {
        SockRecord r = rec("127.0.0.1", static_cast<uint16_t>(p), "127.0.0.1", 5000);
        bool want = p == 22 || (p >= 7000 && p <= 7099) || p == 8080 || p == 65535;
        if (model::run(c.prog(), entry(r)) != want) FAIL("port " << p);
    }
}

TEST_CASE("destination port ranges: edges", "[bytecode]") {
    Compiled c = compile(ports(nullptr, "1-1,100-200"), kV4);
    auto run = [&](uint16_t dport) { return model::run(c.prog(), entry(rec("10.0.0.1", 40000, "10.0.0.2", dport))); };
    CHECK_FALSE(run(0));
    CHECK(run(1));
    CHECK_FALSE(run(2));
    CHECK_FALSE(run(99));
    CHECK(run(100));
    CHECK(run(150));
    CHECK(run(200));
    CHECK_FALSE(run(201));
    CHECK_FALSE(run(40000));
}

TEST_CASE("source AND destination", "[bytecode]") {
    Compiled c = compile(ports("22,2222", "1000-1999,3000"), kV4);
    const uint16_t sports[] = {21, 22, 23, 2221, 2222, 2223};
    const uint16_t dports[] = {999, 1000, 1999, 2000, 2999, 3000, 3001};
    for (uint16_t s : sports)
        for (uint16_t d : dports) {
            bool want = (s == 22 || s == 2222) && ((d >= 1000 && d <= 1999) || d == 3000);
            INFO("sport " << s << " dport " << d);
            CHECK(model::run(c.prog(), entry(rec("127.0.0.1", s, "127.0.0.1", d))) == want);
        }
}

TEST_CASE("IPv6 dump scopes: mapped only, native only, any", "[bytecode]") {
    Selection sel = ports("80", nullptr);
    SockRecord mapped = rec("::ffff:127.0.0.1", 80, "::ffff:127.0.0.1", 5000);
    SockRecord native = rec("::1", 80, "::1", 5000);
    SockRecord mapped_other_port = rec("::ffff:10.1.2.3", 81, "::ffff:10.1.2.4", 5000);
    SockRecord almost_mapped = rec("::fffe:127.0.0.1", 80, "::1", 5000);

    Compiled m = compile(sel, {AF_INET6, V6Scope::MappedOnly});
    CHECK(model::run(m.prog(), entry(mapped)));
    CHECK_FALSE(model::run(m.prog(), entry(native)));
    CHECK_FALSE(model::run(m.prog(), entry(mapped_other_port)));
    CHECK_FALSE(model::run(m.prog(), entry(almost_mapped)));

    Compiled n = compile(sel, {AF_INET6, V6Scope::NativeOnly});
    CHECK_FALSE(model::run(n.prog(), entry(mapped)));
    CHECK(model::run(n.prog(), entry(native)));
    CHECK(model::run(n.prog(), entry(almost_mapped)));
    CHECK_FALSE(model::run(n.prog(), entry(rec("::1", 81, "::1", 5000))));

    Compiled a = compile(sel, {AF_INET6, V6Scope::Any});
    CHECK(model::run(a.prog(), entry(mapped)));
    CHECK(model::run(a.prog(), entry(native)));

    // The single walk (both families): "-4" is native IPv4 plus v4-mapped.
    SockRecord v4 = rec("127.0.0.1", 80, "127.0.0.1", 5000);
    Compiled both4 = compile(sel, {AF_UNSPEC, V6Scope::MappedOnly});
    CHECK(model::run(both4.prog(), entry(v4)));
    CHECK(model::run(both4.prog(), entry(mapped)));
    CHECK_FALSE(model::run(both4.prog(), entry(native)));
    CHECK_FALSE(model::run(both4.prog(), entry(almost_mapped)));
    CHECK_FALSE(model::run(both4.prog(), entry(rec("127.0.0.1", 81, "127.0.0.1", 5000))));
    Compiled all = compile(sel, {AF_UNSPEC, V6Scope::Any});
    CHECK(model::run(all.prog(), entry(v4)));
    CHECK(model::run(all.prog(), entry(mapped)));
    CHECK(model::run(all.prog(), entry(native)));
}

TEST_CASE("compiler and user-space policy agree on pseudo-random selections", "[bytecode][policy]") {
    uint32_t seed = 12345;
    auto rnd = [&](uint32_t n) {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 8) % n;
    };
    const char* addrs[] = {"127.0.0.1", "::1", "::ffff:127.0.0.1", "fe80::1"};
    for (int round = 0; round < 200; ++round) {
        Selection sel;
        int nranges = 1 + static_cast<int>(rnd(6));
        for (int i = 0; i < nranges; ++i) {
            uint16_t lo = static_cast<uint16_t>(1 + rnd(200));
            uint16_t hi = static_cast<uint16_t>(lo + rnd(20));
            REQUIRE((rnd(2) ? sel.sports : sel.dports).add({lo, hi}).ok());
        }
        const DumpScope scopes[] = {{AF_INET, V6Scope::Any},          {AF_INET6, V6Scope::Any},
                                    {AF_INET6, V6Scope::MappedOnly},  {AF_INET6, V6Scope::NativeOnly},
                                    {AF_UNSPEC, V6Scope::MappedOnly}, {AF_UNSPEC, V6Scope::Any}};
        for (const DumpScope& scope : scopes) {
            Compiled c = compile(sel, scope);
            for (int k = 0; k < 50; ++k) {
                const char* a = scope.family == AF_INET ? "127.0.0.1" : scope.family == AF_UNSPEC ? addrs[rnd(4)] : addrs[1 + rnd(3)];
                SockRecord r = rec(a, static_cast<uint16_t>(rnd(230)), a, static_cast<uint16_t>(rnd(230)));
                INFO("round " << round << " sport " << r.sport() << " dport " << r.dport() << " addr " << a);
                CHECK(model::run(c.prog(), entry(r)) == matches_filter(sel, scope, r));
            }
        }
    }
}

TEST_CASE("the largest selection still fits and passes the audit", "[bytecode]") {
    Selection sel;
    for (uint32_t i = 0; i < PortSet::kMaxRanges; ++i) {
        REQUIRE(sel.sports.add({static_cast<uint16_t>(1 + 3 * i), static_cast<uint16_t>(1 + 3 * i)}).ok());
        REQUIRE(sel.dports.add({static_cast<uint16_t>(2 + 3 * i), static_cast<uint16_t>(2 + 3 * i)}).ok());
    }
    for (size_t i = 0; i < PrefixSet::kMax; ++i) {
        std::string a = "2001:db8:" + std::to_string(i) + "::/48";
        REQUIRE(sel.srcs.add(prefix(a.c_str())).ok());
        REQUIRE(sel.dsts.add(prefix(a.c_str())).ok());
    }
    REQUIRE(sel.srcs.add(prefix("::1")).ok() == false);  // the cap: 64 of each kind
    Compiled c = compile(sel, {AF_INET6, V6Scope::NativeOnly});
    CHECK(c.len <= filter_size_bound(sel));
    CHECK(c.len + 4 <= 0xffff);  // the attribute length is a u16
    SockRecord hit = rec("2001:db8:63::5", 1 + 3 * 511, "2001:db8:63::6", 2 + 3 * 511);
    CHECK(model::run(c.prog(), entry(hit)));
    CHECK(matches_filter(sel, {AF_INET6, V6Scope::NativeOnly}, hit));
    CHECK_FALSE(model::run(c.prog(), entry(rec("2001:db8:63::5", 1 + 3 * 511, "2001:db8:63::6", 3 + 3 * 511))));
    CHECK_FALSE(model::run(c.prog(), entry(rec("2001:db8:64::5", 1 + 3 * 511, "2001:db8:63::6", 2 + 3 * 511))));
}

TEST_CASE("a buffer too small is an error, not an overrun", "[bytecode]") {
    Selection sel = ports("1,3,5,7,9", nullptr);
    std::array<uint8_t, 40> small{};
    Result<size_t> r = compile_filter(sel, kV4, small);
    CHECK_FALSE(r.ok());
    CHECK(r.error().code == E2BIG);
}

TEST_CASE("describe_op names ops and stops on truncation", "[bytecode]") {
    Compiled c = compile(ports("22", nullptr), kV4);
    char text[128];
    size_t next = describe_op(c.prog(), 0, text, sizeof text);
    CHECK(next == 8);
    CHECK(std::string(text).find("S_GE") != std::string::npos);
    CHECK(std::string(text).find("port=22") != std::string::npos);
    CHECK(describe_op(c.prog().first(2), 0, text, sizeof text) == 0);
    CHECK(describe_op(c.prog(), c.len, text, sizeof text) == 0);
}

TEST_CASE("address prefixes: OR within a kind, AND across kinds and with ports", "[bytecode]") {
    Selection sel = ports("80", nullptr);
    REQUIRE(sel.srcs.add(prefix("10.0.0.0/8")).ok());
    REQUIRE(sel.srcs.add(prefix("192.0.2.7")).ok());
    REQUIRE(sel.dsts.add(prefix("198.51.100.0/24")).ok());
    Compiled v4 = compile(sel, kV4);
    CHECK(model::run(v4.prog(), entry(rec("10.9.8.7", 80, "198.51.100.1", 1))));
    CHECK(model::run(v4.prog(), entry(rec("192.0.2.7", 80, "198.51.100.255", 1))));
    CHECK_FALSE(model::run(v4.prog(), entry(rec("192.0.2.8", 80, "198.51.100.1", 1))));   // src: neither
    CHECK_FALSE(model::run(v4.prog(), entry(rec("10.0.0.1", 80, "198.51.101.1", 1))));    // dst outside
    CHECK_FALSE(model::run(v4.prog(), entry(rec("10.0.0.1", 81, "198.51.100.1", 1))));    // port
    // The AF_INET6 dump: the IPv4 conditions match v4-mapped sockets.
    Compiled m = compile(sel, {AF_INET6, V6Scope::MappedOnly});
    CHECK(model::run(m.prog(), entry(rec("::ffff:10.1.1.1", 80, "::ffff:198.51.100.9", 1))));
    CHECK_FALSE(model::run(m.prog(), entry(rec("::ffff:11.1.1.1", 80, "::ffff:198.51.100.9", 1))));
    CHECK_FALSE(model::run(m.prog(), entry(rec("::a00:1", 80, "::c633:6409", 1))));  // not mapped
}

TEST_CASE("address prefixes: edges /0, /32, /128 and non-byte lengths", "[bytecode]") {
    struct Case {
        const char* prefix;
        const char* inside;
        const char* outside;  // nullptr: everything of that family matches
    };
    const Case cases[] = {
        {"0.0.0.0/0", "203.0.113.5", nullptr},
        {"203.0.113.5/32", "203.0.113.5", "203.0.113.4"},
        {"203.0.113.128/25", "203.0.113.255", "203.0.113.127"},
        {"10.1.2.3/8", "10.255.0.1", "11.0.0.0"},  // host bits dropped: 10.0.0.0/8
        {"::/0", "2001:db8::1", nullptr},
        {"2001:db8::1/128", "2001:db8::1", "2001:db8::2"},
        {"2001:db8::/33", "2001:db8:7fff::1", "2001:db8:8000::"},
        {"fe80::/10", "febf::1", "fec0::1"},
    };
    for (const Case& c : cases) {
        INFO(c.prefix);
        Selection sel;
        REQUIRE(sel.dsts.add(prefix(c.prefix)).ok());
        const bool v6 = std::string(c.prefix).find(':') != std::string::npos;
        sel.ipv4 = !v6;
        sel.ipv6 = v6;
        const DumpScope scope = v6 ? DumpScope{AF_INET6, V6Scope::NativeOnly} : kV4;
        Compiled prog = compile(sel, scope);
        SockRecord in = rec(v6 ? "::1" : "127.0.0.1", 1, c.inside, 2);
        CHECK(model::run(prog.prog(), entry(in)));
        CHECK(matches_filter(sel, scope, in));
        if (c.outside) {
            SockRecord out = rec(v6 ? "::1" : "127.0.0.1", 1, c.outside, 2);
            CHECK_FALSE(model::run(prog.prog(), entry(out)));
            CHECK_FALSE(matches_filter(sel, scope, out));
        }
    }
}


TEST_CASE("compiler and policy agree on random address and port selections", "[bytecode][policy]") {
    std::mt19937 rng(99);
    for (int round = 0; round < 300; ++round) {
        Selection sel;
        for (PrefixSet* set : {&sel.srcs, &sel.dsts}) {
            size_t n = rng() % 3;
            for (size_t i = 0; i < n; ++i) REQUIRE(set->add(prefix(rng() % 2 ? v4[rng() % 6] : v6[rng() % 6])).ok());
        }
        if (rng() % 2) REQUIRE(sel.sports.add({1, static_cast<uint16_t>(1 + rng() % 3)}).ok());
        for (const DumpScope& scope : scopes) {
            Compiled c = compile(sel, scope);
            for (int k = 0; k < 40; ++k) {
                const bool is4 = scope.family == AF_INET || (scope.family == AF_UNSPEC && rng() % 2);
                const char* s = is4 ? socks4[rng() % 6] : socks6[rng() % 6];
                const char* d = is4 ? socks4[rng() % 6] : socks6[rng() % 6];
                // A v4-mapped source comes with a v4-mapped destination, as on a real socket.
                if (!is4 && (std::string(s).find("ffff") != std::string::npos) != (std::string(d).find("ffff") != std::string::npos))
                    d = s;
                SockRecord r = rec(s, static_cast<uint16_t>(1 + rng() % 5), d, 9);
                INFO("round " << round << " " << s << " -> " << d);
                CHECK(model::run(c.prog(), entry(r)) == matches_filter(sel, scope, r));
            }
        }
    }
}


TEST_CASE("owner conditions: one op per value, OR within a kind, AND across kinds", "[bytecode]") {
    Selection sel = ports("22", nullptr);
    sel.owner.n_dev = 2;
    sel.owner.ifindex[0] = 3;
    sel.owner.ifindex[1] = 7;
    sel.owner.n_mark = 1;
    sel.owner.mark[0] = {0x10, 0xf0};
    sel.owner.n_cgroup = 1;
    sel.owner.cgroup[0] = 0x100000001ull;  // both halves of the u64 count
    Compiled c = compile(sel, kV4);
    std::vector<uint8_t> ops = opcodes(c.prog());
    CHECK(std::count(ops.begin(), ops.end(), INET_DIAG_BC_DEV_COND) == 2);
    CHECK(std::count(ops.begin(), ops.end(), INET_DIAG_BC_MARK_COND) == 1);
    CHECK(std::count(ops.begin(), ops.end(), INET_DIAG_BC_CGROUP_COND) == 1);
    // -v names them with their values.
    std::string text;
    for (size_t at = 0; at < c.len;) {
        char line[128];
        const size_t next = describe_op(c.prog(), at, line, sizeof line);
        text += std::string(line) + "\n";
        if (next == 0) break;
        at = next;
    }
    CHECK(text.find("DEV_COND yes=8   no=") != std::string::npos);
    CHECK(text.find(") ifindex=3\n") != std::string::npos);
    CHECK(text.find(") ifindex=7\n") != std::string::npos);
    CHECK(text.find("MARK_COND yes=12  no=") != std::string::npos);
    CHECK(text.find(") mark=0x10 mask=0xf0\n") != std::string::npos);
    CHECK(text.find(") cgroup=4294967297\n") != std::string::npos);
    // Without CAP_NET_ADMIN the kernel refuses MARK_COND (EPERM).
    CHECK_FALSE(model::audit(c.prog(), false));

    model::Entry e = entry(rec("127.0.0.1", 22, "127.0.0.1", 9));
    e.ifindex = 7;
    e.mark = 0x1f;  // & 0xf0 == 0x10
    e.cgroup = 0x100000001ull;
    CHECK(model::run(c.prog(), e));
    for (uint32_t dev : {0u, 1u, 4u}) {
        model::Entry x = e;
        x.ifindex = dev;
        CHECK_FALSE(model::run(c.prog(), x));
    }
    model::Entry x = e;
    x.ifindex = 3;
    CHECK(model::run(c.prog(), x));
    x.mark = 0x20;
    CHECK_FALSE(model::run(c.prog(), x));
    x = e;
    x.cgroup = 1;  // the low half alone
    CHECK_FALSE(model::run(c.prog(), x));
    x = e;
    x.sport = 23;
    CHECK_FALSE(model::run(c.prog(), x));

    // owner_ops = false: the same filter without them (a kernel that refused them).
    std::vector<uint8_t> buf(filter_size_bound(sel));
    Result<size_t> plain = compile_filter(sel, kV4, buf, false);
    REQUIRE(plain.ok());
    std::span<const uint8_t> prog(buf.data(), *plain);
    REQUIRE(model::audit(prog, false));
    for (uint8_t op : {INET_DIAG_BC_DEV_COND, INET_DIAG_BC_MARK_COND, INET_DIAG_BC_CGROUP_COND})
        CHECK_FALSE(has_op(prog, op));
    x = e;
    x.ifindex = 0;
    x.mark = 0;
    CHECK(model::run(prog, x));  // the ports still filter, the owners do not
    x.sport = 23;
    CHECK_FALSE(model::run(prog, x));
}

TEST_CASE("compiler and policy agree on random owner selections", "[bytecode][policy]") {
    std::mt19937 rng(7);
    const DumpScope scopes[] = {{AF_INET, V6Scope::Any}, {AF_UNSPEC, V6Scope::MappedOnly}, {AF_UNSPEC, V6Scope::Any}};
    const uint32_t masks[] = {0xffffffffu, 0xf0, 0x1, 0};
    for (int round = 0; round < 400; ++round) {
        Selection sel;
        if (rng() % 2) REQUIRE(sel.dports.add({5, static_cast<uint16_t>(5 + rng() % 3)}).ok());
        OwnerSel& o = sel.owner;
        o.n_dev = static_cast<uint8_t>(rng() % 3);
        for (size_t i = 0; i < o.n_dev; ++i) o.ifindex[i] = 1 + rng() % 4;
        o.n_mark = static_cast<uint8_t>(rng() % 3);
        for (size_t i = 0; i < o.n_mark; ++i) {
            const uint32_t mask = masks[rng() % 4];
            o.mark[i] = {static_cast<uint32_t>(rng() % 4) & mask, mask};
        }
        o.n_cgroup = static_cast<uint8_t>(rng() % 3);
        for (size_t i = 0; i < o.n_cgroup; ++i) o.cgroup[i] = 100 + rng() % 4;
        for (const DumpScope& scope : scopes) {
            Compiled c = compile(sel, scope);
            std::vector<uint8_t> buf(filter_size_bound(sel));
            Result<size_t> plain = compile_filter(sel, scope, buf, false);
            REQUIRE(plain.ok());
            std::span<const uint8_t> without(buf.data(), *plain);
            REQUIRE(model::audit(without, false));
            for (int k = 0; k < 30; ++k) {
                SockRecord r = rec("127.0.0.1", 40000, "127.0.0.1", static_cast<uint16_t>(4 + rng() % 5));
                r.id.idiag_if = static_cast<uint32_t>(rng() % 5);
                SockExtras x;
                x.has_mark = x.has_cgroup = true;
                x.mark = rng() % 4;
                x.cgroup = 100 + rng() % 5;
                model::Entry e = entry(r);
                e.mark = x.mark;
                e.cgroup = x.cgroup;
                uint8_t ix = 0;
                const bool policy = matches_filter(sel, scope, r) && owner_attrs_match(sel, x, ix);
                INFO("round " << round << " if=" << r.id.idiag_if << " mark=" << x.mark << " cgroup=" << x.cgroup);
                CHECK(model::run(c.prog(), e) == policy);
                // Without the owner ops the kernel lets more through, never less.
                if (policy) CHECK(model::run(without, e));
            }
        }
    }
}
