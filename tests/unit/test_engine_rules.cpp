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
