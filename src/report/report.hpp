// Text for the log: one line per ended connection, per candidate (verbose)
// and per poll. Pure formatting into caller buffers; main writes them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/addr_watch.hpp"
#include "engine/engine.hpp"
#include "core/sock_record.hpp"
#include "engine/terminator.hpp"

namespace tc {

constexpr size_t kLineMax = 512;

const char* outcome_name(Outcome o);
const char* method_name(Method m);

// A command name as the log shows it: a space or a byte that is not
// printable ASCII becomes '?', so a line stays one line of space-separated
// fields ("my prog" -> "my?prog"); an empty name is "?".
void printable_comm(const char* comm, char (&out)[16]);

// "127.0.0.1" or "2001:db8::1" (RFC 5952; v4-mapped: "::ffff:127.0.0.1").
// For AF_INET only the first 4 bytes are read. Needs no libc formatting.
void format_addr(char* out, size_t n, uint8_t family, const uint32_t addr[4]);

// "127.0.0.1:22" or "[::1]:22" (v4-mapped: "[::ffff:127.0.0.1]:22").
void format_endpoint(char* out, size_t n, uint8_t family, const uint32_t addr[4], uint16_t port);

// "destroyed 127.0.0.1:22 -> 127.0.0.1:40000 state=ESTABLISHED last_recv_ms=61000 uid=0 inode=1234 by=sock_destroy"
// The /proc path adds the process: "by=reset pid=42 comm=sshd", "by=killed pid=42 comm=sshd (reset impossible: ...)".
// With `owner`, the owner fields the user selected by follow: " mark=0x1/0xff
// cgroup=/system.slice/x dev=eth0" (the selector values that matched), and
// the process whenever the result names one.
// The tcp_info figures a rule can read (--stalled, --send_idle), as the
// log and JSON name them.
struct Figure {
    const char* name;
    uint8_t bit;  // SockRecord::kFigure*
    uint32_t SockRecord::*value;
};
extern const Figure kFigures[3];

// `figures` (SockRecord::kFigure* bits): the tcp_info figures the rules
// read, appended: " unacked=2 last_ack_ms=31000" (--stalled),
// " last_send_ms=61000" (--send_idle); "-" where the kernel did not say.
// `rule`: the name of the rule that selected it, as " rule=NAME" (--rules).
void format_result(char* out, size_t n, const SockRecord& rec, const EndResult& res,
                   const OwnerSel* owner = nullptr, uint8_t figures = 0, const char* rule = nullptr,
                   const ArmSpec* arm = nullptr);
// Arming's words for what the kept bits of EndResult::arm say: "user_timeout",
// "keepalive", or both with a comma; nullptr for none.
const char* kept_names(uint8_t arm_bits);

// The --mark, --cgroup and --dev values that matched `rec` (nullptr / mask 0
// for kinds not asked).
struct OwnerMatch {
    MarkSel mark;
    const char* cgroup = nullptr;
    const char* dev = nullptr;
};
OwnerMatch owner_match(const OwnerSel* owner, const SockRecord& rec);

// One line per process killed by the last resort of the /proc path:
// "killed pid 42 (sshd): it holds 127.0.0.1:22 -> 127.0.0.1:40000 inode=1234, and ..."
void format_kill(char* out, size_t n, const SockRecord& rec, int pid, const char* comm, int why);

// "candidate ... rtt_us=... last_recv_ms=... selected=yes", and with
// `rule` " rule=NAME": the first rule whose socket-level conditions hold.
void format_candidate(char* out, size_t n, const SockRecord& rec, uint32_t rtt_us, bool selected, uint8_t figures = 0,
                      const char* rule = nullptr);

// "poll: matched=3 destroyed=2 sock_destroy=2 reset=0 shutdown=0 killed=0 no_owner=0 vanished=1 skipped=0 failed=0",
// or with --dry-run "poll (dry run): matched=3 would_destroy=3 skipped=0".
void format_summary(char* out, size_t n, const PollStats& s, bool dry_run = false);

// --watch, why a poll comes now: "address 192.0.2.1 removed: polling now",
// "address 192.0.2.1 removed (and 3 more): polling now", or "address events
// were lost: polling now" (an overrun, or events that could not be read).
void format_removals(char* out, size_t n, const Removals& r);

}  // namespace tc
