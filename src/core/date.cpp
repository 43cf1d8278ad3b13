#include "core/date.hpp"

#include "core/fmt.hpp"

namespace tc {

UtcTime utc_time(int64_t secs) {
    // Days since 1970-01-01 to a civil date, counted in 400-year eras of
    // 146097 days that start on March 1 (so the leap day ends a year).
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    const int64_t of_day = secs - days * 86400;
    days += 719468;  // from 0000-03-01
    const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const int64_t doe = days - era * 146097;                                 // [0, 146096]
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);            // [0, 365]
    const int64_t mp = (5 * doy + 2) / 153;                                 // March = 0
    UtcTime t;
    t.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    t.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    t.year = static_cast<int>(yoe + era * 400 + (t.month <= 2));
    t.hour = static_cast<int>(of_day / 3600);
    t.minute = static_cast<int>(of_day / 60 % 60);
    t.second = static_cast<int>(of_day % 60);
    return t;
}

void format_timestamp(char* out, size_t n, const timespec& ts) {
    const UtcTime t = utc_time(ts.tv_sec);
    fmt(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", t.year, t.month, t.day, t.hour, t.minute, t.second,
        static_cast<long>(ts.tv_nsec / 1000000));
}

}  // namespace tc
