// Memory for PodVec (core/pod_vec.hpp) in whole pages from the kernel.
// mremap grows a block in place when it can and moves it without copying
// when it cannot.
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "core/pod_vec.hpp"

namespace tc {

static size_t pages(size_t bytes) {
    const size_t page = 4096;  // a multiple of every page size works too: mmap rounds up
    return bytes > SIZE_MAX - page ? 0 : (bytes + page - 1) / page * page;
}

// Transparent huge pages would back these arrays in 2 MiB steps: a daemon
// that matched 40,000 sockets once would keep megabytes it never touched.
static void* small_pages(void* m, size_t bytes) {
    if (m == MAP_FAILED) return nullptr;
    (void)madvise(m, bytes, MADV_NOHUGEPAGE);
    return m;
}

// mmap and mremap as system calls where that is plain (64-bit CPUs: libc's
// wrappers add offset and argument checks worth about 400 bytes there).
static void* map_new(size_t bytes) {
#if __SIZEOF_LONG__ == 8
    return reinterpret_cast<void*>(
        syscall(SYS_mmap, nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
#else
    return mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
#endif
}

static void* map_grow(void* p, size_t have, size_t want) {
#if __SIZEOF_LONG__ == 8
    return reinterpret_cast<void*>(syscall(SYS_mremap, p, have, want, MREMAP_MAYMOVE));
#else
    return mremap(p, have, want, MREMAP_MAYMOVE);
#endif
}

void* mem_resize(void* p, size_t old_bytes, size_t new_bytes) {
    const size_t want = pages(new_bytes);
    if (want == 0) return nullptr;
    if (!p) return small_pages(map_new(want), want);
    const size_t have = pages(old_bytes);
    if (want == have) return p;
    return small_pages(map_grow(p, have, want), want);
}

void mem_free(void* p, size_t bytes) {
    if (p) munmap(p, pages(bytes));
}

}  // namespace tc
