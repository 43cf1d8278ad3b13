// The integration tests' entry point: before Catch2 runs anything, move
// this process into a fresh network namespace with only loopback up. Every
// socket the tests open, and every tcp_closer they start, lives there.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
    if (unshare(CLONE_NEWNET) != 0) {
        std::fprintf(stderr,
                     "integration tests: cannot create a private network namespace (%s); they must run as root\n",
                     std::strerror(errno));
        return 1;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
        std::perror("SIOCGIFFLAGS lo");
        return 1;
    }
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) {
        std::perror("SIOCSIFFLAGS lo");
        return 1;
    }
    close(fd);
    // The kernel picks client ports below 41000 here, so a test that pins
    // one (41000 and up, see connect_pair) never finds it taken by an
    // earlier test's connection or TIME_WAIT socket.
    FILE* range = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "w");
    if (!range || std::fputs("32768 40999\n", range) < 0 || std::fclose(range) != 0) {
        std::perror("ip_local_port_range");
        return 1;
    }
    return Catch::Session().run(argc, argv);
}
