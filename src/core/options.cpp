#include "core/options.hpp"

#include <array>

#include "core/arm.hpp"
#include "core/packed.hpp"
#include "core/ports.hpp"
#include "core/tcp_state.hpp"
#include "core/text.hpp"

namespace tc {

#define TC_VERSION "0.2.0"
const char kVersion[] = "tcp_closer " TC_VERSION;
const char kVersionNumber[] = TC_VERSION;

namespace {

enum class Opt : uint8_t {
    V4, V6, Sport, Dport, Src, Dst, State, Idle, LastRecv, Interval, Logfile, Metrics, Verbose, Help, UseProc, KillOwner,
    NoSyslog, Version, DryRun, Json, MaxKills, Netns, AllNetns, Tcp, Udp, SrcRemoved, RemovedGrace, Watch, Stalled,
    SendIdle, Rules, Check, ArmUserTimeout, ArmKeepalive,
    ExSport, ExDport, ExSrc, ExDst, ExUid, ExComm,
    Uid, Mark, Dev, Cgroup, Pid, Comm,  // the owner kinds last, in OwnerSel's order (apply_owner)
};

struct OptSpec {
    char short_name;        // 0: none
    bool takes_value;
    Opt id;
    const char* names;      // without "--": the long name, then its other spelling after a space ("" for none)
};

constexpr OptSpec kSpecList[] = {
    {0, false, Opt::Tcp, "tcp"},
    {'u', false, Opt::Udp, "udp"},
    {'4', false, Opt::V4, ""},
    {'6', false, Opt::V6, ""},
    {'s', true, Opt::Sport, "sport"},
    {'d', true, Opt::Dport, "dport"},
    {0, true, Opt::Src, "src"},
    {0, true, Opt::Dst, "dst"},
    {0, false, Opt::SrcRemoved, "src-removed src_removed"},
    {0, true, Opt::RemovedGrace, "removed-grace removed_grace"},
    {0, false, Opt::Watch, "watch"},
    {0, true, Opt::State, "state"},
    {0, true, Opt::Uid, "uid"},
    {0, true, Opt::Mark, "mark"},
    {0, true, Opt::Dev, "dev"},
    {0, true, Opt::Cgroup, "cgroup"},
    {0, true, Opt::Pid, "pid"},
    {0, true, Opt::Comm, "comm"},
    {0, true, Opt::ExSport, "exclude-sport"},
    {0, true, Opt::ExDport, "exclude-dport"},
    {0, true, Opt::ExSrc, "exclude-src"},
    {0, true, Opt::ExDst, "exclude-dst"},
    {0, true, Opt::ExUid, "exclude-uid"},
    {0, true, Opt::ExComm, "exclude-comm"},
    {'n', false, Opt::DryRun, "dry-run dry_run"},
    {'N', true, Opt::Netns, "netns"},
    {0, false, Opt::AllNetns, "all-netns all_netns"},
    {'j', false, Opt::Json, "json"},
    {0, true, Opt::MaxKills, "max-kills max_kills"},
    {'t', true, Opt::Idle, "idle_time idle-time"},
    {0, true, Opt::LastRecv, "last_recv_limit last-recv-limit"},
    {0, true, Opt::Stalled, "stalled"},
    {0, true, Opt::SendIdle, "send_idle send-idle"},
    {0, true, Opt::ArmUserTimeout, "arm-user-timeout"},
    {0, true, Opt::ArmKeepalive, "arm-keepalive"},
    {'i', true, Opt::Interval, "interval"},
    {'f', true, Opt::Logfile, "logfile"},
    {0, true, Opt::Metrics, "metrics"},
    {'v', false, Opt::Verbose, "verbose"},
    {'h', false, Opt::Help, "help"},
    {0, false, Opt::UseProc, "use_proc use-proc"},
    {0, false, Opt::KillOwner, "kill_owner kill-owner"},
    {0, false, Opt::NoSyslog, "disable_syslog disable-syslog"},
    {'V', false, Opt::Version, "version"},
    {0, true, Opt::Rules, "rules"},
    {0, false, Opt::Check, "check"},
};

constexpr uint64_t bit(Opt id) { return uint64_t{1} << static_cast<unsigned>(id); }
static_assert(static_cast<unsigned>(Opt::Comm) < 64);

// Options that hold one value: a second one is a mistake, not an override.
constexpr uint64_t kSingleValued = bit(Opt::Idle) | bit(Opt::LastRecv) | bit(Opt::Stalled) | bit(Opt::SendIdle) |
                                   bit(Opt::Interval) | bit(Opt::Logfile) | bit(Opt::Metrics) | bit(Opt::Netns) |
                                   bit(Opt::MaxKills) | bit(Opt::RemovedGrace) | bit(Opt::Rules) |
                                   bit(Opt::ArmUserTimeout) | bit(Opt::ArmKeepalive);

// What a rule may hold: what selects a socket or decides about it. The
// owner kinds and the exclusions are the enum's tail.
constexpr uint64_t kRuleOpts = bit(Opt::Tcp) | bit(Opt::Udp) | bit(Opt::V4) | bit(Opt::V6) | bit(Opt::Sport) |
                               bit(Opt::Dport) | bit(Opt::Src) | bit(Opt::Dst) | bit(Opt::SrcRemoved) |
                               bit(Opt::State) | bit(Opt::MaxKills) | bit(Opt::Idle) | bit(Opt::LastRecv) |
                               bit(Opt::Stalled) | bit(Opt::SendIdle) | bit(Opt::ArmUserTimeout) |
                               bit(Opt::ArmKeepalive) | ~(bit(Opt::ExSport) - 1);

// Shipped packed (core/packed.hpp): the short name, takes_value and the id
// as three bytes, then the names.
constexpr size_t kHead = 3;
constexpr auto kSpecs = pack<packed_size<kHead>(kSpecList, &OptSpec::names), kHead>(
    kSpecList, &OptSpec::names, [](const OptSpec& s) {
        return std::array<char, kHead>{s.short_name, static_cast<char>(s.takes_value), static_cast<char>(s.id)};
    });
static_assert(static_cast<unsigned>(Opt::Comm) < 128);

// The option of the entry at `e`.
OptSpec spec_at(const char* e) { return {e[0], e[1] != 0, static_cast<Opt>(e[2]), e + kHead}; }

const char* specs_end() { return packed_end(kSpecs); }

// The option whose short name is `c`, into `out`: false for none.
bool find_short(char c, OptSpec& out) {
    for (const char* e = kSpecs.data(); e != specs_end(); e = packed_next(e, kHead))
        if (*e == c) {
            out = spec_at(e);
            return true;
        }
    return false;
}

// The option one of whose names is `name`, into `out`: false for none.
bool find_long(std::string_view name, OptSpec& out) {
    for (const char* e = kSpecs.data(); e != specs_end(); e = packed_next(e, kHead)) {
        for (std::string_view names = packed_text(e, kHead); !names.empty();) {
            const size_t space = sv_find(names, ' ');
            if (sv_head(names, space) == name) {
                out = spec_at(e);
                return true;
            }
            names = sv_tail(names, space == std::string_view::npos ? names.size() : space + 1);
        }
    }
    return false;
}

// --uid, --mark, --dev, --cgroup, --pid, --comm: one more value of the kind.
const char* apply_owner(Opt id, std::string_view value, OwnerSel& w) {
    uint8_t* counts[] = {&w.n_uid, &w.n_mark, &w.n_dev, &w.n_cgroup, &w.n_pid, &w.n_comm};
    static const char* const empty[] = {"empty user", "empty mark", "empty interface name", "empty cgroup path",
                                        "empty process id", "empty command name"};
    const int kind = static_cast<int>(id) - static_cast<int>(Opt::Uid);
    uint8_t& count = *counts[kind];
    if (count == OwnerSel::kMax) return "too many values of this option (at most 8)";
    if (value.empty()) return empty[kind];
    const size_t i = count++;
    uint64_t n = 0;
    switch (id) {
        case Opt::Uid:
            // A number is a uid; anything else a user name, looked up at start-up.
            if (parse_uint(value, UINT32_MAX - 1, n)) w.uid[i] = static_cast<uint32_t>(n);
            else if (all_digits(value)) return "not a user id (0-4294967294)";
            else w.uid_name[i] = value.data();
            break;
        case Opt::Mark:
            if (!parse_mark(value, w.mark[i]))
                return "not a mark (VALUE or VALUE/MASK, no VALUE bits outside MASK)";
            break;
        case Opt::Dev:
            if (value.size() > 15) return "interface name longer than 15 characters";
            w.dev_name[i] = value.data();
            break;
        case Opt::Cgroup: w.cgroup_path[i] = value.data(); break;
        case Opt::Pid:
            if (!parse_uint(value, 4194304, n) || n == 0) return "not a process id (1-4194304)";
            w.pid[i] = static_cast<int32_t>(n);
            break;
        default:  // Comm
            if (value.size() > 15) return "command name longer than 15 characters";
            w.comm[i] = value.data();
            break;
    }
    return nullptr;
}

// Applies one option's value; returns nullptr or the error message.
const char* apply_value(const OptSpec& spec, std::string_view value, Options& o) {
    uint64_t n = 0;
    if (spec.id >= Opt::Uid) return apply_owner(spec.id, value, o.sel.owner);
    switch (spec.id) {
        case Opt::Tcp: o.sel.tcp = true; break;
        case Opt::Udp: o.sel.udp = true; break;
        case Opt::SrcRemoved: o.sel.src_removed = true; break;
        case Opt::Watch: o.watch = true; break;
        case Opt::V4: o.sel.ipv4 = true; break;
        case Opt::V6: o.sel.ipv6 = true; break;
        case Opt::Sport:
            if (Status s = parse_ports(value, o.sel.sports); !s) return s.error().what;
            break;
        case Opt::Dport:
            if (Status s = parse_ports(value, o.sel.dports); !s) return s.error().what;
            break;
        case Opt::Src:
        case Opt::Dst:
        case Opt::ExSrc:
        case Opt::ExDst: {
            Prefix p;
            if (Status s = parse_prefix(value, p); !s) return s.error().what;
            PrefixSet& set = spec.id == Opt::Src   ? o.sel.srcs
                             : spec.id == Opt::Dst ? o.sel.dsts
                             : spec.id == Opt::ExSrc ? o.sel.ex.srcs
                                                     : o.sel.ex.dsts;
            if (Status s = set.add(p); !s) return s.error().what;
            break;
        }
        case Opt::ExSport:
        case Opt::ExDport:
            if (Status s = parse_ports(value, spec.id == Opt::ExSport ? o.sel.ex.sports : o.sel.ex.dports); !s)
                return s.error().what;
            break;
        case Opt::ExUid: return apply_owner(Opt::Uid, value, o.sel.ex.owner);
        case Opt::ExComm: return apply_owner(Opt::Comm, value, o.sel.ex.owner);
        case Opt::State: {
            // Repeated --state flags accumulate, as the other selectors do.
            uint32_t more = 0;
            if (Status s = parse_states(value, more); !s) return s.error().what;
            o.sel.states = (o.given & bit(Opt::State) ? o.sel.states : 0) | more;
            break;
        }
        case Opt::MaxKills:
            if (!parse_uint(value, UINT32_MAX, n) || n == 0) return "not a number of connections (1-4294967295)";
            o.sel.max_per_poll = static_cast<uint32_t>(n);
            break;
        case Opt::DryRun: o.dry_run = true; break;
        case Opt::Netns:
            if (value.empty()) return "empty network namespace name";
            o.netns = value.data();  // argv strings are NUL-terminated
            break;
        case Opt::AllNetns: o.all_netns = true; break;
        case Opt::Json: o.json = true; break;
        case Opt::Idle:
            if (!parse_uint(value, UINT32_MAX, n)) return "not a number of milliseconds (0-4294967295)";
            o.sel.idle_min_ms = static_cast<uint32_t>(n);
            break;
        case Opt::LastRecv:
            if (!parse_uint(value, UINT32_MAX, n)) return "not a number of milliseconds (0-4294967295)";
            o.sel.last_recv_limit_ms = static_cast<uint32_t>(n);
            break;
        case Opt::RemovedGrace:
            if (!parse_uint(value, 10000, n)) return "not a number of milliseconds (0-10000)";
            o.sel.removed_grace_ms = static_cast<uint32_t>(n);
            break;
        case Opt::Stalled:
        case Opt::SendIdle:
            if (!parse_uint(value, UINT32_MAX, n) || n == 0) return "not a number of milliseconds (1-4294967295)";
            (spec.id == Opt::Stalled ? o.sel.stalled_ms : o.sel.send_idle_ms) = static_cast<uint32_t>(n);
            break;
        case Opt::Interval:
            if (!parse_seconds(value, n)) return "not a number of seconds (e.g. 5 or 0.5, at most 31536000)";
            if (n < 1000000) return "interval must be at least 0.001 seconds";
            o.interval_ns = n;
            break;
        case Opt::Logfile:
            if (value.empty()) return "empty log file name";
            o.logfile = value.data();  // argv strings are NUL-terminated
            break;
        case Opt::Metrics:
            if (value.empty()) return "empty metrics file name";
            if (value.back() == '/') return "the metrics file is a directory: name a file in it";
            if (value.size() > kMetricsPathMax) return "metrics file name longer than 4000 characters";
            o.metrics = value.data();
            break;
        case Opt::Verbose: o.verbose = true; break;
        case Opt::Help: o.help = true; break;
        case Opt::UseProc: o.use_proc = true; break;
        case Opt::KillOwner: o.kill_owner = true; break;
        case Opt::NoSyslog: o.syslog = false; break;
        case Opt::Version: o.version = true; break;
        case Opt::Rules:
            if (value.empty()) return "empty rules file name";
            o.rules = value.data();
            break;
        case Opt::Check: o.check = true; break;
        case Opt::ArmUserTimeout: return parse_user_timeout(value, o.sel.arm);
        case Opt::ArmKeepalive: return parse_keepalive(value, o.sel.arm);
        default: break;
    }
    return nullptr;
}

constexpr char kTwice[] = "option given twice (it holds one value)";
constexpr char kRunOption[] = "an option of the run, not of a rule: give it on the command line";

// Applies one option that `allowed` holds; returns nullptr, kTwice,
// kRunOption or the error message.
const char* apply(const OptSpec& spec, std::string_view value, Options& o, uint64_t allowed) {
    if (!(allowed & bit(spec.id))) return kRunOption;
    if (o.given & kSingleValued & bit(spec.id)) return kTwice;
    const char* err = apply_value(spec, value, o);
    o.given |= bit(spec.id);
    return err;
}

// The argument an error names: the option itself when it was given twice
// or takes no value, else its value.
std::string_view named(const char* err, const OptSpec& spec, std::string_view arg, std::string_view value) {
    return err == kTwice || err == kRunOption || !spec.takes_value ? arg : value;
}

}  // namespace

size_t option_count() { return sizeof kSpecList / sizeof kSpecList[0]; }

OptionName option_name(size_t i) {
    if (i >= option_count()) return {};
    const char* e = kSpecs.data();
    while (i--) e = packed_next(e, kHead);
    return {e[0], e + kHead};
}

bool parse_seconds(std::string_view text, uint64_t& ns) {
    constexpr uint64_t kMaxSeconds = 31536000;  // one year
    size_t dot = sv_find(text, '.');
    std::string_view whole = sv_head(text, dot);
    uint64_t secs = 0;
    if (!parse_uint(whole, kMaxSeconds, secs)) return false;
    uint64_t frac = 0;
    if (dot != std::string_view::npos) {
        std::string_view f = sv_tail(text, dot + 1);
        if (f.empty() || f.size() > 9 || !parse_uint(f, 999999999, frac)) return false;
        for (size_t i = f.size(); i < 9; ++i) frac *= 10;
        if (secs == kMaxSeconds && frac > 0) return false;
    }
    ns = secs * 1000000000ull + frac;
    return true;
}

namespace {

// The line as it is, without the -h rule of parse_args; `allowed`: the
// options it may hold (a rule's, or all).
const char* parse_line(int argc, const char* const* argv, Options& o, std::string_view& bad, uint64_t allowed) {
    auto fail = [&bad](const char* message, std::string_view value) {
        bad = value;
        return message;
    };
    std::string_view rule_opt;  // the first option of a rule's kind, for --rules
    // Only explicit options set these; the defaults are decided after the loop.
    o.sel.ipv4 = false;
    o.sel.ipv6 = false;
    o.sel.tcp = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--") {
            if (i + 1 < argc) return fail("unexpected argument", argv[i + 1]);
            break;
        }
        if (arg.size() > 2 && sv_head(arg, 2) == "--") {
            std::string_view body = sv_tail(arg, 2);
            size_t eq = sv_find(body, '=');
            OptSpec spec;
            if (!find_long(sv_head(body, eq), spec)) return fail("unknown option", arg);
            std::string_view value;
            if (spec.takes_value) {
                if (eq != std::string_view::npos) {
                    value = sv_tail(body, eq + 1);
                } else {
                    if (i + 1 >= argc) return fail("option needs a value", arg);
                    value = argv[++i];
                }
            } else if (eq != std::string_view::npos) {
                return fail("option takes no value", arg);
            }
            if (const char* err = apply(spec, value, o, allowed)) return fail(err, named(err, spec, arg, value));
            if ((kRuleOpts & bit(spec.id)) && rule_opt.empty()) rule_opt = arg;
            continue;
        }
        if (arg.size() < 2 || arg[0] != '-') return fail("unexpected argument", arg);
        // A cluster of short options: -46v, -s22, -s 22.
        for (size_t k = 1; k < arg.size(); ++k) {
            OptSpec spec;
            if (!find_short(arg[k], spec)) return fail("unknown option", arg);
            std::string_view value;
            if (spec.takes_value) {
                if (k + 1 < arg.size()) {
                    value = sv_tail(arg, k + 1);
                } else {
                    if (i + 1 >= argc) return fail("option needs a value", arg);
                    value = argv[++i];
                }
            }
            if (const char* err = apply(spec, value, o, allowed)) return fail(err, named(err, spec, arg, value));
            if ((kRuleOpts & bit(spec.id)) && rule_opt.empty()) rule_opt = arg;
            if (spec.takes_value) break;
        }
    }
    if (!o.sel.udp) o.sel.tcp = true;  // TCP alone unless -u is given
    const bool v4_addr = o.sel.srcs.has_family(AF_INET) || o.sel.dsts.has_family(AF_INET);
    const bool v6_addr = o.sel.srcs.has_family(AF_INET6) || o.sel.dsts.has_family(AF_INET6);
    if (!o.sel.ipv4 && !o.sel.ipv6) {
        // Neither -4 nor -6: IPv4, unless the addresses given are IPv6.
        o.sel.ipv4 = v4_addr || !v6_addr;
        o.sel.ipv6 = v6_addr;
    } else if (!o.help && !o.version) {
        if (v6_addr && !o.sel.ipv6) return fail("an IPv6 address cannot match with -4 alone: add -6", "");
        if (v4_addr && !o.sel.ipv4) return fail("an IPv4 address cannot match with -6 alone: add -4", "");
    }
    if (!o.help && !o.version) {
        if (o.netns && o.all_netns) return fail("--netns and --all-netns exclude each other", "");
        if (o.watch && o.all_netns)
            return fail("--watch does not work with --all-netns yet: use -i (or --watch with --netns)", "");
        // With --rules the selections are the file's; the line holds the run's.
        if (o.rules) return rule_opt.empty() ? nullptr : fail("a rule's option beside --rules: put it in a rule of the file", rule_opt);
    }
    if (!o.help && !o.version) {
        if (o.sel.sports.empty() && o.sel.dports.empty() && o.sel.srcs.empty() && o.sel.dsts.empty() &&
            !o.sel.owner.any() && !o.sel.src_removed && !o.sel.stalled_ms)
            return fail(o.sel.ex.any()         ? "--exclude-* only narrows a selection: add a port, address, owner, "
                                                 "--src-removed or --stalled to select by"
                        : o.sel.send_idle_ms ? "--send_idle alone would select every quiet connection: add a port, "
                                                 "address, owner, --src-removed or --stalled"
                                               : "at least one port, address, owner, --src-removed or --stalled to "
                                                 "select by is required",
                        "");
        if (const char* m = excluded_entirely(o.sel, false)) return fail(m, "");
        if (o.sel.owner.n_dev && o.all_netns)
            return fail("--dev and --all-netns exclude each other", "");
        if ((o.given & bit(Opt::RemovedGrace)) && !o.sel.src_removed) return fail("--removed-grace is for --src-removed", "");
        if (o.sel.udp && o.sel.needs_tcp_info())
            return fail("-t, --last_recv_limit, --stalled and --send_idle need tcp_info, which UDP sockets lack: "
                        "run UDP separately",
                        "");
        if (o.sel.udp && !o.sel.tcp && o.sel.states != kUdpConnected)
            return fail("with -u alone --state can only be established (a connected UDP socket)", "");
        if (o.sel.udp && !(o.sel.states & kUdpConnected))
            return fail("--state selects no UDP socket: UDP sockets match only as established", "");
        if (o.sel.last_recv_limit_ms > 0 && o.sel.last_recv_limit_ms <= o.sel.idle_min_ms)
            return fail("--last_recv_limit must be greater than --idle_time, or nothing can match", "");
        if (o.sel.arm.any()) {
            if (o.sel.udp) return fail("--arm-* arms TCP connections only: -u cannot be armed", "");
            if (o.kill_owner) return fail("--arm-* ends nothing, so --kill_owner has nothing to do", "");
            // --state never takes listening sockets; time-wait ones have no
            // connection left to arm.
            o.sel.states &= ~kTimeWait;
            if (!o.sel.states) return fail("--state selects nothing to arm: time-wait sockets never are", "");
        }
    }
    return nullptr;
}

// -h or --help anywhere on the line (before "--"): the help, whatever else
// is wrong with the line.
bool asks_help(int argc, const char* const* argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--") break;
        if (arg == "-h" || arg == "--help") return true;
    }
    return false;
}

}  // namespace

const char* parse_rule_words(int n, const char* const* words, Options& o, std::string_view& bad) {
    return parse_line(n, words, o, bad, kRuleOpts);
}

ParseResult parse_args(int argc, const char* const* argv) {
    ParseResult r;
    const char* err = parse_line(argc, argv, r.opts, r.value, ~uint64_t{0});
    if (err && asks_help(argc, argv)) {
        r.opts.help = true;
        err = nullptr;
    }
    r.ok = err == nullptr;
    if (err) r.message = err;
    return r;
}

}  // namespace tc
