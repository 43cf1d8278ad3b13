// The command line as a user meets it: --help and --version, and every kind
// of bad input (exit 2, one line naming the value, nothing touched). The
// process is already in a private network namespace (netns_main.cpp).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "checks.hpp"
#include "harness.hpp"

using it::connect_n;
using it::count;
using it::expect;

TEST_CASE("help and version go to stdout", "[usage]") {
    it::RunResult h = it::run_tool({"--help"});
    CHECK(h.status == 0);
    CHECK(h.out.find("Usage: tcp_closer") != std::string::npos);
    CHECK(h.err.empty());
    it::RunResult v = it::run_tool({"-V"});
    CHECK(v.status == 0);
    CHECK(v.out.find("tcp_closer ") == 0);
    CHECK(v.out.find("ways to end a connection: ") != std::string::npos);
    CHECK(v.out.find("\nprotocols: tcp, udp (connected sockets only)\n") != std::string::npos);
    CHECK(v.out.find("reset, shutdown, kill") != std::string::npos);
    if (it::mode() == it::Mode::NoSockDestroy) {
        CHECK(v.out.find("sock_destroy") == std::string::npos);
        CHECK(v.out.find("built without SOCK_DESTROY") != std::string::npos);
    } else {
        CHECK(v.out.find("sock_destroy, ") != std::string::npos);
    }
}

TEST_CASE("-h anywhere on the line shows the help, even beside a mistake", "[usage]") {
    for (const std::vector<std::string>& args : {std::vector<std::string>{"-h", "-s", "0"}, {"-s", "0", "--help"}}) {
        it::RunResult h = it::run_tool(args);
        CHECK(h.status == 0);
        CHECK(h.out.find("Usage: tcp_closer") == 0);
        CHECK(h.err.empty());
    }
}

TEST_CASE("bad input: message naming the value, exit 2, nothing touched", "[usage]") {
    // Every option with a bad value, a missing value, a value it does not
    // take, and the combinations that are refused. `names` is what the one
    // message line must contain: the value in quotes, or for an empty value
    // or a combination, the thing that is wrong.
    int l = it::listen_on(AF_INET, "127.0.0.1", 7101);
    auto conns = connect_n(2, l, AF_INET, "127.0.0.1", 7101);
    const int udp_client = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(7101);
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t peer_len = sizeof peer;
    REQUIRE(connect(udp_client, reinterpret_cast<sockaddr*>(&peer), sizeof peer) == 0);
    struct Case {
        std::vector<std::string> args;
        std::string names;
    };
    const std::vector<Case> bad = {
        // selection required
        {{}, "at least one port"},
        {{"--state", "all"}, "at least one port"},
        // -s / --sport, -d / --dport
        {{"-s", "0"}, "'0'"}, {{"-s", "65536"}, "'65536'"}, {{"-s", "abc"}, "'abc'"}, {{"-s", "7101x"}, "'7101x'"},
        {{"-s", ""}, "empty port list"}, {{"-s", "7200-7101"}, "'7200-7101'"}, {{"-s", "7101,,7102"}, "'7101,,7102'"},
        {{"--sport", "-1"}, "'-1'"}, {{"-s"}, "'-s'"}, {{"--sport"}, "'--sport'"},
        {{"-d", "0"}, "'0'"}, {{"--dport", "70000"}, "'70000'"}, {{"--dport"}, "'--dport'"},
        // --src / --dst
        {{"--dst", "10.0.0.0/33"}, "'10.0.0.0/33'"}, {{"--dst", "1.2.3"}, "'1.2.3'"}, {{"--src", "::g"}, "'::g'"},
        {{"--src", ""}, "empty address"}, {{"--src", "10.0.0.0/8/8"}, "'10.0.0.0/8/8'"}, {{"--dst"}, "'--dst'"},
        // --state
        {{"-s", "7101", "--state", "bogus"}, "'bogus'"}, {{"-s", "7101", "--state", "listening"}, "'listening'"},
        {{"-s", "7101", "--state", "established,"}, "'established,'"}, {{"-s", "7101", "--state"}, "'--state'"},
        // -t / --idle_time, --last_recv_limit
        {{"-s", "7101", "-t", "-5"}, "'-5'"}, {{"-s", "7101", "-t", "99999999999"}, "'99999999999'"},
        {{"-s", "7101", "--idle_time", "1.5"}, "'1.5'"}, {{"-s", "7101", "-t"}, "'-t'"},
        {{"-s", "7101", "--last_recv_limit", "abc"}, "'abc'"},
        {{"-s", "7101", "-t", "1000", "--last_recv_limit", "500"}, "--last_recv_limit must be greater"},
        // -i / --interval
        {{"-s", "7101", "-i", "0"}, "'0'"}, {{"-s", "7101", "-i", "1x"}, "'1x'"},
        {{"-s", "7101", "-i", "0.0000001"}, "'0.0000001'"}, {{"-s", "7101", "--interval", "31536001"}, "'31536001'"},
        {{"-s", "7101", "-i"}, "'-i'"},
        // -f / --logfile, -N / --netns, --all-netns
        {{"-s", "7101", "-f", ""}, "empty log file name"}, {{"-s", "7101", "--logfile"}, "'--logfile'"},
        {{"-s", "7101", "--netns", ""}, "empty network namespace name"}, {{"-s", "7101", "-N"}, "'-N'"},
        {{"-s", "7101", "-N", "x", "--all-netns"}, "exclude each other"},
        {{"-s", "7101", "--all-netns=1"}, "'--all-netns=1'"},
        // --max-kills
        {{"-s", "7101", "--max-kills", "-1"}, "'-1'"}, {{"-s", "7101", "--max-kills", "0"}, "'0'"},
        {{"-s", "7101", "--max-kills", "abc"}, "'abc'"}, {{"-s", "7101", "--max_kills", "4294967296"}, "'4294967296'"},
        // --uid, --mark, --dev, --cgroup, --pid, --comm (names that exist or not: test_owner.cpp)
        {{"--mark", "0x1/0x"}, "'0x1/0x'"}, {{"--mark", "-1"}, "'-1'"}, {{"--mark", "0x3/0x1"}, "'0x3/0x1'"},
        {{"--mark"}, "'--mark'"}, {{"--pid", "0"}, "'0'"}, {{"--pid", "abc"}, "'abc'"},
        {{"--comm", ""}, "empty command name"}, {{"--comm", "sixteen-chars-xx"}, "'sixteen-chars-xx'"},
        {{"--uid", ""}, "empty user"}, {{"--dev", ""}, "empty interface name"},
        {{"--cgroup", ""}, "empty cgroup path"}, {{"--dev", "lo", "--all-netns"}, "exclude each other"},
        // flags given a value, unknown options
        {{"-s", "7101", "-4=1"}, "'-4=1'"}, {{"-s", "7101", "-6=yes"}, "'-6=yes'"},
        {{"-s", "7101", "--dry-run=x"}, "'--dry-run=x'"}, {{"-s", "7101", "-j=1"}, "'-j=1'"},
        {{"-s", "7101", "--json=1"}, "'--json=1'"}, {{"-s", "7101", "-vx"}, "'-vx'"},
        {{"-s", "7101", "--use_proc=1"}, "'--use_proc=1'"}, {{"-s", "7101", "--kill-owner=yes"}, "'--kill-owner=yes'"},
        {{"-s", "7101", "--disable_syslog=no"}, "'--disable_syslog=no'"}, {{"-s", "7101", "-V=1"}, "'-V=1'"},
        {{"-s", "7101", "--help=1"}, "'--help=1'"}, {{"-s", "7101", "--nope"}, "'--nope'"},
        // -u / --udp, --tcp
        {{"-u"}, "at least one port"}, {{"-u", "-s", "7101", "-t", "1000"}, "need tcp_info"},
        {{"--udp", "-s", "7101", "--last_recv_limit", "1000"}, "need tcp_info"},
        {{"--tcp", "-u", "-s", "7101", "-t", "5"}, "run UDP separately"},
        {{"-u", "-s", "7101", "--state", "all"}, "-u alone --state can only be established"},
        {{"-u", "-s", "7101", "--state", "established,close-wait"}, "-u alone --state can only be established"},
        {{"--tcp", "-u", "-s", "7101", "--state", "time-wait"}, "selects no UDP socket"},
        {{"-s", "7101", "--udp=1"}, "'--udp=1'"}, {{"-s", "7101", "--tcp=yes"}, "'--tcp=yes'"},
        {{"--src-removed=yes"}, "'--src-removed=yes'"},
        {{"--src-removed", "--watch", "--all-netns"}, "--watch does not work with --all-netns"},
        {{"--src-removed", "--watch=1"}, "'--watch=1'"},
        // --exclude-*: never a selection on their own; values as the positive forms
        {{"--exclude-dport", "7101"}, "only narrows a selection"},
        {{"--exclude-comm", "sshd", "--exclude-uid", "0"}, "only narrows a selection"},
        {{"-s", "7101", "--exclude-sport", "0"}, "'0'"}, {{"-s", "7101", "--exclude-dst", "10.0.0.0/33"}, "'10.0.0.0/33'"},
        {{"-s", "7101", "--exclude-src"}, "'--exclude-src'"}, {{"-s", "7101", "--exclude-comm", ""}, "empty command name"},
        {{"-s", "7101", "--exclude-uid", ""}, "empty user"},
        // selections that can never match; values that hold one value, given twice
        {{"-s", "7101", "--exclude-sport", "7101"}, "--exclude-sport excludes every port of --sport"},
        {{"--dst", "127.0.0.0/8", "--exclude-dst", "127.0.0.0/8"}, "--exclude-dst excludes every address of --dst"},
        {{"-s", "7101", "-t", "5", "-t", "6"}, "given twice"}, {{"-s", "7101", "-t", "5", "-t", "6"}, "'-t'"},
        {{"--uid", "99999999999"}, "not a user id"},
        {{"-s", "7101", "--state", "established,"}, "empty element in state list"},
    };
    for (const Case& c : bad) {
        it::RunResult r = it::run_tool(c.args);
        std::string joined;
        for (const auto& a : c.args) joined += a + " ";
        INFO("args: " << joined << "\nstderr: " << r.err);
        CHECK(r.status == 2);
        CHECK(r.out.empty());
        CHECK(r.err.find("tcp_closer: ") == 0);
        CHECK(r.err.find("--help") != std::string::npos);
        CHECK(count(r.err, "\n") == 2);  // one message line plus the hint
        CHECK(r.err.substr(0, r.err.find('\n')).find(c.names) != std::string::npos);
    }
    expect(conns, "alive", "alive");
    it::close_all(conns);
    close(l);
    // A connected UDP socket on that port is still connected too.
    CHECK(getpeername(udp_client, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0);
    close(udp_client);
}
