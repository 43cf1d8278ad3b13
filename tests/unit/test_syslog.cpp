// The syslog datagram: RFC 3164 framing as /dev/log readers expect it.
#include <catch2/catch.hpp>

#include <string>

#include "wire/syslog.hpp"

using namespace tc;

TEST_CASE("syslog datagrams: priority, date, tag and pid, then the line", "[syslog]") {
    char buf[128];
    const timespec ts{1700000000, 123456789};
    size_t n = format_syslog(buf, sizeof buf, false, ts, 42, "poll: matched=0");
    CHECK(std::string(buf, n) == "<30>Nov 14 22:13:20 tcp_closer[42]: poll: matched=0");
    n = format_syslog(buf, sizeof buf, true, timespec{0, 0}, 7, "x");
    CHECK(std::string(buf, n) == "<27>Jan  1 00:00:00 tcp_closer[7]: x");
    char tiny[8];
    n = format_syslog(tiny, sizeof tiny, false, ts, 42, "long line");
    CHECK(n == 7);
    CHECK(std::string(tiny) == "<30>Nov");
}
