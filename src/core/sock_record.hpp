// One socket as reported by an inet_diag dump: the domain value that the
// policy judges, the reporter prints and the destroyer sends back.
#pragma once

#include <linux/inet_diag.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tc {

// The transport protocol of a socket; also an index (per-protocol arrays).
enum class Proto : uint8_t { Tcp = 0, Udp = 1 };
constexpr size_t kProtos = 2;
constexpr uint8_t ip_protocol(Proto p) { return p == Proto::Udp ? 17 /* IPPROTO_UDP */ : 6 /* IPPROTO_TCP */; }
constexpr const char* proto_name(Proto p) { return p == Proto::Udp ? "udp" : "tcp"; }

// Network to host order (ports in inet_diag_sockid are big-endian).
inline uint16_t net16(uint16_t v) {
    if constexpr (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) return __builtin_bswap16(v);
    return v;
}

struct SockRecord {
    // Copied verbatim from the dump, cookie included: SOCK_DESTROY needs the
    // exact id, and a wildcard cookie could hit the listener instead.
    inet_diag_sockid id{};
    uint8_t family = 0;        // AF_INET or AF_INET6 (the socket's family)
    uint8_t state = 0;         // TCP_* state (UDP: 1 connected, 7 unconnected)
    bool has_info : 1 = false; // tcp_info attribute present
    bool udp : 1 = false;      // a UDP socket (else TCP)
    // --stalled and --send_idle: each figure below counts only where its
    // bit says the kernel's tcp_info reached it (it may be short).
    uint8_t figures : 4 = 0;   // kFigure* bits
    // Which --mark (low 4 bits) and --cgroup (high 4 bits) matched, as
    // index + 1 into the selection's lists (0: none asked), for the report.
    uint8_t owner_ix = 0;
    uint8_t rule = 0;  // the index of the rule that selected it (its name goes with it in the log)
    uint32_t uid = 0;
    uint32_t inode = 0;
    uint32_t last_data_recv_ms = 0;  // tcpi_last_data_recv
    uint32_t last_data_sent_ms = 0;  // tcpi_last_data_sent
    uint32_t last_ack_recv_ms = 0;   // tcpi_last_ack_recv
    uint32_t unacked = 0;            // tcpi_unacked: segments sent and not acknowledged
    static constexpr uint8_t kFigureRecv = 1, kFigureSent = 2, kFigureAckRecv = 4, kFigureUnacked = 8;
    // (tcpi_rtt is read only for the verbose log: decode_sock hands it out
    // beside the record, which is kept per matched connection.)

    Proto proto() const { return udp ? Proto::Udp : Proto::Tcp; }
    uint16_t sport() const { return net16(id.idiag_sport); }
    uint16_t dport() const { return net16(id.idiag_dport); }

    // An IPv4 connection carried on a dual-stack IPv6 socket (::ffff:a.b.c.d).
    bool v4_mapped() const {
        if (family != AF_INET6) return false;
        const uint8_t* a = reinterpret_cast<const uint8_t*>(id.idiag_src);
        static constexpr uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return std::memcmp(a, prefix, sizeof prefix) == 0;
    }

    bool cookie_is_wildcard() const {
        return id.idiag_cookie[0] == INET_DIAG_NOCOOKIE && id.idiag_cookie[1] == INET_DIAG_NOCOOKIE;
    }
};

// Reply fields judged while the dump is read but not kept per connection.
struct SockExtras {
    uint32_t rtt_us = 0;       // tcpi_rtt (verbose log), 0 without tcp_info
    bool has_mark = false;     // INET_DIAG_MARK: only sent to CAP_NET_ADMIN
    bool has_cgroup = false;   // INET_DIAG_CGROUP_ID: Linux 5.7 and later, full sockets only
    uint32_t mark = 0;
    uint64_t cgroup = 0;
    // INET_DIAG_SOCKOPT (Linux 5.10 and later, full sockets only): a socket
    // that holds a non-local address on purpose (IP_TRANSPARENT,
    // IP_FREEBIND) is never --src-removed.
    bool has_sockopt = false;
    bool nonlocal_ok = false;  // transparent or freebind
};

static_assert(sizeof(inet_diag_sockid) == 48, "inet_diag_sockid layout");
static_assert(sizeof(SockRecord) == 80, "one per matched connection: keep it small");

}  // namespace tc
