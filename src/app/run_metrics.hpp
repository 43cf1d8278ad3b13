// --metrics: the run's counters, kept as the polls go and written after
// each. It stands between the engine and the log (every observer call goes
// on to the log) to count failed connections by errno; a file that cannot
// be written is said once in the log (until it works again, or fails
// otherwise), and never ends the run.
#pragma once

#include <cstdint>

#include "app/logger.hpp"
#include "core/rules.hpp"
#include "report/metrics.hpp"

namespace tc {

class RunMetrics final : public PollObserver {
public:
    explicit RunMetrics(Logger& log) : log_(log) {}
    // `path`: the file, or nullptr (as before this call) to count without
    // writing.
    void configure(const char* path, BuildInfo build) {
        path_ = path;
        build_ = build;
    }

    void add(const PollStats& s) { c_.add(s); }
    void poll_failed() { failed_ = true; }
    // --rules: a reload on SIGHUP, and how it went.
    void rules_reloaded(bool ok) {
        c_.rules = true;
        ++(ok ? c_.reloads_ok : c_.reloads_failed);
    }
    // --rules: the rules in force, whose names label the counters.
    void use_rules(std::span<const Rule> rules) {
        c_.rules = true;
        n_map_ = 0;
        for (const Rule& r : rules) map_[n_map_++] = c_.rule_counts(r.name);
    }
    // The end of a poll (of every namespace, with --all-netns) begun at
    // `start_ns` (monotonic): counted, and the file written.
    void end_poll(uint64_t start_ns);
    // Why the file could not be written after the last poll (0: it was).
    int write_error() const { return write_err_; }

    void on_filter(const DumpScope& scope, std::span<const uint8_t> program) override {
        log_.on_filter(scope, program);
    }
    void on_candidate(const SockRecord& rec, uint32_t rtt_us, bool selected) override {
        log_.on_candidate(rec, rtt_us, selected);
    }
    bool shows_candidates() const override { return log_.shows_candidates(); }
    void on_result(const SockRecord& rec, const EndResult& result) override;
    void on_local_prefixes(const LocalPrefixes& local) override { log_.on_local_prefixes(local); }

private:
    const char* path_ = nullptr;
    Logger& log_;
    BuildInfo build_{};
    RunCounters c_;
    RunCounters::RuleCounts* map_[kMaxRules] = {};  // by rule index (nullptr: no label left)
    size_t n_map_ = 0;
    bool failed_ = false;  // this poll (of some namespace) failed
    int write_err_ = 0;    // why the file could not be written last time
};

}  // namespace tc
