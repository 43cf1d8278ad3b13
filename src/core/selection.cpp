#include "core/selection.hpp"

#include <cstring>

namespace tc {

void plan_protocol(DumpPlan& plan, bool ipv4, bool ipv6, Proto p, bool single_walk) {
    constexpr uint8_t v4 = AF_INET, v6 = AF_INET6, both = AF_UNSPEC;
    if (single_walk && ipv4) {
        plan.scopes[plan.count++] = {both, ipv6 ? V6Scope::Any : V6Scope::MappedOnly, p};
        return;
    }
    if (ipv4) plan.scopes[plan.count++] = {v4, V6Scope::Any, p};
    if (ipv4 && ipv6)
        plan.scopes[plan.count++] = {v6, V6Scope::Any, p};
    else if (ipv4)
        plan.scopes[plan.count++] = {v6, V6Scope::MappedOnly, p};
    else if (ipv6)
        plan.scopes[plan.count++] = {v6, V6Scope::NativeOnly, p};
}

namespace {

bool ports_covered(const PortSet& pos, const PortSet& ex) {
    if (pos.empty() || ex.empty()) return false;
    for (const PortRange& r : pos) {
        bool in = false;
        for (const PortRange& e : ex) in |= e.lo <= r.lo && r.hi <= e.hi;
        if (!in) return false;
    }
    return true;
}

bool prefixes_covered(const PrefixSet& pos, const PrefixSet& ex) {
    if (pos.empty() || ex.empty()) return false;
    for (const Prefix& p : pos) {
        bool in = false;
        for (const Prefix& e : ex) in |= e.family == p.family && e.len <= p.len && prefix_matches(e, p.family, p.addr.data());
        if (!in) return false;
    }
    return true;
}

// Every value of the positive kind equals one of the excluded ones.
template <typename Same>
bool values_covered(size_t n_pos, size_t n_ex, Same same) {
    if (n_pos == 0 || n_ex == 0) return false;
    for (size_t i = 0; i < n_pos; ++i) {
        bool in = false;
        for (size_t j = 0; j < n_ex; ++j) in |= same(i, j);
        if (!in) return false;
    }
    return true;
}

}  // namespace

const char* excluded_entirely(const Selection& sel, bool uids_resolved) {
    const OwnerSel &o = sel.owner, &x = sel.ex.owner;
    if (ports_covered(sel.sports, sel.ex.sports)) return "--exclude-sport excludes every port of --sport: nothing can match";
    if (ports_covered(sel.dports, sel.ex.dports)) return "--exclude-dport excludes every port of --dport: nothing can match";
    if (prefixes_covered(sel.srcs, sel.ex.srcs)) return "--exclude-src excludes every address of --src: nothing can match";
    if (prefixes_covered(sel.dsts, sel.ex.dsts)) return "--exclude-dst excludes every address of --dst: nothing can match";
    if (values_covered(o.n_uid, x.n_uid, [&](size_t i, size_t j) {
            if (uids_resolved || (!o.uid_name[i] && !x.uid_name[j])) return o.uid[i] == x.uid[j];
            return o.uid_name[i] && x.uid_name[j] && std::strcmp(o.uid_name[i], x.uid_name[j]) == 0;
        }))
        return "--exclude-uid excludes every user of --uid: nothing can match";
    if (values_covered(o.n_comm, x.n_comm, [&](size_t i, size_t j) { return std::strcmp(o.comm[i], x.comm[j]) == 0; }))
        return "--exclude-comm excludes every command of --comm: nothing can match";
    return nullptr;
}

DumpPlan plan_dumps(const Selection& sel, bool single_walk) {
    DumpPlan plan;
    if (sel.tcp) plan_protocol(plan, sel.ipv4, sel.ipv6, Proto::Tcp, single_walk);
    if (sel.udp && sel.states_of(Proto::Udp)) plan_protocol(plan, sel.ipv4, sel.ipv6, Proto::Udp, false);
    return plan;
}

bool matches_filter(const Selection& sel, const DumpScope& scope, const SockRecord& rec) {
    if (rec.proto() != scope.proto || !sel.wants(rec.proto())) return false;
    if (scope.family != AF_UNSPEC && rec.family != scope.family) return false;
    if (rec.family != AF_INET && rec.family != AF_INET6) return false;
    if (rec.state >= 32 || !(sel.states_of(rec.proto()) & (1u << rec.state))) return false;
    if (!sel.sports.empty() && !sel.sports.contains(rec.sport())) return false;
    if (!sel.dports.empty() && !sel.dports.contains(rec.dport())) return false;
    if (!sel.srcs.matches(rec.family, reinterpret_cast<const uint8_t*>(rec.id.idiag_src))) return false;
    if (!sel.dsts.matches(rec.family, reinterpret_cast<const uint8_t*>(rec.id.idiag_dst))) return false;
    const OwnerSel& o = sel.owner;
    const Exclusions& ex = sel.ex;
    // A socket without an owner (time-wait, syn-recv, an orphan: inode 0,
    // and uid 0 whoever made it) answers no owner question: an owner
    // selector never selects it, and an owner exclusion could not protect it.
    if (rec.inode == 0 && (o.n_uid || o.processes() || ex.owner.n_uid || ex.owner.n_comm)) return false;
    bool uid_ok = o.n_uid == 0, dev_ok = o.n_dev == 0;
    for (size_t i = 0; i < o.n_uid; ++i) uid_ok |= o.uid[i] == rec.uid;
    for (size_t i = 0; i < o.n_dev; ++i) dev_ok |= o.ifindex[i] == rec.id.idiag_if;
    if (!uid_ok || !dev_ok) return false;
    if (ex.sports.contains(rec.sport()) || ex.dports.contains(rec.dport())) return false;
    if (!ex.srcs.empty() && ex.srcs.matches(rec.family, reinterpret_cast<const uint8_t*>(rec.id.idiag_src))) return false;
    if (!ex.dsts.empty() && ex.dsts.matches(rec.family, reinterpret_cast<const uint8_t*>(rec.id.idiag_dst))) return false;
    for (size_t i = 0; i < ex.owner.n_uid; ++i)
        if (ex.owner.uid[i] == rec.uid) return false;
    if (rec.family == AF_INET6 && scope.v6 == V6Scope::MappedOnly && !rec.v4_mapped()) return false;
    // -6 alone: neither IPv4 nor v4-mapped (a rule's, also in a walk of both).
    if (scope.v6 == V6Scope::NativeOnly && (rec.family == AF_INET || rec.v4_mapped())) return false;
    return true;
}

bool thresholds_hold(const Selection& sel, const SockRecord& rec) {
    // Without tcp_info we cannot prove idleness: never kill on a guess.
    if (sel.needs_tcp_info() && !rec.has_info) return false;
    if (sel.idle_min_ms > 0 && rec.last_data_recv_ms < sel.idle_min_ms) return false;
    if (sel.last_recv_limit_ms > 0 && rec.last_data_recv_ms >= sel.last_recv_limit_ms) return false;
    // A dead peer: data in flight, and no acknowledgement for that long.
    constexpr uint8_t kStalled = SockRecord::kFigureUnacked | SockRecord::kFigureAckRecv;
    if (sel.stalled_ms > 0 &&
        ((rec.figures & kStalled) != kStalled || rec.unacked == 0 || rec.last_ack_recv_ms < sel.stalled_ms))
        return false;
    if (sel.send_idle_ms > 0 &&
        (!(rec.figures & SockRecord::kFigureSent) || rec.last_data_sent_ms < sel.send_idle_ms))
        return false;
    return true;
}

bool src_removed_match(const Selection& sel, const LocalPrefixes& local, const SockRecord& rec, const SockExtras& x) {
    if (!sel.src_removed) return true;
    if (x.has_sockopt ? x.nonlocal_ok : sel.srcs.empty()) return false;
    return !local.covers(rec.family, reinterpret_cast<const uint8_t*>(rec.id.idiag_src));
}

bool owner_attrs_match(const Selection& sel, const SockExtras& x, uint8_t& ix) {
    const OwnerSel& o = sel.owner;
    unsigned mark = 0, cgroup = 0;
    for (unsigned i = 0; i < o.n_mark && !mark; ++i)
        if (x.has_mark && (x.mark & o.mark[i].mask) == o.mark[i].value) mark = i + 1;
    for (unsigned i = 0; i < o.n_cgroup && !cgroup; ++i)
        if (x.has_cgroup && x.cgroup == o.cgroup[i]) cgroup = i + 1;
    ix = static_cast<uint8_t>(cgroup << 4 | mark);
    return (o.n_mark == 0 || mark) && (o.n_cgroup == 0 || cgroup);
}

}  // namespace tc
