#include <catch2/catch.hpp>

#include <linux/tcp.h>

#include <cstring>
#include <string>
#include <vector>

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
    void on_candidate(const SockRecord& r, bool sel) override { candidates.emplace_back(r.sport(), sel); }
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

TEST_CASE("engine: dump both scopes, re-check, destroy the matches", "[engine]") {
    DumpScript dump;
    // The kernel "ignored" the filter: a socket on port 23 comes back too.
    dump.family(1, {diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 40000)),
                    diag_payload(testutil::rec("127.0.0.1", 23, "127.0.0.1", 40001))});
    dump.family(2, {diag_payload(testutil::rec("::ffff:127.0.0.1", 22, "::ffff:127.0.0.1", 40002)),
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
    CHECK(obs.filters == 2);
    REQUIRE(obs.candidates.size() == 4);
    CHECK(obs.candidates[1] == std::make_pair(uint16_t{23}, false));
    CHECK(obs.candidates[3] == std::make_pair(uint16_t{22}, false));  // native v6, not asked for
    // Two dump requests, then the destroys in one batch.
    REQUIRE(dump.t.sent.size() == 2);
    CHECK(destroy.sent.size() == 1);
    CHECK(destroy.sent[0].size() == 2 * kDestroyRequestLen);
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
    CHECK(dump.t.sent[0][16 + 2] == (1u << (INET_DIAG_INFO - 1)));
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
    CHECK(dump.t.sent[0][16 + 2] == 0);
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

TEST_CASE("destroyer: batches, outcomes by errno, lost acks", "[sock_destroy]") {
    std::vector<SockRecord> recs;
    for (uint16_t i = 0; i < 300; ++i) recs.push_back(testutil::rec("127.0.0.1", 22, "127.0.0.1", static_cast<uint16_t>(10000 + i)));
    std::vector<KillResult> out(recs.size());
    FakeTransport t;
    t.destroy_rule = [](const inet_diag_req_v2& req) {
        uint16_t port = ntohs(req.id.idiag_dport);
        if (port % 10 == 1) return ENOENT;
        if (port % 10 == 2) return EPERM;
        return 0;
    };

    SECTION("all acks arrive") {
        SockDestroyTerminator term(t);
        REQUIRE(term.end_connections(recs, out).ok());
        CHECK(t.sent.size() == 3);  // 128 + 128 + 44
        CHECK(t.sent[0].size() == SockDestroyTerminator::kBatch * kDestroyRequestLen);
        for (size_t i = 0; i < recs.size(); ++i) {
            uint16_t port = recs[i].dport();
            INFO("port " << port);
            if (port % 10 == 1) CHECK(out[i].outcome == Outcome::Vanished);
            else if (port % 10 == 2) {
                CHECK(out[i].outcome == Outcome::Failed);
                CHECK(out[i].err == EPERM);
            } else CHECK(out[i].outcome == Outcome::Destroyed);
        }
    }
    SECTION("acks dropped by a full receive buffer count as failed (ENOBUFS)") {
        t.drop_acks_after = 100;
        SockDestroyTerminator term(t);
        REQUIRE(term.end_connections(std::span(recs).first(128), std::span(out).first(128)).ok());
        size_t enobufs = 0;
        for (size_t i = 0; i < 128; ++i) enobufs += out[i].outcome == Outcome::Failed && out[i].err == ENOBUFS;
        CHECK(enobufs == 28);
    }
    SECTION("a record with a wildcard cookie is refused, the rest go on") {
        recs[5].id.idiag_cookie[0] = recs[5].id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
        SockDestroyTerminator term(t);
        REQUIRE(term.end_connections(std::span(recs).first(10), std::span(out).first(10)).ok());
        CHECK(out[5].outcome == Outcome::Failed);
        CHECK(out[5].err == EINVAL);
        CHECK(t.sent[0].size() == 9 * kDestroyRequestLen);
        CHECK(out[6].outcome == Outcome::Destroyed);
    }
    SECTION("send failure is a mechanism error") {
        t.send_error = EPERM;
        SockDestroyTerminator term(t);
        Status s = term.end_connections(recs, out);
        CHECK_FALSE(s.ok());
        CHECK(out[0].outcome == Outcome::Failed);
    }
}

TEST_CASE("report lines", "[report]") {
    SockRecord r = testutil::rec("127.0.0.1", 22, "127.0.0.2", 40000);
    r.has_info = true;
    r.last_data_recv_ms = 61000;
    r.uid = 1000;
    r.inode = 555;
    char buf[kLineMax];
    format_result(buf, sizeof buf, r, {Outcome::Destroyed, 0});
    CHECK(std::string(buf) == "destroyed 127.0.0.1:22 -> 127.0.0.2:40000 state=ESTABLISHED last_recv_ms=61000 uid=1000 inode=555");
    format_result(buf, sizeof buf, testutil::rec("::1", 443, "::1", 5), {Outcome::Failed, EPERM});
    CHECK(std::string(buf).find("failed [::1]:443 -> [::1]:5 state=ESTABLISHED last_recv_ms=- ") == 0);
    CHECK(std::string(buf).find("error=") != std::string::npos);
    format_summary(buf, sizeof buf, PollStats{3, 1, 1, 1});
    CHECK(std::string(buf) == "poll: matched=3 destroyed=1 vanished=1 failed=1");
    format_candidate(buf, sizeof buf, r, true);
    CHECK(std::string(buf).find("rtt_us=0 last_recv_ms=61000") != std::string::npos);
    timespec ts{1700000000, 123456789};
    format_timestamp(buf, sizeof buf, ts);
    CHECK(std::string(buf) == "2023-11-14T22:13:20.123Z");
    size_t n = format_syslog(buf, sizeof buf, false, ts, 42, "poll: matched=0");
    CHECK(std::string(buf, n) == "<30>Nov 14 22:13:20 tcp_closer[42]: poll: matched=0");
    n = format_syslog(buf, sizeof buf, true, timespec{0, 0}, 7, "x");
    CHECK(std::string(buf, n) == "<27>Jan  1 00:00:00 tcp_closer[7]: x");
    char tiny[8];
    n = format_syslog(tiny, sizeof tiny, false, ts, 42, "long line");
    CHECK(n == 7);
    CHECK(std::string(tiny) == "<30>Nov");
}
