#include "sys/process.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace tc::sys {

int usable_cpus() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    const int n = CPU_COUNT(&set);
    return n > 0 ? n : 1;
}

// libc's _Fork (POSIX.1-2024): the kernel's fork with libc's cached
// thread and process ids right in the child, without fork's atfork
// handlers and the locks taken for them (about 1.5 KB of musl's thread
// code). That is enough here: the process has one thread and registers
// no atfork handler, so no libc lock can be held by anyone else, and the
// child uses no allocator (there is none: sys/mem.cpp maps its memory).
Result<int> fork_process() {
    const pid_t pid = _Fork();
    if (pid < 0) return make_error(errno, "fork");
    return static_cast<int>(pid);
}

Result<int> wait_exit(int pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return make_error(errno, "waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void exit_now(int status) { _exit(status); }

void* shared_alloc(size_t bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
}

void shared_free(void* p, size_t bytes) {
    if (p) munmap(p, bytes);
}

}  // namespace tc::sys
