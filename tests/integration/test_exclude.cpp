// --exclude-* against live connections in every mode: exact counts of the
// connections ended and of those spared, for each kind of exclusion.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness.hpp"

using it::Conn;
using it::count;
using it::state_of;

namespace {

const std::string kNoSyslog = "--disable_syslog";

// The run's result: its summary says `ended` were matched and ended.
void expect_ended(const it::RunResult& r, int ended) {
    INFO("log: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find("poll: matched=" + std::to_string(ended) + " destroyed=" + std::to_string(ended) + " ") !=
          std::string::npos);
}

// A connection whose client end a process named `name` holds alone (the
// test closes its copy); the test keeps the server end. Returns the pid.
int hold_client_as(const Conn& c, const char* name, const std::vector<int>& drop) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_NAME, name);
        for (int fd : drop)
            if (fd != c.client) close(fd);
        while (true) pause();
    }
    close(c.client);
    return pid;
}

}  // namespace

TEST_CASE("--exclude-dport and --exclude-sport: the excluded ports survive, the rest of the selection ends",
          "[exclude][core]") {
    const int l1 = it::listen_on(AF_INET, "127.0.0.1", 7901);
    const int l2 = it::listen_on(AF_INET, "127.0.0.1", 7902);
    const int l3 = it::listen_on(AF_INET, "127.0.0.1", 7903);
    std::vector<Conn> c1 = {it::connect_pair(l1, AF_INET, "127.0.0.1", 7901),
                            it::connect_pair(l1, AF_INET, "127.0.0.1", 7901)};
    const Conn ssh = it::connect_pair(l2, AF_INET, "127.0.0.1", 7902);
    const Conn c3 = it::connect_pair(l3, AF_INET, "127.0.0.1", 7903);
    if (!it::proc_net()) {
        // -v shows the negation op by op: the port test, then the JMP that
        // swaps its exits; the kernel took the program (or it would not show).
        it::RunResult v = it::run_tool({"-n", "-v", "-d", "7901-7903", "--exclude-dport", "7902", kNoSyslog});
        INFO("verbose: " << v.err);
        CHECK(v.err.find("filter for ") != std::string::npos);
        CHECK(v.err.find("D_GE   yes=8   no=20") != std::string::npos);
        CHECK(v.err.find("    32: JMP    yes=4   no=24    (-> 56)") != std::string::npos);  // to the reject
        CHECK(v.err.find("poll (dry run): matched=3 ") != std::string::npos);
    }
    // The client ends to 7901-7903 but 7902's.
    expect_ended(it::run_tool({"-d", "7901-7903", "--exclude-dport", "7902", kNoSyslog}), 3);
    CHECK(state_of(ssh.client) == "alive");
    CHECK(state_of(ssh.server) == "alive");
    CHECK(state_of(c1[0].client) == it::killed());
    CHECK(state_of(c1[1].client) == it::killed());
    CHECK(state_of(c3.client) == it::killed());
    // The server ends: the same, by source port; a list excludes each value.
    const Conn a = it::connect_pair(l1, AF_INET, "127.0.0.1", 7901);
    const Conn b = it::connect_pair(l2, AF_INET, "127.0.0.1", 7902);
    const Conn c = it::connect_pair(l3, AF_INET, "127.0.0.1", 7903);
    // (The server ends of the three ended above were reset by their peers.)
    expect_ended(it::run_tool({"-s", "7901-7903", "--exclude-sport", "7902,7903", kNoSyslog}), 1);
    CHECK(state_of(a.server) == it::killed());
    CHECK(state_of(b.server) == "alive");
    CHECK(state_of(c.server) == "alive");
    it::close_all({c1[0], c1[1], ssh, c3, a, b, c});
    for (int fd : {l1, l2, l3}) close(fd);
}

TEST_CASE("--exclude-src and --exclude-dst: excluded addresses survive", "[exclude][core]") {
    const int l = it::listen_on(AF_INET, "127.0.0.1", 7904);
    const int l2 = it::listen_on(AF_INET, "127.0.0.2", 7904);
    const Conn from5 = it::connect_from(l, AF_INET, "127.0.0.5", "127.0.0.1", 7904);
    const Conn from6 = it::connect_from(l, AF_INET, "127.0.0.6", "127.0.0.1", 7904);
    const Conn to2 = it::connect_from(l2, AF_INET, "127.0.0.5", "127.0.0.2", 7904);
    // Client ends to 7904: from .5 to .1, from .6 to .1, from .5 to .2.
    it::RunResult dry = it::run_tool({"-n", "-d", "7904", "--exclude-src", "127.0.0.6", "--exclude-dst", "127.0.0.2/32",
                                      kNoSyslog});
    INFO("dry: " << dry.out << dry.err);
    CHECK(count(dry.out, "127.0.0.5:") == 1);
    expect_ended(it::run_tool({"-d", "7904", "--exclude-src", "127.0.0.6", "--exclude-dst", "127.0.0.2/32", kNoSyslog}),
                 1);
    CHECK(state_of(from5.client) == it::killed());
    CHECK(state_of(from6.client) == "alive");
    CHECK(state_of(to2.client) == "alive");
    // A prefix excludes all it covers.
    expect_ended(it::run_tool({"-d", "7904", "--exclude-src", "127.0.0.0/29", kNoSyslog}), 0);
    CHECK(state_of(from6.client) == "alive");
    it::close_all({from5, from6, to2});
    close(l);
    close(l2);
}

TEST_CASE("--exclude-uid: another user's sockets survive, by number or by name", "[exclude][core]") {
    const int l = it::listen_on(AF_INET, "127.0.0.1", 7906);
    const Conn root = it::connect_pair(l, AF_INET, "127.0.0.1", 7906);
    // A socket made as uid 65534 (the socket's owner is the creator's fsuid).
    REQUIRE(setresuid(0, 65534, 0) == 0);
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(setresuid(0, 0, 0) == 0);
    REQUIRE(fd >= 0);
    sockaddr_storage ss;
    const socklen_t len = it::make_addr(AF_INET, "127.0.0.1", 7906, ss);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    Conn nobody;
    nobody.client = fd;
    nobody.server = accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(nobody.server >= 0);
    it::RunResult dry = it::run_tool({"-n", "-d", "7906", "--exclude-uid", "65534", kNoSyslog});
    CHECK(dry.err.find("poll (dry run): matched=1 ") != std::string::npos);
    expect_ended(it::run_tool({"-d", "7906", "--exclude-uid", "nobody", kNoSyslog}), 1);
    CHECK(state_of(root.client) == it::killed());
    CHECK(state_of(nobody.client) == "alive");
    it::RunResult unknown = it::run_tool({"-d", "7906", "--exclude-uid", "no-such-user-here", kNoSyslog});
    CHECK(unknown.status == 2);
    CHECK(unknown.err.find("unknown user") != std::string::npos);
    CHECK(state_of(nobody.client) == "alive");
    it::close_all({root, nobody});
    close(l);
}

TEST_CASE("--exclude-comm: a connection a named process holds survives", "[exclude][core]") {
    const int l = it::listen_on(AF_INET, "127.0.0.1", 7907);
    const Conn mine = it::connect_pair(l, AF_INET, "127.0.0.1", 7907);
    const Conn theirs = it::connect_pair(l, AF_INET, "127.0.0.1", 7907);
    const int pid = hold_client_as(theirs, "tcx_keep", {l, mine.client, mine.server, theirs.server});
    expect_ended(it::run_tool({"-d", "7907", "--exclude-comm", "tcx_keep", kNoSyslog}), 1);
    CHECK(state_of(mine.client) == it::killed());
    CHECK(state_of(theirs.server) == "alive");  // its client was not ended (no RST, no reset)
    // Without the exclusion it goes too.
    expect_ended(it::run_tool({"-d", "7907", kNoSyslog}), 1);
    CHECK(state_of(theirs.server) != "alive");
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    close(mine.client);
    close(mine.server);
    close(theirs.server);
    close(l);
}
