// --netns and --all-netns: tests/integration/netns.sh, run in private PID
// and mount namespaces of its own (see there), for this suite's mode.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "harness.hpp"

TEST_CASE("--netns and --all-netns kill exactly the matches in each namespace", "[netns]") {
    const char* tool = std::getenv("TCP_CLOSER");
    std::string cmd = std::string("unshare -p -f -m --mount-proc sh tests/integration/netns.sh ") +
                      (tool ? tool : "build/tcp_closer") + " build/conn_holder" +
                      (it::mode() == it::Mode::UseProc ? " --use_proc" : "") + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int st = pclose(p);
    INFO(out);
    CHECK(st == 0);
    CHECK(out.find("netns tests passed") != std::string::npos);
}
