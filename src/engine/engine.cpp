#include "engine/engine.hpp"

#include <cstring>

#include "engine/proc_terminator.hpp"
#include "engine/receive.hpp"
#include "proc/procnet.hpp"
#include "wire/diag_wire.hpp"
#include "wire/netlink.hpp"
#include "wire/route_wire.hpp"

namespace tc {

namespace {
constexpr const char kRefused[] = "inet_diag dump request refused";
constexpr const char kLegacyRefused[] = "inet_diag dump request (both families) refused";
}  // namespace

namespace {

// One dump's messages: each socket decoded, checked again and kept if
// selected; an error answer is the kernel's refusal of the request.
class DumpSink final : public NlSink {
public:
    DumpSink(const Selection& sel, const DumpScope& scope, const LocalPrefixes& local, std::span<const uint8_t> program,
             PollObserver& obs, PodVec<SockRecord>& matches)
        : sel_(sel), scope_(scope), local_(local), program_(program), obs_(obs), matches_(matches) {}

    Status take(const NlReply& r) override {
        // Refused before any socket: nothing of this dump was seen.
        if (r.kind == NlReply::Kind::Ack)
            return make_error(r.err ? r.err : EPROTO, scope_.family == AF_UNSPEC ? kLegacyRefused : kRefused,
                              ErrorKind::Refused);
        // The kernel took the filter: the verbose log shows it now, once
        // (a refused one is tried again another way, see poll()).
        if (!accepted_) {
            accepted_ = true;
            obs_.on_filter(scope_, program_);
        }
        if (r.kind == NlReply::Kind::Done) return r.err ? make_error(r.err, "inet_diag dump failed") : Status{};
        if (r.type != SOCK_DIAG_BY_FAMILY && r.type != TCPDIAG_GETSOCK) return {};
        SockExtras x;
        Result<SockRecord> rec = decode_sock(r.payload, &x, scope_.proto);
        if (!rec) return rec.error();
        bool pick = selected(sel_, scope_, *rec) && owner_attrs_match(sel_, x, rec->owner_ix) &&
                    src_removed_match(sel_, local_, *rec, x);
        obs_.on_candidate(*rec, x.rtt_us, pick);
        if (pick && !matches_.push_back(*rec)) return make_error(ENOMEM, "too many matching connections");
        return {};
    }

private:
    const Selection& sel_;
    const DumpScope& scope_;
    const LocalPrefixes& local_;
    std::span<const uint8_t> program_;
    PollObserver& obs_;
    PodVec<SockRecord>& matches_;
    bool accepted_ = false;
};

}  // namespace

Status Engine::receive(DiagTransport& t, NlConversation& conv, NlSink& sink) {
    Status s = receive_answer(t, rx_, conv, sink);
    foreign_ += conv.foreign();
    return s;
}

Status Engine::dump_scope(const Selection& sel, const DumpScope& scope, PollObserver& obs) {
    const size_t bound = filter_size_bound(sel, local_.size());
    if (!bytecode_.resize(bound) || !request_.resize(bound + 128)) return make_error(ENOMEM, "no memory for the filter");
    Result<size_t> prog = compile_filter(sel, scope, std::span<uint8_t>(bytecode_.data(), bytecode_.size()),
                                         owner_ops_, sel.src_removed ? &local_ : nullptr);
    if (!prog) return prog.error();
    std::span<const uint8_t> program(bytecode_.data(), *prog);

    DumpRequest req;
    req.proto = scope.proto;
    req.family = scope.family;
    req.states = sel.states_of(scope.proto);
    req.want_info = sel.needs_tcp_info();
    req.bytecode = program;
    req.sport = sel.sports.single();
    req.dport = sel.dports.single();
    const size_t start = matches_.size();
    // A dump the table changed under is read to its end and asked again
    // (inet_diag never marks one today; the route dump does).
    for (int attempt = 0;; ++attempt) {
        req.seq = ++seq_;
        Result<size_t> len = encode_dump_request(req, std::span<uint8_t>(request_.data(), request_.size()));
        if (!len) return len.error();
        if (Status s = dump_.send(std::span<const uint8_t>(request_.data(), *len)); !s) return s;
        NlConversation conv(req.seq);
        DumpSink sink(sel, scope, local_, program, obs, matches_);
        if (Status s = receive(dump_, conv, sink); !s) return s;
        if (!conv.interrupted()) return {};
        (void)matches_.resize(start);  // shrinking: cannot fail
        if (attempt == kDumpAttempts - 1) return make_error(EAGAIN, "the socket table changed during every dump");
    }
}

void count_result(PollStats& stats, const EndResult& r, Proto p) {
    PollStats::PerProto& mine = stats.by_proto[static_cast<size_t>(p)];
    ++mine.matched;
    mine.ended += r.outcome == Outcome::Ended || r.outcome == Outcome::WouldEnd;
    mine.failed += r.outcome == Outcome::Failed;
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

Status Engine::read_tables(const Selection& sel, Proto p, PollObserver& obs, PollStats& stats) {
    // One scope for both tables: IPv4 (and v4-mapped, and native IPv6 with
    // -6), or native IPv6 alone.
    const DumpScope scope = sel.ipv4 ? DumpScope{AF_UNSPEC, sel.ipv6 ? V6Scope::Any : V6Scope::MappedOnly, p}
                                     : DumpScope{AF_INET6, V6Scope::NativeOnly, p};
    ProcNetTables& tables = *way(p).tables;
    const size_t start = matches_.size();  // the other protocol's matches come first
    for (bool v6 : {false, true}) {
        if (!v6 && !sel.ipv4) continue;  // -6 alone: IPv4 sockets never match
        if (Status s = tables.open(p, v6); !s) return s;
        LineSplitter lines;
        bool full = false;
        auto take = [&](std::string_view line) {
            SockRecord r;
            if (!full && parse_procnet_line(line, v6, r, p) && matches_filter(sel, scope, r))
                full = !matches_.push_back(r);
        };
        while (true) {
            Result<size_t> got = tables.read(rx_);
            if (!got) return got.error();
            if (*got == 0) break;
            lines.feed(std::span<const uint8_t>(rx_.data(), *got), take);
        }
        lines.finish(take);
        if (full) return make_error(ENOMEM, "too many matching connections");
    }
    std::span<SockRecord> found(matches_.data() + start, matches_.size() - start);
    // (UDP has no tcp_info: the options refuse idle rules with -u.)
    if (sel.needs_tcp_info() && p == Proto::Tcp) stats.no_tcp_info = idle_->read_idle(found, stats.no_tcp_info_err);
    size_t kept = 0;
    const SockExtras none;  // the tables carry no mark and no cgroup
    for (SockRecord& r : found) {
        const bool pick = selected(sel, scope, r) && owner_attrs_match(sel, none, r.owner_ix) &&
                          src_removed_match(sel, local_, r, none);
        obs.on_candidate(r, 0, pick);
        if (pick) found[kept++] = r;
    }
    (void)matches_.resize(start + kept);  // shrinking: cannot fail
    return {};
}

Status Engine::read_local_prefixes() {
    if (!routes_) return make_error(ENOSYS, "no route channel for --src-removed");
    if (!request_.resize(64)) return make_error(ENOMEM, "no memory for the route dump");
    // A dump the table changed under is read to its end, then asked again
    // with a new sequence number (leftovers of the old one are not its
    // answer), a few times.
    for (int attempt = 0;; ++attempt) {
        const uint32_t seq = ++seq_;
        Result<size_t> len = encode_route_dump_request(seq, std::span<uint8_t>(request_.data(), request_.size()));
        if (!len) return len.error();
        if (Status s = routes_->send(std::span<const uint8_t>(request_.data(), *len)); !s) return s;
        NlConversation conv(seq);
        LocalRouteReader reader(local_);
        Status s = receive(*routes_, conv, reader);
        if (s && !conv.interrupted()) return {};
        local_.clear();
        if (!s) return s;
        if (attempt == kDumpAttempts - 1) return make_error(EAGAIN, "the route table changed during every dump");
    }
}

Status Engine::confirm_removed(const Selection& sel) {
    // A route dump is a moment: an address added just before the socket
    // dump (a failover) has connections already, and one deleted and added
    // again (a DHCP renewal) is missing for milliseconds only. Removed means
    // missing before the socket dump and still missing a grace after it.
    if (sel.removed_grace_ms) pause_->wait_ms(sel.removed_grace_ms);
    if (Status s = read_local_prefixes(); !s) return s;
    size_t kept = 0;
    for (const SockRecord& r : std::span<const SockRecord>(matches_.data(), matches_.size()))
        if (!local_.covers(r.family, reinterpret_cast<const uint8_t*>(r.id.idiag_src))) matches_.data()[kept++] = r;
    (void)matches_.resize(kept);  // shrinking: cannot fail
    return {};
}

Status Engine::keep_selected_processes(const OwnerSel& processes, bool keep_held) {
    if (!procs_) return make_error(ENOSYS, "no /proc walk for --pid/--comm");
    std::span<const SockRecord> found(matches_.data(), matches_.size());
    if (!owners_.want(found)) return make_error(ENOMEM, "too many matching connections");
    if (!found.empty()) {
        if (Status s = procs_->find_holders(owners_, &processes); !s) return s;
    }
    if (!owners_.finish()) return make_error(ENOMEM, "too many socket holders");
    size_t kept = 0;
    for (const SockRecord& r : found)
        if (owners_.holders_of(r.inode).empty() != keep_held) matches_.data()[kept++] = r;
    (void)matches_.resize(kept);  // shrinking: cannot fail
    return {};
}

Status Engine::dump_protocol(const Selection& sel, Proto p, PollObserver& obs, PollStats& stats) {
    DumpPlan plan = plan_dumps(sel, single_walk_);
    bool first = true;  // no dump of `p` has worked yet
    for (size_t i = 0; i < plan.count; ++i) {
        const DumpScope& scope = plan.scopes[i];
        if (scope.proto != p) continue;
        Status s = dump_scope(sel, scope, obs);
        if (s) {
            first = false;
            continue;
        }
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
            // TCP's only dump): one dump per family from now on.
            single_walk_ = false;
            plan = plan_dumps(sel, false);
            i = static_cast<size_t>(-1);
            continue;
        }
        if (err == ENOENT && fallback_tables_ && first) {
            // No inet_diag handler for this protocol at all (tcp_diag or
            // udp_diag cannot be loaded).
            way(p).tables = fallback_tables_;
            way(p).terminator = fallback_terminator_;
            stats.switched_to_proc_net |= static_cast<uint8_t>(1u << static_cast<unsigned>(p));
            return read_tables(sel, p, obs, stats);
        }
        return s;
    }
    return {};
}

Status Engine::end_matches(size_t n) {
    std::span<const SockRecord> recs(matches_.data(), n);
    std::span<EndResult> results(results_.data(), n);
    size_t at = 0;
    while (at < n) {
        Terminator* t = way(recs[at].proto()).terminator;
        size_t end = at + 1;
        while (end < n && way(recs[end].proto()).terminator == t) ++end;
        Status s = t->end_connections(recs.subspan(at, end - at), results.subspan(at, end - at));
        if (!s) {
            // The mechanism broke: what was not tried is not ended.
            for (size_t i = end; i < n; ++i) {
                results[i] = EndResult{};
                results[i].err = s.error().code;
            }
            return s;
        }
        at = end;
    }
    return {};
}

Result<PollStats> Engine::poll(const Selection& sel, PollObserver& obs) {
    matches_.clear();
    PollStats stats;
    if (sel.src_removed) {
        // Not knowing the table is never a reason to destroy: no dump, no poll.
        if (Status s = read_local_prefixes(); !s) return s.error();
        obs.on_local_prefixes(local_);
    }
    for (Proto p : {Proto::Tcp, Proto::Udp}) {
        if (!sel.wants(p)) continue;
        Status s = way(p).tables ? read_tables(sel, p, obs, stats) : dump_protocol(sel, p, obs, stats);
        if (!s) return s.error();
    }

    // --exclude-comm first: the walk for --pid/--comm then leaves the
    // holders that name the processes in the results.
    if (sel.ex.owner.n_comm) {
        if (Status s = keep_selected_processes(sel.ex.owner, false); !s) return s.error();
    }
    if (sel.owner.processes()) {
        if (Status s = keep_selected_processes(sel.owner, true); !s) return s.error();
    }
    if (sel.src_removed && matches_.size()) {
        if (Status s = confirm_removed(sel); !s) return s.error();
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
    Status s = end_matches(to_end);
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
        count_result(stats, results[i], recs[i].proto());
        // A socket file exists (inode set), yet no process holding it was found.
        stats.holders_hidden += results[i].outcome == Outcome::NoOwner && recs[i].inode != 0;
    }
    stats.foreign = foreign_;
    foreign_ = 0;
    // A terminator that broke part way: what it ended is counted all the
    // same, and the failure goes with the counts.
    if (!s) stats.end_failure = s.error();
    return stats;
}

}  // namespace tc
