// The OR of the rules' kernel filters against the kernel model: random
// rule sets, each socket accepted by the program exactly when some rule's
// filter part holds for it in user space; past the kernel's limit no
// filter at all (user space decides alone).
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "bytecode_rig.hpp"
#include "core/rules.hpp"

using namespace tc;
using namespace bctest;
using testutil::entry;
using testutil::rec;

namespace {

// The filter part of the rules: does some rule that belongs in `scope` match?
bool some_rule(const std::vector<Rule>& rules, const DumpScope& scope, const SockRecord& r) {
    for (const Rule& rule : rules) {
        DumpScope mine;
        if (rule_scope(rule.sel, scope, mine) && matches_filter(rule.sel, mine, r)) return true;
    }
    return false;
}

Rule random_rule(std::mt19937& rng) {
    Rule rule;
    Selection& sel = rule.sel;
    sel.ipv4 = rng() % 4 != 0;
    sel.ipv6 = !sel.ipv4 || rng() % 2;
    for (PrefixSet* set : {&sel.srcs, &sel.dsts}) {
        const size_t n = rng() % 3;
        for (size_t i = 0; i < n; ++i) {
            const bool four = sel.ipv4 && (!sel.ipv6 || rng() % 2);
            REQUIRE(set->add(prefix(four ? v4[rng() % 6] : v6[rng() % 6])).ok());
        }
    }
    if (rng() % 2) REQUIRE(sel.sports.add({1, static_cast<uint16_t>(1 + rng() % 3)}).ok());
    if (rng() % 3 == 0) REQUIRE(sel.dports.add({9, 9}).ok());
    if (rng() % 4 == 0) REQUIRE(sel.ex.sports.add({2, 2}).ok());
    if (rng() % 5 == 0) REQUIRE(sel.ex.dsts.add(prefix(rng() % 2 ? v4[rng() % 6] : v6[rng() % 6])).ok());
    return rule;
}

size_t compile_rules(const std::vector<Rule>& rules, const DumpScope& scope, std::vector<uint8_t>& buf) {
    buf.assign(rules_filter_bound(rules, 0), 0);
    return compile_rules_filter(rules, scope, buf, true, nullptr);
}

}  // namespace

TEST_CASE("the OR of random rules' filters agrees with the rules in user space", "[rules][bytecode][policy]") {
    std::mt19937 rng(29);
    size_t filtered = 0;
    for (int round = 0; round < 300; ++round) {
        std::vector<Rule> rules;
        const size_t n = 1 + rng() % 5;
        for (size_t i = 0; i < n; ++i) rules.push_back(random_rule(rng));
        for (const DumpScope& scope : scopes) {
            std::vector<uint8_t> buf;
            const size_t len = compile_rules(rules, scope, buf);
            const std::span<const uint8_t> prog(buf.data(), len);
            REQUIRE(model::audit(prog));
            filtered += len > 0;
            for (int k = 0; k < 40; ++k) {
                const bool is4 = scope.family == AF_INET || (scope.family == AF_UNSPEC && rng() % 2);
                const char* s = is4 ? socks4[rng() % 6] : socks6[rng() % 6];
                const char* d = is4 ? socks4[rng() % 6] : socks6[rng() % 6];
                if (!is4 && (std::string(s).find("ffff") != std::string::npos) !=
                                (std::string(d).find("ffff") != std::string::npos))
                    d = s;
                const SockRecord r = rec(s, static_cast<uint16_t>(1 + rng() % 5), d, rng() % 2 ? 9 : 10);
                const bool want = some_rule(rules, scope, r);
                INFO("round " << round << " " << s << " -> " << d << " rules " << n);
                // (No filter takes every socket: user space alone decides.)
                if (len > 0) CHECK(model::run(prog, entry(r)) == want);
            }
        }
    }
    CHECK(filtered > 1000);  // most rule sets do get a kernel filter
}

TEST_CASE("rules whose OR passes the kernel's limit get no filter", "[rules][bytecode]") {
    // 64 IPv6 prefixes of --src and of --dst a rule: ~4 KiB each, so 20
    // rules pass 64 KiB.
    std::vector<Rule> rules;
    auto fill = [&](size_t count) {
        rules.clear();
        for (size_t k = 0; k < count; ++k) {
            Rule rule;
            rule.sel.ipv4 = false;
            rule.sel.ipv6 = true;
            for (size_t i = 0; i < PrefixSet::kMax; ++i) {
                const std::string a = "2001:db8:" + std::to_string(k + 1) + ":" + std::to_string(i + 1) + "::/64";
                REQUIRE(rule.sel.srcs.add(prefix(a.c_str())).ok());
                REQUIRE(rule.sel.dsts.add(prefix(a.c_str())).ok());
            }
            rules.push_back(rule);
        }
    };
    const DumpScope scope{AF_INET6, V6Scope::NativeOnly, Proto::Tcp};
    std::vector<uint8_t> buf;
    fill(2);
    const size_t two = compile_rules(rules, scope, buf);
    CHECK(two > 0);
    REQUIRE(model::audit(std::span<const uint8_t>(buf.data(), two)));
    fill(20);
    CHECK(rules_filter_bound(rules, 0) == kMaxFilter);
    CHECK(compile_rules(rules, scope, buf) == 0);
    // A rule that takes every socket of the dump makes the OR take every one.
    rules.assign(2, Rule{});
    REQUIRE(rules[0].sel.sports.add({1, 3}).ok());
    REQUIRE(rules[1].sel.dports.add({9, 9}).ok());
    CHECK(compile_rules(rules, kV4, buf) > 0);
    rules[1].sel.dports = PortSet{};
    CHECK(compile_rules(rules, kV4, buf) == 0);
}

TEST_CASE("rule_scope: a rule's own families inside a dump of more", "[rules]") {
    Selection v4;  // -4 (the default)
    Selection v6;
    v6.ipv4 = false;
    v6.ipv6 = true;
    Selection both;
    both.ipv6 = true;
    DumpScope out;
    CHECK(rule_scope(v4, {AF_UNSPEC, V6Scope::Any, Proto::Tcp}, out));
    CHECK(out.v6 == V6Scope::MappedOnly);
    CHECK(rule_scope(v6, {AF_UNSPEC, V6Scope::Any, Proto::Tcp}, out));
    CHECK(out.v6 == V6Scope::NativeOnly);
    CHECK(rule_scope(both, {AF_INET6, V6Scope::Any, Proto::Tcp}, out));
    CHECK(out.v6 == V6Scope::Any);
    CHECK_FALSE(rule_scope(v6, {AF_INET, V6Scope::Any, Proto::Tcp}, out));
    CHECK_FALSE(rule_scope(v6, {AF_INET6, V6Scope::MappedOnly, Proto::Tcp}, out));
    CHECK_FALSE(rule_scope(v4, {AF_INET6, V6Scope::NativeOnly, Proto::Tcp}, out));
    CHECK_FALSE(rule_scope(v4, {AF_UNSPEC, V6Scope::Any, Proto::Udp}, out));  // a TCP rule
    // The plan: one walk for TCP's -4 and -6 rules, UDP only for a UDP rule.
    std::vector<Rule> rules(2);
    rules[0].sel = v4;
    rules[1].sel = v6;
    DumpPlan plan = plan_rule_dumps(rules, true);
    REQUIRE(plan.count == 1);
    CHECK(plan.scopes[0].family == AF_UNSPEC);
    CHECK(plan.scopes[0].v6 == V6Scope::Any);
    rules[1].sel.udp = true;
    rules[1].sel.tcp = false;
    rules[1].sel.states = kUdpConnected;
    plan = plan_rule_dumps(rules, true);
    REQUIRE(plan.count == 2);
    CHECK(plan.scopes[0].v6 == V6Scope::MappedOnly);
    CHECK(plan.scopes[1].proto == Proto::Udp);
    CHECK(plan.scopes[1].family == AF_INET6);
    CHECK(plan.scopes[1].v6 == V6Scope::NativeOnly);
}

TEST_CASE("the rules' OR puts source-port rules, then destination-port rules, behind a gate each", "[rules][bytecode]") {
    std::vector<Rule> rules(4);
    REQUIRE(rules[0].sel.dsts.add(prefix("192.0.2.0/24")).ok());  // no port: last, no gate
    REQUIRE(parse_ports("80", rules[1].sel.dports).ok());
    REQUIRE(parse_ports("22", rules[2].sel.sports).ok());
    REQUIRE(parse_ports("1000-2000", rules[3].sel.sports).ok());
    std::vector<uint8_t> buf;
    const size_t len = compile_rules(rules, kV4, buf);
    const std::span<const uint8_t> prog(buf.data(), len);
    REQUIRE(model::audit(prog));
    std::vector<std::string> ops;
    for (size_t at = 0; at < len;) {
        char line[128];
        const size_t next = describe_op(prog, at, line, sizeof line);
        ops.emplace_back(line);
        if (next == 0) break;
        at = next;
    }
    REQUIRE(ops.size() > 6);
    // The source ports' gate: the span 22-2000 of the two rules.
    CHECK_THAT(ops[0], Catch::Contains("S_GE") && Catch::Contains("port=22"));
    CHECK_THAT(ops[1], Catch::Contains("S_LE") && Catch::Contains("port=2000"));
    size_t d_gate = 0, d_cond = 0;
    for (size_t i = 0; i < ops.size(); ++i) {
        if (!d_gate && ops[i].find("D_GE") != std::string::npos) d_gate = i;
        if (!d_cond && ops[i].find("D_COND") != std::string::npos) d_cond = i;
    }
    CHECK(d_gate > 1);
    CHECK(d_cond > d_gate);  // the rule without a port comes last
    // Outside both gates only the address rule is left to decide.
    CHECK_FALSE(model::run(prog, entry(rec("10.0.0.1", 40000, "10.0.0.2", 40001))));
    CHECK(model::run(prog, entry(rec("10.0.0.1", 40000, "192.0.2.9", 40001))));
    CHECK(model::run(prog, entry(rec("10.0.0.1", 1500, "10.0.0.2", 40001))));
    CHECK(model::run(prog, entry(rec("10.0.0.1", 40000, "10.0.0.2", 80))));
    CHECK_FALSE(model::run(prog, entry(rec("10.0.0.1", 500, "10.0.0.2", 81))));  // inside the gate, no rule
}

TEST_CASE("one rule's OR is that rule's own program: no gate for a group of one", "[rules][bytecode]") {
    std::mt19937 rng(5);
    for (int round = 0; round < 100; ++round) {
        const std::vector<Rule> one = {random_rule(rng)};
        for (const DumpScope& scope : scopes) {
            DumpScope mine;
            if (!rule_scope(one[0].sel, scope, mine)) continue;
            std::vector<uint8_t> ored;
            const size_t len = compile_rules(one, scope, ored);
            std::vector<uint8_t> own(filter_size_bound(one[0].sel));
            Result<size_t> r = compile_filter(one[0].sel, mine, own);
            REQUIRE(r.ok());
            INFO("round " << round);
            REQUIRE(len == *r);
            CHECK(std::equal(ored.begin(), ored.begin() + static_cast<long>(len), own.begin()));
        }
    }
}
