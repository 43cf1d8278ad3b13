#include "engine/engine.hpp"

#include <cstring>

#include "engine/proc_terminator.hpp"
#include "proc/procnet.hpp"
#include "wire/diag_wire.hpp"
#include "wire/netlink.hpp"

namespace tc {

namespace {
constexpr const char kRefused[] = "inet_diag dump request refused";
constexpr const char kLegacyRefused[] = "inet_diag dump request (both families) refused";
}  // namespace

Status Engine::dump_scope(const Selection& sel, const DumpScope& scope, PollObserver& obs) {
    const size_t bound = filter_size_bound(sel);
    if (!bytecode_.resize(bound) || !request_.resize(bound + 128)) return make_error(ENOMEM, "no memory for the filter");
    Result<size_t> prog =
        compile_filter(sel, scope, std::span<uint8_t>(bytecode_.data(), bytecode_.size()), owner_ops_);
    if (!prog) return prog.error();
    std::span<const uint8_t> program(bytecode_.data(), *prog);

    DumpRequest req;
    req.seq = ++seq_;
    req.family = scope.family;
    req.states = sel.states;
    req.want_info = sel.needs_tcp_info();
    req.bytecode = program;
    req.sport = sel.sports.single();
    req.dport = sel.dports.single();
    Result<size_t> len = encode_dump_request(req, std::span<uint8_t>(request_.data(), request_.size()));
    if (!len) return len.error();
    if (Status s = dump_.send(std::span<const uint8_t>(request_.data(), *len)); !s) return s;

    bool accepted = false;
    while (true) {
        Result<size_t> got = dump_.recv(rx_, true);
        if (!got && got.error().code == EAGAIN) return make_error(ETIMEDOUT, "the kernel stopped answering during a dump");
        if (!got) return got.error();
        if (*got == 0) return make_error(EPROTO, "netlink socket closed during dump");
        NlMsgIter it(std::span<const uint8_t>(rx_.data(), *got));
        NlMsg m;
        while (it.next(m)) {
            if (m.seq != req.seq) continue;  // stale answer to an earlier request
            int err = 0;
            if (m.type == NLMSG_ERROR) {
                // Refused before any socket: nothing of this dump was seen.
                if (!nl_payload_errno(m.payload, err)) return make_error(EPROTO, "short netlink error message");
                return make_error(err ? err : EPROTO, scope.family == AF_UNSPEC ? kLegacyRefused : kRefused,
                                  ErrorKind::Refused);
            }
            // The kernel took the filter: the verbose log shows it now, once
            // (a refused one is tried again another way, see poll()).
            if (!accepted) {
                accepted = true;
                obs.on_filter(scope, program);
            }
            if (m.type == NLMSG_DONE) {
                if (nl_payload_errno(m.payload, err) && err != 0) return make_error(err, "inet_diag dump failed");
                return {};
            }
            if (m.type != SOCK_DIAG_BY_FAMILY && m.type != TCPDIAG_GETSOCK) continue;
            SockExtras x;
            Result<SockRecord> rec = decode_sock(m.payload, &x);
            if (!rec) return rec.error();
            bool pick = selected(sel, scope, *rec) && owner_attrs_match(sel, x, rec->owner_ix);
            obs.on_candidate(*rec, x.rtt_us, pick);
            if (pick && !matches_.push_back(*rec)) return make_error(ENOMEM, "too many matching connections");
        }
        if (it.malformed()) return make_error(EPROTO, "malformed netlink message in dump");
    }
}

void count_result(PollStats& stats, const EndResult& r) {
    switch (r.outcome) {
        case Outcome::Ended:
            ++stats.ended;
            switch (r.method) {
                case Method::SockDestroy: ++stats.sock_destroy; break;
                case Method::Reset: ++stats.reset; break;
                case Method::Shutdown: ++stats.shutdown; break;
                case Method::Kill: ++stats.killed; break;
                case Method::None: break;
            }
            break;
        case Outcome::NoOwner: ++stats.no_owner; break;
        case Outcome::Vanished: ++stats.vanished; break;
        case Outcome::Failed: ++stats.failed; break;
        case Outcome::Skipped: ++stats.skipped; break;
        case Outcome::WouldEnd: ++stats.would_end; break;
    }
}

Status Engine::read_tables(const Selection& sel, PollObserver& obs, PollStats& stats) {
    // One scope for both tables: IPv4 (and v4-mapped, and native IPv6 with
    // -6), or native IPv6 alone.
    const DumpScope scope = plan_dumps(sel, true).scopes[0];
    for (bool v6 : {false, true}) {
        if (!v6 && !sel.ipv4) continue;  // -6 alone: IPv4 sockets never match
        if (Status s = tables_->open(v6); !s) return s;
        LineSplitter lines;
        bool full = false;
        auto take = [&](std::string_view line) {
            SockRecord r;
            if (!full && parse_procnet_line(line, v6, r) && matches_filter(sel, scope, r))
                full = !matches_.push_back(r);
        };
        while (true) {
            Result<size_t> got = tables_->read(rx_);
            if (!got) return got.error();
            if (*got == 0) break;
            lines.feed(std::span<const uint8_t>(rx_.data(), *got), take);
        }
        lines.finish(take);
        if (full) return make_error(ENOMEM, "too many matching connections");
    }
    std::span<SockRecord> found(matches_.data(), matches_.size());
    if (sel.needs_tcp_info()) stats.no_tcp_info = idle_->read_idle(found, stats.no_tcp_info_err);
    size_t kept = 0;
    const SockExtras none;  // the tables carry no mark and no cgroup
    for (SockRecord& r : found) {
        const bool pick = selected(sel, scope, r) && owner_attrs_match(sel, none, r.owner_ix);
        obs.on_candidate(r, 0, pick);
        if (pick) found[kept++] = r;
    }
    (void)matches_.resize(kept);  // shrinking: cannot fail
    return {};
}

Status Engine::keep_selected_processes(const Selection& sel) {
    if (!procs_) return make_error(ENOSYS, "no /proc walk for --pid/--comm");
    std::span<const SockRecord> found(matches_.data(), matches_.size());
    if (!owners_.want(found)) return make_error(ENOMEM, "too many matching connections");
    if (!found.empty()) {
        if (Status s = procs_->find_holders(owners_, &sel.owner); !s) return s;
    }
    if (!owners_.finish()) return make_error(ENOMEM, "too many socket holders");
    size_t kept = 0;
    for (const SockRecord& r : found)
        if (!owners_.holders_of(r.inode).empty()) matches_.data()[kept++] = r;
    (void)matches_.resize(kept);  // shrinking: cannot fail
    return {};
}

Status Engine::dump_all(const Selection& sel, PollObserver& obs, PollStats& stats) {
    DumpPlan plan = plan_dumps(sel, single_walk_);
    for (size_t i = 0; i < plan.count; ++i) {
        const DumpScope& scope = plan.scopes[i];
        Status s = dump_scope(sel, scope, obs);
        if (s) continue;
        if (s.error().kind != ErrorKind::Refused) return s;
        // Refused before it returned a socket: this dump is tried again
        // another way; the dumps before it stand.
        const int err = s.error().code;
        if (owner_ops_ && sel.owner.kernel_ops() && (err == EINVAL || err == EPERM)) {
            // A kernel without these ops (or MARK_COND without CAP_NET_ADMIN):
            // the same dump without them; user space still checks them.
            owner_ops_ = false;
            stats.owner_ops_refused = err;
            --i;
            continue;
        }
        if (scope.family == AF_UNSPEC &&
            (err == EINVAL || err == EOPNOTSUPP || err == ENOENT || err == EPROTONOSUPPORT)) {
            // A kernel without the compat request (the single walk is always
            // a plan's only dump): one dump per family from now on.
            single_walk_ = false;
            plan = plan_dumps(sel, false);
            i = static_cast<size_t>(-1);
            continue;
        }
        if (err == ENOENT && fallback_tables_ && i == 0) {
            // No inet_diag handler for TCP at all (the module cannot be loaded).
            use_proc_net(*fallback_tables_, *fallback_idle_);
            terminator_ = fallback_terminator_;
            fallback_tables_ = nullptr;
            stats.switched_to_proc_net = true;
            return read_tables(sel, obs, stats);
        }
        return s;
    }
    return {};
}

Result<PollStats> Engine::poll(const Selection& sel, PollObserver& obs) {
    matches_.clear();
    PollStats stats;
    if (Status s = tables_ ? read_tables(sel, obs, stats) : dump_all(sel, obs, stats); !s) return s.error();

    if (sel.owner.processes()) {
        if (Status s = keep_selected_processes(sel); !s) return s.error();
    }
    stats.matched = matches_.size();
    if (!results_.resize(matches_.size())) return make_error(ENOMEM, "too many matching connections");
    std::span<const SockRecord> recs(matches_.data(), matches_.size());
    std::span<EndResult> results(results_.data(), results_.size());
    // --max-kills: the first N in dump order are ended, the rest left alone.
    size_t to_end = recs.size();
    if (sel.max_per_poll > 0 && to_end > sel.max_per_poll) to_end = sel.max_per_poll;
    for (size_t i = to_end; i < recs.size(); ++i) {
        results[i] = EndResult{};
        results[i].outcome = Outcome::Skipped;
    }
    // With nothing matched, no terminator is asked (the /proc path would walk /proc for nothing).
    Status s = to_end == 0 ? Status{} : terminator_->end_connections(recs.first(to_end), results.first(to_end));
    for (size_t i = 0; i < recs.size(); ++i) {
        // --pid/--comm: name the process whatever way the connection ended.
        if (sel.owner.processes() && results[i].pid == 0) {
            std::span<const Holder> h = owners_.holders_of(recs[i].inode);
            if (!h.empty()) {
                results[i].pid = h[0].pid;
                // Sockets of one process come in a row: read its comm once.
                if (i > 0 && results[i - 1].pid == h[0].pid)
                    std::memcpy(results[i].comm, results[i - 1].comm, sizeof results[i].comm);
                else
                    procs_->comm(h[0].pid, results[i].comm);
            }
        }
        obs.on_result(recs[i], results[i]);
        count_result(stats, results[i]);
    }
    if (!s) return s.error();
    return stats;
}

}  // namespace tc
