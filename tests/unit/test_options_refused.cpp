// What the parser refuses: bad values naming the value, lines that can
// never match, an option given twice; and -h, which wins over any of it.
#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>

#include "core/options.hpp"
#include "parse_helpers.hpp"

using namespace tc;

TEST_CASE("bad input is a usage error naming the value", "[options]") {
    struct Bad {
        std::initializer_list<const char*> args;
        const char* value;  // what the message must name
    };
    const Bad bad[] = {
        {{"-s", "0"}, "0"},
        {{"-s", "65536"}, "65536"},
        {{"-s", "abc"}, "abc"},
        {{"-d", "7000x"}, "7000x"},
        {{"-s", ""}, ""},
        {{"--sport="}, ""},
        {{"-s", "-1"}, "-1"},
        {{"-s", "9000-8000"}, "9000-8000"},
        {{"-s", "22", "-t", "-5"}, "-5"},
        {{"-s", "22", "-t", "abc"}, "abc"},
        {{"-s", "22", "-t", "4294967296"}, "4294967296"},
        {{"-s", "22", "-t", ""}, ""},
        {{"-s", "22", "--last_recv_limit", "-1"}, "-1"},
        {{"-s", "22", "--last_recv_limit", "99999999999"}, "99999999999"},
        {{"-s", "22", "-i", "0"}, "0"},
        {{"-s", "22", "-i", "0.0"}, "0.0"},
        {{"-s", "22", "-i", "-1"}, "-1"},
        {{"-s", "22", "-i", "abc"}, "abc"},
        {{"-s", "22", "-i", "1.2.3"}, "1.2.3"},
        {{"-s", "22", "-i", "1."}, "1."},
        {{"-s", "22", "-i", "99999999999999999999"}, "99999999999999999999"},
        {{"-s", "22", "-i", "0.0000000001"}, "0.0000000001"},
        {{"-s", "22", "-f", ""}, ""},
        {{"-s", "22", "--bogus"}, "--bogus"},
        {{"-s", "22", "-x"}, "-x"},
        {{"-s", "22", "stray"}, "stray"},
        {{"-s"}, "-s"},
        {{"-s", "22", "--interval"}, "--interval"},
        {{"-s", "22", "--verbose=1"}, "--verbose=1"},
        {{"-s", "22", "--", "x"}, "x"},
        {{}, ""},
        {{"-4", "-v"}, ""},
        {{"-s", "22", "-t", "100", "--last_recv_limit", "100"}, ""},
        {{"--dst", "10.0.0.0/33"}, "10.0.0.0/33"},
        {{"--dst", "1.2.3"}, "1.2.3"},
        {{"--src", "::g"}, "::g"},
        {{"--src", ""}, ""},
        {{"-s", "22", "--state", "bogus"}, "bogus"},
        {{"-s", "22", "--state", "listening"}, "listening"},
        {{"-s", "22", "--state", ""}, ""},
        {{"-s", "22", "--max-kills", "-1"}, "-1"},
        {{"-s", "22", "--max-kills", "0"}, "0"},
        {{"-s", "22", "--max-kills", "abc"}, "abc"},
        {{"-s", "22", "--max-kills", "4294967296"}, "4294967296"},
        {{"-4", "--dst", "::1"}, ""},
        {{"-6", "--src", "10.0.0.1"}, ""},
        {{"--state", "all"}, ""},
        {{"-n", "-j"}, ""},
        {{"-s", "22", "--netns", ""}, ""},
        {{"-s", "22", "-N", "blue", "--all-netns"}, ""},
        {{"--mark", "0x1/0x"}, "0x1/0x"},
        {{"--mark", "-1"}, "-1"},
        {{"--mark", "0x3/0x1"}, "0x3/0x1"},
        {{"--mark", "4294967296"}, "4294967296"},
        {{"--mark", "0x123456789"}, "0x123456789"},
        {{"--mark", ""}, ""},
        {{"--pid", "0"}, "0"},
        {{"--pid", "abc"}, "abc"},
        {{"--pid", "-5"}, "-5"},
        {{"--pid", "4194305"}, "4194305"},
        {{"--comm", ""}, ""},
        {{"--comm", "a-name-of-16-chr"}, "a-name-of-16-chr"},
        {{"--uid", ""}, ""},
        {{"--dev", ""}, ""},
        {{"--dev", "interface-name16"}, "interface-name16"},
        {{"--cgroup", ""}, ""},
        {{"--dev", "lo", "--all-netns"}, ""},
        {{"-u", "-d", "53", "-t", "1000"}, ""},
        {{"-u", "-d", "53", "--last_recv_limit", "1000"}, ""},
        {{"--tcp", "-u", "-d", "53", "-t", "1000"}, ""},
        {{"--udp", "-d", "53", "--state", "all"}, ""},
        {{"-u", "-d", "53", "--state", "established,syn-sent"}, ""},
        {{"-u", "-d", "53", "--state", "close-wait"}, ""},
        {{"--tcp", "-u", "-d", "53", "--state", "syn-sent"}, ""},
        {{"-u"}, ""},
        {{"-s", "22", "--udp=1"}, "--udp=1"},
        {{"--pid", "1", "--pid", "2", "--pid", "3", "--pid", "4", "--pid", "5", "--pid", "6", "--pid", "7",
          "--pid", "8", "--pid", "9"}, "9"},
    };
    for (const Bad& b : bad) {
        ParseResult r = parse(b.args);
        std::string joined;
        for (const char* a : b.args) joined += std::string(a) + " ";
        INFO("args: " << joined);
        CHECK_FALSE(r.ok);
        CHECK(std::string(r.message).size() > 0);
        CHECK(std::string(r.value) == b.value);
    }
}

TEST_CASE("-h anywhere on the line shows the help, whatever else is wrong", "[options][help]") {
    for (auto args : {std::initializer_list<const char*>{"-h", "-s", "0"}, {"-s", "0", "--help"},
                      {"--nope", "-h"}, {"-t", "5", "-t", "6", "-h"}, {"-h"}}) {
        ParseResult r = parse(args);
        CHECK(r.ok);
        CHECK(r.opts.help);
    }
    // Not an option after "--", nor the value of another option on a good line.
    CHECK_FALSE(parse({"-s", "0", "--", "-h"}).ok);
    CHECK(std::string(ok({"-s", "22", "-f", "-h"}).logfile) == "-h");
    CHECK_FALSE(parse({"-s", "22", "--help=1"}).ok);
}

TEST_CASE("an option that holds one value, given twice, is a usage error naming it", "[options]") {
    struct Twice {
        std::initializer_list<const char*> args;
        const char* named;
    };
    const Twice cases[] = {
        {{"-s", "22", "-t", "5", "-t", "6"}, "-t"},
        {{"-s", "22", "-t5", "--idle_time", "5"}, "--idle_time"},
        {{"-s", "22", "--last_recv_limit", "9", "--last-recv-limit", "9"}, "--last-recv-limit"},
        {{"--stalled", "5", "--stalled=6"}, "--stalled=6"},
        {{"-s", "22", "--send_idle", "5", "--send-idle", "5"}, "--send-idle"},
        {{"-s", "22", "-i", "1", "--interval", "2"}, "--interval"},
        {{"-s", "22", "-f", "a", "-f", "b"}, "-f"},
        {{"-s", "22", "--metrics", "a", "--metrics", "b"}, "--metrics"},
        {{"-s", "22", "-N", "a", "--netns", "b"}, "--netns"},
        {{"-s", "22", "--max-kills", "1", "--max_kills", "2"}, "--max_kills"},
        {{"--src-removed", "--removed-grace", "1", "--removed-grace", "1"}, "--removed-grace"},
    };
    for (const Twice& c : cases) {
        ParseResult r = parse(c.args);
        INFO(c.named);
        CHECK_FALSE(r.ok);
        CHECK(std::string(r.message).find("given twice") != std::string::npos);
        CHECK(std::string(r.value) == c.named);
    }
    // Selectors accumulate, flags may repeat.
    Options o = ok({"-s", "22", "-s", "23", "-v", "-v", "--state", "established", "--state", "close-wait"});
    CHECK(o.sel.sports.contains(23));
    CHECK(o.sel.states == ((1u << 1) | (1u << 8)));
    CHECK(ok({"-s", "22", "--state", "close-wait"}).sel.states == (1u << 8));  // the default is replaced
}

TEST_CASE("a state list's empty element is named as a port list's is", "[options]") {
    for (const char* v : {"established,", ",established", "established,,close-wait"}) {
        ParseResult r = parse({"-s", "22", "--state", v});
        INFO(v);
        CHECK_FALSE(r.ok);
        CHECK(std::string(r.message) == "empty element in state list");
        CHECK(std::string(r.value) == v);
    }
}

TEST_CASE("an exclusion that removes all its positive kind selects is a usage error naming both",
          "[options][exclude]") {
    struct Case {
        std::initializer_list<const char*> args;
        const char* names;  // both options, in the message
    };
    const Case none[] = {
        {{"-s", "7000", "--exclude-sport", "7000"}, "--exclude-sport excludes every port of --sport"},
        {{"-s", "7000-7010", "--exclude-sport", "6000-8000"}, "--exclude-sport"},
        {{"-s", "22,80", "--exclude-sport", "22", "--exclude-sport", "80"}, "--exclude-sport"},
        {{"-d", "443", "--exclude-dport", "1-65535"}, "--exclude-dport excludes every port of --dport"},
        {{"--dst", "10.0.0.0/8", "--exclude-dst", "10.0.0.0/8"}, "--exclude-dst excludes every address of --dst"},
        {{"--dst", "10.1.0.0/16", "--exclude-dst", "10.0.0.0/8"}, "--exclude-dst"},
        {{"--src", "::1", "--exclude-src", "::/0"}, "--exclude-src excludes every address of --src"},
        {{"--src", "192.0.2.7", "--src", "192.0.2.9", "--exclude-src", "192.0.2.0/24"}, "--exclude-src"},
        {{"--uid", "1000", "--exclude-uid", "1000"}, "--exclude-uid excludes every user of --uid"},
        {{"--uid", "backup", "--exclude-uid", "backup"}, "--exclude-uid"},
        {{"--comm", "sshd", "--exclude-comm", "sshd"}, "--exclude-comm excludes every command of --comm"},
    };
    for (const Case& c : none) {
        ParseResult r = parse(c.args);
        INFO(c.names);
        CHECK_FALSE(r.ok);
        CHECK(std::string(r.message).find(c.names) != std::string::npos);
    }
    // Something of the positive kind is left: accepted.
    const std::initializer_list<const char*> some[] = {
        {"-s", "7000-7010", "--exclude-sport", "7000"},
        {"-s", "22,80", "--exclude-sport", "22"},
        {"-s", "7000", "--exclude-dport", "7000"},  // another kind
        {"--dst", "10.0.0.0/8", "--exclude-dst", "10.1.0.0/16"},
        {"--dst", "10.0.0.0/8", "--exclude-src", "10.0.0.0/8"},
        {"-4", "-6", "--src", "::1", "--exclude-src", "0.0.0.0/0"},  // another family
        {"--uid", "1000", "--uid", "0", "--exclude-uid", "1000"},
        {"--uid", "root", "--exclude-uid", "0"},  // names are looked up at start-up (checked then)
        {"--comm", "sshd", "--exclude-comm", "sshd-session"},
    };
    for (auto args : some) CHECK(parse(args).ok);
}

TEST_CASE("excluded_entirely: user names by number once looked up", "[options][exclude]") {
    Options o = ok({"--uid", "root", "--exclude-uid", "0"});
    CHECK(excluded_entirely(o.sel, false) == nullptr);
    o.sel.owner.uid[0] = 0;  // as resolve_owner fills it
    CHECK(excluded_entirely(o.sel, true) != nullptr);
    o.sel.owner.uid[0] = 7;
    CHECK(excluded_entirely(o.sel, true) == nullptr);
}
