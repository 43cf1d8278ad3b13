// The syslog datagram a /dev/log reader expects (the client itself is in
// sys/sys.cpp). Pure.
#pragma once

#include <cstddef>
#include <ctime>

namespace tc {

// One syslog datagram (RFC 3164 framing, as /dev/log readers expect):
// "<PRI>Mmm dd hh:mm:ss tcp_closer[PID]: line", time in UTC. PRI is
// facility daemon with severity info, or err when `error`. Returns the
// length written (clamped to n - 1).
size_t format_syslog(char* out, size_t n, bool error, const timespec& ts, int pid, const char* line);

}  // namespace tc
