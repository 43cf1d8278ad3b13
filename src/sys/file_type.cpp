// statx by hand: one system call, with the kernel's own struct (the same on
// every CPU), instead of libc's stat family (musl's fstatat and its
// fallbacks cost 768 bytes).
#include "sys/file_type.hpp"

#include <linux/fcntl.h>
#include <linux/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace tc::sys {

int file_type(const char* path) {
    struct statx st {};
    if (syscall(SYS_statx, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &st) != 0) return -errno;
    return st.stx_mode & S_IFMT;
}

}  // namespace tc::sys
