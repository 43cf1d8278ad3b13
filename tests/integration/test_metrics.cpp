// --metrics: the file a daemon rewrites after every poll, as Prometheus'
// own checker and a real node_exporter (started here, in the suite's
// private namespace, scraped over loopback) read it; its counters agree
// with the run's log; a file that cannot be written is said once.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "checks.hpp"
#include "metrics_text.hpp"
#include "harness.hpp"

namespace {

// The program from Debian's package `pkg`; false (and said) only where
// Debian does not ship that package for this CPU. Elsewhere a missing one
// fails: make test installs it.
bool have_tool(const std::string& bin, const std::string& pkg) {
    if (std::system(("command -v " + bin + " >/dev/null 2>&1").c_str()) == 0) return true;
    if (std::system(("apt-cache show " + pkg + " >/dev/null 2>&1").c_str()) == 0) {
        FAIL(bin << " is missing: make test-deps installs Debian's " << pkg);
    }
    WARN("skipped: Debian ships no " << pkg << " for this CPU, so " << bin << " cannot check the metrics");
    return false;
}

using tc_test::metric_samples;
const auto& samples = metric_samples;

// The sum over the log's poll summaries of one field ("matched=").
unsigned long sum_field(const std::string& log, const std::string& field) {
    unsigned long total = 0;
    for (const std::string& l : it::lines_with(log, "poll: matched=")) {
        const size_t at = l.find(" " + field);
        const size_t from = at == std::string::npos ? l.find(field) : at + 1;
        if (from == std::string::npos) continue;
        total += std::strtoul(l.c_str() + from + field.size(), nullptr, 10);
    }
    return total;
}

// GET path over loopback: the whole reply, or "" if nothing answers.
std::string http_get(int port, const std::string& path) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return "";
    sockaddr_storage ss{};
    const socklen_t len = it::make_addr(AF_INET, "127.0.0.1", port, ss);
    std::string reply;
    if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
        const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
            char buf[65536];
            for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) reply.append(buf, static_cast<size_t>(n));
        }
    }
    close(fd);
    return reply;
}

// The first state other than "alive" the socket shows within 3 s (reading
// it takes the error, so it is read until then and no more).
std::string wait_state(int fd) {
    std::string st = it::state_of(fd);
    for (int i = 0; i < 150 && st == "alive"; ++i) {
        it::sleep_ms(20);
        st = it::state_of(fd);
    }
    return st;
}

std::vector<std::string> names_in(const std::string& dir) {
    std::vector<std::string> v;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d))
            if (e->d_name[0] != '.' || (e->d_name[1] && e->d_name[1] != '.')) v.push_back(e->d_name);
        closedir(d);
    }
    return v;
}

}  // namespace

TEST_CASE("--metrics: promtool accepts the file, its counters match the log, node_exporter serves them",
          "[metrics]") {
    const int port = 7811;
    int l = it::listen_on(AF_INET, "127.0.0.1", port);
    auto first = it::connect_n(3, l, AF_INET, "127.0.0.1", port);
    it::TmpDir d("metrics");
    REQUIRE(std::system(("mkdir " + (d / "state") + " " + (d / "textfile")).c_str()) == 0);
    const std::string file = d / "state/tcp_closer.prom";
    int pid = it::spawn_tool({"-d", std::to_string(port), "-i", "0.05", "--metrics", file, "--disable_syslog"},
                             d / "out", d / "err");
    for (int i = 0; i < 100 && it::read_file(file).empty(); ++i) it::sleep_ms(20);
    it::sleep_ms(200);
    auto second = it::connect_n(2, l, AF_INET, "127.0.0.1", port);  // a later poll's
    CHECK(wait_state(second[1].client) == it::killed());
    it::sleep_ms(200);
    REQUIRE(it::running(pid));
    kill(pid, SIGTERM);
    REQUIRE(it::wait_tool(pid, 3000) == 0);
    for (const it::Conn& c : first) CHECK(it::state_of(c.client) == it::killed());
    CHECK(it::state_of(second[0].client) == it::killed());

    const std::string text = it::read_file(file);
    const std::string log = it::read_file(d / "err");
    INFO(text << "\n--- log ---\n" << log);
    REQUIRE(!text.empty());
    // Only the file itself: its temporary was renamed over it each time.
    CHECK(names_in(d / "state") == std::vector<std::string>{"tcp_closer.prom"});
    auto m = samples(text);
    CHECK(std::stoul(m.at("tcp_closer_polls_total")) >= 3);
    CHECK(m.at("tcp_closer_polls_failed_total") == "0");
    CHECK(m.at("tcp_closer_connections_matched_total") == std::to_string(sum_field(log, "matched=")));
    for (const char* how : {"sock_destroy", "reset", "shutdown", "killed"})
        CHECK(m.at(std::string("tcp_closer_connections_ended_total{how=\"") + how + "\"}") ==
              std::to_string(sum_field(log, std::string(how) + "=")));
    const unsigned long ended = sum_field(log, "destroyed=");
    CHECK(ended == 5);
    CHECK(std::stoul(m.at("tcp_closer_connections_vanished_total")) == sum_field(log, "vanished="));
    CHECK(m.at("tcp_closer_connections_no_owner_total") == std::to_string(sum_field(log, "no_owner=")));
    CHECK(m.at("tcp_closer_connections_skipped_total") == "0");
    const std::string ways = it::mode() == it::Mode::NoSockDestroy ? "proc" : "sock_destroy,proc";
    CHECK(m.count("tcp_closer_build_info{version=\"0.2.0\",ways=\"" + ways + "\"}") == 1);
    CHECK(std::stod(m.at("tcp_closer_last_poll_end_timestamp_seconds")) > 1.7e9);

    if (have_tool("promtool", "prometheus")) {
        const int st = std::system(("promtool check metrics < " + file + " > " + (d / "promtool") + " 2>&1").c_str());
        INFO("promtool: " << it::read_file(d / "promtool"));
        CHECK(st == 0);
        CHECK(it::read_file(d / "promtool").empty());  // no lint complaints either
    }

    // node_exporter's textfile collector, through a link in its directory
    // (the README's way for the packaged unit), scraped over loopback.
    if (have_tool("prometheus-node-exporter", "prometheus-node-exporter")) {
        REQUIRE(symlink(file.c_str(), (d / "textfile/tcp_closer.prom").c_str()) == 0);
        const int np = 7812;
        int ne = it::spawn_command({"prometheus-node-exporter", "--web.listen-address=127.0.0.1:" + std::to_string(np),
                                    "--collector.disable-defaults", "--collector.textfile",
                                    "--collector.textfile.directory=" + (d / "textfile")},
                                   d / "ne.out", d / "ne.err");
        std::string page;
        for (int i = 0; i < 250 && page.find("tcp_closer_") == std::string::npos; ++i) {
            it::sleep_ms(20);
            page = http_get(np, "/metrics");
        }
        kill(ne, SIGTERM);
        (void)it::wait_tool(ne, 3000);
        INFO("node_exporter: " << it::read_file(d / "ne.err") << "\n--- scraped ---\n" << page);
        auto scraped = samples(page);
        CHECK(scraped.count("node_textfile_scrape_error") == 1);
        CHECK(scraped["node_textfile_scrape_error"] == "0");
        for (const auto& [k, v] : m) {
            if (k.find("_total") == std::string::npos) continue;
            CHECK(scraped.count(k) == 1);
            CHECK(scraped[k] == v);
        }
    }
    it::close_all(first);
    it::close_all(second);
    close(l);
}

TEST_CASE("--metrics: a file that cannot be written is said once, and the daemon goes on", "[metrics]") {
    const int port = 7813;
    int l = it::listen_on(AF_INET, "127.0.0.1", port);
    it::TmpDir d("metrics");
    REQUIRE(mkdir((d / "dir").c_str(), 0755) == 0);
    const std::string file = d / "dir/tcp_closer.prom";
    int pid = it::spawn_tool({"-d", std::to_string(port), "-i", "0.02", "--metrics", file, "--disable_syslog"},
                             d / "out", d / "err");
    it::sleep_ms(100);
    // The directory goes away under the running daemon (at start-up it
    // would be refused: test_paths.cpp).
    REQUIRE(rename((d / "dir").c_str(), (d / "moved").c_str()) == 0);
    it::sleep_ms(300);  // a dozen polls
    REQUIRE(it::running(pid));
    it::Conn c = it::connect_pair(l, AF_INET, "127.0.0.1", port);  // still ended
    CHECK(wait_state(c.client) == it::killed());
    REQUIRE(it::running(pid));
    kill(pid, SIGTERM);
    CHECK(it::wait_tool(pid, 3000) == 0);
    const std::string log = it::read_file(d / "err");
    INFO(log);
    CHECK(it::count(log, "beside the metrics file") == 1);
    CHECK(it::count(log, "error: cannot create a temporary file beside the metrics file " + file +
                             ": No such file or directory (the run goes on") == 1);
    CHECK(it::count(log, "stopping on signal") == 1);
    it::close_all({c});
    close(l);
}

// The temporary file is the writer's own: one that another user left
// where we write (a sticky directory: not ours to remove) blocks nothing,
// and two runs writing one file never rename each other's half-written
// text over it.
TEST_CASE("--metrics: a stale temporary file and a second writer of the same file", "[metrics]") {
    const int port = 7815;
    int l = it::listen_on(AF_INET, "127.0.0.1", port);
    it::TmpDir d("metrics");
    REQUIRE(chmod(d.path.c_str(), 01777) == 0);  // like /tmp: whoever created a file owns it
    const std::string file = d / "tcp_closer.prom";
    for (const std::string& stale : {file + ".tmp"}) {
        FILE* f = std::fopen(stale.c_str(), "w");
        REQUIRE(f);
        std::fputs("stale\n", f);
        std::fclose(f);
        REQUIRE(chown(stale.c_str(), 1234, 1234) == 0);
    }
    // A dry run needs no privileges: the writer is nobody, as in the unit.
    it::RunResult r = it::run_tool_unprivileged({"-n", "-d", std::to_string(port), "--metrics", file, "--disable_syslog"});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find("cannot write metrics file") == std::string::npos);
    CHECK(samples(it::read_file(file)).count("tcp_closer_polls_total") == 1);

    // Two daemons, one file, a poll each every 5 ms: every read of the
    // file finds a whole text.
    std::vector<int> pids;
    for (int i = 0; i < 2; ++i)
        pids.push_back(it::spawn_tool({"-n", "-d", std::to_string(port), "-i", "0.005", "--metrics", file,
                                       "--disable_syslog"},
                                      d / ("out" + std::to_string(i)), d / ("err" + std::to_string(i))));
    int whole = 0, cut = 0;
    for (int round = 0; round < 2000; ++round) {
        const std::string text = it::read_file(file);
        (!text.empty() && text.find("tcp_closer_build_info{") != std::string::npos && text.back() == '\n' ? whole : cut)++;
    }
    for (int pid : pids) {
        kill(pid, SIGTERM);
        CHECK(it::wait_tool(pid, 3000) == 0);
    }
    CHECK(whole == 2000);
    CHECK(cut == 0);
    for (int i = 0; i < 2; ++i) CHECK(it::read_file(d / ("err" + std::to_string(i))).find("cannot write") == std::string::npos);
    // Nothing of ours is left behind.
    int leftovers = 0;
    if (DIR* dir = opendir(d.path.c_str())) {
        while (dirent* e = readdir(dir)) leftovers += std::string(e->d_name).find(".prom.tmp.") != std::string::npos;
        closedir(dir);
    }
    CHECK(leftovers == 0);
    close(l);
}

TEST_CASE("--metrics: a bad value is a usage error that touches nothing", "[metrics]") {
    const int port = 7814;
    int l = it::listen_on(AF_INET, "127.0.0.1", port);
    auto conns = it::connect_n(2, l, AF_INET, "127.0.0.1", port);
    for (const char* bad : {"", "/tmp/", "--metrics"}) {
        INFO("--metrics '" << bad << "'");
        std::vector<std::string> args = {"-d", std::to_string(port), "--metrics"};
        if (std::string(bad) != "--metrics") args.push_back(bad);
        it::RunResult r = it::run_tool(args);
        CHECK(r.status == 2);
        CHECK(!r.err.empty());
    }
    it::expect(conns, "alive", "alive");
    it::close_all(conns);
    close(l);
}

// Polls a daemon rides out count as failed, every one of them and only
// them: a daemon whose every route dump is refused, then a dry-run daemon
// whose polls all work (its would_destroy results are no failures).
TEST_CASE("--metrics: failed polls are counted, and only those", "[metrics]") {
    if (it::proc_net()) return;  // (--src-removed is refused on the /proc/net path)
    const int port = 7816;
    int l = it::listen_on(AF_INET, "127.0.0.1", port);
    it::Conn c = it::connect_pair(l, AF_INET, "127.0.0.1", port);
    it::TmpDir d("metrics");
    const std::string file = d / "tcp_closer.prom";
    int pid = it::spawn_command({"build/old_kernel", "--route-dumps-refused", it::tool_binary(), "--src-removed",
                                 "-i", "0.05", "--metrics", file, "--disable_syslog"},
                                d / "out", d / "err");
    it::sleep_ms(500);
    kill(pid, SIGTERM);
    CHECK(it::wait_tool(pid, 5000) >= 0);
    auto m = samples(it::read_file(file));
    INFO(it::read_file(d / "err"));
    REQUIRE(m.count("tcp_closer_polls_total"));
    CHECK(std::stoul(m.at("tcp_closer_polls_total")) >= 3);
    CHECK(m.at("tcp_closer_polls_failed_total") == m.at("tcp_closer_polls_total"));

    pid = it::spawn_tool({"-n", "-d", std::to_string(port), "-i", "0.05", "--metrics", file, "--disable_syslog"},
                         d / "out2", d / "err2");
    it::sleep_ms(500);
    kill(pid, SIGTERM);
    CHECK(it::wait_tool(pid, 5000) == 0);
    m = samples(it::read_file(file));
    CHECK(std::stoul(m.at("tcp_closer_polls_total")) >= 3);
    CHECK(m.at("tcp_closer_polls_failed_total") == "0");
    CHECK(m.at("tcp_closer_connections_matched_total") == m.at("tcp_closer_polls_total"));
    for (const auto& [k, v] : m) {
        INFO(k);
        CHECK(k.find("tcp_closer_connections_failed_total") == std::string::npos);
    }
    it::close_all({c});
    close(l);
}

// A write that fails part way (the file system fills under a running
// daemon) leaves the good file as it was: the temporary file is never
// renamed over it, nor left behind. A run that starts on the full file
// system is refused before its first poll (test_paths.cpp has the rest).
TEST_CASE("--metrics: a full filesystem keeps the last good file", "[metrics]") {
    const int port = 7817;
    int l = it::listen_on(AF_INET, "127.0.0.1", port);
    it::TmpDir d("metrics");
    REQUIRE(mkdir((d / "fs").c_str(), 0755) == 0);
    const std::string tool = "'" + it::tool_binary() + "' -n -d " + std::to_string(port) + " --metrics " +
                             d / "fs/m.prom" + " --disable_syslog";
    // The steps as a script file (no quoting through two shells): the
    // daemon runs, the file system fills, the daemon stops; then a one-shot
    // run starts on the full file system.
    const std::string script = d / "script.sh";
    FILE* f = std::fopen(script.c_str(), "w");
    REQUIRE(f);
    std::fprintf(f,
                 "set -e\n"
                 "mount -t tmpfs -o size=64k tcm %1$s/fs\n"
                 "%2$s -i 0.02 2>%1$s/err &\n"
                 "pid=$!\n"
                 "sleep 0.3\n"
                 "cp %1$s/fs/m.prom %1$s/good\n"
                 "dd if=/dev/zero of=%1$s/fs/fill bs=4096 2>/dev/null || true\n"
                 "sleep 0.3\n"
                 "kill $pid\n"
                 "wait $pid\n"
                 "cp %1$s/fs/m.prom %1$s/after\n"
                 "ls %1$s/fs >%1$s/ls\n"
                 "%2$s 2>%1$s/err2 || echo $? >%1$s/status\n",
                 d.path.c_str(), tool.c_str());
    std::fclose(f);
    REQUIRE(std::system(("unshare -m --propagation private sh " + script).c_str()) == 0);
    const std::string err = it::read_file(d / "err");
    INFO(err);
    CHECK(it::count(err, "cannot write metrics file") == 1);  // said once, the daemon went on
    CHECK(err.find("No space left on device") != std::string::npos);
    CHECK(err.find("stopping on signal") != std::string::npos);
    const std::string good = it::read_file(d / "good"), after = it::read_file(d / "after");
    CHECK(good.find("tcp_closer_polls_total") != std::string::npos);
    CHECK(after.find("tcp_closer_polls_total") != std::string::npos);  // whole, never cut
    CHECK((!after.empty() && after.back() == '\n'));
    CHECK(it::read_file(d / "ls") == "fill\nm.prom\n");  // no temporary file left
    CHECK(it::read_file(d / "status") == "1\n");
    CHECK(it::read_file(d / "err2").find("cannot write beside the metrics file") != std::string::npos);
    close(l);
}

TEST_CASE("--metrics with --rules: counters labelled by rule, reloads counted, promtool accepts", "[metrics][rules]") {
    int a = it::listen_on(AF_INET, "127.0.0.1", 7631);
    int b = it::listen_on(AF_INET, "127.0.0.1", 7632);
    it::TmpDir d("metrics");
    const std::string rules = d / "rules", file = d / "metrics.prom", log = d / "log";
    {
        std::ofstream f(rules);
        f << "a: -s 7631\nb: -s 7632\n";
    }
    int pid = it::spawn_tool({"--rules", rules, "-i", "0.05", "--metrics", file, "-f", log, "--disable_syslog"},
                             d / "out", d / "err");
    it::Conn a1 = it::connect_pair(a, AF_INET, "127.0.0.1", 7631);
    it::Conn b1 = it::connect_pair(b, AF_INET, "127.0.0.1", 7632);
    it::Conn b2 = it::connect_pair(b, AF_INET, "127.0.0.1", 7632);
    auto wait_log = [&](const std::string& text, int n) {
        for (int i = 0; i < 250; ++i) {
            if (it::count(it::read_file(log), text) >= n) return true;
            it::sleep_ms(20);
        }
        return false;
    };
    REQUIRE(wait_log("rule=b", 2));
    REQUIRE(wait_log("rule=a", 1));
    {
        std::ofstream f(rules, std::ios::trunc);
        f << "a: -s 0\n";
    }
    kill(pid, SIGHUP);
    REQUIRE(wait_log("keeping the 2 rule(s) in force", 1));
    {
        std::ofstream f(rules, std::ios::trunc);
        f << "c: -s 7633\n";
    }
    kill(pid, SIGHUP);
    REQUIRE(wait_log("read " + rules + " again: 1 rule(s)", 1));
    it::sleep_ms(200);  // a poll after the reload rewrote the file
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    const std::string text = it::read_file(file);
    INFO(text);
    auto samples = tc_test::metric_samples(text);
    CHECK(samples["tcp_closer_connections_matched_total{rule=\"a\"}"] == "1");
    CHECK(samples["tcp_closer_connections_matched_total{rule=\"b\"}"] == "2");
    CHECK(samples["tcp_closer_connections_matched_total{rule=\"c\"}"] == "0");
    for (const char* rule : {"a", "b"}) {
        long ended = 0;
        for (const char* how : {"sock_destroy", "reset", "shutdown", "killed"})
            ended += std::stol(samples[std::string("tcp_closer_connections_ended_total{rule=\"") + rule + "\",how=\"" + how +
                                       "\"}"]);
        CHECK(ended == (rule[0] == 'a' ? 1 : 2));
    }
    CHECK(samples["tcp_closer_rules_reloads_total{result=\"ok\"}"] == "1");
    CHECK(samples["tcp_closer_rules_reloads_total{result=\"failed\"}"] == "1");
    CHECK(samples.count("tcp_closer_connections_matched_total") == 0);  // no unlabelled series beside them
    if (have_tool("promtool", "prometheus")) {
        const int pst = std::system(("promtool check metrics < " + file + " > " + (d / "promtool") + " 2>&1").c_str());
        INFO("promtool: " << it::read_file(d / "promtool"));
        CHECK(pst == 0);
        CHECK(it::read_file(d / "promtool").empty());
    }
    it::close_all({a1, b1, b2});
    close(a);
    close(b);
}
