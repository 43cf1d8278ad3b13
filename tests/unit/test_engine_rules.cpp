// The engine with several rules: one dump for all, each socket to the first
// rule whose conditions hold, a rule's --max-kills for that rule alone.
#include <catch2/catch.hpp>

#include <cstdio>
#include <vector>

#include "core/rules.hpp"
#include "engine/dry_run.hpp"
#include "engine_rig.hpp"

using namespace tc;
using namespace enginerig;

namespace {

Rule rule(const char* name, const char* sports, const char* dports, uint32_t cap = 0) {
    Rule r;
    std::snprintf(r.name, sizeof r.name, "%s", name);
    if (sports) REQUIRE(parse_ports(sports, r.sel.sports).ok());
    if (dports) REQUIRE(parse_ports(dports, r.sel.dports).ok());
    r.sel.max_per_poll = cap;
    return r;
}

}  // namespace

TEST_CASE("engine: the first rule wins, a rule's cap is its own, one dump serves all", "[engine][rules]") {
    DumpScript dump;
    std::vector<Bytes> socks;
    // sport 22 (three), 23, and 24 -> dport 150; 25 -> 300 matches no rule.
    for (uint16_t d : {uint16_t{100}, uint16_t{101}, uint16_t{102}}) socks.push_back(diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", d)));
    socks.push_back(diag_payload(testutil::rec("127.0.0.1", 23, "127.0.0.1", 103)));
    socks.push_back(diag_payload(testutil::rec("127.0.0.1", 24, "127.0.0.1", 150)));
    socks.push_back(diag_payload(testutil::rec("127.0.0.1", 25, "127.0.0.1", 300)));
    dump.family(1, socks);
    DryRunTerminator term;
    Engine engine(dump.t, term);
    Recorder obs;
    const std::vector<Rule> rules = {rule("ssh", "22", nullptr, 1), rule("wide", "22-23", nullptr),
                                     rule("peer", nullptr, "100-200")};
    Result<PollStats> st = engine.poll(rules, obs);
    REQUIRE(st.ok());
    CHECK(dump.t.sent.size() == 1);  // one dump for the three rules
    CHECK(st->matched == 5);
    CHECK(st->would_end == 3);
    CHECK(st->skipped == 2);
    REQUIRE(obs.recs.size() == 5);
    // Those to end first, then the skipped; each names its rule.
    std::vector<std::pair<uint16_t, int>> got;
    for (size_t i = 0; i < obs.recs.size(); ++i) got.emplace_back(obs.recs[i].dport(), obs.recs[i].rule);
    CHECK(got == std::vector<std::pair<uint16_t, int>>{{100, 0}, {103, 1}, {150, 2}, {101, 0}, {102, 0}});
    // Over "ssh"'s cap the sockets stay "ssh"'s: never offered to "wide" or "peer".
    CHECK(obs.results[3].outcome == Outcome::Skipped);
    CHECK(obs.results[4].outcome == Outcome::Skipped);
    // The candidates: 25 -> 300 is no rule's.
    REQUIRE(obs.candidates.size() == 6);
    CHECK_FALSE(obs.candidates[5].second);
}

TEST_CASE("engine: the request's states and tcp_info are what some rule needs", "[engine][rules]") {
    DumpScript dump;
    dump.family(1, {});
    DryRunTerminator term;
    Engine engine(dump.t, term);
    Recorder obs;
    std::vector<Rule> rules = {rule("a", "22", nullptr), rule("b", "23", nullptr)};
    rules[0].sel.last_recv_limit_ms = 500;
    rules[1].sel.states = 1u << 8;  // close-wait
    rules[1].sel.idle_min_ms = 1000;
    REQUIRE(engine.poll(rules, obs).ok());
    REQUIRE(dump.t.sent.size() == 1);
    const Bytes& req = dump.t.sent[0];
    nlmsghdr h;
    std::memcpy(&h, req.data(), sizeof h);
    REQUIRE(h.nlmsg_type == TCPDIAG_GETSOCK);  // the single walk
    inet_diag_req r;
    std::memcpy(&r, req.data() + sizeof h, sizeof r);
    CHECK(r.idiag_states == ((1u << 1) | (1u << 8)));
    CHECK((r.idiag_ext & (1 << (INET_DIAG_INFO - 1))) != 0);
    // Two different ports: none in the request's id.
    CHECK(r.id.idiag_sport == 0);
}

namespace {
// Does this dump request ask for tcp_info (INET_DIAG_INFO in idiag_ext)?
bool asks_info(const Bytes& req) {
    nlmsghdr h;
    std::memcpy(&h, req.data(), sizeof h);
    // inet_diag_req (the single walk): ext is byte 3; inet_diag_req_v2: byte 2.
    const uint8_t ext = req[sizeof h + (h.nlmsg_type == TCPDIAG_GETSOCK ? 3 : 2)];
    return (ext & (1u << (INET_DIAG_INFO - 1))) != 0;
}

struct ShowsCandidates final : PollObserver {
    size_t candidates = 0;
    void on_filter(const DumpScope&, std::span<const uint8_t>) override {}
    void on_candidate(const SockRecord&, uint32_t, bool) override { ++candidates; }
    void on_result(const SockRecord&, const EndResult&) override {}
    bool shows_candidates() const override { return true; }
};
}  // namespace

TEST_CASE("engine: rules of both kinds ask for tcp_info only while a rule that reads it has candidates",
          "[engine][rules]") {
    DumpScript dump;
    DryRunTerminator term;
    Engine engine(dump.t, term);
    Recorder obs;
    std::vector<Rule> rules = {rule("idle", "22", nullptr), rule("kill", "30000-30010", nullptr)};
    rules[0].sel.idle_min_ms = 1000;
    auto sock = [](uint16_t sport, int last_recv = -1) {
        return diag_payload(testutil::rec("127.0.0.1", sport, "127.0.0.1", 40000), last_recv);
    };

    // Nothing on port 22: one dump, without tcp_info, ends the mass.
    dump.family(1, {sock(30001), sock(30002)});
    Result<PollStats> st = engine.poll(rules, obs);
    REQUIRE(st.ok());
    REQUIRE(dump.t.sent.size() == 1);
    CHECK_FALSE(asks_info(dump.t.sent[0]));
    CHECK(st->would_end == 2);

    // Port 22 appears: the dump found it without tcp_info, so it is asked
    // again with it, and the idle rule decides with the figures.
    dump.family(2, {sock(22), sock(30001)});
    dump.family(3, {sock(22, 5000), sock(30001, 0)});
    obs = Recorder{};
    st = engine.poll(rules, obs);
    REQUIRE(st.ok());
    REQUIRE(dump.t.sent.size() == 3);
    CHECK_FALSE(asks_info(dump.t.sent[1]));
    CHECK(asks_info(dump.t.sent[2]));
    CHECK(st->matched == 2);  // the first dump's matches are not counted twice
    REQUIRE(obs.recs.size() == 2);
    CHECK(obs.recs[0].sport() == 22);
    CHECK(obs.recs[0].rule == 0);
    CHECK(obs.recs[1].rule == 1);

    // The next poll asks for it at once, while port 22 has candidates.
    dump.family(4, {sock(22, 50)});
    st = engine.poll(rules, obs);
    REQUIRE(st.ok());
    REQUIRE(dump.t.sent.size() == 4);
    CHECK(asks_info(dump.t.sent[3]));
    CHECK(st->matched == 0);  // not idle long enough
    dump.family(5, {sock(30003, 0)});
    st = engine.poll(rules, obs);
    REQUIRE(dump.t.sent.size() == 5);
    CHECK(asks_info(dump.t.sent[4]));
    CHECK(st->matched == 1);
    // That dump found none for the idle rule: the next goes without.
    dump.family(6, {});
    REQUIRE(engine.poll(rules, obs).ok());
    REQUIRE(dump.t.sent.size() == 6);
    CHECK_FALSE(asks_info(dump.t.sent[5]));

    SECTION("an observer that shows every candidate gets each once: tcp_info at once") {
        Engine fresh(dump.t, term);
        ShowsCandidates shows;
        dump.family(1, {sock(22, 5000), sock(30001, 0)});
        st = fresh.poll(rules, shows);
        REQUIRE(st.ok());
        REQUIRE(dump.t.sent.size() == 7);
        CHECK(asks_info(dump.t.sent[6]));
        CHECK(shows.candidates == 2);
        CHECK(st->matched == 2);
    }
    SECTION("rules that all read tcp_info ask for it at once") {
        Engine fresh(dump.t, term);
        rules[1].sel.idle_min_ms = 1;
        dump.family(1, {});
        REQUIRE(fresh.poll(rules, obs).ok());
        REQUIRE(dump.t.sent.size() == 7);
        CHECK(asks_info(dump.t.sent[6]));
    }
}
