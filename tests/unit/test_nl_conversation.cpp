// What is believed of a netlink answer (wire/nl_conversation, and the one
// receive loop in engine/receive): only the kernel's datagrams, only the
// messages of the request being answered, an interrupted dump asked again,
// cut datagrams refused. Forgers are a process with CAP_NET_ADMIN in our
// namespace writing to our port id (src/KERNEL.md: Who may send to us).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <linux/rtnetlink.h>

#include <vector>

#include "engine/engine.hpp"
#include "engine/receive.hpp"
#include "engine/sock_destroy.hpp"
#include "engine_rig.hpp"
#include "fake_transport.hpp"
#include "helpers.hpp"
#include "wire/nl_conversation.hpp"

using namespace tc;
using namespace enginerig;
using testutil::Bytes;
using testutil::FakeTransport;
using testutil::Queued;

namespace {

constexpr uint32_t kForger = 4242;

// The messages a conversation hands on from `dgrams`, as "kind:index:type".
std::vector<std::string> handed(NlConversation& conv, const std::vector<Queued>& dgrams, Status* last = nullptr) {
    std::vector<std::string> out;
    for (const Queued& d : dgrams) {
        NlReplyIter it(conv, d.bytes, Received{d.bytes.size(), d.sender, false});
        NlReply r;
        while (it.next(r))
            out.push_back(std::to_string(static_cast<int>(r.kind)) + ":" + std::to_string(r.index) + ":" +
                          std::to_string(r.type) + ":" + std::to_string(r.err));
        if (last) *last = it.status();
    }
    return out;
}

Bytes msg(uint16_t type, uint32_t seq, const Bytes& payload = {}, uint16_t flags = 0) {
    Bytes d;
    testutil::append_msg(d, type, seq, payload, flags);
    return d;
}

}  // namespace

TEST_CASE("conversation: only the kernel's messages of this request, up to its end", "[nl_conversation]") {
    NlConversation conv(7);
    const Bytes data = msg(20, 7, Bytes(8, 1));
    const std::vector<std::string> got =
        handed(conv, {Queued(msg(20, 7, Bytes(8, 2)), kForger),   // a forger, right seq: dropped whole
                      Queued(msg(20, 6)),                          // an earlier request's: skipped
                      Queued(data),                                // ours
                      Queued(msg(NLMSG_NOOP, 7)),                  // control: skipped
                      Queued(msg(NLMSG_DONE, 7, testutil::int_payload(0), NLM_F_MULTI), kForger),
                      Queued(msg(NLMSG_DONE, 7, testutil::int_payload(-EINTR))),
                      Queued(msg(20, 7))});                        // after the end: skipped
    CHECK(got == std::vector<std::string>{"0:0:20:0", "2:0:3:4"});
    CHECK(conv.ended());
    CHECK(conv.foreign() == 2);
    CHECK_FALSE(conv.interrupted());
}

TEST_CASE("conversation: a batch's acks by index; errors carried; a short error is EPROTO", "[nl_conversation]") {
    NlConversation conv(100, 3);
    const std::vector<std::string> got =
        handed(conv, {Queued(msg(NLMSG_ERROR, 102, testutil::int_payload(-ENOENT))),
                      Queued(msg(NLMSG_ERROR, 103, testutil::int_payload(0))),  // past the batch
                      Queued(msg(NLMSG_ERROR, 99, testutil::int_payload(0))),   // before it
                      Queued(msg(NLMSG_ERROR, 100, testutil::int_payload(0)), kForger),
                      Queued(msg(NLMSG_ERROR, 100, testutil::int_payload(0))),
                      Queued(msg(NLMSG_ERROR, 101, Bytes{1, 2}))});
    CHECK(got == std::vector<std::string>{"1:2:2:2", "1:0:2:0", "1:1:2:71"});
    CHECK_FALSE(conv.ended());  // a batch's end is its caller's count
}

TEST_CASE("conversation: an interrupted dump hands on no more data; cut and malformed datagrams fail",
          "[nl_conversation]") {
    NlConversation conv(1);
    Bytes d = msg(RTM_NEWROUTE, 1, Bytes(12, 0), NLM_F_MULTI);
    Bytes intr = msg(RTM_NEWROUTE, 1, Bytes(12, 0), NLM_F_MULTI | NLM_F_DUMP_INTR);
    const std::vector<std::string> got =
        handed(conv, {Queued(d), Queued(intr), Queued(d), Queued(msg(NLMSG_DONE, 1, testutil::int_payload(0)))});
    CHECK(got == std::vector<std::string>{"0:0:24:0", "2:0:3:0"});
    CHECK(conv.interrupted());
    CHECK(conv.ended());

    NlConversation cut(1);
    NlReplyIter it(cut, d, Received{d.size(), 0, true});
    NlReply r;
    CHECK_FALSE(it.next(r));
    CHECK(it.status().error().code == EPROTO);
    Bytes broken = d;
    broken[0] = 0xff;
    NlConversation bad(1);
    Status st;
    CHECK(handed(bad, {Queued(broken)}, &st).empty());
    CHECK(st.error().code == EPROTO);
}

TEST_CASE("forged socket records and acks never reach the decoder or the terminator", "[nl_conversation][engine]") {
    // A real victim's tuple and cookie, forged into the dump's answer by
    // another port id ahead of the kernel's own (empty) answer.
    DumpScript dump;
    const SockRecord victim = testutil::rec("127.0.0.1", 22, "127.0.0.1", 40000);
    Bytes forged;
    testutil::append_msg(forged, SOCK_DIAG_BY_FAMILY, 1, diag_payload(victim), NLM_F_MULTI);
    testutil::append_msg(forged, NLMSG_DONE, 1, testutil::int_payload(0), NLM_F_MULTI);
    dump.t.queued.push_back(Queued(forged, kForger));
    dump.family(1, {diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 40001))});
    InodeTerminator term;
    Engine engine(dump.t, term);
    Recorder obs;
    Result<PollStats> st = engine.poll(sel_sport("22"), obs);
    REQUIRE(st.ok());
    CHECK(st->matched == 1);
    REQUIRE(obs.recs.size() == 1);
    CHECK(obs.recs[0].dport() == 40001);
    CHECK(st->foreign == 1);
    CHECK(obs.candidates.size() == 1);  // the forged record was never decoded

    // A forged "ended" ack ahead of the kernel's refusal: the refusal counts.
    FakeTransport destroy;
    destroy.destroy_rule = [](const inet_diag_req_v2&) { return EPERM; };
    destroy.queued.push_back(Queued(msg(NLMSG_ERROR, 1, testutil::int_payload(0)), kForger));
    SockDestroyTerminator sd(destroy);
    std::vector<SockRecord> recs = {victim};
    std::vector<EndResult> out(1);
    REQUIRE(sd.end_connections(recs, out).ok());
    CHECK(out[0].outcome == Outcome::Failed);
    CHECK(out[0].err == EPERM);
    CHECK(sd.take_foreign() == 1);
    CHECK(sd.take_foreign() == 0);
}

TEST_CASE("the receive loop reads a failed answer to its end, so the socket is free", "[nl_conversation]") {
    FakeTransport t;
    Bytes bad = msg(20, 5, Bytes(4, 0), NLM_F_MULTI);
    bad[0] = 0xff;
    t.queued.push_back(Queued(msg(20, 5, Bytes(4, 0), NLM_F_MULTI)));
    t.queued.push_back(Queued(bad));
    t.queued.push_back(Queued(msg(20, 5, Bytes(4, 0), NLM_F_MULTI)));
    t.queued.push_back(Queued(msg(NLMSG_DONE, 5, testutil::int_payload(0), NLM_F_MULTI)));
    t.queued.push_back(Queued(msg(20, 6)));  // the next request's
    struct Count final : NlSink {
        int n = 0;
        Status take(const NlReply&) override {
            ++n;
            return {};
        }
    } sink;
    NlConversation conv(5);
    std::vector<uint8_t> rx(4096);
    Status s = receive_answer(t, rx, conv, sink);
    CHECK(s.error().code == EPROTO);
    CHECK(sink.n == 1);  // nothing after the failure
    CHECK(t.queued.size() == 1);  // read to its DONE, not beyond
}

// A socket dump marked interrupted is read to its end and asked again: what
// it handed on before the mark is dropped, so nothing is matched twice, and
// a dump interrupted every time fails the poll with nothing ended.
TEST_CASE("an interrupted socket dump is asked again; its matches are not kept twice", "[nl_conversation][engine]") {
    for (int times : {1, 3}) {
        INFO("interrupted " << times << " time(s)");
        DumpScript dump;
        const Bytes sock = diag_payload(testutil::rec("127.0.0.1", 22, "127.0.0.1", 40000));
        for (int k = 0; k < times; ++k) {
            const uint32_t seq = static_cast<uint32_t>(k + 1);
            Bytes d;
            testutil::append_msg(d, SOCK_DIAG_BY_FAMILY, seq, sock, NLM_F_MULTI);
            testutil::append_msg(d, SOCK_DIAG_BY_FAMILY, seq, sock, NLM_F_MULTI | NLM_F_DUMP_INTR);
            dump.t.queued.push_back(Queued(d));
            dump.t.queued.push_back(Queued(msg(NLMSG_DONE, seq, testutil::int_payload(0), NLM_F_MULTI | NLM_F_DUMP_INTR)));
        }
        dump.family(static_cast<uint32_t>(times + 1), {sock});
        InodeTerminator term;
        Engine engine(dump.t, term);
        Recorder obs;
        Result<PollStats> st = engine.poll(sel_sport("22"), obs);
        if (times < 3) {
            REQUIRE(st.ok());
            CHECK(st->matched == 1);
            CHECK(term.ended.size() == 1);
            CHECK(dump.t.sent.size() == 2);
        } else {
            REQUIRE_FALSE(st.ok());
            CHECK(st.error().code == EAGAIN);
            CHECK(term.ended.empty());
            CHECK(dump.t.sent.size() == 3);
        }
    }
}
