// What the user selected, as one value. The bytecode compiler turns it into
// a kernel filter; the policy checks every dumped socket against it again in
// user space, so a kernel that ignored the filter cannot make us kill the
// wrong socket.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/arm.hpp"
#include "core/local_prefixes.hpp"
#include "core/owner.hpp"
#include "core/ports.hpp"
#include "core/prefix.hpp"
#include "core/sock_record.hpp"

namespace tc {

// Which sockets of one family's dump belong to the selection. IPv4
// connections on dual-stack IPv6 sockets appear in the AF_INET6 dump with
// ::ffff:a.b.c.d addresses: "-4" wants them, "-6" alone does not.
enum class V6Scope : uint8_t { Any, MappedOnly, NativeOnly };

// One dump request. AF_UNSPEC is the single walk over both families (the
// legacy TCPDIAG_GETSOCK request; src/KERNEL.md: The dump): with v6 MappedOnly it
// holds IPv4 plus v4-mapped sockets (the default -4), with Any everything.
struct DumpScope {
    uint8_t family = 0;              // AF_INET, AF_INET6 or AF_UNSPEC (both, one walk; TCP only)
    V6Scope v6 = V6Scope::Any;       // which AF_INET6 sockets belong to it
    Proto proto = Proto::Tcp;
};

struct DumpPlan {
    std::array<DumpScope, 4> scopes{};  // TCP's first, then UDP's
    size_t count = 0;
};

// A connected UDP socket reports TCP_ESTABLISHED; an unconnected one
// TCP_CLOSE, and it is never selected (src/KERNEL.md: UDP).
constexpr uint32_t kUdpConnected = 1u << 1;
// TCP_TIME_WAIT's bit: a time-wait socket has no connection left to arm.
constexpr uint32_t kTimeWait = 1u << 6;

// --exclude-*: a connection that matches any of these is never selected,
// whatever else it matches. They narrow a selection and are never one.
struct Exclusions {
    PortSet sports;   // --exclude-sport
    PortSet dports;   // --exclude-dport
    PrefixSet srcs;   // --exclude-src: local address
    PrefixSet dsts;   // --exclude-dst: remote address
    OwnerSel owner;   // --exclude-uid and --exclude-comm (uid and comm only)

    bool any() const {
        return !sports.empty() || !dports.empty() || !srcs.empty() || !dsts.empty() || owner.n_uid || owner.n_comm;
    }
};

struct Selection {
    bool tcp = true;                 // --tcp (the default)
    bool udp = false;                // -u/--udp: connected UDP sockets
    bool ipv4 = true;
    bool ipv6 = false;
    PortSet sports;                  // empty = any source port
    PortSet dports;                  // empty = any destination port
    PrefixSet srcs;                  // --src: local address in any of these (empty = any)
    PrefixSet dsts;                  // --dst: remote address in any of these (empty = any)
    uint32_t states = 1u << 1;       // bit mask of 1 << TCP_*; ESTABLISHED (UDP: see states_of)
    uint32_t max_per_poll = 0;          // --max-kills: end at most this many per poll; 0 = no cap
    uint32_t idle_min_ms = 0;        // -t: last data at least this old
    uint32_t last_recv_limit_ms = 0; // --last_recv_limit: younger than this; 0 = off
    uint32_t stalled_ms = 0;         // --stalled: data unacknowledged, no ack for this long; 0 = off
    uint32_t send_idle_ms = 0;       // --send_idle: nothing sent for this long; 0 = off
    OwnerSel owner;                  // --uid, --mark, --dev, --cgroup, --pid, --comm
    bool src_removed = false;        // --src-removed: the local address is no longer local
    uint32_t removed_grace_ms = 100; // --removed-grace: ...and still not, this long after the socket dump
    Exclusions ex;                   // --exclude-*
    ArmSpec arm;                     // --arm-*: arm the connections instead of ending them

    // tcp_info makes each reply ~4x larger: ask only when a rule reads it.
    bool needs_tcp_info() const { return idle_min_ms > 0 || last_recv_limit_ms > 0 || stalled_ms > 0 || send_idle_ms > 0; }
    bool wants(Proto p) const { return p == Proto::Udp ? udp : tcp; }
    // The states a socket of protocol `p` may be in to match: for UDP never
    // more than connected, whatever --state says.
    uint32_t states_of(Proto p) const { return p == Proto::Udp ? states & kUdpConnected : states; }
};

// An exclusion that leaves nothing of the positive kind it narrows
// (`-s 7000 --exclude-sport 7000`, `--dst 10/8 --exclude-dst 10/8`): the
// message naming both, or nullptr. A prefix counts as excluded when one
// exclusion holds it whole. User names compare by spelling until
// `uids_resolved`, then by number.
const char* excluded_entirely(const Selection& sel, bool uids_resolved);

// The dumps one poll makes. Every TCP dump walks the whole established
// table, so with `single_walk` a selection that wants IPv4 (which includes
// v4-mapped) is served by one AF_UNSPEC walk instead of an AF_INET and an
// AF_INET6 one; without it (a kernel that refused the legacy request), one
// per family. UDP has no single walk: one dump per family, after TCP's.
DumpPlan plan_dumps(const Selection& sel, bool single_walk = true);
// The dumps of protocol `p` for the families asked (added to `plan`).
void plan_protocol(DumpPlan& plan, bool ipv4, bool ipv6, Proto p, bool single_walk);

// Port, address, state, family, uid and interface part of the selection,
// and the exclusions of those kinds: what the socket id and header of a
// reply carry.
bool matches_filter(const Selection& sel, const DumpScope& scope, const SockRecord& rec);

// The idle, stalled and send-idle thresholds: what tcp_info tells. A rule
// that has one never holds for a socket without tcp_info.
bool thresholds_hold(const Selection& sel, const SockRecord& rec);

// The full kill policy for one socket: the filter part plus the thresholds.
// (--mark and --cgroup: owner_attrs_match; --pid and --comm: the /proc walk.)
inline bool selected(const Selection& sel, const DumpScope& scope, const SockRecord& rec) {
    return matches_filter(sel, scope, rec) && thresholds_hold(sel, rec);
}

// --src-removed, for one socket: no prefix of `local` (this poll's route
// dump) covers its local address, and it does not hold a non-local address
// on purpose (IP_TRANSPARENT, IP_FREEBIND). A reply that does not say
// (no INET_DIAG_SOCKOPT: a kernel before 5.10, the /proc/net tables)
// matches only where --src bounds the selection to addresses the user named.
bool src_removed_match(const Selection& sel, const LocalPrefixes& local, const SockRecord& rec, const SockExtras& x);

// --mark and --cgroup, from the reply's attributes: a reply without the
// attribute never matches (the kernel sends the mark only to CAP_NET_ADMIN,
// the cgroup only since Linux 5.7, neither for time-wait sockets). Sets
// `ix` to what SockRecord::owner_ix holds.
bool owner_attrs_match(const Selection& sel, const SockExtras& x, uint8_t& ix);

}  // namespace tc
