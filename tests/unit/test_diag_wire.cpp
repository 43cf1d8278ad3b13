#include <catch2/catch.hpp>

#include <linux/netlink.h>
#include <linux/tcp.h>

#include <array>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "core/ports.hpp"
#include "wire/bytecode.hpp"
#include "wire/diag_wire.hpp"
#include "wire/netlink.hpp"
#include "fake_transport.hpp"
#include "helpers.hpp"

using namespace tc;
using testutil::Datagram;

TEST_CASE("dump request golden bytes", "[diag_wire]") {
    Selection sel;
    REQUIRE(parse_ports("22", sel.sports).ok());
    std::vector<uint8_t> bc(filter_size_bound(sel));
    Result<size_t> bclen = compile_filter(sel, {AF_INET, V6Scope::Any}, bc);
    REQUIRE(bclen.ok());

    DumpRequest req;
    req.seq = 7;
    req.family = AF_INET;
    req.states = 1u << 1  /* TCP_ESTABLISHED */;
    req.want_info = true;
    req.bytecode = {bc.data(), *bclen};
    std::array<uint8_t, 256> out{};
    Result<size_t> n = encode_dump_request(req, out);
    REQUIRE(n.ok());

    std::vector<uint8_t> golden = {
        // nlmsghdr: len 92, type SOCK_DIAG_BY_FAMILY (20), flags REQUEST|DUMP (0x301), seq 7, pid 0
        0x5c, 0, 0, 0,  20, 0,  0x01, 0x03,  7, 0, 0, 0,  0, 0, 0, 0,
        // inet_diag_req_v2: family AF_INET, proto TCP, ext 1 << (INET_DIAG_INFO - 1), pad, states 1 << ESTABLISHED
        2, 6, 2, 0,  2, 0, 0, 0,
    };
    golden.insert(golden.end(), 48, 0);  // inet_diag_sockid: all zero for a dump
    const std::vector<uint8_t> tail = {
        // nlattr: len 20, type INET_DIAG_REQ_BYTECODE
        20, 0, 1, 0,
        // S_GE yes 8 no 20 | port 22 | S_LE yes 8 no 12 | port 22
        2, 8, 20, 0,  0, 0, 22, 0,  3, 8, 12, 0,  0, 0, 22, 0,
    };
    golden.insert(golden.end(), tail.begin(), tail.end());
    REQUIRE(*n == golden.size());
    CHECK(std::vector<uint8_t>(out.begin(), out.begin() + static_cast<long>(*n)) == golden);
}

TEST_CASE("dump request without filter or tcp_info", "[diag_wire]") {
    DumpRequest req;
    req.seq = 1;
    req.family = AF_INET6;
    req.states = 2;
    std::array<uint8_t, 128> out{};
    Result<size_t> n = encode_dump_request(req, out);
    REQUIRE(n.ok());
    CHECK(*n == 72);
    CHECK(out[0] == 72);
    CHECK(out[16] == AF_INET6);
    CHECK(out[18] == 0);  // no extensions requested
}

TEST_CASE("requests that do not fit fail instead of overrunning", "[diag_wire]") {
    DumpRequest req;
    req.family = AF_INET;
    std::array<uint8_t, 71> small{};
    CHECK_FALSE(encode_dump_request(req, small).ok());
    SockRecord r = testutil::rec("127.0.0.1", 1, "127.0.0.1", 2);
    CHECK_FALSE(encode_destroy_request(1, r, small).ok());
}

TEST_CASE("destroy request golden bytes: the id is copied, cookie included", "[diag_wire]") {
    SockRecord r = testutil::rec("127.0.0.1", 22, "127.0.0.2", 40000);
    r.id.idiag_if = 1;
    r.id.idiag_cookie[0] = 0xddccbbaa;
    r.id.idiag_cookie[1] = 0x11;
    std::array<uint8_t, kDestroyRequestLen> out{};
    Result<size_t> n = encode_destroy_request(0x01020304, r, out);
    REQUIRE(n.ok());
    const std::vector<uint8_t> golden = {
        // nlmsghdr: len 72, type SOCK_DESTROY (21), flags REQUEST|ACK (5), seq 0x01020304
        72, 0, 0, 0,  21, 0,  5, 0,  4, 3, 2, 1,  0, 0, 0, 0,
        // family AF_INET, TCP, no ext, pad, states 1 << ESTABLISHED
        2, 6, 0, 0,  2, 0, 0, 0,
        // id: sport 22, dport 40000 (network order), src, dst, if, cookie
        0, 22,  0x9c, 0x40,
        127, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
        127, 0, 0, 2,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
        1, 0, 0, 0,
        0xaa, 0xbb, 0xcc, 0xdd,  0x11, 0, 0, 0,
    };
    REQUIRE(*n == golden.size());
    CHECK(std::vector<uint8_t>(out.begin(), out.end()) == golden);
}

TEST_CASE("a wildcard cookie is never sent", "[diag_wire]") {
    SockRecord r = testutil::rec("127.0.0.1", 22, "127.0.0.2", 40000);
    r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    std::array<uint8_t, kDestroyRequestLen> out{};
    Result<size_t> n = encode_destroy_request(1, r, out);
    CHECK_FALSE(n.ok());
}

namespace {

std::vector<uint8_t> reply(const SockRecord& r, int info_len, uint32_t last_recv = 0, uint32_t rtt = 0) {
    inet_diag_msg m{};
    m.idiag_family = r.family;
    m.idiag_state = r.state;
    m.id = r.id;
    m.idiag_uid = 1000;
    m.idiag_inode = 4242;
    std::vector<uint8_t> out(sizeof m);
    std::memcpy(out.data(), &m, sizeof m);
    if (info_len >= 0) {
        tcp_info ti{};
        ti.tcpi_last_data_recv = last_recv;
        ti.tcpi_rtt = rtt;
        std::vector<uint8_t> data(static_cast<size_t>(info_len), 0);
        std::memcpy(data.data(), &ti, std::min(data.size(), sizeof ti));
        nlattr a{static_cast<uint16_t>(4 + data.size()), INET_DIAG_INFO};
        const uint8_t* p = reinterpret_cast<const uint8_t*>(&a);
        out.insert(out.end(), p, p + 4);
        out.insert(out.end(), data.begin(), data.end());
        while (out.size() % 4) out.push_back(0);
    }
    return out;
}

}  // namespace

TEST_CASE("decode a dump reply with and without tcp_info", "[diag_wire]") {
    SockRecord in = testutil::rec("::ffff:127.0.0.1", 22, "::ffff:127.0.0.1", 50000);
    Result<SockRecord> plain = decode_sock(reply(in, -1));
    REQUIRE(plain.ok());
    CHECK(plain->family == AF_INET6);
    CHECK(plain->sport() == 22);
    CHECK(plain->dport() == 50000);
    CHECK(plain->uid == 1000);
    CHECK(plain->inode == 4242);
    CHECK(plain->v4_mapped());
    CHECK_FALSE(plain->has_info);
    CHECK(std::memcmp(&plain->id, &in.id, sizeof in.id) == 0);

    SockExtras x;
    x.rtt_us = 99;
    Result<SockRecord> full = decode_sock(reply(in, sizeof(tcp_info), 61000, 1234), &x);
    REQUIRE(full.ok());
    CHECK(full->has_info);
    CHECK(full->last_data_recv_ms == 61000);
    CHECK(x.rtt_us == 1234);
    REQUIRE(decode_sock(reply(in, -1), &x).ok());
    CHECK(x.rtt_us == 0);  // no tcp_info: no rtt

    // A newer kernel's longer tcp_info: copy what we know, ignore the rest.
    Result<SockRecord> longer = decode_sock(reply(in, sizeof(tcp_info) + 64, 5, 6));
    REQUIRE(longer.ok());
    CHECK(longer->last_data_recv_ms == 5);

    // Too short to hold the fields we read: present but unusable.
    Result<SockRecord> short_info = decode_sock(reply(in, 8, 5, 6));
    REQUIRE(short_info.ok());
    CHECK_FALSE(short_info->has_info);

    // Exactly as long as the fields we read (they end with tcpi_rtt), and
    // one byte less.
    const int needed = static_cast<int>(offsetof(tcp_info, tcpi_rtt) + 4);
    Result<SockRecord> exact = decode_sock(reply(in, needed, 7, 8), &x);
    REQUIRE(exact.ok());
    CHECK(exact->has_info);
    CHECK(exact->last_data_recv_ms == 7);
    CHECK(x.rtt_us == 8);
    Result<SockRecord> one_less = decode_sock(reply(in, needed - 1, 7, 8));
    REQUIRE(one_less.ok());
    CHECK_FALSE(one_less->has_info);
}

TEST_CASE("decode reads a short tcp_info only within its attribute", "[diag_wire]") {
    // A tcp_info cut just after tcpi_last_data_recv, followed by an
    // attribute of 0xff bytes: no field may come from the bytes after it.
    SockRecord in = testutil::rec("127.0.0.1", 22, "127.0.0.1", 50000);
    const size_t cut = offsetof(tcp_info, tcpi_last_data_recv) + 4;
    std::vector<uint8_t> msg = reply(in, static_cast<int>(cut), 7, 8);
    const nlattr junk_hdr{static_cast<uint16_t>(4 + 128), 0x7f};
    const uint8_t* p = reinterpret_cast<const uint8_t*>(&junk_hdr);
    msg.insert(msg.end(), p, p + 4);
    msg.insert(msg.end(), 128, 0xff);
    SockExtras x;
    x.rtt_us = 99;
    Result<SockRecord> r = decode_sock(msg, &x);
    REQUIRE(r.ok());
    CHECK_FALSE(r->has_info);  // tcpi_rtt is not in it
    CHECK(x.rtt_us == 0);
}

TEST_CASE("decode rejects an attribute whose length is 0 or runs past the reply", "[diag_wire]") {
    SockRecord in = testutil::rec("127.0.0.1", 22, "127.0.0.1", 50000);
    std::vector<uint8_t> good = reply(in, sizeof(tcp_info), 1, 2);
    REQUIRE(decode_sock(good).ok());
    const size_t at = sizeof(inet_diag_msg);  // the attribute header
    for (uint16_t len : {uint16_t{0}, uint16_t{1}, uint16_t{3}, static_cast<uint16_t>(good.size() - at + 1),
                         uint16_t{0xffff}}) {
        INFO("nla_len " << len);
        std::vector<uint8_t> bad = good;
        std::memcpy(bad.data() + at, &len, 2);
        Result<SockRecord> r = decode_sock(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == EPROTO);
    }
}

TEST_CASE("decode rejects truncated and malformed replies", "[diag_wire]") {
    SockRecord in = testutil::rec("127.0.0.1", 22, "127.0.0.1", 50000);
    std::vector<uint8_t> good = reply(in, sizeof(tcp_info), 1, 2);
    for (size_t cut = 0; cut < sizeof(inet_diag_msg); ++cut) {
        std::vector<uint8_t> part(good.begin(), good.begin() + static_cast<long>(cut));
        CHECK_FALSE(decode_sock(part).ok());
    }
    // Cutting inside the attribute: its length now exceeds the buffer.
    std::vector<uint8_t> cut_attr(good.begin(), good.begin() + static_cast<long>(sizeof(inet_diag_msg) + 20));
    CHECK_FALSE(decode_sock(cut_attr).ok());
    std::vector<uint8_t> bad_len = good;
    bad_len[sizeof(inet_diag_msg)] = 2;  // nla_len below the header size
    bad_len[sizeof(inet_diag_msg) + 1] = 0;
    CHECK_FALSE(decode_sock(bad_len).ok());
}

TEST_CASE("decode: the mark and cgroup id attributes", "[diag_wire][owner]") {
    SockRecord in = testutil::rec("127.0.0.1", 22, "127.0.0.1", 50000);
    auto with = [&](uint16_t type, std::vector<uint8_t> value) {
        std::vector<uint8_t> msg = reply(in, -1);
        nlattr a{static_cast<uint16_t>(4 + value.size()), type};
        const uint8_t* p = reinterpret_cast<const uint8_t*>(&a);
        msg.insert(msg.end(), p, p + 4);
        msg.insert(msg.end(), value.begin(), value.end());
        while (msg.size() % 4) msg.push_back(0);
        return msg;
    };
    SockExtras x;
    REQUIRE(decode_sock(with(INET_DIAG_MARK, {0x78, 0x56, 0x34, 0x12}), &x).ok());
    CHECK(x.has_mark);
    CHECK(x.mark == 0x12345678u);
    CHECK_FALSE(x.has_cgroup);
    REQUIRE(decode_sock(with(INET_DIAG_CGROUP_ID, {1, 0, 0, 0, 2, 0, 0, 0}), &x).ok());
    CHECK_FALSE(x.has_mark);  // reset for each reply
    CHECK(x.has_cgroup);
    CHECK(x.cgroup == 0x200000001ull);
    // Too short for their values: ignored, not read past.
    REQUIRE(decode_sock(with(INET_DIAG_MARK, {1, 2, 3}), &x).ok());
    CHECK_FALSE(x.has_mark);
    REQUIRE(decode_sock(with(INET_DIAG_CGROUP_ID, {1, 2, 3, 4}), &x).ok());
    CHECK_FALSE(x.has_cgroup);
    REQUIRE(decode_sock(reply(in, -1), &x).ok());
    CHECK_FALSE(x.has_mark);
    CHECK_FALSE(x.has_cgroup);
    // INET_DIAG_SOCKOPT: byte 0 holds freebind (bit 2) and transparent (bit 5).
    REQUIRE(decode_sock(with(INET_DIAG_SOCKOPT, {0x50, 0}), &x).ok());  // mc_loop, mc_all: a plain socket
    CHECK((x.has_sockopt && !x.nonlocal_ok));
    REQUIRE(decode_sock(with(INET_DIAG_SOCKOPT, {0x04, 0}), &x).ok());
    CHECK((x.has_sockopt && x.nonlocal_ok));
    REQUIRE(decode_sock(with(INET_DIAG_SOCKOPT, {0x20, 0}), &x).ok());
    CHECK((x.has_sockopt && x.nonlocal_ok));
    REQUIRE(decode_sock(with(INET_DIAG_SOCKOPT, {0x24}), &x).ok());  // one byte short: ignored
    CHECK_FALSE(x.has_sockopt);
    CHECK_FALSE(x.nonlocal_ok);
}

namespace {

// A real UDP dump, captured in a private namespace (see the file's head).
const Datagram kUdpDump[] = {
#include "udp_dump_golden.inc"
};

}  // namespace

TEST_CASE("UDP dump request golden bytes: protocol 17, per family, no tcp_info", "[diag_wire][udp]") {
    DumpRequest req;
    req.seq = 3;
    req.proto = Proto::Udp;
    req.family = AF_INET6;
    req.states = 1u << 1;
    req.want_info = true;  // ignored: UDP has none
    req.dport = 53;
    std::array<uint8_t, 128> out{};
    Result<size_t> n = encode_dump_request(req, out);
    REQUIRE(n.ok());
    std::vector<uint8_t> golden = {
        // nlmsghdr: len 72, type SOCK_DIAG_BY_FAMILY (20), flags REQUEST|DUMP, seq 3
        72, 0, 0, 0,  20, 0,  0x01, 0x03,  3, 0, 0, 0,  0, 0, 0, 0,
        // inet_diag_req_v2: AF_INET6, IPPROTO_UDP, no extensions, pad, states 1 << 1 (connected)
        10, 17, 0, 0,  2, 0, 0, 0,
        // inet_diag_sockid: sport 0, dport 53 (big-endian), the rest zero
        0, 0, 0, 53,
    };
    golden.insert(golden.end(), 44, 0);
    REQUIRE(*n == golden.size());
    CHECK(std::vector<uint8_t>(out.begin(), out.begin() + static_cast<long>(*n)) == golden);
    // The one walk over both families is TCP's alone.
    req.family = AF_UNSPEC;
    CHECK_FALSE(encode_dump_request(req, out).ok());
}

TEST_CASE("UDP destroy, lookup and probe requests carry IPPROTO_UDP", "[diag_wire][udp]") {
    SockRecord r = testutil::rec("127.0.0.1", 40001, "127.0.0.1", 5353);
    r.udp = true;
    std::array<uint8_t, kDestroyRequestLen> out{};
    inet_diag_req_v2 req;
    REQUIRE(encode_destroy_request(1, r, out).ok());
    std::memcpy(&req, out.data() + sizeof(nlmsghdr), sizeof req);
    CHECK(req.sdiag_protocol == IPPROTO_UDP);
    CHECK(std::memcmp(&req.id, &r.id, sizeof req.id) == 0);
    REQUIRE(encode_lookup_request(2, r, out).ok());
    std::memcpy(&req, out.data() + sizeof(nlmsghdr), sizeof req);
    CHECK(req.sdiag_protocol == IPPROTO_UDP);
    REQUIRE(encode_probe_request(3, out, Proto::Udp).ok());
    std::memcpy(&req, out.data() + sizeof(nlmsghdr), sizeof req);
    CHECK(req.sdiag_protocol == IPPROTO_UDP);
    REQUIRE(encode_probe_request(3, out).ok());
    std::memcpy(&req, out.data() + sizeof(nlmsghdr), sizeof req);
    CHECK(req.sdiag_protocol == IPPROTO_TCP);
    r.udp = false;
    REQUIRE(encode_destroy_request(1, r, out).ok());
    std::memcpy(&req, out.data() + sizeof(nlmsghdr), sizeof req);
    CHECK(req.sdiag_protocol == IPPROTO_TCP);
}

TEST_CASE("a captured UDP dump decodes; only the connected sockets are selected", "[diag_wire][udp]") {
    std::vector<SockRecord> recs;
    std::vector<uint32_t> seqs;
    size_t done = 0;
    for (const Datagram& d : kUdpDump) {
        REQUIRE(d.len == d.bytes.size());
        NlMsgIter it(std::span<const uint8_t>(d.bytes.data(), d.bytes.size()));
        NlMsg m;
        while (it.next(m)) {
            if (m.type == NLMSG_DONE) ++done;
            if (m.type != SOCK_DIAG_BY_FAMILY) continue;
            SockExtras x;
            Result<SockRecord> r = decode_sock(m.payload, &x, Proto::Udp);
            REQUIRE(r.ok());
            // Linux 6.18 sends INET_DIAG_SOCKOPT unasked; none of these is transparent or freebind.
            CHECK((x.has_sockopt && !x.nonlocal_ok));
            recs.push_back(*r);
            seqs.push_back(m.seq);
        }
        CHECK_FALSE(it.malformed());
    }
    CHECK(done == 2);
    // AF_INET: the server on 5353 and the client from 40001; AF_INET6: the
    // dual-stack server on 5354 and the clients from 40002 and 40003.
    std::map<uint16_t, SockRecord> by_port;
    for (const SockRecord& r : recs) by_port[r.sport()] = r;
    REQUIRE(recs.size() == 5);
    REQUIRE(by_port.size() == 5);
    CHECK(by_port[5353].state == 7);
    CHECK(by_port[5353].family == AF_INET);
    CHECK(by_port[5354].state == 7);
    CHECK(by_port[5354].family == AF_INET6);
    CHECK(by_port[40001].state == 1);
    CHECK(by_port[40001].dport() == 5353);
    CHECK(by_port[40002].state == 1);
    CHECK_FALSE(by_port[40002].v4_mapped());
    CHECK(by_port[40003].state == 1);
    CHECK(by_port[40003].v4_mapped());
    CHECK(by_port[40003].dport() == 5354);
    for (const SockRecord& r : recs) {
        CHECK(r.udp);
        CHECK_FALSE(r.has_info);
        CHECK_FALSE(r.cookie_is_wildcard());
        CHECK(r.inode != 0);
    }
    // -u -d 5353-5354 -4 -6 selects the three clients, never a server.
    Selection sel;
    sel.tcp = false;
    sel.udp = true;
    sel.ipv6 = true;
    REQUIRE(parse_ports("5353-5354", sel.dports).ok());
    std::set<uint16_t> picked;
    const DumpPlan plan = plan_dumps(sel);
    for (const SockRecord& r : recs)
        for (size_t s = 0; s < plan.count; ++s)
            if (selected(sel, plan.scopes[s], r)) picked.insert(r.sport());
    CHECK(picked == std::set<uint16_t>{40001, 40002, 40003});
    // Even by their own ports and --state all with --tcp, the servers stay.
    sel.tcp = true;
    sel.states = 0xfff & ~(1u << 10);
    sel.dports = PortSet{};
    REQUIRE(parse_ports("5353-5354", sel.sports).ok());
    picked.clear();
    for (const SockRecord& r : recs)
        for (size_t s = 0; s < plan_dumps(sel).count; ++s)
            if (selected(sel, plan_dumps(sel).scopes[s], r)) picked.insert(r.sport());
    CHECK(picked.empty());
}
