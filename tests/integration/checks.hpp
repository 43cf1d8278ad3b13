// Checks shared by the integration tests (Catch2 assertions over harness.hpp).
#pragma once

#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "harness.hpp"

namespace it {

// A directory under /tmp for one test's files, removed with its contents.
struct TmpDir {
    std::string path;
    explicit TmpDir(const std::string& name) {
        std::string t = "/tmp/tcp_closer_" + name + ".XXXXXX";
        REQUIRE(mkdtemp(t.data()));
        path = t;
    }
    ~TmpDir() { (void)std::system(("rm -rf " + path).c_str()); }
    TmpDir(const TmpDir&) = delete;
    TmpDir& operator=(const TmpDir&) = delete;
    std::string operator/(const std::string& name) const { return path + "/" + name; }
};

inline std::vector<Conn> connect_n(int n, int listener, int family, const char* addr, int port) {
    std::vector<Conn> v;
    for (int i = 0; i < n; ++i) v.push_back(connect_pair(listener, family, addr, port));
    return v;
}

// Every connection of `conns` must be in `server_state` on its server end
// and `client_state` on its client end.
inline void expect(const std::vector<Conn>& conns, const char* server_state, const char* client_state) {
    for (const Conn& c : conns) {
        CHECK(state_of(c.server) == server_state);
        CHECK(state_of(c.client) == client_state);
    }
}

inline void expect_listener_works(int listener, int family, const char* addr, int port) {
    Conn c = connect_pair(listener, family, addr, port);
    CHECK(state_of(c.server) == "alive");
    close_all({c});
}

// The poll summary when `destroyed` connections were ended by this mode's
// way (SOCK_DESTROY, or a reset inside the owner on the /proc path).
inline std::string summary(size_t matched, size_t destroyed, size_t vanished = 0, size_t failed = 0,
                           size_t skipped = 0) {
    auto n = [](size_t v) { return std::to_string(v); };
    const size_t by_sd = proc_path() ? 0 : destroyed;
    return "poll: matched=" + n(matched) + " destroyed=" + n(destroyed) + " sock_destroy=" + n(by_sd) +
           " reset=" + n(destroyed - by_sd) + " shutdown=0 killed=0 no_owner=0 vanished=" + n(vanished) +
           " skipped=" + n(skipped) + " failed=" + n(failed);
}

// Waits until `path` holds `text` `n` times. (Asking a socket's state
// reads its error: a wait must not.)
inline bool wait_text(const std::string& path, const std::string& text, int n = 1, int ms = 5000) {
    for (int waited = 0; waited < ms; waited += 20) {
        if (count(read_file(path), text) >= n) return true;
        sleep_ms(20);
    }
    return false;
}

// Sends `n` bytes without waiting; drains what a socket has to read.
inline void send_bytes(int fd, size_t n) {
    std::string data(n, 'x');
    REQUIRE(send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL) > 0);
}

inline void drain(int fd) {
    char buf[65536];
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
}

}  // namespace it
