#include "app/logger.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/date.hpp"
#include "core/fmt.hpp"
#include "report/json.hpp"
#include "report/report.hpp"
#include "sys/sys.hpp"
#include "wire/bytecode.hpp"
#include "wire/syslog.hpp"
#include "core/errors.hpp"

namespace tc {

void say_unchecked(int fd, const char* format, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, format);
    const int n = vfmt_unchecked(buf, sizeof buf, format, ap);
    va_end(ap);
    if (n > 0) sys::write_all(fd, buf, static_cast<size_t>(n) < sizeof buf ? static_cast<size_t>(n) : sizeof buf - 1);
}

const char* hint_for(int err, bool proc_path) {
    switch (err) {
        case EPERM: case EACCES:
            return proc_path ? " (the /proc path needs root, or CAP_SYS_PTRACE over the processes holding the connections)"
                             : " (tcp_closer needs CAP_NET_ADMIN: run it as root)";
        case EOPNOTSUPP: return " (this kernel lacks SOCK_DESTROY: CONFIG_INET_DIAG_DESTROY is not set)";
        case EINVAL: return " (kernel older than 4.5, or it refused the request)";
        case EPROTONOSUPPORT: case ENOENT: return " (inet_diag is not available in this kernel)";
        case ENOSYS: return " (arming needs pidfd_getfd: Linux 5.6 or later)";
        default: return "";
    }
}

void Logger::drain(Buffer& b) {
    if (b.used == 0) return;
    const size_t n = b.used;
    b.used = 0;
    if (&b == &log_buf_)
        emit(b.data, n);
    else
        (void)sys::write_out(STDOUT_FILENO, b.data, n);
}

void Logger::append(Buffer& b, const char* text, size_t len) {
    if (b.used + len > sizeof b.data) drain(b);
    if (len > sizeof b.data) len = sizeof b.data;
    std::memcpy(b.data + b.used, text, len);
    b.used += len;
}

void Logger::flush() {
    drain(log_buf_);
    drain(out_buf_);
}

void Logger::stamp(const timespec& now, char (&out)[32]) {
    if (now.tv_sec != stamp_sec_) {
        char full[40];
        format_timestamp(full, sizeof full, timespec{now.tv_sec, 0});
        std::memcpy(stamp_prefix_, full, 19);  // "2026-11-26T01:02:03"
        stamp_prefix_[19] = '\0';
        stamp_sec_ = now.tv_sec;
    }
    const unsigned ms = static_cast<unsigned>(now.tv_nsec / 1000000);
    std::memcpy(out, stamp_prefix_, 19);
    out[19] = '.';
    out[20] = static_cast<char>('0' + ms / 100);
    out[21] = static_cast<char>('0' + ms / 10 % 10);
    out[22] = static_cast<char>('0' + ms % 10);
    out[23] = 'Z';
    out[24] = '\0';
}

void Logger::emit(const char* text, size_t len) {
    int err = sys::write_out(cfg_.fd, text, len);
    if (err == 0) {
        if (broken_) {
            broken_ = false;
            char buf[128];
            fmt(buf, sizeof buf, "log output works again; %zu line(s) were lost", lost_);
            lost_ = 0;
            line(buf);
        }
        return;
    }
    for (size_t i = 0; i < len; ++i) lost_ += text[i] == '\n';  // lines, not writes
    lost_err_ = err;
    if (broken_) return;
    broken_ = true;
    // Once, through the other channel: syslog, or stderr when the log is a file.
    char msg[256];
    fmt(msg, sizeof msg, "cannot write the log (%s); lines are dropped until it works again", error_text(err));
    if (cfg_.syslog) {
        char dgram[kLineMax + 64];
        size_t n = format_syslog(dgram, sizeof dgram, true, sys::realtime_now(), sys::self_pid(), msg);
        sys::syslog_send(dgram, n);
    } else if (cfg_.fd != STDERR_FILENO) {
        say(STDERR_FILENO, "tcp_closer: %s\n", msg);
    }
}

void Logger::line(const char* text, bool error) {
    // Every line carries the time it was made (the vDSO makes that cheap).
    const timespec now = sys::realtime_now();
    char ts[32];
    stamp(now, ts);
    char ns[96] = "";
    if (netns_) fmt(ns, sizeof ns, "netns=%s ", netns_);
    char buf[kJsonMax + 160];
    int n = fmt(buf, sizeof buf, "%s %s%s\n", ts, ns, text);
    if (n > 0) append(log_buf_, buf, static_cast<size_t>(n) < sizeof buf ? static_cast<size_t>(n) : sizeof buf - 1);
    if (cfg_.syslog) {
        char dgram[kJsonMax + 160];
        fmt(buf, sizeof buf, "%s%s", ns, text);
        size_t len = format_syslog(dgram, sizeof dgram, error, now, sys::self_pid(), buf);
        sys::syslog_send(dgram, len);
    }
}

void Logger::out(const char* text, size_t len) {
    char buf[kJsonMax + 2];
    if (len > kJsonMax) len = kJsonMax;
    std::memcpy(buf, text, len);
    buf[len] = '\n';
    append(out_buf_, buf, len + 1);
}

void Logger::summary(const PollStats& stats) {
    char buf[kJsonMax];
    // JSON has a summary every poll: the heartbeat of a pipeline reading
    // stdout. The text log of a daemon leaves out polls that matched nothing.
    if (cfg_.json) out(buf, format_json_summary(buf, sizeof buf, stats, cfg_.dry_run, netns_, cfg_.both_protocols));
    if (!cfg_.quiet_empty || cfg_.verbose || stats.matched > 0) {
        format_summary(buf, sizeof buf, stats, cfg_.dry_run);
        line(buf, stats.failed > 0);
    }
    flush();
}

void Logger::reopen() {
    if (!cfg_.path) return;
    flush();  // what was written before the signal goes to the old file
    if (Status s = sys::reopen_append(cfg_.path, cfg_.fd); !s) {
        char buf[kLineMax];
        fmt(buf, sizeof buf, "error: cannot reopen the log file: %s", error_text(s.error().code));
        line(buf, true);
    } else {
        line("reopened the log file (SIGHUP)");
    }
    // Now, not with the next poll's lines: a daemon may wait a long interval,
    // and logrotate's next rename may come first.
    flush();
}

void Logger::on_filter(const DumpScope& scope, std::span<const uint8_t> program) {
    if (!cfg_.verbose) return;
    static const char* const v6_names[] = {"all", "IPv4-mapped only", "native only"};
    const char* family = scope.family == AF_INET ? "AF_INET" : scope.family == AF_INET6 ? "AF_INET6" : "both-family";
    const char* which = scope.family == AF_INET    ? "all"
                        : scope.family == AF_INET6 ? v6_names[static_cast<int>(scope.v6)]
                        : scope.v6 == V6Scope::Any ? "all"
                                                   : "IPv4 and v4-mapped";
    char buf[kLineMax];
    fmt(buf, sizeof buf, "filter for %s %s dump (%s): %zu bytes", family, scope.proto == Proto::Udp ? "UDP" : "TCP",
        which, program.size());
    line(buf);
    for (size_t pos = 0; pos < program.size();) {
        char op[128];
        pos = describe_op(program, pos, op, sizeof op);
        fmt(buf, sizeof buf, "  %s", op);
        line(buf);
        if (pos == 0) break;
    }
}

void Logger::on_candidate(const SockRecord& rec, uint32_t rtt_us, bool selected) {
    if (!cfg_.verbose) return;
    char buf[kLineMax];
    format_candidate(buf, sizeof buf, rec, rtt_us, selected, cfg_.figures, rule_name(rec));
    line(buf);
}

void Logger::on_local_prefixes(const LocalPrefixes& local) {
    if (!cfg_.verbose) return;
    char buf[kLineMax];
    Appender b(buf, sizeof buf);
    b.add("local prefixes (%zu):", local.size());
    for (size_t i = 0; i < local.size(); ++i) {
        char addr[48];
        uint32_t words[4];
        std::memcpy(words, local[i].addr.data(), sizeof words);
        format_addr(addr, sizeof addr, local[i].family, words);
        b.add(" %s/%u", addr, local[i].len);
    }
    line(buf);
}

void Logger::on_result(const SockRecord& rec, const EndResult& res) {
    char buf[kJsonMax];
    const Rule* rule = rec.rule < rules_.size() ? &rules_[rec.rule] : nullptr;
    const OwnerSel* owner = rule ? &rule->sel.owner : nullptr;
    const ArmSpec* arm = rule && rule->sel.arm.any() ? &rule->sel.arm : nullptr;
    const char* name = rule_name(rec);
    if (cfg_.json)
        out(buf, format_json_result(buf, sizeof buf, rec, res, netns_, owner,
                                    rule && rule->sel.src_removed ? "src_removed" : nullptr, cfg_.figures, name, arm));
    format_result(buf, sizeof buf, rec, res, owner, cfg_.figures, name, arm);
    if (cfg_.dry_run) {
        // The list goes to stdout (JSON replaces it there); the log keeps the summary.
        if (!cfg_.json) out(buf, std::strlen(buf));
        return;
    }
    line(buf, res.outcome == Outcome::Failed);
    if (res.outcome == Outcome::Failed && poll_fail_err_ == 0) poll_fail_err_ = res.err ? res.err : EIO;
}

void Logger::on_process_killed(const SockRecord& rec, int32_t pid, const char* comm, int why) {
    char buf[kLineMax];
    format_kill(buf, sizeof buf, rec, pid, comm, why);
    line(buf);
}

}  // namespace tc
