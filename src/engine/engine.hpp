// One poll: dump the sockets the rules ask for (each protocol once,
// kernel-filtered by the OR of the rules), check each again in user space
// against every rule, and end each one under the first rule whose every
// condition holds. The dump is finished before anything is destroyed:
// destroying during a dump can make the kernel skip sockets of the same
// hash bucket.
//
// One poll is a function of (transport, rules): the engine keeps only
// buffers between polls, so it runs per network namespace.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/bytecode.hpp"
#include "core/pod_vec.hpp"
#include "proc/owner_map.hpp"
#include "core/rules.hpp"
#include "core/selection.hpp"
#include "engine/terminator.hpp"
#include "engine/transport.hpp"

namespace tc {

struct PollStats {
    size_t matched = 0;
    size_t ended = 0;         // by any method (the sum of the four below)
    size_t sock_destroy = 0;
    size_t reset = 0;
    size_t shutdown = 0;
    size_t killed = 0;
    size_t no_owner = 0;
    size_t holders_hidden = 0; // of no_owner: held by some process (inode set) that /proc does not show
    size_t vanished = 0;
    size_t skipped = 0;        // over --max-kills
    size_t would_end = 0;  // --dry-run
    size_t armed = 0;      // arming: something set on the owner's socket
    size_t kept = 0;       // arming: nothing set, the owner's choices stand
    size_t would_arm = 0;  // --dry-run of an arming rule
    bool arming = false;   // a rule of this poll arms (the summary then counts armed and kept)
    size_t failed = 0;
    struct PerProto {
        size_t matched = 0;
        size_t ended = 0;      // (dry run: would end)
        size_t failed = 0;
    };
    PerProto by_proto[kProtos];  // the totals above split by protocol
    size_t no_tcp_info = 0;    // /proc/net: candidates whose tcp_info could not be read (never idle)
    int no_tcp_info_err = 0;   // why, for the last of them (0: no holder found)
    // Bit 1 << Proto: inet_diag refused every dump of that protocol, so its
    // sockets come from /proc/net from now on (said once, by this poll).
    uint8_t switched_to_proc_net = 0;
    uint32_t foreign = 0;       // netlink datagrams dropped: not sent by the kernel
    Error end_failure{};        // code != 0: ending broke off part way (the counts above still hold)
    int owner_ops_refused = 0;  // the kernel refused --dev/--mark/--cgroup in the filter (this errno):
                                // from now on they are checked in user space only
};

class ProcOps;
class DumpSink;

// tcp_info for sockets found without it (the /proc/net tables carry none).
class IdleReader {
public:
    // Sets has_info and last_data_recv_ms where it can; returns how many it
    // could not read, and in `why` the errno that kept the last of those
    // unread (0 when no holder was found for any).
    virtual size_t read_idle(std::span<SockRecord> recs, int& why) = 0;

protected:
    ~IdleReader() = default;
};

// Adds one result of a socket of protocol `p` to the counters.
void count_result(PollStats& stats, const EndResult& result, Proto p = Proto::Tcp);

// What the engine tells the caller while it works; main logs it.
class PollObserver {
public:
    virtual void on_filter(const DumpScope& scope, std::span<const uint8_t> program) = 0;
    virtual void on_candidate(const SockRecord& rec, uint32_t rtt_us, bool selected) = 0;
    // It shows every candidate (the verbose log): a dump is never asked
    // twice for tcp_info, so each candidate is shown once.
    virtual bool shows_candidates() const { return false; }
    virtual void on_result(const SockRecord& rec, const EndResult& result) = 0;
    // --src-removed: the local prefixes this poll's route dump gave.
    virtual void on_local_prefixes(const LocalPrefixes& local) { (void)local; }

protected:
    ~PollObserver() = default;
};

// Each protocol has its own way to find sockets (inet_diag dumps, or the
// /proc/net tables) and to end them (a terminator): a kernel may have
// tcp_diag but no udp_diag, or TCP's SOCK_DESTROY but not UDP's.
class Engine {
public:
    Engine(DiagTransport& dump, Terminator& terminator) : dump_(dump) { use_terminator(terminator); }
    // From now on, find sockets of every protocol in the /proc/net tables
    // instead of asking inet_diag (a kernel without NETLINK_SOCK_DIAG);
    // `idle` reads the tcp_info the idle rules need.
    void use_proc_net(ProcNetTables& tables, IdleReader& idle) {
        for (Way& w : ways_) w.tables = &tables;
        idle_ = &idle;
    }
    // Where the socket opens but a protocol's inet_diag handler cannot be
    // loaded (the kernel refuses its first dump with ENOENT): that protocol
    // switches to the tables and to `proc` (the /proc path) for good; the
    // poll that switches says so in PollStats::switched_to_proc_net.
    void fall_back_to_proc_net(ProcNetTables& tables, IdleReader& idle, Terminator& proc) {
        fallback_tables_ = &tables;
        idle_ = &idle;
        fallback_terminator_ = &proc;
    }
    // Ends connections with `t` from now on (the path chosen at start-up),
    // of every protocol or of one.
    void use_terminator(Terminator& t) {
        for (Way& w : ways_) w.terminator = &t;
    }
    void use_terminator(Proto p, Terminator& t) { way(p).terminator = &t; }
    // The matches of an arming rule (Selection::arm) go to `a` instead of
    // a terminator: the /proc path's, or a dry run's.
    void use_armer(Armer& a) { armer_ = &a; }
    // Arming's memory: a socket armed (or kept as it was) is neither armed
    // nor reported again while later polls still find it. Called after
    // each round of polls (every namespace of --all-netns: cookies are
    // the host's): forgets the sockets this round's polls did not find.
    void end_round();
    // --pid/--comm: which processes hold the matched sockets (the /proc walk).
    void use_process_walk(ProcOps& ops) { procs_ = &ops; }
    // --src-removed: a NETLINK_ROUTE channel, dumped afresh before and
    // after the socket dump of every poll, `pause` waiting the grace.
    void use_routes(DiagTransport& routes, Pause& pause) {
        routes_ = &routes;
        pause_ = &pause;
    }
    // Each record given to the observer carries its rule's index (rec.rule).
    Result<PollStats> poll(std::span<const Rule> rules, PollObserver& obs);
    // One selection, as the one rule without a name.
    Result<PollStats> poll(const Selection& sel, PollObserver& obs) {
        Rule one;
        one.sel = sel;
        return poll(std::span<const Rule>(&one, 1), obs);
    }

private:
    struct Way {
        ProcNetTables* tables = nullptr;  // set: the /proc/net tables, not inet_diag
        Terminator* terminator = nullptr;
    };
    Way& way(Proto p) { return ways_[static_cast<size_t>(p)]; }

    // Every dump of the plan for protocol `p`; a dump the kernel refuses is
    // tried again the way the refusal allows (without the owner ops, per
    // family, or from the /proc/net tables), noted in `stats`.
    Status dump_protocol(Proto p, PollObserver& obs, PollStats& stats);
    Status dump_scope(const DumpScope& scope, PollObserver& obs);
    // The answer to one request (engine/receive.hpp); counts what came
    // from senders other than the kernel.
    Status receive(DiagTransport& t, NlConversation& conv, NlSink& sink);
    // How often a dump the table changed under is asked again in one poll.
    static constexpr int kDumpAttempts = 3;
    // The /proc/net way: every line of `p`'s tables, selected in user space.
    Status read_tables(Proto p, PollObserver& obs, PollStats& stats);
    // --src-removed: this poll's local prefixes, from a route dump.
    Status read_local_prefixes();
    // --src-removed: the rules of that kind give up the matches whose local
    // address is local again after the grace (a second route dump).
    Status confirm_removed();
    // Rule `k` gives up the matches it would decide (no earlier rule still
    // wants them) unless a process that `processes` (--pid/--comm) selects
    // holds them (keep_held), or if one such process does (--exclude-comm).
    Status keep_selected_processes(size_t k, const OwnerSel& processes, bool keep_held);
    // Adds a dumped socket to the matches with the rules it matches (`x`:
    // its extras, none from the /proc/net tables); false when memory ran out.
    friend class DumpSink;
    bool take(SockRecord& rec, const DumpScope& dump, const SockExtras& x, PollObserver& obs);
    // Does some rule of this poll ...
    template <typename Pred>
    bool any_rule(Pred pred) const {
        for (const Rule& r : rules_)
            if (pred(r.sel)) return true;
        return false;
    }
    // Ends recs[0, n) (n: under --max-kills), each with its protocol's
    // terminator, one call per run of records with the same one.
    Status end_matches(size_t n);
    // Moves the first `n` matches whose group (wanted_by_, once decided)
    // is `group` after the others, each part in dump order: where they
    // start, or kNoMemory.
    static constexpr size_t kNoMemory = ~size_t{0};
    size_t to_back(size_t n, uint64_t group);
    // The key of `rec` in arming's memory: its cookie, or its inode (with
    // the top bit set) where it has none (the /proc/net tables).
    static uint64_t arm_key(const SockRecord& rec);

    DiagTransport& dump_;
    std::array<Way, kProtos> ways_{};
    IdleReader* idle_ = nullptr;
    ProcNetTables* fallback_tables_ = nullptr;
    Terminator* fallback_terminator_ = nullptr;
    uint32_t seq_ = 0;
    uint32_t foreign_ = 0;  // datagrams dropped since the last poll's stats: not the kernel's
    bool single_walk_ = true;  // until the kernel refuses the legacy request
    bool owner_ops_ = true;    // until the kernel refuses DEV/MARK/CGROUP_COND
    bool info_seen_ = false;   // this dump: a rule that reads tcp_info had a candidate
    bool info_hint_[2 * kProtos] = {};  // per protocol and family (IPv6 or not): the last dump's info_seen_
    ProcOps* procs_ = nullptr;
    Armer* armer_ = nullptr;
    PodVec<uint64_t> armed_;  // sorted: the last round's armed and kept sockets
    PodVec<uint64_t> seen_;   // this round's: armed or kept now, or found again
    DiagTransport* routes_ = nullptr;
    Pause* pause_ = nullptr;
    LocalPrefixes local_;
    OwnerMap owners_;
    std::span<const Rule> rules_;  // this poll's
    PodVec<SockRecord> matches_;
    PodVec<uint64_t> wanted_by_;  // per match: bit k set while rule k's conditions hold
    PodVec<int32_t> holder_;      // per match: the process --pid/--comm found holding it (0: none)
    PodVec<SockRecord> rows_;     // scratch: /proc/net rows, one rule's matches, the skipped
    PodVec<int32_t> moved_holder_;  // scratch: holder_ of the rows to_back moves
    PodVec<EndResult> results_;
    PodVec<uint8_t> bytecode_;  // sized from the rules (rules_filter_bound)
    PodVec<uint8_t> request_;
    std::array<uint8_t, 32768> rx_{};  // one dump datagram always fits (src/KERNEL.md: The dump)
};

}  // namespace tc
