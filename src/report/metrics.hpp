// The run's counters in the Prometheus text exposition format (version
// 0.0.4), as node_exporter's textfile collector reads them: HELP and TYPE
// lines, counters that count from the start of the run and never go down,
// labels whose values are bounded (how a connection ended, an errno name,
// the build). Pure: the caller (app/run, --metrics) writes the text to a
// file after every poll.
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
    bool arming = false;  // a poll had a rule that arms: the armed and kept counters are shown
    uint64_t armed = 0, kept = 0;
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
    // --rules: the matched and ended counters by rule (each name seen,
    // up to kMaxRuleLabels; a rule removed keeps its counts), and the reloads.
    bool rules = false;
    static constexpr size_t kMaxRuleLabels = 64;
    struct RuleCounts {
        char name[33];
        uint64_t matched;
        uint64_t ended[4];  // by how: sock_destroy, reset, shutdown, killed
    };
    RuleCounts by_rule[kMaxRuleLabels] = {};
    size_t n_rules = 0;
    uint64_t reloads_ok = 0, reloads_failed = 0;
    // The counts of the rule named `name` (added when new), or nullptr
    // when every label is taken.
    RuleCounts* rule_counts(const char* name);
    // One matched connection of a rule, and how it ended (Method::None: not).
    static void add_result(RuleCounts& r, Method how);
    uint64_t last_poll_duration_us = 0;
    uint64_t last_poll_end_ms = 0;  // Unix time of the last poll's end

    // One namespace's connections (with --all-netns a poll adds one per
    // namespace: they sum).
    void add(const PollStats& s);
    // A connection that could not be ended, and why.
    void add_failure(int err);
    // The end of a poll (of every namespace, with --all-netns).
    void end_poll(bool poll_failed, uint64_t duration_us, uint64_t end_ms);
};

struct BuildInfo {
    const char* version;  // "0.2.0"
    const char* ways;     // "sock_destroy,proc" or "proc"
};

// Room for the whole text, every errno and rule label and the largest
// counts included.
constexpr size_t kMetricsMax = 4096 + RunCounters::kMaxRuleLabels * 5 * 128;

// The whole file's text into `out`; E2BIG when it does not fit.
Result<size_t> format_metrics(char* out, size_t n, const RunCounters& c, const BuildInfo& b);

}  // namespace tc
