// One directory listing walked with getdents64 into a caller buffer, entry
// by entry, for the /proc walk and the namespace listing.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <span>
#include <string_view>

#include "proc/procfs.hpp"

namespace tc::sys {

// Calls fn(name) for every entry of the open directory `fd` (the name is
// NUL-terminated in `buf`, so name.data() is a C string); fn returns false
// to stop. Returns 0 when done or stopped, the errno of a failed read, or
// EPROTO when the kernel's listing does not parse.
template <typename Fn>
int each_dirent(int fd, std::span<uint8_t> buf, Fn fn) {
    while (true) {
        long n = syscall(SYS_getdents64, fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return 0;
        DirentIter it(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)));
        std::string_view name;
        while (it.next(name))
            if (!fn(name)) return 0;
        if (it.malformed()) return EPROTO;
    }
}

}  // namespace tc::sys
