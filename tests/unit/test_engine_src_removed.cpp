// --src-removed in the engine: a route dump before every poll, the rule
// judged per socket, and a poll that ends nothing when the dump fails.
#include <catch2/catch.hpp>

#include <linux/rtnetlink.h>

#include <cstring>
#include <string>
#include <deque>
#include <vector>

#include "core/options.hpp"
#include "core/run_policy.hpp"
#include "dump_model.hpp"
#include "engine/engine.hpp"
#include "engine_rig.hpp"

using namespace tc;
using namespace enginerig;
using testutil::Bytes;
using testutil::DumpModel;

namespace {

// Answers each route dump with the routes given (local ones: RTN_LOCAL).
// A scripted kernel's route dumps. Like the kernel, it answers a dump
// request that comes while an earlier dump is still being read with EBUSY.
struct RouteScript final : DiagTransport {
    struct R {
        uint8_t family, len, type;
        std::vector<uint8_t> addr;
    };
    std::vector<R> routes;
    std::vector<R> later;    // appended to the routes of every dump after the first `later_from`
    size_t later_from = SIZE_MAX;
    int refuse = 0;          // answer with this errno instead
    int interrupted = 0;     // this many dumps come back marked NLM_F_DUMP_INTR
    bool silent = false;     // no answer at all
    bool split = false;      // a datagram per route, NLMSG_DONE in the last
    bool forge = false;      // before each answer a forger (port id 4242) sends an empty dump of the same seq
    size_t dumps = 0;
    std::vector<uint32_t> seqs;  // of every request
    std::deque<testutil::Queued> queued;
    Status send(std::span<const uint8_t> msg) override {
        ++dumps;
        nlmsghdr h;
        std::memcpy(&h, msg.data(), sizeof h);
        REQUIRE(h.nlmsg_type == RTM_GETROUTE);
        seqs.push_back(h.nlmsg_seq);
        if (silent) return {};
        const bool busy = !queued.empty();
        if (forge) {
            Bytes fake;
            testutil::append_msg(fake, NLMSG_DONE, h.nlmsg_seq, testutil::int_payload(0), NLM_F_MULTI);
            queued.push_back(testutil::Queued(fake, 4242));
        }
        Bytes d;
        if (refuse || busy) {
            testutil::append_msg(d, NLMSG_ERROR, h.nlmsg_seq, testutil::int_payload(-(refuse ? refuse : EBUSY)));
            queued.push_back(d);
            return {};
        }
        const uint16_t flags = NLM_F_MULTI | (interrupted-- > 0 ? NLM_F_DUMP_INTR : 0);
        std::vector<R> now = routes;
        if (dumps > later_from) now.insert(now.end(), later.begin(), later.end());
        for (const R& r : now) {
            rtmsg m{};
            m.rtm_family = r.family;
            m.rtm_dst_len = r.len;
            m.rtm_type = r.type;
            m.rtm_table = RT_TABLE_LOCAL;
            Bytes p(sizeof m);
            std::memcpy(p.data(), &m, sizeof m);
            nlattr a{static_cast<uint16_t>(4 + r.addr.size()), RTA_DST};
            const uint8_t* ap = reinterpret_cast<const uint8_t*>(&a);
            p.insert(p.end(), ap, ap + 4);
            p.insert(p.end(), r.addr.begin(), r.addr.end());
            testutil::append_msg(d, RTM_NEWROUTE, h.nlmsg_seq, p, flags);
            if (split) {
                queued.push_back(d);
                d.clear();
            }
        }
        testutil::append_msg(d, NLMSG_DONE, h.nlmsg_seq, testutil::int_payload(0), flags);
        queued.push_back(d);
        return {};
    }
    Result<Received> recv(std::span<uint8_t> buf, bool) override {
        if (queued.empty()) return make_error(EAGAIN, "nothing");
        testutil::Queued d = queued.front();
        queued.pop_front();
        std::memcpy(buf.data(), d.bytes.data(), d.bytes.size());
        return Received{d.bytes.size(), d.sender, false};
    }
    Result<size_t> recv_many(std::span<uint8_t>, size_t, std::span<Received>, bool) override {
        return make_error(EOPNOTSUPP, "no");
    }
};

// Records the graces the engine waits.
struct PauseLog final : Pause {
    std::vector<uint32_t> waits;
    void wait_ms(uint32_t ms) override { waits.push_back(ms); }
};

Selection src_removed() {
    Selection s;
    s.src_removed = true;
    s.ipv6 = true;
    return s;
}

}  // namespace

TEST_CASE("--src-removed: connections whose local address no local route covers", "[engine][src_removed]") {
    DumpModel kernel;
    kernel.socks = {
        testutil::rec("192.0.2.20", 40000, "192.0.2.21", 80),        // removed
        testutil::rec("192.0.2.21", 40001, "192.0.2.20", 80),        // local end still there
        testutil::rec("::ffff:192.0.2.20", 40002, "::ffff:192.0.2.21", 80),  // v4-mapped, removed
        testutil::rec("2001:db8::20", 40003, "2001:db8::21", 80),    // removed
        testutil::rec("198.51.100.9", 40004, "198.51.100.7", 80),    // AnyIP
        testutil::rec("192.0.2.20", 40005, "192.0.2.21", 80, 10),    // a listener: never
    };
    for (size_t i = 0; i < kernel.socks.size(); ++i) kernel.socks[i].inode = static_cast<uint32_t>(i + 1);
    RouteScript rt;
    rt.routes = {{AF_INET, 32, RTN_LOCAL, {192, 0, 2, 21}},
                 {AF_INET, 24, RTN_LOCAL, {198, 51, 100, 0}},
                 {AF_INET, 32, RTN_BROADCAST, {192, 0, 2, 20}},  // not local
                 {AF_INET6, 128, RTN_LOCAL, {0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x21}}};
    InodeTerminator term;
    Engine engine(kernel, term);
    PauseLog pause;
    engine.use_routes(rt, pause);
    Recorder obs;
    // The model's replies carry no INET_DIAG_SOCKOPT: alone, nothing is judged.
    Result<PollStats> st = engine.poll(src_removed(), obs);
    REQUIRE(st.ok());
    CHECK(st->matched == 0);
    CHECK(rt.dumps == 1);
    // Bounded by --src, it is.
    Selection sel = src_removed();
    Prefix p;
    REQUIRE(parse_prefix("192.0.2.0/24", p).ok());
    REQUIRE(sel.srcs.add(p).ok());
    REQUIRE(parse_prefix("2001:db8::/32", p).ok());
    REQUIRE(sel.srcs.add(p).ok());
    kernel.returned = 0;
    st = engine.poll(sel, obs);
    REQUIRE(st.ok());
    CHECK(term.ended == std::vector<uint32_t>{1, 3, 4});
    CHECK(rt.dumps == 3);  // a fresh dump every poll, and a second one when something matched
    CHECK(pause.waits == std::vector<uint32_t>{100});  // the default grace, between the two
    // The kernel's filter already left out the socket on 192.0.2.21 (the
    // local prefixes in the bytecode): only the three came back.
    CHECK(kernel.returned == 3);

    SECTION("a dump interrupted by a change is asked again") {
        rt.interrupted = 2;
        term.ended.clear();
        REQUIRE(engine.poll(sel, obs).ok());
        CHECK(rt.dumps == 7);  // three tries, then the one after the grace
        CHECK(term.ended.size() == 3);
    }
    SECTION("an interrupted dump over several datagrams is read to its end, then asked again anew") {
        // Asked again before the end, the kernel would answer EBUSY; the
        // old dump's leftovers must never be read as the new answer.
        rt.split = true;
        rt.interrupted = 1;
        term.ended.clear();
        const size_t before = rt.dumps;
        Result<PollStats> again = engine.poll(sel, obs);
        REQUIRE(again.ok());
        CHECK(rt.dumps == before + 3);
        CHECK(rt.seqs[rt.seqs.size() - 1] != rt.seqs[rt.seqs.size() - 2]);
        CHECK(term.ended == std::vector<uint32_t>{1, 3, 4});
        CHECK(rt.queued.empty());
    }
    SECTION("a forged empty route dump is not believed") {
        // Believed, it would make every connection look removed.
        rt.forge = true;
        rt.split = true;
        term.ended.clear();
        Result<PollStats> forged = engine.poll(sel, obs);
        REQUIRE(forged.ok());
        CHECK(term.ended == std::vector<uint32_t>{1, 3, 4});
        CHECK(forged->foreign == 2);  // one forged answer to each of the two route dumps
    }
    SECTION("an address back (or new) by the end of the grace keeps its connections") {
        // The route dump after the socket dump finds 192.0.2.20 local again
        // (re-added within the grace: a DHCP renewal; or added just before
        // the socket dump: a failover): its connections, native and
        // v4-mapped, stay; only the IPv6 one goes.
        rt.later = {{AF_INET, 32, RTN_LOCAL, {192, 0, 2, 20}}};
        rt.later_from = rt.dumps + 1;
        term.ended.clear();
        Result<PollStats> back = engine.poll(sel, obs);
        REQUIRE(back.ok());
        CHECK(term.ended == std::vector<uint32_t>{4});
        CHECK(back->matched == 1);
    }
    SECTION("--removed-grace 0: no wait, still a second route dump") {
        sel.removed_grace_ms = 0;
        pause.waits.clear();
        rt.later = {{AF_INET6, 128, RTN_LOCAL, {0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20}}};
        rt.later_from = rt.dumps + 1;
        term.ended.clear();
        REQUIRE(engine.poll(sel, obs).ok());
        CHECK(pause.waits.empty());
        CHECK(term.ended == std::vector<uint32_t>{1, 3});
    }
    SECTION("a second route dump that fails ends nothing") {
        rt.refuse = 0;
        rt.later_from = rt.dumps + 1;
        term.ended.clear();
        struct FailSecond final : Pause {
            RouteScript& rt;
            explicit FailSecond(RouteScript& r) : rt(r) {}
            void wait_ms(uint32_t) override { rt.refuse = EPERM; }
        } fail_second(rt);
        Engine e2(kernel, term);
        e2.use_routes(rt, fail_second);
        kernel.returned = 0;
        CHECK_FALSE(e2.poll(sel, obs).ok());
        CHECK(term.ended.empty());
    }
    SECTION("a dump that fails, keeps being interrupted or never answers ends nothing") {
        for (int kind = 0; kind < 3; ++kind) {
            rt.refuse = kind == 0 ? EPERM : 0;
            rt.interrupted = kind == 1 ? 100 : 0;
            rt.silent = kind == 2;
            term.ended.clear();
            Result<PollStats> failed = engine.poll(sel, obs);
            INFO("kind " << kind);
            CHECK_FALSE(failed.ok());
            CHECK(term.ended.empty());
            rt.queued.clear();
        }
    }
}

TEST_CASE("--src-removed: the rule for one socket", "[selection][src_removed]") {
    LocalPrefixes local;
    Prefix p;
    REQUIRE(parse_prefix("192.0.2.21", p).ok());
    REQUIRE(local.add(p));
    Selection sel;
    const SockRecord gone = testutil::rec("192.0.2.20", 1, "192.0.2.21", 2);
    const SockRecord here = testutil::rec("192.0.2.21", 1, "192.0.2.20", 2);
    SockExtras plain;
    plain.has_sockopt = true;
    SockExtras proxy = plain;
    proxy.nonlocal_ok = true;
    CHECK(src_removed_match(sel, local, gone, plain));  // not asked: no restriction
    sel.src_removed = true;
    CHECK(src_removed_match(sel, local, gone, plain));
    CHECK_FALSE(src_removed_match(sel, local, here, plain));
    CHECK_FALSE(src_removed_match(sel, local, gone, proxy));  // transparent/freebind: never
    CHECK_FALSE(src_removed_match(sel, local, gone, SockExtras{}));  // no flags reported: never alone
    REQUIRE(parse_prefix("192.0.2.0/24", p).ok());
    REQUIRE(sel.srcs.add(p).ok());
    CHECK(src_removed_match(sel, local, gone, SockExtras{}));  // ... but within --src
    CHECK_FALSE(src_removed_match(sel, local, gone, proxy));
}

TEST_CASE("--src-removed: options and the kernel it needs", "[options][src_removed]") {
    const char* alone[] = {"tcp_closer", "--src-removed"};
    ParseResult r = parse_args(2, alone);
    REQUIRE(r.ok);
    CHECK(r.opts.sel.src_removed);
    const char* combined[] = {"tcp_closer", "--src_removed", "-d", "443", "-u"};
    r = parse_args(5, combined);
    REQUIRE(r.ok);
    CHECK((r.opts.sel.src_removed && r.opts.sel.udp && r.opts.sel.dports.contains(443)));
    CHECK(r.opts.sel.removed_grace_ms == 100);  // the default grace
    const char* grace[] = {"tcp_closer", "--src-removed", "--removed-grace", "0"};
    r = parse_args(4, grace);
    REQUIRE(r.ok);
    CHECK(r.opts.sel.removed_grace_ms == 0);
    const char* grace_max[] = {"tcp_closer", "--src-removed", "--removed_grace", "10000"};
    r = parse_args(4, grace_max);
    REQUIRE(r.ok);
    CHECK(r.opts.sel.removed_grace_ms == 10000);
    for (const char* bad : {"10001", "-1", "1.5", "", "x"}) {
        INFO(bad);
        const char* args[] = {"tcp_closer", "--src-removed", "--removed-grace", bad};
        CHECK_FALSE(parse_args(4, args).ok);
    }
    const char* grace_alone[] = {"tcp_closer", "-s", "22", "--removed-grace", "50"};
    r = parse_args(5, grace_alone);
    CHECK_FALSE(r.ok);
    CHECK(std::string(r.message).find("--removed-grace is for --src-removed") != std::string::npos);
    const char* valued[] = {"tcp_closer", "--src-removed=1"};
    CHECK_FALSE(parse_args(2, valued).ok);
    const char* watch[] = {"tcp_closer", "--src-removed", "--watch"};
    r = parse_args(3, watch);
    REQUIRE(r.ok);
    CHECK((r.opts.watch && r.opts.daemon() && r.opts.interval_ns == 0));
    const char* watch_netns[] = {"tcp_closer", "--src-removed", "--watch", "--all-netns"};
    r = parse_args(4, watch_netns);
    CHECK_FALSE(r.ok);
    CHECK(std::string(r.message).find("--watch does not work with --all-netns") != std::string::npos);
    CHECK(kernel_reports_sockopt("5.10.0-8-amd64"));
    CHECK(kernel_reports_sockopt("6.18.44-fc-v857"));
    CHECK(kernel_reports_sockopt("10.0"));
    CHECK_FALSE(kernel_reports_sockopt("5.9.16"));
    CHECK_FALSE(kernel_reports_sockopt("4.19.0-20-amd64"));
    CHECK_FALSE(kernel_reports_sockopt(""));
    CHECK_FALSE(kernel_reports_sockopt("5"));
    CHECK_FALSE(kernel_reports_sockopt("x.y"));
}
