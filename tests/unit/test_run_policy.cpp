// Which capability a run needs (at start-up and after the engine switches
// its path), and which poll errors a daemon rides out.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/run_policy.hpp"

using namespace tc;

namespace {
constexpr uint64_t bit(int cap) { return 1ull << cap; }
std::string missing(uint64_t caps, bool dry, bool proc, bool netns) {
    RunNeeds n;
    n.dry_run = dry;
    n.proc_path = proc;
    n.other_netns = netns;
    const CapNeed* m = missing_capability(caps, n);
    return m ? m->name : "";
}
}  // namespace

TEST_CASE("capabilities: each path names what it lacks", "[run_policy]") {
    const uint64_t all =
        bit(kCapKill) | bit(kCapNetAdmin) | bit(kCapSysPtrace) | bit(kCapSysAdmin) | bit(kCapDacReadSearch);
    CHECK(missing(all, false, false, true).empty());
    CHECK(missing(0, false, false, false) == "CAP_NET_ADMIN");
    CHECK(missing(bit(kCapNetAdmin), false, false, false).empty());  // SOCK_DESTROY: CAP_NET_ADMIN only
    CHECK(missing(bit(kCapNetAdmin), false, true, false) == "CAP_SYS_PTRACE");
    CHECK(missing(bit(kCapSysPtrace), false, true, false) == "CAP_DAC_READ_SEARCH");
    CHECK(missing(bit(kCapSysPtrace) | bit(kCapDacReadSearch), false, true, false) == "CAP_KILL");
    CHECK(missing(bit(kCapSysPtrace) | bit(kCapDacReadSearch) | bit(kCapKill), false, true, false).empty());
    CHECK(missing(0, true, false, false).empty());  // a dry run needs nothing
    CHECK(missing(0, true, true, false).empty());
    CHECK(missing(0, true, false, true) == "CAP_SYS_ADMIN");  // but entering a namespace does
    CHECK(missing(bit(kCapNetAdmin), false, false, true) == "CAP_SYS_ADMIN");
    RunNeeds n;
    const CapNeed* m = missing_capability(0, n);
    REQUIRE(m);
    CHECK(std::string(m->why).find("SOCK_DESTROY") != std::string::npos);
}

TEST_CASE("capabilities: --mark and --pid/--comm, even in a dry run", "[run_policy][owner]") {
    RunNeeds n;
    n.dry_run = true;
    n.read_marks = true;
    const CapNeed* m = missing_capability(0, n);
    REQUIRE(m);
    CHECK(std::string(m->name) == "CAP_NET_ADMIN");
    CHECK(std::string(m->why).find("--mark") != std::string::npos);
    CHECK(missing_capability(bit(kCapNetAdmin), n) == nullptr);
    n.read_marks = false;
    n.find_processes = true;
    m = missing_capability(0, n);
    REQUIRE(m);
    CHECK(std::string(m->name) == "CAP_SYS_PTRACE");
    m = missing_capability(bit(kCapSysPtrace), n);
    REQUIRE(m);
    CHECK(std::string(m->name) == "CAP_DAC_READ_SEARCH");
    CHECK(missing_capability(bit(kCapSysPtrace) | bit(kCapDacReadSearch), n) == nullptr);
    // SOCK_DESTROY with --pid: CAP_NET_ADMIN as well
    n.dry_run = false;
    m = missing_capability(bit(kCapSysPtrace) | bit(kCapDacReadSearch), n);
    REQUIRE(m);
    CHECK(std::string(m->name) == "CAP_NET_ADMIN");
}

TEST_CASE("poll errors: transient ones are ridden out, lasting ones end a daemon", "[run_policy]") {
    for (int e : {ENOBUFS, EINTR, EAGAIN, ENOENT, EPROTO, EMSGSIZE, ECONNREFUSED, EBADF}) {
        INFO(e);
        CHECK_FALSE(poll_error_is_lasting(e));
    }
    for (int e : {EPERM, EACCES, EPROTONOSUPPORT, EAFNOSUPPORT, ENOMEM}) {
        INFO(e);
        CHECK(poll_error_is_lasting(e));
    }
}

TEST_CASE("sock_diag missing: the errors that mean no NETLINK_SOCK_DIAG at all", "[run_policy]") {
    for (int err : {EPROTONOSUPPORT, EAFNOSUPPORT, EPFNOSUPPORT, ESOCKTNOSUPPORT}) CHECK(sock_diag_missing(err));
    for (int err : {EPERM, EACCES, EMFILE, ENFILE, ENOMEM, ENOBUFS, EINVAL}) CHECK_FALSE(sock_diag_missing(err));
}

TEST_CASE("run policy: the needs follow the path, also when it changes mid-run", "[run_policy]") {
    // A daemon started on SOCK_DESTROY with CAP_NET_ADMIN alone.
    RunPolicy p(false, false, false, false, false, false);
    CHECK(p.missing_before_path(0) == nullptr);
    CHECK(p.missing(bit(kCapNetAdmin)) == nullptr);
    CHECK_FALSE(p.proc_path());
    // Later polls fail with EPERM: on this path nothing is lost.
    CHECK(p.lost_capability(bit(kCapNetAdmin), EPERM) == nullptr);
    CHECK(p.lost_capability(0, EPERM) != nullptr);
    CHECK(p.lost_capability(0, ENOENT) == nullptr);  // not a permission error
    // The engine switches to /proc/net (no tcp_diag): the /proc path's
    // capabilities are checked at once, and from then on the check for a
    // lost capability uses them.
    const CapNeed* m = p.use_proc_path(bit(kCapNetAdmin));
    REQUIRE(m);
    CHECK(std::string(m->name) == "CAP_SYS_PTRACE");
    CHECK(p.proc_path());
    m = p.lost_capability(bit(kCapNetAdmin), EPERM);
    REQUIRE(m);
    CHECK(std::string(m->name) == "CAP_SYS_PTRACE");
    m = p.lost_capability(bit(kCapNetAdmin) | bit(kCapSysPtrace), EACCES);
    REQUIRE(m);
    CHECK(std::string(m->name) == "CAP_DAC_READ_SEARCH");
    const uint64_t proc = bit(kCapSysPtrace) | bit(kCapDacReadSearch) | bit(kCapKill);
    CHECK(p.use_proc_path(proc) == nullptr);
    CHECK(p.lost_capability(proc, EPERM) == nullptr);
}

TEST_CASE("run policy: a dry run needs no path capability, before or after a switch", "[run_policy]") {
    RunPolicy p(true, false, true, false, false, false);
    const CapNeed* m = p.missing_before_path(0);
    REQUIRE(m);
    CHECK(std::string(m->name) == "CAP_SYS_ADMIN");  // --netns: entering it
    CHECK(p.missing_before_path(bit(kCapSysAdmin)) == nullptr);
    CHECK(p.use_proc_path(bit(kCapSysAdmin)) == nullptr);
    CHECK_FALSE(p.proc_path());  // a dry run ends nothing, on no path
    // --use_proc from the start: the /proc path, checked before the probe.
    RunPolicy q(false, true, false, false, false, false);
    CHECK(q.proc_path());
    CHECK(q.missing_before_path(0) == nullptr);
    m = q.missing(bit(kCapNetAdmin));
    REQUIRE(m);
    CHECK(std::string(m->name) == "CAP_SYS_PTRACE");
}

TEST_CASE("capabilities: arming needs what reaches another process's socket, and CAP_NET_ADMIN only beside ending",
          "[run_policy][arm]") {
    auto arming = [](uint64_t caps, bool ends, bool dry = false) {
        RunNeeds n;
        n.arms = true;
        n.ends = ends;
        n.dry_run = dry;
        const CapNeed* m = missing_capability(caps, n);
        return std::string(m ? m->name : "");
    };
    const uint64_t reach = bit(kCapSysPtrace) | bit(kCapDacReadSearch);
    CHECK(arming(0, false) == "CAP_SYS_PTRACE");
    CHECK(arming(bit(kCapSysPtrace), false) == "CAP_DAC_READ_SEARCH");
    CHECK(arming(reach, false).empty());  // arming alone: no CAP_NET_ADMIN, no CAP_KILL
    CHECK(arming(reach, true) == "CAP_NET_ADMIN");  // beside rules that end by SOCK_DESTROY
    CHECK(arming(reach | bit(kCapNetAdmin), true).empty());
    CHECK(arming(0, true, true).empty());  // a dry run needs nothing
    // The policy's own view: no SOCK_DESTROY socket for a run that ends nothing.
    CHECK_FALSE(RunPolicy(false, false, false, false, false, false, true, false).sock_destroy());
    CHECK(RunPolicy(false, false, false, false, false, false, true, true).sock_destroy());
}
