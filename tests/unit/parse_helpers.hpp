// The parser's test helpers: argv from a list, and the options of a line
// that must parse. For test_options.cpp and test_options_refused.cpp.
#pragma once

#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <vector>

#include "core/options.hpp"

namespace {

inline tc::ParseResult parse(std::initializer_list<const char*> args) {
    std::vector<const char*> argv{"tcp_closer"};
    argv.insert(argv.end(), args.begin(), args.end());
    return tc::parse_args(static_cast<int>(argv.size()), argv.data());
}

inline tc::Options ok(std::initializer_list<const char*> args) {
    tc::ParseResult r = parse(args);
    INFO("message: " << r.message << " value: " << std::string(r.value));
    REQUIRE(r.ok);
    return r.opts;
}

}  // namespace
