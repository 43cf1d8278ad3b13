// The /proc walk over a fake tree made of plain directories and symlinks
// (readlink returns their text just as /proc/PID/fd links do). Needs no
// privileges and touches no process.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "sys/proc_sys.hpp"

using namespace tc;

namespace {

struct FakeTree {
    std::string root;
    FakeTree() {
        char tmpl[] = "/tmp/tcp_closer_proc.XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        root = tmpl;
    }
    ~FakeTree() { (void)std::system(("rm -rf " + root).c_str()); }
    void dir(const std::string& rel) { REQUIRE(mkdir((root + "/" + rel).c_str(), 0755) == 0); }
    void link(const std::string& rel, const std::string& target) {
        REQUIRE(symlink(target.c_str(), (root + "/" + rel).c_str()) == 0);
    }
    void process(int pid, const std::vector<std::pair<int, std::string>>& fds) {
        dir(std::to_string(pid));
        dir(std::to_string(pid) + "/fd");
        for (const auto& [fd, target] : fds) link(std::to_string(pid) + "/fd/" + std::to_string(fd), target);
    }
};

}  // namespace

TEST_CASE("proc walk: finds every holder of the wanted inodes and nothing else", "[proc_sys]") {
    FakeTree t;
    t.process(1, {{0, "/dev/null"}, {3, "socket:[500]"}});
    t.process(42, {{0, "pipe:[500]"}, {1, "anon_inode:[eventfd]"}, {4, "socket:[700]"}, {5, "socket:[500]"},
                   {9, "socket:[]"}, {10, "socket:[99999999999999999999]"}});
    t.process(4242, {{7, "socket:[700]"}, {8, "socket:[701]"}});
    t.dir("77");  // a process that exited mid-walk: no fd directory
    t.dir("sys");
    t.dir("007");  // not a pid name
    t.dir("007/fd");
    t.link("007/fd/3", "socket:[500]");
    t.link("self", "42");
    t.process(5000, {});  // a kernel thread: no fds
    // Many fds in one process: more than one getdents64 buffer of names.
    std::vector<std::pair<int, std::string>> many;
    for (int fd = 0; fd < 1500; ++fd) many.emplace_back(fd, fd == 1499 ? "socket:[900]" : "socket:[1]");
    t.process(6000, many);

    sys::ProcSys ps(t.root.c_str());
    OwnerMap map;
    auto recs = testutil::with_inodes({500, 700, 800, 900});
    REQUIRE(map.want(recs));
    REQUIRE(ps.find_holders(map, nullptr).ok());
    REQUIRE(map.finish());
    auto list = [&](uint32_t inode) {
        std::vector<std::pair<int32_t, int32_t>> v;
        for (const Holder& h : map.holders_of(inode)) v.emplace_back(h.pid, h.fd);
        std::sort(v.begin(), v.end());
        return v;
    };
    CHECK(list(500) == std::vector<std::pair<int32_t, int32_t>>{{1, 3}, {42, 5}});
    CHECK(list(700) == std::vector<std::pair<int32_t, int32_t>>{{42, 4}, {4242, 7}});
    CHECK(list(800).empty());
    CHECK(list(900) == std::vector<std::pair<int32_t, int32_t>>{{6000, 1499}});
    CHECK(list(701).empty());  // held, but not wanted
    CHECK(list(1).empty());
    CHECK(map.unreadable() == 0);

    char comm[16] = "x";
    ps.comm(42, comm);  // no comm file in the fake tree
    CHECK(std::string(comm).empty());
}

TEST_CASE("proc walk: a missing /proc is an error", "[proc_sys]") {
    sys::ProcSys ps("/nonexistent/tcp_closer/proc");
    OwnerMap map;
    auto recs = testutil::with_inodes({5});
    REQUIRE(map.want(recs));
    Status s = ps.find_holders(map, nullptr);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ENOENT);
}

TEST_CASE("proc walk for --pid/--comm: only the selected processes' fds", "[proc_sys][owner]") {
    FakeTree t;
    t.process(10, {{3, "socket:[500]"}});
    t.process(20, {{3, "socket:[600]"}});
    t.process(30, {{3, "socket:[700]"}, {4, "socket:[500]"}});
    auto comm = [&](int pid, const char* name) {
        FILE* f = std::fopen((t.root + "/" + std::to_string(pid) + "/comm").c_str(), "w");
        REQUIRE(f);
        std::fprintf(f, "%s\n", name);
        std::fclose(f);
    };
    comm(10, "nginx");
    comm(20, "sshd");
    comm(30, "nginx");
    sys::ProcSys ps(t.root.c_str());
    auto held = [&](const OwnerSel& o) {
        OwnerMap map;
        auto recs = testutil::with_inodes({500, 600, 700});
        REQUIRE(map.want(recs));
        REQUIRE(ps.find_holders(map, &o).ok());
        REQUIRE(map.finish());
        std::vector<std::pair<uint32_t, int32_t>> v;
        for (uint32_t inode : {500u, 600u, 700u})
            for (const Holder& h : map.holders_of(inode)) v.emplace_back(inode, h.pid);
        std::sort(v.begin(), v.end());
        return v;
    };
    using V = std::vector<std::pair<uint32_t, int32_t>>;
    OwnerSel pids;
    pids.n_pid = 2;
    pids.pid[0] = 30;
    pids.pid[1] = 99;  // no such process: nothing, no error
    CHECK(held(pids) == V{{500, 30}, {700, 30}});
    OwnerSel names;
    names.n_comm = 1;
    names.comm[0] = "nginx";
    CHECK(held(names) == V{{500, 10}, {500, 30}, {700, 30}});
    names.comm[0] = "ngin";  // whole names only
    CHECK(held(names).empty());
    names.comm[0] = "sshd";
    names.n_pid = 1;
    names.pid[0] = 10;  // pid AND comm: 10 is nginx
    CHECK(held(names).empty());
    names.pid[0] = 20;
    CHECK(held(names) == V{{600, 20}});
}
