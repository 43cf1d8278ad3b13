// --src-removed against the real route table of the test's own namespace:
// connections on two addresses of lo, one address removed; only the
// connections bound to it (either end) are ended. A transparent and a
// freebind socket on the removed address, and an AnyIP prefix, are spared.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "harness.hpp"

using it::Conn;
using it::count;
using it::make_addr;
using it::state_of;

namespace {

const std::string kNoSyslog = "--disable_syslog";

void ip(const std::string& args) {
    const std::string cmd = "ip " + args;
    REQUIRE(std::system(cmd.c_str()) == 0);
}

// A client bound to `from` (port from the kernel), with `opt` (IP_TRANSPARENT,
// IP_FREEBIND or 0) set, connected to a listener on to:port.
Conn connect_bound(int listener, int family, const char* from, const char* to, int port, int opt = 0) {
    Conn c;
    c.client = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(c.client >= 0);
    if (opt) {
        int one = 1;
        REQUIRE(setsockopt(c.client, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
                           family == AF_INET ? opt : (opt == IP_TRANSPARENT ? IPV6_TRANSPARENT : IPV6_FREEBIND), &one,
                           sizeof one) == 0);
    }
    sockaddr_storage ss;
    socklen_t len = make_addr(family, from, 0, ss);
    REQUIRE(bind(c.client, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    len = make_addr(family, to, port, ss);
    REQUIRE(connect(c.client, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    c.server = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(c.server >= 0);
    return c;
}

}  // namespace

TEST_CASE("--src-removed ends exactly the connections of a removed address, both ends, IPv4 and IPv6",
          "[src_removed][core]") {
    // Addresses of our own: /32 and /128 each, so removing one removes nothing else.
    ip("addr add 192.0.2.20/32 dev lo");
    ip("addr add 192.0.2.21/32 dev lo");
    ip("-6 addr add 2001:db8::20/128 dev lo nodad");
    ip("-6 addr add 2001:db8::21/128 dev lo nodad");
    ip("route add local 198.51.100.0/24 dev lo");  // AnyIP: local without being assigned
    const int kept_l = it::listen_on(AF_INET, "192.0.2.21", 7801);
    const int gone_l = it::listen_on(AF_INET, "192.0.2.20", 7802);
    const int kept6_l = it::listen_on(AF_INET6, "2001:db8::21", 7803);
    const int any_l = it::listen_on(AF_INET, "198.51.100.7", 7804);
    std::vector<Conn> doomed = {
        connect_bound(kept_l, AF_INET, "192.0.2.20", "192.0.2.21", 7801),       // from the removed address
        connect_bound(gone_l, AF_INET, "192.0.2.21", "192.0.2.20", 7802),       // to it (its server end is local to it)
        connect_bound(kept6_l, AF_INET6, "2001:db8::20", "2001:db8::21", 7803),
    };
    const Conn kept = connect_bound(kept_l, AF_INET, "192.0.2.21", "192.0.2.21", 7801);
    const Conn kept6 = connect_bound(kept6_l, AF_INET6, "2001:db8::21", "2001:db8::21", 7803);
    const Conn anyip = connect_bound(any_l, AF_INET, "198.51.100.9", "198.51.100.7", 7804);
    const Conn transparent = connect_bound(kept_l, AF_INET, "192.0.2.20", "192.0.2.21", 7801, IP_TRANSPARENT);
    const Conn freebind = connect_bound(kept_l, AF_INET, "192.0.2.20", "192.0.2.21", 7801, IP_FREEBIND);

    // Nothing is removed yet: nothing is selected.
    it::RunResult before = it::run_tool({"--src-removed", "-4", "-6", kNoSyslog});
    INFO("before: " << before.err);
    CHECK(before.status == 0);
    CHECK(before.err.find("poll: matched=0 ") != std::string::npos);
    // Removed and added again before a poll: judged by the table as it is, so spared.
    ip("addr del 192.0.2.21/32 dev lo");
    ip("addr add 192.0.2.21/32 dev lo");
    it::RunResult flapped = it::run_tool({"--src-removed", "-4", "-6", kNoSyslog});
    CHECK(flapped.err.find("poll: matched=0 ") != std::string::npos);

    ip("addr del 192.0.2.20/32 dev lo");
    ip("-6 addr del 2001:db8::20/128 dev lo");
    auto cleanup = [&] {
        it::close_all(doomed);
        it::close_all({kept, kept6, anyip, transparent, freebind});
        for (int fd : {kept_l, gone_l, kept6_l, any_l}) close(fd);
        ip("route del local 198.51.100.0/24 dev lo");
        ip("addr del 192.0.2.21/32 dev lo");
        ip("-6 addr del 2001:db8::21/128 dev lo");
    };
    if (it::proc_net()) {
        // The /proc/net tables do not say which sockets are transparent or
        // freebind: alone, --src-removed ends nothing on a guess.
        it::RunResult blind = it::run_tool({"--src-removed", "-4", "-6", kNoSyslog});
        INFO("no inet_diag: " << blind.err);
        CHECK(blind.status == 0);
        CHECK(blind.err.find("poll: matched=0 ") != std::string::npos);
        CHECK(state_of(doomed[0].client) == "alive");
        cleanup();
        return;
    }
    it::RunResult dry = it::run_tool({"--src-removed", "-4", "-6", "-n", "-j", kNoSyslog});
    INFO("dry: " << dry.out << dry.err);
    // The two clients from .20 and ::20, and the server end on .20:7802.
    CHECK(count(dry.out, "\"outcome\":\"would_destroy\"") == 3);
    CHECK(count(dry.out, "\"reason\":\"src_removed\"") == 3);
    it::RunResult r = it::run_tool({"--src-removed", "-4", "-6", "-v", kNoSyslog});
    INFO("run: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find("poll: matched=3 destroyed=3 ") != std::string::npos);
    CHECK(count(r.err, "destroyed 192.0.2.20:") == 2);  // the client from .20 and the server end on .20:7802
    CHECK(count(r.err, "destroyed [2001:db8::20]:") == 1);
    CHECK(r.err.find("local prefixes (") != std::string::npos);
    CHECK(r.err.find(" 198.51.100.0/24") != std::string::npos);
    CHECK(r.err.find(" 192.0.2.21/32") != std::string::npos);
    CHECK(r.err.find(" 192.0.2.20/32") == std::string::npos);
    // The kernel took the local prefixes as a filter (a refused one would
    // not be shown): one condition each, the AnyIP /24 among them.
    CHECK(r.err.find("filter for ") != std::string::npos);
    CHECK(r.err.find("S_COND yes=16  no=20    (-> ") != std::string::npos);
    CHECK(r.err.find("family=2 prefix=24 port=-1") != std::string::npos);
    for (const Conn& c : {kept, kept6, anyip, transparent, freebind}) {
        CHECK(state_of(c.client) == "alive");
        CHECK(state_of(c.server) == "alive");
    }
    // Each doomed connection: the end bound to .20 was ended. (Its peer
    // hears nothing: a RST from an address that is gone cannot be sent.)
    CHECK(state_of(doomed[0].client) == it::killed());
    CHECK(state_of(doomed[1].server) == it::killed());
    CHECK(state_of(doomed[2].client) == it::killed());

    // Combined with another selector it narrows; nothing removed is left anyway.
    it::RunResult again = it::run_tool({"--src-removed", "-d", "7801", kNoSyslog});
    CHECK(again.err.find("poll: matched=0 ") != std::string::npos);
    // --src bounds it: the transparent and freebind sockets are still spared.
    it::RunResult bounded = it::run_tool({"--src-removed", "--src", "192.0.2.0/24", "-n", kNoSyslog});
    CHECK(bounded.err.find("poll (dry run): matched=0 ") != std::string::npos);

    cleanup();
}

TEST_CASE("--src-removed --watch: a daemon without -i polls when an address is removed", "[src_removed]") {
    if (it::proc_net()) return;  // (the /proc/net tables cannot tell transparent sockets: see above)
    ip("addr add 192.0.2.30/32 dev lo");
    ip("addr add 192.0.2.31/32 dev lo");
    const int l = it::listen_on(AF_INET, "192.0.2.31", 7811);
    const Conn doomed = connect_bound(l, AF_INET, "192.0.2.30", "192.0.2.31", 7811);
    const Conn kept = connect_bound(l, AF_INET, "192.0.2.31", "192.0.2.31", 7811);
    const std::string dir = "/tmp/tc_watch";
    int pid = it::spawn_tool({"--src-removed", "--watch", kNoSyslog}, dir + ".out", dir + ".err");
    it::sleep_ms(300);  // its first poll: nothing removed yet
    CHECK(state_of(doomed.client) == "alive");
    // Removed and added again by one process, within the burst's 3 ms:
    // the poll it causes finds the address local again and spares it.
    ip("-batch - <<EOF\naddr del 192.0.2.31/32 dev lo\naddr add 192.0.2.31/32 dev lo\nEOF");
    it::sleep_ms(200);
    CHECK(state_of(kept.client) == "alive");
    CHECK(state_of(doomed.client) == "alive");
    ip("addr del 192.0.2.30/32 dev lo");
    std::string fate;
    for (int i = 0; i < 100 && (fate = state_of(doomed.client)) == "alive"; ++i) it::sleep_ms(20);
    CHECK(fate == it::killed());  // without -i: only the event can have woken it
    CHECK(state_of(kept.client) == "alive");
    CHECK(state_of(kept.server) == "alive");
    kill(pid, SIGTERM);
    CHECK(it::wait_tool(pid, 5000) == 0);
    const std::string log = it::read_file(dir + ".err");
    INFO("log: " << log);
    CHECK(count(log, "address 192.0.2.31 removed: polling now") == 1);
    CHECK(count(log, "address 192.0.2.30 removed: polling now") == 1);
    CHECK(count(log, "destroyed 192.0.2.30:") == 1);
    CHECK(count(log, "stopping on signal") == 1);
    it::close_all({doomed, kept});
    close(l);
    ip("addr del 192.0.2.31/32 dev lo");
}

namespace {

// A connection from 192.0.2.40, whose address is then removed.
struct Orphan {
    int listener;
    Conn conn;
    Orphan() {
        ip("addr add 192.0.2.40/32 dev lo");
        ip("addr add 192.0.2.41/32 dev lo");
        listener = it::listen_on(AF_INET, "192.0.2.41", 7821);
        conn = connect_bound(listener, AF_INET, "192.0.2.40", "192.0.2.41", 7821);
        ip("addr del 192.0.2.40/32 dev lo");
    }
    ~Orphan() {
        it::close_all({conn});
        close(listener);
        std::system("ip addr del 192.0.2.41/32 dev lo");
    }
};

}  // namespace

TEST_CASE("--src-removed is refused on a kernel that does not report transparent sockets, unless --src bounds it",
          "[src_removed]") {
    if (it::proc_net()) return;
    Orphan o;
    // setarch --uname-2.6: uname says 2.6.x, a kernel before 5.10.
    struct utsname u;
    REQUIRE(uname(&u) == 0);
    const std::vector<std::string> old = {"setarch", u.machine, "--uname-2.6"};
    it::RunResult r = it::run_tool_wrapped(old, {"--src-removed", kNoSyslog});
    INFO("refused: " << r.err);
    CHECK(r.status != 0);
    CHECK(r.err.find("--src-removed needs Linux 5.10 or later") != std::string::npos);
    CHECK(r.err.find("2.6.") != std::string::npos);  // the release it saw
    CHECK(r.err.find("or --src to bound it") != std::string::npos);
    CHECK(r.err.find("destroyed") == std::string::npos);
    CHECK(state_of(o.conn.client) == "alive");
    // Bounded by --src, the same kernel may judge it.
    it::RunResult bounded = it::run_tool_wrapped(old, {"--src-removed", "--src", "192.0.2.40", kNoSyslog});
    INFO("bounded: " << bounded.err);
    CHECK(bounded.status == 0);
    CHECK(count(bounded.err, "destroyed 192.0.2.40:") == 1);
    CHECK(state_of(o.conn.client) == it::killed());
}

TEST_CASE("--src-removed: a route dump that fails ends nothing", "[src_removed]") {
    if (it::proc_net()) return;
    Orphan o;
    const std::vector<std::string> refusing = {"build/old_kernel", "--route-dumps-refused"};
    it::RunResult r = it::run_tool_wrapped(refusing, {"--src-removed", kNoSyslog});
    INFO("one-shot: " << r.err);
    CHECK(r.status != 0);
    CHECK(r.err.find("route dump refused") != std::string::npos);
    CHECK(r.err.find("destroyed") == std::string::npos);
    CHECK(state_of(o.conn.client) == "alive");
    // A daemon rides the failure out poll after poll, and still ends nothing.
    const std::string dir = "/tmp/tc_route_refused";
    const int pid = it::spawn_command({"build/old_kernel", "--route-dumps-refused", it::tool_binary(),
                                       "--src-removed", "-i", "0.1", kNoSyslog},
                                      dir + ".out", dir + ".err");
    it::sleep_ms(500);
    CHECK(state_of(o.conn.client) == "alive");
    kill(pid, SIGTERM);
    CHECK(it::wait_tool(pid, 5000) >= 0);
    const std::string log = it::read_file(dir + ".err");
    INFO("daemon: " << log);
    CHECK(count(log, "route dump refused") >= 2);
    CHECK(log.find("destroyed") == std::string::npos);
    // The same run without the refusals ends it: the case was live.
    it::RunResult ok = it::run_tool({"--src-removed", kNoSyslog});
    CHECK(count(ok.err, "destroyed 192.0.2.40:") == 1);
}

// systemd-networkd deletes and adds an address again within milliseconds on
// a DHCP renewal: a poll that falls in the gap (from --watch or -i) must not
// end the connections of an address that never went away. The grace (100 ms
// by default) outlasts the 20 ms gap, a hundred times over (each flap 130 ms
// after the last: the second route dump sees the address back).
TEST_CASE("--src-removed --watch: an address deleted and added again 20 ms later keeps its connections",
          "[src_removed]") {
    if (it::proc_net()) return;  // (the /proc/net tables cannot tell transparent sockets)
    ip("addr add 192.0.2.50/32 dev lo");
    ip("addr add 192.0.2.51/32 dev lo");
    const int l = it::listen_on(AF_INET, "192.0.2.51", 7831);
    const Conn c = connect_bound(l, AF_INET, "192.0.2.50", "192.0.2.51", 7831);
    const std::string dir = "/tmp/tc_flap";
    int pid = it::spawn_tool({"--src-removed", "--watch", "-i", "0.05", kNoSyslog}, dir + ".out", dir + ".err");
    it::sleep_ms(200);
    for (int i = 0; i < 100; ++i) {
        ip("addr del 192.0.2.50/32 dev lo");
        it::sleep_ms(20);
        ip("addr add 192.0.2.50/32 dev lo");
        it::sleep_ms(130);
    }
    it::sleep_ms(300);
    CHECK(state_of(c.client) == "alive");
    CHECK(state_of(c.server) == "alive");
    kill(pid, SIGTERM);
    CHECK(it::wait_tool(pid, 5000) == 0);
    const std::string log = it::read_file(dir + ".err");
    INFO("log: " << log.substr(0, 2000));
    CHECK(count(log, "address 192.0.2.50") >= 50);  // the events did wake it
    CHECK(count(log, "destroyed ") == 0);
    it::close_all({c});
    close(l);
    ip("addr del 192.0.2.50/32 dev lo");
    ip("addr del 192.0.2.51/32 dev lo");
}

// An AnyIP prefix (a local route, no address) taken away: --watch hears the
// route's removal and the connections on it end.
TEST_CASE("--src-removed --watch: a removed AnyIP route wakes the daemon", "[src_removed]") {
    if (it::proc_net()) return;
    ip("route add local 198.51.100.0/24 dev lo");
    ip("addr add 192.0.2.61/32 dev lo");
    const int l = it::listen_on(AF_INET, "192.0.2.61", 7841);
    const Conn c = connect_bound(l, AF_INET, "198.51.100.7", "192.0.2.61", 7841);
    const std::string dir = "/tmp/tc_anyip";
    int pid = it::spawn_tool({"--src-removed", "--watch", "--removed-grace", "0", kNoSyslog}, dir + ".out",
                             dir + ".err");
    it::sleep_ms(300);
    CHECK(state_of(c.client) == "alive");
    ip("route del local 198.51.100.0/24 dev lo");
    std::string fate;
    for (int i = 0; i < 100 && (fate = state_of(c.client)) == "alive"; ++i) it::sleep_ms(20);
    CHECK(fate == it::killed());  // without -i: only the route event can have woken it
    kill(pid, SIGTERM);
    CHECK(it::wait_tool(pid, 5000) == 0);
    const std::string log = it::read_file(dir + ".err");
    INFO("log: " << log);
    CHECK(count(log, "198.51.100.0/24 removed: polling now") == 1);
    CHECK(count(log, "destroyed 198.51.100.7:") == 1);
    it::close_all({c});
    close(l);
    ip("addr del 192.0.2.61/32 dev lo");
}

// IPv6 addresses are heard too (RTMGRP_IPV6_IFADDR): a daemon without -i
// wakes on the removal alone.
TEST_CASE("--src-removed --watch: an IPv6 address removed wakes a daemon without -i", "[src_removed]") {
    if (it::proc_net()) return;
    ip("-6 addr add 2001:db8::70/128 dev lo nodad");
    ip("-6 addr add 2001:db8::71/128 dev lo nodad");
    const int l = it::listen_on(AF_INET6, "2001:db8::71", 7851);
    const Conn c = connect_bound(l, AF_INET6, "2001:db8::70", "2001:db8::71", 7851);
    const std::string dir = "/tmp/tc_watch6";
    int pid = it::spawn_tool({"--src-removed", "--watch", "-6", "--removed-grace", "0", kNoSyslog}, dir + ".out",
                             dir + ".err");
    it::sleep_ms(300);
    CHECK(state_of(c.client) == "alive");
    ip("-6 addr del 2001:db8::70/128 dev lo");
    std::string fate;
    for (int i = 0; i < 100 && (fate = state_of(c.client)) == "alive"; ++i) it::sleep_ms(20);
    CHECK(fate == it::killed());
    kill(pid, SIGTERM);
    CHECK(it::wait_tool(pid, 5000) == 0);
    const std::string log = it::read_file(dir + ".err");
    INFO("log: " << log);
    CHECK(count(log, "address 2001:db8::70 removed") == 1);
    it::close_all({c});
    close(l);
    ip("-6 addr del 2001:db8::71/128 dev lo");
}

// The README's example once lacked -6: an IPv6 address removed under a
// daemon that selects IPv4 only ended nothing, and nothing said why.
TEST_CASE("--src-removed --watch without -6: a removed IPv6 address says once that IPv6 is not selected",
          "[src_removed]") {
    if (it::proc_net()) return;
    ip("-6 addr add 2001:db8::72/128 dev lo nodad");
    ip("-6 addr add 2001:db8::73/128 dev lo nodad");
    ip("-6 addr add 2001:db8::74/128 dev lo nodad");
    const int l = it::listen_on(AF_INET6, "2001:db8::73", 7852);
    const Conn c = connect_bound(l, AF_INET6, "2001:db8::72", "2001:db8::73", 7852);
    const std::string dir = "/tmp/tc_watch6_not";
    int pid = it::spawn_tool({"--src-removed", "--watch", "--removed-grace", "0", kNoSyslog}, dir + ".out",
                             dir + ".err");
    it::sleep_ms(300);
    ip("-6 addr del 2001:db8::72/128 dev lo");
    it::sleep_ms(300);
    ip("-6 addr del 2001:db8::74/128 dev lo");
    it::sleep_ms(300);
    CHECK(state_of(c.client) == "alive");  // not selected: spared, as documented
    kill(pid, SIGTERM);
    CHECK(it::wait_tool(pid, 5000) == 0);
    const std::string log = it::read_file(dir + ".err");
    INFO("log: " << log);
    CHECK(count(log, "address 2001:db8::72 removed") == 1);
    CHECK(count(log, "IPv6 is not selected: add -6") == 1);  // once, not per removal
    it::close_all({c});
    close(l);
    ip("-6 addr del 2001:db8::73/128 dev lo");
}
