// Test tool: runs a command as if on an older or smaller kernel, by a
// seccomp filter installed before exec (the binary under test is the
// shipped one, with no test-only code).
//
//   old_kernel --no-sock-diag CMD ARGS...
//       socket(AF_NETLINK, *, NETLINK_SOCK_DIAG) fails with
//       EPROTONOSUPPORT, as on a kernel built without inet_diag: the tool
//       must find connections in /proc/net and end them through /proc,
//       with tcp_info read for real from the owners' sockets.
//   old_kernel --i386-before-4.3 CMD ARGS...
//       (x86-64 hosts) the direct socket system calls that i386 gained in
//       Linux 4.3 (socket ... shutdown, 359-373) fail with ENOSYS for
//       32-bit programs, as there: only socketcall(2) works.
//   old_kernel --no-pidfd-getfd CMD ARGS...
//       pidfd_getfd fails with ENOSYS, as on a kernel before 5.6: arming
//       cannot reach any owner's socket (and must end nothing instead).
//   old_kernel --tcp-dumps-refused-after N CMD ARGS...
//       the first N TCP dump requests on NETLINK_SOCK_DIAG sockets are
//       answered as usual; every later one is answered with ENOENT, as a
//       kernel whose tcp_diag module went missing answers (the tool must
//       switch to /proc/net mid-run).
//   old_kernel --no-udp-diag CMD ARGS...
//       every UDP dump request is answered with ENOENT, as a kernel with
//       tcp_diag but no udp_diag module answers (UDP must come from
//       /proc/net/udp{,6}, TCP still from inet_diag).
//   old_kernel --no-udp-destroy CMD ARGS...
//       every UDP SOCK_DESTROY request (the probe included) is answered with
//       EOPNOTSUPP, as udp_diag before Linux 4.9 answers (UDP sockets must
//       be ended through /proc, TCP ones still by SOCK_DESTROY).
//   old_kernel --route-dumps-refused CMD ARGS...
//       every route dump request (RTM_GETROUTE on a NETLINK_ROUTE socket) is
//       answered with EBUSY: not a kernel version but a passing failure,
//       which --src-removed must survive by ending nothing (and a daemon by
//       polling on).
//   For these four a seccomp user-notification filter traps sendto and
//   recvmsg; this process is their supervisor: it reads each trapped
//   request from the command's memory and writes the refusal into its
//   receive buffer. Everything else goes on as it is.
#include <errno.h>
#include <linux/inet_diag.h>
#include <netinet/in.h>
#include <linux/sock_diag.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

namespace {

// Runs cmd; returns only when it could not be started. A path is executed
// as it is: execvp would hand a file the kernel cannot execute (an i386
// binary where 32-bit programs are off) to /bin/sh, whose syntax errors
// hide the cause. ENOEXEC gets exit status 125, which the Makefile's i386
// step reads as "this kernel cannot execute it".
int exec_command(char** cmd) {
    if (std::strchr(cmd[0], '/'))
        execv(cmd[0], cmd);
    else
        execvp(cmd[0], cmd);
    const int err = errno;
    std::fprintf(stderr, "old_kernel: cannot execute %s: %s\n", cmd[0], std::strerror(err));
    return err == ENOEXEC ? 125 : 127;
}

}  // namespace

namespace {

#if defined(__x86_64__)
constexpr unsigned kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kArch = AUDIT_ARCH_AARCH64;
#elif defined(__i386__)
constexpr unsigned kArch = AUDIT_ARCH_I386;
#else
#error "old_kernel: add this CPU's AUDIT_ARCH"
#endif

using Prog = std::vector<sock_filter>;

void stmt(Prog& p, uint16_t code, uint32_t k) { p.push_back(BPF_STMT(code, k)); }
void jeq(Prog& p, uint32_t k, uint8_t jt, uint8_t jf) { p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf)); }

constexpr uint32_t kArchOff = offsetof(seccomp_data, arch);
constexpr uint32_t kNrOff = offsetof(seccomp_data, nr);
// The low 32 bits of argument n (little-endian hosts).
constexpr uint32_t arg_lo(int n) { return static_cast<uint32_t>(offsetof(seccomp_data, args) + 8 * n); }

Prog no_sock_diag() {
    Prog p;
    stmt(p, BPF_LD | BPF_W | BPF_ABS, kArchOff);
    jeq(p, kArch, 0, 7);                      // another ABI: allow
    stmt(p, BPF_LD | BPF_W | BPF_ABS, kNrOff);
    jeq(p, __NR_socket, 0, 5);
    stmt(p, BPF_LD | BPF_W | BPF_ABS, arg_lo(0));
    jeq(p, AF_NETLINK, 0, 3);
    stmt(p, BPF_LD | BPF_W | BPF_ABS, arg_lo(2));
    jeq(p, NETLINK_SOCK_DIAG, 0, 1);
    stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPROTONOSUPPORT);
    stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    return p;
}

Prog no_pidfd_getfd() {
    Prog p;
    stmt(p, BPF_LD | BPF_W | BPF_ABS, kArchOff);
    jeq(p, kArch, 0, 3);  // another ABI: allow
    stmt(p, BPF_LD | BPF_W | BPF_ABS, kNrOff);
    jeq(p, __NR_pidfd_getfd, 0, 1);
    stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
    stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    return p;
}

Prog i386_before_4_3() {
    Prog p;
    stmt(p, BPF_LD | BPF_W | BPF_ABS, kArchOff);
    jeq(p, AUDIT_ARCH_I386, 0, 4);
    stmt(p, BPF_LD | BPF_W | BPF_ABS, kNrOff);
    p.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 359, 0, 2));   // i386 socket
    p.push_back(BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 373, 1, 0));   // i386 shutdown
    stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
    stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    return p;
}

// --- --tcp-dumps-refused-after N -------------------------------------------

Prog trap_netlink_io() {
    Prog p;
    stmt(p, BPF_LD | BPF_W | BPF_ABS, kArchOff);
    jeq(p, kArch, 0, 4);
    stmt(p, BPF_LD | BPF_W | BPF_ABS, kNrOff);
    jeq(p, __NR_sendto, 1, 0);
    jeq(p, __NR_recvmsg, 0, 1);
    stmt(p, BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
    stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    return p;
}

bool read_mem(pid_t pid, uint64_t addr, void* out, size_t len) {
    iovec local{out, len}, remote{reinterpret_cast<void*>(addr), len};
    return process_vm_readv(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(len);
}

bool write_mem(pid_t pid, uint64_t addr, const void* in, size_t len) {
    iovec local{const_cast<void*>(in), len}, remote{reinterpret_cast<void*>(addr), len};
    return process_vm_writev(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(len);
}

// The netlink protocol of fd `fd` of `pid` (NETLINK_SOCK_DIAG,
// NETLINK_ROUTE), or -1 for any other descriptor.
int netlink_protocol(pid_t pid, int fd) {
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) return -1;
    const int dup = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, fd, 0));
    close(pidfd);
    if (dup < 0) return -1;
    int domain = 0, protocol = 0;
    socklen_t len = sizeof domain;
    const bool ok = getsockopt(dup, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
                    (len = sizeof protocol, getsockopt(dup, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == 0);
    close(dup);
    return ok && domain == AF_NETLINK ? protocol : -1;
}

void send_fd(int sock, int fd) {
    char data = 'f';
    iovec iov{&data, 1};
    alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl;
    mh.msg_controllen = sizeof ctl;
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(sock, &mh, 0) != 1) _exit(126);
}

int recv_fd(int sock) {
    char data = 0;
    iovec iov{&data, 1};
    alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl;
    mh.msg_controllen = sizeof ctl;
    if (recvmsg(sock, &mh, 0) != 1) return -1;
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

volatile sig_atomic_t g_child = 0;

// SIGTERM and SIGINT are the command's: passed on, so that a test that
// stops "the tool" through this wrapper stops the tool.
void forward(int sig) {
    if (g_child > 0) kill(g_child, sig);
}

// Which requests the supervisor refuses, and with what.
struct Refusal {
    long tcp_dumps_allowed = -1;  // >= 0: TCP dumps after that many get ENOENT
    bool udp_dumps = false;       // UDP dumps get ENOENT
    bool udp_destroys = false;    // UDP SOCK_DESTROY gets EOPNOTSUPP
    bool route_dumps = false;     // route dumps (NETLINK_ROUTE) get EBUSY
};

// The errno to refuse a request with (its header and protocol), or 0.
int refusal_for(const Refusal& r, const nlmsghdr& h, uint8_t protocol, long& tcp_dumps) {
    const bool dump = (h.nlmsg_type == SOCK_DIAG_BY_FAMILY || h.nlmsg_type == TCPDIAG_GETSOCK) &&
                      (h.nlmsg_flags & NLM_F_DUMP);
    if (dump && protocol == IPPROTO_TCP && r.tcp_dumps_allowed >= 0 && ++tcp_dumps > r.tcp_dumps_allowed)
        return ENOENT;
    if (dump && protocol == IPPROTO_UDP && r.udp_dumps) return ENOENT;
    if (h.nlmsg_type == SOCK_DESTROY && protocol == IPPROTO_UDP && r.udp_destroys) return EOPNOTSUPP;
    return 0;
}

int supervise(const Refusal& rule, char** cmd) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return 126;
    const pid_t child = fork();
    if (child < 0) return 126;
    if (child == 0) {
        close(pair[0]);
        Prog prog = trap_netlink_io();
        sock_fprog fp{static_cast<unsigned short>(prog.size()), prog.data()};
        const long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fp);
        if (listener < 0) {
            std::perror("old_kernel: seccomp listener");
            _exit(126);
        }
        send_fd(pair[1], static_cast<int>(listener));  // (sendmsg is not trapped)
        close(static_cast<int>(listener));
        close(pair[1]);
        _exit(exec_command(cmd));
    }
    close(pair[1]);
    g_child = child;
    struct sigaction sa{};
    sa.sa_handler = forward;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    const int listener = recv_fd(pair[0]);
    close(pair[0]);
    if (listener < 0) return 126;
    int status = 0;
    bool exited = false;
    long dumps = 0;
    std::map<std::pair<pid_t, int>, std::pair<uint32_t, int>> refused;  // (pid, fd) -> seq and errno to answer
    seccomp_notif_sizes sizes{};
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) return 126;
    std::vector<uint8_t> req_buf(sizes.seccomp_notif < sizeof(seccomp_notif) ? sizeof(seccomp_notif) : sizes.seccomp_notif);
    std::vector<uint8_t> resp_buf(sizes.seccomp_notif_resp < sizeof(seccomp_notif_resp) ? sizeof(seccomp_notif_resp)
                                                                                       : sizes.seccomp_notif_resp);
    while (!exited) {
        pollfd p{listener, POLLIN, 0};
        const int ready = poll(&p, 1, 100);
        if (waitpid(child, &status, WNOHANG) == child) exited = true;
        if (ready <= 0 || !(p.revents & POLLIN)) {
            if (p.revents & (POLLHUP | POLLERR)) break;
            continue;
        }
        std::memset(req_buf.data(), 0, req_buf.size());
        auto* req = reinterpret_cast<seccomp_notif*>(req_buf.data());
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) continue;  // its caller went away
        std::memset(resp_buf.data(), 0, resp_buf.size());
        auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_buf.data());
        resp->id = req->id;
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;  // unless answered below
        const pid_t pid = static_cast<pid_t>(req->pid);
        const int fd = static_cast<int>(req->data.args[0]);
        if (req->data.nr == __NR_sendto && rule.route_dumps) {
            nlmsghdr h{};
            if (req->data.args[2] >= sizeof h && read_mem(pid, req->data.args[1], &h, sizeof h) &&
                h.nlmsg_type == RTM_GETROUTE && (h.nlmsg_flags & NLM_F_DUMP) &&
                netlink_protocol(pid, fd) == NETLINK_ROUTE) {
                refused[{pid, fd}] = {h.nlmsg_seq, EBUSY};
                resp->flags = 0;
                resp->val = static_cast<int64_t>(req->data.args[2]);
            }
        } else if (req->data.nr == __NR_sendto) {
            nlmsghdr h{};
            uint8_t fam_proto[2] = {0, IPPROTO_TCP};  // TCPDIAG_GETSOCK is TCP's
            int err = 0;
            if (req->data.args[2] >= sizeof h + 2 && read_mem(pid, req->data.args[1], &h, sizeof h) &&
                (h.nlmsg_type == TCPDIAG_GETSOCK ||
                 read_mem(pid, req->data.args[1] + sizeof h, fam_proto, sizeof fam_proto)) &&
                netlink_protocol(pid, fd) == NETLINK_SOCK_DIAG && (err = refusal_for(rule, h, fam_proto[1], dumps)) != 0) {
                // Swallowed: the kernel never sees it; recvmsg answers.
                refused[{pid, fd}] = {h.nlmsg_seq, err};
                resp->flags = 0;
                resp->val = static_cast<int64_t>(req->data.args[2]);
            }
        } else if (req->data.nr == __NR_recvmsg) {
            auto it = refused.find({pid, fd});
            msghdr mh{};
            iovec iov{};
            if (it != refused.end() && read_mem(pid, req->data.args[1], &mh, sizeof mh) && mh.msg_iovlen >= 1 &&
                read_mem(pid, reinterpret_cast<uint64_t>(mh.msg_iov), &iov, sizeof iov)) {
                // NLMSG_ERROR: the errno, then the request's header as the kernel echoes it.
                struct {
                    nlmsghdr h;
                    int32_t error;
                    nlmsghdr echo;
                } answer{};
                answer.h.nlmsg_len = sizeof answer;
                answer.h.nlmsg_type = NLMSG_ERROR;
                answer.h.nlmsg_seq = it->second.first;
                answer.error = -it->second.second;
                answer.echo.nlmsg_seq = it->second.first;
                const int flags = 0;
                if (iov.iov_len >= sizeof answer &&
                    write_mem(pid, reinterpret_cast<uint64_t>(iov.iov_base), &answer, sizeof answer) &&
                    write_mem(pid, req->data.args[1] + offsetof(msghdr, msg_flags), &flags, sizeof flags)) {
                    resp->flags = 0;
                    resp->val = sizeof answer;
                    refused.erase(it);
                }
            }
        }
        (void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);  // ENOENT: its caller went away
    }
    while (!exited && waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr,
                     "usage: old_kernel --no-sock-diag|--no-pidfd-getfd|--i386-before-4.3|--tcp-dumps-refused-after N|"
                     "--no-udp-diag|--no-udp-destroy|--route-dumps-refused CMD [ARGS...]\n");
        return 2;
    }
    Refusal rule;
    if (std::strcmp(argv[1], "--tcp-dumps-refused-after") == 0) {
        if (argc < 4) return 2;
        rule.tcp_dumps_allowed = std::strtol(argv[2], nullptr, 10);
        return supervise(rule, argv + 3);
    }
    if (std::strcmp(argv[1], "--route-dumps-refused") == 0) {
        rule.route_dumps = true;
        return supervise(rule, argv + 2);
    }
    if (std::strcmp(argv[1], "--no-udp-diag") == 0 || std::strcmp(argv[1], "--no-udp-destroy") == 0) {
        rule.udp_dumps = std::strcmp(argv[1], "--no-udp-diag") == 0;
        rule.udp_destroys = !rule.udp_dumps;
        return supervise(rule, argv + 2);
    }
    Prog prog;
    if (std::strcmp(argv[1], "--no-sock-diag") == 0) {
        prog = no_sock_diag();
    } else if (std::strcmp(argv[1], "--no-pidfd-getfd") == 0) {
        prog = no_pidfd_getfd();
    } else if (std::strcmp(argv[1], "--i386-before-4.3") == 0) {
        prog = i386_before_4_3();
    } else {
        std::fprintf(stderr, "old_kernel: unknown mode '%s'\n", argv[1]);
        return 2;
    }
    sock_fprog fp{static_cast<unsigned short>(prog.size()), prog.data()};
    // Root may install a filter without no_new_privs; anyone else needs it.
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp) != 0) {
        if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp) != 0) {
            std::perror("old_kernel: seccomp");
            return 126;
        }
    }
    return exec_command(argv + 2);
}
