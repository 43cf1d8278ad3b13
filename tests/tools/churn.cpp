// Test helper for the churn test (never part of the shipped binary):
// WORKERS processes open and close loopback connections as fast as they
// can for SECONDS, half on "matching" ports (MATCH+w, which the tool under
// test selects) and half on "other" ports (OTHER+w, which it must never
// touch). Most connections live 1-20 ms; one in five lives LONG ms, long
// enough that a daemon polling every few ms must have ended it if it
// matches. Each worker watches every connection it holds and reports:
//
//   worker W opened=N match_killed=K long_survivors=S other_died=D listeners_ok=0|1
//
// and the parent exits 0 when every worker reported. Connections are
// closed with a reset (SO_LINGER 0): no TIME_WAIT piles up.
//
//   churn WORKERS SECONDS MATCH OTHER LONG_MS
//
// Run it only inside a private network namespace.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "churn: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

int listen_on(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = loopback(port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 128) != 0) die("listen");
    return fd;
}

struct Pair {
    int client = -1, server = -1;
    bool match = false;
    bool long_lived = false;
    bool dead = false;
    Clock::time_point end;
};

bool connect_pair(int listener, int port, Pair& p) {
    p.client = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(port);
    if (connect(p.client, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(p.client);
        return false;
    }
    p.server = accept(listener, nullptr, nullptr);
    if (p.server < 0) die("accept");
    return true;
}

// Alive: both ends report nothing (no error, no end of stream).
bool alive(int fd) {
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void close_reset(int fd) {
    linger lg{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

int worker(int w, int seconds, int match_port, int other_port, int long_ms) {
    const int lm = listen_on(match_port), lo = listen_on(other_port);
    std::mt19937 rng(static_cast<unsigned>(w * 7919 + 1));
    std::vector<Pair> live;
    long opened = 0, match_killed = 0, long_survivors = 0, other_died = 0;
    const Clock::time_point stop = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < stop) {
        while (live.size() < 64) {
            Pair p;
            p.match = rng() % 2;
            p.long_lived = rng() % 5 == 0;
            const int ms = p.long_lived ? long_ms : 1 + static_cast<int>(rng() % 20);
            if (!connect_pair(p.match ? lm : lo, p.match ? match_port : other_port, p)) continue;
            p.end = Clock::now() + std::chrono::milliseconds(ms);
            live.push_back(p);
            ++opened;
        }
        const Clock::time_point now = Clock::now();
        for (size_t i = 0; i < live.size();) {
            Pair& p = live[i];
            if (!p.dead && !(alive(p.client) && alive(p.server))) {
                p.dead = true;
                if (p.match) ++match_killed;
                else ++other_died;
            }
            if (now < p.end) {
                ++i;
                continue;
            }
            if (p.match && p.long_lived && !p.dead) ++long_survivors;
            close_reset(p.client);
            close_reset(p.server);
            live[i] = live.back();
            live.pop_back();
        }
        usleep(200);
    }
    for (Pair& p : live) {
        close_reset(p.client);
        close_reset(p.server);
    }
    // The listeners must still take connections.
    Pair a, b;
    const bool ok = connect_pair(lm, match_port, a) && connect_pair(lo, other_port, b);
    std::printf("worker %d opened=%ld match_killed=%ld long_survivors=%ld other_died=%ld listeners_ok=%d\n", w, opened,
                match_killed, long_survivors, other_died, ok ? 1 : 0);
    std::fflush(stdout);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: churn WORKERS SECONDS MATCH OTHER LONG_MS\n");
        return 2;
    }
    const int workers = std::atoi(argv[1]), seconds = std::atoi(argv[2]);
    const int match = std::atoi(argv[3]), other = std::atoi(argv[4]), long_ms = std::atoi(argv[5]);
    std::vector<pid_t> pids;
    for (int w = 0; w < workers; ++w) {
        pid_t pid = fork();
        if (pid < 0) die("fork");
        if (pid == 0) std::_Exit(worker(w, seconds, match + w, other + w, long_ms));
        pids.push_back(pid);
    }
    int bad = 0;
    for (pid_t pid : pids) {
        int status = 0;
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ++bad;
    }
    return bad ? 1 : 0;
}
