// TCP state names: --state's parser and the names the log and JSON print,
// from one table.
#include <catch2/catch.hpp>

#include <string>

#include "core/tcp_state.hpp"

using namespace tc;

TEST_CASE("states: ss names, all, and what is refused", "[tcp_state]") {
    uint32_t m = 0;
    REQUIRE(parse_states("established", m).ok());
    CHECK(m == 1u << 1);
    REQUIRE(parse_states("close-wait,time-wait", m).ok());
    CHECK(m == (1u << 8 | 1u << 6));
    REQUIRE(parse_states("syn-recv", m).ok());
    CHECK(m == (1u << 3 | 1u << 12));  // request sockets are dumped under NEW_SYN_RECV
    REQUIRE(parse_states("all", m).ok());
    CHECK(m == (1u << 1 | 1u << 2 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 8 | 1u << 9 | 1u << 11 | 1u << 12));
    CHECK_FALSE(m & (1u << 10));  // never LISTEN
    CHECK_FALSE(m & (1u << 7));   // nor CLOSE
    for (const char* bad : {"", "bogus", "listening", "listen", "established,", ",established", "ESTABLISHED",
                            "established,,closing", "closed"}) {
        INFO("'" << bad << "'");
        uint32_t keep = 42;
        CHECK_FALSE(parse_states(bad, keep).ok());
        CHECK(keep == 42);
    }
}

TEST_CASE("states: each state's names, and every name --state takes selects its own state", "[tcp_state]") {
    CHECK(std::string(tcp_state_log_name(1)) == "ESTABLISHED");
    CHECK(std::string(tcp_state_name(1)) == "established");
    CHECK(std::string(tcp_state_log_name(6)) == "TIME_WAIT");
    CHECK(std::string(tcp_state_name(6)) == "time-wait");
    CHECK(std::string(tcp_state_log_name(4)) == "FIN_WAIT1");
    CHECK(std::string(tcp_state_name(4)) == "fin-wait-1");
    CHECK(std::string(tcp_state_log_name(10)) == "LISTEN");
    CHECK(std::string(tcp_state_name(12)) == "syn-recv");
    CHECK(std::string(tcp_state_log_name(12)) == "NEW_SYN_RECV");
    CHECK(std::string(tcp_state_name(13)) == "bound-inactive");
    for (uint8_t bad : {uint8_t{14}, uint8_t{200}, uint8_t{255}}) {
        CHECK(std::string(tcp_state_log_name(bad)) == "UNKNOWN");
        CHECK(std::string(tcp_state_name(bad)) == "unknown");
    }
    uint32_t all = 0;
    REQUIRE(parse_states("all", all).ok());
    for (uint8_t s = 0; s < 14; ++s) {
        INFO("state " << int(s) << " " << tcp_state_name(s));
        uint32_t m = 0;
        if (all & (1u << s)) {
            REQUIRE(parse_states(tcp_state_name(s), m).ok());
            CHECK((m & (1u << s)) != 0);
        } else {
            CHECK_FALSE(parse_states(tcp_state_name(s), m).ok());
        }
    }
}
