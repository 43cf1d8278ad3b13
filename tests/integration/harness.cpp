#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

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

int decode_status(int st) {
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return -1;
}

namespace {

std::string tool_path() {
    const char* p = std::getenv("TCP_CLOSER");
    return p ? p : "build/tcp_closer";
}

// In use_proc mode --use_proc comes first, so a test's last argument stays
// last (an option missing its value must stay missing).
std::vector<std::string> tool_argv(const std::vector<std::string>& args) {
    std::vector<std::string> v;
    if (mode() == Mode::Qemu) {  // user-mode emulation: no NETLINK_SOCK_DIAG there
        const char* q = std::getenv("TC_QEMU");
        v.push_back(q ? q : "qemu-x86_64");
    }
    if (mode() == Mode::ProcNet || mode() == Mode::OldI386) {  // a seccomp filter makes the kernel look older
        v.push_back("build/old_kernel");
        v.push_back(mode() == Mode::ProcNet ? "--no-sock-diag" : "--i386-before-4.3");
    }
    v.push_back(tool_path());
    if (mode() == Mode::UseProc) v.push_back("--use_proc");
    v.insert(v.end(), args.begin(), args.end());
    return v;
}

[[noreturn]] void exec_argv(const std::vector<std::string>& argv_s) {
    std::vector<char*> argv;
    for (const std::string& a : argv_s) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    std::perror("exec");
    _exit(127);
}

[[noreturn]] void exec_tool(const std::vector<std::string>& args) { exec_argv(tool_argv(args)); }

std::string slurp_fd(int fd) {
    std::string s;
    lseek(fd, 0, SEEK_SET);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
    return s;
}

// Forks; the child runs `prepare` (which may _exit) and then the tool, with
// stdout/stderr captured.
template <typename Prepare>
RunResult run_captured(const std::vector<std::string>& args, Prepare prepare) {
    FILE* out = std::tmpfile();
    FILE* err = std::tmpfile();
    if (!out || !err) die("tmpfile");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        dup2(fileno(out), 1);
        dup2(fileno(err), 2);
        prepare();
        exec_tool(args);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    RunResult r;
    r.status = decode_status(st);
    r.out = slurp_fd(fileno(out));
    r.err = slurp_fd(fileno(err));
    std::fclose(out);
    std::fclose(err);
    return r;
}

}  // namespace

Mode mode() {
    const char* m = std::getenv("TC_MODE");
    if (m && std::strcmp(m, "use_proc") == 0) return Mode::UseProc;
    if (m && std::strcmp(m, "nosd") == 0) return Mode::NoSockDestroy;
    if (m && std::strcmp(m, "qemu") == 0) return Mode::Qemu;
    if (m && std::strcmp(m, "procnet") == 0) return Mode::ProcNet;
    if (m && std::strcmp(m, "old_i386") == 0) return Mode::OldI386;
    if (m && std::strcmp(m, "kernel_procnet") == 0) return Mode::KernelProcNet;
    return Mode::SockDestroy;
}

bool proc_path() { return mode() != Mode::SockDestroy && mode() != Mode::OldI386; }

bool proc_net() { return mode() == Mode::Qemu || mode() == Mode::ProcNet || mode() == Mode::KernelProcNet; }

const char* killed() { return proc_path() ? "reset" : "aborted"; }

RunResult run_tool(const std::vector<std::string>& args) {
    return run_captured(args, [] {});
}

namespace {

// In a forked child: become uid/gid 65534. Changing all uids away from 0
// clears every capability set.
void drop_privileges() {
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) {
        std::perror("drop privileges");
        _exit(126);
    }
}

// Forks; the child writes stdout and stderr to the files and runs `exec`.
template <typename Exec>
int spawn_to_files(const std::string& out_path, const std::string& err_path, Exec exec) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
        int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
        dup2(o, 1);
        dup2(e, 2);
        exec();
    }
    return pid;
}

int spawn_prepared(const std::vector<std::string>& args, const std::string& out_path, const std::string& err_path,
                   bool unprivileged) {
    return spawn_to_files(out_path, err_path, [&] {
        if (unprivileged) drop_privileges();
        exec_tool(args);
    });
}

}  // namespace

RunResult run_tool_unprivileged(const std::vector<std::string>& args) {
    return run_captured(args, [] { drop_privileges(); });
}

int spawn_tool_unprivileged(const std::vector<std::string>& args, const std::string& out_path,
                            const std::string& err_path) {
    return spawn_prepared(args, out_path, err_path, true);
}

RunResult run_tool_with_syslog(const std::vector<std::string>& args, std::vector<std::string>& lines) {
    char dir[] = "/tmp/tcp_closer_syslog.XXXXXX";
    if (!mkdtemp(dir)) die("mkdtemp");
    std::string sock_path = std::string(dir) + "/log";
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::snprintf(un.sun_path, sizeof un.sun_path, "%s", sock_path.c_str());
    if (bind(s, reinterpret_cast<sockaddr*>(&un), sizeof un) != 0) die("bind syslog socket");
    RunResult r = run_captured(args, [&] {
        // A mount namespace of the child's own: the host's /dev is untouched.
        if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            mount("tmpfs", "/dev", "tmpfs", 0, "size=64k") != 0) {
            std::perror("private /dev");
            _exit(125);
        }
        int f = open("/dev/log", O_CREAT | O_WRONLY, 0600);
        if (f < 0 || mount(sock_path.c_str(), "/dev/log", nullptr, MS_BIND, nullptr) != 0) {
            std::perror("bind /dev/log");
            _exit(125);
        }
        close(f);
    });
    char buf[2048];
    ssize_t n;
    while ((n = recv(s, buf, sizeof buf, MSG_DONTWAIT)) > 0) lines.emplace_back(buf, static_cast<size_t>(n));
    close(s);
    unlink(sock_path.c_str());
    rmdir(dir);
    return r;
}

RunResult run_tool_without(const std::string& dir, const std::vector<std::string>& args) {
    return run_tool_on_tmpfs(dir, false, false, args);
}

namespace {

// In a child about to exec: a mount namespace of its own (the host's mounts
// are untouched) in which `dir` is a 64 KiB tmpfs, read-only or filled.
void private_tmpfs(const std::string& dir, bool read_only, bool full) {
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("tmpfs", dir.c_str(), "tmpfs", read_only ? MS_RDONLY : 0, "size=64k") != 0) {
        std::perror("private tmpfs");
        _exit(125);
    }
    if (!full) return;
    const int fd = open((dir + "/filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    static const char block[4096] = {};
    while (fd >= 0 && write(fd, block, sizeof block) > 0) {
    }
    while (fd >= 0 && write(fd, block, 1) > 0) {
    }
    if (fd < 0 || errno != ENOSPC) {
        std::perror("filling the tmpfs");
        _exit(125);
    }
    close(fd);
}

}  // namespace

RunResult run_tool_on_tmpfs(const std::string& dir, bool read_only, bool full, const std::vector<std::string>& args) {
    return run_captured(args, [&] { private_tmpfs(dir, read_only, full); });
}

int spawn_tool_on_full_tmpfs(const std::string& dir, const std::vector<std::string>& args, const std::string& out_path,
                             const std::string& err_path) {
    return spawn_to_files(out_path, err_path, [&] {
        private_tmpfs(dir, false, true);
        exec_tool(args);
    });
}

int spawn_tool_fds(const std::vector<std::string>& args, int out_fd, int err_fd) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        if (out_fd >= 0) dup2(out_fd, 1); else close(1);
        if (err_fd >= 0) dup2(err_fd, 2); else close(2);
        exec_tool(args);
    }
    return pid;
}

RunResult run_tool_with_caps(const std::string& caps, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
    if (!caps.empty()) {
        std::string list;
        for (size_t at = 0; at <= caps.size();) {
            size_t comma = caps.find(',', at);
            if (comma == std::string::npos) comma = caps.size();
            list += (list.empty() ? "+" : ",+") + caps.substr(at, comma - at);
            at = comma + 1;
        }
        argv.push_back("--inh-caps=" + list);
        argv.push_back("--ambient-caps=" + list);
    }
    return run_tool_wrapped(argv, args);
}

RunResult run_tool_wrapped(const std::vector<std::string>& wrapper, const std::vector<std::string>& args) {
    std::vector<std::string> argv = wrapper;
    for (const std::string& a : tool_argv(args)) argv.push_back(a);
    return run_captured({}, [argv] { exec_argv(argv); });
}

long rss_kb(int pid) {
    std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
    size_t at = status.find("VmRSS:");
    return at == std::string::npos ? -1 : std::strtol(status.c_str() + at + 6, nullptr, 10);
}

int fd_count(int pid) {
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    int n = 0;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
        closedir(d);
    }
    return n;
}

int spawn_tool(const std::vector<std::string>& args, const std::string& out_path, const std::string& err_path) {
    return spawn_prepared(args, out_path, err_path, false);
}

int spawn_command(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path) {
    return spawn_to_files(out_path, err_path, [&] { exec_argv(argv); });
}

std::string tool_binary() { return tool_path(); }

int wait_tool(int pid, int timeout_ms) {
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return decode_status(st);
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return -1;
}

std::string read_file(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    std::string s = slurp_fd(fd);
    close(fd);
    return s;
}

int count(const std::string& haystack, const std::string& needle) {
    int n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace it
