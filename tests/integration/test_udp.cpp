// Connected UDP sockets against the real kernel, in every mode: with
// SOCK_DESTROY the owner's blocked recv fails with ECONNABORTED; on the
// /proc path (--use_proc, the NO_SOCK_DESTROY binary, the /proc/net tables)
// it returns 0. Either way the socket is no longer connected (send fails
// with EDESTADDRREQ) and its owner keeps running. Unconnected sockets,
// TCP connections and listeners on the same port survive -u.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "harness.hpp"

using it::count;
using it::make_addr;
using it::state_of;

namespace {

const std::string kNoSyslog = "--disable_syslog";

// An unconnected socket bound to addr:port (a server's); dual-stack for [::]
// when v6only is false.
int udp_server(int family, const char* addr, int port, bool v6only = true) {
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    if (family == AF_INET6) {
        int v = v6only;
        REQUIRE(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v) == 0);
    }
    sockaddr_storage ss;
    socklen_t len = make_addr(family, addr, port, ss);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    return fd;
}

// A socket connected to addr:port (source port picked by the kernel).
int udp_client(int family, const char* addr, int port) {
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_storage ss;
    socklen_t len = make_addr(family, addr, port, ss);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    return fd;
}

bool connected(int fd) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    return getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0;
}

// What send() says now: "sent", or the errno's name for the two we expect.
std::string try_send(int fd) {
    char b = 'x';
    if (send(fd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1) return "sent";
    if (errno == EDESTADDRREQ) return "EDESTADDRREQ";
    if (errno == EPIPE) return "EPIPE";
    return std::to_string(errno);
}

// What a blocked reader of an ended socket reports.
std::string woken() { return it::proc_path() ? "eof" : "error:" + std::to_string(ECONNABORTED); }

std::string by() { return it::proc_path() ? "by=shutdown" : "by=sock_destroy"; }

}  // namespace

TEST_CASE("-u ends connected UDP clients, held by blocked readers too; servers and TCP on the port survive",
          "[udp][core]") {
    const int server = udp_server(AF_INET, "127.0.0.1", 5353);
    const int tcp_l = it::listen_on(AF_INET, "127.0.0.1", 5353);
    it::Conn tcp = it::connect_pair(tcp_l, AF_INET, "127.0.0.1", 5353);
    std::vector<int> clients;
    for (int i = 0; i < 4; ++i) clients.push_back(udp_client(AF_INET, "127.0.0.1", 5353));
    const int other = udp_client(AF_INET, "127.0.0.1", 5354);  // another port: not selected
    // Two clients are held by children blocked in recv(); the parent drops its copies.
    std::vector<int> fds = {server, tcp_l, tcp.client, tcp.server, other};
    fds.insert(fds.end(), clients.begin(), clients.end());
    std::vector<it::Child> readers;
    for (int i = 0; i < 2; ++i) {
        std::vector<int> drop;
        for (int fd : fds)
            if (fd != clients[i]) drop.push_back(fd);
        readers.push_back(it::spawn_reader(clients[i], drop));
    }
    close(clients[0]);
    close(clients[1]);
    it::sleep_ms(50);  // the readers are in recv()

    it::RunResult dry = it::run_tool({"-u", "-d", "5353", "-n", kNoSyslog});
    INFO("dry run stderr: " << dry.err);
    CHECK(dry.status == 0);
    CHECK(count(dry.out, "would_destroy 127.0.0.1:") == 4);
    CHECK(count(dry.out, "-> 127.0.0.1:5353 state=ESTABLISHED proto=udp ") == 4);
    for (int fd : {clients[2], clients[3]}) CHECK(connected(fd));

    it::RunResult r = it::run_tool({"-u", "-d", "5353", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(count(r.err, "destroyed 127.0.0.1:") == 4);
    CHECK(count(r.err, "-> 127.0.0.1:5353 state=ESTABLISHED proto=udp ") == 4);
    CHECK(count(r.err, by()) == 4);
    CHECK(r.err.find("poll: matched=4 destroyed=4 ") != std::string::npos);
    // The same four lines as the dry run listed, without their outcome word.
    for (const std::string& line : it::lines_with(dry.out, "would_destroy ")) {
        const std::string tail = line.substr(line.find(' '), line.find(" uid=") - line.find(' '));
        CHECK(count(r.err, "destroyed" + tail) == 1);
    }
    for (const it::Child& ch : readers) {
        CHECK(it::read_report(ch, 2000) == woken());
        CHECK(it::running(ch.pid));  // the owner lives on
    }
    for (int fd : {clients[2], clients[3]}) {
        CHECK_FALSE(connected(fd));
        CHECK(try_send(fd) == "EDESTADDRREQ");
        // A destroyed socket's pending error, read once.
        if (!it::proc_path()) CHECK(state_of(fd) == "aborted");
    }
    // Untouched: the unconnected server, the other client, TCP and its listener.
    CHECK(connected(other));
    CHECK(try_send(other) == "sent");
    CHECK(state_of(tcp.client) == "alive");
    CHECK(state_of(tcp.server) == "alive");
    it::Conn fresh = it::connect_pair(tcp_l, AF_INET, "127.0.0.1", 5353);
    it::close_all({fresh});
    const int again = udp_client(AF_INET, "127.0.0.1", 5353);
    CHECK(try_send(again) == "sent");
    char b = 0;
    CHECK(recv(server, &b, 1, MSG_DONTWAIT) == 1);  // the server still receives
    // A second run finds nothing: the ended sockets are no longer connected.
    close(again);
    it::RunResult second = it::run_tool({"-u", "-d", "5353", kNoSyslog});
    CHECK(second.err.find("poll: matched=0 ") != std::string::npos);

    for (it::Child& ch : readers) CHECK(it::stop_child(ch) == 128 + SIGTERM);
    for (int fd : {clients[2], clients[3], other, server, tcp_l}) close(fd);
    it::close_all({tcp});
}

TEST_CASE("--tcp -u ends both kinds in one run; -u never touches TCP, nor TCP UDP", "[udp][core]") {
    const int server = udp_server(AF_INET, "127.0.0.1", 5363);
    const int tcp_l = it::listen_on(AF_INET, "127.0.0.1", 5363);
    it::Conn t1 = it::connect_pair(tcp_l, AF_INET, "127.0.0.1", 5363);
    const int u1 = udp_client(AF_INET, "127.0.0.1", 5363);

    it::RunResult tcp_only = it::run_tool({"-d", "5363", kNoSyslog});
    INFO("stderr: " << tcp_only.err);
    CHECK(tcp_only.err.find("poll: matched=1 destroyed=1 ") != std::string::npos);
    CHECK(count(tcp_only.err, "proto=udp") == 0);
    CHECK(state_of(t1.client) == it::killed());
    CHECK(connected(u1));

    // -v: each dump's filter names its protocol; the kernel returns no unconnected socket.
    it::RunResult v = it::run_tool({"--tcp", "-u", "-v", "-n", "-d", "5363", kNoSyslog});
    INFO("verbose: " << v.err);
    if (!it::proc_net()) {
        CHECK(count(v.err, "filter for both-family TCP dump (IPv4 and v4-mapped)") == 1);
        CHECK(count(v.err, "filter for AF_INET UDP dump (all)") == 1);
        CHECK(count(v.err, "filter for AF_INET6 UDP dump (IPv4-mapped only)") == 1);
    }
    CHECK(count(v.err, "candidate 127.0.0.1:") == 1);  // u1 (t1 is gone, its server end on 5363 is no -d match)
    CHECK(count(v.err, "-> 127.0.0.1:5363 state=ESTABLISHED proto=udp rtt_us=- last_recv_ms=- ") == 1);
    it::Conn t2 = it::connect_pair(tcp_l, AF_INET, "127.0.0.1", 5363);
    const int u2 = udp_client(AF_INET, "127.0.0.1", 5363);
    it::RunResult both = it::run_tool({"--tcp", "-u", "-d", "5363", "-j", kNoSyslog});
    INFO("both: " << both.err << both.out);
    CHECK(both.status == 0);
    CHECK(both.err.find("poll: matched=3 destroyed=3 ") != std::string::npos);
    CHECK(count(both.out, "\"protocol\":\"udp\"") == 2);
    CHECK(count(both.out, "\"protocol\":\"tcp\"") == 1);
    CHECK(both.out.find("\"tcp\":{\"matched\":1,\"destroyed\":1,\"failed\":0},"
                        "\"udp\":{\"matched\":2,\"destroyed\":2,\"failed\":0}}") != std::string::npos);
    CHECK(state_of(t2.client) == it::killed());
    CHECK_FALSE(connected(u1));
    CHECK_FALSE(connected(u2));
    CHECK(state_of(t2.server) == "reset");  // its peer end saw the RST
    for (int fd : {server, tcp_l, u1, u2}) close(fd);
    it::close_all({t1, t2});
}

TEST_CASE("-u -6 and -4: native IPv6 and IPv4 on dual-stack sockets follow the family rules", "[udp][core]") {
    it::add_lo_address("2001:db8::1");
    const int server6 = udp_server(AF_INET6, "::", 5373, false);  // dual-stack, unconnected
    const int native = udp_client(AF_INET6, "::1", 5373);
    const int mapped = udp_client(AF_INET6, "::ffff:127.0.0.1", 5373);
    const int plain4 = udp_client(AF_INET, "127.0.0.1", 5373);

    it::RunResult v6 = it::run_tool({"-u", "-6", "-d", "5373", kNoSyslog});
    INFO("stderr: " << v6.err);
    CHECK(v6.err.find("poll: matched=1 destroyed=1 ") != std::string::npos);
    CHECK(count(v6.err, "destroyed [::1]:") == 1);
    CHECK_FALSE(connected(native));
    CHECK(connected(mapped));
    CHECK(connected(plain4));

    it::RunResult v4 = it::run_tool({"-u", "-d", "5373", kNoSyslog});  // the default -4
    INFO("stderr: " << v4.err);
    CHECK(v4.err.find("poll: matched=2 destroyed=2 ") != std::string::npos);
    CHECK(count(v4.err, "-> 127.0.0.1:5373 ") == 1);
    CHECK(count(v4.err, "-> [::ffff:127.0.0.1]:5373 ") == 1);
    CHECK_FALSE(connected(mapped));
    CHECK_FALSE(connected(plain4));
    CHECK(try_send(mapped) == "EDESTADDRREQ");

    // --src selects by local address; the server on [::] stays whatever is asked.
    const int from_doc = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_storage ss;
    socklen_t len = make_addr(AF_INET6, "2001:db8::1", 0, ss);
    REQUIRE(bind(from_doc, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    len = make_addr(AF_INET6, "2001:db8::1", 5373, ss);
    REQUIRE(connect(from_doc, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    const int from_lo = udp_client(AF_INET6, "::1", 5373);
    it::RunResult src = it::run_tool({"-u", "--src", "2001:db8::/64", kNoSyslog});
    INFO("stderr: " << src.err);
    CHECK(src.err.find("poll: matched=1 destroyed=1 ") != std::string::npos);
    CHECK_FALSE(connected(from_doc));
    CHECK(connected(from_lo));
    it::RunResult all = it::run_tool({"-u", "-6", "--src", "::/0", kNoSyslog});
    INFO("stderr: " << all.err);
    CHECK(all.err.find("poll: matched=1 destroyed=1 ") != std::string::npos);  // from_lo only: never the server
    CHECK_FALSE(connected(from_lo));
    char b = 'x';
    len = make_addr(AF_INET6, "::1", 5373, ss);
    const int probe = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(sendto(probe, &b, 1, 0, reinterpret_cast<sockaddr*>(&ss), len) == 1);
    it::sleep_ms(20);
    CHECK(recv(server6, &b, 1, MSG_DONTWAIT) == 1);  // the server is still bound and receives
    for (int fd : {server6, native, mapped, plain4, from_doc, from_lo, probe}) close(fd);
}

TEST_CASE("-u as a daemon: clients that connect later are ended at the next poll", "[udp]") {
    const std::string dir = "/tmp/tc_udp_daemon";
    const int server = udp_server(AF_INET, "127.0.0.1", 5383);
    int pid = it::spawn_tool({"-u", "-d", "5383", "-i", "0.05", kNoSyslog}, dir + ".out", dir + ".err");
    it::sleep_ms(150);
    const int late = udp_client(AF_INET, "127.0.0.1", 5383);
    bool ended = false;
    for (int i = 0; i < 100 && !ended; ++i) {
        it::sleep_ms(20);
        ended = !connected(late);
    }
    CHECK(ended);
    kill(pid, SIGTERM);
    CHECK(it::wait_tool(pid, 5000) == 0);
    const std::string log = it::read_file(dir + ".err");
    INFO("log: " << log);
    CHECK(count(log, "proto=udp") == 1);
    CHECK(count(log, "stopping on signal") == 1);
    close(late);
    close(server);
}

TEST_CASE("a kernel with TCP's SOCK_DESTROY but not UDP's, or without udp_diag: UDP alone goes through /proc",
          "[udp]") {
    // build/old_kernel answers UDP SOCK_DESTROY with EOPNOTSUPP (udp_diag
    // before 4.9), or every UDP dump with ENOENT (no udp_diag module).
    if (it::mode() != it::Mode::SockDestroy) return;  // the other modes never use SOCK_DESTROY
    const std::string dir = "/tmp/tc_udp_kernel";
    for (const char* kernel : {"--no-udp-destroy", "--no-udp-diag"}) {
        INFO("old_kernel " << kernel);
        const int server = udp_server(AF_INET, "127.0.0.1", 5393);
        const int tcp_l = it::listen_on(AF_INET, "127.0.0.1", 5393);
        it::Conn tcp = it::connect_pair(tcp_l, AF_INET, "127.0.0.1", 5393);
        const int blocked = udp_client(AF_INET, "127.0.0.1", 5393);
        const int held = udp_client(AF_INET, "127.0.0.1", 5393);
        it::Child reader = it::spawn_reader(blocked, {server, tcp_l, tcp.client, tcp.server, held});
        close(blocked);
        it::sleep_ms(50);
        // Two polls: the detection is said once.
        int pid = it::spawn_command({"build/old_kernel", kernel, it::tool_binary(), "--tcp", "-u", "-d", "5393", "-i",
                                     "0.05", kNoSyslog},
                                    dir + ".out", dir + ".err");
        std::string fate;
        for (int i = 0; i < 250 && (fate = it::read_report(reader, 20)).empty(); ++i) {
        }
        CHECK(fate == "eof");  // woken as on the /proc path
        it::sleep_ms(200);
        kill(pid, SIGTERM);
        CHECK(it::wait_tool(pid, 5000) == 0);
        const std::string log = it::read_file(dir + ".err");
        INFO("log: " << log);
        if (std::string(kernel) == "--no-udp-destroy") {
            CHECK(count(log, "this kernel cannot destroy UDP sockets (Linux 4.9 and later can") == 1);
            CHECK(count(log, "ending UDP sockets through /proc instead") == 1);
        } else {
            CHECK(count(log, "inet_diag refused every UDP dump (no udp_diag module): finding connections in "
                             "/proc/net/udp and /proc/net/udp6") == 1);
        }
        CHECK(count(log, "proto=udp") == 2);
        CHECK(count(log, "proto=udp last_recv_ms=- uid=0 inode=") == 2);
        CHECK(count(log, " by=shutdown pid=") == 2);
        CHECK(count(log, "by=sock_destroy") == 1);  // TCP: still the kernel's
        CHECK(state_of(tcp.client) == "aborted");
        CHECK_FALSE(connected(held));
        CHECK(try_send(held) == "EDESTADDRREQ");
        CHECK(it::running(reader.pid));
        CHECK(it::stop_child(reader) == 128 + SIGTERM);
        for (int fd : {server, tcp_l, held}) close(fd);
        it::close_all({tcp});
    }
}
