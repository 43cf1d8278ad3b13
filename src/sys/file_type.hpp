// The type of a file by its path, through statx. Apart from sys.hpp: the
// kernel's <linux/stat.h> and libc's <sys/stat.h> define the same S_IF*
// macros, so they never meet in one file.
#pragma once

namespace tc::sys {

// The type bits (st_mode & S_IFMT: S_IFREG, S_IFDIR, S_IFCHR ...) of `path`
// itself, a symbolic link not followed; -errno when statx fails (ENOENT:
// nothing there; ENOSYS: a kernel before 4.11).
int file_type(const char* path);

}  // namespace tc::sys
