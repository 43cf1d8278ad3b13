// The engine and the owner selectors: the filter without DEV/MARK/CGROUP_COND
// when the kernel refuses them, and the /proc walk for --pid/--comm.
#include <catch2/catch.hpp>

#include <linux/inet_diag.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/dry_run.hpp"
#include "engine/engine.hpp"
#include "engine/proc_terminator.hpp"
#include "engine/sock_destroy.hpp"
#include "engine_rig.hpp"

using namespace tc;
using namespace enginerig;
using testutil::Bytes;
using testutil::FakeTransport;

namespace {

// A reply with a bound device, an inode, and optionally a mark attribute.
Bytes owner_payload(uint16_t sport, uint32_t ifindex, uint32_t inode, int mark = -1) {
    SockRecord r = testutil::rec("127.0.0.1", sport, "127.0.0.1", 40000);
    r.id.idiag_if = ifindex;
    Bytes out = diag_payload(r);
    inet_diag_msg m;
    std::memcpy(&m, out.data(), sizeof m);
    m.idiag_inode = inode;
    std::memcpy(out.data(), &m, sizeof m);
    if (mark >= 0) {
        nlattr a{8, INET_DIAG_MARK};
        const uint8_t* p = reinterpret_cast<const uint8_t*>(&a);
        out.insert(out.end(), p, p + 4);
        const uint32_t v = static_cast<uint32_t>(mark);
        p = reinterpret_cast<const uint8_t*>(&v);
        out.insert(out.end(), p, p + 4);
    }
    return out;
}

// The op codes of the filter in dump request `i` (legacy or v2 request).
std::vector<uint8_t> filter_ops(const FakeTransport& t, size_t i) {
    const Bytes& req = t.sent.at(i);
    nlmsghdr h;
    std::memcpy(&h, req.data(), sizeof h);
    const size_t body = sizeof h + (h.nlmsg_type == TCPDIAG_GETSOCK ? sizeof(inet_diag_req) : sizeof(inet_diag_req_v2));
    std::vector<uint8_t> ops;
    if (req.size() < body + 4) return ops;
    nlattr a;
    std::memcpy(&a, req.data() + body, sizeof a);
    for (size_t at = body + 4; at + 4 <= body + a.nla_len;) {
        inet_diag_bc_op o;
        std::memcpy(&o, req.data() + at, sizeof o);
        ops.push_back(o.code);
        at += o.yes;
    }
    return ops;
}

bool has(const std::vector<uint8_t>& ops, uint8_t code) {
    for (uint8_t c : ops)
        if (c == code) return true;
    return false;
}

Bytes refusal(uint32_t seq, int err) {
    Bytes d;
    testutil::append_msg(d, NLMSG_ERROR, seq, testutil::int_payload(-err));
    return d;
}

// The /proc walk: a fixed table of holders; comm "proc<pid>".
struct FakeWalk final : ProcOps {
    std::vector<Holder> table;
    size_t walks = 0;
    OwnerSel last_only{};  // what the last walk was limited to (a copy)
    bool limited = false;
    Status find_holders(OwnerMap& map, const OwnerSel* only) override {
        ++walks;
        limited = only != nullptr;
        if (only) last_only = *only;
        for (const Holder& h : table) {
            char c[16];
            comm(h.pid, c);
            if (map.wants(h.inode) && (!only || process_selected(*only, h.pid, c))) REQUIRE(map.add(h.inode, h.pid, h.fd));
        }
        return {};
    }
    Result<int> dup_fd(int32_t, int32_t) override { return make_error(ENOSYS, "fake"); }
    Result<FdIdentity> identify(int) override { return make_error(ENOSYS, "fake"); }
    int disconnect(int) override { return ENOSYS; }
    int shutdown_rdwr(int) override { return ENOSYS; }
    int tcp_figures(int, SockRecord&) override { return ENOSYS; }
    int get_int_opt(int, int, int, int&) override { return ENOSYS; }
    int set_int_opt(int, int, int, int) override { return ENOSYS; }
    void close_fd(int) override {}
    int kill_holder(const Holder&) override { return ENOSYS; }
    void comm(int32_t pid, char (&out)[16]) override {
        std::string s = "proc" + std::to_string(pid);
        std::memcpy(out, s.c_str(), s.size() + 1);
    }
    int32_t self_pid() override { return 1; }
};

// A scripted dump read by an engine that ends nothing (a dry run).
struct DryRig {
    DumpScript dump;
    DryRunTerminator term;
    Engine engine{dump.t, term};
    Recorder obs;
    Result<PollStats> poll(const Selection& sel) { return engine.poll(sel, obs); }
};

}  // namespace

TEST_CASE("engine: a kernel that refuses the owner ops gets the filter without them", "[engine][owner]") {
    for (int err : {EINVAL, EPERM}) {
        INFO("errno " << err);
        DryRig rig;
        DumpScript& dump = rig.dump;
        dump.t.queued.push_back(refusal(1, err));
        // The retry's filter lets every device through: user space keeps ifindex 3 only.
        dump.family(2, {owner_payload(22, 3, 100), owner_payload(22, 4, 101), owner_payload(22, 0, 102)});
        Selection sel = sel_sport("22");
        sel.owner.n_dev = 1;
        sel.owner.ifindex[0] = 3;
        Result<PollStats> st = rig.poll(sel);
        REQUIRE(st.ok());
        CHECK(st->owner_ops_refused == err);
        CHECK(st->matched == 1);
        REQUIRE(dump.t.sent.size() == 2);
        CHECK(has(filter_ops(dump.t, 0), INET_DIAG_BC_DEV_COND));
        CHECK_FALSE(has(filter_ops(dump.t, 1), INET_DIAG_BC_DEV_COND));
        CHECK(has(filter_ops(dump.t, 1), INET_DIAG_BC_S_GE));  // the rest of the filter stays
        // Later polls go without them at once, and say nothing more.
        dump.family(3, {owner_payload(22, 4, 101)});
        Result<PollStats> next = rig.poll(sel);
        REQUIRE(next.ok());
        CHECK(next->owner_ops_refused == 0);
        CHECK(next->matched == 0);
        CHECK_FALSE(has(filter_ops(dump.t, 2), INET_DIAG_BC_DEV_COND));
    }
}

TEST_CASE("engine: other refusals are not taken for the owner ops", "[engine][owner]") {
    SECTION("EINVAL without owner ops: the per-family fallback, as before") {
        DryRig rig;
        DumpScript& dump = rig.dump;
        dump.t.queued.push_back(refusal(1, EINVAL));
        dump.family(2, {});
        dump.family(3, {});
        Result<PollStats> st = rig.poll(sel_sport("22"));
        REQUIRE(st.ok());
        CHECK(st->owner_ops_refused == 0);
        CHECK(dump.t.sent.size() == 3);
    }
    SECTION("owner ops refused, then the single walk refused too") {
        DryRig rig;
        DumpScript& dump = rig.dump;
        dump.t.queued.push_back(refusal(1, EINVAL));
        dump.t.queued.push_back(refusal(2, EINVAL));
        dump.family(3, {owner_payload(22, 3, 100, 0x11), owner_payload(22, 3, 101, 0x20)});
        dump.family(4, {});
        Selection sel = sel_sport("22");
        sel.owner.n_mark = 1;
        sel.owner.mark[0] = {0x1, 0x1};
        Result<PollStats> st = rig.poll(sel);
        REQUIRE(st.ok());
        CHECK(st->owner_ops_refused == EINVAL);
        CHECK(st->matched == 1);  // the mark is still checked
        REQUIRE(dump.t.sent.size() == 4);
        CHECK(has(filter_ops(dump.t, 0), INET_DIAG_BC_MARK_COND));
        CHECK_FALSE(has(filter_ops(dump.t, 1), INET_DIAG_BC_MARK_COND));
    }
    SECTION("EACCES with owner ops is not retried without them") {
        DryRig rig;
        rig.dump.t.queued.push_back(refusal(1, EACCES));
        Selection sel = sel_sport("22");
        sel.owner.n_cgroup = 1;
        sel.owner.cgroup[0] = 5;
        Result<PollStats> st = rig.poll(sel);
        DumpScript& dump = rig.dump;
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code == EACCES);
        CHECK(dump.t.sent.size() == 1);
    }
}

TEST_CASE("engine: replies without a mark never match --mark", "[engine][owner]") {
    DryRig rig;
    rig.dump.family(1, {owner_payload(22, 0, 100), owner_payload(22, 0, 101, 0x1), owner_payload(22, 0, 102, 0x2)});
    Selection sel = sel_sport("22");
    sel.owner.n_mark = 1;
    sel.owner.mark[0] = {0x1, 0xffffffff};
    Result<PollStats> st = rig.poll(sel);
    const Recorder& obs = rig.obs;
    REQUIRE(st.ok());
    CHECK(st->matched == 1);
    REQUIRE(obs.candidates.size() == 3);
    CHECK_FALSE(obs.candidates[0].second);  // no attribute: not selected
    CHECK(obs.candidates[1].second);
    CHECK_FALSE(obs.candidates[2].second);
}

TEST_CASE("engine: --pid/--comm keep the sockets held by the selected processes", "[engine][owner]") {
    DumpScript dump;
    dump.family(1, {owner_payload(22, 0, 100), owner_payload(22, 0, 101), owner_payload(22, 0, 102),
                    owner_payload(23, 0, 103)});
    FakeTransport destroy;
    std::vector<uint32_t> destroyed;
    destroy.destroy_rule = [&](const inet_diag_req_v2& req) {
        destroyed.push_back(req.id.idiag_cookie[0]);
        return 0;
    };
    SockDestroyTerminator term(destroy);
    Engine engine(dump.t, term);
    FakeWalk walk;
    walk.table = {{100, 42, 3}, {101, 43, 3}, {103, 42, 4}};  // 102: no holder
    engine.use_process_walk(walk);
    Recorder obs;
    Selection sel = sel_sport("22-23");
    sel.owner.n_pid = 1;
    sel.owner.pid[0] = 42;
    Result<PollStats> st = engine.poll(sel, obs);
    REQUIRE(st.ok());
    CHECK(walk.walks == 1);
    CHECK(walk.limited);  // to the selected processes
    CHECK(walk.last_only.n_pid == 1);
    CHECK(walk.last_only.pid[0] == 42);
    CHECK(st->matched == 2);  // 100 and 103, both held by 42
    CHECK(st->ended == 2);
    REQUIRE(obs.results.size() == 2);
    for (const EndResult& k : obs.results) {
        CHECK(k.method == Method::SockDestroy);
        CHECK(k.pid == 42);  // named in the report although the kernel ended it
        CHECK(std::string(k.comm) == "proc42");
    }

    SECTION("--comm, AND-ed with --pid") {
        sel.owner.n_comm = 1;
        sel.owner.comm[0] = "proc43";
        dump.family(2, {owner_payload(22, 0, 100), owner_payload(22, 0, 101)});
        Result<PollStats> none = engine.poll(sel, obs);
        REQUIRE(none.ok());
        CHECK(none->matched == 0);  // 101 is held by proc43, but that is not pid 42
        sel.owner.n_pid = 0;
        dump.family(3, {owner_payload(22, 0, 100), owner_payload(22, 0, 101)});
        Result<PollStats> one = engine.poll(sel, obs);
        REQUIRE(one.ok());
        CHECK(one->matched == 1);
        CHECK(obs.results.back().pid == 43);
    }
    SECTION("consecutive results of different processes each carry their own name") {
        sel.owner.n_pid = 3;
        sel.owner.pid[1] = 43;
        sel.owner.pid[2] = 44;
        walk.table = {{100, 42, 3}, {101, 42, 4}, {102, 43, 3}, {103, 44, 3}, {104, 42, 5}};
        dump.family(2, {owner_payload(22, 0, 100), owner_payload(22, 0, 101), owner_payload(22, 0, 102),
                        owner_payload(23, 0, 103), owner_payload(23, 0, 104)});
        obs.results.clear();
        REQUIRE(engine.poll(sel, obs).ok());
        REQUIRE(obs.results.size() == 5);
        const int32_t pids[] = {42, 42, 43, 44, 42};
        for (size_t i = 0; i < 5; ++i) {
            INFO("result " << i);
            CHECK(obs.results[i].pid == pids[i]);
            CHECK(std::string(obs.results[i].comm) == "proc" + std::to_string(pids[i]));
        }
    }
    SECTION("nothing matched: no walk") {
        dump.family(2, {owner_payload(24, 0, 100)});
        REQUIRE(engine.poll(sel, obs).ok());
        CHECK(walk.walks == 1);
    }
}

TEST_CASE("engine: --pid without a /proc walk is an error, not a kill of everything", "[engine][owner]") {
    DryRig rig;
    rig.dump.family(1, {owner_payload(22, 0, 100)});
    Selection sel = sel_sport("22");
    sel.owner.n_pid = 1;
    sel.owner.pid[0] = 42;
    Result<PollStats> st = rig.poll(sel);
    REQUIRE_FALSE(st.ok());
    CHECK(rig.obs.results.empty());
}

TEST_CASE("engine: after a refused dump is tried again, -v shows each filter and candidate once", "[engine][owner]") {
    DryRig rig;
    // First poll, no owner ops: the single walk is refused, so from now on
    // one dump per family (seq 2, 3).
    rig.dump.t.queued.push_back(refusal(1, EINVAL));
    rig.dump.family(2, {owner_payload(22, 0, 5)});
    rig.dump.family(3, {});
    REQUIRE(rig.poll(sel_sport("22")).ok());
    CHECK(rig.obs.candidates.size() == 1);
    // Second poll with --dev: the IPv4 dump takes the DEV_COND filter, the
    // IPv6 one is refused (EINVAL) and tried again without it.
    Selection sel = sel_sport("22");
    sel.owner.n_dev = 1;
    sel.owner.ifindex[0] = 7;
    rig.obs = Recorder{};
    rig.dump.family(4, {owner_payload(22, 7, 8), owner_payload(22, 9, 9)});
    rig.dump.t.queued.push_back(refusal(5, EINVAL));
    SockRecord mapped = testutil::rec("::ffff:127.0.0.1", 22, "::ffff:127.0.0.1", 40001);
    mapped.id.idiag_if = 7;
    rig.dump.family(6, {diag_payload(mapped)});
    Result<PollStats> st = rig.poll(sel);
    REQUIRE(st.ok());
    CHECK(st->owner_ops_refused == EINVAL);
    CHECK(st->matched == 2);
    // The IPv4 dump's candidates once (not again with the retry), the
    // refused filter not at all: two filters shown, for the dumps that ran.
    CHECK(rig.obs.candidates.size() == 3);
    CHECK(rig.obs.filters == 2);
    CHECK(rig.dump.t.sent.size() == 6);
}

TEST_CASE("engine: --exclude-comm drops the sockets a named process holds, also with --pid", "[engine][owner][exclude]") {
    DumpScript dump;
    dump.family(1, {owner_payload(22, 0, 100), owner_payload(22, 0, 101), owner_payload(22, 0, 102),
                    owner_payload(22, 0, 103)});
    FakeTransport destroy;
    std::vector<uint32_t> destroyed;
    destroy.destroy_rule = [&](const inet_diag_req_v2&) { return 0; };
    SockDestroyTerminator term(destroy);
    Engine engine(dump.t, term);
    FakeWalk walk;
    // 100: proc42 alone; 101: proc43 and proc42 (shared); 102: no holder; 103: proc44.
    walk.table = {{100, 42, 3}, {101, 43, 3}, {101, 42, 5}, {103, 44, 4}};
    engine.use_process_walk(walk);
    Recorder obs;
    Selection sel = sel_sport("22");
    sel.ex.owner.n_comm = 1;
    sel.ex.owner.comm[0] = "proc43";
    Result<PollStats> st = engine.poll(sel, obs);
    REQUIRE(st.ok());
    CHECK(walk.walks == 1);
    CHECK(walk.limited);  // to the excluded commands
    CHECK(walk.last_only.n_comm == 1);
    CHECK(std::string(walk.last_only.comm[0]) == "proc43");
    CHECK(st->matched == 3);  // 101 is held by proc43 (with proc42 too): never selected
    std::vector<uint32_t> inodes;
    for (const SockRecord& r : obs.recs) inodes.push_back(r.inode);
    CHECK(inodes == std::vector<uint32_t>{100, 102, 103});

    SECTION("with --pid: excluded first, then kept by holder") {
        sel.owner.n_pid = 1;
        sel.owner.pid[0] = 42;
        dump.family(2, {owner_payload(22, 0, 100), owner_payload(22, 0, 101), owner_payload(22, 0, 102),
                        owner_payload(22, 0, 103)});
        obs.recs.clear();
        obs.results.clear();
        Result<PollStats> both = engine.poll(sel, obs);
        REQUIRE(both.ok());
        CHECK(walk.walks == 3);
        CHECK(both->matched == 1);  // 100 (proc42's); 101 is proc42's too, but proc43 holds it
        REQUIRE(obs.results.size() == 1);
        CHECK(obs.results[0].pid == 42);  // named from the --pid walk
    }
}

TEST_CASE("engine: a rule whose process does not hold a socket leaves it to the next rule", "[engine][owner][rules]") {
    DumpScript dump;
    dump.family(1, {owner_payload(22, 0, 100), owner_payload(22, 0, 101), owner_payload(22, 0, 102),
                    owner_payload(23, 0, 103)});
    DryRunTerminator term;
    Engine engine(dump.t, term);
    FakeWalk walk;
    walk.table = {{100, 42, 3}, {101, 43, 3}, {103, 42, 4}};  // 102: no holder
    engine.use_process_walk(walk);
    Recorder obs;
    // "mine": port 22 held by 42; "rest": port 22 without proc43; "any": 22-23.
    std::vector<Rule> rules(3);
    REQUIRE(parse_ports("22", rules[0].sel.sports).ok());
    rules[0].sel.owner.n_pid = 1;
    rules[0].sel.owner.pid[0] = 42;
    REQUIRE(parse_ports("22", rules[1].sel.sports).ok());
    rules[1].sel.ex.owner.n_comm = 1;
    rules[1].sel.ex.owner.comm[0] = "proc43";
    REQUIRE(parse_ports("22-23", rules[2].sel.sports).ok());
    Result<PollStats> st = engine.poll(rules, obs);
    REQUIRE(st.ok());
    // 100: held by 42, "mine". 101: not 42's, proc43's: "rest" drops it, "any"
    // takes it. 102: no holder: "rest". 103: port 23: "any" (103 is 42's, but
    // "mine" wants port 22).
    std::vector<std::pair<uint32_t, int>> got;
    for (const SockRecord& r : obs.recs) got.emplace_back(r.inode, r.rule);
    CHECK(got == std::vector<std::pair<uint32_t, int>>{{100, 0}, {101, 2}, {102, 1}, {103, 2}});
    // Two walks: "mine" over all of port 22, "rest" over what "mine" left.
    CHECK(walk.walks == 2);
    REQUIRE(obs.results.size() == 4);
    CHECK(obs.results[0].pid == 42);  // named: its rule selects by process
    CHECK(obs.results[1].pid == 0);   // "any" does not
}
