// Selection by owner against real connections, in every mode of the suite:
// --mark, --dev, --uid, --cgroup, --pid and --comm, each combined once with
// -d and -t. Connections whose client end a child process made (as another
// user, in a fresh cgroup, under another command name) show on their
// server end whether the tool ended them: "reset".
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "checks.hpp"
#include "harness.hpp"

using it::Conn;
using it::count;
using it::state_of;

namespace {

const std::string kNoSyslog = "--disable_syslog";

// A child that runs `setup`, connects to 127.0.0.1:port n times and holds
// the client ends until killed; the parent accepts the server ends.
struct Connector {
    int pid = -1;
    std::vector<int> servers;
    void stop() {
        if (pid > 0) {
            kill(pid, SIGKILL);
            int st = 0;
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
        }
        pid = -1;
        for (int s : servers) close(s);
        servers.clear();
    }
};

Connector spawn_connector(int listener, int port, int n, const std::function<void()>& setup) {
    int p[2];
    REQUIRE(pipe(p) == 0);
    Connector c;
    c.pid = fork();
    REQUIRE(c.pid >= 0);
    if (c.pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        close(p[0]);
        close(listener);
        setup();
        std::vector<int> keep;
        for (int i = 0; i < n; ++i) {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in sa{};
            sa.sin_family = AF_INET;
            sa.sin_port = htons(static_cast<uint16_t>(port));
            sa.sin_addr.s_addr = htonl(0x7f000001);
            if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) _exit(3);
            keep.push_back(fd);
        }
        if (write(p[1], "k", 1) != 1) _exit(3);
        while (true) pause();
    }
    close(p[1]);
    pollfd pfd{p[0], POLLIN, 0};
    char b = 0;
    REQUIRE(poll(&pfd, 1, 5000) == 1);
    REQUIRE(read(p[0], &b, 1) == 1);
    close(p[0]);
    for (int i = 0; i < n; ++i) {
        int s = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        REQUIRE(s >= 0);
        c.servers.push_back(s);
    }
    return c;
}

void expect_servers(const std::vector<int>& servers, const char* state) {
    for (int s : servers) CHECK(state_of(s) == state);
}

void set_mark(int fd, uint32_t mark) { REQUIRE(setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) == 0); }

// The cgroup2 mount point, from /proc/self/mountinfo.
std::string cgroup2_mount() {
    std::ifstream f("/proc/self/mountinfo");
    std::string line;
    while (std::getline(f, line)) {
        size_t dash = line.find(" - cgroup2 ");
        if (dash == std::string::npos) continue;
        size_t at = 0;
        for (int i = 0; i < 4; ++i) at = line.find(' ', at) + 1;
        return line.substr(at, line.find(' ', at) - at);
    }
    return "";
}

}  // namespace

TEST_CASE("--mark kills only sockets with that mark", "[owner]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7401);
    std::vector<Conn> one, seventeen, other, none;
    for (int i = 0; i < 2; ++i) one.push_back(it::connect_pair(l, AF_INET, "127.0.0.1", 7401));
    seventeen.push_back(it::connect_pair(l, AF_INET, "127.0.0.1", 7401));
    other.push_back(it::connect_pair(l, AF_INET, "127.0.0.1", 7401));
    none.push_back(it::connect_pair(l, AF_INET, "127.0.0.1", 7401));
    for (const Conn& c : one) set_mark(c.client, 0x1);
    set_mark(seventeen[0].client, 0x11);
    set_mark(other[0].client, 0x2);
    const char* dead = it::killed();

    SECTION("a value and mask; OR-ed with a second value") {
        it::RunResult r = it::run_tool({"--mark", "0x1/0xf", "--mark", "2", "-d", "7401", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(it::summary(4, 4)) != std::string::npos);
        CHECK(count(r.err, "mark=0x1/0xf") == 3);
        CHECK(count(r.err, "mark=0x2/0xffffffff") == 1);
        it::expect(one, "reset", dead);
        it::expect(seventeen, "reset", dead);
        it::expect(other, "reset", dead);
        it::expect(none, "alive", "alive");
    }
    SECTION("with -t: a marked connection that just received data stays") {
        it::sleep_ms(400);
        it::send_byte(one[1].server);  // its client end has data now
        it::sleep_ms(20);
        it::RunResult r = it::run_tool({"--mark", "0x1", "-d", "7401", "-t", "300", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(it::summary(1, 1)) != std::string::npos);
        it::expect({one[0]}, "reset", dead);
        CHECK(state_of(one[1].server) == "alive");
        CHECK(state_of(one[1].client) == "data");
        it::expect(seventeen, "alive", "alive");  // 0x11 is not 0x1 under the full mask
        it::expect(none, "alive", "alive");
    }
    SECTION("a dry run needs CAP_NET_ADMIN to see marks") {
        it::RunResult r = it::run_tool_unprivileged({"-n", "--mark", "1", "-d", "7401"});
        CHECK(r.status == 1);
        CHECK(r.err.find("missing capability CAP_NET_ADMIN, needed to read socket marks (--mark)") !=
              std::string::npos);
        it::expect(one, "alive", "alive");
    }
    for (auto* v : {&one, &seventeen, &other, &none}) it::close_all(*v);
    close(l);
}

TEST_CASE("--dev kills only sockets bound to that interface", "[owner]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7402);
    std::vector<Conn> bound, loose;
    for (int i = 0; i < 2; ++i) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) == 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(7402);
        sa.sin_addr.s_addr = htonl(0x7f000001);
        REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        int s = accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
        REQUIRE(s >= 0);
        bound.push_back({fd, s});
    }
    for (int i = 0; i < 2; ++i) loose.push_back(it::connect_pair(l, AF_INET, "127.0.0.1", 7402));
    const char* dead = it::killed();

    SECTION("--dev lo -d 7402: the bound client ends") {
        it::RunResult r = it::run_tool({"--dev", "lo", "-d", "7402", "-v", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(it::summary(2, 2)) != std::string::npos);
        CHECK(count(r.err, " dev=lo ") == 2);
        CHECK(r.err.find("DEV_COND") != std::string::npos);  // the kernel filtered them
        it::expect(bound, "reset", dead);
        it::expect(loose, "alive", "alive");
    }
    SECTION("with -t: too young to be idle") {
        it::RunResult r = it::run_tool({"--dev", "lo", "-d", "7402", "-t", "60000", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(it::summary(0, 0)) != std::string::npos);
        it::expect(bound, "alive", "alive");
    }
    SECTION("an interface that does not exist: exit 2, nothing touched") {
        it::RunResult r = it::run_tool({"--dev", "tcnodev0", "-d", "7402", kNoSyslog});
        CHECK(r.status == 2);
        CHECK(r.err == "tcp_closer: no such network interface: 'tcnodev0'\n");
        it::expect(bound, "alive", "alive");
    }
    it::close_all(bound);
    it::close_all(loose);
    close(l);
}

TEST_CASE("--uid kills only that user's sockets", "[owner]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7403);
    Connector nobody = spawn_connector(l, 7403, 2, [] {
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(4);
    });
    Connector root = spawn_connector(l, 7403, 2, [] {});

    SECTION("by number") {
        it::RunResult r = it::run_tool({"--uid", "65534", "-d", "7403", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(it::summary(2, 2)) != std::string::npos);
        CHECK(count(r.err, " uid=65534 ") == 2);
        expect_servers(nobody.servers, "reset");
        expect_servers(root.servers, "alive");
    }
    SECTION("by name, with -t, and OR-ed with a second uid") {
        it::sleep_ms(300);
        it::send_byte(nobody.servers[1]);
        it::sleep_ms(20);
        it::RunResult r = it::run_tool({"--uid", "nobody", "--uid", "12345", "-d", "7403", "-t", "200", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(it::summary(1, 1)) != std::string::npos);
        CHECK(state_of(nobody.servers[0]) == "reset");
        CHECK(state_of(nobody.servers[1]) == "alive");
        expect_servers(root.servers, "alive");
    }
    SECTION("an unknown user name: exit 2, nothing touched") {
        it::RunResult r = it::run_tool({"--uid", "no-such-user-tc", "-d", "7403", kNoSyslog});
        CHECK(r.status == 2);
        CHECK(r.err == "tcp_closer: unknown user: 'no-such-user-tc'\n");
        expect_servers(nobody.servers, "alive");
    }
    SECTION("no /etc/passwd (initramfs, distroless): why, and that a uid works; exit 1, nothing touched") {
        it::RunResult r = it::run_tool_without("/etc", {"--uid", "nobody", "-d", "7403", kNoSyslog});
        CHECK(r.status == 1);
        CHECK(r.err ==
              "tcp_closer: cannot read /etc/passwd to look up user 'nobody': No such file or directory; a numeric "
              "uid works without it (--uid 1000)\n");
        expect_servers(nobody.servers, "alive");
        r = it::run_tool_without("/etc", {"--uid", "65534", "-d", "7403", kNoSyslog});  // needs no file
        CHECK(r.status == 0);
        CHECK(r.err.find(it::summary(2, 2)) != std::string::npos);
        expect_servers(nobody.servers, "reset");
        expect_servers(root.servers, "alive");
    }
    nobody.stop();
    root.stop();
    close(l);
}

TEST_CASE("--cgroup kills the connections made inside that cgroup", "[owner]") {
    const std::string mount = cgroup2_mount();
    REQUIRE_FALSE(mount.empty());
    const std::string name = "/tcp_closer_test_" + std::to_string(getpid());
    const std::string dir = mount + name;
    REQUIRE(mkdir(dir.c_str(), 0755) == 0);
    int l = it::listen_on(AF_INET, "127.0.0.1", 7404);
    const std::string procs = dir + "/cgroup.procs";
    Connector inside = spawn_connector(l, 7404, 2, [&] {
        std::FILE* f = std::fopen(procs.c_str(), "w");
        if (!f || std::fprintf(f, "%d\n", getpid()) < 0 || std::fclose(f) != 0) _exit(5);
    });
    Connector outside = spawn_connector(l, 7404, 2, [] {});

    SECTION("a path below the cgroup2 mount, as ss and systemd name it") {
        it::RunResult r = it::run_tool({"--cgroup", name, "-d", "7404", "-v", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(it::summary(2, 2)) != std::string::npos);
        CHECK(count(r.err, " cgroup=" + name + " ") == 2);
        CHECK(r.err.find("CGROUP_COND") != std::string::npos);
        expect_servers(inside.servers, "reset");
        expect_servers(outside.servers, "alive");
    }
    SECTION("the full path, with -t") {
        it::sleep_ms(300);
        it::send_byte(inside.servers[0]);
        it::sleep_ms(20);
        it::RunResult r = it::run_tool({"--cgroup", dir, "-d", "7404", "-t", "200", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(it::summary(1, 1)) != std::string::npos);
        CHECK(state_of(inside.servers[0]) == "alive");
        CHECK(state_of(inside.servers[1]) == "reset");
        expect_servers(outside.servers, "alive");
    }
    SECTION("no such cgroup, or not a cgroup v2 directory: exit 2") {
        it::RunResult r = it::run_tool({"--cgroup", name + "-gone", "-d", "7404", kNoSyslog});
        CHECK(r.status == 2);
        CHECK(r.err == "tcp_closer: no such cgroup directory: '" + name + "-gone'\n");
        r = it::run_tool({"--cgroup", procs, "-d", "7404", kNoSyslog});  // a file
        CHECK(r.status == 2);
        CHECK(r.err.find("'" + procs + "'") != std::string::npos);
        r = it::run_tool({"--cgroup", mount + "/../systemd", "-d", "7404", kNoSyslog});  // cgroup v1 here, or none
        CHECK(r.status == 2);
        r = it::run_tool({"--cgroup", "/tmp", "-d", "7404", kNoSyslog});  // below the mount: none
        CHECK(r.status == 2);
        expect_servers(inside.servers, "alive");
    }
    SECTION("no /proc/self/mountinfo: why, exit 1, nothing touched") {
        it::RunResult r = it::run_tool_without("/proc", {"--cgroup", name, "-d", "7404", kNoSyslog});
        CHECK(r.status == 1);
        CHECK(r.err == "tcp_closer: cannot read /proc/self/mountinfo to find the cgroup2 mount for '" + name +
                           "': No such file or directory; --cgroup needs /proc mounted\n");
        expect_servers(inside.servers, "alive");
    }
    inside.stop();
    outside.stop();
    close(l);
    CHECK(rmdir(dir.c_str()) == 0);
}

TEST_CASE("--pid and --comm kill only the connections of that process", "[owner]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7405);
    // Two identical processes, and a third under another command name.
    Connector a = spawn_connector(l, 7405, 2, [] { prctl(PR_SET_NAME, "tc_holder"); });
    Connector b = spawn_connector(l, 7405, 2, [] { prctl(PR_SET_NAME, "tc_holder"); });
    Connector c = spawn_connector(l, 7405, 1, [] { prctl(PR_SET_NAME, "tc_other"); });
    std::vector<Conn> mine = {it::connect_pair(l, AF_INET, "127.0.0.1", 7405)};  // held by the test itself

    SECTION("--pid: one of two identical processes") {
        it::RunResult r = it::run_tool({"--pid", std::to_string(a.pid), "-d", "7405", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(it::summary(2, 2)) != std::string::npos);
        CHECK(count(r.err, " pid=" + std::to_string(a.pid) + " comm=tc_holder") == 2);
        expect_servers(a.servers, "reset");
        expect_servers(b.servers, "alive");
        expect_servers(c.servers, "alive");
        it::expect(mine, "alive", "alive");
    }
    SECTION("--comm: both identical processes, not the other one") {
        it::RunResult r = it::run_tool({"--comm", "tc_holder", "-d", "7405", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(it::summary(4, 4)) != std::string::npos);
        expect_servers(a.servers, "reset");
        expect_servers(b.servers, "reset");
        expect_servers(c.servers, "alive");
        it::expect(mine, "alive", "alive");
    }
    SECTION("--comm AND --pid, with -t") {
        it::sleep_ms(300);
        it::send_byte(b.servers[0]);
        it::sleep_ms(20);
        it::RunResult r = it::run_tool({"--comm", "tc_holder", "--comm", "tc_other", "--pid", std::to_string(b.pid),
                                        "--pid", std::to_string(c.pid), "-d", "7405", "-t", "200", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(it::summary(2, 2)) != std::string::npos);
        expect_servers(a.servers, "alive");
        CHECK(state_of(b.servers[0]) == "alive");
        CHECK(state_of(b.servers[1]) == "reset");
        expect_servers(c.servers, "reset");
    }
    SECTION("--comm matches the name as the process has it, spaces too") {
        Connector spaced = spawn_connector(l, 7405, 1, [&] {
            it::close_all(mine);  // inherited: not this process's to hold
            prctl(PR_SET_NAME, "my prog");
        });
        it::RunResult r = it::run_tool({"--comm", "my?prog", "-d", "7405", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(it::summary(0, 0)) != std::string::npos);  // the log's spelling is not the name
        expect_servers(spaced.servers, "alive");
        r = it::run_tool({"--comm", "my prog", "-d", "7405", kNoSyslog});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.err.find(it::summary(1, 1)) != std::string::npos);
        CHECK(count(r.err, " pid=" + std::to_string(spaced.pid) + " comm=my?prog") == 1);  // one field in the log
        expect_servers(spaced.servers, "reset");
        expect_servers(a.servers, "alive");
        expect_servers(c.servers, "alive");
        spaced.stop();
    }
    SECTION("a dry run lists them with their process") {
        it::RunResult r = it::run_tool({"-n", "--comm", "tc_other", "-d", "7405", kNoSyslog});
        INFO("stdout: " << r.out << "\nstderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(count(r.out, "would_destroy ") == 1);
        CHECK(count(r.out, " pid=" + std::to_string(c.pid) + " comm=tc_other") == 1);
        expect_servers(c.servers, "alive");
    }
    a.stop();
    b.stop();
    c.stop();
    it::close_all(mine);
    close(l);
}

TEST_CASE("--uid and --pid work from /proc/net too (no mark, cgroup or device there)", "[owner][core]") {
    // [core]: also run with the tool under qemu, which has no NETLINK_SOCK_DIAG.
    int l = it::listen_on(AF_INET, "127.0.0.1", 7406);
    Connector nobody = spawn_connector(l, 7406, 2, [] {
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(4);
    });
    Connector root = spawn_connector(l, 7406, 1, [] {});
    Connector other = spawn_connector(l, 7406, 1, [] {});

    it::RunResult r = it::run_tool({"--uid", "65534", "-d", "7406", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find(it::summary(2, 2)) != std::string::npos);
    expect_servers(nobody.servers, "reset");
    expect_servers(root.servers, "alive");

    // Mark 0 is every unmarked socket where inet_diag reports marks; the
    // /proc/net tables carry none, so there it matches nothing.
    r = it::run_tool({"-n", "--mark", "0", "-d", "7406", kNoSyslog});
    INFO("stdout: " << r.out);
    CHECK(r.status == 0);
    CHECK(count(r.out, "would_destroy ") == (it::proc_net() ? 0 : 2));  // root's and other's

    r = it::run_tool({"--pid", std::to_string(root.pid), "-d", "7406", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find(it::summary(1, 1)) != std::string::npos);
    expect_servers(root.servers, "reset");
    expect_servers(other.servers, "alive");
    nobody.stop();
    root.stop();
    other.stop();
    close(l);
}
