// The only place that picks exit codes: 0 success (also when nothing
// matched), 1 runtime failure, 2 usage error. It parses, answers --help and
// --version, runs the steps of app/run.hpp in order, and says why a run
// ended early; app/logger.* writes what the run itself has to say.
#include <unistd.h>

#include <string_view>

#include "app/logger.hpp"
#include "app/run.hpp"
#include "core/errors.hpp"
#include "core/options.hpp"
#include "sys/sys.hpp"

namespace {

using namespace tc;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

#ifdef TC_NO_SOCK_DESTROY
constexpr char kEnds[] = "ways to end a connection: reset, shutdown, kill (built without SOCK_DESTROY)";
#else
constexpr char kEnds[] = "ways to end a connection: sock_destroy, reset, shutdown, kill";
#endif
constexpr char kProtocols[] = "protocols: tcp, udp (connected sockets only)";
constexpr char kFinds[] = "ways to find connections: sock_diag, /proc/net (where sock_diag is missing)";
constexpr char kLicense[] = "MIT License: see the LICENSE file, or /usr/share/doc/tcp-closer/copyright";

int usage_failure(const char* message, std::string_view value) {
    if (value.empty())
        say(STDERR_FILENO, "tcp_closer: %s\n", message);
    else
        say(STDERR_FILENO, "tcp_closer: %s: '%.*s'\n", message, static_cast<int>(value.size()), value.data());
    say(STDERR_FILENO, "Try 'tcp_closer --help' for more information.\n");
    return kExitUsage;
}

// The message for a run that ended early, on stderr unless the log (which
// is stderr by default) has it already; and the exit code.
int ended(const RunStatus& s, bool log_is_stderr) {
    using Kind = RunStatus::Kind;
    const bool said = s.logged && log_is_stderr;
    switch (s.kind) {
        case Kind::Ok: return kExitOk;
        case Kind::ConnectionsFailed:
            if (!log_is_stderr && s.value) say(STDERR_FILENO, "tcp_closer: %s\n", s.value);
            return kExitFailure;
        case Kind::Usage:  // a well-formed value that names nothing: no --help hint
            if (s.value)
                say(STDERR_FILENO, "tcp_closer: %s: '%s'\n", s.error.what, s.value);
            else
                say(STDERR_FILENO, "tcp_closer: %s\n", s.error.what);
            return kExitUsage;
        case Kind::MissingCapability:
            if (!said)
                say(STDERR_FILENO,
                    "tcp_closer: missing capability %s, needed %s (run as root, or grant it: systemd's "
                    "AmbientCapabilities=%s; podman or docker --cap-add %s; Kubernetes "
                    "securityContext.capabilities.add)\n",
                    s.cap->name, s.cap->why, s.cap->name, s.cap->name + 4);
            return kExitFailure;
        case Kind::RulesRefused: return kExitUsage;  // main said each error
        case Kind::Failed:
            if (said) return kExitFailure;
            if (s.value)
                say(STDERR_FILENO, "tcp_closer: %s%s '%s': %s%s\n", s.logged ? "error: " : "", s.error.what, s.value,
                    error_text(s.error.code), s.hint ? s.hint : "");
            else
                say(STDERR_FILENO, "tcp_closer: %s%s: %s%s\n", s.logged ? "error: " : "", s.error.what,
                    error_text(s.error.code), s.hint ? s.hint : "");
            return kExitFailure;
    }
    return kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
    sys::ensure_std_fds();
    ParseResult pr = parse_args(argc, argv);
    if (!pr.ok) return usage_failure(pr.message, pr.value);
    Options& opt = pr.opts;
    if (opt.help) {
        const std::string_view text = usage_text();
        sys::write_all(STDOUT_FILENO, text.data(), text.size());
        return kExitOk;
    }
    if (opt.version) {
        say(STDOUT_FILENO, "%s\n%s\n%s\n%s\n%s\n", kVersion, kProtocols, kEnds, kFinds, kLicense);
        return kExitOk;
    }
    Run run(opt);
    RunStatus s = run.load_rules();
    if (s.ok()) s = run.enter_namespace();
    if (s.ok()) s = run.resolve_owners();
    if (s.kind == RunStatus::Kind::RulesRefused) {
        for (const RuleError& e : run.rule_errors()) say(STDERR_FILENO, "tcp_closer: %s:%u: %s\n", opt.rules, e.line, e.text);
        return kExitUsage;
    }
    if (s.ok() && opt.check) {
        const size_t n = run.rule_count();
        say(STDOUT_FILENO, "%zu rule%s\n", n, n == 1 ? "" : "s");
        return kExitOk;
    }
    if (s.ok()) s = run.open_log();
    if (s.ok()) s = run.choose_path();
    if (s.ok()) s = run.poll_loop();
    return ended(s, run.log_is_stderr());
}
