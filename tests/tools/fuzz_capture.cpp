// Seeds for fuzz_netlink from the real kernel (never part of the shipped
// binary): makes a few connections (IPv4, IPv6, IPv4 on a dual-stack
// socket), dumps them the way tcp_closer does and destroys them, and writes
// what the kernel answered in fuzz_netlink's input format:
//   DIR/walk, DIR/dump, DIR/acks, DIR/routes (see tests/fuzz/fuzz_netlink.cpp).
// Then UDP: unconnected servers and connected clients of each kind, dumped
// per family with the connected and unconnected states: DIR/udp_dump, and
// the same datagrams as a C++ include for the unit tests' golden decoding
// (udp_dump_golden.inc). Last, with INC_DIR, the answer to a route dump of
// every table (route_dump_golden.inc): make fuzz-seeds gives the namespace a
// veth with 192.0.2.10/24 and 2001:db8::10/64 and an AnyIP route for
// 198.51.100.0/24 first; then the address events of changing those
// addresses (addr_events_golden.inc).
//
//   fuzz_capture DIR [INC_DIR]   (only inside a private network namespace)
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sys/sys.hpp"
#include "wire/diag_wire.hpp"
#include "wire/route_wire.hpp"
#include "wire/netlink.hpp"

using namespace tc;

namespace {

[[noreturn]] void die(const char* what) {
    std::perror(what);
    _exit(1);
}

socklen_t make_addr(int family, const char* addr, int port, sockaddr_storage& ss) {
    ss = sockaddr_storage{};
    if (family == AF_INET) {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(static_cast<uint16_t>(port));
        inet_pton(AF_INET, addr, &a->sin_addr);
        return sizeof *a;
    }
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET6, addr, &a->sin6_addr);
    return sizeof *a;
}

int listen_on(int family, const char* addr, int port, bool v6only) {
    int fd = socket(family, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) {
        int v = v6only;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v);
    }
    sockaddr_storage ss;
    socklen_t len = make_addr(family, addr, port, ss);
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 16) != 0) die("listen");
    return fd;
}

int udp_socket(int family, const char* local, int lport, const char* peer, int pport, bool v6only) {
    int fd = socket(family, SOCK_DGRAM, 0);
    if (family == AF_INET6) {
        int v = v6only;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v);
    }
    sockaddr_storage ss;
    socklen_t len = make_addr(family, local, lport, ss);
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) die("udp bind");
    if (peer) {
        len = make_addr(family, peer, pport, ss);
        if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) die("udp connect");
    }
    return fd;
}

void connect_to(int family, const char* addr, int port) {
    int fd = socket(family, SOCK_STREAM, 0);
    sockaddr_storage ss;
    socklen_t len = make_addr(family, addr, port, ss);
    if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) die("connect");
}

void frame(std::string& out, const uint8_t* d, size_t n) {
    out.push_back(static_cast<char>(n & 0xff));
    out.push_back(static_cast<char>(n >> 8));
    out.append(reinterpret_cast<const char*>(d), n);
}

// One datagram as a C++ initializer: {length, {bytes}},
std::string as_initializer(const uint8_t* d, size_t n) {
    std::string s = "{" + std::to_string(n) + ", {";
    for (size_t i = 0; i < n; ++i) s += std::to_string(d[i]) + (i + 1 < n ? "," : "");
    return s + "}},\n";
}

void write_file(const std::string& path, const std::string& data) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(data.data(), 1, data.size(), f) != data.size() || std::fclose(f) != 0) die(path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 && argc != 3) {
        std::fprintf(stderr, "usage: fuzz_capture DIR [INC]\n");
        return 2;
    }
    const std::string dir = argv[1];
    listen_on(AF_INET, "127.0.0.1", 7001, true);
    listen_on(AF_INET6, "::", 7002, false);
    connect_to(AF_INET, "127.0.0.1", 7001);
    connect_to(AF_INET6, "::1", 7002);
    connect_to(AF_INET, "127.0.0.1", 7002);  // v4-mapped on the dual-stack listener
    usleep(100000);

    sys::DiagSocket sock;
    if (!sock.open(1 << 20, 1 << 20)) die("diag socket");
    // The dump: both families in one walk, tcp_info attached, seq 1 (the
    // engine's first request).
    uint8_t req[256];
    DumpRequest dr;
    dr.seq = 1;
    dr.family = AF_UNSPEC;
    dr.states = 1u << 1;
    dr.want_info = true;
    Result<size_t> len = encode_dump_request(dr, req);
    if (!len || !sock.send({req, *len})) die("dump request");
    std::string walk(1, '\0'), dump(1, '\1');
    dump.push_back('\0');  // fuzz_netlink's dump options: -4, no idle rule
    std::vector<SockRecord> recs;
    static uint8_t rx[32768];
    bool done = false;
    while (!done) {
        Result<size_t> got = sock.recv(rx, true);
        if (!got) die("dump recv");
        frame(walk, rx, *got);
        frame(dump, rx, *got);
        NlMsgIter it({rx, *got});
        NlMsg m;
        while (it.next(m)) {
            if (m.type == NLMSG_DONE || m.type == NLMSG_ERROR) done = true;
            if (m.type != TCPDIAG_GETSOCK && m.type != SOCK_DIAG_BY_FAMILY) continue;
            Result<SockRecord> r = decode_sock(m.payload);
            if (r && r->sport() >= 7001 && r->sport() <= 7002) recs.push_back(*r);
        }
    }
    // The destroys: one batch (seq 1..n, as the terminator numbers them),
    // plus one for a socket that is already gone (ENOENT).
    if (recs.empty()) die("no connections dumped");
    recs.push_back(recs.front());
    std::string batch;
    for (size_t i = 0; i < recs.size(); ++i) {
        uint8_t one[kDestroyRequestLen];
        Result<size_t> n = encode_destroy_request(static_cast<uint32_t>(i + 1), recs[i], one);
        if (!n) die("destroy request");
        batch.append(reinterpret_cast<const char*>(one), *n);
    }
    if (!sock.send({reinterpret_cast<const uint8_t*>(batch.data()), batch.size()})) die("destroy send");
    std::string acks(1, '\2');
    acks.push_back(static_cast<char>(recs.size() - 1));  // fuzz_netlink: n = 1 + byte % 200
    for (size_t i = 0; i < recs.size(); ++i) {
        Result<size_t> got = sock.recv(rx, true);
        if (!got) die("ack recv");
        frame(acks, rx, *got);
    }
    write_file(dir + "/walk", walk);
    write_file(dir + "/dump", dump);
    write_file(dir + "/acks", acks);
    std::printf("%zu connections: seeds in %s\n", recs.size() - 1, dir.c_str());

    // UDP: servers on 127.0.0.1:5353 and [::]:5354 (dual-stack), clients
    // from 127.0.0.1:40001, [::1]:40002 and [::ffff:127.0.0.1]:40003.
    udp_socket(AF_INET, "127.0.0.1", 5353, nullptr, 0, true);
    udp_socket(AF_INET6, "::", 5354, nullptr, 0, false);
    udp_socket(AF_INET, "127.0.0.1", 40001, "127.0.0.1", 5353, true);
    udp_socket(AF_INET6, "::1", 40002, "::1", 5354, true);
    udp_socket(AF_INET6, "::ffff:127.0.0.1", 40003, "::ffff:127.0.0.1", 5354, false);
    std::string udp(1, '\1');
    const std::string generated = "// Generated by tests/tools/fuzz_capture (make fuzz-seeds) in a private namespace:\n";
    udp.push_back('\4');  // fuzz_netlink's dump options: -u alone
    std::string inc = generated +
                      "// the kernel's answers to a UDP dump of AF_INET (seq 1) and AF_INET6 (seq 2) with\n"
                      "// the connected and unconnected states; each datagram as {length, bytes}.\n";
    uint32_t seq = 1;
    for (uint8_t family : {uint8_t{AF_INET}, uint8_t{AF_INET6}}) {
        DumpRequest ur;
        ur.seq = seq++;
        ur.proto = Proto::Udp;
        ur.family = family;
        ur.states = 1u << 1 | 1u << 7;
        Result<size_t> n = encode_dump_request(ur, req);
        if (!n || !sock.send({req, *n})) die("udp dump request");
        bool end = false;
        while (!end) {
            Result<size_t> got = sock.recv(rx, true);
            if (!got) die("udp dump recv");
            frame(udp, rx, *got);
            inc += as_initializer(rx, *got);
            NlMsgIter it({rx, *got});
            NlMsg m;
            while (it.next(m)) end |= m.type == NLMSG_DONE || m.type == NLMSG_ERROR;
        }
    }
    write_file(dir + "/udp_dump", udp);
    if (argc < 3) return 0;
    const std::string inc_dir = argv[2];
    write_file(inc_dir + "/udp_dump_golden.inc", inc);

    // The route dump, on a NETLINK_ROUTE socket of its own.
    const int rt = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (rt < 0) die("route socket");
    Result<size_t> n = encode_route_dump_request(1, req);
    if (!n || send(rt, req, *n, 0) != static_cast<ssize_t>(*n)) die("route dump request");
    std::string routes = generated +
                         "// the kernel's answer to a route dump of every table (RTM_GETROUTE, seq 1) in a\n"
                         "// namespace with 192.0.2.10/24 and 2001:db8::10/64 on a veth and an AnyIP route\n"
                         "// for 198.51.100.0/24; each datagram as {length, bytes}.\n";
    std::string seed(1, '\3');  // fuzz_netlink's route mode
    for (bool end = false; !end;) {
        const ssize_t got = recv(rt, rx, sizeof rx, 0);
        if (got <= 0) die("route dump recv");
        routes += as_initializer(rx, static_cast<size_t>(got));
        frame(seed, rx, static_cast<size_t>(got));
        NlMsgIter it({rx, static_cast<size_t>(got)});
        NlMsg m;
        while (it.next(m)) end |= m.type == NLMSG_DONE || m.type == NLMSG_ERROR;
    }
    write_file(inc_dir + "/route_dump_golden.inc", routes);
    write_file(dir + "/routes", seed);

    // Address events, as --watch hears them: a socket subscribed to both
    // address groups, then 192.0.2.11/32 added, 192.0.2.10/24 and
    // 2001:db8::10/64 removed; whatever comes within 300 ms of the last.
    const int ev = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    sockaddr_nl groups{};
    groups.nl_family = AF_NETLINK;
    groups.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
    if (ev < 0 || bind(ev, reinterpret_cast<sockaddr*>(&groups), sizeof groups) != 0) die("event socket");
    if (std::system("ip addr add 192.0.2.11/32 dev v0 && ip addr del 192.0.2.10/24 dev v0 && "
                    "ip -6 addr del 2001:db8::10/64 dev v0") != 0)
        die("ip addr");
    std::string events = generated +
                         "// the address events (RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR) of adding\n"
                         "// 192.0.2.11/32 to a veth, then removing 192.0.2.10/24 and 2001:db8::10/64 from it;\n"
                         "// each datagram as {length, bytes}.\n";
    pollfd pfd{ev, POLLIN, 0};
    while (poll(&pfd, 1, 300) == 1) {
        const ssize_t got = recv(ev, rx, sizeof rx, 0);
        if (got <= 0) die("event recv");
        events += as_initializer(rx, static_cast<size_t>(got));
    }
    write_file(inc_dir + "/addr_events_golden.inc", events);
    return 0;
}
