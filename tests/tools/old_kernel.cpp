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
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

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

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: old_kernel --no-sock-diag|--i386-before-4.3 CMD [ARGS...]\n");
        return 2;
    }
    Prog prog;
    if (std::strcmp(argv[1], "--no-sock-diag") == 0) {
        prog = no_sock_diag();
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
    execvp(argv[2], argv + 2);
    std::perror("old_kernel: exec");
    return 127;
}
