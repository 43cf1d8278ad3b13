// The engine without inet_diag: sockets from the /proc/net tables, and the
// switch to them when the kernel refuses every TCP dump.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/sock_destroy.hpp"
#include "engine_rig.hpp"

using namespace tc;
using namespace enginerig;
using testutil::Bytes;
using testutil::FakeTransport;

namespace {

// /proc/net tables as text, handed out in small chunks.
struct FakeTables final : ProcNetTables {
    std::string tcp, tcp6, udp, udp6;
    std::vector<bool> opened;  // v6 flag of each open()
    std::vector<Proto> protos; // protocol of each open()
    int fail_read = 0;
    std::string* cur = nullptr;
    size_t at = 0;
    Status open(Proto p, bool v6) override {
        opened.push_back(v6);
        protos.push_back(p);
        cur = p == Proto::Udp ? (v6 ? &udp6 : &udp) : (v6 ? &tcp6 : &tcp);
        at = 0;
        return {};
    }
    Result<size_t> read(std::span<uint8_t> buf) override {
        if (fail_read) return make_error(fail_read, "fake read");
        size_t n = std::min<size_t>({buf.size(), cur->size() - at, 37});
        std::memcpy(buf.data(), cur->data() + at, n);
        at += n;
        return n;
    }
};

struct FakeIdle final : IdleReader {
    std::map<uint32_t, uint32_t> last_recv;  // inode -> ms; others unreadable
    size_t calls = 0;
    size_t read_idle(std::span<SockRecord> recs, int& why) override {
        ++calls;
        why = ENOPROTOOPT;
        size_t missing = 0;
        for (SockRecord& r : recs) {
            auto it = last_recv.find(r.inode);
            r.has_info = it != last_recv.end();
            if (r.has_info) r.last_data_recv_ms = it->second;
            missing += !r.has_info;
        }
        return missing;
    }
};

const char kTablesHeader[] = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
std::string v4_line(int sl, const char* local, const char* remote, const char* st, uint32_t inode) {
    return "   " + std::to_string(sl) + ": " + local + " " + remote + " " + st +
           " 00000000:00000000 00:00000000 00000000     0        0 " + std::to_string(inode) + " 1 0000000000000000 20 0 0 10 -1\n";
}

}  // namespace

TEST_CASE("engine: without inet_diag, sockets come from the /proc/net tables", "[engine]") {
    FakeTables tables;
    // 127.0.0.1:7001 listener (11), a connection to it (12, server end 13),
    // one on port 7002 (14); tcp6: ::1 on 7001 (21), v4-mapped on 7001 (22).
    tables.tcp = std::string(kTablesHeader) + v4_line(0, "0100007F:1B59", "00000000:0000", "0A", 11) +
                 v4_line(1, "0100007F:94F4", "0100007F:1B59", "01", 12) +
                 v4_line(2, "0100007F:1B59", "0100007F:94F4", "01", 13) +
                 v4_line(3, "0100007F:1B5A", "0100007F:9000", "01", 14) + "   4: garbage\n";
    tables.tcp6 = std::string(kTablesHeader) +
                  v4_line(0, "00000000000000000000000001000000:1B59", "00000000000000000000000001000000:AE40", "01", 21) +
                  v4_line(1, "0000000000000000FFFF00000100007F:1B59", "0000000000000000FFFF00000100007F:E10C", "01", 22);
    FakeTransport unused;  // the dump socket: never used on this path
    InodeTerminator term;
    FakeIdle idle;
    Engine engine(unused, term);
    engine.use_proc_net(tables, idle);
    Recorder obs;

    SECTION("the default family: IPv4 and v4-mapped, never the listener") {
        Result<PollStats> st = engine.poll(sel_sport("7001"), obs);
        REQUIRE(st.ok());
        CHECK(term.ended == std::vector<uint32_t>{13, 22});
        CHECK(st->matched == 2);
        CHECK(tables.opened == std::vector<bool>{false, true});
        CHECK(unused.sent.empty());
        CHECK(idle.calls == 0);  // no idle rule: no tcp_info needed
    }
    SECTION("-6 alone reads only tcp6 and takes native IPv6 only") {
        Selection sel = sel_sport("7001");
        sel.ipv4 = false;
        sel.ipv6 = true;
        REQUIRE(engine.poll(sel, obs).ok());
        CHECK(term.ended == std::vector<uint32_t>{21});
        CHECK(tables.opened == std::vector<bool>{true});
    }
    SECTION("idle rules: tcp_info from the owners; unreadable ones are never idle, and counted") {
        Selection sel = sel_sport("7001");
        sel.idle_min_ms = 1000;
        idle.last_recv[13] = 5000;  // idle
        idle.last_recv[22] = 10;    // busy; 21 is not IPv4
        Result<PollStats> st = engine.poll(sel, obs);
        REQUIRE(st.ok());
        CHECK(term.ended == std::vector<uint32_t>{13});
        CHECK(st->no_tcp_info == 0);
        idle.last_recv.erase(13);  // now unreadable
        term.ended.clear();
        st = engine.poll(sel, obs);
        REQUIRE(st.ok());
        CHECK(term.ended.empty());
        CHECK(st->no_tcp_info == 1);
        CHECK(st->no_tcp_info_err == ENOPROTOOPT);
    }
    SECTION("--mark and --cgroup match nothing there: the tables carry neither") {
        for (int kind = 0; kind < 2; ++kind) {
            Selection sel = sel_sport("7001");
            if (kind == 0) {
                sel.owner.n_mark = 1;  // mark 0/0: every socket that reports a mark at all
                sel.owner.mark[0] = MarkSel{0, 0};
            } else {
                sel.owner.n_cgroup = 1;
                sel.owner.cgroup[0] = 0;  // even the id a missing attribute would read as
            }
            Result<PollStats> st = engine.poll(sel, obs);
            REQUIRE(st.ok());
            CHECK(st->matched == 0);
            CHECK(term.ended.empty());
        }
    }
    SECTION("a read error ends the poll before anything is ended") {
        tables.fail_read = EIO;
        Result<PollStats> st = engine.poll(sel_sport("7001"), obs);
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code == EIO);
        CHECK(term.ended.empty());
    }
}

TEST_CASE("engine: a kernel that refuses every TCP dump (no inet_diag module) switches to /proc/net for good",
          "[engine]") {
    DumpScript dump;
    Bytes refused_legacy, refused_v4;
    testutil::append_msg(refused_legacy, NLMSG_ERROR, 1, testutil::int_payload(-ENOENT));
    testutil::append_msg(refused_v4, NLMSG_ERROR, 2, testutil::int_payload(-ENOENT));
    dump.t.queued.push_back(refused_legacy);
    dump.t.queued.push_back(refused_v4);
    FakeTables tables;
    tables.tcp = std::string(kTablesHeader) + v4_line(0, "0100007F:1B59", "0100007F:94F4", "01", 13);
    tables.tcp6 = kTablesHeader;
    FakeTransport destroy;
    SockDestroyTerminator sd(destroy);
    InodeTerminator proc;
    FakeIdle idle;
    Engine engine(dump.t, sd);
    engine.fall_back_to_proc_net(tables, idle, proc);
    Recorder obs;
    Result<PollStats> st = engine.poll(sel_sport("7001"), obs);
    REQUIRE(st.ok());
    CHECK(st->switched_to_proc_net == 1u << 0);  // TCP's
    CHECK(proc.ended == std::vector<uint32_t>{13});
    CHECK(destroy.sent.empty());  // never SOCK_DESTROY after the switch
    // And from then on without asking inet_diag again.
    const size_t asked = dump.t.sent.size();
    st = engine.poll(sel_sport("7001"), obs);
    REQUIRE(st.ok());
    CHECK(st->switched_to_proc_net == 0);
    CHECK(dump.t.sent.size() == asked);
    CHECK(proc.ended.size() == 2);
}

TEST_CASE("engine: other dump refusals do not switch to /proc/net", "[engine]") {
    DumpScript dump;
    Bytes refused_legacy, refused_v4;
    testutil::append_msg(refused_legacy, NLMSG_ERROR, 1, testutil::int_payload(-EINVAL));
    testutil::append_msg(refused_v4, NLMSG_ERROR, 2, testutil::int_payload(-EPERM));
    dump.t.queued.push_back(refused_legacy);
    dump.t.queued.push_back(refused_v4);
    FakeTables tables;
    InodeTerminator proc;
    FakeIdle idle;
    FakeTransport destroy;
    SockDestroyTerminator sd(destroy);
    Engine engine(dump.t, sd);
    engine.fall_back_to_proc_net(tables, idle, proc);
    Recorder obs;
    Result<PollStats> st = engine.poll(sel_sport("7001"), obs);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == EPERM);
    CHECK(tables.opened.empty());
}
