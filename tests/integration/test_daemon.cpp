// The long-running mode: signals, a log that goes away, closed stdio,
// least privilege, and no growth over thousands of polls.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "checks.hpp"
#include "harness.hpp"

using it::Conn;
using it::count;
using it::expect;
using it::state_of;

namespace {

const std::string kNoSyslog = "--disable_syslog";

// Waits until the server end of `c` shows the tool's work.
bool wait_killed(const Conn& c, int ms = 5000) {
    for (int waited = 0; waited < ms; waited += 20) {
        if (state_of(c.server) == it::killed()) return true;
        it::sleep_ms(20);
    }
    return false;
}

// SIGTERM and how long the tool took to exit (ms), or -1.
long stop_ms(int pid) {
    auto t0 = std::chrono::steady_clock::now();
    kill(pid, SIGTERM);
    int st = it::wait_tool(pid, 3000);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    return st == 0 ? static_cast<long>(ms) : -1;
}

}  // namespace

TEST_CASE("SIGTERM ends a daemon promptly with exit 0, at -i 0.001 and at -i 5", "[daemon]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7501);
    auto conns = it::connect_n(5, l, AF_INET, "127.0.0.1", 7501);  // present, never selected
    it::TmpDir d("daemon");
    for (const char* interval : {"0.001", "5"}) {
        INFO("interval " << interval);
        int pid = it::spawn_tool({"-s", "7599", "-i", interval, kNoSyslog}, d / "out", d / "err");
        it::sleep_ms(300);
        REQUIRE(it::running(pid));
        long ms = stop_ms(pid);
        CHECK(ms >= 0);
        CHECK(ms < 1000);
        std::printf("SIGTERM at -i %s: exited 0 after %ld ms\n", interval, ms);
        CHECK(it::read_file(d / "err").find("stopping on signal") != std::string::npos);
    }
    expect(conns, "alive", "alive");
    it::close_all(conns);
    close(l);
}

TEST_CASE("SIGTERM ends a daemon whose polls take longer than its interval", "[daemon]") {
    // Found by a user: when every poll overran its slot, the wait between
    // polls (the only place stop signals were let in) was skipped, and only
    // SIGKILL ended the daemon. Here each poll logs 300 candidates (-v) that
    // -t then spares, which takes longer than the 1 ms interval.
    int l = it::listen_on(AF_INET, "127.0.0.1", 7502);
    auto conns = it::connect_n(300, l, AF_INET, "127.0.0.1", 7502);
    it::TmpDir d("daemon");
    int pid = it::spawn_tool({"-v", "-s", "7502", "-t", "100000000", "-i", "0.001", "-f", d / "log", kNoSyslog},
                             d / "out", d / "err");
    it::sleep_ms(300);
    REQUIRE(it::running(pid));
    long ms = stop_ms(pid);
    CHECK(ms >= 0);
    CHECK(ms < 1000);
    std::printf("SIGTERM with overrunning polls at -i 0.001: exited 0 after %ld ms\n", ms);
    expect(conns, "alive", "alive");
    it::close_all(conns);
    close(l);
}

TEST_CASE("SIGHUP reopens the log file after logrotate moved it", "[daemon]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7511);
    it::TmpDir d("daemon");
    const std::string log = d / "closer.log";
    int pid = it::spawn_tool({"-s", "7511", "-i", "0.05", "-f", log, kNoSyslog}, d / "out", d / "err");
    Conn first = it::connect_pair(l, AF_INET, "127.0.0.1", 7511);
    CHECK(wait_killed(first));
    it::sleep_ms(100);
    REQUIRE(std::rename(log.c_str(), (log + ".1").c_str()) == 0);
    kill(pid, SIGHUP);
    it::sleep_ms(200);
    Conn second = it::connect_pair(l, AF_INET, "127.0.0.1", 7511);
    CHECK(wait_killed(second));
    it::sleep_ms(100);
    CHECK(it::running(pid));  // SIGHUP did not end it
    CHECK(stop_ms(pid) >= 0);
    const std::string old_text = it::read_file(log + ".1"), new_text = it::read_file(log);
    INFO("old: " << old_text << "\nnew: " << new_text);
    CHECK(count(old_text, "destroyed 127.0.0.1:7511") == 1);
    CHECK(count(new_text, "destroyed 127.0.0.1:7511") == 1);
    CHECK(new_text.find("reopened the log file") != std::string::npos);
    CHECK(new_text.find("stopping on signal") != std::string::npos);
    it::close_all({first, second});
    close(l);
}

TEST_CASE("two SIGHUPs with a rename between them, within one interval, reopen the log twice", "[daemon]") {
    it::TmpDir d("daemon");
    const std::string log = d / "closer.log";
    // One poll at the start, then an hour's wait: both rotations fall into it.
    int pid = it::spawn_tool({"-s", "7512", "-i", "3600", "-f", log, kNoSyslog}, d / "out", d / "err");
    auto wait_for = [&](const std::string& path, const std::string& text) {
        for (int i = 0; i < 200; ++i) {
            if (it::read_file(path).find(text) != std::string::npos) return true;
            it::sleep_ms(10);
        }
        return false;
    };
    for (int i = 0; i < 200 && it::read_file(log).empty() && access(log.c_str(), F_OK) != 0; ++i) it::sleep_ms(10);
    it::sleep_ms(100);
    REQUIRE(std::rename(log.c_str(), (log + ".1").c_str()) == 0);
    kill(pid, SIGHUP);
    CHECK(wait_for(log, "reopened the log file"));
    REQUIRE(std::rename(log.c_str(), (log + ".2").c_str()) == 0);
    kill(pid, SIGHUP);
    CHECK(wait_for(log, "reopened the log file"));
    CHECK(it::running(pid));
    CHECK(stop_ms(pid) >= 0);
    const std::string first = it::read_file(log + ".1"), second = it::read_file(log + ".2"), third = it::read_file(log);
    INFO("first: " << first << "\nsecond: " << second << "\nthird: " << third);
    CHECK(count(first, "reopened the log file") == 0);
    CHECK(count(second, "reopened the log file") == 1);
    CHECK(count(third, "reopened the log file") == 1);
    CHECK(count(third, "stopping on signal") == 1);
    CHECK(count(second, "stopping on signal") == 0);
}

TEST_CASE("a log reader that goes away never ends the daemon (no SIGPIPE death)", "[daemon]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7521);
    int p[2];
    REQUIRE(pipe(p) == 0);
    int pid = it::spawn_tool_fds({"-s", "7521", "-i", "0.05", kNoSyslog}, -1, p[1]);
    close(p[1]);
    close(p[0]);  // the reader is gone: every log write now fails with EPIPE
    Conn c = it::connect_pair(l, AF_INET, "127.0.0.1", 7521);
    CHECK(wait_killed(c));  // it logs (and fails to) and goes on
    Conn c2 = it::connect_pair(l, AF_INET, "127.0.0.1", 7521);
    CHECK(wait_killed(c2));
    CHECK(it::running(pid));
    CHECK(stop_ms(pid) >= 0);  // exit 0, not 141
    it::close_all({c, c2});
    close(l);
}

TEST_CASE("a log that cannot be written is reported once through the other channel", "[daemon]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7525);
    it::TmpDir d("daemon");
    // A full file system (a tmpfs of the daemon's own mount namespace,
    // filled before it starts): the log opens and takes a zero-length
    // write, so start-up passes (/dev/full is refused then: test_paths),
    // and then every line fails with ENOSPC.
    REQUIRE(mkdir((d / "fs").c_str(), 0755) == 0);
    int pid = it::spawn_tool_on_full_tmpfs(d / "fs", {"-s", "7525", "-i", "0.05", "-f", d / "fs/log", kNoSyslog},
                                           d / "out", d / "err");
    Conn c = it::connect_pair(l, AF_INET, "127.0.0.1", 7525);
    CHECK(wait_killed(c));
    Conn c2 = it::connect_pair(l, AF_INET, "127.0.0.1", 7525);
    CHECK(wait_killed(c2));
    CHECK(stop_ms(pid) >= 0);
    const std::string err = it::read_file(d / "err");
    INFO("stderr: " << err);
    CHECK(count(err, "cannot write the log (No space left on device)") == 1);
    CHECK(count(err, "\n") == 1);
    it::close_all({c, c2});
    close(l);
}

TEST_CASE("started with stdout and stderr closed, no socket becomes fd 2", "[daemon]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7531);
    int pid = it::spawn_tool_fds({"-s", "7531", "-i", "0.05", kNoSyslog}, -1, -1);
    it::sleep_ms(200);
    char target[256] = {};
    std::string fd2 = "/proc/" + std::to_string(pid) + "/fd/2";
    ssize_t n = readlink(fd2.c_str(), target, sizeof target - 1);
    CHECK(n > 0);
    CHECK(std::string(target) == "/dev/null");
    Conn c = it::connect_pair(l, AF_INET, "127.0.0.1", 7531);
    CHECK(wait_killed(c));
    CHECK(stop_ms(pid) >= 0);
    it::close_all({c});
    close(l);
}

TEST_CASE("a daemon whose kernel stops answering TCP dumps (tcp_diag gone) goes on from /proc/net", "[daemon]") {
    // build/old_kernel answers every TCP dump after the first ones with
    // ENOENT, as a kernel whose tcp_diag module cannot be loaded does.
    if (it::mode() != it::Mode::SockDestroy) return;  // the switch leaves inet_diag: once is enough
    int l = it::listen_on(AF_INET, "127.0.0.1", 7551);
    it::TmpDir d("daemon");
    const std::string tool = it::tool_binary();
    SECTION("as root: from the switch on, connections are reset through /proc") {
        Conn first = it::connect_pair(l, AF_INET, "127.0.0.1", 7551);
        int pid = it::spawn_command(
            {"build/old_kernel", "--tcp-dumps-refused-after", "3", tool, "-s", "7551", "-i", "0.05", kNoSyslog},
            d / "out", d / "err");
        CHECK(wait_killed(first));  // by SOCK_DESTROY, before the switch
        it::sleep_ms(300);          // a few polls: the switch is behind us
        Conn second = it::connect_pair(l, AF_INET, "127.0.0.1", 7551);
        std::string fate;
        for (int i = 0; i < 250 && (fate = state_of(second.server)) == "alive"; ++i) it::sleep_ms(20);
        CHECK(fate == "reset");
        CHECK(stop_ms(pid) >= 0);
        const std::string log = it::read_file(d / "err");
        INFO(log);
        CHECK(count(log, "inet_diag refused every TCP dump (no tcp_diag module)") == 1);
        CHECK(count(log, "by=sock_destroy") == 1);
        CHECK(count(log, "by=reset") == 1);
        it::close_all({first, second});
    }
    SECTION("holding only CAP_NET_ADMIN: the switch names what the /proc path needs, and the daemon stops") {
        Conn c = it::connect_pair(l, AF_INET, "127.0.0.1", 7551);
        int pid = it::spawn_command({"build/old_kernel", "--tcp-dumps-refused-after", "1", "setpriv", "--reuid=65534",
                                     "--regid=65534", "--clear-groups", "--inh-caps=+net_admin",
                                     "--ambient-caps=+net_admin", tool, "-s", "7551", "-i", "0.05", kNoSyslog},
                                    d / "out", d / "err");
        const int status = it::wait_tool(pid, 5000);
        const std::string log = it::read_file(d / "err");
        INFO(log);
        CHECK(status == 1);
        CHECK(count(log, "inet_diag refused every TCP dump") == 1);
        CHECK(count(log, "error: missing capability CAP_SYS_PTRACE, needed to reach other processes' sockets") == 1);
        // The first poll, before the switch, ended it with SOCK_DESTROY: mid-run.
        CHECK(count(log, "by=sock_destroy") == 1);
        it::expect({c}, it::killed(), "reset");
        it::close_all({c});
    }
    close(l);
}

TEST_CASE("least privilege: only the capabilities the path needs", "[daemon]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7541);
    Conn c = it::connect_pair(l, AF_INET, "127.0.0.1", 7541);
    const std::string caps = it::proc_path() ? "sys_ptrace,dac_read_search,kill" : "net_admin";
    it::RunResult none = it::run_tool_with_caps("", {"-s", "7541", kNoSyslog});
    INFO("without: " << none.err);
    CHECK(none.status == 1);
    CHECK(none.err.find(it::proc_path() ? "missing capability CAP_SYS_PTRACE" : "missing capability CAP_NET_ADMIN") !=
          std::string::npos);
    CHECK(count(none.err, "\n") == 1);
    expect({c}, "alive", "alive");

    it::RunResult r = it::run_tool_with_caps(caps, {"-s", "7541", kNoSyslog});
    INFO("with " << caps << ": " << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find(it::summary(1, 1)) != std::string::npos);
    expect({c}, it::killed(), "reset");
    it::close_all({c});
    close(l);
}

TEST_CASE("no growth: descriptors and memory stay flat over thousands of polls", "[daemon]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7551);
    auto conns = it::connect_n(50, l, AF_INET, "127.0.0.1", 7551);  // dumped every poll, never selected
    it::TmpDir d("daemon");
    int pid = it::spawn_tool({"-d", "7551", "--src", "127.0.0.9", "-i", "0.001", "-f", d / "log", kNoSyslog},
                             d / "out", d / "err");
    it::sleep_ms(500);
    const long rss0 = it::rss_kb(pid);
    const int fds0 = it::fd_count(pid);
    it::sleep_ms(4000);
    const long rss1 = it::rss_kb(pid);
    const int fds1 = it::fd_count(pid);
    std::printf("no-growth run: fds %d -> %d, RSS %ld kB -> %ld kB over ~4 s at -i 0.001\n", fds0, fds1, rss0, rss1);
    CHECK(fds0 > 0);
    CHECK(fds1 == fds0);
    CHECK(rss1 - rss0 < 512);  // a generous bound: a leak per poll would pass it within seconds
    CHECK(stop_ms(pid) >= 0);
    CHECK(it::read_file(d / "log").find("poll:") == std::string::npos);  // quiet: nothing matched
    it::close_all(conns);
    close(l);
}
