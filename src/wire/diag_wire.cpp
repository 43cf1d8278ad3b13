#include "wire/diag_wire.hpp"

#include <linux/tcp.h>

#include <cstddef>
#include <cstring>

#include "wire/netlink.hpp"

namespace tc {
namespace {

// tcp_info grows across kernel versions; we read up to tcpi_rtt.
constexpr size_t kInfoNeeded = offsetof(tcp_info, tcpi_rtt) + sizeof(uint32_t);
static_assert(offsetof(tcp_info, tcpi_last_data_recv) < kInfoNeeded);

}  // namespace

Result<size_t> encode_dump_request(const DumpRequest& req, std::span<uint8_t> out) {
    ByteWriter w(out);
    const uint8_t ext = req.want_info && req.proto == Proto::Tcp ? 1u << (INET_DIAG_INFO - 1) : 0;
    if (req.family == AF_UNSPEC && req.proto != Proto::Tcp)
        return make_error(EINVAL, "a dump of both families in one walk is TCP's alone");
    if (req.family == AF_UNSPEC) {
        // The compat path dumps TCP with family AF_UNSPEC: IPv4, IPv6 and
        // v4-mapped sockets in one walk of the table.
        nl_put_header(w, TCPDIAG_GETSOCK, NLM_F_REQUEST | NLM_F_DUMP, req.seq);
        inet_diag_req r{};
        r.idiag_family = AF_UNSPEC;
        r.idiag_ext = ext;
        r.idiag_states = req.states;
        r.id.idiag_sport = net16(req.sport);
        r.id.idiag_dport = net16(req.dport);
        w.put(&r, sizeof r);
    } else {
        nl_put_header(w, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, req.seq);
        inet_diag_req_v2 r{};
        r.sdiag_family = req.family;
        r.sdiag_protocol = ip_protocol(req.proto);
        r.idiag_states = req.states;
        r.idiag_ext = ext;
        r.id.idiag_sport = net16(req.sport);
        r.id.idiag_dport = net16(req.dport);
        w.put(&r, sizeof r);
    }
    if (!req.bytecode.empty()) {
        if (req.bytecode.size() > 0xffff - sizeof(nlattr)) return make_error(E2BIG, "filter too large");
        nlattr a{static_cast<uint16_t>(sizeof(nlattr) + req.bytecode.size()), INET_DIAG_REQ_BYTECODE};
        w.put(&a, sizeof a);
        w.put(req.bytecode.data(), req.bytecode.size());
        w.pad4();
    }
    return nl_finish(w);
}

namespace {

// One request about one socket, acked: | nlmsghdr | inet_diag_req_v2 |.
Result<size_t> encode_one(uint16_t type, uint32_t seq, Proto p, uint8_t family, uint32_t states,
                          const inet_diag_sockid& id, std::span<uint8_t> out) {
    ByteWriter w(out);
    nl_put_header(w, type, NLM_F_REQUEST | NLM_F_ACK, seq);
    inet_diag_req_v2 r{};
    r.sdiag_family = family;
    r.sdiag_protocol = ip_protocol(p);
    r.idiag_states = states;
    r.id = id;
    w.put(&r, sizeof r);
    return nl_finish(w);
}

}  // namespace

Result<size_t> encode_destroy_request(uint32_t seq, const SockRecord& rec, std::span<uint8_t> out) {
    if (rec.cookie_is_wildcard()) return make_error(EINVAL, "refusing to destroy without a socket cookie");
    return encode_one(SOCK_DESTROY, seq, rec.proto(), rec.family, rec.state < 32 ? 1u << rec.state : 0, rec.id, out);
}

Result<size_t> encode_probe_request(uint32_t seq, std::span<uint8_t> out, Proto p) {
    inet_diag_sockid none{};  // zero addresses, ports and cookie
    return encode_one(SOCK_DESTROY, seq, p, AF_INET, 1u << 1 /* ESTABLISHED */, none, out);
}

Result<size_t> encode_lookup_request(uint32_t seq, const SockRecord& rec, std::span<uint8_t> out) {
    if (rec.cookie_is_wildcard()) return make_error(EINVAL, "refusing a lookup without a socket cookie");
    // An exact lookup ignores states; every TCP state up to CLOSING.
    return encode_one(SOCK_DIAG_BY_FAMILY, seq, rec.proto(), rec.family, 0xfff, rec.id, out);
}

Result<SockRecord> decode_sock(std::span<const uint8_t> payload, SockExtras* extras, Proto p) {
    SockExtras scratch;
    SockExtras& x = extras ? *extras : scratch;
    x = SockExtras{};
    inet_diag_msg m;
    if (payload.size() < sizeof m) return make_error(EPROTO, "short inet_diag reply");
    std::memcpy(&m, payload.data(), sizeof m);
    SockRecord rec;
    rec.id = m.id;
    rec.family = m.idiag_family;
    rec.state = m.idiag_state;
    rec.uid = m.idiag_uid;
    rec.inode = m.idiag_inode;
    rec.udp = p == Proto::Udp;

    NlAttrIter it(payload.subspan(align4(sizeof m) <= payload.size() ? align4(sizeof m) : payload.size()));
    NlAttr a;
    while (it.next(a)) {
        const size_t n = a.data.size();
        if (a.type == INET_DIAG_MARK && n >= sizeof x.mark) {
            std::memcpy(&x.mark, a.data.data(), sizeof x.mark);
            x.has_mark = true;
        }
        if (a.type == INET_DIAG_CGROUP_ID && n >= sizeof x.cgroup) {
            std::memcpy(&x.cgroup, a.data.data(), sizeof x.cgroup);
            x.has_cgroup = true;
        }
        if (a.type == INET_DIAG_SOCKOPT && n >= sizeof(inet_diag_sockopt)) {
            inet_diag_sockopt o;
            std::memcpy(&o, a.data.data(), sizeof o);
            x.has_sockopt = true;
            x.nonlocal_ok = o.transparent || o.freebind;
        }
        if (a.type != INET_DIAG_INFO || rec.udp) continue;
        // The kernel's tcp_info may be shorter or longer than ours.
        read_tcp_figures(a.data.data(), n, rec);
        if (n >= kInfoNeeded) {
            rec.has_info = true;
            std::memcpy(&x.rtt_us, a.data.data() + offsetof(tcp_info, tcpi_rtt), sizeof x.rtt_us);
        }
    }
    if (it.malformed()) return make_error(EPROTO, "malformed inet_diag attribute");
    return rec;
}

void read_tcp_figures(const void* info, size_t n, SockRecord& rec) {
    const uint8_t* bytes = static_cast<const uint8_t*>(info);
    struct Field {
        size_t offset;
        uint32_t SockRecord::*to;
        uint8_t bit;
    };
    static constexpr Field kFields[] = {
        {offsetof(tcp_info, tcpi_last_data_recv), &SockRecord::last_data_recv_ms, SockRecord::kFigureRecv},
        {offsetof(tcp_info, tcpi_last_data_sent), &SockRecord::last_data_sent_ms, SockRecord::kFigureSent},
        {offsetof(tcp_info, tcpi_last_ack_recv), &SockRecord::last_ack_recv_ms, SockRecord::kFigureAckRecv},
        {offsetof(tcp_info, tcpi_unacked), &SockRecord::unacked, SockRecord::kFigureUnacked},
    };
    uint8_t figures = 0;
    for (const Field& f : kFields) {
        if (n < f.offset + sizeof(uint32_t)) continue;  // the kernel's tcp_info ends before it
        std::memcpy(&(rec.*f.to), bytes + f.offset, sizeof(uint32_t));
        figures |= f.bit;
    }
    rec.figures = figures & 15u;
}

}  // namespace tc
