// The JSON form of the report (-j): one object per line, for each selected
// connection and for each poll. Pure formatting into caller buffers.
//
//   {"type":"connection","outcome":"destroyed","by":"sock_destroy","family":"ipv4",
//    "state":"established","src":"127.0.0.1","sport":7000,"dst":"127.0.0.1","dport":41094,
//    "uid":0,"inode":20737,"cookie":"2f1a","last_recv_ms":1504}
//   {"type":"summary","dry_run":false,"matched":1,"destroyed":1,...}
//
// /proc path results add "pid" and "comm"; failures add "error" (the errno
// name) and "message"; "note" carries any further explanation.
#pragma once

#include <cstddef>

#include "core/sock_record.hpp"
#include "engine/engine.hpp"
#include "engine/terminator.hpp"
#include "core/errors.hpp"  // errno_name

namespace tc {

// Room for the longest object (IPv6 addresses, comm, note, message).
constexpr size_t kJsonMax = 1024;

// The text of `in` as the inside of a JSON string: '"', '\' and control
// characters escaped. Clamped (never in the middle of an escape).
void json_escape(char* out, size_t n, const char* in);



// Each returns the length written (the line has no trailing newline).
// `netns` (may be nullptr) names the network namespace, for --netns/--all-netns.
// `reason` (may be nullptr): why the connection was selected ("src_removed").
// `figures`: the tcp_info figures the rules read, as "unacked",
// "last_ack_ms" and "last_send_ms" (null where the kernel did not say).
size_t format_json_result(char* out, size_t n, const SockRecord& rec, const EndResult& res,
                          const char* netns = nullptr, const OwnerSel* owner = nullptr, const char* reason = nullptr,
                          uint8_t figures = 0, const char* rule = nullptr, const ArmSpec* arm = nullptr);
// `per_proto` (--tcp --udp): the counts of each protocol too.
size_t format_json_summary(char* out, size_t n, const PollStats& s, bool dry_run, const char* netns = nullptr,
                           bool per_proto = false);

}  // namespace tc
