// --stalled and --send_idle against real tcp_info. A dead peer: a second
// network namespace joined to the suite's by a veth pair; data flows, then
// the peer's link goes down and the sender keeps writing into the void.
// The survivors: an idle connection (everything acknowledged), a busy one
// and the listeners, on lo.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "harness.hpp"

using it::Conn;
using it::state_of;

namespace {

const std::string kNoSyslog = "--disable_syslog";

void sh(const std::string& cmd) { REQUIRE(std::system(cmd.c_str()) == 0); }

// A network namespace of its own, held by a child that only waits; joined
// to ours by veth tcs0 (10.77.0.1, ours) and tcs1 (10.77.0.2, its).
struct Peer {
    pid_t pid = -1;
    int ns = -1;    // its namespace
    int home = -1;  // ours
    Peer() {
        int ready[2];
        REQUIRE(pipe(ready) == 0);
        pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            if (unshare(CLONE_NEWNET) != 0) _exit(1);
            (void)!write(ready[1], "x", 1);
            while (true) pause();
        }
        char c;
        REQUIRE(read(ready[0], &c, 1) == 1);
        close(ready[0]);
        close(ready[1]);
        const std::string p = std::to_string(pid);
        home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        ns = open(("/proc/" + p + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(home >= 0);
        REQUIRE(ns >= 0);
        sh("ip link add tcs0 type veth peer name tcs1 netns " + p);
        sh("ip addr add 10.77.0.1/24 dev tcs0 && ip link set tcs0 up");
        sh("nsenter -t " + p + " -n sh -c 'ip link set lo up && ip addr add 10.77.0.2/24 dev tcs1 && ip link set tcs1 up'");
    }
    // A listener made inside the peer's namespace (it stays there).
    int listen_there(int port) {
        REQUIRE(setns(ns, CLONE_NEWNET) == 0);
        const int l = it::listen_on(AF_INET, "10.77.0.2", port);
        REQUIRE(setns(home, CLONE_NEWNET) == 0);
        return l;
    }
    void link_down() { sh("nsenter -t " + std::to_string(pid) + " -n ip link set tcs1 down"); }
    ~Peer() {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        close(ns);
        close(home);
        std::system("ip link del tcs0 2>/dev/null");
    }
};

void send_bytes(int fd, size_t n) {
    std::string data(n, 'x');
    REQUIRE(send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL) > 0);
}

void drain(int fd) {
    char buf[65536];
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
}

}  // namespace

TEST_CASE("--stalled ends a sender whose peer is gone; idle, busy and listening sockets stay", "[stalled]") {
    Peer peer;
    const int far = peer.listen_there(7951);
    const Conn dead = it::connect_pair(far, AF_INET, "10.77.0.2", 7951);
    send_bytes(dead.client, 1000);  // acknowledged while the link is up
    it::sleep_ms(100);
    drain(dead.server);
    const int l = it::listen_on(AF_INET, "127.0.0.1", 7952);
    const Conn idle = it::connect_pair(l, AF_INET, "127.0.0.1", 7952);
    const Conn busy = it::connect_pair(l, AF_INET, "127.0.0.1", 7952);
    peer.link_down();
    send_bytes(dead.client, 1000);  // never acknowledged: retransmitted into the void
    for (int i = 0; i < 25; ++i) {  // 2.5 s of traffic on the busy one
        send_bytes(busy.client, 100);
        it::sleep_ms(100);
        drain(busy.server);
    }
    it::RunResult dry = it::run_tool({"-n", "--stalled", "2000", "-v", kNoSyslog});
    INFO("dry: " << dry.out << dry.err);
    CHECK(dry.status == 0);
    CHECK(dry.err.find("poll (dry run): matched=1 ") != std::string::npos);
    CHECK(it::count(dry.out, "10.77.0.1:") == 1);
    CHECK(dry.out.find(" unacked=") != std::string::npos);
    CHECK(dry.err.find("last_ack_ms=") != std::string::npos);  // -v shows the figures of every candidate
    it::RunResult r = it::run_tool({"--stalled", "2000", "-j", kNoSyslog});
    INFO("run: " << r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find("poll: matched=1 destroyed=1 ") != std::string::npos);
    CHECK(r.out.find("\"unacked\":") != std::string::npos);
    CHECK(r.out.find("\"last_ack_ms\":") != std::string::npos);
    CHECK(state_of(dead.client) == it::killed());
    for (const Conn& c : {idle, busy}) {
        CHECK(state_of(c.client) == "alive");
        CHECK(state_of(c.server) == "alive");
    }
    // The listeners are still there: a new connection is accepted.
    const Conn later = it::connect_pair(l, AF_INET, "127.0.0.1", 7952);
    it::close_all({dead, idle, busy, later});
    close(l);
    close(far);
}

TEST_CASE("--send_idle: a connection that only receives goes, one that only sends stays", "[stalled]") {
    const int l = it::listen_on(AF_INET, "127.0.0.1", 7953);
    const Conn receiver = it::connect_pair(l, AF_INET, "127.0.0.1", 7953);
    const Conn sender = it::connect_pair(l, AF_INET, "127.0.0.1", 7953);
    for (int i = 0; i < 12; ++i) {  // 1.2 s: the receiver's client hears, the sender's client talks
        send_bytes(receiver.server, 10);
        send_bytes(sender.client, 10);
        it::sleep_ms(100);
        drain(receiver.client);
        drain(sender.server);
    }
    // With -t too, both must hold: the receiver heard data just now.
    it::RunResult both = it::run_tool({"-d", "7953", "--send_idle", "1000", "-t", "1000", kNoSyslog});
    INFO("both: " << both.err);
    CHECK(both.err.find("poll: matched=0 ") != std::string::npos);
    it::RunResult r = it::run_tool({"-d", "7953", "--send_idle", "1000", kNoSyslog});
    INFO("run: " << r.err);
    CHECK(r.err.find("poll: matched=1 destroyed=1 ") != std::string::npos);
    CHECK(r.err.find(" last_send_ms=") != std::string::npos);
    CHECK(state_of(receiver.client) == it::killed());
    CHECK(state_of(sender.client) == "alive");
    it::close_all({receiver, sender});
    close(l);
}
