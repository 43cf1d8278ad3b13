// Arming's values and what a socket gets given its owner's own choices.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "core/arm.hpp"

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
    const std::string shape = "not IDLE_MS,INTERVAL_MS,COUNT (three numbers)";
    const std::string secs = "keepalive timers are whole seconds, 1000-32767000 ms";
    const std::string count = "keepalive count is 1-127";
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
