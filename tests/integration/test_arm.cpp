// Arming (--arm-user-timeout, --arm-keepalive): the options set in the
// holder's own socket through a duplicate, and the kernel then ends a dead
// connection by itself, with the error its owner expects (ETIMEDOUT).
// Dead peers: a second network namespace behind a veth pair whose far end
// goes down (peer.hpp). tcp_closer itself ends nothing.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <string>

#include "checks.hpp"
#include "harness.hpp"
#include "peer.hpp"

using it::Conn;
using it::count;
using it::state_of;

namespace {

const std::string kNoSyslog = "--disable_syslog";

using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point t) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

// Waits up to `ms` for `fd` to fail; then what its owner's recv() says
// ("Connection timed out"), or "alive" if it did not fail in time.
std::string wait_failure(int fd, long ms) {
    pollfd p{fd, 0, 0};  // POLLERR and POLLHUP are always reported
    if (ms <= 0 || poll(&p, 1, static_cast<int>(ms)) <= 0) return "alive";
    char b;
    const ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);
    if (n >= 0) return n ? "data" : "eof";
    return std::strerror(errno);
}

int int_opt(int fd, int level, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    REQUIRE(getsockopt(fd, level, name, &v, &len) == 0);
    return v;
}

}  // namespace

TEST_CASE("--arm-user-timeout: a sender whose peer vanished with data in flight gets ETIMEDOUT by itself", "[arm]") {
    it::Peer peer("tca", "10.79.0");
    const int far = peer.listen_there(7961);
    const Conn armed = it::connect_pair(far, AF_INET, "10.79.0.2", 7961, 41061);
    const Conn spared = it::connect_pair(far, AF_INET, "10.79.0.2", 7961, 41062);
    peer.link_down();
    const Clock::time_point first_send = Clock::now();
    it::send_bytes(armed.client, 1000);  // never acknowledged: retransmitted into the void
    it::send_bytes(spared.client, 1000);
    it::sleep_ms(300);  // the retransmit timer has backed off once
    it::RunResult r = it::run_tool({"-s", "41061", "--arm-user-timeout", "2000", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(count(r.err, "armed 10.79.0.1:41061 -> 10.79.0.2:7961 ") == 1);
    CHECK(count(r.err, " user_timeout_ms=2000") == 1);
    CHECK(count(r.err, " by=pidfd_getfd") == 1);
    CHECK(count(r.err, "poll: matched=1 destroyed=0 ") == 1);
    CHECK(count(r.err, " armed=1 kept=0") == 1);
    CHECK(int_opt(armed.client, IPPROTO_TCP, TCP_USER_TIMEOUT) == 2000);
    // The kernel counts the user timeout from the first unacknowledged send.
    CHECK(wait_failure(armed.client, 7000 - ms_since(first_send)) == std::strerror(ETIMEDOUT));
    INFO("failed after " << ms_since(first_send) << " ms");
    CHECK(ms_since(first_send) < 7000);
    // Not armed: still retransmitting, as it would for some 15 minutes.
    CHECK(int_opt(spared.client, IPPROTO_TCP, TCP_USER_TIMEOUT) == 0);
    CHECK(state_of(spared.client) == "alive");
    it::close_all({armed, spared});
    close(far);
}

TEST_CASE("--arm-keepalive: an idle connection whose peer vanished gets ETIMEDOUT by itself", "[arm]") {
    it::Peer peer("tck", "10.80.0");
    const int far = peer.listen_there(7962);
    const Conn idle = it::connect_pair(far, AF_INET, "10.80.0.2", 7962, 41063);
    const Conn spared = it::connect_pair(far, AF_INET, "10.80.0.2", 7962, 41064);
    it::send_bytes(idle.server, 10);  // data both ways, all acknowledged
    it::send_bytes(idle.client, 10);
    it::sleep_ms(100);
    it::drain(idle.client);
    peer.link_down();
    const Clock::time_point run = Clock::now();
    it::RunResult r = it::run_tool({"-s", "41063", "--arm-keepalive", "1000,1000,2", "-j", kNoSyslog});
    INFO("stderr: " << r.err << "\nstdout: " << r.out);
    CHECK(r.status == 0);
    CHECK(count(r.err, " keepalive_s=1,1,2") == 1);
    CHECK(count(r.out, "\"outcome\":\"armed\"") == 1);
    CHECK(count(r.out, "\"keepalive_s\":[1,1,2]") == 1);
    CHECK(count(r.out, "\"armed\":1,\"kept\":0") == 1);
    CHECK(int_opt(idle.client, SOL_SOCKET, SO_KEEPALIVE) == 1);
    CHECK(int_opt(idle.client, IPPROTO_TCP, TCP_KEEPCNT) == 2);
    CHECK(wait_failure(idle.client, 8000 - ms_since(run)) == std::strerror(ETIMEDOUT));
    INFO("failed after " << ms_since(run) << " ms");
    CHECK(ms_since(run) < 8000);
    CHECK(int_opt(spared.client, SOL_SOCKET, SO_KEEPALIVE) == 0);
    CHECK(state_of(spared.client) == "alive");
    it::close_all({idle, spared});
    close(far);
}

TEST_CASE("arming: a busy live connection armed with both stays up; a dry run sets nothing", "[arm]") {
    const int l = it::listen_on(AF_INET, "127.0.0.1", 7963);
    const Conn busy = it::connect_pair(l, AF_INET, "127.0.0.1", 7963, 41065);
    it::RunResult dry = it::run_tool({"-n", "-s", "41065", "--arm-user-timeout", "1000", "--arm-keepalive",
                                      "1000,1000,1", kNoSyslog});
    INFO("dry: " << dry.out << dry.err);
    CHECK(dry.status == 0);
    CHECK(count(dry.out, "would_arm 127.0.0.1:41065 ") == 1);
    CHECK(count(dry.err, "poll (dry run): matched=1 would_destroy=0 skipped=0 would_arm=1") == 1);
    CHECK(int_opt(busy.client, IPPROTO_TCP, TCP_USER_TIMEOUT) == 0);
    CHECK(int_opt(busy.client, SOL_SOCKET, SO_KEEPALIVE) == 0);
    it::RunResult r = it::run_tool(
        {"-s", "41065", "--arm-user-timeout", "1000", "--arm-keepalive", "1000,1000,1", kNoSyslog});
    INFO("run: " << r.err);
    CHECK(count(r.err, "armed 127.0.0.1:41065 ") == 1);
    for (int i = 0; i < 30; ++i) {  // 3 s: three user timeouts, three keepalive rounds
        it::send_bytes(busy.client, 100);
        it::send_bytes(busy.server, 100);
        it::sleep_ms(100);
        it::drain(busy.client);
        it::drain(busy.server);
    }
    CHECK(state_of(busy.client) == "alive");
    CHECK(state_of(busy.server) == "alive");
    it::close_all({busy});
    close(l);
}

TEST_CASE("arming: the holder's own user timeout and keepalive stand; a second run reports them kept", "[arm]") {
    const int l = it::listen_on(AF_INET, "127.0.0.1", 7964);
    const Conn own = it::connect_pair(l, AF_INET, "127.0.0.1", 7964, 41066);
    const int mine = 30000;
    REQUIRE(setsockopt(own.client, IPPROTO_TCP, TCP_USER_TIMEOUT, &mine, sizeof mine) == 0);
    const std::vector<std::string> args = {"-s", "41066", "--arm-user-timeout", "2000", "--arm-keepalive",
                                           "60000,10000,3", "-j", kNoSyslog};
    it::RunResult r = it::run_tool(args);
    INFO("stderr: " << r.err << "\nstdout: " << r.out);
    CHECK(count(r.err, "armed 127.0.0.1:41066 ") == 1);
    CHECK(count(r.err, " keepalive_s=60,10,3 kept=user_timeout") == 1);
    CHECK(count(r.err, "user_timeout_ms=") == 0);
    CHECK(count(r.out, "\"kept\":\"user_timeout\"") == 1);
    CHECK(int_opt(own.client, IPPROTO_TCP, TCP_USER_TIMEOUT) == 30000);  // the holder's, read back
    CHECK(int_opt(own.client, SOL_SOCKET, SO_KEEPALIVE) == 1);
    CHECK(int_opt(own.client, IPPROTO_TCP, TCP_KEEPIDLE) == 60);
    CHECK(int_opt(own.client, IPPROTO_TCP, TCP_KEEPINTVL) == 10);
    // A second one-shot run cannot tell its own values from the holder's.
    r = it::run_tool(args);
    CHECK(count(r.err, "kept 127.0.0.1:41066 ") == 1);
    CHECK(count(r.err, " kept=user_timeout,keepalive") == 1);
    CHECK(count(r.err, " armed=0 kept=1") == 1);
    CHECK(count(r.out, "\"outcome\":\"kept\"") == 1);
    CHECK(state_of(own.client) == "alive");
    it::close_all({own});
    close(l);
}

TEST_CASE("arming: a daemon arms a connection once, and a new one when it comes", "[arm]") {
    const int l = it::listen_on(AF_INET, "127.0.0.1", 7965);
    const Conn first = it::connect_pair(l, AF_INET, "127.0.0.1", 7965);
    it::TmpDir dir("arm");
    const std::string log = dir / "log", metrics = dir / "metrics";
    const int pid = it::spawn_tool({"-d", "7965", "--arm-user-timeout", "5000", "-i", "0.05", "-f", log, "--metrics",
                                    metrics, kNoSyslog},
                                   dir / "out", dir / "err");
    REQUIRE(it::wait_text(log, "armed 127.0.0.1:"));
    it::sleep_ms(300);  // several polls
    CHECK(count(it::read_file(log), "armed 127.0.0.1:") == 1);
    const Conn second = it::connect_pair(l, AF_INET, "127.0.0.1", 7965);
    REQUIRE(it::wait_text(log, "armed 127.0.0.1:", 2));
    it::sleep_ms(300);
    kill(pid, SIGTERM);
    CHECK(it::wait_tool(pid, 5000) == 0);
    const std::string text = it::read_file(log);
    INFO(text);
    CHECK(count(text, "armed 127.0.0.1:") == 2);
    CHECK(count(text, "destroyed=1") == 0);
    const std::string m = it::read_file(metrics);
    INFO(m);
    CHECK(count(m, "tcp_closer_connections_armed_total 2\n") == 1);
    CHECK(count(m, "tcp_closer_connections_kept_total 0\n") == 1);
    for (const Conn& c : {first, second}) {
        CHECK(int_opt(c.client, IPPROTO_TCP, TCP_USER_TIMEOUT) == 5000);
        CHECK(state_of(c.client) == "alive");
    }
    it::close_all({first, second});
    close(l);
}

TEST_CASE("arming: a rules file arms one port's connections and ends another's", "[arm][rules]") {
    const int a = it::listen_on(AF_INET, "127.0.0.1", 7966);
    const int b = it::listen_on(AF_INET, "127.0.0.1", 7967);
    const Conn to_arm = it::connect_pair(a, AF_INET, "127.0.0.1", 7966);
    const Conn to_end = it::connect_pair(b, AF_INET, "127.0.0.1", 7967);
    it::TmpDir dir("arm");
    {
        std::ofstream f(dir / "rules");
        f << "db:  -d 7966 --arm-user-timeout 4000 --arm-keepalive 30000,5000,4\nold: -d 7967\n";
    }
    it::RunResult r = it::run_tool({"--rules", dir / "rules", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(count(r.err, "rule=db") == 1);
    CHECK(count(r.err, "rule=old") == 1);
    CHECK(count(r.err, " armed=1 kept=0") == 1);
    CHECK(int_opt(to_arm.client, IPPROTO_TCP, TCP_USER_TIMEOUT) == 4000);
    CHECK(int_opt(to_arm.client, IPPROTO_TCP, TCP_KEEPCNT) == 4);
    CHECK(state_of(to_arm.client) == "alive");
    CHECK(state_of(to_end.client) == it::killed());
    it::close_all({to_arm, to_end});
    close(a);
    close(b);
}

TEST_CASE("arming on a kernel without pidfd_getfd: nothing armed, nothing ended, and it says why", "[arm]") {
    const int l = it::listen_on(AF_INET, "127.0.0.1", 7968);
    const Conn c = it::connect_pair(l, AF_INET, "127.0.0.1", 7968);
    it::RunResult r = it::run_tool_wrapped({"build/old_kernel", "--no-pidfd-getfd"},
                                           {"-d", "7968", "--arm-user-timeout", "2000", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 1);
    CHECK(count(r.err, "failed 127.0.0.1:") == 1);
    CHECK(count(r.err, "could not be ended or armed: Function not implemented (arming needs pidfd_getfd: Linux 5.6 "
                       "or later)") == 1);
    CHECK(int_opt(c.client, IPPROTO_TCP, TCP_USER_TIMEOUT) == 0);
    CHECK(state_of(c.client) == "alive");
    CHECK(state_of(c.server) == "alive");
    it::close_all({c});
    close(l);
}
