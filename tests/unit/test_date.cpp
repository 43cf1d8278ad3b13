// Dates without libc: against the C library's gmtime.
#include <catch2/catch.hpp>

#include <ctime>
#include <string>
#include <vector>

#include "core/date.hpp"

using namespace tc;

TEST_CASE("utc_time agrees with the C library's gmtime", "[date]") {
    // Leap days, century rules (2000 yes, 2100 no), year ends, the epoch,
    // before it, and a spread of instants up to 2200.
    std::vector<int64_t> instants = {0, -1, 59, 86399, 86400, 951782400 /* 2000-02-29 */, 951868800,
                                     4107456000 /* 2100-02-28 */, 4107542400, 1798761599, 1798761600, -86401};
    for (int64_t s = -2208988800; s < 7258118400; s += 7777777) instants.push_back(s);
    for (int64_t secs : instants) {
        time_t t = static_cast<time_t>(secs);
        tm want{};
        REQUIRE(gmtime_r(&t, &want) != nullptr);
        UtcTime got = utc_time(secs);
        INFO("secs " << secs);
        CHECK(got.year == want.tm_year + 1900);
        CHECK(got.month == want.tm_mon + 1);
        CHECK(got.day == want.tm_mday);
        CHECK(got.hour == want.tm_hour);
        CHECK(got.minute == want.tm_min);
        CHECK(got.second == want.tm_sec);
    }
}

TEST_CASE("timestamps: UTC to the millisecond", "[date]") {
    char buf[40];
    format_timestamp(buf, sizeof buf, timespec{1700000000, 123456789});
    CHECK(std::string(buf) == "2023-11-14T22:13:20.123Z");
    format_timestamp(buf, sizeof buf, timespec{0, 999999999});
    CHECK(std::string(buf) == "1970-01-01T00:00:00.999Z");
}
