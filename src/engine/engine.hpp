// One poll: dump the sockets the selection asks for (kernel-filtered),
// check each again in user space, then end the selected ones. The dump is
// finished before anything is destroyed: destroying during a dump can make
// the kernel skip sockets of the same hash bucket.
//
// One poll is a function of (transport, selection): the engine keeps only
// buffers between polls, so it can later run per network namespace.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/bytecode.hpp"
#include "core/pod_vec.hpp"
#include "proc/owner_map.hpp"
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
    size_t vanished = 0;
    size_t skipped = 0;        // over --max-kills
    size_t would_end = 0;  // --dry-run
    size_t failed = 0;
    size_t no_tcp_info = 0;    // /proc/net: candidates whose tcp_info could not be read (never idle)
    int no_tcp_info_err = 0;   // why, for the last of them (0: no holder found)
    bool switched_to_proc_net = false;  // inet_diag refused every dump: /proc/net from now on
    int owner_ops_refused = 0;  // the kernel refused --dev/--mark/--cgroup in the filter (this errno):
                                // from now on they are checked in user space only
};

class ProcOps;

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

// Adds one result to the counters.
void count_result(PollStats& stats, const EndResult& result);

// What the engine tells the caller while it works; main logs it.
class PollObserver {
public:
    virtual void on_filter(const DumpScope& scope, std::span<const uint8_t> program) = 0;
    virtual void on_candidate(const SockRecord& rec, uint32_t rtt_us, bool selected) = 0;
    virtual void on_result(const SockRecord& rec, const EndResult& result) = 0;

protected:
    ~PollObserver() = default;
};

class Engine {
public:
    Engine(DiagTransport& dump, Terminator& terminator) : dump_(dump), terminator_(&terminator) {}
    // From now on, find sockets in the /proc/net tables instead of asking
    // inet_diag (a kernel without NETLINK_SOCK_DIAG); `idle` reads the
    // tcp_info the idle rules need.
    void use_proc_net(ProcNetTables& tables, IdleReader& idle) {
        tables_ = &tables;
        idle_ = &idle;
    }
    // Where the socket opens but inet_diag cannot be loaded (the kernel
    // refuses every TCP dump with ENOENT): switch to the tables and to
    // `proc` (the /proc path) for good; the poll that switches says so in
    // PollStats::switched_to_proc_net.
    void fall_back_to_proc_net(ProcNetTables& tables, IdleReader& idle, Terminator& proc) {
        fallback_tables_ = &tables;
        fallback_idle_ = &idle;
        fallback_terminator_ = &proc;
    }
    // Ends connections with `t` from now on (the path chosen at start-up).
    void use_terminator(Terminator& t) { terminator_ = &t; }
    // --pid/--comm: which processes hold the matched sockets (the /proc walk).
    void use_process_walk(ProcOps& ops) { procs_ = &ops; }
    Result<PollStats> poll(const Selection& sel, PollObserver& obs);

private:
    // Every dump of the plan; a dump the kernel refuses is tried again the
    // way the refusal allows (without the owner ops, per family, or from
    // the /proc/net tables), noted in `stats`.
    Status dump_all(const Selection& sel, PollObserver& obs, PollStats& stats);
    Status dump_scope(const Selection& sel, const DumpScope& scope, PollObserver& obs);
    // The /proc/net way: every line of the tables, selected in user space.
    Status read_tables(const Selection& sel, PollObserver& obs, PollStats& stats);
    // Keeps the matches held by a process that --pid/--comm select.
    Status keep_selected_processes(const Selection& sel);

    DiagTransport& dump_;
    Terminator* terminator_;
    ProcNetTables* tables_ = nullptr;
    IdleReader* idle_ = nullptr;
    ProcNetTables* fallback_tables_ = nullptr;
    IdleReader* fallback_idle_ = nullptr;
    Terminator* fallback_terminator_ = nullptr;
    uint32_t seq_ = 0;
    bool single_walk_ = true;  // until the kernel refuses the legacy request
    bool owner_ops_ = true;    // until the kernel refuses DEV/MARK/CGROUP_COND
    ProcOps* procs_ = nullptr;
    OwnerMap owners_;
    PodVec<SockRecord> matches_;
    PodVec<EndResult> results_;
    PodVec<uint8_t> bytecode_;  // sized from the selection (filter_size_bound)
    PodVec<uint8_t> request_;
    std::array<uint8_t, 32768> rx_{};  // one dump datagram always fits (src/KERNEL.md: The dump)
};

}  // namespace tc
