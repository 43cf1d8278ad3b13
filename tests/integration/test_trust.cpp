// Forged netlink messages sent to a running daemon's sockets by another
// process with CAP_NET_ADMIN in the namespace (the test itself): socket
// records naming a victim's inode, acks, and empty route dumps, to every
// netlink port id the daemon holds, for seconds. The daemon's sockets are
// connected to the kernel, which refuses such senders; nothing forged is
// believed, and the daemon's own selection is still ended.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "checks.hpp"
#include "harness.hpp"

namespace {

constexpr const char* kNoSyslog = "--disable_syslog";

// The netlink port ids of the sockets process `pid` holds, with their
// protocol, from /proc/PID/fd and /proc/net/netlink.
std::vector<std::pair<int, uint32_t>> netlink_ports(int pid) {
    std::vector<unsigned long> inodes;
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d)) {
            char link[64] = {};
            if (readlink((dir + "/" + e->d_name).c_str(), link, sizeof link - 1) > 0 &&
                std::strncmp(link, "socket:[", 8) == 0)
                inodes.push_back(std::stoul(link + 8));
        }
        closedir(d);
    }
    std::vector<std::pair<int, uint32_t>> out;
    std::ifstream f("/proc/net/netlink");
    std::string line;
    std::getline(f, line);  // the header
    while (std::getline(f, line)) {
        std::istringstream in(line);
        std::string sk;
        int proto = 0;
        long port = 0;
        std::string groups, rmem, wmem, dump, locks, drops;
        unsigned long inode = 0;
        in >> sk >> proto >> port >> groups >> rmem >> wmem >> dump >> locks >> drops >> inode;
        for (unsigned long i : inodes)
            if (i == inode) out.emplace_back(proto, static_cast<uint32_t>(port));
    }
    return out;
}

void put_msg(std::vector<uint8_t>& d, uint16_t type, uint32_t seq, const void* payload, size_t len) {
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(sizeof h + len);
    h.nlmsg_type = type;
    h.nlmsg_flags = NLM_F_MULTI;
    h.nlmsg_seq = seq;
    const uint8_t* hp = reinterpret_cast<const uint8_t*>(&h);
    d.insert(d.end(), hp, hp + sizeof h);
    const uint8_t* p = static_cast<const uint8_t*>(payload);
    d.insert(d.end(), p, p + len);
    while (d.size() % 4) d.push_back(0);
}

struct Forgery {
    size_t delivered = 0;
    size_t refused = 0;  // ECONNREFUSED: the daemon's socket is connected to the kernel
};

// For `ms`: to every port, for sequence numbers 1..64, a dump answer naming
// `victim_inode` on remote port `port` (SOCK_DIAG), an ack of success, and
// an empty route dump (ROUTE).
Forgery forge(const std::vector<std::pair<int, uint32_t>>& ports, uint32_t victim_inode, int port, int ms) {
    Forgery f;
    int diag = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    int route = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    REQUIRE(diag >= 0);
    REQUIRE(route >= 0);
    for (int round = 0; round < ms / 10; ++round) {
        for (const auto& [proto, pid] : ports) {
            for (uint32_t seq = 1; seq <= 64; ++seq) {
                std::vector<uint8_t> d;
                if (proto == NETLINK_SOCK_DIAG) {
                    inet_diag_msg m{};
                    m.idiag_family = AF_INET;
                    m.idiag_state = 1;
                    m.id.idiag_sport = htons(40000);
                    m.id.idiag_dport = htons(static_cast<uint16_t>(port));
                    m.id.idiag_src[0] = m.id.idiag_dst[0] = htonl(0x7f000001);
                    m.id.idiag_cookie[0] = 1;
                    m.idiag_inode = victim_inode;
                    put_msg(d, TCPDIAG_GETSOCK, seq, &m, sizeof m);
                    put_msg(d, SOCK_DIAG_BY_FAMILY, seq, &m, sizeof m);
                    const int zero = 0;
                    put_msg(d, NLMSG_DONE, seq, &zero, sizeof zero);
                    std::vector<uint8_t> ack;
                    int ok[5] = {};  // error 0, then the echoed header
                    put_msg(ack, NLMSG_ERROR, seq, ok, sizeof ok);
                    sockaddr_nl to{};
                    to.nl_family = AF_NETLINK;
                    to.nl_pid = pid;
                    (sendto(diag, ack.data(), ack.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), sizeof to) >= 0
                         ? f.delivered
                         : f.refused)++;
                } else {
                    const int zero = 0;
                    put_msg(d, NLMSG_DONE, seq, &zero, sizeof zero);
                }
                sockaddr_nl to{};
                to.nl_family = AF_NETLINK;
                to.nl_pid = pid;
                const int fd = proto == NETLINK_SOCK_DIAG ? diag : route;
                (sendto(fd, d.data(), d.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), sizeof to) >= 0
                     ? f.delivered
                     : f.refused)++;
            }
        }
        it::sleep_ms(10);
    }
    close(diag);
    close(route);
    return f;
}

uint32_t inode_of(int fd) {
    struct stat st{};
    REQUIRE(fstat(fd, &st) == 0);
    return static_cast<uint32_t>(st.st_ino);
}

}  // namespace

TEST_CASE("forged socket records, acks and route dumps sent to a daemon are not believed", "[trust]") {
    const int port = 7901, victim_port = 7902;
    int l = it::listen_on(AF_INET, "127.0.0.1", port);
    int lv = it::listen_on(AF_INET, "127.0.0.1", victim_port);
    // The victim: held by a process of its own, which --kill_owner would kill.
    it::Conn v = it::connect_pair(lv, AF_INET, "127.0.0.1", victim_port);
    const uint32_t victim_inode = inode_of(v.client);
    it::Child holder = it::spawn_reader(v.client, {l, lv, v.server});
    close(v.client);
    it::TmpDir d("trust");
    for (int variant = 0; variant < 2; ++variant) {
        INFO((variant == 0 ? "--use_proc --kill_owner" : "--src-removed"));
        std::vector<std::string> args = {"-d", std::to_string(port), "-i", variant == 0 ? "0.05" : "0.2", kNoSyslog};
        if (variant == 0) args.insert(args.begin(), {"--use_proc", "--kill_owner"});
        else args.insert(args.begin(), "--src-removed");
        const int pid = it::spawn_tool(args, d / "out", d / "err");
        it::sleep_ms(300);
        REQUIRE(it::running(pid));
        const auto ports = netlink_ports(pid);
        REQUIRE(!ports.empty());
        const Forgery f = forge(ports, victim_inode, port, 3000);
        INFO("delivered " << f.delivered << ", refused " << f.refused);
        CHECK(f.delivered == 0);  // connected to the kernel: every forged datagram refused
        CHECK(f.refused > 0);
        // The daemon's own selection, held by a process of its own: still
        // ended (--kill_owner: killed; --src-removed: its address is local,
        // so it stays). The daemon is stopped while the connection is made
        // and handed over: until close(), this process holds it too, and
        // --kill_owner would kill the test itself.
        kill(pid, SIGSTOP);
        it::Conn own = it::connect_pair(l, AF_INET, "127.0.0.1", port);
        it::Child own_holder = it::spawn_reader(own.client, {l, lv, v.server, own.server});
        close(own.client);
        kill(pid, SIGCONT);
        it::sleep_ms(600);
        CHECK(it::running(own_holder.pid) == (variant == 1));
        CHECK(it::state_of(own.server) == (variant == 0 ? "eof" : "alive"));
        it::stop_child(own_holder);
        REQUIRE(it::running(pid));
        kill(pid, SIGTERM);
        CHECK(it::wait_tool(pid, 3000) == 0);
        const std::string log = it::read_file(d / "err");
        INFO(log);
        CHECK(log.find("not sent by the kernel") == std::string::npos);  // refused by the kernel: none arrived
        close(own.server);
    }
    // The victim and its holder are untouched.
    CHECK(it::running(holder.pid));
    CHECK(it::read_report(holder, 100).empty());
    CHECK(it::state_of(v.server) == "alive");
    it::stop_child(holder);
    close(v.server);
    close(l);
    close(lv);
}
