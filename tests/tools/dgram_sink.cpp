// Test helper for the benchmark (never part of the shipped binary): binds a
// datagram socket at PATH and reads whatever arrives until it is killed,
// as a syslog daemon at /dev/log would.
//
//   dgram_sink PATH
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: dgram_sink PATH\n");
        return 2;
    }
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[1]);
    int big = 8 << 20;
    setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        std::perror("bind");
        return 1;
    }
    char buf[4096];
    while (true) (void)recv(s, buf, sizeof buf, 0);
}
