// SOCK_DESTROY batching, the per-socket EOPNOTSUPP rule and the support
// probe, over a scripted kernel (FakeTransport).
#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/sock_destroy.hpp"
#include "fake_transport.hpp"
#include "helpers.hpp"

using namespace tc;
using testutil::FakeTransport;

namespace {

// A fallback terminator that records what it was given and answers "reset".
struct RecordingTerminator final : Terminator {
    std::vector<uint16_t> ports;  // dport of each record it was asked to end
    Status end_connections(std::span<const SockRecord> recs, std::span<EndResult> out) override {
        for (size_t i = 0; i < recs.size(); ++i) {
            ports.push_back(recs[i].dport());
            out[i] = EndResult{};
            out[i].outcome = Outcome::Ended;
            out[i].method = Method::Reset;
            out[i].pid = 4242;
        }
        return {};
    }
};

std::vector<SockRecord> recs_to(std::initializer_list<uint16_t> dports) {
    std::vector<SockRecord> v;
    for (uint16_t p : dports) v.push_back(testutil::rec("127.0.0.1", 22, "127.0.0.1", p));
    return v;
}

std::vector<SockRecord> recs_from(uint16_t first, size_t n) {
    std::vector<SockRecord> v;
    for (size_t i = 0; i < n; ++i) v.push_back(testutil::rec("127.0.0.1", 22, "127.0.0.1", static_cast<uint16_t>(first + i)));
    return v;
}

// The destination port of every destroy request the fake kernel was sent.
std::vector<uint16_t> destroyed_ports(const FakeTransport& t) {
    std::vector<uint16_t> ports;
    for (const testutil::Bytes& msg : t.sent)
        for (size_t off = 0; off + sizeof(nlmsghdr) + sizeof(inet_diag_req_v2) <= msg.size();) {
            nlmsghdr h;
            inet_diag_req_v2 req;
            std::memcpy(&h, msg.data() + off, sizeof h);
            std::memcpy(&req, msg.data() + off + sizeof h, sizeof req);
            if (h.nlmsg_type == SOCK_DESTROY) ports.push_back(ntohs(req.id.idiag_dport));
            off += h.nlmsg_len;
        }
    return ports;
}

// Stands in for the helper process: takes what it is given and answers
// each of the first `finishes` with `ack`.
struct FakeHelper final : DestroyHelper {
    bool starts = true;
    size_t finishes = SIZE_MAX;
    int ack = ENOENT;  // not what the fake kernel answers, so results show who ended what
    std::vector<uint16_t> given;
    int finished = 0;
    bool start(std::span<const SockRecord> recs) override {
        if (!starts) return false;
        for (const SockRecord& r : recs) given.push_back(r.dport());
        return true;
    }
    size_t finish(std::span<EndResult> out) override {
        ++finished;
        const size_t n = finishes < out.size() ? finishes : out.size();
        for (size_t i = 0; i < n; ++i) out[i] = result_from_errno(ack);
        return n;
    }
};

std::vector<uint16_t> port_run(uint16_t first, uint16_t last) {
    std::vector<uint16_t> v;
    for (uint32_t p = first; p <= last; ++p) v.push_back(static_cast<uint16_t>(p));
    return v;
}

}  // namespace

TEST_CASE("destroyer: a large set is split with a helper; what it did not finish, we end", "[sock_destroy]") {
    FakeTransport t;
    t.destroy_rule = [](const inet_diag_req_v2&) { return 0; };
    FakeHelper helper;
    SockDestroyTerminator term(t, nullptr, &helper);

    SECTION("below the threshold: no helper") {
        auto recs = recs_from(10000, SockDestroyTerminator::kSplitMin - 1);
        std::vector<EndResult> out(recs.size());
        REQUIRE(term.end_connections(recs, out).ok());
        CHECK(helper.given.empty());
        CHECK(helper.finished == 0);
        CHECK(destroyed_ports(t) == port_run(10000, static_cast<uint16_t>(10000 + recs.size() - 1)));
    }
    SECTION("at the threshold: the back half (from a batch boundary) goes to the helper") {
        auto recs = recs_from(10000, 3000);  // half is 1500, rounded up to 12 batches: 1536
        std::vector<EndResult> out(recs.size());
        REQUIRE(term.end_connections(recs, out).ok());
        CHECK(destroyed_ports(t) == port_run(10000, 11535));
        CHECK(helper.given == port_run(11536, 12999));
        CHECK(helper.finished == 1);
        CHECK(out[1535].outcome == Outcome::Ended);
        CHECK(out[1536].outcome == Outcome::Vanished);
        CHECK(out[2999].outcome == Outcome::Vanished);
    }
    SECTION("exactly kSplitMin is split") {
        auto recs = recs_from(10000, SockDestroyTerminator::kSplitMin);
        std::vector<EndResult> out(recs.size());
        REQUIRE(term.end_connections(recs, out).ok());
        CHECK(helper.given.size() == SockDestroyTerminator::kSplitMin / 2);
    }
    SECTION("a helper that cannot start leaves everything to us") {
        helper.starts = false;
        auto recs = recs_from(10000, 2000);
        std::vector<EndResult> out(recs.size());
        REQUIRE(term.end_connections(recs, out).ok());
        CHECK(destroyed_ports(t) == port_run(10000, 11999));
        CHECK(helper.finished == 0);
        CHECK(out[1999].outcome == Outcome::Ended);
    }
    SECTION("a helper that stopped part-way: we end the rest of its share") {
        helper.finishes = 100;
        auto recs = recs_from(10000, 2000);  // ours: 1024, the helper's: 976
        std::vector<EndResult> out(recs.size());
        REQUIRE(term.end_connections(recs, out).ok());
        std::vector<uint16_t> want = port_run(10000, 11023);
        for (uint16_t p : port_run(11124, 11999)) want.push_back(p);
        CHECK(destroyed_ports(t) == want);
        CHECK(out[1123].outcome == Outcome::Vanished);
        CHECK(out[1124].outcome == Outcome::Ended);
    }
    SECTION("our half breaking off still waits for the helper") {
        t.send_error = EPERM;
        auto recs = recs_from(10000, 2000);
        std::vector<EndResult> out(recs.size());
        CHECK_FALSE(term.end_connections(recs, out).ok());
        CHECK(helper.finished == 1);
    }
    SECTION("the helper's EOPNOTSUPP answers get the same second look as ours") {
        helper.ack = EOPNOTSUPP;
        t.lookup_rule = [](const inet_diag_req_v2&, uint8_t&) { return ENOENT; };
        auto recs = recs_from(10000, 2000);
        std::vector<EndResult> out(recs.size());
        REQUIRE(term.end_connections(recs, out).ok());
        CHECK(t.lookups == 976);
        CHECK(out[1999].outcome == Outcome::Vanished);
    }
}

TEST_CASE("destroyer: errno_of undoes result_from_errno", "[sock_destroy]") {
    for (int err : {0, ENOENT, EPERM, EOPNOTSUPP, ENOBUFS, EPROTO}) {
        INFO("errno " << err);
        CHECK(errno_of(result_from_errno(err)) == err);
    }
}

TEST_CASE("destroyer: batches, outcomes by errno, lost acks", "[sock_destroy]") {
    std::vector<SockRecord> recs;
    for (uint16_t i = 0; i < 300; ++i) recs.push_back(testutil::rec("127.0.0.1", 22, "127.0.0.1", static_cast<uint16_t>(10000 + i)));
    std::vector<EndResult> out(recs.size());
    FakeTransport t;
    t.destroy_rule = [](const inet_diag_req_v2& req) {
        uint16_t port = ntohs(req.id.idiag_dport);
        if (port % 10 == 1) return ENOENT;
        if (port % 10 == 2) return EPERM;
        return 0;
    };

    SECTION("all acks arrive") {
        SockDestroyTerminator term(t);
        REQUIRE(term.end_connections(recs, out).ok());
        CHECK(t.sent.size() == 3);  // 128 + 128 + 44
        CHECK(t.sent[0].size() == SockDestroyTerminator::kBatch * kDestroyRequestLen);
        CHECK(t.recv_many_calls <= 3 + 3);  // a batch's acks in one call (plus the EAGAIN that ends it)
        for (size_t i = 0; i < recs.size(); ++i) {
            uint16_t port = recs[i].dport();
            INFO("port " << port);
            if (port % 10 == 1) CHECK(out[i].outcome == Outcome::Vanished);
            else if (port % 10 == 2) {
                CHECK(out[i].outcome == Outcome::Failed);
                CHECK(out[i].err == EPERM);
            } else CHECK(out[i].outcome == Outcome::Ended);
        }
    }
    SECTION("acks dropped by a full receive buffer: each unanswered one is looked up again") {
        t.drop_acks_after = 100;
        // Gone now: it was destroyed. Still there (odd ports): it was not.
        t.lookup_rule = [](const inet_diag_req_v2& req, uint8_t& state) {
            state = 1;
            return ntohs(req.id.idiag_dport) % 2 ? 0 : ENOENT;
        };
        SockDestroyTerminator term(t);
        REQUIRE(term.end_connections(std::span(recs).first(128), std::span(out).first(128)).ok());
        CHECK(t.lookups == 28);
        CHECK(t.waits == 0);  // dropped acks do not come late: no waiting for them
        for (size_t i = 100; i < 128; ++i) {
            const uint16_t port = recs[i].dport();
            INFO("port " << port);
            if (port % 2) {
                CHECK(out[i].outcome == Outcome::Failed);
                CHECK(out[i].err == ENOBUFS);
            } else {
                CHECK(out[i].outcome == Outcome::Ended);
                CHECK(out[i].method == Method::SockDestroy);
            }
        }
        CHECK(out[99].outcome == (recs[99].dport() % 10 == 2 ? Outcome::Failed : recs[99].dport() % 10 == 1 ? Outcome::Vanished : Outcome::Ended));
    }
    SECTION("late acks are waited for, once, and count like any other") {
        t.late_seqs = {5, 6, 200};  // two of the first batch, one of the second
        SockDestroyTerminator term(t);
        REQUIRE(term.end_connections(recs, out).ok());
        CHECK(t.lookups == 0);
        CHECK(t.waits == 2);
        for (size_t i : {4u, 5u, 199u}) {
            INFO("record " << i);
            CHECK(out[i].outcome == (recs[i].dport() % 10 == 1 ? Outcome::Vanished : recs[i].dport() % 10 == 2 ? Outcome::Failed : Outcome::Ended));
        }
    }
    SECTION("acks that never come: looked up after the reply timeout") {
        t.silent_seqs = {7, 8};
        t.lookup_rule = [](const inet_diag_req_v2& req, uint8_t& state) {
            state = 1;  // 10006 still established: its destroy did not happen
            return ntohs(req.id.idiag_dport) == 10006 ? 0 : ENOENT;
        };
        SockDestroyTerminator term(t);
        REQUIRE(term.end_connections(std::span(recs).first(10), std::span(out).first(10)).ok());
        CHECK(t.waits == 1);
        CHECK(t.lookups == 2);
        CHECK(out[6].outcome == Outcome::Failed);
        CHECK(out[6].err == ETIMEDOUT);
        CHECK(out[7].outcome == Outcome::Ended);
        CHECK(out[8].outcome == Outcome::Ended);
    }
    SECTION("an ack lost, the connection found in TIME_WAIT by its lookup: ended, not failed") {
        t.silent_seqs = {3, 4};
        t.lookup_rule = [](const inet_diag_req_v2& req, uint8_t& state) {
            // 10002's destroy happened (the close left TIME_WAIT); 10003 is still up.
            state = ntohs(req.id.idiag_dport) == 10003 ? 1 : 6;
            return 0;
        };
        SockDestroyTerminator term(t);
        REQUIRE(term.end_connections(std::span(recs).first(5), std::span(out).first(5)).ok());
        CHECK(t.lookups == 2);
        CHECK(out[2].outcome == Outcome::Ended);
        CHECK(out[2].method == Method::SockDestroy);
        CHECK(out[3].outcome == Outcome::Failed);
        CHECK(out[3].err == ETIMEDOUT);
        // What the run's exit status comes from: failed connections only.
        PollStats stats;
        for (size_t i = 0; i < 5; ++i)
            if (i != 3 && i != 1) count_result(stats, out[i]);  // 10001 vanished (ENOENT), 10003 failed
        CHECK(stats.failed == 0);
        CHECK(stats.ended == 3);
    }
    SECTION("a stale ack ahead of a lookup's answer is not taken for it") {
        t.silent_seqs = {2};
        // Before the lookup's answer comes an ack of an earlier request
        // (seq 1, error 0): taken for the lookup's, it would say "no such
        // socket any more", and the still-established 10001 would count as
        // ended.
        testutil::Bytes stale;
        testutil::append_msg(stale, NLMSG_ERROR, 1, testutil::int_payload(0));
        t.before_lookup.push_back(stale);
        t.lookup_rule = [](const inet_diag_req_v2&, uint8_t& state) {
            state = 1;
            return 0;
        };
        SockDestroyTerminator term(t);
        REQUIRE(term.end_connections(std::span(recs).first(3), std::span(out).first(3)).ok());
        CHECK(t.lookups == 1);
        CHECK(out[1].outcome == Outcome::Failed);
        CHECK(out[1].err == ETIMEDOUT);
    }
    SECTION("a stale ack from an earlier poll lands on nothing in the next") {
        SockDestroyTerminator term(t);
        REQUIRE(term.end_connections(std::span(recs).first(3), std::span(out).first(3)).ok());  // seqs 1-3
        // An ack of the first poll (seq 2, already answered) comes again,
        // saying EPERM, before the second poll's acks.
        testutil::Bytes stale;
        testutil::append_msg(stale, NLMSG_ERROR, 2, testutil::int_payload(-EPERM));
        t.queued.push_back(stale);
        std::vector<EndResult> again(5);
        REQUIRE(term.end_connections(std::span(recs).subspan(20, 5), again).ok());  // seqs 4-8
        for (size_t i = 0; i < 5; ++i) {
            INFO("record " << i);
            const uint16_t port = recs[20 + i].dport();
            CHECK(again[i].outcome == (port % 10 == 1 ? Outcome::Vanished : port % 10 == 2 ? Outcome::Failed : Outcome::Ended));
        }
    }
    SECTION("acks of every batch arriving twice land once each") {
        t.duplicate_acks = true;
        SockDestroyTerminator term(t);
        REQUIRE(term.end_connections(recs, out).ok());
        size_t ended = 0;
        for (size_t i = 0; i < recs.size(); ++i) ended += out[i].outcome == Outcome::Ended;
        CHECK(ended == 240);  // 300 minus the 30 ENOENT and 30 EPERM ports
        CHECK(t.lookups == 0);
    }
    SECTION("a record with a wildcard cookie is refused, the rest go on") {
        recs[5].id.idiag_cookie[0] = recs[5].id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
        SockDestroyTerminator term(t);
        REQUIRE(term.end_connections(std::span(recs).first(10), std::span(out).first(10)).ok());
        CHECK(out[5].outcome == Outcome::Failed);
        CHECK(out[5].err == EINVAL);
        CHECK(t.sent[0].size() == 9 * kDestroyRequestLen);
        CHECK(out[6].outcome == Outcome::Ended);
    }
    SECTION("send failure is a mechanism error") {
        t.send_error = EPERM;
        SockDestroyTerminator term(t);
        Status s = term.end_connections(recs, out);
        CHECK_FALSE(s.ok());
        CHECK(out[0].outcome == Outcome::Failed);
    }
}

TEST_CASE("destroyer: EOPNOTSUPP for one socket: TIME_WAIT or gone is vanished, the rest go to /proc",
          "[sock_destroy]") {
    // One batch mixing every answer: 1: destroyed; 2: EOPNOTSUPP, now
    // TIME_WAIT; 3: EOPNOTSUPP, now gone; 4: EOPNOTSUPP, still ESTABLISHED;
    // 5: EPERM; 6: EINVAL; 7: ENOENT.
    auto recs = recs_to({1, 2, 3, 4, 5, 6, 7});
    std::vector<EndResult> out(recs.size());
    FakeTransport t;
    t.destroy_rule = [](const inet_diag_req_v2& req) {
        switch (ntohs(req.id.idiag_dport)) {
            case 1: return 0;
            case 5: return EPERM;
            case 6: return EINVAL;
            case 7: return ENOENT;
            default: return EOPNOTSUPP;
        }
    };
    std::vector<uint16_t> looked_up;
    t.lookup_rule = [&](const inet_diag_req_v2& req, uint8_t& state) {
        uint16_t port = ntohs(req.id.idiag_dport);
        looked_up.push_back(port);
        CHECK(req.id.idiag_cookie[0] == 0x1234);  // the exact socket, cookie included
        if (port == 2) state = 6;                 // TCP_TIME_WAIT
        if (port == 3) return ENOENT;
        if (port == 4) state = 1;                 // TCP_ESTABLISHED
        return 0;
    };

    SECTION("with the /proc path as fallback") {
        RecordingTerminator proc;
        SockDestroyTerminator term(t, &proc);
        REQUIRE(term.end_connections(recs, out).ok());
        CHECK(looked_up == std::vector<uint16_t>{2, 3, 4});  // EPERM and EINVAL are not retried
        CHECK(proc.ports == std::vector<uint16_t>{4});
        CHECK(out[0].method == Method::SockDestroy);
        CHECK(out[1].outcome == Outcome::Vanished);
        CHECK(out[2].outcome == Outcome::Vanished);
        CHECK(out[3].outcome == Outcome::Ended);
        CHECK(out[3].method == Method::Reset);
        CHECK(out[3].pid == 4242);
        CHECK((out[4].outcome == Outcome::Failed && out[4].err == EPERM));
        CHECK((out[5].outcome == Outcome::Failed && out[5].err == EINVAL));
        CHECK(out[6].outcome == Outcome::Vanished);
        CHECK(t.sent.size() == 1 + 3);  // one batch, three lookups
    }
    SECTION("without a fallback the live socket stays failed") {
        SockDestroyTerminator term(t);
        REQUIRE(term.end_connections(recs, out).ok());
        CHECK(out[1].outcome == Outcome::Vanished);
        CHECK((out[3].outcome == Outcome::Failed && out[3].err == EOPNOTSUPP));
    }
}

TEST_CASE("destroyer: a TIME_WAIT socket selected with --state that the kernel refuses is a failure with a note",
          "[sock_destroy]") {
    auto recs = recs_to({1, 2});
    recs[0].state = 6;  // dumped as TIME_WAIT
    std::vector<EndResult> out(recs.size());
    FakeTransport t;
    t.destroy_rule = [](const inet_diag_req_v2& req) { return ntohs(req.id.idiag_dport) == 1 ? EOPNOTSUPP : 0; };
    RecordingTerminator proc;
    SockDestroyTerminator term(t, &proc);
    REQUIRE(term.end_connections(recs, out).ok());
    CHECK((out[0].outcome == Outcome::Failed && out[0].err == EOPNOTSUPP));
    REQUIRE(out[0].note == Note::TimeWaitRefused);
    CHECK(std::string(note_text(out[0].note)).find("TIME_WAIT") != std::string::npos);
    CHECK(t.lookups == 0);
    CHECK(proc.ports.empty());
    CHECK(out[1].method == Method::SockDestroy);
}

TEST_CASE("probe: a request that can touch no socket", "[sock_destroy]") {
    FakeTransport t;
    inet_diag_req_v2 seen{};
    t.destroy_rule = [&](const inet_diag_req_v2& req) {
        seen = req;
        return ENOENT;
    };
    Result<int> err = probe_sock_destroy(t);
    REQUIRE(err.ok());
    CHECK(*err == ENOENT);
    REQUIRE(t.sent.size() == 1);
    nlmsghdr h;
    std::memcpy(&h, t.sent[0].data(), sizeof h);
    CHECK(h.nlmsg_type == SOCK_DESTROY);
    CHECK(h.nlmsg_len == kDestroyRequestLen);
    // All-zero cookie: no socket has it, so even a tuple that existed would
    // answer ESTALE instead of being destroyed. Ports 0: no socket has them.
    CHECK(seen.id.idiag_cookie[0] == 0);
    CHECK(seen.id.idiag_cookie[1] == 0);
    CHECK(seen.id.idiag_sport == 0);
    CHECK(seen.id.idiag_dport == 0);
}
