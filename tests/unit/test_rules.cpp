// The rules file parser: words split as a shell would, every error found
// with its line, options of the run refused in a rule, and a rule's
// options refused beside --rules on the command line.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/rules.hpp"
#include "parse_helpers.hpp"

using namespace tc;

namespace {

struct Parsed {
    bool ok = false;
    std::vector<std::string> names;
    std::vector<std::pair<uint32_t, std::string>> errors;
};

Parsed parse_text(RuleSet& set, const std::string& text) {
    PodVec<RuleError> errors;
    Parsed p;
    p.ok = set.parse(text, errors);
    for (const Rule& r : set.rules()) p.names.emplace_back(r.name);
    for (size_t i = 0; i < errors.size(); ++i) p.errors.emplace_back(errors[i].line, errors[i].text);
    return p;
}

std::string errors_of(const Parsed& p) {
    std::string all;
    for (const auto& [line, text] : p.errors) all += std::to_string(line) + ": " + text + "\n";
    return all;
}

}  // namespace

TEST_CASE("a rules file: names, options, comments and blank lines", "[rules]") {
    RuleSet set;
    const Parsed p = parse_text(set,
                                "# name    options\n"
                                "\n"
                                "ssh:      -s 22 -t 3600000\n"
                                "db-pool:  -4 -6 -d 5432 --stalled 30000\n"
                                "   \t\n"
                                "sip:      -u -d 5060 --src-removed      # clients of a moved VIP\n"
                                "legacy:   --comm legacyd -t 86400000 --max-kills 100");
    INFO(errors_of(p));
    REQUIRE(p.ok);
    REQUIRE(p.names == std::vector<std::string>{"ssh", "db-pool", "sip", "legacy"});
    const auto r = set.rules();
    CHECK(r[0].line == 3);
    CHECK(r[0].sel.sports.single() == 22);
    CHECK(r[0].sel.idle_min_ms == 3600000);
    CHECK(r[0].sel.tcp);
    CHECK_FALSE(r[0].sel.udp);
    CHECK(r[1].line == 4);
    CHECK(r[1].sel.ipv4);
    CHECK(r[1].sel.ipv6);
    CHECK(r[1].sel.stalled_ms == 30000);
    CHECK(r[2].line == 6);
    CHECK(r[2].sel.udp);
    CHECK_FALSE(r[2].sel.tcp);
    CHECK(r[2].sel.src_removed);
    CHECK(r[3].line == 7);
    CHECK(r[3].sel.max_per_poll == 100);
    REQUIRE(r[3].sel.owner.n_comm == 1);
    CHECK(std::string(r[3].sel.owner.comm[0]) == "legacyd");
}

TEST_CASE("a rules file: quoting as a shell does it", "[rules]") {
    RuleSet set;
    const Parsed p = parse_text(set,
                                "a: --comm 'my prog'\n"
                                "b: --comm \"a \\\"b\\\\\"\n"
                                "c: --comm x\\ y\\#z\n"
                                "d:--comm ab'c d'\"e\"\n"
                                "e: --comm w#x # a comment 'with an open quote\n"
                                "f: --comm '#'\n");
    INFO(errors_of(p));
    REQUIRE(p.ok);
    const char* want[] = {"my prog", "a \"b\\", "x y#z", "abc de", "w#x", "#"};
    REQUIRE(set.size() == 6);
    for (size_t i = 0; i < 6; ++i) {
        REQUIRE(set.rules()[i].sel.owner.n_comm == 1);
        CHECK(std::string(set.rules()[i].sel.owner.comm[0]) == want[i]);
    }
}

TEST_CASE("a rules file with no rule is valid", "[rules]") {
    RuleSet set;
    for (const char* text : {"", "\n\n", "# only comments\n   # and more\n", "\t \r\n"}) {
        const Parsed p = parse_text(set, text);
        CHECK(p.ok);
        CHECK(set.size() == 0);
        CHECK(p.errors.empty());
    }
}

TEST_CASE("every error in a rules file is reported, each with its line", "[rules]") {
    RuleSet set;
    const Parsed p = parse_text(set,
                                "ok1: -s 22\n"                       // 1
                                "-s 22\n"                            // 2: no name
                                "bad name: -s 22\n"                  // 3: no colon after the first word
                                "b@d: -s 22\n"                       // 4: not a name
                                "ok1: -d 80\n"                       // 5: twice
                                "run: -s 22 -i 5\n"                  // 6: a run option
                                "udp: -u -d 53 -t 1000\n"            // 7: a usage error
                                "ex: --exclude-sport 22\n"           // 8: an exclusion alone
                                "q: --comm 'open\n"                  // 9: unclosed quote
                                "empty:\n"                           // 10: nothing to select by
                                "bs: -s 22 \\\n"                     // 11: backslash at the end
                                "x123456789012345678901234567890123: -s 1\n"  // 12: 33 characters
                                "ok2: -s 23\n");
    INFO(errors_of(p));
    CHECK_FALSE(p.ok);
    CHECK(set.size() == 0);  // nothing of a broken file is taken
    std::vector<uint32_t> lines;
    for (const auto& e : p.errors) lines.push_back(e.first);
    CHECK(lines == std::vector<uint32_t>{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    REQUIRE(p.errors.size() == 11);
    CHECK_THAT(p.errors[0].second, Catch::Contains("NAME: OPTIONS") && Catch::Contains("'-s'"));
    CHECK_THAT(p.errors[1].second, Catch::Contains("NAME: OPTIONS") && Catch::Contains("'bad'"));
    CHECK_THAT(p.errors[2].second, Catch::Contains("not a rule name") && Catch::Contains("'b@d'"));
    CHECK_THAT(p.errors[3].second, Catch::Contains("second rule of this name (the first is on line 1)") &&
                                       Catch::Contains("'ok1'"));
    CHECK_THAT(p.errors[4].second, Catch::Contains("an option of the run") && Catch::Contains("'-i'"));
    CHECK_THAT(p.errors[5].second, Catch::Contains("need tcp_info"));
    CHECK_THAT(p.errors[6].second, Catch::Contains("--exclude-* only narrows"));
    CHECK_THAT(p.errors[7].second, Catch::Contains("single quote is not closed"));
    CHECK_THAT(p.errors[8].second, Catch::Contains("at least one port"));
    CHECK_THAT(p.errors[9].second, Catch::Contains("backslash ends the line"));
    CHECK_THAT(p.errors[10].second, Catch::Contains("not a rule name"));
}

TEST_CASE("a rule refuses every option of the run", "[rules]") {
    const char* run_options[] = {"-i 5",      "--watch",         "-f /tmp/log",   "--metrics /tmp/m", "-n",
                                 "-j",        "-v",              "--netns x",     "--all-netns",      "--use_proc",
                                 "--kill_owner", "--disable_syslog", "--removed-grace 5", "--rules f", "--check",
                                 "-h",        "-V"};
    for (const char* o : run_options) {
        RuleSet set;
        const Parsed p = parse_text(set, std::string("r: -s 22 --src-removed ") + o + "\n");
        INFO(o);
        CHECK_FALSE(p.ok);
        REQUIRE(p.errors.size() == 1);
        CHECK_THAT(p.errors[0].second, Catch::Contains("an option of the run"));
    }
}

TEST_CASE("more than 64 rules is an error", "[rules]") {
    std::string text;
    for (int i = 0; i < 65; ++i) text += "r" + std::to_string(i) + ": -s " + std::to_string(i + 1) + "\n";
    RuleSet set;
    Parsed p = parse_text(set, text);
    CHECK_FALSE(p.ok);
    REQUIRE(p.errors.size() == 1);
    CHECK(p.errors[0].first == 65);
    text.resize(text.rfind("r64:"));
    p = parse_text(set, text);
    CHECK(p.ok);
    CHECK(set.size() == 64);
}

TEST_CASE("a rule's options beside --rules are a usage error", "[rules][options]") {
    const std::pair<const char*, const char*> given[] = {
        {"-s", "1"},       {"-d", "1"},        {"--src", "10.0.0.1"},  {"--dst", "::1"},       {"--state", "all"},
        {"--uid", "1"},    {"--comm", "x"},    {"--exclude-sport", "1"}, {"-t", "1"},        {"--stalled", "1"},
        {"--max-kills", "1"}, {"--mark", "1"}, {"--pid", "1"},        {"--last_recv_limit", "1"}, {"--send_idle", "1"},
        {"--exclude-dst", "10.0.0.0/8"}, {"--exclude-comm", "x"}, {"--dev", "lo"}, {"--cgroup", "/x"}};
    for (const auto& [o, value] : given) {
        INFO(o);
        const ParseResult r = parse({"--rules", "/etc/tcp-closer/rules", o, value});
        CHECK_FALSE(r.ok);
        CHECK_THAT(r.message, Catch::Contains("beside --rules"));
        CHECK(r.value == o);
    }
    for (const char* o : {"-4", "-6", "-u", "--tcp", "--src-removed"}) {
        INFO(o);
        const ParseResult r = parse({o, "--rules", "f"});
        CHECK_FALSE(r.ok);
        CHECK(r.value == o);
    }
    // What is the run's goes with --rules; no selection is needed.
    const Options o = ok({"--rules", "f", "-i", "5", "-j", "-n", "-v", "--watch", "--removed-grace", "50", "--check"});
    CHECK(std::string(o.rules) == "f");
    CHECK(o.check);
    CHECK(o.sel.removed_grace_ms == 50);
    CHECK_FALSE(parse({"--rules", "f", "--rules", "g"}).ok);
    CHECK_FALSE(parse({"--rules", ""}).ok);
    CHECK_FALSE(parse({"--rules", "f", "--netns", "a", "--all-netns"}).ok);
    // --check with an ordinary line is that line's check.
    CHECK(ok({"--check", "-s", "22"}).check);
    CHECK_FALSE(parse({"--check"}).ok);
}

TEST_CASE("the rules parser never reads past its text", "[rules]") {
    // Every prefix of a file with every construct: no crash (ASan), and
    // an accepted prefix keeps the rules it had.
    const std::string text = "a: --comm 'x y' -s 1 # c\nb:\"\" -d 2\\ \nc: --comm \"q\\\"\" -t 5 -s 3\n";
    for (size_t n = 0; n <= text.size(); ++n) {
        RuleSet set;
        PodVec<RuleError> errors;
        (void)set.parse(std::string_view(text.data(), n), errors);
    }
    SUCCEED("no prefix crashed");
}

TEST_CASE("what the rules ask of the run, and what a reload may not add", "[rules]") {
    RuleSet set;
    REQUIRE(parse_text(set, "a: -s 22 --stalled 1000\nb: -u -6 -d 53\nc: --mark 1 -s 1\n").ok);
    const RulesUse u = rules_use(set.rules());
    CHECK(u.tcp);
    CHECK(u.udp);
    CHECK(u.ipv4);
    CHECK(u.ipv6);
    CHECK(u.read_marks);
    CHECK_FALSE(u.find_processes);
    CHECK_FALSE(u.src_removed);
    CHECK(u.figures == (SockRecord::kFigureUnacked | SockRecord::kFigureAckRecv));
    RulesUse started;
    CHECK_THAT(needs_restart(started, u), Catch::Contains("--mark"));
    started.read_marks = true;
    CHECK(needs_restart(started, u) == nullptr);
    REQUIRE(parse_text(set, "p: --comm x\nq: --src-removed --src 10.0.0.1\n").ok);
    const RulesUse v = rules_use(set.rules());
    CHECK(v.find_processes);
    CHECK(v.src_removed);
    CHECK_FALSE(v.src_removed_unbounded);
    CHECK_THAT(needs_restart(started, v), Catch::Contains("--comm"));
    REQUIRE(parse_text(set, "r: --exclude-comm x -s 1\ns: --src-removed\n").ok);
    CHECK(rules_use(set.rules()).find_processes);
    CHECK(rules_use(set.rules()).src_removed_unbounded);
    CHECK_FALSE(rules_use(set.rules()).arms);
    CHECK(rules_use(set.rules()).ends);
    // Arming: a rule that arms, one that ends; a reload that brings the
    // first arming rule needs a restart (its capabilities were not checked).
    REQUIRE(parse_text(set, "a: -d 5432 --arm-user-timeout 3000\n").ok);
    const RulesUse w = rules_use(set.rules());
    CHECK(w.arms);
    CHECK_FALSE(w.ends);
    RulesUse plain;
    CHECK_THAT(needs_restart(plain, w), Catch::Contains("--arm-*"));
    plain.arms = true;
    CHECK(needs_restart(plain, w) == nullptr);
}
