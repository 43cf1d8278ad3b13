// Log lines: one per connection (each way of ending it), per killed
// process, per poll, and the syslog framing.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "helpers.hpp"
#include "core/errors.hpp"
#include "report/report.hpp"

using namespace tc;

TEST_CASE("report lines", "[report]") {
    SockRecord r = testutil::rec("127.0.0.1", 22, "127.0.0.2", 40000);
    r.has_info = true;
    r.last_data_recv_ms = 61000;
    r.uid = 1000;
    r.inode = 555;
    char buf[kLineMax];
    const std::string head = "127.0.0.1:22 -> 127.0.0.2:40000 state=ESTABLISHED last_recv_ms=61000 uid=1000 inode=555";
    EndResult k;
    k.outcome = Outcome::Ended;
    k.method = Method::SockDestroy;
    format_result(buf, sizeof buf, r, k);
    CHECK(std::string(buf) == "destroyed " + head + " by=sock_destroy");
    k.method = Method::Reset;
    k.pid = 4242;
    std::memcpy(k.comm, "app", 4);
    format_result(buf, sizeof buf, r, k);
    CHECK(std::string(buf) == "destroyed " + head + " by=reset pid=4242 comm=app");
    k.method = Method::Shutdown;
    k.err = EBUSY;
    format_result(buf, sizeof buf, r, k);
    CHECK(std::string(buf) == "destroyed " + head + " by=shutdown pid=4242 comm=app (reset refused: " +
                                  tc::error_text(EBUSY) + ")");
    k.method = Method::Kill;
    k.err = EPERM;
    k.procs = 3;
    format_result(buf, sizeof buf, r, k);
    CHECK(std::string(buf) == "destroyed " + head + " by=killed pid=4242 comm=app (+2 more) (reset impossible: " +
                                  tc::error_text(EPERM) + ")");
    k.err = 0;
    k.procs = 1;
    format_result(buf, sizeof buf, r, k);
    CHECK(std::string(buf) == "destroyed " + head + " by=killed pid=4242 comm=app (--kill_owner)");
    // A name with a space or odd bytes stays one field of one line.
    std::memcpy(k.comm, "my prog\t\xff", 10);
    format_result(buf, sizeof buf, r, k);
    CHECK(std::string(buf) == "destroyed " + head + " by=killed pid=4242 comm=my?prog?? (--kill_owner)");
    format_kill(buf, sizeof buf, r, 4242, "my prog", 0);
    CHECK(std::string(buf).find("killed pid 4242 (my?prog): ") == 0);
    k.comm[0] = '\0';
    format_result(buf, sizeof buf, r, k);
    CHECK(std::string(buf) == "destroyed " + head + " by=killed pid=4242 comm=? (--kill_owner)");
    EndResult none;
    none.outcome = Outcome::NoOwner;
    format_result(buf, sizeof buf, r, none);
    CHECK(std::string(buf) == "no_owner " + head);
    EndResult note;
    note.err = EACCES;
    note.note = Note::OwnerUnreadable;
    format_result(buf, sizeof buf, r, note);
    CHECK(std::string(buf) == "failed " + head + " error=" + tc::error_text(EACCES) + " (" +
                                  note_text(Note::OwnerUnreadable) + ")");
    format_kill(buf, sizeof buf, r, 77, "sshd", EPERM);
    CHECK(std::string(buf) == std::string("killed pid 77 (sshd): it holds 127.0.0.1:22 -> 127.0.0.2:40000 inode=555, "
                                          "and resetting the connection inside it is not possible: ") +
                                  tc::error_text(EPERM));
    format_kill(buf, sizeof buf, r, 77, "", 0);
    CHECK(std::string(buf).find("killed pid 77 (?): ") == 0);
    CHECK(std::string(buf).find(", and --kill_owner was given") != std::string::npos);
    // A line never overruns its buffer, whatever is appended.
    char small[40];
    format_result(small, sizeof small, r, k);
    CHECK(std::string(small) == std::string("destroyed " + head).substr(0, 39));
    EndResult failed;
    failed.err = EPERM;
    format_result(buf, sizeof buf, testutil::rec("::1", 443, "::1", 5), failed);
    CHECK(std::string(buf).find("failed [::1]:443 -> [::1]:5 state=ESTABLISHED last_recv_ms=- ") == 0);
    CHECK(std::string(buf).find("error=") != std::string::npos);
    PollStats st;
    st.matched = 12;
    st.ended = 4;
    st.sock_destroy = st.reset = st.shutdown = st.killed = 1;
    st.no_owner = 2;
    st.vanished = 1;
    st.skipped = 3;
    st.failed = 2;
    format_summary(buf, sizeof buf, st);
    CHECK(std::string(buf) == "poll: matched=12 destroyed=4 sock_destroy=1 reset=1 shutdown=1 killed=1 no_owner=2 "
                              "vanished=1 skipped=3 failed=2");
    PollStats dry;
    dry.matched = 5;
    dry.would_end = 3;
    dry.skipped = 2;
    format_summary(buf, sizeof buf, dry, true);
    CHECK(std::string(buf) == "poll (dry run): matched=5 would_destroy=3 skipped=2");
    EndResult skipped;
    skipped.outcome = Outcome::Skipped;
    format_result(buf, sizeof buf, r, skipped);
    CHECK(std::string(buf) == "skipped " + head + " (over --max-kills)");
    EndResult would;
    would.outcome = Outcome::WouldEnd;
    format_result(buf, sizeof buf, r, would);
    CHECK(std::string(buf) == "would_destroy " + head);
    format_candidate(buf, sizeof buf, r, 1234, true);
    CHECK(std::string(buf).find("rtt_us=1234 last_recv_ms=61000") != std::string::npos);
}

TEST_CASE("report lines name the owner values that matched", "[report][owner]") {
    SockRecord r = testutil::rec("127.0.0.1", 22, "127.0.0.2", 40000);
    r.uid = 34;
    r.inode = 9;
    r.id.idiag_if = 7;
    OwnerSel o;
    o.n_mark = 2;
    o.mark[0] = {0x1, 0x1};
    o.mark[1] = {0x10, 0xf0};
    o.n_cgroup = 2;
    o.cgroup_path[0] = "/a";
    o.cgroup_path[1] = "/system.slice/x.service";
    o.n_dev = 2;
    o.dev_name[0] = "lo";
    o.ifindex[0] = 1;
    o.dev_name[1] = "vrf-blue";
    o.ifindex[1] = 7;
    r.owner_ix = 2 << 4 | 2;
    EndResult k;
    k.outcome = Outcome::Ended;
    k.method = Method::SockDestroy;
    char buf[kLineMax];
    const std::string head = "destroyed 127.0.0.1:22 -> 127.0.0.2:40000 state=ESTABLISHED last_recv_ms=- uid=34 inode=9";
    format_result(buf, sizeof buf, r, k, &o);
    CHECK(std::string(buf) == head + " mark=0x10/0xf0 cgroup=/system.slice/x.service dev=vrf-blue by=sock_destroy");
    r.owner_ix = 1;
    r.id.idiag_if = 3;  // not one of the --dev values (cannot happen when --dev selected it)
    format_result(buf, sizeof buf, r, k, &o);
    CHECK(std::string(buf) == head + " mark=0x1/0x1 by=sock_destroy");
    // --pid/--comm name the process on the SOCK_DESTROY path too
    k.pid = 42;
    std::memcpy(k.comm, "sshd", 5);
    format_result(buf, sizeof buf, r, k);
    CHECK(std::string(buf) == head + " by=sock_destroy pid=42 comm=sshd");
    k.outcome = Outcome::WouldEnd;
    format_result(buf, sizeof buf, r, k);
    CHECK(std::string(buf) == "would_destroy 127.0.0.1:22 -> 127.0.0.2:40000 state=ESTABLISHED last_recv_ms=- uid=34 "
                              "inode=9 pid=42 comm=sshd");
    OwnerMatch none = owner_match(nullptr, r);
    CHECK(none.mark.mask == 0);
    CHECK(none.cgroup == nullptr);
    CHECK(none.dev == nullptr);
}

TEST_CASE("report: a UDP socket's lines say proto=udp, a TCP one's say nothing", "[report][udp]") {
    SockRecord r = testutil::rec("127.0.0.1", 40001, "127.0.0.1", 53);
    r.udp = true;
    r.inode = 7;
    EndResult k;
    k.outcome = Outcome::Ended;
    k.method = Method::Shutdown;  // the /proc path for UDP: no "reset refused" note
    k.pid = 9;
    std::memcpy(k.comm, "dig", 4);
    char buf[kLineMax];
    format_result(buf, sizeof buf, r, k);
    CHECK(std::string(buf) == "destroyed 127.0.0.1:40001 -> 127.0.0.1:53 state=ESTABLISHED proto=udp last_recv_ms=- "
                              "uid=0 inode=7 by=shutdown pid=9 comm=dig");
    format_candidate(buf, sizeof buf, r, 0, true);
    CHECK(std::string(buf) == "candidate 127.0.0.1:40001 -> 127.0.0.1:53 state=ESTABLISHED proto=udp rtt_us=- "
                              "last_recv_ms=- uid=0 inode=7 selected=yes");
    format_kill(buf, sizeof buf, r, 9, "dig", EPERM);
    CHECK(std::string(buf).find("it holds 127.0.0.1:40001 -> 127.0.0.1:53 proto=udp inode=7") != std::string::npos);
    r.udp = false;
    format_result(buf, sizeof buf, r, k);
    CHECK(std::string(buf).find("proto=") == std::string::npos);
    k.err = EBUSY;  // TCP's shutdown: the reset was refused
    format_result(buf, sizeof buf, r, k);
    CHECK(std::string(buf).find(" (reset refused: ") != std::string::npos);
}

TEST_CASE("report: --stalled and --send_idle lines show the figures they judged", "[report][stalled]") {
    SockRecord r = testutil::rec("127.0.0.1", 40000, "10.0.0.9", 443);
    r.has_info = true;
    r.last_data_recv_ms = 31000;
    r.unacked = 3;
    r.last_ack_recv_ms = 30500;
    r.figures = SockRecord::kFigureRecv | SockRecord::kFigureUnacked | SockRecord::kFigureAckRecv;  // no sent figure
    r.inode = 7;
    EndResult k;
    k.outcome = Outcome::Ended;
    k.method = Method::SockDestroy;
    char buf[kLineMax];
    const uint8_t all = SockRecord::kFigureUnacked | SockRecord::kFigureAckRecv | SockRecord::kFigureSent;
    format_result(buf, sizeof buf, r, k, nullptr, all);
    CHECK(std::string(buf) == "destroyed 127.0.0.1:40000 -> 10.0.0.9:443 state=ESTABLISHED last_recv_ms=31000 "
                              "unacked=3 last_ack_ms=30500 last_send_ms=- uid=0 inode=7 by=sock_destroy");
    format_result(buf, sizeof buf, r, k);  // no rule reads them: not shown
    CHECK(std::string(buf).find("unacked") == std::string::npos);
    format_candidate(buf, sizeof buf, r, 250, true, SockRecord::kFigureUnacked | SockRecord::kFigureAckRecv);
    CHECK(std::string(buf).find(" last_recv_ms=31000 unacked=3 last_ack_ms=30500 uid=0 ") != std::string::npos);
}

TEST_CASE("report: arming's lines say what was set, what the holder's choice kept, and how", "[report][arm]") {
    SockRecord r = testutil::rec("127.0.0.1", 40000, "10.0.0.9", 5432);
    r.uid = 0;
    r.inode = 77;
    ArmSpec spec;
    spec.user_timeout_ms = 2000;
    spec.keep_idle_s = 60;
    spec.keep_intvl_s = 10;
    spec.keep_count = 3;
    char buf[kLineMax];
    const std::string head = "127.0.0.1:40000 -> 10.0.0.9:5432 state=ESTABLISHED last_recv_ms=- uid=0 inode=77 rule=db";
    EndResult k;
    k.outcome = Outcome::Armed;
    k.method = Method::Dup;
    k.pid = 300;
    std::memcpy(k.comm, "app", 4);
    k.arm = kArmUserTimeout | kArmKeepalive;
    format_result(buf, sizeof buf, r, k, nullptr, 0, "db", &spec);
    CHECK(std::string(buf) ==
          "armed " + head + " by=pidfd_getfd pid=300 comm=app user_timeout_ms=2000 keepalive_s=60,10,3");
    k.arm = kArmKeepalive | kArmUserTimeout << 4;
    format_result(buf, sizeof buf, r, k, nullptr, 0, "db", &spec);
    CHECK(std::string(buf) == "armed " + head + " by=pidfd_getfd pid=300 comm=app keepalive_s=60,10,3 kept=user_timeout");
    k.outcome = Outcome::Kept;
    k.arm = (kArmUserTimeout | kArmKeepalive) << 4;
    format_result(buf, sizeof buf, r, k, nullptr, 0, "db", &spec);
    CHECK(std::string(buf) == "kept " + head + " pid=300 comm=app kept=user_timeout,keepalive");
    // A refusal part way: what was set before it is said, then the error.
    k.outcome = Outcome::Failed;
    k.arm = kArmUserTimeout;
    k.err = EINVAL;
    format_result(buf, sizeof buf, r, k, nullptr, 0, "db", &spec);
    CHECK(std::string(buf) == "failed " + head + " pid=300 comm=app user_timeout_ms=2000 error=" +
                                  tc::error_text(EINVAL));
    EndResult w;
    w.outcome = Outcome::WouldArm;
    format_result(buf, sizeof buf, r, w, nullptr, 0, "db", &spec);
    CHECK(std::string(buf) == "would_arm " + head);
    CHECK(kept_names(0) == nullptr);
    CHECK(std::string(kept_names(kArmKeepalive << 4)) == "keepalive");
}

TEST_CASE("report: the summary counts armed and kept only when a rule arms", "[report][arm]") {
    PollStats s;
    s.matched = 3;
    s.armed = 2;
    s.kept = 1;
    char buf[kLineMax];
    format_summary(buf, sizeof buf, s, false);
    CHECK(std::string(buf).find("armed") == std::string::npos);
    s.arming = true;
    format_summary(buf, sizeof buf, s, false);
    CHECK(std::string(buf) == "poll: matched=3 destroyed=0 sock_destroy=0 reset=0 shutdown=0 killed=0 no_owner=0 "
                              "vanished=0 skipped=0 failed=0 armed=2 kept=1");
    s.would_arm = 3;
    format_summary(buf, sizeof buf, s, true);
    CHECK(std::string(buf) == "poll (dry run): matched=3 would_destroy=0 skipped=0 would_arm=3");
}
