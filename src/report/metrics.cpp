#include "report/metrics.hpp"

#include "core/errors.hpp"
#include "core/fmt.hpp"

#include <cstring>

namespace tc {

void RunCounters::end_poll(bool poll_failed, uint64_t duration_us, uint64_t end_ms) {
    ++polls;
    polls_failed += poll_failed;
    last_poll_duration_us = duration_us;
    last_poll_end_ms = end_ms;
}

void RunCounters::add(const PollStats& s) {
    matched += s.matched;
    sock_destroy += s.sock_destroy;
    reset += s.reset;
    shutdown += s.shutdown;
    killed += s.killed;
    no_owner += s.no_owner;
    vanished += s.vanished;
    skipped += s.skipped;
    arming |= s.arming;
    armed += s.armed;
    kept += s.kept;
}

RunCounters::RuleCounts* RunCounters::rule_counts(const char* name) {
    for (size_t i = 0; i < n_rules; ++i)
        if (std::strcmp(by_rule[i].name, name) == 0) return &by_rule[i];
    if (n_rules == kMaxRuleLabels) return nullptr;
    RuleCounts& r = by_rule[n_rules++];
    r = RuleCounts{};
    fmt(r.name, sizeof r.name, "%s", name);
    return &r;
}

void RunCounters::add_result(RuleCounts& r, Method how) {
    ++r.matched;
    if (how != Method::None) ++r.ended[static_cast<size_t>(how) - 1];
}

void RunCounters::add_failure(int err) {
    for (size_t i = 0; i < n_failed; ++i)
        if (failed[i].err == err) {
            ++failed[i].count;
            return;
        }
    if (n_failed == kMaxErrnos) {
        ++failed_other;
        return;
    }
    failed[n_failed++] = {err, 1};
}

namespace {

// A label value with \, " and newline escaped, as the format wants.
void add_label_value(Appender& a, const char* v) {
    a.add("\"");
    for (const char* p = v; *p; ++p) {
        if (*p == '\\') a.add("\\\\");
        else if (*p == '"') a.add("\\\"");
        else if (*p == '\n') a.add("\\n");
        else a.add("%c", *p);
    }
    a.add("\"");
}

void head(Appender& a, const char* name, const char* type, const char* help) {
    a.add("# HELP tcp_closer_%s %s\n# TYPE tcp_closer_%s %s\n", name, help, name, type);
}

void counter(Appender& a, const char* name, const char* help, uint64_t v) {
    head(a, name, "counter", help);
    a.add("tcp_closer_%s %llu\n", name, static_cast<unsigned long long>(v));
}

// 1234567 microseconds as "1.234567", milliseconds as "1234.567".
void micros(Appender& a, uint64_t v) {
    a.add("%llu.%06llu", static_cast<unsigned long long>(v / 1000000), static_cast<unsigned long long>(v % 1000000));
}
void millis(Appender& a, uint64_t v) {
    a.add("%llu.%03llu", static_cast<unsigned long long>(v / 1000), static_cast<unsigned long long>(v % 1000));
}

}  // namespace

Result<size_t> format_metrics(char* out, size_t n, const RunCounters& c, const BuildInfo& b) {
    Appender a(out, n);
    counter(a, "polls_total", "Polls since the start of the run.", c.polls);
    counter(a, "polls_failed_total", "Polls that failed (nothing was ended by them).", c.polls_failed);
    static const char* const hows[] = {"sock_destroy", "reset", "shutdown", "killed"};
    if (!c.rules) {
        counter(a, "connections_matched_total", "Connections the selection matched.", c.matched);
        head(a, "connections_ended_total", "counter", "Connections ended, by how.");
        const uint64_t ended[] = {c.sock_destroy, c.reset, c.shutdown, c.killed};
        for (size_t i = 0; i < 4; ++i)
            a.add("tcp_closer_connections_ended_total{how=\"%s\"} %llu\n", hows[i],
                  static_cast<unsigned long long>(ended[i]));
    } else {
        // Rule names are [A-Za-z0-9_.-]: nothing to escape.
        head(a, "connections_matched_total", "counter", "Connections each rule matched.");
        for (size_t r = 0; r < c.n_rules; ++r)
            a.add("tcp_closer_connections_matched_total{rule=\"%s\"} %llu\n", c.by_rule[r].name,
                  static_cast<unsigned long long>(c.by_rule[r].matched));
        head(a, "connections_ended_total", "counter", "Connections ended, by rule and how.");
        for (size_t r = 0; r < c.n_rules; ++r)
            for (size_t i = 0; i < 4; ++i)
                a.add("tcp_closer_connections_ended_total{rule=\"%s\",how=\"%s\"} %llu\n", c.by_rule[r].name, hows[i],
                      static_cast<unsigned long long>(c.by_rule[r].ended[i]));
    }
    counter(a, "connections_no_owner_total", "Matched connections no process held.", c.no_owner);
    counter(a, "connections_vanished_total", "Matched connections that closed by themselves first.", c.vanished);
    counter(a, "connections_skipped_total", "Matched connections left alone over --max-kills.", c.skipped);
    if (c.arming) {
        counter(a, "connections_armed_total", "Connections armed (--arm-*): an option set in the holder's socket.",
                c.armed);
        counter(a, "connections_kept_total", "Connections to arm whose holder's own options stood: nothing set.",
                c.kept);
    }
    head(a, "connections_failed_total", "counter", "Connections that could not be ended, by errno.");
    for (size_t i = 0; i < c.n_failed; ++i) {
        char scratch[16];
        a.add("tcp_closer_connections_failed_total{errno=\"%s\"} %llu\n", errno_name(c.failed[i].err, scratch),
              static_cast<unsigned long long>(c.failed[i].count));
    }
    if (c.failed_other)
        a.add("tcp_closer_connections_failed_total{errno=\"other\"} %llu\n",
              static_cast<unsigned long long>(c.failed_other));
    if (c.rules) {
        head(a, "rules_reloads_total", "counter", "Reloads of the rules file on SIGHUP, by result.");
        a.add("tcp_closer_rules_reloads_total{result=\"ok\"} %llu\n", static_cast<unsigned long long>(c.reloads_ok));
        a.add("tcp_closer_rules_reloads_total{result=\"failed\"} %llu\n",
              static_cast<unsigned long long>(c.reloads_failed));
    }
    head(a, "last_poll_duration_seconds", "gauge", "How long the last poll took.");
    a.add("tcp_closer_last_poll_duration_seconds ");
    micros(a, c.last_poll_duration_us);
    a.add("\n");
    head(a, "last_poll_end_timestamp_seconds", "gauge", "When the last poll ended (Unix time).");
    a.add("tcp_closer_last_poll_end_timestamp_seconds ");
    millis(a, c.last_poll_end_ms);
    a.add("\n");
    head(a, "build_info", "gauge", "The binary: its version and the ways it can end connections.");
    a.add("tcp_closer_build_info{version=");
    add_label_value(a, b.version);
    a.add(",ways=");
    add_label_value(a, b.ways);
    a.add("} 1\n");
    if (a.used() + 1 >= n) return make_error(E2BIG, "metrics larger than the buffer");
    return a.used();
}

}  // namespace tc
