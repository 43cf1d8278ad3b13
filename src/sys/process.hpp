// Processes for the syscall layer: a helper process that shares one block
// of memory with us (see app/destroy_helper.hpp).
#pragma once

#include <cstddef>

#include "core/result.hpp"

namespace tc::sys {

// CPUs this process may run on (1 when that cannot be read).
int usable_cpus();
// fork(): 0 in the child, its pid in the parent.
Result<int> fork_process();
// Waits for a child; its exit status, or -1 when a signal ended it.
Result<int> wait_exit(int pid);
// Ends the calling process at once: no destructors, no buffers flushed
// (a forked child must not write out its parent's buffered log).
[[noreturn]] void exit_now(int status);
// Zeroed memory that a forked child writes and its parent reads.
void* shared_alloc(size_t bytes);
void shared_free(void* p, size_t bytes);

}  // namespace tc::sys
