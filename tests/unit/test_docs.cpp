// --help, the README and the man page must describe the same options.
// Runs from the repository root (make unit does).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "core/options.hpp"
#include "usage_text.hpp"

namespace {

std::string slurp(const char* path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// groff escapes dashes as "\-".
std::string unescape_man(std::string s) {
    for (size_t at; (at = s.find("\\-")) != std::string::npos;) s.erase(at, 1);
    return s;
}

}  // namespace

TEST_CASE("README and man page document every option of --help", "[docs]") {
    const std::string readme = slurp("README.md");
    const std::string man = unescape_man(slurp("scripts/tcp_closer.8"));
    REQUIRE_FALSE(readme.empty());
    REQUIRE_FALSE(man.empty());
    const std::string usage = tc_usage();
    for (const char* opt : {"--sport", "--dport", "--idle_time", "--last_recv_limit", "--interval", "--logfile",
                            "--verbose", "--use_proc", "--kill_owner", "--disable_syslog", "--help", "--version",
                            "--idle-time", "--last-recv-limit", "--use-proc", "--kill-owner", "--disable-syslog",
                            "--src", "--dst", "--state", "--dry-run", "--json", "--max-kills", "--dry_run",
                            "--max_kills", "--netns", "--all-netns", "--all_netns", "CAP_NET_ADMIN",
                            "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH", "CAP_KILL", "CAP_SYS_ADMIN", "SIGHUP",
                            "--uid", "--cgroup", "--mark", "--dev", "--pid", "--comm",
                            "/system.slice/nginx.service"}) {
        INFO(opt);
        CHECK(usage.find(opt) != std::string::npos);
        CHECK(readme.find(opt) != std::string::npos);
        CHECK(man.find(opt) != std::string::npos);
    }
    for (const char* text : {"make demo", "make test", "-s 22 -t 60000 -i 5"}) {
        INFO(text);
        CHECK(readme.find(text) != std::string::npos);
    }
    // The /proc path's build switch and log vocabulary, in both documents.
    for (const char* text : {"make NO_SOCK_DESTROY=1", "by=sock_destroy", "by=reset", "by=shutdown", "by=killed",
                             "no_owner", "ways to end a connection", "would_destroy", "skipped", "close-wait",
                             "time-wait", "tcp_closer -n -j --dst 10.0.0.0/8 -d 5432", "\"type\":\"summary\"",
                             "tcp_closer --all-netns -s 22 -t 600000 -i 10", "AmbientCapabilities=CAP_NET_ADMIN",
                             "logrotate", "/proc/net/tcp6", "ways to find connections", "MARK_COND",
                             "CGROUP_COND", "DEV_COND", "mark=0x10/0xf0", "/etc/passwd", "/proc/self/mountinfo",
                             "checked in user space only"}) {
        INFO(text);
        CHECK(readme.find(text) != std::string::npos);
        CHECK(man.find(text) != std::string::npos);
    }
    CHECK(man.find("tcp_closer -s 22 -t 60000 -i 5") != std::string::npos);
    // The version printed and the one in the man page header agree.
    CHECK(man.find(std::string("\"") + tc::kVersion + "\"") != std::string::npos);
}
