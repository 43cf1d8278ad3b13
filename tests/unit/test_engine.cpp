#include <catch2/catch.hpp>

#include <linux/tcp.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/dry_run.hpp"
#include "engine/engine.hpp"
#include "fake_transport.hpp"
#include "helpers.hpp"
#include "report/report.hpp"
#include "engine/sock_destroy.hpp"
#include "engine_rig.hpp"

using namespace tc;
using namespace enginerig;
using testutil::Bytes;
using testutil::FakeTransport;

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
    CHECK(st->ended == 2);
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
    CHECK(st->ended == 1);
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
    sel.max_per_poll = 5;
    Result<PollStats> st = engine.poll(sel, obs);
    REQUIRE(st.ok());
    CHECK(st->matched == 20);
    CHECK(st->ended == 5);
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
    sel.max_per_poll = 2;
    Result<PollStats> st = engine.poll(sel, obs);
    REQUIRE(st.ok());
    CHECK(st->would_end == 2);
    CHECK(st->skipped == 1);
    CHECK(st->ended == 0);
    REQUIRE(obs.results.size() == 3);
    CHECK(obs.results[0].outcome == Outcome::WouldEnd);
    CHECK(obs.results[2].outcome == Outcome::Skipped);
}

// The second batch's send fails after the first 128 destroys went out: the
// poll reports the failure, and still counts what ended (the summary and
// --metrics must not lose them).
TEST_CASE("engine: a terminator that breaks part way still has its ended connections counted", "[engine]") {
    DumpScript dump;
    std::vector<Bytes> socks;
    for (uint16_t i = 0; i < 200; ++i)
        socks.push_back(diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", static_cast<uint16_t>(40000 + i))));
    dump.family(1, socks);
    FakeTransport destroy;
    destroy.destroy_rule = [](const inet_diag_req_v2&) { return 0; };
    destroy.sends_that_work = 1;
    SockDestroyTerminator term(destroy);
    Engine engine(dump.t, term);
    Recorder obs;
    Result<PollStats> st = engine.poll(sel_sport("22"), obs);
    REQUIRE(st.ok());
    CHECK(st->end_failure.code == EPERM);
    CHECK(st->matched == 200);
    CHECK(st->ended == SockDestroyTerminator::kBatch);
    CHECK(st->sock_destroy == SockDestroyTerminator::kBatch);
    CHECK(st->failed == 200 - SockDestroyTerminator::kBatch);
    CHECK(st->by_proto[0].ended == SockDestroyTerminator::kBatch);
    REQUIRE(obs.results.size() == 200);
    CHECK(obs.results[0].outcome == Outcome::Ended);
    CHECK(obs.results[SockDestroyTerminator::kBatch - 1].outcome == Outcome::Ended);
    CHECK(obs.results[SockDestroyTerminator::kBatch].outcome == Outcome::Failed);
}
