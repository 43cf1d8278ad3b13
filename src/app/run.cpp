#include "app/run.hpp"

#include "core/errors.hpp"
#include "core/fmt.hpp"
#include "report/report.hpp"
#include "sys/netns.hpp"
#include "sys/owner_sys.hpp"
#include "wire/route_wire.hpp"
#ifndef TC_NO_SOCK_DESTROY
#include "engine/addr_watch.hpp"
#include "engine/end_path.hpp"
#endif

namespace tc {

namespace {

constexpr char kProcNetWay[] = "%s: finding connections in %s, ending them through /proc";
constexpr Proto kProtocols[] = {Proto::Tcp, Proto::Udp};

// The /proc/net tables of the protocols in `tcp` and `udp`.
const char* tables_of(bool tcp, bool udp) {
    if (tcp && udp) return "/proc/net/tcp, tcp6, udp and udp6";
    return udp ? "/proc/net/udp and /proc/net/udp6" : "/proc/net/tcp and /proc/net/tcp6";
}

#ifdef TC_NO_SOCK_DESTROY
constexpr bool kOnlyProc = true;
#else
constexpr bool kOnlyProc = false;
#endif

RunStatus status(RunStatus::Kind kind, const Error& e, const char* value = nullptr, const char* hint = nullptr) {
    RunStatus s;
    s.kind = kind;
    s.error = e;
    s.value = value;
    s.hint = hint;
    return s;
}

LogConfig log_config(const Options& opt) {
    LogConfig c;
    c.path = opt.logfile;
    c.syslog = opt.syslog;
    c.verbose = opt.verbose;
    c.dry_run = opt.dry_run;
    c.json = opt.json;
    c.quiet_empty = opt.daemon();
    return c;
}

RunPolicy needs_of(const Options& opt, const RulesUse& use) {
    return RunPolicy(opt.dry_run, kOnlyProc || opt.use_proc || opt.kill_owner, opt.netns || opt.all_netns,
                     opt.all_netns, use.read_marks, use.find_processes, use.arms, use.ends);
}

}  // namespace

Run::Run(Options& opt)
    : RunParts(), opt_(opt), daemon_(opt.daemon()), caps_(sys::effective_caps(true)), policy_(needs_of(opt, {})) {
    log_.configure(log_config(opt));
    metrics_.configure(opt.metrics, {kVersionNumber, kOnlyProc ? "proc" : "sock_destroy,proc"});
    if (opt.kill_owner) proc_.set_mode(ProcTerminator::Mode::KillOwner);
    if (opt.dry_run) engine_.use_terminator(dry_run_);
    engine_.use_armer(opt.dry_run ? static_cast<Armer&>(dry_run_) : proc_);
    for (bool& p : on_proc_) p = policy_.proc_path();
}

bool Run::sock_destroy_still_used() const {
    for (Proto p : kProtocols)
        if ((p == Proto::Udp ? started_.udp : started_.tcp) && !on_proc_[static_cast<size_t>(p)]) return true;
    return false;
}

RunStatus Run::fail(const Error& e) {
    char buf[kLineMax];
    fmt(buf, sizeof buf, "error: %s: %s%s", e.what, error_text(e.code), hint_for(e.code, policy_.proc_path()));
    log_.line(buf, true);
    log_.flush();
    RunStatus s = status(RunStatus::Kind::Failed, e, nullptr, hint_for(e.code, policy_.proc_path()));
    s.logged = true;
    return s;
}

RunStatus Run::fail_capability(const CapNeed* cap) {
    RunStatus s;
    s.kind = RunStatus::Kind::MissingCapability;
    s.cap = cap;
    return s;
}

RunStatus Run::stop_missing(const CapNeed* cap, const char* how) {
    char buf[kLineMax];
    fmt(buf, sizeof buf, "error: %s %s, needed %s", how, cap->name, cap->why);
    log_.line(buf, true);
    log_.flush();
    RunStatus s = fail_capability(cap);
    s.logged = true;
    return s;
}

RunStatus Run::enter_namespace() {
    if (const CapNeed* m = policy_.missing_before_path(caps_)) return fail_capability(m);
    if (opt_.all_netns) {
        Result<int> fd = sys::open_netns("/proc/self/ns/net");
        if (!fd) return status(RunStatus::Kind::Failed, fd.error(), "/proc/self/ns/net");
        home_ns_ = sys::Fd(*fd);
    }
    if (!opt_.netns) return {};
    // A name that names no namespace is the user's mistake.
    char path[256];
    if (!netns_path(opt_.netns, path, sizeof path))
        return status(RunStatus::Kind::Usage, usage_error(ENAMETOOLONG, "network namespace name too long"), opt_.netns);
    Result<int> fd = sys::open_netns(path);
    if (!fd && fd.error().code == ENOENT)
        return status(RunStatus::Kind::Usage, usage_error(ENOENT, "no such network namespace"), opt_.netns);
    if (!fd) return status(RunStatus::Kind::Failed, fd.error(), opt_.netns);
    sys::Fd ns(*fd);
    if (Status s = sys::enter_netns(ns.get()); !s) return status(RunStatus::Kind::Failed, s.error(), opt_.netns);
    log_.set_netns(opt_.netns);
    return {};
}

RunStatus Run::load_rules() {
    if (!opt_.rules) {
        if (!rules_.set_single(opt_.sel)) return status(RunStatus::Kind::Failed, make_error(ENOMEM, "out of memory"));
        started_ = rules_use(rules_.rules());
    } else {
        // Rules may come and go on SIGHUP: the run sets up both protocols,
        // both families and the route dumps from the start.
        char release[65];
        started_.tcp = started_.udp = started_.ipv4 = started_.ipv6 = started_.src_removed = true;
        started_.src_removed_unbounded = kernel_reports_sockopt(sys::kernel_release(release, sizeof release));
        if (Status s = read_rules(rules_); !s) {
            if (s.error().kind == ErrorKind::Usage) return status(RunStatus::Kind::RulesRefused, s.error());
            return status(RunStatus::Kind::Failed, s.error(), opt_.rules);
        }
        // (The names in the rules are resolved in resolve_owners, in the
        // namespace of the run.)
        const RulesUse in_file = rules_use(rules_.rules());
        started_.read_marks = in_file.read_marks;
        started_.find_processes = in_file.find_processes;
        started_.arms = in_file.arms;
        started_.ends = true;  // a reload may add a rule that ends
        started_.figures = 0;
    }
    use_rules();
    policy_ = needs_of(opt_, started_);
    return {};
}

RunStatus Run::resolve_owners() {
    if (opt_.rules) {
        if (Status s = resolve_rules(rules_); !s)
            return status(s.error().kind == ErrorKind::Usage ? RunStatus::Kind::RulesRefused : RunStatus::Kind::Failed,
                          s.error());
        return {};
    }
    for (OwnerSel* o : {&rules_.rules()[0].sel.owner, &rules_.rules()[0].sel.ex.owner}) {
        if (!o->any()) continue;
        sys::OwnerProblem& why = owner_why_;
        if (Status s = sys::resolve_owner(*o, why); !s) {
            const bool usage = s.error().kind == ErrorKind::Usage;
            return status(usage ? RunStatus::Kind::Usage : RunStatus::Kind::Failed, s.error(), why.value, why.hint);
        }
    }
    // Names are numbers now: --uid root --exclude-uid 0 is caught here.
    if (const char* m = excluded_entirely(rules_.rules()[0].sel, true))
        return status(RunStatus::Kind::Usage, usage_error(EINVAL, m));
    return {};
}

RunStatus Run::open_log() {
    if (opt_.logfile) {
        Result<int> fd = sys::open_append(opt_.logfile);
        if (!fd) return status(RunStatus::Kind::Failed, fd.error(), opt_.logfile);
        if (Status s = sys::check_writable(*fd); !s) return status(RunStatus::Kind::Failed, s.error(), opt_.logfile);
        log_.use_fd(*fd);
    }
    // Before anything is ended: a metrics file that cannot be written is
    // said now, not after the poll (a daemon that loses it later goes on).
    if (opt_.metrics) {
        if (Status s = sys::check_replaceable(opt_.metrics); !s)
            return status(RunStatus::Kind::Failed, s.error(), opt_.metrics);
    }
    if (opt_.syslog) sys::syslog_open();
    if (Status s = sys::install_signals(daemon_); !s) return fail(s.error());
    return {};
}

RunStatus Run::choose_path() {
    if (opt_.watch) {
        // Subscribed before the first poll, so no removal falls between.
        Status s = events_sock_.open(1 << 20, 1 << 16, NETLINK_ROUTE,
                                     RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE);
        if (!s) return fail(s.error());
    }
    if (started_.src_removed) {
        // Without the kernel's IP_TRANSPARENT/IP_FREEBIND bits a proxy's
        // non-local socket would look removed: only addresses the user
        // named (--src) may then be judged.
        char release[65];
        if (!opt_.rules && started_.src_removed_unbounded && !kernel_reports_sockopt(sys::kernel_release(release, sizeof release)))
            return status(RunStatus::Kind::Failed,
                          make_error(EOPNOTSUPP, "--src-removed needs Linux 5.10 or later, which reports "
                                                 "IP_TRANSPARENT and IP_FREEBIND sockets"),
                          release, ", or --src to bound it to addresses you name");
        if (Status s = routes_sock_.open(kSocketBuffer, 1 << 16, NETLINK_ROUTE); !s) return fail(s.error());
        engine_.use_routes(routes_sock_, grace_);
    }
    // Dump and destroy use separate sockets, so acks never mix with a dump.
    // Without NETLINK_SOCK_DIAG the /proc/net tables stand in for the dump,
    // and only the /proc path can end connections.
    if (Status s = dump_sock_.open(kSocketBuffer, kSocketBuffer); !s) {
        if (!sock_diag_missing(s.error().code)) return fail(s.error());
        proc_net_ = true;
        for (bool& p : on_proc_) p = true;
        char buf[kLineMax], what[64];
        fmt(what, sizeof what, "NETLINK_SOCK_DIAG is not available (%s)", error_text(s.error().code));
        fmt(buf, sizeof buf, kProcNetWay, what, tables_of(started_.tcp, started_.udp));
        log_.line(buf);
        if (const CapNeed* m = policy_.use_proc_path(caps_)) return fail_capability(m);
    }
    Terminator& on_proc = opt_.dry_run ? static_cast<Terminator&>(dry_run_) : proc_;
    engine_.use_process_walk(proc_ops_);
    if (proc_net_) {
        engine_.use_proc_net(tables_, proc_);
    } else {
        engine_.fall_back_to_proc_net(tables_, proc_, on_proc);
    }
#ifndef TC_NO_SOCK_DESTROY
    // A dry run needs neither the destroy socket nor the probe (nor privileges).
    if (!proc_net_ && policy_.sock_destroy()) {
        if (Status s = destroy_sock_.open(kSocketBuffer, kSocketBuffer); !s) return fail(s.error());
        // Each protocol on its own: udp_diag is a module of its own, and
        // UDP sockets can be destroyed only since Linux 4.9.
        for (Proto p : kProtocols) {
            if (!(p == Proto::Udp ? started_.udp : started_.tcp)) continue;
            Result<PathChoice> choice = probe_path(destroy_sock_, p);
            if (!choice) return fail(make_error(choice.error().code, "SOCK_DESTROY probe failed"));
            if (choice->path == EndPath::SockDestroy) {
                engine_.use_terminator(p, sock_destroy_);
                continue;
            }
            on_proc_[static_cast<size_t>(p)] = true;
            char buf[kLineMax];
            fmt(buf, sizeof buf, "%s (probe answered: %s): ending %s through /proc instead", choice->reason,
                error_text(choice->probe_err), p == Proto::Udp ? "UDP sockets" : "connections");
            log_.line(buf);
            if (const CapNeed* m = policy_.use_proc_path(caps_, sock_destroy_still_used())) return fail_capability(m);
        }
    }
#endif
    if (const CapNeed* m = policy_.missing(caps_)) return fail_capability(m);
    return {};
}

Status Run::open_sockets() {
    if (started_.src_removed) {
        if (Status s = routes_sock_.open(kSocketBuffer, 1 << 16, NETLINK_ROUTE); !s) return s;
    }
    if (proc_net_) return {};  // the tables are opened afresh each poll
    if (Status s = dump_sock_.open(kSocketBuffer, kSocketBuffer); !s) return s;
#ifndef TC_NO_SOCK_DESTROY
    if (policy_.sock_destroy()) return destroy_sock_.open(kSocketBuffer, kSocketBuffer);
#endif
    return {};
}

RunStatus Run::poll_here(bool& connections_failed) {
    Result<PollStats> stats = engine_.poll(rules_.rules(), metrics_);
    char buf[kLineMax];
    auto failed = [&](const Error& e) -> RunStatus {
        metrics_.poll_failed();
        if ((!daemon_ && !opt_.all_netns) || poll_error_is_lasting(e.code)) return fail(e);
        // Ridden out: log it; the next poll starts with new netlink sockets.
        fmt(buf, sizeof buf, "poll failed: %s: %s (next poll goes on)", e.what, error_text(e.code));
        log_.line(buf, true);
        connections_failed = true;
        (void)open_sockets();
        return {};
    };
    if (!stats) return failed(stats.error());
    for (Proto p : kProtocols) {
        const size_t i = static_cast<size_t>(p);
        if (!(stats->switched_to_proc_net & (1u << i))) continue;
        on_proc_[i] = on_tables_[i] = true;
        // No dump socket is needed once no protocol is dumped.
        proc_net_ = (!started_.tcp || on_tables_[0]) && (!started_.udp || on_tables_[1]);
        char what[64];
        fmt(what, sizeof what, "inet_diag refused every %s dump (no %s_diag module)", p == Proto::Udp ? "UDP" : "TCP",
            proto_name(p));
        fmt(buf, sizeof buf, kProcNetWay, what, tables_of(p == Proto::Tcp, p == Proto::Udp));
        log_.line(buf);
        // The /proc path needs its own capabilities: checked now, as at start-up.
        if (const CapNeed* m = policy_.use_proc_path(sys::effective_caps(), sock_destroy_still_used()))
            return stop_missing(m, "missing capability");
    }
    if (stats->owner_ops_refused) {
        fmt(buf, sizeof buf, "kernel filter refused --dev/--mark/--cgroup (%s): checked in user space only",
            error_text(stats->owner_ops_refused));
        log_.line(buf);
    }
    log_.summary(*stats);
    metrics_.add(*stats);
    if (stats->end_failure.code) return failed(stats->end_failure);
    if (stats->failed > 0) connections_failed = true;
    // Held, but by no process we can see: the /proc path cannot reach them.
    if (stats->holders_hidden) {
        if (!told_hidden_) {
            told_hidden_ = true;
            fmt(buf, sizeof buf,
                "error: %zu connection(s) left: their holders are not visible in /proc (a private PID namespace?)",
                stats->holders_hidden);
            log_.line(buf, true);
            if (!daemon_) fmt(failure_line_, sizeof failure_line_, "%s", buf);
        }
        connections_failed = true;
    }
    foreign_ += stats->foreign;
#ifndef TC_NO_SOCK_DESTROY
    foreign_ += sock_destroy_.take_foreign();
#endif
    if (foreign_ > 0 && !told_foreign_) {
        told_foreign_ = true;
        fmt(buf, sizeof buf,
            "warning: dropped %u netlink message(s) not from the kernel (a process with CAP_NET_ADMIN here sends "
            "to us)",
            foreign_);
        log_.line(buf, true);
    }
    if (stats->no_tcp_info > 0 && !told_no_tcp_info_) {
        told_no_tcp_info_ = true;
        fmt(buf, sizeof buf,
            "tcp_info could not be read for %zu connection(s) found in /proc/net (%s): they are never treated as idle",
            stats->no_tcp_info, stats->no_tcp_info_err ? error_text(stats->no_tcp_info_err) : "no process holds them");
        log_.line(buf);
    }
    // One socket's error never ends the run; say once what it means.
    const int err = log_.take_poll_failure();
    if (err != 0 && err != hinted_err_) {
        hinted_err_ = err;
        fmt(buf, sizeof buf, "error: %zu connection(s) could not be %s: %s%s", stats->failed,
            stats->arming ? "ended or armed" : "ended", error_text(err), hint_for(err, policy_.proc_path() || stats->arming));
        log_.line(buf, true);
        // A one-shot run says it on stderr too when the log is a file (main does).
        if (!daemon_) fmt(failure_line_, sizeof failure_line_, "%s", buf);
    }
    // A capability lost since start-up is lasting: say which, stop.
    if (daemon_) {
        if (const CapNeed* m = policy_.lost_capability(sys::effective_caps(), err))
            return stop_missing(m, "lost capability");
    }
    return {};
}

void Run::note_skipped(const Netns& ns, const Error& e) {
    for (size_t i = 0; i < skipped_.size(); ++i)
        if (skipped_[i].dev == ns.dev && skipped_[i].ino == ns.ino && skipped_[i].err == e.code) return;
    if (!skipped_.push_back(Skipped{ns.dev, ns.ino, e.code})) return;
    char buf[kLineMax];
    fmt(buf, sizeof buf, "skipped: %s: %s", e.what, error_text(e.code));
    log_.line(buf, true);
}

RunStatus Run::poll_all_namespaces(bool& connections_failed) {
    if (Status s = sys::list_netns(namespaces_); !s) return fail(s.error());
    RunStatus end;
    for (size_t i = 0; i < namespaces_.size() && end.ok(); ++i) {
        const Netns& ns = namespaces_[i];
        log_.set_netns(ns.name);
        Result<int> fd = sys::open_netns(ns.path);
        if (!fd) {
            // A process that ended since the listing took its name with it.
            if (fd.error().code != ENOENT && fd.error().code != ESRCH) note_skipped(ns, fd.error());
            continue;
        }
        sys::Fd handle(*fd);
        if (Status s = sys::enter_netns(handle.get()); !s) {
            note_skipped(ns, s.error());
            continue;
        }
        if (Status s = open_sockets(); !s) {
            note_skipped(ns, s.error());
            continue;
        }
        end = poll_here(connections_failed);
    }
    log_.set_netns(nullptr);
    if (Status s = sys::enter_netns(home_ns_.get()); !s && end.ok()) return fail(s.error());
    return end;
}

bool Run::address_removed() {
    WatchSource src(events_sock_, log_);
    const Removals r = collect_removals(src, events_rx_);
    foreign_ += src.foreign;
    if (src.hangup && opt_.rules) reload_rules();
    if (r.verdict != Removals::Verdict::Poll) return false;
    char buf[kLineMax];
    format_removals(buf, sizeof buf, r);
    log_.line(buf);
    // A removed address of a family the run does not select ends nothing.
    if (!told_family_ && ((r.ev.v6 && !use_.ipv6) || (r.ev.v4 && !use_.ipv4))) {
        told_family_ = true;
        log_.line(r.ev.v6 && !use_.ipv6 ? "IPv6 is not selected: add -6 (its removed addresses end nothing)"
                                            : "IPv4 is not selected: add -4 (its removed addresses end nothing)");
    }
    return true;
}

RunStatus Run::poll_loop() {
    if (opt_.rules && rules_.size() == 0) {
        char buf[kLineMax];
        fmt(buf, sizeof buf, "rules: %s holds no rule: nothing is ended until it does (SIGHUP reads it again)",
            opt_.rules);
        log_.line(buf);
    }
    uint64_t next = sys::monotonic_ns();
    const int events = opt_.watch ? events_sock_.fd() : -1;
    bool on_schedule = true;  // this poll is the interval's (or the first)
    while (true) {
        bool failed = false;
        const uint64_t start = sys::monotonic_ns();
        RunStatus end = opt_.all_netns ? poll_all_namespaces(failed) : poll_here(failed);
        engine_.end_round();
        // SIGHUP during the poll's waits: the rules change from the next poll.
        if (grace_.take_hangup() && opt_.rules) reload_rules();
        if (!end.ok()) metrics_.poll_failed();
        metrics_.end_poll(start);
        log_.flush();
        if (!end.ok()) return end;
        if (!daemon_) {
            // A one-shot run leaves a record, or says it could not.
            if (const int err = log_.lost_error())
                return status(RunStatus::Kind::Failed, make_error(err, "log lines were lost, writing"),
                              opt_.logfile ? opt_.logfile : "stderr");
            if (const int err = metrics_.write_error())
                return status(RunStatus::Kind::Failed, make_error(err, "cannot write metrics file"), opt_.metrics);
            if (failed) {
                end.kind = RunStatus::Kind::ConnectionsFailed;
                end.value = failure_line_[0] ? failure_line_ : nullptr;
                end.logged = true;
            }
            return end;
        }
        // Monotonic schedule; a poll that overran its slot starts the next
        // at once. Without -i (--watch alone) only events wake us.
        if (opt_.interval_ns == 0) {
            next = UINT64_MAX;
        } else if (on_schedule) {
            next += opt_.interval_ns;
            const uint64_t now = sys::monotonic_ns();
            if (next < now) next = now;
        }
        while (true) {
            const sys::Wake wake = sys::wait_until(next, events);
            if (wake == sys::Wake::Hangup) {
                log_.reopen();
                if (opt_.rules) reload_rules();
                continue;
            }
            if (wake == sys::Wake::Event && !address_removed() && !sys::stop_requested()) continue;
            if (wake == sys::Wake::Stop || sys::stop_requested()) {
                log_.line("stopping on signal");
                return {};
            }
            on_schedule = wake == sys::Wake::Deadline;
            break;
        }
    }
}

}  // namespace tc
