// The documentation says what the code does: every option of the parser in
// --help, the man page and the bash completion; every example command line
// of the README accepted by the parser; the man page's vocabulary that of
// the log. Runs from the repository root (make unit does).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/options.hpp"
#include "usage_text.hpp"

namespace {

std::string slurp(const char* path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// groff escapes dashes as "\-".
std::string unescape_man(std::string s) {
    for (size_t at; (at = s.find("\\-")) != std::string::npos;) s.erase(at, 1);
    return s;
}

// Does `text` hold `word` with no letter, digit, '-' or '_' right after it?
bool has_word(const std::string& text, const std::string& word) {
    for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
        const char next = at + word.size() < text.size() ? text[at + word.size()] : ' ';
        if (!std::isalnum(static_cast<unsigned char>(next)) && next != '-' && next != '_') return true;
    }
    return false;
}

// The command lines of the README's sh blocks that run tcp_closer, split
// into words (the examples use no quoting).
std::vector<std::vector<std::string>> readme_commands(const std::string& readme) {
    std::vector<std::vector<std::string>> out;
    std::istringstream in(readme);
    bool in_sh = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("```", 0) == 0) {
            in_sh = !in_sh && line == "```sh";
            continue;
        }
        if (!in_sh) continue;
        std::istringstream words(line.substr(0, line.find('#')));
        std::vector<std::string> argv;
        for (std::string w; words >> w;) argv.push_back(w);
        if (!argv.empty() && argv[0] == "sudo") argv.erase(argv.begin());
        if (!argv.empty() && argv[0] == "tcp_closer") out.push_back(argv);
    }
    return out;
}

}  // namespace

TEST_CASE("--help, the man page and the completion name every option the parser takes", "[docs]") {
    const std::string usage = tc_usage();
    const std::string man = unescape_man(slurp("scripts/tcp_closer.8"));
    const std::string completion = slurp("scripts/tcp_closer.bash-completion");
    REQUIRE_FALSE(man.empty());
    REQUIRE_FALSE(completion.empty());
    REQUIRE(tc::option_count() > 20);
    for (size_t i = 0; i < tc::option_count(); ++i) {
        const tc::OptionName o = tc::option_name(i);
        std::vector<std::string> spellings;
        if (o.short_name) spellings.push_back(std::string("-") + o.short_name);
        if (o.long_name) spellings.push_back(std::string("--") + o.long_name);
        if (o.alias) spellings.push_back(std::string("--") + o.alias);
        REQUIRE_FALSE(spellings.empty());
        for (const std::string& s : spellings) {
            INFO(s);
            CHECK(has_word(usage, s));
            CHECK(has_word(man, s));
            CHECK(has_word(completion, s));
        }
    }
    // One screen, not a second man page: at most 3.5 KB, 80 columns.
    CHECK(usage.size() <= 3584);
    std::istringstream lines(usage);
    for (std::string line; std::getline(lines, line);) {
        INFO(line);
        CHECK(line.size() <= 80);
    }
    // The version printed and the one in the man page header agree.
    CHECK(man.find(std::string("\"") + tc::kVersion + "\"") != std::string::npos);
}

TEST_CASE("every example command line in the README is accepted by the parser", "[docs]") {
    const std::string readme = slurp("README.md");
    REQUIRE_FALSE(readme.empty());
    CHECK(readme.size() <= 12 * 1024);  // a user's page, not a second man page
    for (const char* text : {"make demo", "make test"}) {
        INFO(text);
        CHECK(readme.substr(0, 1000).find(text) != std::string::npos);  // at the top
    }
    const auto commands = readme_commands(readme);
    CHECK(commands.size() >= 10);
    for (const auto& argv : commands) {
        std::string joined;
        std::vector<const char*> args;
        for (const std::string& w : argv) {
            joined += w + " ";
            args.push_back(w.c_str());
        }
        INFO(joined);
        tc::ParseResult r = tc::parse_args(static_cast<int>(args.size()), args.data());
        CHECK(r.ok);
        if (!r.ok) WARN(r.message);
    }
}

TEST_CASE("the man page explains the log's and JSON's words and the privileges", "[docs]") {
    const std::string man = unescape_man(slurp("scripts/tcp_closer.8"));
    for (const char* text : {"make NO_SOCK_DESTROY=1", "by=sock_destroy", "by=reset", "by=shutdown", "by=killed",
                             "no_owner", "vanished", "skipped", "would_destroy", "failed", "ways to end a connection",
                             "ways to find connections", "close-wait", "time-wait", "\"type\":\"summary\"",
                             "AmbientCapabilities=CAP_NET_ADMIN", "CAP_NET_ADMIN", "CAP_SYS_PTRACE",
                             "CAP_DAC_READ_SEARCH", "CAP_KILL", "CAP_SYS_ADMIN", "SIGHUP", "SIGTERM", "logrotate",
                             "/proc/net/tcp6", "MARK_COND", "CGROUP_COND", "DEV_COND", "mark=0x10/0xf0",
                             "/etc/passwd", "/proc/self/mountinfo", "checked in user space only", "skipped: ",
                             "/system.slice/nginx.service", "tcp_closer -s 22 -t 60000 -i 5", "MIT"}) {
        INFO(text);
        CHECK(man.find(text) != std::string::npos);
    }
}
