#include <catch2/catch.hpp>

#include <linux/tcp.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "engine/dry_run.hpp"
#include "engine/engine.hpp"
#include "fake_transport.hpp"
#include "helpers.hpp"
#include "report/report.hpp"
#include "engine/sock_destroy.hpp"

using namespace tc;
using testutil::Bytes;
using testutil::FakeTransport;

namespace {

Bytes diag_payload(const SockRecord& r, int info_last_recv = -1) {
    inet_diag_msg m{};
    m.idiag_family = r.family;
    m.idiag_state = r.state;
    m.id = r.id;
    m.idiag_inode = 77;
    Bytes out(sizeof m);
    std::memcpy(out.data(), &m, sizeof m);
    if (info_last_recv >= 0) {
        tcp_info ti{};
        ti.tcpi_last_data_recv = static_cast<uint32_t>(info_last_recv);
        nlattr a{static_cast<uint16_t>(4 + sizeof ti), INET_DIAG_INFO};
        const uint8_t* p = reinterpret_cast<const uint8_t*>(&a);
        out.insert(out.end(), p, p + 4);
        p = reinterpret_cast<const uint8_t*>(&ti);
        out.insert(out.end(), p, p + sizeof ti);
    }
    return out;
}

struct Recorder final : PollObserver {
    size_t filters = 0;
    std::vector<std::pair<uint16_t, bool>> candidates;
    std::vector<KillResult> results;
    void on_filter(const DumpScope&, std::span<const uint8_t> prog) override { filters += !prog.empty(); }
    void on_candidate(const SockRecord& r, uint32_t, bool sel) override { candidates.emplace_back(r.sport(), sel); }
    void on_result(const SockRecord&, const KillResult& k) override { results.push_back(k); }
};

// A dump transport answering each request (seq 1, 2, ...) with the sockets
// given for that family, then NLMSG_DONE.
struct DumpScript {
    FakeTransport t;
    void family(uint32_t seq, const std::vector<Bytes>& socks, int done_err = 0) {
        Bytes d;
        for (const Bytes& s : socks) testutil::append_msg(d, SOCK_DIAG_BY_FAMILY, seq, s, NLM_F_MULTI);
        testutil::append_msg(d, NLMSG_DONE, seq, testutil::int_payload(-done_err), NLM_F_MULTI);
        t.queued.push_back(d);
    }
};

Selection sel_sport(const char* ports) {
    Selection s;
    REQUIRE(parse_ports(ports, s.sports).ok());
    return s;
}

}  // namespace

TEST_CASE("engine: one walk for both families, re-check, destroy the matches", "[engine]") {
    DumpScript dump;
    // The kernel "ignored" the filter: a socket on port 23 and a native IPv6
    // one (the default -4 wants v4-mapped only) come back too.
    dump.family(1, {diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 40000)),
                    diag_payload(testutil::rec("127.0.0.1", 23, "127.0.0.1", 40001)),
                    diag_payload(testutil::rec("::ffff:127.0.0.1", 22, "::ffff:127.0.0.1", 40002)),
                    diag_payload(testutil::rec("::1", 22, "::1", 40003))});
    FakeTransport destroy;
    std::vector<uint16_t> destroyed_ports;
    destroy.destroy_rule = [&](const inet_diag_req_v2& req) {
        destroyed_ports.push_back(ntohs(req.id.idiag_sport) == 22 ? ntohs(req.id.idiag_dport) : 0);
        return 0;
    };
    SockDestroyTerminator term(destroy);
    Engine engine(dump.t, term);
    Recorder obs;
    Result<PollStats> st = engine.poll(sel_sport("22"), obs);
    REQUIRE(st.ok());
    CHECK(st->matched == 2);
    CHECK(st->destroyed == 2);
    CHECK(st->failed == 0);
    CHECK(destroyed_ports == std::vector<uint16_t>{40000, 40002});
    CHECK(obs.filters == 1);
    REQUIRE(obs.candidates.size() == 4);
    CHECK(obs.candidates[1] == std::make_pair(uint16_t{23}, false));
    CHECK(obs.candidates[3] == std::make_pair(uint16_t{22}, false));  // native v6, not asked for
    // One legacy dump request (both families), then the destroys in one batch.
    REQUIRE(dump.t.sent.size() == 1);
    nlmsghdr h;
    std::memcpy(&h, dump.t.sent[0].data(), sizeof h);
    CHECK(h.nlmsg_type == TCPDIAG_GETSOCK);
    CHECK(destroy.sent.size() == 1);
    CHECK(destroy.sent[0].size() == 2 * kDestroyRequestLen);
}

TEST_CASE("engine: a kernel that refuses the single walk gets one dump per family", "[engine]") {
    DumpScript dump;
    Bytes refused;
    testutil::append_msg(refused, NLMSG_ERROR, 1, testutil::int_payload(-EINVAL));
    dump.t.queued.push_back(refused);
    dump.family(2, {diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 40000))});
    dump.family(3, {diag_payload(testutil::rec("::ffff:127.0.0.1", 22, "::ffff:127.0.0.1", 40002))});
    FakeTransport destroy;
    destroy.destroy_rule = [](const inet_diag_req_v2&) { return 0; };
    SockDestroyTerminator term(destroy);
    Engine engine(dump.t, term);
    Recorder obs;
    Result<PollStats> st = engine.poll(sel_sport("22"), obs);
    REQUIRE(st.ok());
    CHECK(st->matched == 2);
    REQUIRE(dump.t.sent.size() == 3);
    auto type_of = [&](size_t i) {
        nlmsghdr h;
        std::memcpy(&h, dump.t.sent[i].data(), sizeof h);
        return h.nlmsg_type;
    };
    CHECK(type_of(0) == TCPDIAG_GETSOCK);
    CHECK(type_of(1) == SOCK_DIAG_BY_FAMILY);
    CHECK(type_of(2) == SOCK_DIAG_BY_FAMILY);
    // And from then on, per family straight away.
    dump.family(4, {});
    dump.family(5, {});
    REQUIRE(engine.poll(sel_sport("22"), obs).ok());
    REQUIRE(dump.t.sent.size() == 5);
    CHECK(type_of(3) == SOCK_DIAG_BY_FAMILY);
}

TEST_CASE("engine: a single port also goes into the request's id, which the kernel compares first", "[engine]") {
    // inet_diag_req (legacy, both families): the id starts at byte 4;
    // inet_diag_req_v2 (one family): at byte 8. Ports in network order.
    auto ports_in = [](const Bytes& msg, size_t id_at) {
        const uint8_t* id = msg.data() + sizeof(nlmsghdr) + id_at;
        return std::make_pair(uint16_t(id[0] << 8 | id[1]), uint16_t(id[2] << 8 | id[3]));
    };
    struct Case {
        const char* sports;
        const char* dports;
        uint16_t want_s, want_d;
    };
    for (Case c : {Case{"22", "", 22, 0}, Case{"", "443", 0, 443}, Case{"22", "80", 22, 80},
                   Case{"22-23", "", 0, 0}, Case{"22,80", "", 0, 0}, Case{"", "", 0, 0}}) {
        INFO("-s '" << c.sports << "' -d '" << c.dports << "'");
        Selection sel;
        if (*c.sports) REQUIRE(parse_ports(c.sports, sel.sports).ok());
        if (*c.dports) REQUIRE(parse_ports(c.dports, sel.dports).ok());
        sel.ipv6 = true;
        DumpScript dump;
        Bytes refused;  // the single walk refused: per family, v2 requests
        testutil::append_msg(refused, NLMSG_ERROR, 1, testutil::int_payload(-EINVAL));
        dump.t.queued.push_back(refused);
        dump.family(2, {});
        dump.family(3, {});
        FakeTransport destroy;
        SockDestroyTerminator term(destroy);
        Engine engine(dump.t, term);
        Recorder obs;
        REQUIRE(engine.poll(sel, obs).ok());
        REQUIRE(dump.t.sent.size() == 3);
        CHECK(ports_in(dump.t.sent[0], 4) == std::make_pair(c.want_s, c.want_d));
        CHECK(ports_in(dump.t.sent[1], 8) == std::make_pair(c.want_s, c.want_d));
        CHECK(ports_in(dump.t.sent[2], 8) == std::make_pair(c.want_s, c.want_d));
    }
}

TEST_CASE("engine: idle rules need tcp_info and are requested only then", "[engine]") {
    DumpScript dump;
    dump.family(1, {diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 1), 5000),
                    diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 2), 50),
                    diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 3))});  // no tcp_info
    dump.family(2, {});
    FakeTransport destroy;
    destroy.destroy_rule = [](const inet_diag_req_v2&) { return 0; };
    SockDestroyTerminator term(destroy);
    Engine engine(dump.t, term);
    Recorder obs;
    Selection sel = sel_sport("22");
    sel.idle_min_ms = 1000;
    Result<PollStats> st = engine.poll(sel, obs);
    REQUIRE(st.ok());
    CHECK(st->matched == 1);
    CHECK(st->destroyed == 1);
    // idiag_ext asks for INET_DIAG_INFO.
    CHECK(dump.t.sent[0][16 + 3] == (1u << (INET_DIAG_INFO - 1)));  // inet_diag_req.idiag_ext
}

// Runs one poll for "-s 22" over two scripted (empty) family dumps, after
// whatever the caller queued first; returns the match count.
static size_t poll_empty_dumps(DumpScript& dump, FakeTransport& destroy) {
    dump.family(1, {});
    dump.family(2, {});
    SockDestroyTerminator term(destroy);
    Engine engine(dump.t, term);
    Recorder obs;
    Result<PollStats> st = engine.poll(sel_sport("22"), obs);
    REQUIRE(st.ok());
    return st->matched;
}

TEST_CASE("engine: no tcp_info requested without idle rules", "[engine]") {
    DumpScript dump;
    FakeTransport destroy;
    CHECK(poll_empty_dumps(dump, destroy) == 0);
    CHECK(dump.t.sent[0][16 + 3] == 0);
    CHECK(destroy.sent.empty());
}

TEST_CASE("engine: dump errors end the poll before anything is destroyed", "[engine]") {
    FakeTransport destroy;
    destroy.destroy_rule = [](const inet_diag_req_v2&) { return 0; };
    SockDestroyTerminator term(destroy);
    DumpScript dump;
    // The errno of a poll over whatever the section scripted into `dump`.
    auto poll_error = [&] {
        Recorder obs;
        Engine engine(dump.t, term);
        Result<PollStats> st = engine.poll(sel_sport("22"), obs);
        REQUIRE_FALSE(st.ok());
        return st.error().code;
    };

    SECTION("NLMSG_ERROR") {
        Bytes d;
        testutil::append_msg(d, NLMSG_ERROR, 1, testutil::int_payload(-EPERM));
        dump.t.queued.push_back(d);
        CHECK(poll_error() == EPERM);
    }
    SECTION("DONE with an error") {
        dump.family(1, {diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 1))}, EINTR);
        CHECK(poll_error() == EINTR);
    }
    SECTION("malformed message") {
        Bytes d;
        testutil::append_msg(d, SOCK_DIAG_BY_FAMILY, 1, diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 1)));
        d[0] = 0xff;  // length now beyond the datagram
        dump.t.queued.push_back(d);
        CHECK(poll_error() == EPROTO);
    }
    SECTION("short inet_diag_msg") {
        dump.family(1, {Bytes(40, 0)});
        CHECK(poll_error() == EPROTO);
    }
    SECTION("transport failure") {
        dump.t.send_error = ECONNREFUSED;
        CHECK(poll_error() == ECONNREFUSED);
    }
    // A good socket comes first in each of these: nothing is destroyed
    // when anything after it in the dump is wrong.
    const Bytes good = diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 1));
    SECTION("nlmsg_len smaller than a header") {
        Bytes d;
        testutil::append_msg(d, SOCK_DIAG_BY_FAMILY, 1, good);
        const size_t second = d.size();
        testutil::append_msg(d, SOCK_DIAG_BY_FAMILY, 1, good);
        d[second] = 8;
        d[second + 1] = d[second + 2] = d[second + 3] = 0;
        dump.t.queued.push_back(d);
        CHECK(poll_error() == EPROTO);
    }
    SECTION("a datagram cut in the middle of a message") {
        Bytes d;
        testutil::append_msg(d, SOCK_DIAG_BY_FAMILY, 1, good);
        testutil::append_msg(d, SOCK_DIAG_BY_FAMILY, 1, good);
        dump.t.queued.push_back(Bytes(d.begin(), d.end() - 10));
        CHECK(poll_error() == EPROTO);
    }
    SECTION("an attribute with nla_len 0") {
        Bytes bad = diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 2), 5);
        bad[sizeof(inet_diag_msg)] = 0;
        bad[sizeof(inet_diag_msg) + 1] = 0;
        dump.family(1, {good, bad});
        CHECK(poll_error() == EPROTO);
    }
    SECTION("an NLMSG_ERROR too short for its errno") {
        Bytes d;
        testutil::append_msg(d, SOCK_DIAG_BY_FAMILY, 1, good);
        testutil::append_msg(d, NLMSG_ERROR, 1, Bytes{0xff, 0xff});
        dump.t.queued.push_back(d);
        CHECK(poll_error() == EPROTO);
    }
    SECTION("a dump that never ends: an error once the kernel stops answering, no hang") {
        Bytes d;
        testutil::append_msg(d, SOCK_DIAG_BY_FAMILY, 1, good, NLM_F_MULTI);
        dump.t.queued.push_back(d);  // no NLMSG_DONE follows; the next receive times out
        CHECK(poll_error() == ETIMEDOUT);
    }
    CHECK(destroy.sent.empty());
}

TEST_CASE("engine: stale messages of another seq are ignored", "[engine]") {
    DumpScript dump;
    Bytes stale;
    testutil::append_msg(stale, SOCK_DIAG_BY_FAMILY, 99, diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 1)));
    dump.t.queued.push_back(stale);
    FakeTransport destroy;
    CHECK(poll_empty_dumps(dump, destroy) == 0);
}


TEST_CASE("engine: --max-kills ends the first N, the rest are skipped and counted", "[engine]") {
    DumpScript dump;
    std::vector<Bytes> socks;
    for (uint16_t i = 0; i < 20; ++i) socks.push_back(diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 100 + i)));
    dump.family(1, socks);
    dump.family(2, {});
    FakeTransport destroy;
    size_t destroyed = 0;
    destroy.destroy_rule = [&](const inet_diag_req_v2&) {
        ++destroyed;
        return 0;
    };
    SockDestroyTerminator term(destroy);
    Engine engine(dump.t, term);
    Recorder obs;
    Selection sel = sel_sport("22");
    sel.max_kills = 5;
    Result<PollStats> st = engine.poll(sel, obs);
    REQUIRE(st.ok());
    CHECK(st->matched == 20);
    CHECK(st->destroyed == 5);
    CHECK(st->skipped == 15);
    CHECK(destroyed == 5);
    REQUIRE(obs.results.size() == 20);
    for (size_t i = 0; i < 20; ++i) CHECK((obs.results[i].outcome == Outcome::Skipped) == (i >= 5));
}

TEST_CASE("engine: a dry run ends nothing and lists what a real run would", "[engine]") {
    DumpScript dump;
    dump.family(1, {diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 1)),
                    diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 2)),
                    diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 3))});
    dump.family(2, {});
    DryRunTerminator dry;
    Engine engine(dump.t, dry);
    Recorder obs;
    Selection sel = sel_sport("22");
    sel.max_kills = 2;
    Result<PollStats> st = engine.poll(sel, obs);
    REQUIRE(st.ok());
    CHECK(st->would_destroy == 2);
    CHECK(st->skipped == 1);
    CHECK(st->destroyed == 0);
    REQUIRE(obs.results.size() == 3);
    CHECK(obs.results[0].outcome == Outcome::WouldEnd);
    CHECK(obs.results[2].outcome == Outcome::Skipped);
}

namespace {

// /proc/net tables as text, handed out in small chunks.
struct FakeTables final : ProcNetTables {
    std::string tcp, tcp6;
    std::vector<bool> opened;  // v6 flag of each open()
    int fail_read = 0;
    std::string* cur = nullptr;
    size_t at = 0;
    Status open(bool v6) override {
        opened.push_back(v6);
        cur = v6 ? &tcp6 : &tcp;
        at = 0;
        return {};
    }
    Result<size_t> read(std::span<uint8_t> buf) override {
        if (fail_read) return make_error(fail_read, "fake read");
        size_t n = std::min<size_t>({buf.size(), cur->size() - at, 37});
        std::memcpy(buf.data(), cur->data() + at, n);
        at += n;
        return n;
    }
};

struct FakeIdle final : IdleReader {
    std::map<uint32_t, uint32_t> last_recv;  // inode -> ms; others unreadable
    size_t calls = 0;
    size_t read_idle(std::span<SockRecord> recs, int& why) override {
        ++calls;
        why = ENOPROTOOPT;
        size_t missing = 0;
        for (SockRecord& r : recs) {
            auto it = last_recv.find(r.inode);
            r.has_info = it != last_recv.end();
            if (r.has_info) r.last_data_recv_ms = it->second;
            missing += !r.has_info;
        }
        return missing;
    }
};

struct InodeTerminator final : Terminator {
    std::vector<uint32_t> ended;
    Status end_connections(std::span<const SockRecord> recs, std::span<KillResult> out) override {
        for (size_t i = 0; i < recs.size(); ++i) {
            ended.push_back(recs[i].inode);
            out[i] = KillResult{};
            out[i].outcome = Outcome::Ended;
            out[i].method = Method::Reset;
        }
        return {};
    }
};

const char kTablesHeader[] = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
std::string v4_line(int sl, const char* local, const char* remote, const char* st, uint32_t inode) {
    return "   " + std::to_string(sl) + ": " + local + " " + remote + " " + st +
           " 00000000:00000000 00:00000000 00000000     0        0 " + std::to_string(inode) + " 1 0000000000000000 20 0 0 10 -1\n";
}

}  // namespace

TEST_CASE("engine: without inet_diag, sockets come from the /proc/net tables", "[engine]") {
    FakeTables tables;
    // 127.0.0.1:7001 listener (11), a connection to it (12, server end 13),
    // one on port 7002 (14); tcp6: ::1 on 7001 (21), v4-mapped on 7001 (22).
    tables.tcp = std::string(kTablesHeader) + v4_line(0, "0100007F:1B59", "00000000:0000", "0A", 11) +
                 v4_line(1, "0100007F:94F4", "0100007F:1B59", "01", 12) +
                 v4_line(2, "0100007F:1B59", "0100007F:94F4", "01", 13) +
                 v4_line(3, "0100007F:1B5A", "0100007F:9000", "01", 14) + "   4: garbage\n";
    tables.tcp6 = std::string(kTablesHeader) +
                  v4_line(0, "00000000000000000000000001000000:1B59", "00000000000000000000000001000000:AE40", "01", 21) +
                  v4_line(1, "0000000000000000FFFF00000100007F:1B59", "0000000000000000FFFF00000100007F:E10C", "01", 22);
    FakeTransport unused;  // the dump socket: never used on this path
    InodeTerminator term;
    FakeIdle idle;
    Engine engine(unused, term);
    engine.use_proc_net(tables, idle);
    Recorder obs;

    SECTION("the default family: IPv4 and v4-mapped, never the listener") {
        Result<PollStats> st = engine.poll(sel_sport("7001"), obs);
        REQUIRE(st.ok());
        CHECK(term.ended == std::vector<uint32_t>{13, 22});
        CHECK(st->matched == 2);
        CHECK(tables.opened == std::vector<bool>{false, true});
        CHECK(unused.sent.empty());
        CHECK(idle.calls == 0);  // no idle rule: no tcp_info needed
    }
    SECTION("-6 alone reads only tcp6 and takes native IPv6 only") {
        Selection sel = sel_sport("7001");
        sel.ipv4 = false;
        sel.ipv6 = true;
        REQUIRE(engine.poll(sel, obs).ok());
        CHECK(term.ended == std::vector<uint32_t>{21});
        CHECK(tables.opened == std::vector<bool>{true});
    }
    SECTION("idle rules: tcp_info from the owners; unreadable ones are never idle, and counted") {
        Selection sel = sel_sport("7001");
        sel.idle_min_ms = 1000;
        idle.last_recv[13] = 5000;  // idle
        idle.last_recv[22] = 10;    // busy; 21 is not IPv4
        Result<PollStats> st = engine.poll(sel, obs);
        REQUIRE(st.ok());
        CHECK(term.ended == std::vector<uint32_t>{13});
        CHECK(st->no_tcp_info == 0);
        idle.last_recv.erase(13);  // now unreadable
        term.ended.clear();
        st = engine.poll(sel, obs);
        REQUIRE(st.ok());
        CHECK(term.ended.empty());
        CHECK(st->no_tcp_info == 1);
        CHECK(st->no_tcp_info_err == ENOPROTOOPT);
    }
    SECTION("a read error ends the poll before anything is ended") {
        tables.fail_read = EIO;
        Result<PollStats> st = engine.poll(sel_sport("7001"), obs);
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code == EIO);
        CHECK(term.ended.empty());
    }
}

TEST_CASE("engine: a kernel that refuses every TCP dump (no inet_diag module) switches to /proc/net for good",
          "[engine]") {
    DumpScript dump;
    Bytes refused_legacy, refused_v4;
    testutil::append_msg(refused_legacy, NLMSG_ERROR, 1, testutil::int_payload(-ENOENT));
    testutil::append_msg(refused_v4, NLMSG_ERROR, 2, testutil::int_payload(-ENOENT));
    dump.t.queued.push_back(refused_legacy);
    dump.t.queued.push_back(refused_v4);
    FakeTables tables;
    tables.tcp = std::string(kTablesHeader) + v4_line(0, "0100007F:1B59", "0100007F:94F4", "01", 13);
    tables.tcp6 = kTablesHeader;
    FakeTransport destroy;
    SockDestroyTerminator sd(destroy);
    InodeTerminator proc;
    FakeIdle idle;
    Engine engine(dump.t, sd);
    engine.fall_back_to_proc_net(tables, idle, proc);
    Recorder obs;
    Result<PollStats> st = engine.poll(sel_sport("7001"), obs);
    REQUIRE(st.ok());
    CHECK(st->switched_to_proc_net);
    CHECK(proc.ended == std::vector<uint32_t>{13});
    CHECK(destroy.sent.empty());  // never SOCK_DESTROY after the switch
    // And from then on without asking inet_diag again.
    const size_t asked = dump.t.sent.size();
    st = engine.poll(sel_sport("7001"), obs);
    REQUIRE(st.ok());
    CHECK_FALSE(st->switched_to_proc_net);
    CHECK(dump.t.sent.size() == asked);
    CHECK(proc.ended.size() == 2);
}

TEST_CASE("engine: other dump refusals do not switch to /proc/net", "[engine]") {
    DumpScript dump;
    Bytes refused_legacy, refused_v4;
    testutil::append_msg(refused_legacy, NLMSG_ERROR, 1, testutil::int_payload(-EINVAL));
    testutil::append_msg(refused_v4, NLMSG_ERROR, 2, testutil::int_payload(-EPERM));
    dump.t.queued.push_back(refused_legacy);
    dump.t.queued.push_back(refused_v4);
    FakeTables tables;
    InodeTerminator proc;
    FakeIdle idle;
    FakeTransport destroy;
    SockDestroyTerminator sd(destroy);
    Engine engine(dump.t, sd);
    engine.fall_back_to_proc_net(tables, idle, proc);
    Recorder obs;
    Result<PollStats> st = engine.poll(sel_sport("7001"), obs);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == EPERM);
    CHECK(tables.opened.empty());
}
