// One run of the tool, from the parsed options to the end of its last poll,
// as named steps that main calls in order:
//
//   load_rules        the rules: --rules FILE read and parsed, or the
//                     command line's selection as the one rule
//   enter_namespace   --netns: setns before any socket is opened
//   resolve_owners    --uid names, --cgroup paths, --dev names, --pid
//                     processes (each must exist at start-up), in every
//                     rule
//   open_log          -f (it must take writes), the --metrics path (its
//                     temporary file created, written, removed), syslog,
//                     signals: all before anything is ended
//   choose_path       the sockets, and the way connections are found
//                     (inet_diag or /proc/net) and ended (SOCK_DESTROY,
//                     the /proc path, or a dry run)
//   poll_loop         one poll, or a daemon's polls until a stop signal;
//                     with --all-netns each poll visits every namespace;
//                     --metrics rewrites the run's counters after each
//
// A step either works or returns the RunStatus that ends the run; main
// turns that into a message and an exit code. What happens during the run
// goes to the log (app/logger.hpp).
#pragma once

#include <array>
#include <cstdint>

#include "app/logger.hpp"
#include "app/run_metrics.hpp"
#include "app/waits.hpp"
#include "core/netns_list.hpp"
#include "core/options.hpp"
#include "core/pod_vec.hpp"
#include "core/rules.hpp"
#include "core/run_policy.hpp"
#include "engine/dry_run.hpp"
#include "engine/engine.hpp"
#include "engine/proc_terminator.hpp"
#include "report/report.hpp"
#include "sys/owner_sys.hpp"
#include "sys/proc_sys.hpp"
#include "sys/sys.hpp"
#ifndef TC_NO_SOCK_DESTROY
#include "app/destroy_helper.hpp"
#include "engine/sock_destroy.hpp"
#endif

namespace tc {

struct RunStatus {
    enum class Kind : uint8_t {
        Ok,                 // done (also when nothing matched)
        ConnectionsFailed,  // some connection could not be ended (logged; `value`: the line saying why)
        Usage,              // a value names nothing usable: `error`, `value`
        Failed,             // the run cannot go on: `error`, `value`, `hint`
        MissingCapability,  // `cap`
        RulesRefused,       // the rules file has errors: Run::rule_errors()
    };
    Kind kind = Kind::Ok;
    Error error{};
    const char* value = nullptr;  // the user's value it is about, if any
    const char* hint = nullptr;   // what would work instead (", ..."), if anything
    const CapNeed* cap = nullptr;
    bool logged = false;          // already written to the log

    bool ok() const { return kind == Kind::Ok; }
};

// What a run holds. Run value-initializes it (RunParts() in its
// constructor): the block is zeroed in one go, and the compiler (with
// -fno-lifetime-dse, see the Makefile) then drops every initializer below
// that stores a zero; member by member, those zeros took 1.4 KB of
// code. It drops only those before the first call to a function that
// could see the block, so no initializer here may call one: Run's
// constructor sets what the options decide, afterwards.
struct RunParts {
    // Big enough for the acks of a whole destroy batch (each ack skb costs
    // far more than its bytes in receive-buffer accounting).
    static constexpr int kSocketBuffer = 4 << 20;

    RuleSet rules_;          // in force
    RulesUse started_;       // what the run set up for (the rules may not ask more)
    RulesUse use_;           // what the rules in force use
    PodVec<char> rules_text_;
    PodVec<RuleError> rule_errors_;
    Logger log_;  // configured by Run from the options
    RunMetrics metrics_{log_};  // the engine's observer: counts, then the log
    sys::Fd home_ns_;  // --all-netns comes back here after each namespace
    sys::DiagSocket dump_sock_;
    sys::DiagSocket routes_sock_;  // --src-removed: NETLINK_ROUTE, two route dumps per poll
    GracePause grace_{log_};
    sys::DiagSocket events_sock_;  // --watch: NETLINK_ROUTE, subscribed to address events
    std::array<uint8_t, 16384> events_rx_{};
    bool proc_net_ = false;  // no protocol is dumped: the /proc/net tables (no NETLINK_SOCK_DIAG)
    bool on_proc_[kProtos] = {};    // that protocol's connections end through /proc
    bool on_tables_[kProtos] = {};  // that protocol's inet_diag handler is missing: its tables
    sys::ProcNetFiles tables_;
    sys::ProcSys proc_ops_;
    ProcTerminator proc_{proc_ops_, ProcTerminator::Mode::Reset, &log_};
    DryRunTerminator dry_run_;
#ifndef TC_NO_SOCK_DESTROY
    sys::DiagSocket destroy_sock_;
    ForkHelper helper_{kSocketBuffer};  // half of a large set, from a second process
    // A socket refused with EOPNOTSUPP although the kernel has
    // SOCK_DESTROY goes to the /proc path alone (see sock_destroy.hpp).
    SockDestroyTerminator sock_destroy_{destroy_sock_, &proc_, &helper_};
#endif
    Engine engine_{dump_sock_, proc_};
    NetnsList namespaces_;
    sys::OwnerProblem owner_why_;  // what a failed owner lookup was about (main says it)
    struct Skipped {
        uint64_t dev, ino;
        int err;
    };
    PodVec<Skipped> skipped_;
    int hinted_err_ = 0;  // a failure's hint is logged once per run and errno
    char failure_line_[kLineMax] = "";  // a one-shot run's, for stderr
    bool told_no_tcp_info_ = false;
    uint32_t foreign_ = 0;  // netlink datagrams dropped: not the kernel's (said once)
    bool told_foreign_ = false;
    bool told_hidden_ = false;  // holders out of sight (said once)
    bool told_family_ = false;  // --watch: a removed address of a family not selected (said once)
};

class Run : RunParts {
public:
    explicit Run(Options& opt);
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

    RunStatus load_rules();
    RunStatus enter_namespace();
    RunStatus resolve_owners();
    RunStatus open_log();
    RunStatus choose_path();
    RunStatus poll_loop();

    // What RulesRefused is about, each with its line.
    std::span<const RuleError> rule_errors() const { return {rule_errors_.data(), rule_errors_.size()}; }
    size_t rule_count() const { return rules_.size(); }
    // The log is stderr (so a failure logged there needs no second line).
    bool log_is_stderr() const { return log_.fd() == 2; }

private:
    // One poll of the namespace we are in; Ok to go on.
    RunStatus poll_here(bool& connections_failed);
    // Every namespace, each with its own sockets; Ok to go on.
    RunStatus poll_all_namespaces(bool& connections_failed);
    // Sockets of the namespace we are in (new ones after entering another).
    Status open_sockets();
    // Logs a failure of the running tool (its hint chosen for the path in
    // use) and returns it as the run's end.
    RunStatus fail(const Error& e);
    RunStatus fail_capability(const CapNeed* cap);
    // A capability missing while the run goes: logged, and the end of it.
    RunStatus stop_missing(const CapNeed* cap, const char* how);
    // --watch, woken by the event socket: reads the events (and those of
    // the next few milliseconds); true when an address was removed (or
    // events were lost), logged: then a poll is due.
    bool address_removed();
    // The rules file read and parsed into `into` (errors in rule_errors_:
    // ErrorKind::Usage).
    Status read_rules(RuleSet& into);
    // The rules' owner names resolved, in the namespace we are in, and the
    // checks that need them (errors in rule_errors_: ErrorKind::Usage).
    Status resolve_rules(RuleSet& rules);
    // The rules in force changed: the log and use_ follow.
    void use_rules();
    // SIGHUP: the file again; a file with errors changes nothing.
    void reload_rules();
    // Does a selected protocol still end its connections with SOCK_DESTROY?
    bool sock_destroy_still_used() const;
    // --all-netns: a namespace skipped, said once per namespace and error.
    void note_skipped(const Netns& ns, const Error& e);

    Options& opt_;
    const bool daemon_;
    const uint64_t caps_;
    RunPolicy policy_;
};

}  // namespace tc
