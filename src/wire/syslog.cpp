#include "wire/syslog.hpp"

#include "core/date.hpp"
#include "core/fmt.hpp"

namespace tc {

size_t format_syslog(char* out, size_t n, bool error, const timespec& ts, int pid, const char* line) {
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    constexpr int kDaemon = 3 << 3, kErr = 3, kInfo = 6;
    const UtcTime t = utc_time(ts.tv_sec);
    int w = fmt(out, n, "<%d>%.3s %2d %02d:%02d:%02d tcp_closer[%d]: %s", kDaemon | (error ? kErr : kInfo),
                months + 3 * (t.month - 1), t.day, t.hour, t.minute, t.second, pid, line);
    if (w < 0 || n == 0) return 0;
    return static_cast<size_t>(w) < n ? static_cast<size_t>(w) : n - 1;
}

}  // namespace tc
