// --rules against live connections, in every mode: each rule ends its own
// and names itself, a socket two rules select goes to the first, per-rule
// --max-kills, --check, and SIGHUP reloads (a rule added, a broken file
// that changes nothing, a rule removed).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "checks.hpp"
#include "harness.hpp"

using it::Conn;
using it::count;
using it::expect;

namespace {

const std::string kNoSyslog = "--disable_syslog";

void write_text(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::trunc);
    f << text;
}

}  // namespace

TEST_CASE("three rules: each ends its own, names itself, and the first rule wins", "[rules][core]") {
    int a = it::listen_on(AF_INET, "127.0.0.1", 7601);
    int b = it::listen_on(AF_INET, "127.0.0.1", 7602);
    int c = it::listen_on(AF_INET, "127.0.0.1", 7603);
    int d = it::listen_on(AF_INET, "127.0.0.1", 7604);
    Conn a1 = it::connect_pair(a, AF_INET, "127.0.0.1", 7601);
    Conn b1 = it::connect_pair(b, AF_INET, "127.0.0.1", 7602);
    Conn b2 = it::connect_pair(b, AF_INET, "127.0.0.1", 7602);
    Conn c1 = it::connect_pair(c, AF_INET, "127.0.0.1", 7603);
    Conn d1 = it::connect_pair(d, AF_INET, "127.0.0.1", 7604);
    it::TmpDir dir("rules");
    const std::string rules = dir / "rules";
    // 7603 matches both "range" and "three": the first in the file takes it.
    write_text(rules,
               "# a comment\n"
               "one:   -s 7601\n"
               "two:   -s 7602 --max-kills 1   # one a poll\n"
               "range: -s '7603-7603'\n"
               "three: -s 7603\n");
    it::RunResult r = it::run_tool({"--rules", rules, "-j", kNoSyslog});
    INFO("stderr: " << r.err << "\nstdout: " << r.out);
    CHECK(r.status == 0);
    CHECK(count(r.err, "rule=one") == 1);
    CHECK(count(r.err, "rule=two") == 2);  // one ended, one skipped
    CHECK(count(r.err, "rule=range") == 1);
    CHECK(count(r.err, "rule=three") == 0);
    CHECK(count(r.err, "(over --max-kills)") == 1);
    CHECK(count(r.out, "\"rule\":\"one\"") == 1);
    CHECK(count(r.out, "\"rule\":\"range\"") == 1);
    CHECK(count(r.out, "\"rule\":\"two\",\"outcome\":\"skipped\"") == 1);
    expect({a1, c1}, it::killed(), "reset");
    expect({d1}, "alive", "alive");
    // Of 7602's two, exactly one was ended.
    CHECK((it::state_of(b1.server) == it::killed()) + (it::state_of(b2.server) == it::killed()) == 1);
    it::close_all({a1, b1, b2, c1, d1});
    for (int l : {a, b, c, d}) close(l);
}

TEST_CASE("an idle rule beside a plain one decides with tcp_info; -v shows each candidate once", "[rules][core][idle]") {
    int a = it::listen_on(AF_INET, "127.0.0.1", 7611);
    int b = it::listen_on(AF_INET, "127.0.0.1", 7612);
    auto idle = it::connect_n(2, a, AF_INET, "127.0.0.1", 7611);
    auto busy = it::connect_n(2, a, AF_INET, "127.0.0.1", 7611);
    auto plain = it::connect_n(2, b, AF_INET, "127.0.0.1", 7612);
    for (int i = 0; i < 7; ++i) {  // 700 ms in which only `busy` receives data
        it::sleep_ms(100);
        for (const Conn& c : busy) it::send_byte(c.client);
    }
    it::TmpDir dir("rules");
    const std::string rules = dir / "rules";
    // The dump serves both rules; tcp_info is asked for only when the idle
    // rule has candidates (a first dump without it finds them here).
    write_text(rules, "plain: -s 7612\nidle: -s 7611 -t 400\n");
    const int idle_ends = 2;
    // The busy ones get a byte just before each run as well, so a slow
    // start of the tool never makes them look idle.
    for (const Conn& c : busy) it::send_byte(c.client);
    it::RunResult v = it::run_tool({"--rules", rules, "-n", "-v", kNoSyslog});
    INFO("dry run, stderr: " << v.err << "\nstdout: " << v.out);
    CHECK(v.status == 0);
    CHECK(count(v.err, "candidate 127.0.0.1:7611") == 4);
    CHECK(count(v.err, "candidate 127.0.0.1:7612") == 2);
    CHECK(count(v.out, "would_destroy ") == 2 + idle_ends);
    for (const Conn& c : busy) it::send_byte(c.client);
    it::RunResult r = it::run_tool({"--rules", rules, kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(count(r.err, "rule=plain") == 2);
    CHECK(count(r.err, "rule=idle") == idle_ends);
    expect(plain, it::killed(), "reset");
    if (idle_ends) expect(idle, it::killed(), "reset");
    for (const Conn& c : busy) {
        CHECK(it::state_of(c.server) == "data");
        CHECK(it::state_of(c.client) == "alive");
    }
    it::close_all(idle);
    it::close_all(busy);
    it::close_all(plain);
    close(a);
    close(b);
}

TEST_CASE("--check: the number of rules, or every error with its line; nothing ended", "[rules][core]") {
    int a = it::listen_on(AF_INET, "127.0.0.1", 7611);
    Conn a1 = it::connect_pair(a, AF_INET, "127.0.0.1", 7611);
    it::TmpDir dir("rules");
    write_text(dir / "good", "x: -s 7611\ny: -d 7611\n");
    it::RunResult r = it::run_tool({"--rules", dir / "good", "--check"});
    CHECK(r.status == 0);
    CHECK(r.out == "2 rules\n");
    write_text(dir / "bad", "x: -s 7611\ny: -s 0\nz -s 1\nx: -d 1\nw: --uid no_such_user_here\n");
    r = it::run_tool({"--rules", dir / "bad", "--check"});
    INFO("stderr: " << r.err);
    CHECK(r.status == 2);
    CHECK(count(r.err, dir / "bad:2: ") == 1);
    CHECK(count(r.err, dir / "bad:3: ") == 1);
    CHECK(count(r.err, dir / "bad:4: ") == 1);
    CHECK(r.out.empty());
    // A run with the bad file ends nothing either.
    r = it::run_tool({"--rules", dir / "bad", kNoSyslog});
    CHECK(r.status == 2);
    // An ordinary line checks too; a missing file is a failure naming it.
    r = it::run_tool({"-s", "7611", "--check"});
    CHECK(r.status == 0);
    CHECK(r.out == "1 rule\n");
    r = it::run_tool({"--rules", dir / "missing", "--check"});
    CHECK(r.status == 1);
    CHECK(count(r.err, dir / "missing") == 1);
    expect({a1}, "alive", "alive");
    it::close_all({a1});
    close(a);
}

TEST_CASE("SIGHUP reloads the rules: added, broken (nothing changes), removed", "[rules][core]") {
    int a = it::listen_on(AF_INET, "127.0.0.1", 7621);
    int b = it::listen_on(AF_INET, "127.0.0.1", 7622);
    it::TmpDir dir("rules");
    const std::string rules = dir / "rules", log = dir / "log";
    write_text(rules, "# nothing yet\n");
    int pid = it::spawn_tool({"--rules", rules, "-i", "0.05", "-f", log, kNoSyslog}, dir / "out", dir / "err");
    REQUIRE(it::wait_text(log, "holds no rule"));
    Conn a1 = it::connect_pair(a, AF_INET, "127.0.0.1", 7621);
    it::sleep_ms(200);
    expect({a1}, "alive", "alive");
    // Added: its connections end at a next poll.
    write_text(rules, "a: -s 7621\n");
    kill(pid, SIGHUP);
    REQUIRE(it::wait_text(log, "1 rule(s)"));
    REQUIRE(it::wait_text(log, "rule=a"));
    expect({a1}, it::killed(), "reset");
    // Broken: the rule in force stays, the log says where.
    write_text(rules, "a: -s 7621\nb: -s 0\n");
    kill(pid, SIGHUP);
    REQUIRE(it::wait_text(log, "keeping the 1 rule(s) in force"));
    CHECK(count(it::read_file(log), rules + ":2: ") == 1);
    Conn a2 = it::connect_pair(a, AF_INET, "127.0.0.1", 7621);
    Conn b1 = it::connect_pair(b, AF_INET, "127.0.0.1", 7622);
    REQUIRE(it::wait_text(log, "rule=a", 2));
    expect({a2}, it::killed(), "reset");
    expect({b1}, "alive", "alive");
    // Removed: 7621 is left alone from then on.
    write_text(rules, "b: -s 7622\n");
    kill(pid, SIGHUP);
    REQUIRE(it::wait_text(log, "rule=b", 1));
    expect({b1}, it::killed(), "reset");
    Conn a3 = it::connect_pair(a, AF_INET, "127.0.0.1", 7621);
    it::sleep_ms(300);
    expect({a3}, "alive", "alive");
    // A rule that needs a capability the run did not check at its start:
    // kept out, the rules in force stay.
    write_text(rules, "b: -s 7622\nc: --comm sshd -s 7623\n");
    kill(pid, SIGHUP);
    REQUIRE(it::wait_text(log, "keeping the 1 rule(s) in force", 2));
    CHECK(count(it::read_file(log), "a rule has --pid, --comm or --exclude-comm") == 1);
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    INFO(it::read_file(log));
    CHECK(count(it::read_file(log), "rule=a") == 2);
    it::close_all({a1, a2, a3, b1});
    close(a);
    close(b);
}
