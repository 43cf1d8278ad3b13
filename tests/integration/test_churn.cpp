// Churn: while several processes open and close thousands of connections a
// second on matching and other ports (tests/tools/churn.cpp), a daemon
// polling every 10 ms must never touch a listener or another port's
// connection, never exit or grow, and end every matching connection that
// lives long enough (300 ms: many polls). CHURN_SECS sets the length
// (make test: 5; make churn: 30).
#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "checks.hpp"
#include "harness.hpp"

namespace {

long field(const std::string& line, const std::string& name) {
    size_t at = line.find(" " + name + "=");
    if (at == std::string::npos) return -1;
    return std::strtol(line.c_str() + at + name.size() + 2, nullptr, 10);
}

}  // namespace

TEST_CASE("churn: a 10 ms daemon ends only what it selects, and stays the same size", "[churn]") {
    const char* secs_env = std::getenv("CHURN_SECS");
    const int secs = secs_env ? std::atoi(secs_env) : 5;
    const char* churn_env = std::getenv("CHURN");
    const std::string churn = churn_env ? churn_env : "build/churn";
    REQUIRE(access(churn.c_str(), X_OK) == 0);
    constexpr int kWorkers = 4;

    char dir[] = "/tmp/tcp_closer_churn.XXXXXX";
    REQUIRE(mkdtemp(dir));
    const std::string log = std::string(dir) + "/log";
    int tool = it::spawn_tool({"-s", "7600-7603", "-i", "0.01", "--disable_syslog", "-f", log},
                              std::string(dir) + "/out", std::string(dir) + "/err");
    it::sleep_ms(200);
    const std::string report = std::string(dir) + "/report";
    const std::string cmd = churn + " " + std::to_string(kWorkers) + " " + std::to_string(secs) +
                            " 7600 7700 300 > " + report;
    // The size once it has run for a while, and at the end.
    int runner = fork();
    REQUIRE(runner >= 0);
    if (runner == 0) _exit(std::system(cmd.c_str()) == 0 ? 0 : 1);
    it::sleep_ms(secs * 1000 / 3);
    const long rss_early = it::rss_kb(tool);
    int status = 0;
    REQUIRE(waitpid(runner, &status, 0) == runner);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    const long rss_late = it::rss_kb(tool);
    CHECK(it::running(tool));
    kill(tool, SIGTERM);
    CHECK(it::wait_tool(tool, 3000) == 0);

    const std::string text = it::read_file(report);
    INFO("churn report:\n" << text);
    INFO("tcp_closer RSS " << rss_early << " kB after a third of the run, " << rss_late << " kB at the end");
    CHECK(rss_early > 0);
    CHECK(rss_late <= rss_early + 64);
    long opened = 0, killed = 0;
    int workers = 0;
    size_t pos = 0;
    while ((pos = text.find("worker ", pos)) != std::string::npos) {
        const std::string line = text.substr(pos, text.find('\n', pos) - pos);
        ++workers;
        opened += field(line, "opened");
        killed += field(line, "match_killed");
        CHECK(field(line, "other_died") == 0);
        CHECK(field(line, "long_survivors") == 0);
        CHECK(field(line, "listeners_ok") == 1);
        pos += line.size();
    }
    CHECK(workers == kWorkers);
    WARN("churn " << secs << " s: " << opened << " connections opened, " << killed << " matching ones ended; tcp_closer RSS "
                  << rss_early << " -> " << rss_late << " kB");
    CHECK(opened >= 1000L * secs);  // thousands a second
    CHECK(killed > 0);
    const std::string tool_log = it::read_file(log);
    CHECK(it::count(tool_log, "poll:") > 0);
    CHECK(it::count(tool_log, "poll:") == it::count(tool_log, " failed=0"));
    CHECK(it::count(tool_log, "127.0.0.1:77") == 0);  // no line about another port's connection
    CHECK(std::system((std::string("rm -rf ") + dir).c_str()) == 0);
}
