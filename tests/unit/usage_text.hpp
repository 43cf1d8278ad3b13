// The help text as the binary prints it (unpacked from the build's copy).
#pragma once

#include <string>

#include "core/options.hpp"

inline std::string tc_usage() {
    static char buf[tc::kUsageMax];
    return std::string(buf, tc::usage_text(buf, sizeof buf));
}
