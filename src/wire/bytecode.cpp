#include "wire/bytecode.hpp"

#include <linux/inet_diag.h>

#include <cstring>

#include "core/fmt.hpp"

namespace tc {
namespace {

static_assert(sizeof(inet_diag_bc_op) == 4);
static_assert(sizeof(inet_diag_hostcond) == 8);

constexpr size_t kOpLen = sizeof(inet_diag_bc_op);
constexpr size_t kPortTestLen = 2 * kOpLen;   // compare op + op whose `no` holds the port
constexpr size_t kRangeLen = 2 * kPortTestLen;
constexpr size_t kV6CondLen = kOpLen + sizeof(inet_diag_hostcond) + 16;
constexpr size_t kV4CondLen = kOpLen + sizeof(inet_diag_hostcond) + 4;
constexpr size_t kMaxLocalInFilter = 64;
constexpr size_t kMaxPrefixOps = 64;
static_assert(kMaxPrefixOps >= PrefixSet::kMax && kMaxPrefixOps >= kMaxLocalInFilter);

class Program {
public:
    explicit Program(std::span<uint8_t> buf) : buf_(buf) {}

    size_t len() const { return len_; }
    bool overflow() const { return overflow_; }

    // Appends an op; returns its offset.
    size_t op(uint8_t code, size_t yes, size_t no) {
        size_t at = len_;
        inet_diag_bc_op o{code, static_cast<uint8_t>(yes), static_cast<uint16_t>(no)};
        if (yes > 0xff || no > 0xffff) overflow_ = true;
        put(&o, sizeof o);
        return at;
    }
    void put(const void* p, size_t n) {
        if (overflow_ || n > buf_.size() - len_) {
            overflow_ = true;
            return;
        }
        std::memcpy(buf_.data() + len_, p, n);
        len_ += n;
    }
    // Only ops already written can be read back; after an overflow an op
    // "offset" may point past the end, and reads must not follow it.
    inet_diag_bc_op get(size_t at) const {
        inet_diag_bc_op o{};
        if (at <= len_ && len_ - at >= sizeof o) std::memcpy(&o, buf_.data() + at, sizeof o);
        return o;
    }
    void set_no(size_t at, size_t no) {
        if (no > 0xffff || at > len_ || len_ - at < sizeof(inet_diag_bc_op)) {
            overflow_ = true;
            return;
        }
        inet_diag_bc_op o = get(at);
        o.no = static_cast<uint16_t>(no);
        std::memcpy(buf_.data() + at, &o, sizeof o);
    }

    // AND: the fragment [start, mid) was followed by [mid, len()); its jumps
    // to mid + 4 (its reject) must now go to len() + 4.
    void relocate_rejects(size_t start, size_t mid) {
        for (size_t at = start; at < mid;) {
            inet_diag_bc_op o = get(at);
            if (at + o.no == mid + 4) set_no(at, len_ + 4 - at);
            if (o.yes == 0) return;  // cannot happen for our own ops
            at += o.yes;
        }
    }

private:
    std::span<uint8_t> buf_;
    size_t len_ = 0;
    bool overflow_ = false;
};

// lo <= port <= hi, as a GE/LE pair; fails jump to the fragment's end + 4.
void emit_range(Program& p, bool source, PortRange r) {
    const uint8_t ge = source ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE;
    const uint8_t le = source ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE;
    p.op(ge, kPortTestLen, kRangeLen + 4);
    p.op(0, 0, r.lo);
    p.op(le, kPortTestLen, kPortTestLen + 4);
    p.op(0, 0, r.hi);
}

void emit_port_set(Program& p, bool source, const PortSet& set) {
    if (set.empty()) return;
    size_t jumps[PortSet::kMaxRanges];
    size_t njumps = 0;
    for (size_t i = 0; i < set.size(); ++i) {
        emit_range(p, source, set[i]);
        if (i + 1 < set.size()) jumps[njumps++] = p.op(INET_DIAG_BC_JMP, kOpLen, 0);
    }
    for (size_t i = 0; i < njumps; ++i) p.set_no(jumps[i], p.len() - jumps[i]);
}

// One host condition on the source or destination address; a condition
// that fails jumps to its own end + 4 (past the op that follows it).
void emit_host_cond(Program& p, bool source, const Prefix& pre) {
    const size_t addr_len = pre.family == AF_INET ? 4 : 16;
    const size_t len = pre.family == AF_INET ? kV4CondLen : kV6CondLen;
    p.op(source ? INET_DIAG_BC_S_COND : INET_DIAG_BC_D_COND, len, len + 4);
    inet_diag_hostcond hc{};
    hc.family = pre.family;
    hc.prefix_len = pre.len;
    hc.port = -1;
    p.put(&hc, sizeof hc);
    p.put(pre.addr.data(), addr_len);
}

// OR of address prefixes, like a port set: each condition that fails jumps
// to its own end + 4 (past its JMP: the next condition; after the last: the
// fragment's reject); one that holds falls onto a JMP to the fragment's end.
// An AF_INET condition also matches v4-mapped addresses in the AF_INET6 dump.
// `at(i)` gives the i-th of `n` prefixes, or nullptr to leave it out.
template <typename At>
void emit_prefix_or(Program& p, bool source, size_t n, At at) {
    size_t last = n;  // the last prefix emitted
    for (size_t i = 0; i < n; ++i)
        if (at(i)) last = i;
    size_t jumps[kMaxPrefixOps];
    size_t njumps = 0;
    for (size_t i = 0; i < n && njumps < kMaxPrefixOps; ++i) {
        const Prefix* pre = at(i);
        if (!pre) continue;
        emit_host_cond(p, source, *pre);
        if (i != last) jumps[njumps++] = p.op(INET_DIAG_BC_JMP, kOpLen, 0);
    }
    for (size_t i = 0; i < njumps; ++i) p.set_no(jumps[i], p.len() - jumps[i]);
}

void emit_prefix_set(Program& p, bool source, const PrefixSet& set) {
    emit_prefix_or(p, source, set.size(), [&](size_t i) { return &set.begin()[i]; });
}

// NOT of the fragment that starts at `start` (and ends here): its accept
// (running off its end) falls onto a JMP to the reject, and its reject (its
// end + 4) is past that JMP, the accept. Nothing to negate: nothing added.
void negate(Program& p, size_t start) {
    if (p.len() == start) return;
    p.op(INET_DIAG_BC_JMP, kOpLen, 2 * kOpLen);
}

// Which local prefixes go into the kernel's half of --src-removed. Not one
// of length 0: kernels that judged a zero length before the family would
// let it reject every socket of the other family. Not an IPv6 one in the
// AF_INET dump, where it can never hold. Not any past kMaxLocalInFilter: a
// socket runs through every condition.
bool local_in_filter(const Prefix& pre, const DumpScope& scope) {
    return pre.len != 0 && !(scope.family == AF_INET && pre.family == AF_INET6);
}

// --src-removed: NOT(OR of the local prefixes) on the source address. User
// space judges every socket again (and the transparent ones).
void emit_not_local(Program& p, const LocalPrefixes& local, const DumpScope& scope) {
    if (local.size() > kMaxLocalInFilter) return;
    const size_t start = p.len();
    emit_prefix_or(p, true, local.size(),
                   [&](size_t i) { return local_in_filter(local[i], scope) ? &local[i] : nullptr; });
    negate(p, start);
}

// --exclude-*: NOT(OR of the values), one fragment per kind.
void emit_port_exclusion(Program& p, bool source, const PortSet& set) {
    const size_t start = p.len();
    emit_port_set(p, source, set);
    negate(p, start);
}

void emit_prefix_exclusion(Program& p, bool source, const PrefixSet& set) {
    const size_t start = p.len();
    emit_prefix_set(p, source, set);
    negate(p, start);
}

// OR of one kind of condition that carries a plain value: DEV_COND (u32
// ifindex), MARK_COND (inet_diag_markcond, laid out as MarkSel) or
// CGROUP_COND (u64 id). Laid out like a prefix set.
void emit_value_set(Program& p, uint8_t code, const void* values, size_t size, size_t count) {
    size_t jumps[OwnerSel::kMax];
    for (size_t i = 0; i < count; ++i) {
        const size_t len = kOpLen + size;
        p.op(code, len, len + 4);
        p.put(static_cast<const uint8_t*>(values) + i * size, size);
        if (i + 1 < count) jumps[i] = p.op(INET_DIAG_BC_JMP, kOpLen, 0);
    }
    for (size_t i = 0; i + 1 < count; ++i) p.set_no(jumps[i], p.len() - jumps[i]);
}

// Source address in ::ffff:0:0/96, i.e. an IPv4 connection on an IPv6
// socket. An AF_INET6 condition is used (not AF_INET/0) because every
// kernel version compares it the same way.
void emit_v4_mapped_cond(Program& p, size_t no) {
    p.op(INET_DIAG_BC_S_COND, kV6CondLen, no);
    inet_diag_hostcond hc{};
    hc.family = AF_INET6;
    hc.prefix_len = 96;
    hc.port = -1;
    p.put(&hc, sizeof hc);
    const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};
    p.put(addr, sizeof addr);
}

// The single walk's "IPv4": native IPv4 sockets and v4-mapped ones on IPv6
// sockets. An AF_INET condition with prefix 0 holds for both (the kernel
// compares a v4-mapped address's last 4 bytes), and for no native IPv6
// socket. Kernels that judged prefix 0 before the family let more through;
// the user-space check catches those.
void emit_v4_family_cond(Program& p, size_t no) {
    p.op(INET_DIAG_BC_S_COND, kV4CondLen, no);
    inet_diag_hostcond hc{};
    hc.family = AF_INET;
    hc.prefix_len = 0;
    hc.port = -1;
    p.put(&hc, sizeof hc);
    const uint8_t any[4] = {};
    p.put(any, sizeof any);
}

void emit_scope(Program& p, const DumpScope& scope) {
    if (scope.family == AF_UNSPEC) {
        if (scope.v6 == V6Scope::MappedOnly) emit_v4_family_cond(p, kV4CondLen + 4);  // neither: reject
        if (scope.v6 == V6Scope::NativeOnly) {
            // A -6 rule in a walk of both (--rules): NOT(IPv4 or v4-mapped).
            emit_v4_family_cond(p, kV4CondLen + kOpLen);
            p.op(INET_DIAG_BC_JMP, kOpLen, kOpLen + 4);
        }
        return;
    }
    if (scope.family != AF_INET6) return;
    if (scope.v6 == V6Scope::MappedOnly) {
        emit_v4_mapped_cond(p, kV6CondLen + 4);  // not mapped: reject
    } else if (scope.v6 == V6Scope::NativeOnly) {
        // NOT(mapped): a false condition skips the JMP (accept), a true one
        // falls onto the JMP whose target is the reject.
        emit_v4_mapped_cond(p, kV6CondLen + kOpLen);
        p.op(INET_DIAG_BC_JMP, kOpLen, kOpLen + 4);
    }
}

}  // namespace

size_t filter_size_bound(const Selection& sel, size_t local_prefixes) {
    auto ports = [](const PortSet& s) { return s.size() * (kRangeLen + kOpLen); };
    auto prefixes = [](const PrefixSet& s) { return s.size() * (kV6CondLen + kOpLen); };
    const OwnerSel& o = sel.owner;
    const size_t local = sel.src_removed && local_prefixes <= kMaxLocalInFilter ? local_prefixes : 0;
    const Exclusions& ex = sel.ex;
    return ports(sel.sports) + ports(sel.dports) + prefixes(sel.srcs) + prefixes(sel.dsts) + kV6CondLen + kOpLen +
           (o.n_dev + o.n_mark + o.n_cgroup) * (3 * kOpLen + 8) + (local + 1) * (kV6CondLen + kOpLen) +
           ports(ex.sports) + ports(ex.dports) + prefixes(ex.srcs) + prefixes(ex.dsts) + 4 * kOpLen;
}

Result<size_t> compile_filter(const Selection& sel, const DumpScope& scope, std::span<uint8_t> out, bool owner_ops,
                              const LocalPrefixes* local) {
    Program p(out);
    // AND of the fragments: each relocates the rejects of all before it.
    auto and_with = [&p](auto emit) {
        const size_t mid = p.len();
        emit();
        p.relocate_rejects(0, mid);
    };
    emit_port_set(p, true, sel.sports);
    and_with([&] { emit_port_set(p, false, sel.dports); });
    and_with([&] { emit_prefix_set(p, true, sel.srcs); });
    and_with([&] { emit_prefix_set(p, false, sel.dsts); });
    if (sel.src_removed && local) and_with([&] { emit_not_local(p, *local, scope); });
    const Exclusions& ex = sel.ex;
    and_with([&] { emit_port_exclusion(p, true, ex.sports); });
    and_with([&] { emit_port_exclusion(p, false, ex.dports); });
    and_with([&] { emit_prefix_exclusion(p, true, ex.srcs); });
    and_with([&] { emit_prefix_exclusion(p, false, ex.dsts); });
    if (owner_ops) {
        static_assert(sizeof(MarkSel) == sizeof(inet_diag_markcond));
        const OwnerSel& o = sel.owner;
        and_with([&] { emit_value_set(p, INET_DIAG_BC_DEV_COND, o.ifindex, sizeof o.ifindex[0], o.n_dev); });
        and_with([&] { emit_value_set(p, INET_DIAG_BC_MARK_COND, o.mark, sizeof o.mark[0], o.n_mark); });
        and_with([&] { emit_value_set(p, INET_DIAG_BC_CGROUP_COND, o.cgroup, sizeof o.cgroup[0], o.n_cgroup); });
    }
    and_with([&] { emit_scope(p, scope); });
    if (p.overflow() || p.len() > 0xffff - 4) return make_error(E2BIG, "filter too large");
    return p.len();
}

size_t rules_filter_bound(std::span<const Rule> rules, size_t local_prefixes) {
    size_t n = 2 * kRangeLen;  // the two gates
    for (const Rule& r : rules) n += filter_size_bound(r.sel, local_prefixes) + kOpLen;
    return n < kMaxFilter ? n : kMaxFilter;
}

size_t compile_rules_filter(std::span<const Rule> rules, const DumpScope& scope, std::span<uint8_t> out,
                            bool owner_ops, const LocalPrefixes* local) {
    if (out.size() > kMaxFilter) out = out.first(kMaxFilter);
    // The OR is the same in any order. The rules that need a source port
    // come first, then those that need a destination port, then the rest;
    // each of the first two groups, of two rules or more, behind a gate:
    // the span of its ports, so that a socket outside it (an ephemeral
    // port, say) skips the group in two tests instead of a test per rule.
    struct In {
        const Rule* rule;
        DumpScope scope;
        int group;
    };
    In in[kMaxRules];
    size_t n = 0;
    PortRange span[2] = {{65535, 0}, {65535, 0}};
    size_t count[3] = {};
    for (int g = 0; g < 3; ++g)
        for (const Rule& r : rules.first(rules.size() < kMaxRules ? rules.size() : kMaxRules)) {
            const int group = !r.sel.sports.empty() ? 0 : !r.sel.dports.empty() ? 1 : 2;
            if (group != g || !rule_scope(r.sel, scope, in[n].scope)) continue;
            in[n].rule = &r;
            in[n++].group = g;
            ++count[g];
            if (g == 2) continue;
            const PortSet& set = g == 0 ? r.sel.sports : r.sel.dports;
            if (set[0].lo < span[g].lo) span[g].lo = set[0].lo;
            if (set[set.size() - 1].hi > span[g].hi) span[g].hi = set[set.size() - 1].hi;
        }
    size_t ops[2 * kMaxRules + 2];  // where each JMP and gate is, its target set below
    int to[2 * kMaxRules + 2];      // -1: the end (accept); g: past group g (a gate)
    size_t n_ops = 0, len = 0;
    size_t group_end[2] = {};
    for (size_t i = 0; i < n; ++i) {
        const int g = in[i].group;
        if (g < 2 && count[g] > 1 && (i == 0 || in[i - 1].group != g)) {
            if (out.size() - len < kRangeLen) return 0;
            Program gate(out.subspan(len, kRangeLen));
            emit_range(gate, g == 0, span[g]);
            ops[n_ops] = len;
            to[n_ops++] = g;
            ops[n_ops] = len + kPortTestLen;
            to[n_ops++] = g;
            len += kRangeLen;
        }
        const Selection& sel = in[i].rule->sel;
        Result<size_t> one = compile_filter(sel, in[i].scope, out.subspan(len), owner_ops, sel.src_removed ? local : nullptr);
        if (!one || *one == 0) return 0;  // too large for what is left, or this rule takes every socket
        len += *one;
        // A rule's reject (its end + 4) is the next rule; a JMP after every
        // rule but the last goes to the end: the accept.
        if (i + 1 < n) {
            if (out.size() - len < kOpLen) return 0;
            Program jmp(out.subspan(len, kOpLen));
            jmp.op(INET_DIAG_BC_JMP, kOpLen, 0);
            ops[n_ops] = len;
            to[n_ops++] = -1;
            len += kOpLen;
        }
        if (g < 2) group_end[g] = len;
    }
    // A gate that fails skips its group: to the next rule, or the reject
    // when the group is the last.
    for (size_t k = 0; k < n_ops; ++k) {
        size_t target = len;
        if (to[k] >= 0) target = group_end[to[k]] < len ? group_end[to[k]] : len + 4;
        inet_diag_bc_op o;
        std::memcpy(&o, out.data() + ops[k], sizeof o);
        o.no = static_cast<uint16_t>(target - ops[k]);
        std::memcpy(out.data() + ops[k], &o, sizeof o);
    }
    return len;
}

size_t describe_op(std::span<const uint8_t> prog, size_t pos, char* text, size_t text_len) {
    if (text_len == 0) return 0;
    text[0] = '\0';
    if (pos > prog.size() || prog.size() - pos < kOpLen) return 0;
    inet_diag_bc_op o;
    std::memcpy(&o, prog.data() + pos, sizeof o);
    const char* name = "?";
    switch (o.code) {
        case INET_DIAG_BC_NOP: name = "NOP"; break;
        case INET_DIAG_BC_JMP: name = "JMP"; break;
        case INET_DIAG_BC_S_GE: name = "S_GE"; break;
        case INET_DIAG_BC_S_LE: name = "S_LE"; break;
        case INET_DIAG_BC_D_GE: name = "D_GE"; break;
        case INET_DIAG_BC_D_LE: name = "D_LE"; break;
        case INET_DIAG_BC_S_COND: name = "S_COND"; break;
        case INET_DIAG_BC_D_COND: name = "D_COND"; break;
        case INET_DIAG_BC_DEV_COND: name = "DEV_COND"; break;
        case INET_DIAG_BC_MARK_COND: name = "MARK_COND"; break;
        case INET_DIAG_BC_CGROUP_COND: name = "CGROUP_COND"; break;
        default: break;
    }
    char arg[64] = "";
    switch (o.code) {
        case INET_DIAG_BC_S_GE: case INET_DIAG_BC_S_LE:
        case INET_DIAG_BC_D_GE: case INET_DIAG_BC_D_LE:
            if (prog.size() - pos >= kPortTestLen) {
                inet_diag_bc_op port;
                std::memcpy(&port, prog.data() + pos + kOpLen, sizeof port);
                fmt(arg, sizeof arg, " port=%u", port.no);
            }
            break;
        case INET_DIAG_BC_S_COND: case INET_DIAG_BC_D_COND:
            if (prog.size() - pos >= kOpLen + sizeof(inet_diag_hostcond)) {
                inet_diag_hostcond hc;
                std::memcpy(&hc, prog.data() + pos + kOpLen, sizeof hc);
                fmt(arg, sizeof arg, " family=%u prefix=%u port=%d", hc.family, hc.prefix_len, hc.port);
            }
            break;
        case INET_DIAG_BC_DEV_COND: case INET_DIAG_BC_MARK_COND: case INET_DIAG_BC_CGROUP_COND: {
            // ifindex; mark, mask; or the cgroup id as two words, low first
            uint32_t w[2] = {};
            const size_t n = o.code == INET_DIAG_BC_DEV_COND ? 4 : 8;
            if (prog.size() - pos < kOpLen + n) break;
            std::memcpy(w, prog.data() + pos + kOpLen, n);
            if (o.code == INET_DIAG_BC_DEV_COND) fmt(arg, sizeof arg, " ifindex=%u", w[0]);
            if (o.code == INET_DIAG_BC_MARK_COND) fmt(arg, sizeof arg, " mark=0x%x mask=0x%x", w[0], w[1]);
            if (o.code == INET_DIAG_BC_CGROUP_COND)
                fmt(arg, sizeof arg, " cgroup=%llu", static_cast<unsigned long long>(w[1]) << 32 | w[0]);
            break;
        }
        default: break;
    }
    fmt(text, text_len, "%4zu: %-6s yes=%-3u no=%-5u (-> %zu)%s", pos, name, o.yes, o.no,
                  pos + o.no, arg);
    if (o.yes == 0) return 0;
    return pos + o.yes;
}

}  // namespace tc
