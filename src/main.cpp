// The only place that prints and picks exit codes: 0 success (also when
// nothing matched), 1 runtime failure, 2 usage error.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "wire/bytecode.hpp"
#include "core/fmt.hpp"
#include "engine/dry_run.hpp"
#include "engine/engine.hpp"
#include "core/options.hpp"
#include "report/json.hpp"
#include "report/report.hpp"
#include "engine/proc_terminator.hpp"
#include "sys/proc_sys.hpp"
#include "sys/sys.hpp"
#ifndef TC_NO_SOCK_DESTROY
#include "engine/kill_path.hpp"
#include "engine/sock_destroy.hpp"
#endif

namespace {

using namespace tc;

// printf to a descriptor, through our own formatter (no stdio in the binary).
__attribute__((format(printf, 2, 3))) void say(int fd, const char* format, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, format);
    int n = vfmt(buf, sizeof buf, format, ap);
    va_end(ap);
    if (n > 0) sys::write_all(fd, buf, static_cast<size_t>(n) < sizeof buf ? static_cast<size_t>(n) : sizeof buf - 1);
}

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Big enough for the acks of a whole destroy batch (each ack skb costs far
// more than its bytes in receive-buffer accounting).
constexpr int kSocketBuffer = 4 << 20;

#ifdef TC_NO_SOCK_DESTROY
constexpr char kMethods[] = "ways to end a connection: reset, shutdown, kill (built without SOCK_DESTROY)";
#else
constexpr char kMethods[] = "ways to end a connection: sock_destroy, reset, shutdown, kill";
#endif

class Logger final : public PollObserver, public KillObserver {
public:
    Logger(int fd, bool syslog, bool verbose, bool dry_run, bool json)
        : fd_(fd), syslog_(syslog), verbose_(verbose), dry_run_(dry_run), json_(json) {}

    // One line on stdout (the dry-run list and the JSON objects).
    static void out(const char* text, size_t len) {
        char buf[kJsonMax + 2];
        if (len > kJsonMax) len = kJsonMax;
        std::memcpy(buf, text, len);
        buf[len] = '\n';
        sys::write_all(STDOUT_FILENO, buf, len + 1);
    }

    void summary(const PollStats& stats) {
        char buf[kJsonMax];
        format_summary(buf, sizeof buf, stats, dry_run_);
        line(buf, stats.failed > 0);
        if (json_) out(buf, format_json_summary(buf, sizeof buf, stats, dry_run_));
    }

    void line(const char* text, bool error = false) {
        const timespec now = sys::realtime_now();
        char ts[40];
        format_timestamp(ts, sizeof ts, now);
        char buf[kLineMax + 64];
        int n = fmt(buf, sizeof buf, "%s %s\n", ts, text);
        if (n > 0) sys::write_all(fd_, buf, static_cast<size_t>(n) < sizeof buf ? static_cast<size_t>(n) : sizeof buf - 1);
        if (syslog_) {
            char dgram[kLineMax + 64];
            size_t len = format_syslog(dgram, sizeof dgram, error, now, sys::self_pid(), text);
            sys::syslog_send(dgram, len);
        }
    }

    void on_filter(const DumpScope& scope, std::span<const uint8_t> program) override {
        if (!verbose_) return;
        static const char* const v6_names[] = {"all", "IPv4-mapped only", "native only"};
        char buf[kLineMax];
        fmt(buf, sizeof buf, "filter for %s dump (%s): %zu bytes",
                      scope.family == AF_INET ? "AF_INET" : "AF_INET6",
                      scope.family == AF_INET ? "all" : v6_names[static_cast<int>(scope.v6)],
                      program.size());
        line(buf);
        for (size_t pos = 0; pos < program.size();) {
            char op[128];
            pos = describe_op(program, pos, op, sizeof op);
            fmt(buf, sizeof buf, "  %s", op);
            line(buf);
            if (pos == 0) break;
        }
    }

    void on_candidate(const SockRecord& rec, bool selected) override {
        if (!verbose_) return;
        char buf[kLineMax];
        format_candidate(buf, sizeof buf, rec, selected);
        line(buf);
    }

    void on_result(const SockRecord& rec, const KillResult& res) override {
        char buf[kJsonMax];
        if (json_) out(buf, format_json_result(buf, sizeof buf, rec, res));
        format_result(buf, sizeof buf, rec, res);
        if (dry_run_) {
            // The list goes to stdout (JSON replaces it there); the log keeps the summary.
            if (!json_) out(buf, std::strlen(buf));
            return;
        }
        line(buf, res.outcome == Outcome::Failed);
        if (res.outcome == Outcome::Failed && poll_fail_err_ == 0) poll_fail_err_ = res.err ? res.err : EIO;
    }

    void on_process_killed(const SockRecord& rec, int32_t pid, const char* comm, int why) override {
        char buf[kLineMax];
        format_kill(buf, sizeof buf, rec, pid, comm, why);
        line(buf);
    }

    // The errno of the poll's first failed connection (0: none), and reset.
    int take_poll_failure() {
        int e = poll_fail_err_;
        poll_fail_err_ = 0;
        return e;
    }

private:
    int fd_;
    bool syslog_;
    bool verbose_;
    bool dry_run_;
    bool json_;
    int poll_fail_err_ = 0;
};

const char* hint_for(int err, bool proc_path = false) {
    switch (err) {
        case EPERM: case EACCES:
            return proc_path ? " (the /proc path needs root, or CAP_SYS_PTRACE over the processes holding the connections)"
                             : " (tcp_closer needs CAP_NET_ADMIN: run it as root)";
        case EOPNOTSUPP: return " (this kernel lacks SOCK_DESTROY: CONFIG_INET_DIAG_DESTROY is not set)";
        case EINVAL: return " (kernel older than 4.5, or it refused the request)";
        case EPROTONOSUPPORT: case ENOENT: return " (inet_diag is not available in this kernel)";
        default: return "";
    }
}

int fail_runtime(Logger& log, bool log_is_stderr, const char* what, int err, bool proc_path = false) {
    char buf[kLineMax];
    fmt(buf, sizeof buf, "error: %s: %s%s", what, std::strerror(err), hint_for(err, proc_path));
    log.line(buf, true);
    if (!log_is_stderr) say(STDERR_FILENO, "tcp_closer: %s\n", buf);
    return kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
    ParseResult pr = parse_args(argc, argv);
    if (!pr.ok) {
        if (pr.value.empty())
            say(STDERR_FILENO, "tcp_closer: %s\n", pr.message);
        else
            say(STDERR_FILENO, "tcp_closer: %s: '%.*s'\n", pr.message, static_cast<int>(pr.value.size()),
                         pr.value.data());
        say(STDERR_FILENO, "Try 'tcp_closer --help' for more information.\n");
        return kExitUsage;
    }
    const Options& opt = pr.opts;
    if (opt.help) {
        sys::write_all(STDOUT_FILENO, kUsage, std::strlen(kUsage));
        return kExitOk;
    }
    if (opt.version) {
        say(STDOUT_FILENO, "%s\n%s\n", kVersion, kMethods);
        return kExitOk;
    }

    int log_fd = STDERR_FILENO;
    if (opt.logfile) {
        Result<int> fd = sys::open_append(opt.logfile);
        if (!fd) {
            say(STDERR_FILENO, "tcp_closer: %s '%s': %s\n", fd.error().what, opt.logfile, std::strerror(fd.error().code));
            return kExitFailure;
        }
        log_fd = *fd;
    }
    const bool log_is_stderr = log_fd == STDERR_FILENO;
    if (opt.syslog) sys::syslog_open();
    Logger log(log_fd, opt.syslog, opt.verbose, opt.dry_run, opt.json);

    // Dump and destroy use separate sockets, so acks never mix with a dump.
    sys::DiagSocket dump_sock;
    if (Status s = dump_sock.open(kSocketBuffer, kSocketBuffer); !s)
        return fail_runtime(log, log_is_stderr, s.error().what, s.error().code);

    sys::ProcSys proc_ops;
    ProcTerminator proc(proc_ops, opt.kill_owner ? ProcTerminator::Mode::KillOwner : ProcTerminator::Mode::Reset, &log);
    DryRunTerminator dry_run;
    Terminator* terminator = opt.dry_run ? static_cast<Terminator*>(&dry_run) : &proc;
    bool proc_path = !opt.dry_run;
#ifndef TC_NO_SOCK_DESTROY
    // A socket refused with EOPNOTSUPP although the kernel has SOCK_DESTROY
    // goes to the /proc path alone (see sock_destroy.hpp).
    sys::DiagSocket destroy_sock;
    SockDestroyTerminator sock_destroy(destroy_sock, &proc);
    // A dry run needs neither the destroy socket nor the probe (nor privileges).
    if (Status s = opt.dry_run ? Status{} : destroy_sock.open(kSocketBuffer, kSocketBuffer); !s)
        return fail_runtime(log, log_is_stderr, s.error().what, s.error().code);
    Result<PathChoice> choice = choose_path(opt.use_proc || opt.kill_owner || opt.dry_run, destroy_sock);
    if (!choice) return fail_runtime(log, log_is_stderr, "SOCK_DESTROY probe failed", choice.error().code);
    if (opt.dry_run) {
        // the list is the same whichever way a real run would end them
    } else if (choice->path == KillPath::SockDestroy) {
        terminator = &sock_destroy;
        proc_path = false;
    } else if (choice->reason) {
        char buf[kLineMax];
        fmt(buf, sizeof buf, "%s (probe answered: %s): ending connections through /proc instead",
                      choice->reason, std::strerror(choice->probe_err));
        log.line(buf);
    }
#endif
    if (opt.interval_ns > 0) {
        if (Status s = sys::install_stop_signals(); !s)
            return fail_runtime(log, log_is_stderr, s.error().what, s.error().code);
    }

    Engine engine(dump_sock, *terminator);
    int hinted_err = 0;  // a failure's hint is logged once per run and errno
    uint64_t next = sys::monotonic_ns();
    while (true) {
        Result<PollStats> stats = engine.poll(opt.sel, log);
        if (!stats) return fail_runtime(log, log_is_stderr, stats.error().what, stats.error().code, proc_path);
        char buf[kLineMax];
        log.summary(*stats);
        // One socket's error never ends the run; say once what it means.
        if (int err = log.take_poll_failure(); err != 0 && err != hinted_err) {
            hinted_err = err;
            fmt(buf, sizeof buf, "error: %zu connection(s) could not be ended: %s%s", stats->failed,
                          std::strerror(err), hint_for(err, proc_path));
            log.line(buf, true);
            if (!log_is_stderr && opt.interval_ns == 0) say(STDERR_FILENO, "tcp_closer: %s\n", buf);
        }
        if (opt.interval_ns == 0) return stats->failed > 0 ? kExitFailure : kExitOk;
        // Monotonic schedule; a poll that overran its slot starts the next at once.
        next += opt.interval_ns;
        uint64_t now = sys::monotonic_ns();
        if (next < now) next = now;
        if (sys::wait_until(next)) {
            log.line("stopping on signal");
            return kExitOk;
        }
    }
}
