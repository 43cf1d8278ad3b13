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
#include "core/rules.hpp"
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
        std::istringstream names(o.names);
        for (std::string name; names >> name;) spellings.push_back("--" + name);
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
                             "/system.slice/nginx.service", "tcp_closer -s 22 -t 60000 -i 5", "MIT",
                             "armed", "kept=user_timeout", "would_arm", "by=pidfd_getfd", "keepalive_s=60,10,3",
                             "ETIMEDOUT", "net_prio"}) {
        INFO(text);
        CHECK(man.find(text) != std::string::npos);
    }
}

TEST_CASE("the packaging points to what the package ships, and says what the tool ends", "[docs]") {
    const std::string man = unescape_man(slurp("scripts/tcp_closer.8"));
    // The package ships no README: the unit and the defaults file point to
    // the man page, whose PRIVILEGES section holds the drop-in.
    for (const char* path : {"scripts/tcp-closer.service", "scripts/tcp-closer.default"}) {
        const std::string text = slurp(path);
        INFO(path);
        REQUIRE_FALSE(text.empty());
        CHECK(text.find("README") == std::string::npos);
        CHECK(text.find("PRIVILEGES in tcp_closer(8)") != std::string::npos);
    }
    const size_t privileges = man.find(".SH PRIVILEGES");
    REQUIRE(privileges != std::string::npos);
    const std::string section = man.substr(privileges, man.find(".SH", privileges + 1) - privileges);
    for (const char* text : {"systemctl edit tcp-closer", "ProcSubset=all", "SystemCallFilter=pidfd_getfd",
                             "CAP_SYS_ADMIN", "--cap-add NET_ADMIN", "securityContext.capabilities.add"}) {
        INFO(text);
        CHECK(section.find(text) != std::string::npos);
    }
    // The package and the unit say UDP too.
    const std::string package = slurp("scripts/package.sh");
    const size_t desc = package.find("Description: ");
    REQUIRE(desc != std::string::npos);
    CHECK(package.substr(desc, package.find('\n', desc) - desc).find("UDP") != std::string::npos);
    CHECK(slurp("scripts/tcp-closer.service").find("Description=tcp_closer: end dead or idle TCP connections and "
                                                    "connected UDP sockets") != std::string::npos);
}

TEST_CASE("the man page's SYNOPSIS names every selection that stands on its own", "[docs]") {
    const std::string man = unescape_man(slurp("scripts/tcp_closer.8"));
    const size_t from = man.find(".SH SYNOPSIS"), to = man.find(".SH DESCRIPTION");
    REQUIRE(from != std::string::npos);
    REQUIRE(to != std::string::npos);
    const std::string synopsis = man.substr(from, to - from);
    // Each of these alone is a selection the parser accepts.
    for (const char* opt : {"-s", "-d", "--src", "--dst", "--src-removed", "--stalled"}) {
        INFO(opt);
        CHECK(has_word(synopsis, std::string(".B ") + opt));
    }
    CHECK(synopsis.find("OWNER") != std::string::npos);
}

TEST_CASE("the README and the man page say what -t, --stalled and -j do", "[docs]") {
    const std::string readme = slurp("README.md");
    const std::string man = unescape_man(slurp("scripts/tcp_closer.8"));
    // A sender into a black hole receives nothing: -t selects it.
    CHECK(readme.find("not idle, so -t misses it") == std::string::npos);
    CHECK(readme.find("--stalled spares those") != std::string::npos);
    // -j: a summary every poll; with -n, JSON alone on stdout.
    CHECK(readme.find("summary object every\npoll (also one that matched nothing)") != std::string::npos);
    CHECK(man.find("every poll (also a poll that matched nothing") != std::string::npos);
    CHECK(man.find("with -n, stdout\ncarries the JSON alone") != std::string::npos);
    // The examples of --src-removed --watch select both families.
    CHECK(readme.find("tcp_closer -4 -6 --src-removed --watch") != std::string::npos);
    CHECK(slurp("scripts/tcp-closer.default").find("vip: -4 -6 --src-removed\n# and \"-i 5 --watch\"") !=
          std::string::npos);
}

TEST_CASE("the rules in the README, the man page and the packaged file are valid rules", "[docs][rules]") {
    auto parses = [](const std::string& text, size_t want) {
        tc::RuleSet set;
        tc::PodVec<tc::RuleError> errors;
        INFO(text);
        CHECK(set.parse(text, errors));
        for (size_t i = 0; i < errors.size(); ++i) WARN(errors[i].line << ": " << errors[i].text);
        CHECK(set.size() == want);
    };
    // The README's rules: the block after the service's commands.
    const std::string readme = slurp("README.md");
    const size_t service = readme.find("## As a service");
    REQUIRE(service != std::string::npos);
    const size_t open = readme.find("```\n", readme.find("```\n", service) + 4);
    REQUIRE(open != std::string::npos);
    const size_t close = readme.find("```", open + 4);
    parses(readme.substr(open + 4, close - open - 4), 3);
    // The man page's RULES example.
    const std::string man = unescape_man(slurp("scripts/tcp_closer.8"));
    const size_t rules = man.find(".SH RULES");
    REQUIRE(rules != std::string::npos);
    const size_t ex = man.find(".EX\n", rules), ee = man.find(".EE", rules);
    REQUIRE(ex < ee);
    parses(man.substr(ex + 4, ee - ex - 4), 4);
    // The packaged file: no rule as shipped, its commented examples valid.
    const std::string shipped = slurp("scripts/tcp-closer.rules");
    parses(shipped, 0);
    std::string examples;
    for (size_t at = 0; (at = shipped.find("\n#", at)) != std::string::npos; ++at) {
        const size_t end = shipped.find('\n', at + 1);
        const std::string line = shipped.substr(at + 2, end - at - 2);
        if (!line.empty() && line[0] != ' ' && line.find(':') != std::string::npos) examples += line + "\n";
    }
    parses(examples, 4);
}
