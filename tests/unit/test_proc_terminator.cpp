// The /proc path's policy over a scripted ProcOps: which holder is used,
// what counts as gone, when a reset becomes a shutdown or a kill, and who is
// never killed.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/proc_terminator.hpp"
#include "helpers.hpp"
#include "proc_identity.hpp"

using namespace tc;
using testutil::identity_of;
using testutil::sock;

namespace {

using Key = std::pair<int32_t, int32_t>;  // (pid, fd)


struct FakeProc final : ProcOps {
    std::vector<Holder> table;            // what the walk finds, in walk order
    bool unreadable = false;
    int walk_error = 0;
    std::map<Key, int> dup_error;         // (pid, fd) -> errno of pidfd_getfd
    std::map<Key, FdIdentity> identity;   // what the duplicate turns out to be
    int disconnect_error = 0;
    std::map<Key, int> disconnect_error_of;  // (pid, fd) -> errno of its reset, over disconnect_error
    int shutdown_error = 0;
    std::map<int32_t, int> kill_error;
    int32_t self = 999;

    size_t walks = 0;
    const OwnerSel* last_only = nullptr;
    std::vector<Key> dups;
    std::vector<std::string> actions;     // "reset 100/3", "shutdown 100/3", "close 100/3"
    std::vector<int32_t> killed;
    std::map<int, Key> open;              // fake fd -> (pid, fd)
    int next_fd = 1000;

    Status find_holders(OwnerMap& map, const OwnerSel* only) override {
        ++walks;
        last_only = only;
        if (walk_error) return make_error(walk_error, "fake walk");
        for (const Holder& h : table)
            if (map.wants(h.inode)) REQUIRE(map.add(h.inode, h.pid, h.fd));
        if (unreadable) map.note_unreadable();
        return {};
    }
    Result<int> dup_fd(int32_t pid, int32_t fd) override {
        dups.emplace_back(pid, fd);
        auto e = dup_error.find({pid, fd});
        if (e != dup_error.end()) return make_error(e->second, "fake dup");
        open[next_fd] = {pid, fd};
        return next_fd++;
    }
    Result<FdIdentity> identify(int fd) override {
        auto id = identity.find(open.at(fd));
        if (id == identity.end()) return FdIdentity{};  // not a socket
        return id->second;
    }
    std::string name(int fd) { return std::to_string(open.at(fd).first) + "/" + std::to_string(open.at(fd).second); }
    int disconnect(int fd) override {
        actions.push_back("reset " + name(fd));
        auto e = disconnect_error_of.find(open.at(fd));
        return e != disconnect_error_of.end() ? e->second : disconnect_error;
    }
    int shutdown_rdwr(int fd) override {
        actions.push_back("shutdown " + name(fd));
        return shutdown_error;
    }
    std::map<Key, uint32_t> last_recv;  // TCP_INFO answers; others: ENOPROTOOPT
    int tcp_figures(int fd, SockRecord& rec) override {
        auto it = last_recv.find(open.at(fd));
        if (it == last_recv.end()) return ENOPROTOOPT;
        rec.last_data_recv_ms = it->second;
        rec.figures = SockRecord::kFigureRecv;
        return 0;
    }
    // Socket options per socket held at (pid, fd) (one socket may be held
    // twice: options are the socket's, so keyed by the first holder given).
    std::map<Key, std::map<std::pair<int, int>, int>> opts;
    int get_error = 0, set_error = 0;
    int set_error_after = -1;  // fail the set calls from this many on (-1: never)
    int get_int_opt(int fd, int level, int name, int& value) override {
        if (get_error) return get_error;
        value = opts[open.at(fd)][{level, name}];
        return 0;
    }
    int set_int_opt(int fd, int level, int name, int value) override {
        if (set_error_after == 0) return set_error;
        if (set_error_after > 0) --set_error_after;
        actions.push_back("set " + std::to_string(level) + "/" + std::to_string(name) + "=" + std::to_string(value) +
                          " " + this->name(fd));
        opts[open.at(fd)][{level, name}] = value;
        return 0;
    }
    void close_fd(int fd) override {
        actions.push_back("close " + name(fd));
        open.erase(fd);
    }
    int kill_holder(const Holder& h) override {
        auto e = kill_error.find(h.pid);
        if (e != kill_error.end()) return e->second;
        killed.push_back(h.pid);
        return 0;
    }
    std::vector<int32_t> comm_reads;
    void comm(int32_t pid, char (&out)[16]) override {
        comm_reads.push_back(pid);
        std::snprintf(out, sizeof out, "proc%d", pid);
    }
    int32_t self_pid() override { return self; }

    // `rec`'s socket held at (pid, fd), duplicable and intact.
    void hold(const SockRecord& rec, int32_t pid, int32_t fd) {
        table.push_back(Holder{rec.inode, pid, fd});
        identity[{pid, fd}] = identity_of(rec);
    }
};

struct KillLog final : KillObserver {
    std::vector<std::pair<int32_t, int>> kills;  // (pid, why)
    std::vector<std::string> comms;
    void on_process_killed(const SockRecord&, int32_t pid, const char* comm, int why) override {
        kills.emplace_back(pid, why);
        comms.emplace_back(comm);
    }
};


EndResult end_one(ProcTerminator& t, const SockRecord& r) {
    EndResult out;
    REQUIRE(t.end_connections(std::span<const SockRecord>(&r, 1), std::span<EndResult>(&out, 1)).ok());
    return out;
}

}  // namespace

TEST_CASE("proc path: one walk, one reset per socket, the duplicate closed", "[proc_terminator]") {
    FakeProc ops;
    KillLog log;
    ProcTerminator term(ops, ProcTerminator::Mode::Reset, &log);
    SockRecord a = sock(1, 11), b = sock(2, 12), c = sock(3, 13);
    ops.hold(a, 100, 3);
    ops.hold(a, 205, 3);  // shared with a forked child: reset once
    ops.hold(b, 300, 9);
    ops.hold(sock(4, 99), 400, 5);  // not selected: never touched
    std::vector<SockRecord> recs{a, b, c};
    std::vector<EndResult> out(3);
    REQUIRE(term.end_connections(recs, out).ok());
    CHECK(ops.walks == 1);
    CHECK(ops.dups == std::vector<Key>{{100, 3}, {300, 9}});
    CHECK(ops.actions == std::vector<std::string>{"reset 100/3", "close 100/3", "reset 300/9", "close 300/9"});
    CHECK((out[0].outcome == Outcome::Ended && out[0].method == Method::Reset && out[0].pid == 100));
    CHECK(std::string(out[0].comm) == "proc100");
    CHECK((out[1].outcome == Outcome::Ended && out[1].pid == 300));
    CHECK(out[2].outcome == Outcome::NoOwner);  // nobody holds inode 13
    CHECK(ops.killed.empty());
    CHECK(log.kills.empty());
}

TEST_CASE("proc path: a process's name is read once per poll", "[proc_terminator]") {
    FakeProc ops;
    ProcTerminator term(ops, ProcTerminator::Mode::Reset, nullptr);
    std::vector<SockRecord> recs;
    for (uint16_t i = 0; i < 6; ++i) {
        recs.push_back(sock(i, 100 + i));
        ops.hold(recs.back(), i % 2 ? 100 : 164, 3 + i);  // 100 and 164 share a cache slot (64 entries)
    }
    std::vector<EndResult> out(recs.size());
    REQUIRE(term.end_connections(recs, out).ok());
    for (size_t i = 0; i < out.size(); ++i) CHECK(std::string(out[i].comm) == (i % 2 ? "proc100" : "proc164"));
    CHECK(ops.comm_reads.size() <= 6);  // colliding pids may evict each other, never mix up names
    ops.comm_reads.clear();
    for (SockRecord& r : recs) r = sock(r.dport(), r.inode);
    FakeProc one;
    ProcTerminator t2(one, ProcTerminator::Mode::Reset, nullptr);
    for (const SockRecord& r : recs) one.hold(r, 4242, static_cast<int32_t>(r.inode));
    REQUIRE(t2.end_connections(recs, out).ok());
    CHECK(one.comm_reads == std::vector<int32_t>{4242});
    REQUIRE(t2.end_connections(recs, out).ok());  // the next poll reads it again: the pid may be reused
    CHECK(one.comm_reads == std::vector<int32_t>{4242, 4242});
}

TEST_CASE("proc path: nothing to look for, no walk", "[proc_terminator]") {
    FakeProc ops;
    ProcTerminator term(ops, ProcTerminator::Mode::Reset, nullptr);
    SockRecord queued = sock(1, 0);  // in a listener's accept queue: no inode
    CHECK(end_one(term, queued).outcome == Outcome::NoOwner);
    CHECK(ops.walks == 0);
    std::vector<EndResult> none;
    REQUIRE(term.end_connections({}, none).ok());
    CHECK(ops.walks == 0);
}

TEST_CASE("proc path: races are harmless", "[proc_terminator]") {
    FakeProc ops;
    ProcTerminator term(ops, ProcTerminator::Mode::Reset, nullptr);
    SockRecord r = sock(1, 21);
    ops.hold(r, 100, 3);
    ops.hold(r, 200, 4);
    ops.hold(r, 300, 5);

    SECTION("a holder that exited, or closed the fd, is skipped") {
        ops.dup_error[{100, 3}] = ESRCH;
        ops.dup_error[{200, 4}] = EBADF;
        EndResult k = end_one(term, r);
        CHECK((k.outcome == Outcome::Ended && k.pid == 300));
    }
    SECTION("an fd number now naming another file is closed and skipped") {
        ops.identity[{100, 3}] = FdIdentity{};             // not a socket any more
        ops.identity[{200, 4}] = identity_of(sock(1, 22)); // another socket
        EndResult k = end_one(term, r);
        CHECK((k.outcome == Outcome::Ended && k.pid == 300));
        CHECK(ops.actions ==
              std::vector<std::string>{"close 100/3", "close 200/4", "reset 300/5", "close 300/5"});
    }
    SECTION("every holder gone: vanished, and nobody killed") {
        ops.dup_error[{100, 3}] = ESRCH;
        ops.dup_error[{200, 4}] = EBADF;
        ops.identity[{300, 5}] = identity_of(sock(2, 21));  // reconnected elsewhere since the dump
        CHECK(end_one(term, r).outcome == Outcome::Vanished);
        CHECK(ops.killed.empty());
        CHECK(ops.actions == std::vector<std::string>{"close 300/5"});
    }
}

TEST_CASE("proc path: EBUSY from the reset falls back to shutdown", "[proc_terminator]") {
    FakeProc ops;
    ProcTerminator term(ops, ProcTerminator::Mode::Reset, nullptr);
    SockRecord r = sock(1, 31);
    ops.hold(r, 100, 3);
    ops.disconnect_error = EBUSY;
    EndResult k = end_one(term, r);
    CHECK((k.outcome == Outcome::Ended && k.method == Method::Shutdown && k.err == EBUSY && k.pid == 100));
    CHECK(ops.actions == std::vector<std::string>{"reset 100/3", "shutdown 100/3", "close 100/3"});

    ops.actions.clear();
    ops.shutdown_error = ENOTCONN;
    k = end_one(term, r);
    CHECK((k.outcome == Outcome::Failed && k.err == ENOTCONN));
    CHECK(ops.killed.empty());

    ops.disconnect_error = EINVAL;  // another error: failed, no kill
    k = end_one(term, r);
    CHECK((k.outcome == Outcome::Failed && k.err == EINVAL));
    CHECK(ops.killed.empty());
}

TEST_CASE("proc path: kill only when the fd cannot be reached", "[proc_terminator]") {
    for (int why : {EPERM, EACCES, ENOSYS}) {
        INFO("pidfd_getfd answered " << why);
        FakeProc ops;
        KillLog log;
        ProcTerminator term(ops, ProcTerminator::Mode::Reset, &log);
        SockRecord r = sock(1, 41);
        ops.hold(r, 100, 3);
        ops.hold(r, 100, 8);  // one process, two fds: one kill
        ops.hold(r, 205, 3);
        ops.dup_error[{100, 3}] = why;
        ops.dup_error[{100, 8}] = why;
        ops.dup_error[{205, 3}] = why;
        EndResult k = end_one(term, r);
        CHECK((k.outcome == Outcome::Ended && k.method == Method::Kill));
        CHECK(k.err == why);
        CHECK(k.pid == 100);
        CHECK(k.procs == 2);
        CHECK(std::string(k.comm) == "proc100");
        CHECK(ops.killed == std::vector<int32_t>{100, 205});
        CHECK(log.kills == std::vector<std::pair<int32_t, int>>{{100, why}, {205, why}});
        CHECK(log.comms == std::vector<std::string>{"proc100", "proc205"});
    }
}

TEST_CASE("proc path: a reachable holder is reset even if another is not", "[proc_terminator]") {
    FakeProc ops;
    ProcTerminator term(ops, ProcTerminator::Mode::Reset, nullptr);
    SockRecord r = sock(1, 45);
    ops.hold(r, 100, 3);
    ops.hold(r, 205, 3);
    ops.dup_error[{100, 3}] = EPERM;
    EndResult k = end_one(term, r);
    CHECK((k.method == Method::Reset && k.pid == 205));
    CHECK(ops.killed.empty());
}

TEST_CASE("proc path: a reset refused in one holder is tried in the next", "[proc_terminator]") {
    FakeProc ops;
    ProcTerminator term(ops, ProcTerminator::Mode::Reset, nullptr);
    SockRecord r = sock(1, 46);
    ops.hold(r, 100, 3);
    ops.hold(r, 205, 3);
    ops.disconnect_error_of[{100, 3}] = EINVAL;
    EndResult k = end_one(term, r);
    CHECK((k.outcome == Outcome::Ended && k.method == Method::Reset && k.pid == 205));
    CHECK(ops.actions == std::vector<std::string>{"reset 100/3", "close 100/3", "reset 205/3", "close 205/3"});

    SECTION("refused in every holder: failed with the errno, nobody killed") {
        ops.disconnect_error_of[{205, 3}] = EINVAL;
        k = end_one(term, r);
        CHECK((k.outcome == Outcome::Failed && k.err == EINVAL));
        CHECK(ops.killed.empty());
    }
}

TEST_CASE("--kill_owner: kills the holders, never PID 1, never ourselves", "[proc_terminator]") {
    FakeProc ops;
    KillLog log;
    ProcTerminator term(ops, ProcTerminator::Mode::KillOwner, &log);
    SockRecord child = sock(1, 51), init = sock(2, 52), self = sock(3, 53), racy = sock(4, 54);
    ops.hold(child, 300, 3);
    ops.hold(init, 1, 7);
    ops.hold(init, 301, 7);  // PID 1 shares it: killing 301 alone would not end it
    ops.hold(self, 999, 4);
    ops.hold(racy, 302, 3);
    ops.kill_error[302] = ESTALE;  // the pid no longer holds it (reused)
    std::vector<SockRecord> recs{child, init, self, racy};
    std::vector<EndResult> out(recs.size());
    REQUIRE(term.end_connections(recs, out).ok());
    CHECK(ops.dups.empty());  // no reset attempted
    CHECK((out[0].outcome == Outcome::Ended && out[0].method == Method::Kill && out[0].err == 0 && out[0].pid == 300));
    CHECK((out[1].outcome == Outcome::Failed && out[1].note == Note::NeverKilled));
    CHECK((out[2].outcome == Outcome::Failed && out[2].note == Note::NeverKilled));
    CHECK(out[3].outcome == Outcome::Vanished);
    CHECK(ops.killed == std::vector<int32_t>{300});
    CHECK(log.kills == std::vector<std::pair<int32_t, int>>{{300, 0}});

    FakeProc denied;
    ProcTerminator t2(denied, ProcTerminator::Mode::KillOwner, nullptr);
    denied.hold(child, 300, 3);
    denied.kill_error[300] = EPERM;
    EndResult k = end_one(t2, child);
    CHECK((k.outcome == Outcome::Failed && k.err == EPERM));
}

TEST_CASE("proc path: unreadable processes make 'no owner' a failure; a broken walk fails all", "[proc_terminator]") {
    FakeProc ops;
    ProcTerminator term(ops, ProcTerminator::Mode::Reset, nullptr);
    ops.unreadable = true;
    EndResult k = end_one(term, sock(1, 61));
    CHECK((k.outcome == Outcome::Failed && k.err == EACCES && k.note == Note::OwnerUnreadable));

    FakeProc broken;
    broken.walk_error = ENOENT;  // no /proc mounted
    ProcTerminator t2(broken, ProcTerminator::Mode::Reset, nullptr);
    std::vector<SockRecord> recs{sock(1, 62), sock(2, 63)};
    std::vector<EndResult> out(2);
    Status s = t2.end_connections(recs, out);
    CHECK_FALSE(s.ok());
    CHECK(s.error().code == ENOENT);
    for (const EndResult& r : out) CHECK((r.outcome == Outcome::Failed && r.err == ENOENT));
}

TEST_CASE("proc path: last receive times read from a holder's duplicate", "[proc_terminator]") {
    FakeProc ops;
    ProcTerminator term(ops, ProcTerminator::Mode::Reset, nullptr);
    std::vector<SockRecord> recs = {sock(1, 11), sock(2, 12), sock(3, 13), sock(4, 14)};
    for (SockRecord& r : recs) r.id.idiag_cookie[0] = r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;  // as /proc/net has them
    ops.hold(recs[0], 100, 3);
    ops.last_recv[{100, 3}] = 5000;
    ops.hold(recs[1], 101, 4);  // TCP_INFO refused
    // recs[2]: nobody holds it
    ops.hold(recs[3], 102, 5);
    ops.identity[{102, 5}] = identity_of(recs[0]);  // that fd is another socket now
    ops.last_recv[{102, 5}] = 1;
    ops.hold(recs[3], 103, 6);
    ops.last_recv[{103, 6}] = 70000;

    int why = 0;
    CHECK(term.read_idle(recs, why) == 2);
    CHECK(why == ENOPROTOOPT);  // the last failure: TCP_INFO refused for recs[1]
    CHECK(recs[0].has_info);
    CHECK(recs[0].last_data_recv_ms == 5000);
    CHECK_FALSE(recs[1].has_info);
    CHECK_FALSE(recs[2].has_info);
    CHECK(recs[3].has_info);
    CHECK(recs[3].last_data_recv_ms == 70000);  // not the other socket's 1
    CHECK(ops.open.empty());  // every duplicate closed
    CHECK(ops.walks == 1);
    for (const std::string& a : ops.actions) CHECK(a.rfind("close ", 0) == 0);  // nothing reset or shut down
}

TEST_CASE("proc path: the walk read_idle made serves the poll's end_connections, once", "[proc_terminator]") {
    FakeProc ops;
    ProcTerminator term(ops, ProcTerminator::Mode::Reset, nullptr);
    std::vector<SockRecord> recs = {sock(1, 11), sock(2, 12)};
    ops.hold(recs[0], 100, 3);
    ops.hold(recs[1], 101, 4);
    ops.last_recv[{100, 3}] = 5000;
    int why = 0;
    CHECK(term.read_idle(recs, why) == 1);
    std::vector<EndResult> out(1);
    REQUIRE(term.end_connections(std::span(recs).first(1), out).ok());  // a candidate it walked for
    CHECK(out[0].outcome == Outcome::Ended);
    CHECK(ops.walks == 1);
    REQUIRE(term.end_connections(std::span(recs).first(1), out).ok());  // a later poll walks again
    CHECK(ops.walks == 2);
    std::vector<SockRecord> other = {sock(3, 13)};
    ops.hold(other[0], 102, 5);
    CHECK(term.read_idle(recs, why) == 1);
    REQUIRE(term.end_connections(other, out).ok());  // not among read_idle's: walks
    CHECK(ops.walks == 4);
}

TEST_CASE("proc path: a UDP socket is shut down, then disconnected", "[proc_terminator][udp]") {
    FakeProc ops;
    ProcTerminator term(ops, ProcTerminator::Mode::Reset, nullptr);
    SockRecord r = sock(1, 41);
    r.udp = true;
    ops.hold(r, 100, 3);
    EndResult k = end_one(term, r);
    // shutdown wakes a blocked reader; the disconnect leaves the socket
    // unconnected (src/KERNEL.md: UDP). In that order, both, always.
    CHECK((k.outcome == Outcome::Ended && k.method == Method::Shutdown && k.err == 0 && k.pid == 100));
    CHECK(ops.actions == std::vector<std::string>{"shutdown 100/3", "reset 100/3", "close 100/3"});

    ops.actions.clear();
    ops.disconnect_error = EBUSY;  // not TCP's EBUSY case: an error, and no second shutdown
    k = end_one(term, r);
    CHECK((k.outcome == Outcome::Failed && k.err == EBUSY));
    CHECK(ops.actions == std::vector<std::string>{"shutdown 100/3", "reset 100/3", "close 100/3"});

    ops.actions.clear();
    ops.disconnect_error = 0;
    ops.shutdown_error = ENOTCONN;  // no disconnect after a failed shutdown
    k = end_one(term, r);
    CHECK((k.outcome == Outcome::Failed && k.err == ENOTCONN));
    CHECK(ops.actions == std::vector<std::string>{"shutdown 100/3", "close 100/3"});
    CHECK(ops.killed.empty());
}

namespace {
// "set LEVEL/NAME=VALUE PID/FD" as FakeProc records it.
std::string set_line(int level, int name, int value, const char* holder) {
    return "set " + std::to_string(level) + "/" + std::to_string(name) + "=" + std::to_string(value) + " " + holder;
}

std::vector<Rule> arming_rule(uint32_t user_timeout_ms, uint16_t idle_s, uint16_t intvl_s, uint8_t count) {
    std::vector<Rule> rules(1);
    rules[0].sel.arm.user_timeout_ms = user_timeout_ms;
    rules[0].sel.arm.keep_idle_s = idle_s;
    rules[0].sel.arm.keep_intvl_s = intvl_s;
    rules[0].sel.arm.keep_count = count;
    return rules;
}

EndResult arm_one(ProcTerminator& t, const SockRecord& r, const std::vector<Rule>& rules) {
    EndResult out;
    REQUIRE(t.arm_connections(std::span<const SockRecord>(&r, 1), rules, std::span<EndResult>(&out, 1)).ok());
    return out;
}
}  // namespace

TEST_CASE("proc path, arming: user timeout and keepalive set on one holder's duplicate, timers before keepalive", "[proc_terminator][arm]") {
    FakeProc ops;
    ProcTerminator term(ops, ProcTerminator::Mode::KillOwner, nullptr);  // arming never kills, whatever the mode
    SockRecord a = sock(1, 11), b = sock(2, 12);
    ops.hold(a, 100, 3);
    ops.hold(a, 205, 3);  // shared: armed once
    ops.hold(b, 300, 9);
    const std::vector<Rule> rules = arming_rule(2000, 60, 10, 3);
    std::vector<SockRecord> recs{a, b};
    std::vector<EndResult> out(2);
    REQUIRE(term.arm_connections(recs, rules, out).ok());
    CHECK(ops.walks == 1);
    CHECK(ops.dups == std::vector<Key>{{100, 3}, {300, 9}});
    const std::vector<std::string> want_a = {
        set_line(IPPROTO_TCP, TCP_USER_TIMEOUT, 2000, "100/3"), set_line(IPPROTO_TCP, TCP_KEEPIDLE, 60, "100/3"),
        set_line(IPPROTO_TCP, TCP_KEEPINTVL, 10, "100/3"),      set_line(IPPROTO_TCP, TCP_KEEPCNT, 3, "100/3"),
        set_line(SOL_SOCKET, SO_KEEPALIVE, 1, "100/3"),         "close 100/3"};
    REQUIRE(ops.actions.size() == 12);
    CHECK(std::vector<std::string>(ops.actions.begin(), ops.actions.begin() + 6) == want_a);
    for (const EndResult& r : out) {
        CHECK(r.outcome == Outcome::Armed);
        CHECK(r.method == Method::Dup);
        CHECK(int(r.arm) == (kArmUserTimeout | kArmKeepalive));
    }
    CHECK(out[0].pid == 100);
    CHECK(std::string(out[0].comm) == "proc100");
    CHECK(out[1].pid == 300);
    CHECK(ops.killed.empty());
}

TEST_CASE("proc path, arming: the owner's own choices stand, option by option", "[proc_terminator][arm]") {
    FakeProc ops;
    ProcTerminator term(ops, ProcTerminator::Mode::Reset, nullptr);
    SockRecord r = sock(1, 11);
    ops.hold(r, 100, 3);
    const std::vector<Rule> both = arming_rule(2000, 60, 10, 3);

    SECTION("its user timeout is kept, keepalive still set") {
        ops.opts[{100, 3}][{IPPROTO_TCP, TCP_USER_TIMEOUT}] = 30000;
        EndResult k = arm_one(term, r, both);
        CHECK(k.outcome == Outcome::Armed);
        CHECK(int(k.arm) == (kArmKeepalive | kArmUserTimeout << 4));
        CHECK(ops.opts[{100, 3}][{IPPROTO_TCP, TCP_USER_TIMEOUT}] == 30000);
        CHECK(ops.opts[{100, 3}][{SOL_SOCKET, SO_KEEPALIVE}] == 1);
    }
    SECTION("its keepalive is kept with its own timers, the user timeout still set") {
        ops.opts[{100, 3}][{SOL_SOCKET, SO_KEEPALIVE}] = 1;
        ops.opts[{100, 3}][{IPPROTO_TCP, TCP_KEEPIDLE}] = 7200;
        EndResult k = arm_one(term, r, both);
        CHECK(k.outcome == Outcome::Armed);
        CHECK(int(k.arm) == (kArmUserTimeout | kArmKeepalive << 4));
        CHECK(ops.opts[{100, 3}][{IPPROTO_TCP, TCP_KEEPIDLE}] == 7200);
        CHECK(ops.opts[{100, 3}][{IPPROTO_TCP, TCP_USER_TIMEOUT}] == 2000);
    }
    SECTION("both its own: kept, nothing set") {
        ops.opts[{100, 3}][{SOL_SOCKET, SO_KEEPALIVE}] = 1;
        ops.opts[{100, 3}][{IPPROTO_TCP, TCP_USER_TIMEOUT}] = 1;
        EndResult k = arm_one(term, r, both);
        CHECK(k.outcome == Outcome::Kept);
        CHECK(int(k.arm) == ((kArmUserTimeout | kArmKeepalive) << 4));
        CHECK(ops.actions == std::vector<std::string>{"close 100/3"});
    }
    SECTION("only what is asked: a user timeout alone never touches keepalive") {
        ops.opts[{100, 3}][{SOL_SOCKET, SO_KEEPALIVE}] = 0;
        EndResult k = arm_one(term, r, arming_rule(5000, 0, 0, 0));
        CHECK(k.outcome == Outcome::Armed);
        CHECK(int(k.arm) == kArmUserTimeout);
        CHECK(ops.actions == std::vector<std::string>{set_line(IPPROTO_TCP, TCP_USER_TIMEOUT, 5000, "100/3"), "close 100/3"});
    }
}

TEST_CASE("proc path, arming: what cannot be reached or set fails, and nothing is ever ended", "[proc_terminator][arm]") {
    FakeProc ops;
    ProcTerminator term(ops, ProcTerminator::Mode::Reset, nullptr);
    SockRecord r = sock(1, 11);
    const std::vector<Rule> both = arming_rule(2000, 60, 10, 3);

    SECTION("no holder") { CHECK(arm_one(term, r, both).outcome == Outcome::NoOwner); }
    SECTION("pidfd_getfd missing or refused: failed with its errno, no kill") {
        ops.hold(r, 100, 3);
        ops.hold(r, 200, 4);
        ops.dup_error[{100, 3}] = ENOSYS;
        ops.dup_error[{200, 4}] = EPERM;
        EndResult k = arm_one(term, r, both);
        CHECK(k.outcome == Outcome::Failed);
        CHECK(k.err == EPERM);
        CHECK(ops.killed.empty());
    }
    SECTION("a kernel without pidfd_getfd: failed with ENOSYS") {
        ops.hold(r, 100, 3);
        ops.dup_error[{100, 3}] = ENOSYS;
        EndResult k = arm_one(term, r, both);
        CHECK(k.outcome == Outcome::Failed);
        CHECK(k.err == ENOSYS);
    }
    SECTION("a holder gone since the walk: the next one arms it") {
        ops.hold(r, 100, 3);
        ops.hold(r, 200, 4);
        ops.dup_error[{100, 3}] = ESRCH;
        EndResult k = arm_one(term, r, both);
        CHECK(k.outcome == Outcome::Armed);
        CHECK(k.pid == 200);
    }
    SECTION("every holder gone: vanished") {
        ops.hold(r, 100, 3);
        ops.identity[{100, 3}] = identity_of(sock(1, 22));  // the fd names another socket now
        CHECK(arm_one(term, r, both).outcome == Outcome::Vanished);
        CHECK(ops.actions == std::vector<std::string>{"close 100/3"});
    }
    SECTION("the owner's options unreadable: failed, nothing set, no other holder tried") {
        ops.hold(r, 100, 3);
        ops.hold(r, 200, 4);
        ops.get_error = EOPNOTSUPP;
        EndResult k = arm_one(term, r, both);
        CHECK(k.outcome == Outcome::Failed);
        CHECK(k.err == EOPNOTSUPP);
        CHECK(ops.actions == std::vector<std::string>{"close 100/3"});
    }
    SECTION("a refused setting: failed, what was set before it said") {
        ops.hold(r, 100, 3);
        ops.set_error_after = 2;  // the user timeout and TCP_KEEPIDLE go in, TCP_KEEPINTVL is refused
        ops.set_error = EINVAL;
        EndResult k = arm_one(term, r, both);
        CHECK(k.outcome == Outcome::Failed);
        CHECK(k.err == EINVAL);
        CHECK(int(k.arm) == kArmUserTimeout);
        CHECK(ops.opts[{100, 3}][{SOL_SOCKET, SO_KEEPALIVE}] == 0);  // never turned on without its timers
    }
    CHECK(ops.killed.empty());
    for (const std::string& a : ops.actions) CHECK(a.rfind("reset", 0) != 0);
}
