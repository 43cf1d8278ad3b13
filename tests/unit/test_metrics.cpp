// The Prometheus text the metrics writer produces: exact text for known
// counters, label escaping, bounded errno labels, counters that only grow.
#include <catch2/catch.hpp>

#include <errno.h>

#include <cstdint>

#include <map>
#include <string>

#include "metrics_text.hpp"
#include "engine/engine.hpp"
#include "report/metrics.hpp"

using namespace tc;

namespace {

std::string text_of(const RunCounters& c, BuildInfo b = {"0.2.0", "sock_destroy,proc"}) {
    char buf[8192];
    Result<size_t> n = format_metrics(buf, sizeof buf, c, b);
    REQUIRE(n.ok());
    return std::string(buf, *n);
}

using tc_test::metric_samples;
const auto& samples = metric_samples;

}  // namespace

TEST_CASE("metrics: the exact text for a known set of counters", "[metrics]") {
    RunCounters c;
    PollStats s;
    s.matched = 5;
    s.sock_destroy = 3;
    s.reset = 1;
    s.vanished = 1;
    c.add(s);
    c.end_poll(false, 999, 1796175150000);
    c.add_failure(EPERM);
    c.add_failure(EPERM);
    c.add_failure(EBUSY);
    c.end_poll(true, 12345, 1796175151708);
    CHECK(text_of(c) ==
          "# HELP tcp_closer_polls_total Polls since the start of the run.\n"
          "# TYPE tcp_closer_polls_total counter\n"
          "tcp_closer_polls_total 2\n"
          "# HELP tcp_closer_polls_failed_total Polls that failed (nothing was ended by them).\n"
          "# TYPE tcp_closer_polls_failed_total counter\n"
          "tcp_closer_polls_failed_total 1\n"
          "# HELP tcp_closer_connections_matched_total Connections the selection matched.\n"
          "# TYPE tcp_closer_connections_matched_total counter\n"
          "tcp_closer_connections_matched_total 5\n"
          "# HELP tcp_closer_connections_ended_total Connections ended, by how.\n"
          "# TYPE tcp_closer_connections_ended_total counter\n"
          "tcp_closer_connections_ended_total{how=\"sock_destroy\"} 3\n"
          "tcp_closer_connections_ended_total{how=\"reset\"} 1\n"
          "tcp_closer_connections_ended_total{how=\"shutdown\"} 0\n"
          "tcp_closer_connections_ended_total{how=\"killed\"} 0\n"
          "# HELP tcp_closer_connections_no_owner_total Matched connections no process held.\n"
          "# TYPE tcp_closer_connections_no_owner_total counter\n"
          "tcp_closer_connections_no_owner_total 0\n"
          "# HELP tcp_closer_connections_vanished_total Matched connections that closed by themselves first.\n"
          "# TYPE tcp_closer_connections_vanished_total counter\n"
          "tcp_closer_connections_vanished_total 1\n"
          "# HELP tcp_closer_connections_skipped_total Matched connections left alone over --max-kills.\n"
          "# TYPE tcp_closer_connections_skipped_total counter\n"
          "tcp_closer_connections_skipped_total 0\n"
          "# HELP tcp_closer_connections_failed_total Connections that could not be ended, by errno.\n"
          "# TYPE tcp_closer_connections_failed_total counter\n"
          "tcp_closer_connections_failed_total{errno=\"EPERM\"} 2\n"
          "tcp_closer_connections_failed_total{errno=\"EBUSY\"} 1\n"
          "# HELP tcp_closer_last_poll_duration_seconds How long the last poll took.\n"
          "# TYPE tcp_closer_last_poll_duration_seconds gauge\n"
          "tcp_closer_last_poll_duration_seconds 0.012345\n"
          "# HELP tcp_closer_last_poll_end_timestamp_seconds When the last poll ended (Unix time).\n"
          "# TYPE tcp_closer_last_poll_end_timestamp_seconds gauge\n"
          "tcp_closer_last_poll_end_timestamp_seconds 1796175151.708\n"
          "# HELP tcp_closer_build_info The binary: its version and the ways it can end connections.\n"
          "# TYPE tcp_closer_build_info gauge\n"
          "tcp_closer_build_info{version=\"0.2.0\",ways=\"sock_destroy,proc\"} 1\n");
}

TEST_CASE("metrics: label values are escaped; errno labels stay bounded", "[metrics]") {
    RunCounters c;
    const std::string t = text_of(c, {"1.0 \"rc\\1\"\nx", "proc"});
    CHECK(t.find("tcp_closer_build_info{version=\"1.0 \\\"rc\\\\1\\\"\\nx\",ways=\"proc\"} 1\n") != std::string::npos);
    for (int err = 1; err <= 40; ++err) c.add_failure(err);
    c.add_failure(40);
    const auto m = samples(text_of(c));
    size_t labelled = 0;
    for (const auto& [k, v] : m) labelled += k.find("tcp_closer_connections_failed_total{errno=") == 0;
    CHECK(labelled == RunCounters::kMaxErrnos + 1);  // 16 errnos and "other"
    CHECK(m.at("tcp_closer_connections_failed_total{errno=\"other\"}") == "25");
    CHECK(m.at("tcp_closer_connections_failed_total{errno=\"EPERM\"}") == "1");
}

TEST_CASE("metrics: counters never decrease across polls, namespaces sum", "[metrics]") {
    RunCounters c;
    std::map<std::string, std::string> last;
    for (int poll = 0; poll < 20; ++poll) {
        PollStats s;
        s.matched = static_cast<size_t>(poll % 3);
        s.sock_destroy = static_cast<size_t>(poll % 2);
        s.killed = poll == 7;
        s.skipped = static_cast<size_t>(poll % 4 == 0);
        c.add(s);  // two namespaces: they sum
        c.add(s);
        c.end_poll(poll % 5 == 0, 100, 1000);
        const auto now = samples(text_of(c));
        for (const auto& [k, v] : last) {
            if (k.find("_total") == std::string::npos) continue;
            INFO(k << " at poll " << poll);
            CHECK(std::stoull(now.at(k)) >= std::stoull(v));
        }
        last = now;
    }
    CHECK(last.at("tcp_closer_polls_total") == "20");
    CHECK(last.at("tcp_closer_polls_failed_total") == "4");
    CHECK(last.at("tcp_closer_connections_matched_total") == "38");
    CHECK(last.at("tcp_closer_connections_ended_total{how=\"killed\"}") == "2");
    CHECK(last.at("tcp_closer_connections_skipped_total") == "10");
}

// Each outcome lands in its own counter, per protocol too: only Failed is
// a failure (vanished, no_owner, skipped and a dry run's would_end are not).
TEST_CASE("metrics: every outcome counted where it belongs", "[metrics]") {
    PollStats s;
    auto with = [](Outcome o, Method m = Method::None, int err = 0) {
        EndResult r;
        r.outcome = o;
        r.method = m;
        r.err = err;
        return r;
    };
    count_result(s, with(Outcome::Ended, Method::SockDestroy), Proto::Tcp);
    count_result(s, with(Outcome::Ended, Method::Shutdown), Proto::Udp);
    count_result(s, with(Outcome::Failed, Method::None, EPERM), Proto::Udp);
    count_result(s, with(Outcome::Failed, Method::None, EBUSY), Proto::Tcp);
    count_result(s, with(Outcome::Vanished), Proto::Tcp);
    count_result(s, with(Outcome::NoOwner), Proto::Tcp);
    count_result(s, with(Outcome::Skipped), Proto::Udp);
    count_result(s, with(Outcome::WouldEnd), Proto::Tcp);
    CHECK(s.ended == 2);
    CHECK(s.failed == 2);
    CHECK((s.vanished == 1 && s.no_owner == 1 && s.skipped == 1 && s.would_end == 1));
    CHECK((s.by_proto[0].matched == 5 && s.by_proto[1].matched == 3));
    CHECK((s.by_proto[0].ended == 2 && s.by_proto[1].ended == 1));  // (a dry run's would_end counts as ended)
    CHECK((s.by_proto[0].failed == 1 && s.by_proto[1].failed == 1));
    RunCounters c;
    c.add(s);
    c.end_poll(false, 1, 1);
    const auto m = samples(text_of(c));
    CHECK(m.at("tcp_closer_connections_skipped_total") == "1");
    CHECK(m.at("tcp_closer_connections_vanished_total") == "1");
    CHECK(m.at("tcp_closer_connections_no_owner_total") == "1");
    CHECK(m.at("tcp_closer_polls_failed_total") == "0");
    CHECK(m.count("tcp_closer_connections_failed_total{errno=\"EPERM\"}") == 0);  // failures come by errno from the log
}

TEST_CASE("metrics: the fullest text fits in kMetricsMax", "[metrics]") {
    RunCounters c;
    PollStats s;
    s.matched = s.sock_destroy = s.reset = s.shutdown = s.killed = s.no_owner = s.vanished = s.skipped = SIZE_MAX;
    c.add(s);
    for (int err = 1; err <= 40; ++err) c.add_failure(err);
    c.failed_other = UINT64_MAX;
    for (auto& f : c.failed) f.count = UINT64_MAX;
    c.end_poll(true, UINT64_MAX, UINT64_MAX);
    char buf[kMetricsMax];
    const char long_version[] = "0.2.0-a-long-version-string-with-room-to-spare";
    Result<size_t> n = format_metrics(buf, sizeof buf, c, {long_version, "sock_destroy,proc"});
    REQUIRE(n.ok());
    CHECK(std::string(buf, *n).find("tcp_closer_polls_total 1\n") != std::string::npos);
}

TEST_CASE("metrics: a buffer too small is an error, not a cut file", "[metrics]") {
    RunCounters c;
    char small[256];
    Result<size_t> r = format_metrics(small, sizeof small, c, {"0.2.0", "proc"});
    CHECK_FALSE(r.ok());
    CHECK(r.error().code == E2BIG);
}

TEST_CASE("metrics: armed and kept counters appear once a rule arms, and add up", "[metrics][arm]") {
    RunCounters c;
    PollStats s;
    s.matched = 1;
    c.add(s);
    c.end_poll(false, 1, 1);
    CHECK(samples(text_of(c)).count("tcp_closer_connections_armed_total") == 0);
    PollStats a;
    a.arming = true;
    count_result(a, [] { EndResult r; r.outcome = Outcome::Armed; return r; }(), Proto::Tcp);
    count_result(a, [] { EndResult r; r.outcome = Outcome::Armed; return r; }(), Proto::Tcp);
    count_result(a, [] { EndResult r; r.outcome = Outcome::Kept; return r; }(), Proto::Tcp);
    count_result(a, [] { EndResult r; r.outcome = Outcome::WouldArm; return r; }(), Proto::Tcp);
    CHECK((a.armed == 2 && a.kept == 1 && a.would_arm == 1 && a.ended == 0));
    c.add(a);
    c.add(a);
    c.end_poll(false, 1, 1);
    const auto m = samples(text_of(c));
    CHECK(m.at("tcp_closer_connections_armed_total") == "4");
    CHECK(m.at("tcp_closer_connections_kept_total") == "2");
}
