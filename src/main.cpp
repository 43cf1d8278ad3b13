// The only place that picks exit codes: 0 success (also when nothing
// matched), 1 runtime failure, 2 usage error. It wires the layers together;
// app/logger.* writes what the user reads.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "app/logger.hpp"
#include "core/daemon_policy.hpp"
#include "core/errors.hpp"
#include "core/fmt.hpp"
#include "core/options.hpp"
#include "engine/dry_run.hpp"
#include "engine/engine.hpp"
#include "engine/proc_terminator.hpp"
#include "report/report.hpp"
#include "sys/netns.hpp"
#include "sys/owner_sys.hpp"
#include "sys/proc_sys.hpp"
#include "sys/sys.hpp"
#ifndef TC_NO_SOCK_DESTROY
#include "app/destroy_helper.hpp"
#include "engine/kill_path.hpp"
#include "engine/sock_destroy.hpp"
#endif

namespace {

using namespace tc;

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
constexpr char kProcNetWay[] = ": finding connections in /proc/net/tcp and /proc/net/tcp6, ending them through /proc";
constexpr char kFinders[] = "ways to find connections: sock_diag, /proc/net (where sock_diag is missing)";

int fail_runtime(Logger& log, bool log_is_stderr, const char* what, int err, bool proc_path = false) {
    char buf[kLineMax];
    fmt(buf, sizeof buf, "error: %s: %s%s", what, error_text(err), hint_for(err, proc_path));
    log.line(buf, true);
    log.flush();
    if (!log_is_stderr) say(STDERR_FILENO, "tcp_closer: %s\n", buf);
    return kExitFailure;
}

// One line at start-up, before anything is touched.
int fail_capability(const CapNeed& need) {
    say(STDERR_FILENO, "tcp_closer: missing capability %s, needed %s (run as root, or grant it, e.g. systemd's "
        "AmbientCapabilities=%s)\n", need.name, need.why, need.name);
    return kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
    sys::ensure_std_fds();
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
        const std::string_view text = usage_text();
        sys::write_all(STDOUT_FILENO, text.data(), text.size());
        return kExitOk;
    }
    if (opt.version) {
        say(STDOUT_FILENO, "%s\n%s\n%s\n", kVersion, kMethods, kFinders);
        return kExitOk;
    }
    const bool daemon = opt.interval_ns > 0;
    RunNeeds needs;
    needs.dry_run = opt.dry_run;
    needs.other_netns = opt.netns || opt.all_netns;
    needs.all_netns = opt.all_netns;
    needs.proc_path = opt.use_proc || opt.kill_owner;
    needs.read_marks = opt.sel.owner.n_mark > 0;
    needs.find_processes = opt.sel.owner.processes();
#ifdef TC_NO_SOCK_DESTROY
    needs.proc_path = true;
#endif
    const uint64_t caps = sys::effective_caps();
    // The SOCK_DESTROY path is checked once the probe has chosen it (below).
    if (needs.proc_path || needs.dry_run) {
        if (const CapNeed* m = missing_capability(caps, needs)) return fail_capability(*m);
    }
    // --netns: enter it before any socket is opened; a name that does not
    // exist is a usage error.
    if (opt.netns) {
        char path[256];
        Result<int> fd = netns_path(opt.netns, path, sizeof path) ? sys::open_netns(path) : Result<int>(make_error(ENAMETOOLONG, "name too long"));
        if (!fd) {
            say(STDERR_FILENO, "tcp_closer: no such network namespace: '%s' (%s)\n", opt.netns,
                error_text(fd.error().code));
            return fd.error().code == ENOENT ? kExitUsage : kExitFailure;
        }
        sys::Fd ns(*fd);
        // Only what entering it needs here: the rest waits for the path choice.
        RunNeeds enter = needs;
        enter.dry_run = true;
        if (const CapNeed* m = missing_capability(caps, enter)) return fail_capability(*m);
        if (Status s = sys::enter_netns(ns.get()); !s) {
            say(STDERR_FILENO, "tcp_closer: %s '%s': %s\n", s.error().what, opt.netns, error_text(s.error().code));
            return kExitFailure;
        }
    }
    // --uid names, --cgroup paths, --dev names (of the namespace we are in now).
    if (opt.sel.owner.any()) {
        const char* bad = "";
        if (Status s = sys::resolve_owner(pr.opts.sel.owner, bad); !s) {
            const int err = s.error().code;
            const bool usage = err == ENOENT || err == ENOTDIR || err == ENODEV;
            say(STDERR_FILENO, "tcp_closer: %s: '%s'%s%s\n", s.error().what, bad, usage ? "" : ": ",
                usage ? "" : error_text(err));
            return usage ? kExitUsage : kExitFailure;
        }
    }
    // --all-netns comes back here after visiting each namespace.
    sys::Fd home_ns;
    if (opt.all_netns) {
        Result<int> fd = sys::open_netns("/proc/self/ns/net");
        if (!fd) {
            say(STDERR_FILENO, "tcp_closer: cannot open /proc/self/ns/net: %s\n", error_text(fd.error().code));
            return kExitFailure;
        }
        home_ns = sys::Fd(*fd);
    }

    LogConfig lc;
    lc.path = opt.logfile;
    lc.syslog = opt.syslog;
    lc.verbose = opt.verbose;
    lc.dry_run = opt.dry_run;
    lc.json = opt.json;
    lc.owner = &opt.sel.owner;
    lc.quiet_empty = daemon;
    if (opt.logfile) {
        Result<int> fd = sys::open_append(opt.logfile);
        if (!fd) {
            say(STDERR_FILENO, "tcp_closer: %s '%s': %s\n", fd.error().what, opt.logfile, error_text(fd.error().code));
            return kExitFailure;
        }
        lc.fd = *fd;
    }
    const bool log_is_stderr = lc.fd == STDERR_FILENO;
    if (opt.syslog) sys::syslog_open();
    Logger log(lc);
    if (opt.netns) log.set_netns(opt.netns);
    if (Status s = sys::install_signals(daemon); !s)
        return fail_runtime(log, log_is_stderr, s.error().what, s.error().code);

    // Dump and destroy use separate sockets, so acks never mix with a dump.
    // Without NETLINK_SOCK_DIAG the /proc/net tables stand in for the dump,
    // and only the /proc path can end connections.
    sys::DiagSocket dump_sock;
    bool proc_net = false;
    if (Status s = dump_sock.open(kSocketBuffer, kSocketBuffer); !s) {
        if (!sock_diag_missing(s.error().code)) return fail_runtime(log, log_is_stderr, s.error().what, s.error().code);
        proc_net = true;
        needs.proc_path = !opt.dry_run;
        char buf[kLineMax];
        fmt(buf, sizeof buf, "NETLINK_SOCK_DIAG is not available (%s)%s", error_text(s.error().code), kProcNetWay);
        log.line(buf);
        if (const CapNeed* m = missing_capability(caps, needs)) return fail_capability(*m);
    }
    sys::ProcNetFiles tables;

    sys::ProcSys proc_ops;
    ProcTerminator proc(proc_ops, opt.kill_owner ? ProcTerminator::Mode::KillOwner : ProcTerminator::Mode::Reset, &log);
    DryRunTerminator dry_run;
    Terminator* terminator = opt.dry_run ? static_cast<Terminator*>(&dry_run) : &proc;
    bool proc_path = !opt.dry_run;
#ifndef TC_NO_SOCK_DESTROY
    // A socket refused with EOPNOTSUPP although the kernel has SOCK_DESTROY
    // goes to the /proc path alone (see sock_destroy.hpp).
    sys::DiagSocket destroy_sock;
    ForkHelper helper(kSocketBuffer);  // half of a large set, from a second process
    SockDestroyTerminator sock_destroy(destroy_sock, &proc, &helper);
    // A dry run needs neither the destroy socket nor the probe (nor privileges).
    if (Status s = opt.dry_run || proc_net ? Status{} : destroy_sock.open(kSocketBuffer, kSocketBuffer); !s)
        return fail_runtime(log, log_is_stderr, s.error().what, s.error().code);
    Result<PathChoice> choice = choose_path(needs.proc_path || opt.dry_run, destroy_sock);
    if (!choice) return fail_runtime(log, log_is_stderr, "SOCK_DESTROY probe failed", choice.error().code);
    if (opt.dry_run) {
        // the list is the same whichever way a real run would end them
    } else if (choice->path == KillPath::SockDestroy) {
        terminator = &sock_destroy;
        proc_path = false;
    } else if (choice->reason) {
        char buf[kLineMax];
        fmt(buf, sizeof buf, "%s (probe answered: %s): ending connections through /proc instead", choice->reason,
            error_text(choice->probe_err));
        log.line(buf);
    }
    needs.proc_path = proc_path;
    if (const CapNeed* m = missing_capability(caps, needs)) return fail_capability(*m);
#endif

    Engine engine(dump_sock, *terminator);
    engine.use_process_walk(proc_ops);
    if (proc_net) engine.use_proc_net(tables, proc);
    else engine.fall_back_to_proc_net(tables, proc, opt.dry_run ? static_cast<Terminator&>(dry_run) : proc);
    int hinted_err = 0;  // a failure's hint is logged once per run and errno
    bool told_no_tcp_info = false;
    // Sockets of the namespace we are in (new ones after entering another).
    auto open_sockets = [&]() -> Status {
        if (proc_net) return {};  // the tables are opened afresh each poll
        if (Status s = dump_sock.open(kSocketBuffer, kSocketBuffer); !s) return s;
#ifndef TC_NO_SOCK_DESTROY
        if (!opt.dry_run && !proc_path) return destroy_sock.open(kSocketBuffer, kSocketBuffer);
#endif
        return {};
    };
    // One poll of the namespace we are in. Returns -1 to go on, or the exit
    // status that ends the run now.
    auto poll_here = [&](bool& connections_failed) -> int {
        Result<PollStats> stats = engine.poll(opt.sel, log);
        char buf[kLineMax];
        if (!stats) {
            const int err = stats.error().code;
            if ((!daemon && !opt.all_netns) || poll_error_is_lasting(err))
                return fail_runtime(log, log_is_stderr, stats.error().what, err, proc_path);
            // Ridden out: log it; the next poll starts with new netlink sockets.
            fmt(buf, sizeof buf, "poll failed: %s: %s (next poll goes on)", stats.error().what, error_text(err));
            log.line(buf, true);
            connections_failed = true;
            (void)open_sockets();
            return -1;
        }
        if (stats->switched_to_proc_net) {
            proc_path = !opt.dry_run;
            fmt(buf, sizeof buf, "inet_diag refused every TCP dump (no tcp_diag module)%s", kProcNetWay);
            log.line(buf);
        }
        if (stats->owner_ops_refused) {
            fmt(buf, sizeof buf, "kernel filter refused --dev/--mark/--cgroup (%s): checked in user space only",
                error_text(stats->owner_ops_refused));
            log.line(buf);
        }
        log.summary(*stats);
        if (stats->failed > 0) connections_failed = true;
        if (stats->no_tcp_info > 0 && !told_no_tcp_info) {
            told_no_tcp_info = true;
            fmt(buf, sizeof buf, "tcp_info could not be read for %zu connection(s) found in /proc/net (%s): they are "
                "never treated as idle", stats->no_tcp_info,
                stats->no_tcp_info_err ? error_text(stats->no_tcp_info_err) : "no process holds them");
            log.line(buf);
        }
        // One socket's error never ends the run; say once what it means.
        const int err = log.take_poll_failure();
        if (err != 0 && err != hinted_err) {
            hinted_err = err;
            fmt(buf, sizeof buf, "error: %zu connection(s) could not be ended: %s%s", stats->failed,
                error_text(err), hint_for(err, proc_path));
            log.line(buf, true);
            if (!log_is_stderr && !daemon) {
                log.flush();
                say(STDERR_FILENO, "tcp_closer: %s\n", buf);
            }
        }
        // A capability lost since start-up is lasting: say which, stop.
        if (daemon && (err == EPERM || err == EACCES)) {
            if (const CapNeed* m = missing_capability(sys::effective_caps(), needs)) {
                fmt(buf, sizeof buf, "lost capability %s", m->name);
                return fail_runtime(log, log_is_stderr, buf, err, proc_path);
            }
        }
        return -1;
    };
    NetnsList namespaces;
    uint64_t next = sys::monotonic_ns();
    while (true) {
        bool failed = false;
        int code = -1;
        if (!opt.all_netns) {
            code = poll_here(failed);
        } else {
            if (Status s = sys::list_netns(namespaces); !s)
                return fail_runtime(log, log_is_stderr, s.error().what, s.error().code);
            for (size_t i = 0; i < namespaces.size() && code < 0; ++i) {
                // A namespace that vanished since the listing is skipped quietly.
                Result<int> fd = sys::open_netns(namespaces[i].path);
                if (!fd) continue;
                sys::Fd ns(*fd);
                if (!sys::enter_netns(ns.get())) continue;
                log.set_netns(namespaces[i].name);
                if (Status s = open_sockets(); s) code = poll_here(failed);
            }
            log.set_netns(nullptr);
            if (Status s = sys::enter_netns(home_ns.get()); !s)
                return fail_runtime(log, log_is_stderr, s.error().what, s.error().code);
        }
        log.flush();
        if (code >= 0) return code;
        if (!daemon) return failed ? kExitFailure : kExitOk;
        // Monotonic schedule; a poll that overran its slot starts the next at once.
        next += opt.interval_ns;
        const uint64_t now = sys::monotonic_ns();
        if (next < now) next = now;
        sys::Wake wake;
        while ((wake = sys::wait_until(next)) == sys::Wake::Hangup) log.reopen();
        if (wake == sys::Wake::Stop) {
            log.line("stopping on signal");
            return kExitOk;
        }
    }
}
