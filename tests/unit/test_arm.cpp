// Arming's values and what a socket gets given its owner's own choices.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "core/arm.hpp"
#include "parse_helpers.hpp"

using namespace tc;

TEST_CASE("--arm-user-timeout: 1 to the kernel's int", "[arm]") {
    ArmSpec s;
    CHECK(parse_user_timeout("2000", s) == nullptr);
    CHECK(s.user_timeout_ms == 2000);
    CHECK(parse_user_timeout("1", s) == nullptr);
    CHECK(parse_user_timeout("2147483647", s) == nullptr);
    CHECK(s.user_timeout_ms == 2147483647u);
    for (const char* bad : {"0", "2147483648", "", "-1", "1.5", "2s", "4294967296"}) {
        INFO(bad);
        ArmSpec t;
        CHECK(std::string(parse_user_timeout(bad, t)) == "not a number of milliseconds (1-2147483647)");
        CHECK(t.user_timeout_ms == 0);
    }
}

TEST_CASE("--arm-keepalive: whole seconds in ms, and a count", "[arm]") {
    ArmSpec s;
    REQUIRE(parse_keepalive("60000,10000,3", s) == nullptr);
    CHECK(s.keep_idle_s == 60);
    CHECK(s.keep_intvl_s == 10);
    CHECK(s.keep_count == 3);
    REQUIRE(parse_keepalive("1000,32767000,127", s) == nullptr);
    CHECK(s.keep_idle_s == 1);
    CHECK(s.keep_intvl_s == 32767);
    CHECK(s.keep_count == 127);
    // One message for every way it can be wrong.
    const std::string shape = "not IDLE_MS,INTERVAL_MS,COUNT: timers of whole seconds, 1000-32767000 ms; a count of 1-127";
    const std::string& secs = shape;
    const std::string& count = shape;
    const std::pair<const char*, std::string> bad[] = {
        {"", shape},          {"60000", shape},         {"60000,10000", shape}, {"60000,10000,3,4", shape},
        {"60000,,3", shape},  {"60000,10000,", shape},  {",10000,3", shape},    {"60000,10000,x", shape},
        {"1500,1000,3", secs}, {"1000,1500,3", secs},   {"0,1000,3", secs},     {"1000,0,3", secs},
        {"32768000,1000,3", secs}, {"1000,32768000,3", secs}, {"999,1000,3", secs},
        {"1000,1000,0", count}, {"1000,1000,128", count},
    };
    for (const auto& [text, why] : bad) {
        INFO(text);
        ArmSpec t;
        const char* err = parse_keepalive(text, t);
        REQUIRE(err != nullptr);
        CHECK(err == why);
        CHECK(t.keep_idle_s == 0);  // nothing taken from a refused value
        CHECK_FALSE(t.any());
    }
}

TEST_CASE("arming on the command line and in a rule: the values, and what it refuses", "[arm][options]") {
    tc::Options o = ok({"-d", "5432", "--arm-user-timeout", "2000"});
    CHECK(o.sel.arm.user_timeout_ms == 2000);
    CHECK(o.sel.arm.keep_idle_s == 0);
    o = ok({"-d", "5432", "--arm-keepalive=60000,10000,3", "--arm-user-timeout=1"});
    CHECK(o.sel.arm.user_timeout_ms == 1);
    CHECK(o.sel.arm.keep_idle_s == 60);
    CHECK(o.sel.arm.keep_intvl_s == 10);
    CHECK(o.sel.arm.keep_count == 3);
    // Time-wait sockets have no connection to arm: --state all leaves them out.
    o = ok({"-d", "5432", "--state", "all", "--arm-user-timeout", "2000"});
    CHECK((o.sel.states & tc::kTimeWait) == 0);
    CHECK((o.sel.states & 2u) != 0);  // established stays
    CHECK((ok({"-d", "5432", "--state", "all"}).sel.states & tc::kTimeWait) != 0);
    CHECK_FALSE(ok({"-d", "5432"}).sel.arm.any());

    struct Refused {
        std::initializer_list<const char*> args;
        const char* message;
    };
    const Refused refused[] = {
        {{"-d", "1", "--arm-user-timeout", "0"}, "not a number of milliseconds (1-2147483647)"},
        {{"-d", "1", "--arm-user-timeout", "2147483648"}, "not a number of milliseconds (1-2147483647)"},
        {{"-d", "1", "--arm-keepalive", "1500,1000,2"}, "not IDLE_MS,INTERVAL_MS,COUNT: timers of whole seconds, 1000-32767000 ms; a count of 1-127"},
        {{"-d", "1", "--arm-keepalive", "1000,1000"}, "not IDLE_MS,INTERVAL_MS,COUNT: timers of whole seconds, 1000-32767000 ms; a count of 1-127"},
        {{"-d", "1", "--arm-keepalive", "1000,1000,128"}, "not IDLE_MS,INTERVAL_MS,COUNT: timers of whole seconds, 1000-32767000 ms; a count of 1-127"},
        {{"-d", "1", "--arm-user-timeout", "1", "--arm-user-timeout", "2"}, "option given twice (it holds one value)"},
        {{"-u", "-d", "1", "--arm-user-timeout", "2000"}, "--arm-* arms TCP connections only: -u cannot be armed"},
        {{"--tcp", "-u", "-d", "1", "--arm-keepalive", "1000,1000,1"},
         "--arm-* arms TCP connections only: -u cannot be armed"},
        {{"--kill_owner", "-d", "1", "--arm-user-timeout", "2000"},
         "--arm-* ends nothing, so --kill_owner has nothing to do"},
        {{"--state", "time-wait", "-d", "1", "--arm-user-timeout", "2000"},
         "--state selects nothing to arm: time-wait sockets never are"},
        {{"--rules", "f", "--arm-user-timeout", "2000"},
         "a rule's option beside --rules: put it in a rule of the file"},
        // Arming selects as ending does: it is no selector.
        {{"--arm-user-timeout", "2000"}, "at least one port, address, owner, --src-removed or --stalled to select by is required"},
    };
    for (const Refused& r : refused) {
        const tc::ParseResult p = parse(r.args);
        INFO(*(r.args.begin() + (r.args.size() - 1)));
        CHECK_FALSE(p.ok);
        CHECK(std::string(p.message) == r.message);
    }
    // A rule may arm: the rules parser takes the words a rule's options may hold.
    const char* words[] = {"x", "-d", "5432", "--arm-user-timeout", "3000"};
    tc::Options rule;
    std::string_view bad;
    CHECK(tc::parse_rule_words(5, words, rule, bad) == nullptr);
    CHECK(rule.sel.arm.user_timeout_ms == 3000);
}
