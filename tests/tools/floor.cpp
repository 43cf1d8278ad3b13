// The benchmark's floor (never part of the shipped binary): the least a
// tool can do to kill a port range. One filtered AF_INET dump for local
// ports LO-HI, then SOCK_DESTROY in batches of 128, printing nothing.
// With THREADS > 1 the destroys are split over that many threads, each with
// a netlink socket of its own (does a second core help the kernel?).
//
//   floor LO HI [THREADS]
//
// Run it only inside a private network namespace.
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

int diag_socket() {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
    return fd;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 && argc != 4) {
        std::fprintf(stderr, "usage: floor LO HI [THREADS]\n");
        return 2;
    }
    const size_t threads = argc == 4 ? static_cast<size_t>(std::atoi(argv[3])) : 1;
    const uint16_t lo = static_cast<uint16_t>(std::atoi(argv[1])), hi = static_cast<uint16_t>(std::atoi(argv[2]));
    struct {
        nlmsghdr h;
        inet_diag_req_v2 r;
        nlattr a;
        inet_diag_bc_op ops[4];
    } req{};
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = 1;
    req.r.sdiag_family = AF_INET;
    req.r.sdiag_protocol = 6;
    req.r.idiag_states = 1u << 1;
    req.a.nla_len = sizeof req.a + sizeof req.ops;
    req.a.nla_type = INET_DIAG_REQ_BYTECODE;
    req.ops[0] = {INET_DIAG_BC_S_GE, 8, 20};
    req.ops[1] = {0, 0, lo};
    req.ops[2] = {INET_DIAG_BC_S_LE, 8, 12};
    req.ops[3] = {0, 0, hi};
    int dump = diag_socket();
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(dump, &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) return 1;

    std::vector<inet_diag_sockid> ids;
    static char buf[65536];
    for (bool done = false; !done;) {
        ssize_t n = recv(dump, buf, sizeof buf, 0);
        if (n <= 0) return 1;
        for (nlmsghdr* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = true;
                break;
            }
            ids.push_back(static_cast<inet_diag_msg*>(NLMSG_DATA(h))->id);
        }
    }

    // Destroys ids[from, to) through a socket of its own; false on error.
    auto destroy_range = [&kernel, &ids](size_t from, size_t to) {
        int destroy = diag_socket();
        struct Msg {
            nlmsghdr h;
            inet_diag_req_v2 r;
        };
        std::vector<Msg> batch;
        static thread_local char rbuf[65536];
        for (size_t at = from; at < to; at += 128) {
            size_t k = to - at < 128 ? to - at : 128;
            batch.assign(k, Msg{});
            for (size_t i = 0; i < k; ++i) {
                batch[i].h.nlmsg_len = sizeof(Msg);
                batch[i].h.nlmsg_type = SOCK_DESTROY;
                batch[i].h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
                batch[i].h.nlmsg_seq = static_cast<uint32_t>(at + i + 2);
                batch[i].r.sdiag_family = AF_INET;
                batch[i].r.sdiag_protocol = 6;
                batch[i].r.idiag_states = 1u << 1;
                batch[i].r.id = ids[at + i];
            }
            if (sendto(destroy, batch.data(), k * sizeof(Msg), 0, reinterpret_cast<const sockaddr*>(&kernel),
                       sizeof kernel) < 0)
                return false;
            for (size_t acked = 0; acked < k;) {
                ssize_t n = recv(destroy, rbuf, sizeof rbuf, 0);
                if (n <= 0) return false;
                for (nlmsghdr* h = reinterpret_cast<nlmsghdr*>(rbuf); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) ++acked;
            }
        }
        close(destroy);
        return true;
    };
    if (threads <= 1) return destroy_range(0, ids.size()) ? 0 : 1;
    std::vector<std::thread> pool;
    std::vector<char> ok(threads, 0);
    for (size_t t = 0; t < threads; ++t)
        pool.emplace_back([&, t] { ok[t] = destroy_range(ids.size() * t / threads, ids.size() * (t + 1) / threads); });
    for (std::thread& th : pool) th.join();
    for (char o : ok)
        if (!o) return 1;
    return 0;
}
