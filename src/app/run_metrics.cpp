#include "app/run_metrics.hpp"

#include <cerrno>

#include "core/errors.hpp"
#include "core/fmt.hpp"
#include "report/report.hpp"
#include "sys/sys.hpp"

namespace tc {

void RunMetrics::on_result(const SockRecord& rec, const EndResult& result) {
    log_.on_result(rec, result);
    if (rec.rule < n_map_ && map_[rec.rule])
        RunCounters::add_result(*map_[rec.rule], result.outcome == Outcome::Ended ? result.method : Method::None);
    if (result.outcome == Outcome::Failed) c_.add_failure(result.err ? result.err : EIO);
}

void RunMetrics::end_poll(uint64_t start_ns) {
    const timespec now = sys::realtime_now();
    c_.end_poll(failed_, (sys::monotonic_ns() - start_ns) / 1000,
                static_cast<uint64_t>(now.tv_sec) * 1000 + static_cast<uint64_t>(now.tv_nsec) / 1000000);
    failed_ = false;
    if (!path_) return;
    char text[kMetricsMax];
    Result<size_t> n = format_metrics(text, sizeof text, c_, build_);
    Status s = n ? sys::replace_file(path_, text, *n) : Status(n.error());
    char buf[kLineMax];
    if (s && write_err_) {
        fmt(buf, sizeof buf, "metrics: %s written again", path_);
        log_.line(buf);
    } else if (!s && s.error().code != write_err_) {
        fmt(buf, sizeof buf, "error: %s %s: %s (the run goes on; said once)", s.error().what, path_,
            error_text(s.error().code));
        log_.line(buf, true);
    }
    write_err_ = s ? 0 : s.error().code;
}

}  // namespace tc
