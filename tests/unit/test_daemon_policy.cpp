// Which capability a run needs, which poll errors a daemon rides out, and
// the page allocator behind PodVec.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/daemon_policy.hpp"
#include "core/netns_list.hpp"
#include "core/pod_vec.hpp"

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

TEST_CASE("capabilities: each path names what it lacks", "[daemon_policy]") {
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

TEST_CASE("capabilities: --mark and --pid/--comm, even in a dry run", "[daemon_policy][owner]") {
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

TEST_CASE("poll errors: transient ones are ridden out, lasting ones end a daemon", "[daemon_policy]") {
    for (int e : {ENOBUFS, EINTR, EAGAIN, ENOENT, EPROTO, EMSGSIZE, ECONNREFUSED, EBADF}) {
        INFO(e);
        CHECK_FALSE(poll_error_is_lasting(e));
    }
    for (int e : {EPERM, EACCES, EPROTONOSUPPORT, EAFNOSUPPORT, ENOMEM}) {
        INFO(e);
        CHECK(poll_error_is_lasting(e));
    }
}

TEST_CASE("mem_resize: grows keeping contents, shrinks, frees", "[daemon_policy]") {
    auto* p = static_cast<uint8_t*>(mem_resize(nullptr, 0, 100));
    REQUIRE(p);
    std::memset(p, 0xab, 100);
    p = static_cast<uint8_t*>(mem_resize(p, 100, 1 << 20));  // past many pages: may move
    REQUIRE(p);
    for (int i = 0; i < 100; ++i) REQUIRE(p[i] == 0xab);
    p[(1 << 20) - 1] = 7;  // the whole new size is usable
    p = static_cast<uint8_t*>(mem_resize(p, 1 << 20, 10));
    REQUIRE(p);
    CHECK(p[9] == 0xab);
    mem_free(p, 10);
    CHECK(mem_resize(nullptr, 0, SIZE_MAX) == nullptr);  // too large: refused, not wrapped

    PodVec<uint32_t> v;
    for (uint32_t i = 0; i < 100000; ++i) REQUIRE(v.push_back(i));
    CHECK(v.size() == 100000);
    for (uint32_t i = 0; i < 100000; i += 997) CHECK(v[i] == i);
    REQUIRE(v.resize(5));
    CHECK(v[4] == 4);
}

TEST_CASE("netns list: each namespace once, under its first name", "[daemon_policy]") {
    NetnsList l;
    REQUIRE(l.add(3, 100, "blue", "/var/run/netns/blue"));
    REQUIRE(l.add(3, 200, "pid:1", "/proc/1/ns/net"));
    REQUIRE(l.add(3, 100, "pid:42", "/proc/42/ns/net"));  // blue again, through a process
    REQUIRE(l.add(4, 100, "pid:43", "/proc/43/ns/net"));  // same inode, other device: another one
    REQUIRE(l.size() == 3);
    CHECK(std::string(l[0].name) == "blue");
    CHECK(std::string(l[0].path) == "/var/run/netns/blue");
    CHECK(std::string(l[1].name) == "pid:1");
    CHECK(std::string(l[2].name) == "pid:43");
    std::string long_name(200, 'x');
    REQUIRE(l.add(5, 1, long_name, "/p"));
    CHECK(std::string(l[3].name) == long_name.substr(0, 63));  // clamped, still named
    REQUIRE(l.add(6, 1, "n", std::string(100, '/')));        // a path too long to open: left out
    CHECK(l.size() == 4);
    l.clear();
    CHECK(l.size() == 0);

    char path[32];
    REQUIRE(netns_path("blue", path, sizeof path));
    CHECK(std::string(path) == "/var/run/netns/blue");
    REQUIRE(netns_path("/proc/42/ns/net", path, sizeof path));
    CHECK(std::string(path) == "/proc/42/ns/net");
    CHECK_FALSE(netns_path(std::string(40, 'a'), path, sizeof path));
}

TEST_CASE("sock_diag missing: the errors that mean no NETLINK_SOCK_DIAG at all", "[daemon_policy]") {
    for (int err : {EPROTONOSUPPORT, EAFNOSUPPORT, EPFNOSUPPORT, ESOCKTNOSUPPORT}) CHECK(sock_diag_missing(err));
    for (int err : {EPERM, EACCES, EMFILE, ENFILE, ENOMEM, ENOBUFS, EINVAL}) CHECK_FALSE(sock_diag_missing(err));
}
