// Test helper for the demo and the benchmark (never part of the shipped
// binary): opens a loopback listener and N connections to it, holding both
// ends. "Busy" connections receive a byte on their server end every 100 ms.
//
//   conn_holder -p PORT [-n IDLE] [-b BUSY] [-r SECONDS] [-a ADDR] [-c FROM]
//       (-a: the IPv4 address to listen on and connect from, 127.0.0.1;
//       -c: connect from FROM instead, so that only the server ends are on
//       ADDR, as when the clients are other hosts; -N NETNS: the clients'
//       sockets in that network namespace (a path), reaching ADDR over a
//       link the caller set up: the clients are then another host)
//   conn_holder -u -p PORT -n N [-r SECONDS]
//       UDP: an unconnected socket bound to PORT and N sockets connected
//       to it (held until SIGTERM, or reported on after SECONDS).
//
// Prints "ready" once every connection is up. With -r it reports the fate
// of each server end after SECONDS and exits; without it, it holds the
// connections until SIGTERM. Run it only inside a private network namespace.
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void on_term(int) { g_stop = 1; }

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "conn_holder: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

struct Conn {
    int client, server;
    uint16_t client_port;
    bool busy;
};

std::string fate(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == ECONNABORTED) return "destroyed (owner saw ECONNABORTED)";
    if (err == ECONNRESET) return "reset (owner saw ECONNRESET, and kept running)";
    if (err != 0) return std::string("error: ") + std::strerror(err);
    char b[256];
    while (recv(fd, b, sizeof b, MSG_DONTWAIT) > 0) {
    }
    if (errno == EAGAIN) return "alive";
    return std::string("error: ") + std::strerror(errno);
}

}  // namespace

int main(int argc, char** argv) {
    int port = 0, idle = 0, busy = 0, report_after = 0;
    bool udp = false;
    const char* addr = "127.0.0.1";
    const char* from = nullptr;
    const char* client_ns = nullptr;
    for (int opt; (opt = getopt(argc, argv, "up:n:b:r:a:c:N:")) != -1;) {
        switch (opt) {
            case 'N': client_ns = optarg; break;
            case 'a': addr = optarg; break;
            case 'c': from = optarg; break;
            case 'u': udp = true; break;
            case 'p': port = std::atoi(optarg); break;
            case 'n': idle = std::atoi(optarg); break;
            case 'b': busy = std::atoi(optarg); break;
            case 'r': report_after = std::atoi(optarg); break;
            default: std::fprintf(stderr, "usage: conn_holder -p PORT [-n IDLE] [-b BUSY] [-r SECONDS] [-a ADDR] [-c FROM] [-N NETNS]\n"); return 2;
        }
    }
    if (port <= 0 || port > 65535) {
        std::fprintf(stderr, "conn_holder: -p PORT is required\n");
        return 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGPIPE, SIG_IGN);
    if (udp) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) die("-a ADDR");
        int server = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (server < 0 || bind(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("udp bind");
        std::vector<int> clients;
        std::vector<unsigned> client_ports;
        for (int i = 0; i < idle; ++i) {
            int c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (c < 0 || connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("udp connect");
            clients.push_back(c);
            sockaddr_in local{};
            socklen_t len = sizeof local;
            getsockname(c, reinterpret_cast<sockaddr*>(&local), &len);
            client_ports.push_back(ntohs(local.sin_port));
        }
        std::printf("ready\n");
        std::fflush(stdout);
        if (report_after == 0) {
            while (!g_stop) pause();
            return 0;
        }
        std::this_thread::sleep_for(std::chrono::seconds(report_after));
        for (size_t i = 0; i < clients.size(); ++i) {
            const int c = clients[i];
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
            sockaddr_in peer{};
            len = sizeof peer;
            const bool connected = getpeername(c, reinterpret_cast<sockaddr*>(&peer), &len) == 0;
            const bool sent = send(c, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1;
            const std::string send_says = sent ? "works" : std::strerror(errno);
            std::printf("  client %s:%u -> %s:%d  %s; pending error: %s; send: %s\n", addr, client_ports[i], addr,
                        port, connected ? "connected" : "no longer connected", err ? std::strerror(err) : "none",
                        send_says.c_str());
        }
        return 0;
    }

    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) die("-a ADDR");
    if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind");
    if (listen(l, 4096) != 0) die("listen");
    if (client_ns) {
        // Sockets belong to the namespace they were made in: from here on,
        // the clients'. The listener stays in ours.
        const int ns = open(client_ns, O_RDONLY | O_CLOEXEC);
        if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) die("-N NETNS");
        close(ns);
    }

    std::vector<Conn> conns;
    for (int i = 0; i < idle + busy; ++i) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0) die("socket");
        if (from) {
            sockaddr_in f{};
            f.sin_family = AF_INET;
            if (inet_pton(AF_INET, from, &f.sin_addr) != 1) die("-c FROM");
            // The port is chosen at connect, per destination, as without bind.
            setsockopt(c, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
            if (bind(c, reinterpret_cast<sockaddr*>(&f), sizeof f) != 0) die("bind FROM");
        }
        if (connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");
        int s = accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
        if (s < 0) die("accept");
        sockaddr_in local{};
        socklen_t len = sizeof local;
        getsockname(c, reinterpret_cast<sockaddr*>(&local), &len);
        conns.push_back({c, s, ntohs(local.sin_port), i >= idle});
    }
    std::printf("ready\n");
    std::fflush(stdout);

    auto start = std::chrono::steady_clock::now();
    while (!g_stop) {
        if (report_after > 0 && std::chrono::steady_clock::now() - start >= std::chrono::seconds(report_after)) break;
        for (const Conn& c : conns)
            if (c.busy) (void)send(c.client, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (report_after > 0) {
        for (const Conn& c : conns)
            std::printf("  %-4s connection %s:%d <- %s:%u  %s\n", c.busy ? "busy" : "idle", addr, port, from ? from : addr,
                        c.client_port, fate(c.server).c_str());
    }
    return 0;
}
