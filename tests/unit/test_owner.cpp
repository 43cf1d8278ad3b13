#include <catch2/catch.hpp>

#include <string>

#include "core/owner.hpp"
#include "report/report.hpp"
#include "core/selection.hpp"
#include "helpers.hpp"

using namespace tc;

namespace {

bool mark(const char* text, uint32_t value, uint32_t mask) {
    MarkSel m;
    return parse_mark(text, m) && m.value == value && m.mask == mask;
}

std::string dir(const char* mount, const char* value, size_t cap = 256) {
    char out[256] = "unchanged";
    return cgroup_dir(mount, value, out, cap) ? std::string(out) : std::string("<too long>");
}

}  // namespace

TEST_CASE("parse_mark: decimal and hex, with and without a mask", "[owner]") {
    CHECK(mark("0", 0, 0xffffffffu));
    CHECK(mark("16", 16, 0xffffffffu));
    CHECK(mark("0x10", 0x10, 0xffffffffu));
    CHECK(mark("0X1F/0xff", 0x1f, 0xff));
    CHECK(mark("0x10/0xf0", 0x10, 0xf0));
    CHECK(mark("4294967295", 0xffffffffu, 0xffffffffu));
    CHECK(mark("0xffffffff/0xffffffff", 0xffffffffu, 0xffffffffu));
    CHECK(mark("0/0", 0, 0));
    MarkSel m;
    for (const char* bad : {"", "-1", "0x", "0x1/0x", "0x1/", "/0x1", "1/2/3", "0x100000000", "4294967296",
                            "0x1g", "1 ", "0x3/0x1", "1/0", "+1"}) {
        INFO(bad);
        CHECK_FALSE(parse_mark(bad, m));
    }
}

TEST_CASE("process_selected: pids OR-ed, comms OR-ed, the two AND-ed", "[owner]") {
    OwnerSel o;
    o.n_pid = 2;
    o.pid[0] = 10;
    o.pid[1] = 20;
    CHECK(process_selected(o, 10, "x"));
    CHECK(process_selected(o, 20, "y"));
    CHECK_FALSE(process_selected(o, 30, "x"));
    o.n_comm = 2;
    o.comm[0] = "sshd";
    o.comm[1] = "nginx";
    CHECK(process_selected(o, 10, "sshd"));
    CHECK(process_selected(o, 20, "nginx"));
    CHECK_FALSE(process_selected(o, 10, "ssh"));      // whole names only
    CHECK_FALSE(process_selected(o, 10, "sshd2"));
    CHECK_FALSE(process_selected(o, 30, "sshd"));     // the pid does not match
    o.n_pid = 0;
    CHECK(process_selected(o, 30, "sshd"));
    CHECK_FALSE(process_selected(o, 30, "bash"));
}

TEST_CASE("passwd lines: the uid of exactly that user", "[owner]") {
    uint32_t uid = 7;
    CHECK(passwd_line_uid("backup:x:34:34:backup:/var/backups:/usr/sbin/nologin", "backup", uid));
    CHECK(uid == 34);
    CHECK(passwd_line_uid("root:x:0:0:root:/root:/bin/bash", "root", uid));
    CHECK(uid == 0);
    uid = 7;
    CHECK_FALSE(passwd_line_uid("backup:x:34:34::/:", "back", uid));
    CHECK_FALSE(passwd_line_uid("backup:x:34:34::/:", "backups", uid));
    CHECK_FALSE(passwd_line_uid("backup:x:abc:34::/:", "backup", uid));
    CHECK_FALSE(passwd_line_uid("backup:x:", "backup", uid));
    CHECK_FALSE(passwd_line_uid("backup", "backup", uid));
    CHECK_FALSE(passwd_line_uid("", "backup", uid));
    CHECK_FALSE(passwd_line_uid(":x:5:5::/:", "", uid));
    CHECK(uid == 7);
}

TEST_CASE("mountinfo lines: the cgroup2 mount point", "[owner]") {
    char out[64] = "";
    CHECK(mountinfo_cgroup2("35 24 0:30 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 "
                            "cgroup2 rw,nsdelegate",
                            out, sizeof out));
    CHECK(std::string(out) == "/sys/fs/cgroup/unified");
    CHECK(mountinfo_cgroup2("30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw", out, sizeof out));
    CHECK(std::string(out) == "/sys/fs/cgroup");
    // no optional fields at all, and several
    CHECK(mountinfo_cgroup2("1 2 0:3 / /cg rw a:1 b:2 c:3 - cgroup2 none rw", out, sizeof out));
    // A NUL in the mount point (found by fuzz_values) would cut the path.
    CHECK_FALSE(mountinfo_cgroup2(std::string_view("1 2 0:3 / /c\0g rw - cgroup2 none rw", 35), out, sizeof out));
    CHECK(std::string(out) == "/cg");
    CHECK_FALSE(mountinfo_cgroup2("36 24 0:31 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,name=systemd",
                                  out, sizeof out));
    CHECK_FALSE(mountinfo_cgroup2("22 1 8:1 / / rw - ext4 /dev/sda1 rw", out, sizeof out));
    CHECK_FALSE(mountinfo_cgroup2("22 1 8:1 / /a-b rw - cgroup2x x rw", out, sizeof out));
    CHECK_FALSE(mountinfo_cgroup2("garbage", out, sizeof out));
    CHECK_FALSE(mountinfo_cgroup2("", out, sizeof out));
    char tiny[8];
    CHECK_FALSE(mountinfo_cgroup2("30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw", tiny, sizeof tiny));
}

TEST_CASE("cgroup_dir: below the mount, or a full path as it is", "[owner]") {
    CHECK(dir("/sys/fs/cgroup", "/system.slice/x.service") == "/sys/fs/cgroup/system.slice/x.service");
    CHECK(dir("/sys/fs/cgroup", "system.slice") == "/sys/fs/cgroup/system.slice");
    CHECK(dir("/sys/fs/cgroup", "/") == "/sys/fs/cgroup/");
    CHECK(dir("/sys/fs/cgroup", "/sys/fs/cgroup/a") == "/sys/fs/cgroup/a");
    CHECK(dir("/sys/fs/cgroup", "/sys/fs/cgroup") == "/sys/fs/cgroup");
    // only a whole mount-point component counts as "full"
    CHECK(dir("/sys/fs/cgroup", "/sys/fs/cgroupx") == "/sys/fs/cgroup/sys/fs/cgroupx");
    CHECK(dir("/sys/fs/cgroup/unified", "/sys/fs/cgroup/a") == "/sys/fs/cgroup/unified/sys/fs/cgroup/a");
    CHECK(dir("/cg", "/abc", 8) == "/cg/abc");
    CHECK(dir("/cg", "/abcd", 8) == "<too long>");
    CHECK(dir("/cg", "abc", 8) == "/cg/abc");
    CHECK(dir("/cg", "abcd", 8) == "<too long>");
}

TEST_CASE("selection: --uid and --dev from the reply header", "[owner][selection]") {
    Selection sel;
    const DumpScope scope{AF_INET, V6Scope::Any};
    SockRecord r = testutil::rec("127.0.0.1", 22, "127.0.0.1", 5);
    r.uid = 1000;
    r.inode = 77;  // a socket some process holds
    r.id.idiag_if = 3;
    CHECK(matches_filter(sel, scope, r));
    sel.owner.n_uid = 2;
    sel.owner.uid[0] = 0;
    sel.owner.uid[1] = 1000;
    CHECK(matches_filter(sel, scope, r));
    sel.owner.uid[1] = 1001;
    CHECK_FALSE(matches_filter(sel, scope, r));
    sel.owner.uid[1] = 1000;
    sel.owner.n_dev = 1;
    sel.owner.ifindex[0] = 1;
    CHECK_FALSE(matches_filter(sel, scope, r));
    sel.owner.ifindex[0] = 3;
    CHECK(matches_filter(sel, scope, r));
    r.id.idiag_if = 0;  // not bound to any device
    CHECK_FALSE(matches_filter(sel, scope, r));
}

TEST_CASE("selection: --mark and --cgroup from the reply attributes", "[owner][selection]") {
    Selection sel;
    SockExtras x;
    uint8_t ix = 99;
    CHECK(owner_attrs_match(sel, x, ix));  // none asked: anything
    CHECK(ix == 0);
    sel.owner.n_mark = 2;
    sel.owner.mark[0] = {0x1, 0x1};
    sel.owner.mark[1] = {0x20, 0xf0};
    x.has_mark = true;
    x.mark = 0x2e;  // matches the second only
    CHECK(owner_attrs_match(sel, x, ix));
    CHECK(ix == 2);
    x.mark = 0x3;  // matches the first (the first that matches is reported)
    CHECK(owner_attrs_match(sel, x, ix));
    CHECK(ix == 1);
    x.mark = 0x10;
    CHECK_FALSE(owner_attrs_match(sel, x, ix));
    x.has_mark = false;  // no mark attribute (no CAP_NET_ADMIN): never selected
    x.mark = 0x1;
    CHECK_FALSE(owner_attrs_match(sel, x, ix));
    x.has_mark = true;
    sel.owner.n_cgroup = 1;
    sel.owner.cgroup[0] = 4242;
    x.has_cgroup = true;
    x.cgroup = 4242;
    CHECK(owner_attrs_match(sel, x, ix));
    CHECK(ix == (1 << 4 | 1));
    x.cgroup = 4243;
    CHECK_FALSE(owner_attrs_match(sel, x, ix));
    x.cgroup = 4242;
    x.has_cgroup = false;  // a kernel before 5.7, or a time-wait socket
    CHECK_FALSE(owner_attrs_match(sel, x, ix));
}

// Time-wait and syn-recv sockets (and orphans) have no owner: the kernel
// reports inode 0 and uid 0 whoever made them. No owner selector selects
// them and no owner exclusion could protect them, so with any of those they
// are never selected; without, they are like any socket.
TEST_CASE("selection: a socket without an owner never answers an owner question", "[owner][selection]") {
    const DumpScope scope{AF_INET, V6Scope::Any};
    SockRecord tw = testutil::rec("127.0.0.1", 22, "127.0.0.1", 5, 6 /* TIME_WAIT */);
    SockRecord held = tw;
    held.state = 1;
    held.inode = 4242;
    Selection plain;
    plain.states = 0xfff;
    REQUIRE(parse_ports("22", plain.sports).ok());
    CHECK(matches_filter(plain, scope, tw));
    for (int kind = 0; kind < 5; ++kind) {
        Selection sel = plain;
        switch (kind) {
            case 0: sel.owner.n_uid = 1; break;                                   // --uid 0 (root)
            case 1: sel.owner.n_pid = 1, sel.owner.pid[0] = 1; break;             // --pid 1
            case 2: sel.owner.n_comm = 1, sel.owner.comm[0] = "sshd"; break;      // --comm sshd
            case 3: sel.ex.owner.n_uid = 1, sel.ex.owner.uid[0] = 1000; break;   // --exclude-uid 1000
            case 4: sel.ex.owner.n_comm = 1, sel.ex.owner.comm[0] = "db"; break;  // --exclude-comm db
        }
        INFO("kind " << kind);
        CHECK_FALSE(matches_filter(sel, scope, tw));
        CHECK_FALSE(selected(sel, scope, tw));
        CHECK(matches_filter(sel, scope, held));  // (a process walk decides --pid/--comm later)
    }
    char line[512];
    format_candidate(line, sizeof line, tw, 0, false, 0);
    CHECK(std::string(line).find("selected=no (no owner)") != std::string::npos);
    format_candidate(line, sizeof line, held, 0, false, 0);
    CHECK(std::string(line).find("selected=no") != std::string::npos);
    CHECK(std::string(line).find("(no owner)") == std::string::npos);
}
