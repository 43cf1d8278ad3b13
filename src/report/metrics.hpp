// The run's counters in the Prometheus text exposition format (version
// 0.0.4), as node_exporter's textfile collector reads them: HELP and TYPE
// lines, counters that count from the start of the run and never go down,
// labels whose values are bounded (how a connection ended, an errno name,
// the build). Pure: the caller writes the text to a file. (Issue 21: the
// writer; --metrics, which writes it after every poll, comes with it.)
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/result.hpp"
#include "engine/engine.hpp"

namespace tc {

struct RunCounters {
    uint64_t polls = 0;
    uint64_t polls_failed = 0;
    uint64_t matched = 0;
    uint64_t sock_destroy = 0, reset = 0, shutdown = 0, killed = 0;  // ended, by how
    uint64_t no_owner = 0, vanished = 0, skipped = 0;
    // Connections that could not be ended, by errno: the first kMaxErrnos
    // errnos seen get a label each, any later one counts as "other".
    static constexpr size_t kMaxErrnos = 16;
    struct Failure {
        int err;
        uint64_t count;
    };
    Failure failed[kMaxErrnos] = {};
    size_t n_failed = 0;
    uint64_t failed_other = 0;
    uint64_t last_poll_duration_us = 0;
    uint64_t last_poll_end_ms = 0;  // Unix time of the last poll's end

    // One poll's counts (of one namespace, with --all-netns: they sum).
    void add_poll(const PollStats& s);
    void add_failed_poll() { ++polls, ++polls_failed; }
    void add_failure(int err);
};

struct BuildInfo {
    const char* version;  // "0.2.0"
    const char* ways;     // "sock_destroy,proc" or "proc"
};

// The whole file's text into `out`; E2BIG when it does not fit.
Result<size_t> format_metrics(char* out, size_t n, const RunCounters& c, const BuildInfo& b);

}  // namespace tc
