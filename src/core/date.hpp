// Dates without libc's gmtime (and the time zone code it brings). Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>

namespace tc {

// Seconds since the epoch as a UTC date and time (proleptic Gregorian),
// without libc's gmtime and its time zone code.
struct UtcTime {
    int year, month, day;  // month 1-12, day 1-31
    int hour, minute, second;
};
UtcTime utc_time(int64_t secs);

// "2026-11-26T01:02:03.456Z"
void format_timestamp(char* out, size_t n, const timespec& ts);

}  // namespace tc
