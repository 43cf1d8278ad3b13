// Real sockets and the real binary, inside the private network namespace
// that netns_main.cpp created before any test ran. Nothing here can reach
// the host's connections.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

namespace it {

// addr:port ("127.0.0.1", "::1") as a socket address; its length.
socklen_t make_addr(int family, const char* addr, int port, sockaddr_storage& ss);

// The suite runs in several modes (see the Makefile's test target and
// tests/README.md), set by TC_MODE:
//   "sock_destroy" (default); "use_proc" (every run of the tool gets
//   --use_proc); "nosd" (TCP_CLOSER points at the NO_SOCK_DESTROY=1 binary);
// and for the tests tagged [core]:
//   "procnet": the tool under build/old_kernel --no-sock-diag, a seccomp
//   filter that refuses NETLINK_SOCK_DIAG sockets, so the real kernel looks
//   like one without inet_diag: the /proc/net path with real tcp_info;
//   "qemu": the tool under qemu's user-mode emulation (TC_QEMU, default
//   qemu-x86_64), which refuses NETLINK_SOCK_DIAG and answers TCP_INFO short;
//   "old_i386": TCP_CLOSER is the i386 binary, run natively under
//   build/old_kernel --i386-before-4.3 (only socketcall(2) works for socket
//   calls, as before Linux 4.3);
//   "kernel_procnet": inside a guest of make test-kernels whose kernel has
//   no inet_diag loaded: the /proc/net path on a real kernel, no wrapper.
enum class Mode { SockDestroy, UseProc, NoSockDestroy, Qemu, ProcNet, OldI386, KernelProcNet };
Mode mode();
// True when the tool ends connections through /proc in this mode.
bool proc_path();
// True when the tool finds connections in /proc/net (no NETLINK_SOCK_DIAG).
bool proc_net();
// What the owner of a connection the tool ended sees: ECONNABORTED after
// SOCK_DESTROY ("aborted"), ECONNRESET after a reset inside the owner.
const char* killed();

// A listening socket. family AF_INET or AF_INET6; v6only=false makes an
// [::] listener that also takes IPv4 (v4-mapped) connections.
int listen_on(int family, const char* addr, int port, bool v6only = true);

struct Conn {
    int client = -1;
    int server = -1;
};

// Connects to addr:port and accepts on `listener`. bind_port != 0 fixes the
// client's source port: take one from 41000 up, which the kernel never picks
// in the suite's namespace (netns_main.cpp).
Conn connect_pair(int listener, int family, const char* addr, int port, int bind_port = 0);

// Connects from src_addr (port chosen by the kernel) to addr:port and accepts.
Conn connect_from(int listener, int family, const char* src_addr, const char* addr, int port);

// Adds an address to lo (this namespace's own), once per run: "2001:db8::1".
void add_lo_address(const char* addr);

// The lines of `text` that contain `needle`.
std::vector<std::string> lines_with(const std::string& text, const std::string& needle);

// What a socket's owner sees now: "alive" (nothing to read), "aborted"
// (ECONNABORTED: destroyed here), "reset" (ECONNRESET: the peer was
// destroyed), "eof", "data" or another errno name. Consumes the pending error: ask once.
std::string state_of(int fd);

void send_byte(int fd);
void sleep_ms(int ms);
void close_all(const std::vector<Conn>& conns);

struct RunResult {
    int status = -1;  // exit code, or 128+signal
    std::string out;
    std::string err;
};

// A waitpid status as run_tool reports it: the exit code, or 128+signal.
int decode_status(int wait_status);

// Runs build/tcp_closer (or $TCP_CLOSER) with args and waits for it.
RunResult run_tool(const std::vector<std::string>& args);

// Same, in the background; returns the pid. Output goes to the files.
int spawn_tool(const std::vector<std::string>& args, const std::string& out_path, const std::string& err_path);
// Runs a whole command line (argv[0] found in PATH or as a path) in the
// background, output to the files; returns the pid. For wrappers around
// the tool: tool_binary() is the tool.
int spawn_command(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path);
std::string tool_binary();

// Waits up to timeout_ms; returns the exit code, or -1 on timeout.
int wait_tool(int pid, int timeout_ms);

// Runs the tool as an unprivileged user (uid/gid 65534) with no capabilities.
RunResult run_tool_unprivileged(const std::vector<std::string>& args);
int spawn_tool_unprivileged(const std::vector<std::string>& args, const std::string& out_path,
                            const std::string& err_path);

// Starts the tool with stdout and stderr on the given descriptors (-1:
// closed), stdin from /dev/null; returns the pid.
int spawn_tool_fds(const std::vector<std::string>& args, int out_fd, int err_fd);

// Runs the tool through setpriv as uid/gid 65534 holding only `caps`
// ("net_admin", "sys_ptrace,kill", or "" for none), as systemd's
// AmbientCapabilities= would.
RunResult run_tool_with_caps(const std::string& caps, const std::vector<std::string>& args);

// Runs the tool behind a wrapper command line (`setarch x86_64 --uname-2.6`):
// the wrapper's argv, then the tool's as run_tool builds it.
RunResult run_tool_wrapped(const std::vector<std::string>& wrapper, const std::vector<std::string>& args);

// Resident memory (kB) and open descriptors of a running process.
long rss_kb(int pid);
int fd_count(int pid);

// Runs the tool in a private mount namespace of its own in which `dir`
// ("/etc", "/proc") is an empty tmpfs: a system without those files.
RunResult run_tool_without(const std::string& dir, const std::vector<std::string>& args);

// Runs the tool in a private mount namespace of its own in which `dir` is
// a small tmpfs (64 KiB): read-only with `read_only`, or with `full` filled
// to the last byte first (a full file system).
RunResult run_tool_on_tmpfs(const std::string& dir, bool read_only, bool full, const std::vector<std::string>& args);
// The same for a daemon on a full tmpfs, in the background (spawn_tool).
int spawn_tool_on_full_tmpfs(const std::string& dir, const std::vector<std::string>& args, const std::string& out_path,
                             const std::string& err_path);

// Runs the tool with /dev/log (in a private mount namespace of its own)
// bound to a datagram socket of ours; returns what arrived there.
RunResult run_tool_with_syslog(const std::vector<std::string>& args, std::vector<std::string>& syslog_lines);

// A child process holding one socket. It closes every fd in `drop` (the
// parent's other sockets it inherited), blocks in recv() on `fd`, writes to
// a pipe what that returned ("error:<errno>", "eof" or "data"), then sleeps
// until it is killed.
struct Child {
    int pid = -1;
    int report = -1;  // read end of the pipe
};
Child spawn_reader(int fd, const std::vector<int>& drop);
// The child's report, or "" if none came within timeout_ms.
std::string read_report(const Child& c, int timeout_ms);
bool running(int pid);  // not exited (and not reaped)
// SIGTERM, then reap: the exit status as run_tool reports it (143 = it was
// still running and died of our SIGTERM).
int stop_child(Child& c);

std::string read_file(const std::string& path);
int count(const std::string& haystack, const std::string& needle);

}  // namespace it
