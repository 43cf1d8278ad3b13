// The socket side of the harness: addresses, listeners and connections,
// what an end of a connection sees, and child processes that hold one
// (harness.cpp runs the tool). Nothing here can reach the host's
// connections: the suite runs in its own network namespace.
#include "harness.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace it {
namespace {

[[noreturn]] void die(const char* what) { throw std::runtime_error(std::string(what) + ": " + std::strerror(errno)); }

}  // namespace

socklen_t make_addr(int family, const char* addr, int port, sockaddr_storage& ss) {
    std::memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(static_cast<uint16_t>(port));
        if (inet_pton(AF_INET, addr, &a->sin_addr) != 1) die("inet_pton");
        return sizeof *a;
    }
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1) die("inet_pton6");
    return sizeof *a;
}

Child spawn_reader(int fd, const std::vector<int>& drop) {
    int p[2];
    if (pipe(p) != 0) die("pipe");
    Child c;
    c.pid = fork();
    if (c.pid < 0) die("fork");
    if (c.pid == 0) {
        // Catch2's fatal-signal handlers were inherited: a SIGTERM must end
        // this child quietly, not print a test report.
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        close(p[0]);
        for (int d : drop) close(d);
        char b;
        ssize_t n = recv(fd, &b, 1, 0);
        char msg[64];
        int len = n > 0    ? std::snprintf(msg, sizeof msg, "data")
                  : n == 0 ? std::snprintf(msg, sizeof msg, "eof")
                           : std::snprintf(msg, sizeof msg, "error:%d", errno);
        if (write(p[1], msg, static_cast<size_t>(len)) < 0) _exit(3);
        while (true) pause();
    }
    close(p[1]);
    c.report = p[0];
    return c;
}

std::string read_report(const Child& c, int timeout_ms) {
    pollfd pfd{c.report, POLLIN, 0};
    if (poll(&pfd, 1, timeout_ms) != 1) return "";
    char buf[64];
    ssize_t n = read(c.report, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

bool running(int pid) {
    int st = 0;
    return waitpid(pid, &st, WNOHANG) == 0;
}

int stop_child(Child& c) {
    kill(c.pid, SIGTERM);
    int st = 0;
    while (waitpid(c.pid, &st, 0) < 0 && errno == EINTR) {
    }
    close(c.report);
    c.pid = -1;
    return decode_status(st);
}

int listen_on(int family, const char* addr, int port, bool v6only) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) {
        int v = v6only ? 1 : 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v);
    }
    sockaddr_storage ss;
    socklen_t len = make_addr(family, addr, port, ss);
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) die("bind listener");
    if (listen(fd, 1024) != 0) die("listen");
    return fd;
}

namespace {

// Connects from bind_addr:bind_port (either may be left to the kernel:
// nullptr / 0) to addr:port, and accepts on `listener`.
Conn connect_impl(int listener, int family, const char* bind_addr, int bind_port, const char* addr, int port) {
    Conn c;
    c.client = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.client < 0) die("socket");
    if (bind_addr || bind_port) {
        int one = 1;
        setsockopt(c.client, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_storage local;
        socklen_t llen = make_addr(family, bind_addr ? bind_addr : family == AF_INET ? "0.0.0.0" : "::", bind_port, local);
        if (bind(c.client, reinterpret_cast<sockaddr*>(&local), llen) != 0) die("bind client");
    }
    sockaddr_storage ss;
    socklen_t len = make_addr(family, addr, port, ss);
    if (connect(c.client, reinterpret_cast<sockaddr*>(&ss), len) != 0) die("connect");
    c.server = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (c.server < 0) die("accept");
    return c;
}

}  // namespace

Conn connect_pair(int listener, int family, const char* addr, int port, int bind_port) {
    return connect_impl(listener, family, nullptr, bind_port, addr, port);
}

Conn connect_from(int listener, int family, const char* src_addr, const char* addr, int port) {
    return connect_impl(listener, family, src_addr, 0, addr, port);
}

void add_lo_address(const char* addr) {
    static std::vector<std::string> added;
    for (const std::string& a : added)
        if (a == addr) return;
    // The test process lives in its own network namespace: this lo is ours.
    std::string cmd = std::string("ip addr add ") + addr + (std::strchr(addr, ':') ? "/128 dev lo nodad" : "/32 dev lo");
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
    added.emplace_back(addr);
}

std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (line.find(needle) != std::string::npos) out.push_back(line);
        start = end + 1;
    }
    return out;
}

std::string state_of(int fd) {
    // The pending error first: a destroyed socket with unread data would
    // otherwise still hand out its data.
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr != 0) {
        if (soerr == ECONNABORTED) return "aborted";
        if (soerr == ECONNRESET) return "reset";
        return std::strerror(soerr);
    }
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);
    if (n == 1) return "data";
    if (n == 0) return "eof";
    if (errno == EAGAIN || errno == EWOULDBLOCK) return "alive";
    if (errno == ECONNABORTED) return "aborted";
    if (errno == ECONNRESET) return "reset";
    return std::strerror(errno);
}

void send_byte(int fd) {
    char b = 'x';
    if (send(fd, &b, 1, MSG_NOSIGNAL) != 1) die("send");
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

void close_all(const std::vector<Conn>& conns) {
    for (const Conn& c : conns) {
        close(c.client);
        close(c.server);
    }
}

}  // namespace it
