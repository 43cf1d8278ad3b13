// UDP in the engine: the dump requests for it, the kernel model's answers,
// one terminator per protocol, and the switch to /proc/net for UDP alone.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/ports.hpp"
#include "core/prefix.hpp"
#include "dump_model.hpp"
#include "engine/engine.hpp"
#include "engine_rig.hpp"

using namespace tc;
using namespace enginerig;
using testutil::DumpModel;
using testutil::udp_rec;

namespace {

SockRecord with_inode(SockRecord r, uint32_t inode) {
    r.inode = inode;
    return r;
}

// The sockets of a host with a DNS-like service on 5353: TCP and UDP
// clients and servers of every family.
std::vector<SockRecord> population() {
    return {
        with_inode(udp_rec("127.0.0.1", 5353, "0.0.0.0", 0, 7), 1),             // UDP server, unconnected
        with_inode(udp_rec("127.0.0.1", 40001, "127.0.0.1", 5353), 2),          // connected client
        with_inode(udp_rec("127.0.0.1", 40002, "127.0.0.1", 5353), 3),          // another
        with_inode(udp_rec("127.0.0.1", 40003, "0.0.0.0", 0, 7), 4),            // bound, never connected
        with_inode(udp_rec("::1", 40004, "::1", 5353), 5),                      // native IPv6 client
        with_inode(udp_rec("::ffff:127.0.0.1", 40005, "::ffff:127.0.0.1", 5353), 6),  // v4-mapped
        with_inode(udp_rec("::", 5353, "::", 0, 7), 7),                         // dual-stack server
        with_inode(testutil::rec("127.0.0.1", 5353, "0.0.0.0", 0, 10), 8),      // TCP listener
        with_inode(testutil::rec("127.0.0.1", 40006, "127.0.0.1", 5353), 9),    // TCP client
        with_inode(testutil::rec("127.0.0.1", 5353, "127.0.0.1", 40006), 10),   // its server end
        with_inode(testutil::rec("127.0.0.1", 40007, "127.0.0.1", 5353, 7), 11),  // TCP in CLOSE
    };
}

Selection dport(const char* ports, bool tcp, bool udp) {
    Selection s;
    REQUIRE(parse_ports(ports, s.dports).ok());
    s.tcp = tcp;
    s.udp = udp;
    return s;
}

// /proc/net/udp as a kernel without udp_diag would show it (one connected
// client of 5353, its unconnected server); every other table empty. Keeps
// which tables were opened.
struct UdpTables final : ProcNetTables {
    std::vector<std::pair<Proto, bool>> opened;
    std::string text;
    size_t at = 0;
    Status open(Proto p, bool v6) override {
        opened.emplace_back(p, v6);
        text = p == Proto::Udp && !v6
                   ? "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
                     " 2734: 0100007F:9C41 0100007F:14E9 01 00000000:00000000 00:00000000 00000000     0        0 52 2 "
                     "00000000eafb80d9 0\n"
                     "  854: 0100007F:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 51 2 "
                     "00000000764bd05f 0\n"
                   : "";
        at = 0;
        return {};
    }
    Result<size_t> read(std::span<uint8_t> buf) override {
        size_t n = std::min(buf.size(), text.size() - at);
        std::memcpy(buf.data(), text.data() + at, n);
        at += n;
        return n;
    }
};

// The idle rules are not asked here: nothing needs tcp_info.
struct NoIdle final : IdleReader {
    size_t read_idle(std::span<SockRecord> recs, int&) override { return recs.size(); }
};

// An engine over the kernel model holding population(), whose protocols
// may fall back to the /proc/net tables: SOCK_DESTROY ends go to `sd`,
// those of the tables to `proc`. Set the model's refusals before polling.
struct FallbackRig {
    DumpModel kernel;
    InodeTerminator sd, proc;
    UdpTables tables;
    NoIdle idle;
    Engine engine{kernel, sd};
    Recorder obs;
    FallbackRig() {
        kernel.socks = population();
        engine.fall_back_to_proc_net(tables, idle, proc);
    }
};

std::vector<uint32_t> sorted(std::vector<uint32_t> v) {
    std::sort(v.begin(), v.end());
    return v;
}

}  // namespace

TEST_CASE("engine: -u alone dumps UDP per family, connected sockets only", "[engine][udp]") {
    DumpModel kernel;
    kernel.socks = population();
    InodeTerminator term;
    Engine engine(kernel, term);
    Recorder obs;
    Result<PollStats> st = engine.poll(dport("5353", false, true), obs);
    REQUIRE(st.ok());
    // IPv4 and v4-mapped clients; never the servers, never TCP.
    CHECK(sorted(term.ended) == std::vector<uint32_t>{2, 3, 6});
    CHECK(st->by_proto[1].matched == 3);
    CHECK(st->by_proto[0].matched == 0);
    REQUIRE(kernel.requests.size() == 2);
    for (const DumpModel::Seen& r : kernel.requests) {
        CHECK(r.type == SOCK_DIAG_BY_FAMILY);
        CHECK(r.protocol == 17);
        CHECK(r.states == 1u << 1);
        CHECK(r.ext == 0);  // UDP has no tcp_info
    }
    CHECK(kernel.requests[0].family == AF_INET);
    CHECK(kernel.requests[1].family == AF_INET6);

    SECTION("-6 alone: the native IPv6 client") {
        Selection sel = dport("5353", false, true);
        sel.ipv4 = false;
        sel.ipv6 = true;
        term.ended.clear();
        REQUIRE(engine.poll(sel, obs).ok());
        CHECK(term.ended == std::vector<uint32_t>{5});
    }
    SECTION("a state set with TCP_CLOSE in it never reaches an unconnected UDP socket") {
        Selection sel = dport("5353", true, true);
        sel.states = 0xfff & ~(1u << 10);  // --state all: every state but listening, CLOSE (7) included
        sel.dports = PortSet{};
        REQUIRE(parse_ports("5353,40001-40007", sel.sports).ok());
        kernel.requests.clear();
        term.ended.clear();
        REQUIRE(engine.poll(sel, obs).ok());
        for (const DumpModel::Seen& r : kernel.requests)
            if (r.protocol == 17) CHECK(r.states == 1u << 1);
        // TCP: the client (9), its server end (10) and the CLOSE one (11);
        // UDP: connected clients of the family rule only.
        CHECK(sorted(term.ended) == std::vector<uint32_t>{2, 3, 6, 9, 10, 11});
    }
}

TEST_CASE("engine: a kernel that ignores the states never gets an unconnected UDP socket destroyed", "[engine][udp]") {
    DumpScript dump;
    // Whatever comes back, state 7 is never selected for UDP.
    Selection sel = dport("5353", false, true);
    SockRecord server = udp_rec("127.0.0.1", 40001, "127.0.0.1", 5353, 7);
    SockRecord client = udp_rec("127.0.0.1", 40002, "127.0.0.1", 5353, 1);
    dump.family(1, {diag_payload(server), diag_payload(client)});
    dump.family(2, {});
    InodeTerminator term;
    Engine engine(dump.t, term);
    Recorder obs;
    Result<PollStats> st = engine.poll(sel, obs);
    REQUIRE(st.ok());
    CHECK(st->matched == 1);
    REQUIRE(obs.candidates.size() == 2);
    CHECK(obs.candidates[0] == std::make_pair(uint16_t{40001}, false));
    CHECK(obs.candidates[1] == std::make_pair(uint16_t{40002}, true));
}

TEST_CASE("engine: --tcp --udp dumps TCP in one walk, then UDP; each protocol has its own terminator",
          "[engine][udp]") {
    DumpModel kernel;
    kernel.socks = population();
    InodeTerminator tcp_term, udp_term;
    Engine engine(kernel, tcp_term);
    engine.use_terminator(Proto::Udp, udp_term);
    Recorder obs;
    Result<PollStats> st = engine.poll(dport("5353", true, true), obs);
    REQUIRE(st.ok());
    REQUIRE(kernel.requests.size() == 3);
    CHECK(kernel.requests[0].type == TCPDIAG_GETSOCK);
    CHECK(kernel.requests[1].protocol == 17);
    CHECK(kernel.requests[2].protocol == 17);
    CHECK(tcp_term.ended == std::vector<uint32_t>{9});
    CHECK(sorted(udp_term.ended) == std::vector<uint32_t>{2, 3, 6});
    CHECK(tcp_term.calls == 1);
    CHECK(udp_term.calls == 1);
    CHECK(st->matched == 4);
    CHECK(st->by_proto[0].matched == 1);
    CHECK(st->by_proto[0].ended == 1);
    CHECK(st->by_proto[1].matched == 3);
    CHECK(st->by_proto[1].ended == 3);

    SECTION("one terminator for both: one call") {
        engine.use_terminator(tcp_term);
        tcp_term.ended.clear();
        tcp_term.calls = 0;
        REQUIRE(engine.poll(dport("5353", true, true), obs).ok());
        CHECK(tcp_term.calls == 1);
        CHECK(tcp_term.ended.size() == 4);
    }
    SECTION("--max-kills counts both protocols, TCP first") {
        Selection sel = dport("5353", true, true);
        sel.max_per_poll = 2;
        udp_term.ended.clear();
        tcp_term.ended.clear();
        st = engine.poll(sel, obs);
        REQUIRE(st.ok());
        CHECK(tcp_term.ended.size() == 1);
        CHECK(udp_term.ended.size() == 1);
        CHECK(st->skipped == 2);
    }
}

TEST_CASE("engine: without udp_diag, UDP alone switches to /proc/net/udp", "[engine][udp]") {
    FallbackRig rig;
    auto& [kernel, sd, proc, tables, idle, engine, obs] = rig;
    kernel.udp_diag = false;
    Result<PollStats> st = engine.poll(dport("5353", true, true), obs);
    REQUIRE(st.ok());
    CHECK(st->switched_to_proc_net == 1u << 1);
    CHECK(sd.ended == std::vector<uint32_t>{9});    // TCP still dumped and destroyed
    CHECK(proc.ended == std::vector<uint32_t>{52});  // UDP from the table, the connected one only
    REQUIRE(tables.opened.size() == 2);
    CHECK(tables.opened[0] == std::make_pair(Proto::Udp, false));
    CHECK(tables.opened[1] == std::make_pair(Proto::Udp, true));
    // The next poll asks inet_diag for TCP only.
    kernel.requests.clear();
    st = engine.poll(dport("5353", true, true), obs);
    REQUIRE(st.ok());
    CHECK(st->switched_to_proc_net == 0);
    REQUIRE(kernel.requests.size() == 1);
    CHECK(kernel.requests[0].protocol == 6);
    CHECK(proc.ended.size() == 2);
}

TEST_CASE("engine: random selections over TCP and UDP: the kernel's answers lose nothing the policy wants",
          "[engine][udp][policy]") {
    std::mt19937 rng(18);
    const char* addrs4[] = {"127.0.0.1", "10.1.2.3", "192.0.2.9"};
    const char* addrs6[] = {"::1", "2001:db8::5", "::ffff:10.1.2.3", "::ffff:127.0.0.1"};
    const uint8_t tcp_states[] = {1, 2, 6, 7, 8, 10};
    const uint16_t ports[] = {53, 5353, 443, 40000, 40001};
    for (int round = 0; round < 300; ++round) {
        DumpModel kernel;
        uint32_t inode = 1;
        for (int i = 0; i < 24; ++i) {
            const bool v6 = rng() % 2;
            const char* a = v6 ? addrs6[rng() % 4] : addrs4[rng() % 3];
            const char* b = v6 ? addrs6[rng() % 4] : addrs4[rng() % 3];
            const uint16_t sp = ports[rng() % 5], dp = ports[rng() % 5];
            SockRecord r = rng() % 2 ? udp_rec(a, sp, b, dp, rng() % 2 ? 1 : 7)
                                     : testutil::rec(a, sp, b, dp, tcp_states[rng() % 6]);
            r.inode = inode++;
            kernel.socks.push_back(r);
        }
        Selection sel;
        const int protos = static_cast<int>(rng() % 3);
        sel.tcp = protos != 1;
        sel.udp = protos != 0;
        sel.ipv4 = rng() % 4 != 0;
        sel.ipv6 = !sel.ipv4 || rng() % 2;
        sel.states = sel.udp && !sel.tcp ? 1u << 1 : (rng() % 2 ? 1u << 1 : 0xfff & ~(1u << 10));
        if (rng() % 2) REQUIRE(parse_ports(rng() % 2 ? "5353" : "53,40000-40001", sel.dports).ok());
        if (rng() % 2 || sel.dports.empty()) REQUIRE(parse_ports(rng() % 2 ? "40000" : "443-5353", sel.sports).ok());
        if (rng() % 3 == 0) {
            Prefix p;
            REQUIRE(parse_prefix(sel.ipv4 ? "127.0.0.0/8" : "2001:db8::/32", p).ok());
            REQUIRE(sel.dsts.add(p).ok());
        }
        InodeTerminator term;
        Engine engine(kernel, term);
        Recorder obs;
        Result<PollStats> st = engine.poll(sel, obs);
        REQUIRE(st.ok());
        // What the policy selects from the whole table, by the plan's scopes.
        std::set<uint32_t> want;
        const DumpPlan plan = plan_dumps(sel);
        for (const SockRecord& r : kernel.socks)
            for (size_t s = 0; s < plan.count; ++s)
                if (selected(sel, plan.scopes[s], r)) want.insert(r.inode);
        std::set<uint32_t> got(term.ended.begin(), term.ended.end());
        INFO("round " << round);
        CHECK(got == want);
        CHECK(got.size() == term.ended.size());  // nothing ended twice
        for (const SockRecord& r : kernel.socks) {
            if (!got.count(r.inode)) continue;
            CHECK_FALSE((r.udp && r.state != 1));  // never an unconnected UDP socket
            CHECK(r.state != 10);                  // never a listener
            CHECK((r.udp ? sel.udp : sel.tcp));
        }
    }
}

// The first UDP dump worked and a later one of the same protocol is refused
// with ENOENT: that is no missing udp_diag (the first one found it), so the
// poll fails, and UDP never switches to /proc/net in the middle of a poll
// (its IPv4 sockets would be matched twice, from the dump and the table).
TEST_CASE("engine: a later UDP dump refused after one worked fails the poll, no switch", "[engine][udp]") {
    FallbackRig rig;
    auto& [kernel, sd, proc, tables, idle, engine, obs] = rig;
    kernel.udp6_refused = true;
    Selection sel = dport("5353", false, true);
    sel.ipv4 = sel.ipv6 = true;
    Result<PollStats> st = engine.poll(sel, obs);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == ENOENT);
    CHECK(tables.opened.empty());
    CHECK(sd.ended.empty());
    CHECK(proc.ended.empty());
}
