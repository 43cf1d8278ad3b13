// Selection by address and state, --dry-run, --json and --max-kills against
// real connections, in every mode of the suite. Extra loopback addresses
// (127.0.0.0/8 is all local; IPv6 ones are added to this namespace's lo).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "checks.hpp"
#include "harness.hpp"
#include "json_check.hpp"

using it::Conn;
using it::count;
using it::expect;
using it::state_of;
using it::summary;

namespace {

const std::string kNoSyslog = "--disable_syslog";

// "A -> B" of every line of `text` that starts (after the timestamp, if
// any) with `word`.
std::multiset<std::string> endpoints(const std::string& text, const std::string& word) {
    std::multiset<std::string> out;
    for (const std::string& line : it::lines_with(text, word + " ")) {
        size_t at = line.find(word + " ");
        size_t end = line.find(" state=", at);
        if (at != std::string::npos && end != std::string::npos)
            out.insert(line.substr(at + word.size() + 1, end - at - word.size() - 1));
    }
    return out;
}

}  // namespace

TEST_CASE("--src and --dst kill exactly the addresses they name", "[select]") {
    it::add_lo_address("2001:db8::1");
    it::add_lo_address("2001:db8::2");
    it::add_lo_address("2001:db8:1::1");
    int a = it::listen_on(AF_INET, "127.0.0.2", 7301);
    int b = it::listen_on(AF_INET, "127.0.0.3", 7301);
    int dual = it::listen_on(AF_INET6, "::", 7302, false);
    int v6 = it::listen_on(AF_INET6, "2001:db8::1", 7303);
    // Server ends: local 127.0.0.2 or .3; remote (the client) 127.0.0.5 or .6.
    Conn a5 = it::connect_from(a, AF_INET, "127.0.0.5", "127.0.0.2", 7301);
    Conn a6 = it::connect_from(a, AF_INET, "127.0.0.6", "127.0.0.2", 7301);
    Conn b5 = it::connect_from(b, AF_INET, "127.0.0.5", "127.0.0.3", 7301);
    Conn b6 = it::connect_from(b, AF_INET, "127.0.0.6", "127.0.0.3", 7301);
    Conn mapped = it::connect_from(dual, AF_INET, "127.0.0.5", "127.0.0.2", 7302);  // ::ffff:127.0.0.2 on [::]
    Conn native = it::connect_from(v6, AF_INET6, "2001:db8::2", "2001:db8::1", 7303);
    Conn native_other = it::connect_from(v6, AF_INET6, "2001:db8:1::1", "2001:db8::1", 7303);
    const char* dead = it::killed();

    SECTION("--src 127.0.0.2: its server ends, also on a dual-stack socket") {
        it::RunResult r = it::run_tool({"--src", "127.0.0.2", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(summary(3, 3)) != std::string::npos);
        CHECK(count(r.err, "destroyed [::ffff:127.0.0.2]:7302 -> [::ffff:127.0.0.5]:") == 1);
        expect({a5, a6, mapped}, dead, "reset");
        expect({b5, b6, native, native_other}, "alive", "alive");
    }
    SECTION("--dst 127.0.0.6/32 and -s 7301: server ends whose peer is .6") {
        it::RunResult r = it::run_tool({"--dst", "127.0.0.6/32", "-s", "7301", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(summary(2, 2)) != std::string::npos);
        expect({a6, b6}, dead, "reset");
        expect({a5, b5, mapped, native, native_other}, "alive", "alive");
    }
    SECTION("two --src OR-ed, AND-ed with --dst; a non-canonical prefix") {
        it::RunResult r = it::run_tool({"--src", "127.0.0.3", "--src", "127.0.0.2/32", "--dst", "127.0.0.5/30",
                                        "-d", "1-65535", kNoSyslog});
        // 127.0.0.5/30 means 127.0.0.4/30: .5 and .6 both inside. Client ends
        // (local .5/.6) are out by --src; the server ends all match.
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(summary(5, 5)) != std::string::npos);
        expect({a5, a6, b5, b6, mapped}, dead, "reset");
        expect({native, native_other}, "alive", "alive");
    }
    SECTION("IPv6 prefixes select IPv6 without -6") {
        it::RunResult r = it::run_tool({"--dst", "2001:db8::/48", "--src", "2001:db8::1", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(summary(1, 1)) != std::string::npos);
        expect({native}, dead, "reset");
        expect({native_other, a5, a6, b5, b6, mapped}, "alive", "alive");
    }
    it::close_all({a5, a6, b5, b6, mapped, native, native_other});
    for (int l : {a, b, dual, v6}) close(l);
}

TEST_CASE("--state close-wait kills half-closed connections only", "[select]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7311);
    auto open_conns = it::connect_n(2, l, AF_INET, "127.0.0.1", 7311);
    Conn half = it::connect_pair(l, AF_INET, "127.0.0.1", 7311);
    REQUIRE(shutdown(half.client, SHUT_WR) == 0);  // server end -> CLOSE_WAIT, client end -> FIN_WAIT2
    it::sleep_ms(50);
    it::RunResult r = it::run_tool({"--state", "close-wait", "-s", "7311", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find(summary(1, 1)) != std::string::npos);
    CHECK(count(r.err, "state=CLOSE_WAIT") == 1);
    CHECK(state_of(half.server) == it::killed());
    CHECK(state_of(half.client) == "reset");
    expect(open_conns, "alive", "alive");
    it::close_all(open_conns);
    it::close_all({half});
    close(l);
}

TEST_CASE("--dry-run kills nothing and lists exactly what a real run then kills", "[select]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7321);
    int other = it::listen_on(AF_INET, "127.0.0.1", 7322);
    auto hit = it::connect_n(3, l, AF_INET, "127.0.0.1", 7321);
    auto spared = it::connect_n(2, other, AF_INET, "127.0.0.1", 7322);

    it::RunResult dry = it::run_tool({"-n", "-s", "7321", kNoSyslog});
    INFO("dry stdout: " << dry.out << "\ndry stderr: " << dry.err);
    CHECK(dry.status == 0);
    CHECK(count(dry.out, "would_destroy 127.0.0.1:7321 -> ") == 3);
    CHECK(count(dry.out, "\n") == 3);  // the list only
    CHECK(dry.err.find("poll (dry run): matched=3 would_destroy=3 skipped=0") != std::string::npos);
    CHECK(count(dry.err, "would_destroy 127.0.0.1") == 0);  // the list is not in the log
    expect(hit, "alive", "alive");

    // Unprivileged: a dump needs no capability, so neither does a dry run.
    it::RunResult unpriv = it::run_tool_unprivileged({"--dry-run", "-s", "7321", kNoSyslog});
    INFO("unprivileged stderr: " << unpriv.err);
    CHECK(unpriv.status == 0);
    CHECK(endpoints(unpriv.out, "would_destroy") == endpoints(dry.out, "would_destroy"));
    expect(hit, "alive", "alive");

    it::RunResult real = it::run_tool({"-s", "7321", kNoSyslog});
    INFO("real stderr: " << real.err);
    CHECK(real.status == 0);
    CHECK(endpoints(real.err, "destroyed") == endpoints(dry.out, "would_destroy"));
    CHECK(endpoints(real.err, "destroyed").size() == 3);
    expect(hit, it::killed(), "reset");
    expect(spared, "alive", "alive");
    it::close_all(hit);
    it::close_all(spared);
    close(l);
    close(other);
}

TEST_CASE("--json: every line parses, and its counts are what died", "[select]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7331);
    auto hit = it::connect_n(4, l, AF_INET, "127.0.0.1", 7331);
    auto parse_lines = [](const std::string& out, std::vector<testutil::JsonObject>& conns, testutil::JsonObject& sum) {
        for (const std::string& line : it::lines_with(out, "{")) {
            testutil::JsonObject o;
            INFO("line: " << line);
            REQUIRE(testutil::parse_json_object(line, o));
            if (o["type"] == "summary") sum = o;
            else conns.push_back(o);
        }
        CHECK(count(out, "\n") == static_cast<int>(conns.size()) + 1);
    };

    it::RunResult dry = it::run_tool({"-n", "-j", "-s", "7331", kNoSyslog});
    INFO("dry: " << dry.out);
    std::vector<testutil::JsonObject> would;
    testutil::JsonObject dry_sum;
    parse_lines(dry.out, would, dry_sum);
    CHECK(would.size() == 4);
    for (auto& o : would) CHECK(o["outcome"] == "would_destroy");
    CHECK(dry_sum["dry_run"] == "true");
    CHECK(dry_sum["would_destroy"] == "4");
    expect(hit, "alive", "alive");
    std::printf("example --dry-run --json line: %s\n", it::lines_with(dry.out, "\"connection\"").at(0).c_str());

    it::RunResult r = it::run_tool({"--json", "-s", "7331", kNoSyslog});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.status == 0);
    std::vector<testutil::JsonObject> conns;
    testutil::JsonObject sum;
    parse_lines(r.out, conns, sum);
    REQUIRE(conns.size() == 4);
    std::set<std::string> cookies;
    for (auto& o : conns) {
        CHECK(o["outcome"] == "destroyed");
        CHECK(o["by"] == (it::proc_path() ? "reset" : "sock_destroy"));
        CHECK(o["family"] == "ipv4");
        CHECK(o["state"] == "established");
        CHECK(o["src"] == "127.0.0.1");
        CHECK(o["sport"] == "7331");
        CHECK(o["last_recv_ms"] == "null");
        cookies.insert(o["cookie"]);
    }
    CHECK(cookies.size() == 4);
    CHECK(sum["type"] == "summary");
    CHECK(sum["destroyed"] == "4");
    CHECK(sum["matched"] == "4");
    CHECK(sum["failed"] == "0");
    expect(hit, it::killed(), "reset");  // and these four are what died
    CHECK(r.err.find(summary(4, 4)) != std::string::npos);  // the text log is unchanged
    std::printf("example summary object: %s\n", it::lines_with(r.out, "\"summary\"").at(0).c_str());
    it::close_all(hit);
    close(l);
}

TEST_CASE("--max-kills 5 on 20 matches kills exactly 5", "[select]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7341);
    auto conns = it::connect_n(20, l, AF_INET, "127.0.0.1", 7341);
    it::RunResult r = it::run_tool({"--max-kills", "5", "-s", "7341", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find(summary(20, 5, 0, 0, 15)) != std::string::npos);
    CHECK(count(r.err, "skipped 127.0.0.1:7341") == 15);
    int dead = 0, alive = 0;
    for (const Conn& c : conns) {
        std::string st = state_of(c.server);
        dead += st == it::killed();
        alive += st == "alive";
    }
    CHECK(dead == 5);
    CHECK(alive == 15);
    it::close_all(conns);
    close(l);
}

TEST_CASE("--state time-wait: destroyed where the kernel can, said so where it cannot", "[select]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7351);
    Conn c = it::connect_pair(l, AF_INET, "127.0.0.1", 7351);
    Conn live = it::connect_pair(l, AF_INET, "127.0.0.1", 7351);
    close(c.client);  // the client closes first: its side ends in TIME_WAIT
    it::sleep_ms(50);
    close(c.server);
    it::sleep_ms(50);
    it::RunResult r = it::run_tool({"--state", "time-wait", "-d", "7351", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(count(r.err, "state=TIME_WAIT") == 1);
    if (it::proc_path()) {
        CHECK(r.status == 0);  // a TIME_WAIT socket belongs to no process
        CHECK(r.err.find("no_owner=1") != std::string::npos);
    } else if (r.err.find("destroyed=1") == std::string::npos) {
        // Before Linux 6.0 SOCK_DESTROY refuses TIME_WAIT: the line says so.
        CHECK(r.status == 1);
        CHECK(r.err.find("cannot destroy TIME_WAIT") != std::string::npos);
    } else {
        CHECK(r.status == 0);
    }
    expect({live}, "alive", "alive");  // ESTABLISHED on the same port: not selected
    it::close_all({live});
    close(l);
}

TEST_CASE("connections between two different addresses are ended, IPv4 and IPv6, both ends", "[select][core]") {
    // On the /proc path the duplicate taken from the owner must be checked
    // against the dump's local and remote address each: with 127.0.0.1 on
    // both ends a check that mixed them up would pass.
    it::add_lo_address("2001:db8::1");
    it::add_lo_address("2001:db8::2");
    int l4 = it::listen_on(AF_INET, "127.0.0.2", 7081);
    int l6 = it::listen_on(AF_INET6, "2001:db8::1", 7081);
    std::vector<Conn> v4 = {it::connect_from(l4, AF_INET, "127.0.0.3", "127.0.0.2", 7081)};
    std::vector<Conn> v6 = {it::connect_from(l6, AF_INET6, "2001:db8::2", "2001:db8::1", 7081)};
    // The client ends (local .3 / ::2, remote port 7081).
    it::RunResult r = it::run_tool({"-4", "-6", "-d", "7081", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find(summary(2, 2)) != std::string::npos);
    CHECK(count(r.err, "destroyed 127.0.0.3:") == 1);
    CHECK(count(r.err, "destroyed [2001:db8::2]:") == 1);
    for (const std::vector<Conn>* set : {&v4, &v6}) {
        CHECK(state_of((*set)[0].client) == it::killed());
        CHECK(state_of((*set)[0].server) == "reset");
    }
    // The server ends (local .2 / ::1, local port 7081).
    std::vector<Conn> s4 = {it::connect_from(l4, AF_INET, "127.0.0.3", "127.0.0.2", 7081)};
    std::vector<Conn> s6 = {it::connect_from(l6, AF_INET6, "2001:db8::2", "2001:db8::1", 7081)};
    r = it::run_tool({"-4", "-6", "-s", "7081", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find(summary(2, 2)) != std::string::npos);
    for (const std::vector<Conn>* set : {&s4, &s6}) {
        CHECK(state_of((*set)[0].server) == it::killed());
        CHECK(state_of((*set)[0].client) == "reset");
    }
    it::close_all(v4);
    it::close_all(v6);
    it::close_all(s4);
    it::close_all(s6);
    close(l4);
    close(l6);
}

// ss prints an IPv4 connection on a dual-stack socket as [::ffff:127.0.0.1];
// pasted into a selector or an exclusion, that spelling means the IPv4
// address (and ::ffff:0:0/96 and longer, the IPv4 prefix), which matches the
// native IPv4 end and the v4-mapped end alike.
TEST_CASE("v4-mapped spellings in every address selector and exclusion mean IPv4", "[select][core]") {
    const int port = 7061;
    int l = it::listen_on(AF_INET6, "::", port, false);  // dual-stack: its accepted ends are v4-mapped
    Conn c = it::connect_pair(l, AF_INET, "127.0.0.1", port);
    const std::string p = std::to_string(port);
    struct Case {
        std::vector<std::string> args;
        size_t matches;
    };
    const std::vector<Case> cases = {
        {{"--dst", "::ffff:127.0.0.1", "-d", p}, 1},               // the native IPv4 client end
        {{"--src", "::ffff:127.0.0.1", "-s", p}, 1},               // the v4-mapped server end
        {{"--dst", "::ffff:127.0.0.0/120", "-d", p}, 1},
        {{"--src", "::ffff:0:0/96", "-s", p}, 1},
        {{"-s", p, "--exclude-src", "::ffff:127.0.0.1"}, 0},
        {{"-d", p, "--exclude-dst", "::ffff:127.0.0.1"}, 0},
        {{"-s", p, "--exclude-dst", "::ffff:127.0.0.0/104"}, 0},
    };
    for (const Case& k : cases) {
        std::vector<std::string> args = {"-n", kNoSyslog};
        args.insert(args.end(), k.args.begin(), k.args.end());
        it::RunResult r = it::run_tool(args);
        INFO(k.args[0] << " " << k.args[1] << "\n" << r.out << r.err);
        CHECK(r.status == 0);
        CHECK(count(r.out, "would_destroy") == static_cast<int>(k.matches));
    }
    expect({c}, "alive", "alive");
    close(c.client);
    close(c.server);
    close(l);
}

// A pipeline reading stdout needs a heartbeat: a daemon's JSON has a
// summary every poll, also one that matched nothing, while its text log
// stays quiet on such polls.
TEST_CASE("--json: a daemon writes a summary object every poll, also when nothing matched", "[select]") {
    it::TmpDir d("json");
    int pid = it::spawn_tool({"-j", "-s", "7339", "-i", "0.05", kNoSyslog}, d / "out", d / "err");
    it::sleep_ms(400);
    kill(pid, SIGTERM);
    CHECK(it::wait_tool(pid, 3000) == 0);
    const std::string out = it::read_file(d / "out"), log = it::read_file(d / "err");
    INFO("stdout: " << out << "\nlog: " << log);
    const auto sums = it::lines_with(out, "\"type\":\"summary\"");
    CHECK(sums.size() >= 3);
    CHECK(sums.size() == it::lines_with(out, "{").size());  // nothing else
    for (const std::string& line : sums) {
        testutil::JsonObject o;
        REQUIRE(testutil::parse_json_object(line, o));
        CHECK(o["matched"] == "0");
    }
    CHECK(count(log, "poll:") == 0);
    // And with -n: stdout carries JSON only, the would_destroy lines none.
    const int l = it::listen_on(AF_INET, "127.0.0.1", 7339);
    auto conns = it::connect_n(1, l, AF_INET, "127.0.0.1", 7339);
    it::RunResult dry = it::run_tool({"-n", "-j", "-s", "7339", kNoSyslog});
    CHECK(dry.out.find("would_destroy 127.0.0.1") == std::string::npos);
    CHECK(it::lines_with(dry.out, "{").size() == 2);
    CHECK(it::lines_with(dry.err, "poll (dry run): matched=1").size() == 1);
    it::close_all(conns);
    close(l);
}
