// The /proc path against real processes: connections held by children, a
// socket shared by parent and child, --kill_owner, and a socket nobody
// holds. Every run passes --use_proc itself, so these run in every mode
// (the NO_SOCK_DESTROY binary accepts it and always works this way).
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <string>
#include <vector>

#include "harness.hpp"

using it::Conn;
using it::count;
using it::state_of;

namespace {

const std::string kNoSyslog = "--disable_syslog";

// Every fd of `conns` and `listeners`: what a forked child must drop.
std::vector<int> all_fds(const std::vector<Conn>& conns, const std::vector<int>& listeners) {
    std::vector<int> v(listeners);
    for (const Conn& c : conns) {
        v.push_back(c.client);
        v.push_back(c.server);
    }
    return v;
}

std::vector<int> without(std::vector<int> v, int fd) {
    std::erase(v, fd);
    return v;
}

std::string proc_summary(size_t matched, size_t reset, size_t killed = 0, size_t no_owner = 0) {
    return "poll: matched=" + std::to_string(matched) + " destroyed=" + std::to_string(reset + killed) +
           " sock_destroy=0 reset=" + std::to_string(reset) + " shutdown=0 killed=" + std::to_string(killed) +
           " no_owner=" + std::to_string(no_owner) + " vanished=0 skipped=0 failed=0";
}

}  // namespace

TEST_CASE("/proc path: connections held by child processes are reset, the children keep running", "[proc]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7201);
    int noise_l = it::listen_on(AF_INET, "127.0.0.1", 7202);
    std::vector<Conn> hit, noise;
    for (int i = 0; i < 3; ++i) hit.push_back(it::connect_pair(l, AF_INET, "127.0.0.1", 7201));
    for (int i = 0; i < 2; ++i) noise.push_back(it::connect_pair(noise_l, AF_INET, "127.0.0.1", 7202));
    std::vector<Conn> everything(hit);
    everything.insert(everything.end(), noise.begin(), noise.end());
    const std::vector<int> fds = all_fds(everything, {l, noise_l});

    // Each child holds only its own server end, blocked reading it; the
    // parent closes its copy, so the child is the only holder.
    std::vector<it::Child> children;
    for (Conn& c : hit) {
        children.push_back(it::spawn_reader(c.server, without(fds, c.server)));
        close(c.server);
        c.server = -1;
    }
    it::Child noise_child = it::spawn_reader(noise[0].server, without(fds, noise[0].server));
    close(noise[0].server);
    noise[0].server = -1;

    it::RunResult r = it::run_tool({"--use_proc", "-s", "7201", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find(proc_summary(3, 3)) != std::string::npos);
    CHECK(count(r.err, "destroyed 127.0.0.1:7201 -> 127.0.0.1:") == 3);
    for (const it::Child& ch : children) {
        CHECK(count(r.err, "by=reset pid=" + std::to_string(ch.pid) + " comm=") == 1);
        CHECK(it::read_report(ch, 2000).find("error:") == 0);  // the blocked reader woke with an error
        CHECK(it::running(ch.pid));
    }
    for (const Conn& c : hit) CHECK(state_of(c.client) == "reset");  // the peer got the RST
    CHECK(it::read_report(noise_child, 200).empty());                 // still blocked: untouched
    CHECK(state_of(noise[0].client) == "alive");
    CHECK(state_of(noise[1].server) == "alive");
    CHECK(state_of(noise[1].client) == "alive");
    Conn fresh = it::connect_pair(l, AF_INET, "127.0.0.1", 7201);  // the listener survived
    CHECK(state_of(fresh.server) == "alive");
    it::close_all({fresh});

    for (it::Child& ch : children) CHECK(it::stop_child(ch) == 128 + SIGTERM);  // alive until now
    CHECK(it::stop_child(noise_child) == 128 + SIGTERM);
    for (const Conn& c : hit) close(c.client);
    close(noise[0].client);
    it::close_all({noise[1]});
    close(l);
    close(noise_l);
}

TEST_CASE("/proc path: a socket shared by a parent and its child is reset once", "[proc]") {
    int l = it::listen_on(AF_INET6, "::1", 7211);
    Conn c = it::connect_pair(l, AF_INET6, "::1", 7211);
    it::Child child = it::spawn_reader(c.server, {l, c.client});  // the parent keeps c.server too
    it::RunResult r = it::run_tool({"--use_proc", "-6", "-s", "7211", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find(proc_summary(1, 1)) != std::string::npos);
    CHECK(count(r.err, "by=reset") == 1);
    CHECK(it::read_report(child, 2000).find("error:") == 0);
    CHECK(state_of(c.client) == "reset");
    CHECK(it::running(child.pid));
    CHECK(it::stop_child(child) == 128 + SIGTERM);
    it::close_all({c});
    close(l);
}

TEST_CASE("--kill_owner kills the child that holds the connection and nothing else", "[proc]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7221);
    int noise_l = it::listen_on(AF_INET, "127.0.0.1", 7222);
    Conn hit = it::connect_pair(l, AF_INET, "127.0.0.1", 7221);
    Conn noise = it::connect_pair(noise_l, AF_INET, "127.0.0.1", 7222);
    const std::vector<int> fds = all_fds({hit, noise}, {l, noise_l});
    it::Child victim = it::spawn_reader(hit.server, without(fds, hit.server));
    it::Child bystander = it::spawn_reader(noise.server, without(fds, noise.server));
    close(hit.server);
    close(noise.server);

    it::RunResult r = it::run_tool({"--kill_owner", "-s", "7221", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find(proc_summary(1, 0, 1)) != std::string::npos);
    CHECK(count(r.err, "killed pid " + std::to_string(victim.pid) + " (") == 1);
    CHECK(r.err.find("--kill_owner was given") != std::string::npos);
    CHECK(count(r.err, "by=killed pid=" + std::to_string(victim.pid)) == 1);
    CHECK(it::wait_tool(victim.pid, 2000) == 128 + SIGKILL);
    close(victim.report);
    CHECK(state_of(hit.client) == "eof");  // the kernel closed the dead process's socket
    CHECK(it::running(bystander.pid));
    CHECK(it::read_report(bystander, 200).empty());
    CHECK(state_of(noise.client) == "alive");
    CHECK(it::stop_child(bystander) == 128 + SIGTERM);
    close(hit.client);
    close(noise.client);
    close(l);
    close(noise_l);
}

TEST_CASE("/proc path: a connection no process holds is no_owner, not a failure", "[proc]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7231);
    // Connected but never accepted: established, in the accept queue, no fd.
    int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    Conn probe = it::connect_pair(l, AF_INET, "127.0.0.1", 7231);  // accepted: held by us
    close(probe.server);
    it::close_all({});
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(7231);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    it::sleep_ms(50);

    it::RunResult r = it::run_tool({"--use_proc", "-s", "7231", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find(proc_summary(1, 0, 0, 1)) != std::string::npos);
    CHECK(count(r.err, "no_owner 127.0.0.1:7231 -> 127.0.0.1:") == 1);
    CHECK(state_of(client) == "alive");
    close(client);
    close(probe.client);
    close(l);
}

// The shipped unit's ProcSubset=pid mounts procfs with subset=pid: /proc/net
// is gone, /proc/self/net stays. The tables are read through the latter, and
// a table that cannot be opened is an error, never an empty one: Linux 5.10
// lists /proc/self/net/tcp and tcp6 there but opens neither (src/KERNEL.md),
// and the tool must say so rather than find nothing.
TEST_CASE("a procfs with subset=pid (ProcSubset=pid): the tables are still found", "[proc][core]") {
    const int port = 7241;
    int l6 = it::listen_on(AF_INET6, "::1", port);
    Conn c = it::connect_pair(l6, AF_INET6, "::1", port);
    const std::string mount = "mount -t proc -o subset=pid proc /proc && test ! -e /proc/net/tcp";
    const std::vector<std::string> subset = {"unshare", "-m", "--propagation", "private", "sh", "-c",
                                             mount + " && exec \"$@\"", "sh"};
    const bool tables_open =
        std::system(("unshare -m --propagation private sh -c '" + mount + " && cat /proc/self/net/tcp6 >/dev/null'").c_str()) == 0;
    it::RunResult r = it::run_tool_wrapped(subset, {"-6", "-s", std::to_string(port), kNoSyslog});
    INFO(r.out << r.err);
    if (!tables_open && it::proc_net()) {
        CHECK(r.status == 1);
        CHECK(count(r.err, "cannot open /proc/self/net/tcp6: No such file or directory") == 1);
        CHECK(state_of(c.client) == "alive");
        close(c.client);
        close(c.server);
        close(l6);
        return;
    }
    CHECK(r.status == 0);
    CHECK(count(r.err, "destroyed [::1]:" + std::to_string(port)) == 1);
    CHECK(state_of(c.client) == "reset");
    close(c.client);
    close(c.server);
    close(l6);
}

// A connect() to a black hole stays in SYN_SENT: here a veth pair of the
// suite's namespace whose far end has no address, with a static neighbour
// entry, so the SYNs go out and nothing answers. Every way ends it:
// SOCK_DESTROY, and the /proc path, which must identify the duplicate
// without a peer (getpeername answers ENOTCONN).
TEST_CASE("a syn-sent connection to a black hole is ended", "[proc][core]") {
    auto sh = [](const std::string& cmd) { REQUIRE(std::system(cmd.c_str()) == 0); };
    (void)std::system("ip link del tcb0 2>/dev/null");
    sh("ip link add tcb0 type veth peer name tcb1 && ip addr add 10.78.0.1/24 dev tcb0 && ip link set tcb0 up && "
       "ip link set tcb1 up && ip neigh replace 10.78.0.2 lladdr 02:00:00:00:00:02 dev tcb0 nud permanent");
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_storage ss{};
    const socklen_t len = it::make_addr(AF_INET, "10.78.0.2", 7251, ss);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == -1);
    REQUIRE(errno == EINPROGRESS);
    it::sleep_ms(50);
    it::RunResult r = it::run_tool({"--state", "syn-sent", "-d", "7251", kNoSyslog});
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(count(r.err, "destroyed 10.78.0.1:") == 1);
    CHECK(count(r.err, "destroyed=1 ") == 1);  // not "vanished"
    int err = 0;
    socklen_t n = sizeof err;
    REQUIRE(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &n) == 0);
    CHECK(err == (it::proc_path() ? ECONNRESET : ECONNABORTED));
    close(fd);
    (void)std::system("ip link del tcb0 2>/dev/null");
}

// In a private PID namespace the /proc path sees none of the holders: the
// connections are left, and the run says why and exits 1 rather than 0
// (a socket with no file at all, such as one in an accept queue, is
// no_owner and not a failure: the test above).
TEST_CASE("/proc path: holders out of sight are said once, and a one-shot run fails", "[proc]") {
    int l = it::listen_on(AF_INET, "127.0.0.1", 7261);
    Conn c = it::connect_pair(l, AF_INET, "127.0.0.1", 7261);
    it::RunResult r = it::run_tool_wrapped({"unshare", "-p", "-f", "--mount-proc"},
                                           {"--use_proc", "-s", "7261", kNoSyslog});
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    CHECK(count(r.err, "no_owner=1") == 1);
    CHECK(count(r.err, "not visible in /proc (a private PID namespace") >= 1);
    CHECK(state_of(c.client) == "alive");
    close(c.client);
    close(c.server);
    close(l);
}
