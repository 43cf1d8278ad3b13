// The fuzzers' assertion: an invariant that does not hold is a finding,
// so it aborts (libFuzzer saves the input) whatever the build's NDEBUG.
#pragma once

#include <cstdio>
#include <cstdlib>

#define CHECK_OR_DIE(cond)                                                          \
    do {                                                                            \
        if (!(cond)) {                                                              \
            std::fprintf(stderr, "invariant broken: %s (line %d)\n", #cond, __LINE__); \
            abort();                                                                \
        }                                                                           \
    } while (0)
