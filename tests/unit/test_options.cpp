// What the parser takes: each option's values, the defaults, and the
// kinds of selector (refusals: test_options_refused.cpp).
#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <vector>

#include "core/options.hpp"
#include "parse_helpers.hpp"
#include "usage_text.hpp"

using namespace tc;

TEST_CASE("defaults: IPv4, established, poll once, syslog on", "[options]") {
    Options o = ok({"-s", "22"});
    CHECK(o.sel.ipv4);
    CHECK_FALSE(o.sel.ipv6);
    CHECK(o.sel.states == (1u << 1));
    CHECK(o.sel.sports.contains(22));
    CHECK(o.sel.dports.empty());
    CHECK(o.sel.idle_min_ms == 0);
    CHECK(o.sel.last_recv_limit_ms == 0);
    CHECK_FALSE(o.sel.needs_tcp_info());
    CHECK(o.interval_ns == 0);
    CHECK(o.logfile == nullptr);
    CHECK_FALSE(o.verbose);
    CHECK(o.syslog);
    CHECK_FALSE(o.use_proc);
}

TEST_CASE("-4 / -6 family selection", "[options]") {
    Options v6 = ok({"-6", "-s", "22"});
    CHECK_FALSE(v6.sel.ipv4);
    CHECK(v6.sel.ipv6);
    Options both = ok({"-4", "-6", "-s", "22"});
    CHECK(both.sel.ipv4);
    CHECK(both.sel.ipv6);
    Options clustered = ok({"-46", "-s22"});
    CHECK(clustered.sel.ipv4);
    CHECK(clustered.sel.ipv6);
    Options v4 = ok({"-4", "-s", "22"});
    CHECK(v4.sel.ipv4);
    CHECK_FALSE(v4.sel.ipv6);
}

TEST_CASE("ports: short, long, =, repeated", "[options]") {
    Options o = ok({"-s", "22", "--sport", "80,443", "--sport=7000-7099", "-d", "5000", "--dport=6000-6001",
                    "-d9000"});
    CHECK(o.sel.sports.contains(22));
    CHECK(o.sel.sports.contains(443));
    CHECK(o.sel.sports.contains(7050));
    CHECK_FALSE(o.sel.sports.contains(23));
    CHECK(o.sel.dports.contains(5000));
    CHECK(o.sel.dports.contains(6001));
    CHECK(o.sel.dports.contains(9000));
    Options d_only = ok({"-d", "443"});
    CHECK(d_only.sel.sports.empty());
}

TEST_CASE("idle time and last receive limit, both spellings", "[options]") {
    CHECK(ok({"-s", "22", "-t", "60000"}).sel.idle_min_ms == 60000);
    CHECK(ok({"-s", "22", "--idle_time", "5"}).sel.idle_min_ms == 5);
    CHECK(ok({"-s", "22", "--idle-time=7"}).sel.idle_min_ms == 7);
    CHECK(ok({"-s", "22", "-t", "4294967295"}).sel.idle_min_ms == 4294967295u);
    Options l = ok({"-s", "22", "--last_recv_limit", "1000"});
    CHECK(l.sel.last_recv_limit_ms == 1000);
    CHECK(l.sel.needs_tcp_info());
    CHECK(ok({"-s", "22", "--last-recv-limit=9"}).sel.last_recv_limit_ms == 9);
    CHECK(ok({"-s", "22", "-t", "100", "--last_recv_limit", "101"}).sel.idle_min_ms == 100);
    CHECK(ok({"-s", "22", "-t", "0"}).sel.needs_tcp_info() == false);
}

TEST_CASE("interval in seconds with decimals", "[options]") {
    CHECK(ok({"-s", "22", "-i", "5"}).interval_ns == 5000000000ull);
    CHECK(ok({"-s", "22", "--interval", "0.5"}).interval_ns == 500000000ull);
    CHECK(ok({"-s", "22", "--interval=2.25"}).interval_ns == 2250000000ull);
    CHECK(ok({"-s", "22", "-i", "0.001"}).interval_ns == 1000000ull);
}

TEST_CASE("logfile, verbose, syslog, use_proc, help, version", "[options]") {
    Options o = ok({"-s", "22", "-f", "/tmp/x.log", "-v", "--disable_syslog"});
    CHECK(std::string(o.logfile) == "/tmp/x.log");
    CHECK(o.verbose);
    CHECK_FALSE(o.syslog);
    CHECK(std::string(ok({"-s", "22", "--logfile=/a"}).logfile) == "/a");
    CHECK(ok({"-s", "22", "--verbose"}).verbose);
    CHECK_FALSE(ok({"-s", "22", "--disable-syslog"}).syslog);
    CHECK(ok({"-s", "22", "--use_proc"}).use_proc);
    CHECK(ok({"-s", "22", "--use-proc"}).use_proc);
    CHECK(ok({"-h"}).help);
    CHECK(ok({"--help"}).help);
    CHECK(ok({"-V"}).version);
    CHECK(ok({"--version"}).version);
}

TEST_CASE("addresses, states, dry run, JSON, max kills", "[options]") {
    Options o = ok({"--src", "10.0.0.0/8", "--src=192.0.2.7", "--dst", "198.51.100.0/24", "--state",
                    "established,close-wait", "-n", "-j", "--max-kills", "5"});
    CHECK(o.sel.srcs.size() == 2);
    CHECK(o.sel.dsts.size() == 1);
    CHECK(o.sel.states == (1u << 1 | 1u << 8));
    CHECK(o.dry_run);
    CHECK(o.json);
    CHECK(o.sel.max_per_poll == 5);
    CHECK((o.sel.ipv4 && !o.sel.ipv6));  // IPv4 addresses: the IPv4 default
    CHECK(ok({"--dst", "::1"}).sel.ipv6);  // an address alone is a selection
    Options v6 = ok({"--dst", "2001:db8::/32"});
    CHECK((!v6.sel.ipv4 && v6.sel.ipv6));  // only IPv6 addresses: IPv6, not the IPv4 default
    Options both = ok({"--src", "10.0.0.1", "--dst", "::1"});
    CHECK((both.sel.ipv4 && both.sel.ipv6));
    Options explicit4 = ok({"-4", "-6", "--dst", "::1"});
    CHECK((explicit4.sel.ipv4 && explicit4.sel.ipv6));
    CHECK(ok({"-s", "22", "--dry_run", "--max_kills=7"}).sel.max_per_poll == 7);
    CHECK(ok({"-s", "22", "--dry-run", "--json"}).json);
    CHECK(ok({"-s", "22"}).sel.states == 1u << 1);  // default: established
    CHECK(ok({"-s", "22"}).sel.max_per_poll == 0);     // default: no cap
    CHECK(std::string(ok({"-s", "22", "-N", "blue"}).netns) == "blue");
    CHECK(std::string(ok({"-s", "22", "--netns=/proc/1/ns/net"}).netns) == "/proc/1/ns/net");
    CHECK(ok({"-s", "22", "--all-netns"}).all_netns);
    CHECK(ok({"-s", "22"}).netns == nullptr);
}

TEST_CASE("usage text documents every option", "[options]") {
    const std::string usage = tc_usage();
    for (const char* flag : {"-4", "-6", "--sport", "--dport", "--idle_time", "--last_recv_limit", "--interval",
                             "--logfile", "--verbose", "--use_proc", "--disable_syslog", "--help", "--version",
                             "--src", "--dst", "--state", "--dry-run", "--json", "--max-kills", "--kill_owner", "-n,", "-j,",
                             "-s,", "-d,", "-t,", "-i,", "-f,", "-v,", "-h,", "-V,", "--uid", "--cgroup", "--mark",
                             "--dev", "--pid", "--comm"})
        CHECK(usage.find(flag) != std::string::npos);
}

TEST_CASE("owner selectors: each kind alone is a selection, values accumulate", "[options][owner]") {
    Options o = ok({"--uid", "0", "--uid", "backup", "--mark", "0x10/0xf0", "--mark", "7", "--dev", "lo",
                    "--cgroup", "/system.slice/x.service", "--pid", "4242", "--comm", "sshd"});
    const OwnerSel& w = o.sel.owner;
    REQUIRE(w.n_uid == 2);
    CHECK(w.uid[0] == 0);
    CHECK(w.uid_name[0] == nullptr);
    CHECK(std::string(w.uid_name[1]) == "backup");
    REQUIRE(w.n_mark == 2);
    CHECK(w.mark[0].value == 0x10);
    CHECK(w.mark[0].mask == 0xf0);
    CHECK(w.mark[1].value == 7);
    CHECK(w.mark[1].mask == 0xffffffffu);
    REQUIRE(w.n_dev == 1);
    CHECK(std::string(w.dev_name[0]) == "lo");
    REQUIRE(w.n_cgroup == 1);
    CHECK(std::string(w.cgroup_path[0]) == "/system.slice/x.service");
    REQUIRE(w.n_pid == 1);
    CHECK(w.pid[0] == 4242);
    REQUIRE(w.n_comm == 1);
    CHECK(std::string(w.comm[0]) == "sshd");
    CHECK(w.kernel_ops());
    CHECK(w.processes());
    for (const char* opt : {"--uid", "--mark", "--dev", "--cgroup", "--pid", "--comm"}) {
        INFO(opt);
        Options one = ok({opt, "1"});
        CHECK(one.sel.owner.any());
        CHECK(one.sel.sports.empty());
    }
    CHECK(ok({"--comm", "fifteen-chars-x"}).sel.owner.n_comm == 1);
    CHECK(ok({"--pid", "4194304"}).sel.owner.pid[0] == 4194304);
    CHECK(ok({"--uid", "4294967294"}).sel.owner.uid[0] == 4294967294u);
    // 4294967295 is (uid_t)-1, no user; a number is never taken for a name.
    for (const char* v : {"4294967295", "99999999999"}) {
        INFO(v);
        ParseResult r = parse({"--uid", v});
        CHECK_FALSE(r.ok);
        CHECK(std::string(r.message) == "not a user id (0-4294967294)");
        CHECK(std::string(r.value) == v);
    }
    CHECK(std::string(ok({"--uid", "1abc"}).sel.owner.uid_name[0]) == "1abc");
    Options eight = ok({"--pid", "1", "--pid", "2", "--pid", "3", "--pid", "4", "--pid", "5", "--pid", "6",
                        "--pid", "7", "--pid", "8"});
    CHECK(eight.sel.owner.n_pid == 8);
    CHECK_FALSE(ok({"-s", "22"}).sel.owner.any());
}

TEST_CASE("protocols: TCP by default, -u alone UDP, --tcp -u both", "[options][udp]") {
    Options d = ok({"-d", "53"});
    CHECK(d.sel.tcp);
    CHECK_FALSE(d.sel.udp);
    Options u = ok({"-u", "-d", "53"});
    CHECK_FALSE(u.sel.tcp);
    CHECK(u.sel.udp);
    CHECK(u.sel.states == kUdpConnected);
    Options l = ok({"--udp", "-d", "53"});
    CHECK(l.sel.udp);
    CHECK_FALSE(l.sel.tcp);
    Options both = ok({"--tcp", "-u", "-d", "53"});
    CHECK((both.sel.tcp && both.sel.udp));
    Options t = ok({"--tcp", "-d", "53", "-t", "5"});
    CHECK((t.sel.tcp && !t.sel.udp));
    // --state established is what -u means anyway; with --tcp the list must include it.
    CHECK(ok({"-u", "-d", "53", "--state", "established"}).sel.states == kUdpConnected);
    Options mixed = ok({"--tcp", "-u", "-d", "53", "--state", "established,close-wait"});
    CHECK(mixed.sel.states_of(Proto::Udp) == kUdpConnected);
    CHECK(mixed.sel.states_of(Proto::Tcp) == ((1u << 1) | (1u << 8)));
    // Everything else works with -u (a cluster too).
    Options o = ok({"-u46n", "--src", "10.0.0.0/8", "--uid", "0", "--max-kills", "3", "-j"});
    CHECK((o.sel.udp && o.sel.ipv4 && o.sel.ipv6 && o.dry_run && o.json));
}

TEST_CASE("exclusions: each kind accumulates, narrows a selection and is never one", "[options][exclude]") {
    Options o = ok({"--dst", "10.0.0.0/8", "--exclude-sport", "22", "--exclude-dport=22,2222", "--exclude-dport",
                    "8000-8100", "--exclude-src", "10.1.0.0/16", "--exclude-dst", "10.9.9.9", "--exclude-uid", "0",
                    "--exclude-uid", "backup", "--exclude-comm", "sshd"});
    const Exclusions& ex = o.sel.ex;
    CHECK(ex.sports.contains(22));
    CHECK_FALSE(ex.sports.contains(23));
    CHECK(ex.dports.contains(2222));
    CHECK(ex.dports.contains(8050));
    CHECK_FALSE(ex.dports.contains(443));
    CHECK(ex.srcs.size() == 1);
    CHECK(ex.dsts.size() == 1);
    REQUIRE(ex.owner.n_uid == 2);
    CHECK(ex.owner.uid[0] == 0);
    CHECK(ex.owner.uid_name[0] == nullptr);
    CHECK(std::string(ex.owner.uid_name[1]) == "backup");  // looked up at start-up
    REQUIRE(ex.owner.n_comm == 1);
    CHECK(std::string(ex.owner.comm[0]) == "sshd");
    CHECK(o.sel.owner.n_uid == 0);  // the positive owner kinds stay untouched
    CHECK(o.sel.owner.n_comm == 0);
    CHECK(o.sel.sports.empty());

    // Exclusions alone select nothing: a usage error that says so.
    for (auto args : {std::initializer_list<const char*>{"--exclude-dport", "22"},
                      std::initializer_list<const char*>{"--exclude-comm", "sshd", "--exclude-src", "10.0.0.1"},
                      std::initializer_list<const char*>{"--exclude-uid", "0", "-n"}}) {
        ParseResult r = parse(args);
        CHECK_FALSE(r.ok);
        CHECK(std::string(r.message).find("--exclude-* only narrows a selection") == 0);
    }
    // Bad values, as for the positive forms.
    CHECK(std::string(parse({"-d", "443", "--exclude-sport", "0"}).message).find("port") != std::string::npos);
    CHECK_FALSE(parse({"-d", "443", "--exclude-src", "10.0.0.0/33"}).ok);
    CHECK_FALSE(parse({"-d", "443", "--exclude-comm", "a-name-longer-than-15"}).ok);
    CHECK_FALSE(parse({"-d", "443", "--exclude-uid", ""}).ok);
    CHECK_FALSE(parse({"-d", "443", "--exclude-dport"}).ok);  // needs a value
    // An IPv6 exclusion does not choose the family (nor clash with -4).
    Options v4 = ok({"-d", "443", "--exclude-dst", "2001:db8::/32"});
    CHECK(v4.sel.ipv4);
    CHECK_FALSE(v4.sel.ipv6);
    CHECK(ok({"-4", "-d", "443", "--exclude-src", "::1"}).sel.ex.srcs.size() == 1);
}

TEST_CASE("--stalled is a selection on its own, --send_idle is not; both TCP only", "[options][stalled]") {
    Options o = ok({"--stalled", "30000"});
    CHECK(o.sel.stalled_ms == 30000);
    CHECK(o.sel.needs_tcp_info());
    Options both = ok({"-d", "443", "--send-idle", "60000", "-t", "60000"});
    CHECK(both.sel.send_idle_ms == 60000);
    CHECK(ok({"-d", "443", "--send_idle=5"}).sel.send_idle_ms == 5);
    ParseResult alone = parse({"--send_idle", "60000"});
    CHECK_FALSE(alone.ok);
    CHECK(std::string(alone.message).find("--send_idle alone would select every quiet connection") == 0);
    for (auto args : {std::initializer_list<const char*>{"--stalled", "0"},
                      std::initializer_list<const char*>{"--stalled", "-1"},
                      std::initializer_list<const char*>{"-d", "1", "--send_idle", "x"}}) {
        ParseResult r = parse(args);
        CHECK_FALSE(r.ok);
        CHECK(std::string(r.message).find("milliseconds") != std::string::npos);
    }
    ParseResult udp = parse({"-u", "--stalled", "1000"});
    CHECK_FALSE(udp.ok);
    CHECK(std::string(udp.message).find("need tcp_info") != std::string::npos);
    CHECK_FALSE(parse({"-u", "-d", "53", "--send_idle", "1000"}).ok);
}
