// The help text as the binary prints it.
#pragma once

#include <string>

#include "core/options.hpp"

inline std::string tc_usage() { return std::string(tc::usage_text()); }
