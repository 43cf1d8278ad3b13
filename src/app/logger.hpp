// The tool's output: the text log (a file or stderr, and syslog), and on
// stdout the dry-run list and the JSON objects. With main.cpp this is the
// only code that writes for the user; everything below it returns values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>

#include "core/fmt.hpp"
#include "core/rules.hpp"
#include "engine/engine.hpp"
#include "engine/proc_terminator.hpp"

namespace tc {

// printf to a descriptor, through our own formatter (no stdio in the
// binary): at most 1023 bytes, written whole or not at all. Call it through
// say(), which checks the format against the arguments.
void say_unchecked(int fd, const char* format, ...);

template <typename... Args>
[[gnu::always_inline]] inline void say(int fd, FormatString<std::type_identity_t<Args>...> format, Args... args) {
    say_unchecked(fd, format.text, args...);
}

// What an errno means for the user, as " (...)" to append, or "".
const char* hint_for(int err, bool proc_path);

struct LogConfig {
    int fd = 2;                  // the log: stderr or the -f file
    const char* path = nullptr;  // the -f path (reopened on SIGHUP), or nullptr
    bool syslog = true;
    bool verbose = false;
    bool dry_run = false;
    bool json = false;
    bool both_protocols = false; // --tcp --udp: the JSON summary splits its counts
    bool quiet_empty = false;    // a daemon: polls that matched nothing log nothing
    uint8_t figures = 0;         // the tcp_info figures the rules read (--stalled, --send_idle), shown
};

class Logger final : public PollObserver, public KillObserver {
public:
    Logger() = default;
    explicit Logger(const LogConfig& cfg) : cfg_(cfg) {}
    ~Logger() { flush(); }
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    // Lines are collected and written in large pieces: at the end of each
    // poll (summary), before every wait and on every exit path (the
    // destructor too), and whenever a buffer fills. Nothing is lost on exit.
    void flush();

    void configure(const LogConfig& cfg) { cfg_ = cfg; }
    // The log goes to `fd` from now on (the -f file, once it is open).
    void use_fd(int fd) { cfg_.fd = fd; }
    int fd() const { return cfg_.fd; }
    void line(const char* text, bool error = false);
    void summary(const PollStats& stats);
    // SIGHUP: the log file again by its name (logrotate moved it).
    void reopen();
    // The rules in force: a connection's line names its rule (when named),
    // the owner values it matched and, for --src-removed, the reason.
    void use_rules(std::span<const Rule> rules, uint8_t figures, bool both_protocols) {
        rules_ = rules;
        cfg_.figures = figures;
        cfg_.both_protocols = both_protocols;
    }
    // Lines and JSON objects name this network namespace (nullptr: none).
    void set_netns(const char* name) { netns_ = name; }
    const char* netns() const { return netns_; }

    void on_filter(const DumpScope& scope, std::span<const uint8_t> program) override;
    void on_candidate(const SockRecord& rec, uint32_t rtt_us, bool selected) override;
    bool shows_candidates() const override { return cfg_.verbose; }
    void on_result(const SockRecord& rec, const EndResult& res) override;
    void on_local_prefixes(const LocalPrefixes& local) override;
    void on_process_killed(const SockRecord& rec, int32_t pid, const char* comm, int why) override;

    // Why log lines were lost since start-up (0: none were).
    int lost_error() const { return lost_err_; }

    // The errno of the poll's first failed connection (0: none), and reset.
    int take_poll_failure() {
        int e = poll_fail_err_;
        poll_fail_err_ = 0;
        return e;
    }

private:
    // Writes to the log descriptor; a failing log is reported once through
    // the other channel and never stalls or ends the run.
    void emit(const char* text, size_t len);
    // The name of the rule that selected `rec`, or nullptr (none, or the
    // command line's).
    const char* rule_name(const SockRecord& rec) const {
        return rec.rule < rules_.size() && rules_[rec.rule].name[0] ? rules_[rec.rule].name : nullptr;
    }
    // One line on stdout (the dry-run list and the JSON objects), buffered.
    void out(const char* text, size_t len);
    // "2026-11-26T01:02:03.456Z", the part up to the seconds formatted once
    // per second.
    void stamp(const timespec& now, char (&out)[32]);

    struct Buffer {
        char data[32768];
        size_t used = 0;
    };
    // Appends a line; writes the buffer out first when the line does not fit.
    void append(Buffer& b, const char* text, size_t len);
    // Writes a buffer out: the log through emit(), the other to stdout.
    void drain(Buffer& b);

    LogConfig cfg_;
    std::span<const Rule> rules_;
    const char* netns_ = nullptr;
    int poll_fail_err_ = 0;
    bool broken_ = false;  // the last write to the log failed
    size_t lost_ = 0;      // lines lost since
    int lost_err_ = 0;     // the errno of the last lost write, ever
    Buffer log_buf_;
    Buffer out_buf_;
    long stamp_sec_ = -1;
    char stamp_prefix_[24] = {};
};

}  // namespace tc
