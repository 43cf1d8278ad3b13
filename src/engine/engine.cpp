#include "engine/engine.hpp"

#include <cstring>

#include "core/heap_sort.hpp"
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

// One dump's messages: each socket decoded and offered to the rules; an
// error answer is the kernel's refusal of the request.
class DumpSink final : public NlSink {
public:
    DumpSink(Engine& engine, const DumpScope& scope, std::span<const uint8_t> program, PollObserver& obs)
        : engine_(engine), scope_(scope), program_(program), obs_(obs) {}

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
        if (!engine_.take(*rec, scope_, x, obs_)) return make_error(ENOMEM, "too many matching connections");
        return {};
    }

private:
    Engine& engine_;
    const DumpScope& scope_;
    std::span<const uint8_t> program_;
    PollObserver& obs_;
    bool accepted_ = false;
};

bool Engine::take(SockRecord& rec, const DumpScope& dump, const SockExtras& x, PollObserver& obs) {
    uint64_t wanted = 0;
    for (size_t k = 0; k < rules_.size(); ++k) {
        const Selection& sel = rules_[k].sel;
        DumpScope mine;
        uint8_t ix = 0;
        if (!rule_scope(sel, dump, mine) || !matches_filter(sel, mine, rec)) continue;
        info_seen_ |= sel.needs_tcp_info();
        if (thresholds_hold(sel, rec) && owner_attrs_match(sel, x, ix) && src_removed_match(sel, local_, rec, x)) {
            if (!wanted) {
                rec.rule = static_cast<uint8_t>(k);
                rec.owner_ix = ix;
            }
            wanted |= uint64_t{1} << k;
        }
    }
    obs.on_candidate(rec, x.rtt_us, wanted != 0);
    if (!wanted) return true;
    return matches_.push_back(rec) && wanted_by_.push_back(wanted);
}

Status Engine::receive(DiagTransport& t, NlConversation& conv, NlSink& sink) {
    Status s = receive_answer(t, rx_, conv, sink);
    foreign_ += conv.foreign();
    return s;
}

Status Engine::dump_scope(const DumpScope& scope, PollObserver& obs) {
    const size_t bound = rules_filter_bound(rules_, local_.size());
    if (!bytecode_.resize(bound) || !request_.resize(bound + 128)) return make_error(ENOMEM, "no memory for the filter");
    const size_t prog_len = compile_rules_filter(rules_, scope, std::span<uint8_t>(bytecode_.data(), bytecode_.size()),
                                                 owner_ops_, &local_);
    std::span<const uint8_t> program(bytecode_.data(), prog_len);

    DumpRequest req;
    req.proto = scope.proto;
    req.family = scope.family;
    req.bytecode = program;
    // The header's states and ports: what every rule in the dump allows.
    bool first = true, plain = false;
    for (const Rule& r : rules_) {
        DumpScope mine;
        if (!rule_scope(r.sel, scope, mine)) continue;
        req.states |= r.sel.states_of(scope.proto);
        req.want_info |= r.sel.needs_tcp_info();
        plain |= !r.sel.needs_tcp_info();
        const uint16_t sport = r.sel.sports.single(), dport = r.sel.dports.single();
        req.sport = first || req.sport == sport ? sport : 0;
        req.dport = first || req.dport == dport ? dport : 0;
        first = false;
    }
    // tcp_info makes each reply about 4x larger. Where the dump also serves
    // rules that do not read it, it is asked for only when a rule that does
    // has candidates: when the last dump of this protocol and family had
    // some, when the verbose log shows them, or, after a dump without it
    // found some, in the same dump asked again.
    bool& had_candidates = info_hint_[2 * static_cast<size_t>(scope.proto) + (scope.family == AF_INET6)];
    if (plain && !had_candidates && !obs.shows_candidates()) req.want_info = false;
    const size_t start = matches_.size();
    // A dump the table changed under is read to its end and asked again
    // (inet_diag never marks one today; the route dump does).
    for (int attempt = 0;;) {
        req.seq = ++seq_;
        Result<size_t> len = encode_dump_request(req, std::span<uint8_t>(request_.data(), request_.size()));
        if (!len) return len.error();
        if (Status s = dump_.send(std::span<const uint8_t>(request_.data(), *len)); !s) return s;
        NlConversation conv(req.seq);
        DumpSink sink(*this, scope, program, obs);
        info_seen_ = false;
        if (Status s = receive(dump_, conv, sink); !s) return s;
        if (conv.interrupted()) {
            if (++attempt == kDumpAttempts) return make_error(EAGAIN, "the socket table changed during every dump");
        } else if (info_seen_ && !req.want_info) {
            req.want_info = true;
        } else {
            had_candidates = info_seen_;
            return {};
        }
        (void)matches_.resize(start);  // shrinking: cannot fail
        (void)wanted_by_.resize(start);
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
                case Method::Dup:  // never ends
                case Method::None: break;
            }
            break;
        case Outcome::NoOwner: ++stats.no_owner; break;
        case Outcome::Vanished: ++stats.vanished; break;
        case Outcome::Failed: ++stats.failed; break;
        case Outcome::Skipped: ++stats.skipped; break;
        case Outcome::WouldEnd: ++stats.would_end; break;
        case Outcome::Armed: ++stats.armed; break;
        case Outcome::Kept: ++stats.kept; break;
        case Outcome::WouldArm: ++stats.would_arm; break;
    }
}

Status Engine::read_tables(Proto p, PollObserver& obs, PollStats& stats) {
    // One scope for both tables: IPv4 (and v4-mapped, and native IPv6 when
    // a rule has -6), or native IPv6 alone.
    const bool v4 = any_rule([p](const Selection& s) { return s.wants(p) && s.ipv4; });
    const bool v6 = any_rule([p](const Selection& s) { return s.wants(p) && s.ipv6; });
    const DumpScope scope = v4 ? DumpScope{AF_UNSPEC, v6 ? V6Scope::Any : V6Scope::MappedOnly, p}
                               : DumpScope{AF_INET6, V6Scope::NativeOnly, p};
    ProcNetTables& tables = *way(p).tables;
    rows_.clear();
    for (bool in_v6 : {false, true}) {
        if (!in_v6 && !v4) continue;  // -6 alone: IPv4 sockets never match
        if (Status s = tables.open(p, in_v6); !s) return s;
        LineSplitter lines;
        bool full = false;
        auto take_line = [&](std::string_view line) {
            SockRecord r;
            if (full || !parse_procnet_line(line, in_v6, r, p)) return;
            DumpScope mine;
            for (const Rule& rule : rules_) {
                if (!rule_scope(rule.sel, scope, mine) || !matches_filter(rule.sel, mine, r)) continue;
                full = !rows_.push_back(r);
                return;
            }
        };
        while (true) {
            Result<size_t> got = tables.read(rx_);
            if (!got) return got.error();
            if (*got == 0) break;
            lines.feed(std::span<const uint8_t>(rx_.data(), *got), take_line);
        }
        lines.finish(take_line);
        if (full) return make_error(ENOMEM, "too many matching connections");
    }
    std::span<SockRecord> found(rows_.data(), rows_.size());
    // (UDP has no tcp_info: the options refuse idle rules with -u.)
    if (p == Proto::Tcp && any_rule([](const Selection& s) { return s.needs_tcp_info(); }))
        stats.no_tcp_info = idle_->read_idle(found, stats.no_tcp_info_err);
    const SockExtras none;  // the tables carry no mark and no cgroup
    for (SockRecord& r : found)
        if (!take(r, scope, none, obs)) return make_error(ENOMEM, "too many matching connections");
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

Status Engine::confirm_removed() {
    // A route dump is a moment: an address added just before the socket
    // dump (a failover) has connections already, and one deleted and added
    // again (a DHCP renewal) is missing for milliseconds only. Removed means
    // missing before the socket dump and still missing a grace after it.
    uint64_t removed_rules = 0;
    uint32_t grace = 0;
    for (size_t k = 0; k < rules_.size(); ++k) {
        if (!rules_[k].sel.src_removed) continue;
        removed_rules |= uint64_t{1} << k;
        if (rules_[k].sel.removed_grace_ms > grace) grace = rules_[k].sel.removed_grace_ms;
    }
    bool any = false;
    for (size_t i = 0; i < matches_.size(); ++i) any |= (wanted_by_[i] & removed_rules) != 0;
    if (!any) return {};
    if (grace) pause_->wait_ms(grace);
    if (Status s = read_local_prefixes(); !s) return s;
    for (size_t i = 0; i < matches_.size(); ++i) {
        const SockRecord& r = matches_[i];
        if ((wanted_by_[i] & removed_rules) && local_.covers(r.family, reinterpret_cast<const uint8_t*>(r.id.idiag_src)))
            wanted_by_[i] &= ~removed_rules;
    }
    return {};
}

namespace {
// Rule k is the first of `wanted` (no earlier rule wants the socket).
bool first_wanted(uint64_t wanted, size_t k) {
    const uint64_t b = uint64_t{1} << k;
    return (wanted & b) && !(wanted & (b - 1));
}
}  // namespace

Status Engine::keep_selected_processes(size_t k, const OwnerSel& processes, bool keep_held) {
    if (!procs_) return make_error(ENOSYS, "no /proc walk for --pid/--comm");
    rows_.clear();
    for (size_t i = 0; i < matches_.size(); ++i)
        if (first_wanted(wanted_by_[i], k) && !rows_.push_back(matches_[i]))
            return make_error(ENOMEM, "too many matching connections");
    std::span<const SockRecord> found(rows_.data(), rows_.size());
    if (!owners_.want(found)) return make_error(ENOMEM, "too many matching connections");
    if (!found.empty()) {
        if (Status s = procs_->find_holders(owners_, &processes); !s) return s;
    }
    if (!owners_.finish()) return make_error(ENOMEM, "too many socket holders");
    for (size_t i = 0; i < matches_.size(); ++i) {
        if (!first_wanted(wanted_by_[i], k)) continue;
        std::span<const Holder> h = owners_.holders_of(matches_[i].inode);
        if (h.empty() == keep_held)
            wanted_by_[i] &= ~(uint64_t{1} << k);
        else if (keep_held)
            holder_[i] = h[0].pid;
    }
    return {};
}

Status Engine::dump_protocol(Proto p, PollObserver& obs, PollStats& stats) {
    DumpPlan plan = plan_rule_dumps(rules_, single_walk_);
    bool first = true;  // no dump of `p` has worked yet
    for (size_t i = 0; i < plan.count; ++i) {
        const DumpScope& scope = plan.scopes[i];
        if (scope.proto != p) continue;
        Status s = dump_scope(scope, obs);
        if (s) {
            first = false;
            continue;
        }
        if (s.error().kind != ErrorKind::Refused) return s;
        // Refused before it returned a socket: this dump is tried again
        // another way; the dumps before it stand.
        const int err = s.error().code;
        if (owner_ops_ && any_rule([](const Selection& sel) { return sel.owner.kernel_ops(); }) &&
            (err == EINVAL || err == EPERM)) {
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
            plan = plan_rule_dumps(rules_, false);
            i = static_cast<size_t>(-1);
            continue;
        }
        if (err == ENOENT && fallback_tables_ && first) {
            // No inet_diag handler for this protocol at all (tcp_diag or
            // udp_diag cannot be loaded).
            way(p).tables = fallback_tables_;
            way(p).terminator = fallback_terminator_;
            stats.switched_to_proc_net |= static_cast<uint8_t>(1u << static_cast<unsigned>(p));
            return read_tables(p, obs, stats);
        }
        return s;
    }
    return {};
}

Status Engine::end_matches(size_t n) {
    std::span<const SockRecord> recs(matches_.data(), n);
    std::span<EndResult> results(results_.data(), n);
    // Arming rules' matches go to the armer; a null terminator stands for it.
    auto handler = [&](size_t i) {
        return rules_[recs[i].rule].sel.arm.any() ? nullptr : way(recs[i].proto()).terminator;
    };
    size_t at = 0;
    while (at < n) {
        Terminator* t = handler(at);
        size_t end = at + 1;
        while (end < n && handler(end) == t) ++end;
        const auto part = recs.subspan(at, end - at);
        const auto out = results.subspan(at, end - at);
        Status s = t ? t->end_connections(part, out) : armer_->arm_connections(part, rules_, out);
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

size_t Engine::to_back(size_t n, uint64_t group) {
    // The group's last run is in place already: only what comes before it
    // moves (nothing at all when every match is of one kind).
    size_t tail = n;
    while (tail > 0 && wanted_by_[tail - 1] == group) --tail;
    rows_.clear();
    moved_holder_.clear();
    size_t front = 0;
    for (size_t i = 0; i < tail; ++i) {
        if (wanted_by_[i] == group) {
            if (!rows_.push_back(matches_[i]) || !moved_holder_.push_back(holder_[i])) return kNoMemory;
            continue;
        }
        wanted_by_[front] = wanted_by_[i];
        holder_[front] = holder_[i];
        matches_[front++] = matches_[i];
    }
    for (size_t j = 0; j < rows_.size(); ++j) {
        matches_[front + j] = rows_[j];
        holder_[front + j] = moved_holder_[j];
        wanted_by_[front + j] = group;
    }
    return front;
}

uint64_t Engine::arm_key(const SockRecord& rec) {
    const uint64_t cookie = sock_cookie(rec);
    return cookie && !rec.cookie_is_wildcard() ? cookie : uint64_t{1} << 63 | rec.inode;
}

void Engine::end_round() {
    armed_.swap(seen_);
    seen_.clear();
    heap_sort(armed_.data(), armed_.size());
}

Result<PollStats> Engine::poll(std::span<const Rule> rules, PollObserver& obs) {
    rules_ = rules;
    matches_.clear();
    wanted_by_.clear();
    PollStats stats;
    stats.arming = any_rule([](const Selection& s) { return s.arm.any(); });
    if (any_rule([](const Selection& s) { return s.src_removed; })) {
        // Not knowing the table is never a reason to destroy: no dump, no poll.
        if (Status s = read_local_prefixes(); !s) return s.error();
        obs.on_local_prefixes(local_);
    }
    for (Proto p : {Proto::Tcp, Proto::Udp}) {
        if (!any_rule([p](const Selection& s) { return s.wants(p); })) continue;
        Status s = way(p).tables ? read_tables(p, obs, stats) : dump_protocol(p, obs, stats);
        if (!s) return s.error();
    }
    if (!holder_.resize(matches_.size())) return make_error(ENOMEM, "too many matching connections");
    for (size_t i = 0; i < holder_.size(); ++i) holder_[i] = 0;
    if (matches_.size()) {
        if (Status s = confirm_removed(); !s) return s.error();
    }
    // The /proc walks, rule by rule in order: each sees the matches no
    // earlier rule decides. --exclude-comm first: the walk for --pid/--comm
    // then leaves the holders that name the processes in the results.
    for (size_t k = 0; k < rules_.size(); ++k) {
        const Selection& sel = rules_[k].sel;
        if (sel.ex.owner.n_comm) {
            if (Status s = keep_selected_processes(k, sel.ex.owner, false); !s) return s.error();
        }
        if (sel.owner.processes()) {
            if (Status s = keep_selected_processes(k, sel.owner, true); !s) return s.error();
        }
    }
    // Each match goes to the first rule that still wants it. A rule's
    // --max-kills: its first N in dump order are ended, the rest skipped
    // under it (never offered to a later rule).
    uint32_t taken[kMaxRules] = {};
    size_t kept = 0;
    for (size_t i = 0; i < matches_.size(); ++i) {
        if (!wanted_by_[i]) continue;
        SockRecord r = matches_[i];
        const size_t k = static_cast<size_t>(__builtin_ctzll(wanted_by_[i]));
        if (rules_[k].sel.arm.any()) {
            // Armed (or kept) by an earlier poll: not again, not reported.
            const uint64_t key = arm_key(r);
            const size_t at = lower_index(armed_.data(), armed_.size(), key);
            if (at < armed_.size() && armed_[at] == key) {
                (void)seen_.push_back(key);  // out of memory: forgotten, and found kept next time
                continue;
            }
        }
        if (r.rule != k) r.owner_ix = 0;  // the index was an earlier rule's, which gave the socket up
        r.rule = static_cast<uint8_t>(k);
        const uint32_t cap = rules_[k].sel.max_per_poll;
        const bool skip = cap && taken[k] == cap;
        taken[k] += !skip;
        // From here on, the match's group: 0 to end, 1 to arm, 2 to skip.
        wanted_by_[kept] = skip ? 2 : rules_[k].sel.arm.any();
        holder_[kept] = holder_[i];
        matches_[kept++] = r;
    }
    // Those to end first, then those to arm (one call for all: one walk of
    // /proc), then those skipped, each in dump order.
    const size_t to_end = to_back(kept, 2);
    if (to_end == kNoMemory || to_back(to_end, 1) == kNoMemory) return make_error(ENOMEM, "too many matching connections");
    (void)matches_.resize(kept);  // shrinking: cannot fail
    stats.matched = kept;
    if (!results_.resize(kept)) return make_error(ENOMEM, "too many matching connections");
    std::span<const SockRecord> recs(matches_.data(), kept);
    std::span<EndResult> results(results_.data(), kept);
    for (size_t i = to_end; i < kept; ++i) {
        results[i] = EndResult{};
        results[i].outcome = Outcome::Skipped;
    }
    // With nothing matched, no terminator is asked (the /proc path would walk /proc for nothing).
    Status s = end_matches(to_end);
    for (size_t i = 0; i < kept; ++i) {
        // --pid/--comm: name the process whatever way the connection ended.
        if (results[i].pid == 0 && holder_[i] != 0) {
            results[i].pid = holder_[i];
            // Sockets of one process come in a row: read its comm once.
            if (i > 0 && results[i - 1].pid == holder_[i])
                std::memcpy(results[i].comm, results[i - 1].comm, sizeof results[i].comm);
            else
                procs_->comm(holder_[i], results[i].comm);
        }
        obs.on_result(recs[i], results[i]);
        if (results[i].outcome == Outcome::Armed || results[i].outcome == Outcome::Kept)
            (void)seen_.push_back(arm_key(recs[i]));
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
