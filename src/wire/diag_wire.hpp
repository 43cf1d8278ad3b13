// The inet_diag wire format: dump and destroy requests, and the decoding of
// one dump reply into a SockRecord. Pure: no syscalls.
//
//   request:  | nlmsghdr 16 | inet_diag_req_v2 56 | nlattr 4 | bytecode |
//   both families, one walk (legacy TCPDIAG_GETSOCK):
//             | nlmsghdr 16 | inet_diag_req 60    | nlattr 4 | bytecode |
//   reply:    | nlmsghdr 16 | inet_diag_msg 72 | attributes (INET_DIAG_INFO ...) |
#pragma once

#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/result.hpp"
#include "core/sock_record.hpp"

namespace tc {

static_assert(sizeof(inet_diag_req_v2) == 56);
static_assert(sizeof(inet_diag_req) == 60);
static_assert(sizeof(inet_diag_msg) == 72);

constexpr size_t kDestroyRequestLen = 16 + sizeof(inet_diag_req_v2);

struct DumpRequest {
    uint32_t seq = 0;
    Proto proto = Proto::Tcp;
    uint8_t family = 0;        // AF_UNSPEC: one walk for both families (TCPDIAG_GETSOCK, TCP only)
    uint32_t states = 0;       // 1 << TCP_*; always explicit (src/KERNEL.md: The dump)
    bool want_info = false;    // attach tcp_info (INET_DIAG_INFO; TCP only)
    // An exact local / remote port (0: any). The kernel compares these with
    // each socket before it runs the filter, which costs it a few more
    // cache lines per socket (src/KERNEL.md: The dump): a quiet poll for one port
    // walks the table in about half the time.
    uint16_t sport = 0;
    uint16_t dport = 0;
    std::span<const uint8_t> bytecode;  // empty: no filter attribute
};

Result<size_t> encode_dump_request(const DumpRequest& req, std::span<uint8_t> out);

// SOCK_DESTROY for one socket of its protocol; the id (cookie included)
// comes from the dump.
Result<size_t> encode_destroy_request(uint32_t seq, const SockRecord& rec, std::span<uint8_t> out);

// The support probe (src/KERNEL.md: SOCK_DESTROY): SOCK_DESTROY of protocol
// `p` for a tuple that cannot exist (all zero, ports 0) with an all-zero
// cookie, which no socket has. ENOENT = supported (or, for UDP, no udp_diag:
// the dump tells), EOPNOTSUPP = not configured or (UDP) before 4.9,
// EINVAL = before 4.5.
Result<size_t> encode_probe_request(uint32_t seq, std::span<uint8_t> out, Proto p = Proto::Tcp);

// An exact lookup of one socket by id and cookie (SOCK_DIAG_BY_FAMILY
// without NLM_F_DUMP, with NLM_F_ACK): the kernel answers with its current
// inet_diag_msg and an ack, or only an error ack (ENOENT: gone).
Result<size_t> encode_lookup_request(uint32_t seq, const SockRecord& rec, std::span<uint8_t> out);

// Decodes the payload of one SOCK_DIAG_BY_FAMILY reply to a dump of
// protocol `p` (the reply does not say). Short payloads and malformed
// attributes are errors; a tcp_info shorter than the fields we read leaves
// has_info false; UDP sockets have none.
// `extras` (may be null) receives tcpi_rtt, the mark, the cgroup id and the
// IP_TRANSPARENT/IP_FREEBIND bits where the reply has them (an attribute
// too short for its value is ignored). The kernel sends INET_DIAG_SOCKOPT
// with every full socket unasked: its number (22) is past what the u8
// idiag_ext can request.
Result<SockRecord> decode_sock(std::span<const uint8_t> payload, SockExtras* extras = nullptr, Proto p = Proto::Tcp);

// The figures of a struct tcp_info as the kernel handed it over (`n` bytes,
// which may be fewer or more than ours): each of tcpi_last_data_recv,
// tcpi_last_data_sent, tcpi_last_ack_recv and tcpi_unacked only if the
// bytes reach its end, with its bit in rec.figures. For the dump's
// INET_DIAG_INFO and for getsockopt(TCP_INFO) on the /proc path.
void read_tcp_figures(const void* info, size_t n, SockRecord& rec);

}  // namespace tc
