// The start-up lookups of --uid names, --cgroup paths and --dev names: the
// files and system calls behind the pure parsers in core/owner.hpp.
#pragma once

#include "core/owner.hpp"
#include "core/result.hpp"

namespace tc::sys {

// Fills uid[] for names, cgroup[] (cgroup v2 ids, as name_to_handle_at
// gives them) and ifindex[] (in the network namespace we are in). On
// failure `bad` is the value that failed; the error's code is ENOENT,
// ENOTDIR or ENODEV for a value that names nothing usable, another errno
// when a file could not be read.
Status resolve_owner(OwnerSel& o, const char*& bad);

}  // namespace tc::sys
