// Sockets without an owner (time-wait, syn-recv, orphans: inode 0, and
// uid 0 whoever made them) against the owner selectors and exclusions.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <string>
#include <vector>

#include "harness.hpp"

// Time-wait sockets have no owner (inode 0; the kernel says uid 0): an
// owner selector never selects them and an owner exclusion could not
// protect them, so with one they are passed over (-v says why).
TEST_CASE("owner selectors and exclusions never select a socket without an owner", "[owner][core]") {
    const int port = 7341;
    int l = it::listen_on(AF_INET, "127.0.0.1", port);
    it::Conn c = it::connect_pair(l, AF_INET, "127.0.0.1", port);
    close(c.client);  // the client closes first: its end goes to TIME_WAIT
    it::sleep_ms(50);
    close(c.server);
    it::sleep_ms(50);
    const std::vector<std::string> base = {"-n", "--state", "time-wait", "-d", std::to_string(port), "-v",
                                           "--disable_syslog"};
    it::RunResult all = it::run_tool(base);
    INFO(all.out << all.err);
    REQUIRE(all.status == 0);
    REQUIRE(it::count(all.out, "would_destroy") == 1);  // without an owner question: selected
    for (const std::vector<std::string>& extra :
         {std::vector<std::string>{"--uid", "0"}, {"--uid", "root"}, {"--exclude-comm", "nosuchprocess"},
          {"--exclude-uid", "1000"}}) {
        std::vector<std::string> args = base;
        args.insert(args.end(), extra.begin(), extra.end());
        it::RunResult r = it::run_tool(args);
        INFO(extra[0] << " " << extra[1] << "\n" << r.out << r.err);
        CHECK(r.status == 0);
        CHECK(it::count(r.out, "would_destroy") == 0);
        if (!it::proc_net()) CHECK(it::count(r.err, "selected=no (no owner)") == 1);
    }
    close(l);
}
