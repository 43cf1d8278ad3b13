// Command-line parsing: a pure function from argv to Options or to a usage
// error that names the bad value. No output, no exit: main does that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/selection.hpp"

namespace tc {

struct Options {
    Selection sel;
    uint64_t interval_ns = 0;      // 0: poll once and exit
    const char* logfile = nullptr; // nullptr: stderr
    const char* metrics = nullptr; // --metrics: the run's counters, rewritten after every poll
    bool verbose = false;
    bool help = false;
    bool version = false;
    bool use_proc = false;   // end connections through /proc (always so without SOCK_DESTROY)
    bool kill_owner = false; // /proc path: kill the holders instead of resetting
    const char* netns = nullptr; // -N: a name under /var/run/netns, or a path (has a '/')
    bool all_netns = false;  // every network namespace on the host, each poll
    bool watch = false;      // --watch: also poll at once when a local address is removed
    // A daemon: polls until a stop signal (-i, or --watch).
    bool daemon() const { return interval_ns > 0 || watch; }
    bool dry_run = false;    // -n: everything but ending connections
    bool json = false;       // -j: one JSON object per connection and per poll on stdout
    bool syslog = true;
    const char* rules = nullptr;  // --rules FILE: the selections are FILE's rules, not the line's
    bool check = false;           // --check: validate, resolve names, end nothing, exit
    uint64_t given = 0;  // the options given, a bit each (the parser's own bookkeeping)
};

struct ParseResult {
    bool ok = false;
    Options opts;
    const char* message = "";    // what is wrong (static text)
    std::string_view value;       // the offending argument, points into argv
};

ParseResult parse_args(int argc, const char* const* argv);

// A rule's options (a rules file line's words, words[0] its name) into
// `o.sel`, checked as a command line's: nullptr, or what is wrong and in
// `bad` the word it is about. An option of the run (-i, -f, -n, ...) is
// refused: it belongs on the command line.
const char* parse_rule_words(int n, const char* const* words, Options& o, std::string_view& bad);

// Strict decimal seconds ("5", "0.5", "2.25"), at most 9 decimals, to ns.
bool parse_seconds(std::string_view text, uint64_t& ns);

// Every option's spellings as the parser takes them, for the
// documentation test that keeps --help, the man page and the completion in
// step with the parser.
struct OptionName {
    char short_name = 0;      // 0: none
    const char* names = "";   // without "--": the long name, then its other spelling after a space
};
size_t option_count();
OptionName option_name(size_t i);

// The --help text (src/core/usage.cpp).
std::string_view usage_text();
extern const char kVersion[];        // "tcp_closer 0.2.0"
extern const char kVersionNumber[];  // "0.2.0"
// --metrics FILE: its temporary sibling FILE.tmp must fit in PATH_MAX.
constexpr size_t kMetricsPathMax = 4000;

}  // namespace tc
