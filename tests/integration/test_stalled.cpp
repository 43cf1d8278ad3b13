// --stalled and --send_idle against real tcp_info. A dead peer: a second
// network namespace joined to the suite's by a veth pair; data flows, then
// the peer's link goes down and the sender keeps writing into the void.
// The survivors: an idle connection (everything acknowledged), a busy one
// and the listeners, on lo.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "checks.hpp"
#include "harness.hpp"
#include "peer.hpp"

using it::Conn;
using it::state_of;

namespace {

const std::string kNoSyslog = "--disable_syslog";

}  // namespace

TEST_CASE("--stalled ends a sender whose peer is gone; idle, busy and listening sockets stay", "[stalled]") {
    it::Peer peer("tcs", "10.77.0");
    const int far = peer.listen_there(7951);
    const Conn dead = it::connect_pair(far, AF_INET, "10.77.0.2", 7951);
    it::send_bytes(dead.client, 1000);  // acknowledged while the link is up
    it::sleep_ms(100);
    it::drain(dead.server);
    const int l = it::listen_on(AF_INET, "127.0.0.1", 7952);
    const Conn idle = it::connect_pair(l, AF_INET, "127.0.0.1", 7952);
    const Conn busy = it::connect_pair(l, AF_INET, "127.0.0.1", 7952);
    peer.link_down();
    it::send_bytes(dead.client, 1000);  // never acknowledged: retransmitted into the void
    for (int i = 0; i < 25; ++i) {  // 2.5 s of traffic on the busy one
        it::send_bytes(busy.client, 100);
        it::sleep_ms(100);
        it::drain(busy.server);
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
        it::send_bytes(receiver.server, 10);
        it::send_bytes(sender.client, 10);
        it::sleep_ms(100);
        it::drain(receiver.client);
        it::drain(sender.server);
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
