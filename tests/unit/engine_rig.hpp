// Shared by the engine's unit tests: a scripted dump, an observer that
// records, and small builders.
#pragma once

#include <catch2/catch.hpp>

#include <linux/tcp.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/ports.hpp"
#include "engine/engine.hpp"
#include "fake_transport.hpp"
#include "helpers.hpp"

namespace enginerig {

using namespace tc;
using testutil::Bytes;
using testutil::FakeTransport;

inline Bytes diag_payload(const SockRecord& r, int info_last_recv = -1) {
    inet_diag_msg m{};
    m.idiag_family = r.family;
    m.idiag_state = r.state;
    m.id = r.id;
    m.idiag_inode = 77;
    Bytes out(sizeof m);
    std::memcpy(out.data(), &m, sizeof m);
    if (info_last_recv >= 0) {
        tcp_info ti{};
        ti.tcpi_last_data_recv = static_cast<uint32_t>(info_last_recv);
        nlattr a{static_cast<uint16_t>(4 + sizeof ti), INET_DIAG_INFO};
        const uint8_t* p = reinterpret_cast<const uint8_t*>(&a);
        out.insert(out.end(), p, p + 4);
        p = reinterpret_cast<const uint8_t*>(&ti);
        out.insert(out.end(), p, p + sizeof ti);
    }
    return out;
}

struct Recorder final : PollObserver {
    size_t filters = 0;
    std::vector<std::pair<uint16_t, bool>> candidates;
    std::vector<EndResult> results;
    std::vector<SockRecord> recs;  // the record of each result
    void on_filter(const DumpScope&, std::span<const uint8_t> prog) override { filters += !prog.empty(); }
    void on_candidate(const SockRecord& r, uint32_t, bool sel) override { candidates.emplace_back(r.sport(), sel); }
    void on_result(const SockRecord& r, const EndResult& k) override {
        recs.push_back(r);
        results.push_back(k);
    }
};

// A dump transport answering each request (seq 1, 2, ...) with the sockets
// given for that family, then NLMSG_DONE.
struct DumpScript {
    FakeTransport t;
    void family(uint32_t seq, const std::vector<Bytes>& socks, int done_err = 0) {
        Bytes d;
        for (const Bytes& s : socks) testutil::append_msg(d, SOCK_DIAG_BY_FAMILY, seq, s, NLM_F_MULTI);
        testutil::append_msg(d, NLMSG_DONE, seq, testutil::int_payload(-done_err), NLM_F_MULTI);
        t.queued.push_back(d);
    }
};

// Ends everything it is given with `method`, recording the inodes and the calls.
struct InodeTerminator final : Terminator {
    Method method = Method::Reset;
    std::vector<uint32_t> ended;
    size_t calls = 0;
    Status end_connections(std::span<const SockRecord> recs, std::span<EndResult> out) override {
        ++calls;
        for (size_t i = 0; i < recs.size(); ++i) {
            ended.push_back(recs[i].inode);
            out[i] = EndResult{};
            out[i].outcome = Outcome::Ended;
            out[i].method = method;
        }
        return {};
    }
};

inline tc::Selection sel_sport(const char* ports) {
    Selection s;
    REQUIRE(parse_ports(ports, s.sports).ok());
    return s;
}


}  // namespace enginerig
