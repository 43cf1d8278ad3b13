// The engine with rules that arm: their matches go to the armer (the
// others' to the terminator), and a socket armed or kept is neither armed
// nor reported again while the dumps still find it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/rules.hpp"
#include "engine/dry_run.hpp"
#include "engine_rig.hpp"

using namespace tc;
using namespace enginerig;

namespace {

Rule rule(const char* name, const char* sports, uint32_t user_timeout_ms) {
    Rule r;
    std::snprintf(r.name, sizeof r.name, "%s", name);
    REQUIRE(parse_ports(sports, r.sel.sports).ok());
    r.sel.arm.user_timeout_ms = user_timeout_ms;
    return r;
}

// A socket on local port `sport` with cookie `cookie`.
Bytes sock(uint16_t sport, uint32_t cookie) {
    SockRecord r = testutil::rec("127.0.0.1", sport, "127.0.0.1", static_cast<uint16_t>(1000 + cookie));
    r.id.idiag_cookie[0] = cookie;
    return diag_payload(r);
}

// Arms what it is given (by cookie): kept or failed for the cookies named.
struct FakeArmer final : Armer {
    std::vector<uint32_t> given;
    std::vector<uint32_t> keep, fail;
    size_t calls = 0;
    Status arm_connections(std::span<const SockRecord> recs, std::span<const Rule> rules,
                           std::span<EndResult> out) override {
        ++calls;
        for (size_t i = 0; i < recs.size(); ++i) {
            const uint32_t c = recs[i].id.idiag_cookie[0];
            given.push_back(c);
            CHECK(rules[recs[i].rule].sel.arm.user_timeout_ms == 2000);
            auto has = [c](const std::vector<uint32_t>& v) { return std::find(v.begin(), v.end(), c) != v.end(); };
            out[i] = EndResult{};
            out[i].outcome = has(fail) ? Outcome::Failed : has(keep) ? Outcome::Kept : Outcome::Armed;
        }
        return {};
    }
};

struct Rig {
    DumpScript dump;
    InodeTerminator term;
    FakeArmer armer;
    Engine engine{dump.t, term};
    uint32_t seq = 0;
    std::vector<Rule> rules = {rule("end", "23", 0), rule("arm", "22", 2000)};
    Rig() { engine.use_armer(armer); }
    // One poll finding `socks`: its stats, and what the armer was given.
    PollStats poll(const std::vector<Bytes>& socks, std::vector<uint32_t>& armed) {
        dump.family(++seq, socks);
        armer.given.clear();
        Recorder obs;
        Result<PollStats> st = engine.poll(rules, obs);
        REQUIRE(st.ok());
        armed = armer.given;
        return *st;
    }
};

}  // namespace

TEST_CASE("engine: an arming rule's matches go to the armer, the others are ended", "[engine][arm]") {
    Rig rig;
    std::vector<uint32_t> armed;
    const PollStats st = rig.poll({sock(22, 1), sock(23, 2), sock(22, 3), sock(24, 4)}, armed);
    CHECK(armed == std::vector<uint32_t>{1, 3});
    CHECK(rig.armer.calls == 1);  // one call (one walk of /proc), though an ended one lies between
    CHECK(rig.term.ended.size() == 1);  // the one on 23
    CHECK(st.matched == 3);
    CHECK(st.armed == 2);
    CHECK(st.ended == 1);
    CHECK(st.arming);
    // A run whose rules do not arm says nothing of arming.
    Rig plain;
    plain.rules = {rule("end", "23", 0)};
    CHECK_FALSE(plain.poll({sock(23, 2)}, armed).arming);
}

TEST_CASE("engine: a socket armed or kept is not armed again while the dumps find it; failed ones are tried again",
          "[engine][arm]") {
    Rig rig;
    rig.armer.keep = {2};
    rig.armer.fail = {3};
    std::vector<uint32_t> armed;
    PollStats st = rig.poll({sock(22, 1), sock(22, 2), sock(22, 3), sock(23, 9)}, armed);
    CHECK(armed == std::vector<uint32_t>{1, 2, 3});
    CHECK(st.armed == 1);
    CHECK(st.kept == 1);
    CHECK(st.failed == 1);
    rig.engine.end_round();
    // Found again: 1 and 2 are left out (not matched, not reported), 3 is tried again.
    st = rig.poll({sock(22, 1), sock(22, 2), sock(22, 3), sock(23, 9)}, armed);
    CHECK(armed == std::vector<uint32_t>{3});
    CHECK(st.matched == 2);  // 3, and the one ended on 23
    rig.engine.end_round();
    // 1 left the dump, so it is forgotten: found again later, it is armed again.
    st = rig.poll({sock(22, 2), sock(22, 5)}, armed);
    CHECK(armed == std::vector<uint32_t>{5});
    rig.engine.end_round();
    st = rig.poll({sock(22, 1), sock(22, 2), sock(22, 5)}, armed);
    CHECK(armed == std::vector<uint32_t>{1});
}

TEST_CASE("engine: a poll that finds only sockets armed before asks the armer nothing (no walk of /proc)",
          "[engine][arm]") {
    Rig rig;
    std::vector<uint32_t> armed;
    rig.poll({sock(22, 1), sock(22, 2)}, armed);
    REQUIRE(rig.armer.calls == 1);
    for (int round = 0; round < 3; ++round) {
        rig.engine.end_round();
        PollStats st = rig.poll({sock(22, 1), sock(22, 2)}, armed);
        CHECK(st.matched == 0);
        CHECK(armed.empty());
    }
    CHECK(rig.armer.calls == 1);
}

TEST_CASE("engine: arming's memory lasts a round of polls, every namespace of --all-netns", "[engine][arm]") {
    Rig rig;
    std::vector<uint32_t> armed;
    // One round: two namespaces' polls.
    rig.poll({sock(22, 1)}, armed);
    rig.poll({sock(22, 7)}, armed);
    CHECK(armed == std::vector<uint32_t>{7});
    rig.engine.end_round();
    // The next round: neither is armed again, though each poll saw only one.
    rig.poll({sock(22, 1)}, armed);
    CHECK(armed.empty());
    rig.poll({sock(22, 7)}, armed);
    CHECK(armed.empty());
    rig.engine.end_round();
    rig.poll({sock(22, 1), sock(22, 7)}, armed);
    CHECK(armed.empty());
    // Without the round's end nothing is remembered yet: the same poll arms again.
    Rig fresh;
    fresh.poll({sock(22, 1)}, armed);
    fresh.poll({sock(22, 1)}, armed);
    CHECK(armed == std::vector<uint32_t>{1});
}

TEST_CASE("engine: a dry run lists would_arm for an arming rule's matches, and remembers nothing",
          "[engine][arm]") {
    DumpScript dump;
    DryRunTerminator dry;
    Engine engine(dump.t, dry);
    engine.use_armer(dry);
    const std::vector<Rule> rules = {rule("end", "23", 0), rule("arm", "22", 2000)};
    for (uint32_t seq = 1; seq <= 2; ++seq) {
        dump.family(seq, {sock(22, 1), sock(23, 2)});
        Recorder obs;
        Result<PollStats> st = engine.poll(rules, obs);
        REQUIRE(st.ok());
        CHECK(st->would_arm == 1);
        CHECK(st->would_end == 1);
        REQUIRE(obs.results.size() == 2);
        // Those to end first, then those to arm (the dump had 22 first).
        CHECK(obs.recs[0].sport() == 23);
        CHECK(obs.results[0].outcome == Outcome::WouldEnd);
        CHECK(obs.results[1].outcome == Outcome::WouldArm);
        engine.end_round();
    }
}
