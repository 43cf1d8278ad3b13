// The start-up lookups of --uid names, --cgroup paths and --dev names: the
// files and system calls behind the pure parsers in core/owner.hpp.
#pragma once

#include "core/owner.hpp"
#include "core/result.hpp"

namespace tc::sys {

// What a failed lookup was about: the user's value, and what would work
// instead (appended to the message), if anything.
struct OwnerProblem {
    const char* value = nullptr;
    const char* hint = nullptr;
    char number[16] = "";  // a --pid value, as text for `value`
};

// Checks that every --pid names a process (ESRCH: "no process"; one that
// goes away later is the daemon's to ride out). Fills uid[] for names, cgroup[] (cgroup v2 ids, as name_to_handle_at
// gives them) and ifindex[] (in the network namespace we are in). A value
// that names nothing (no such user, cgroup or interface) is a usage error;
// a file that cannot be read (a system without /etc/passwd: initramfs,
// distroless containers) is a system error with its errno, and the hint
// says what works without it.
Status resolve_owner(OwnerSel& o, OwnerProblem& why);

}  // namespace tc::sys
