#include "core/errors.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/fmt.hpp"

namespace tc {

namespace {

// The errnos, and for each in the same order "NAME\0text\0": two strings
// per entry, no pointers (a pointer table would cost 16 bytes an entry).
constexpr uint8_t kCodes[] = {
    EPERM, ENOENT, ESRCH, EINTR, EIO, ENXIO,
    E2BIG, EBADF, ECHILD, EAGAIN, ENOMEM, EACCES,
    EBUSY, EEXIST, ENODEV, ENOTDIR, EISDIR, EINVAL,
    ENFILE, EMFILE, EFBIG, ENOSPC, EROFS, EPIPE,
    ENAMETOOLONG, ENOSYS, ELOOP, EPROTO, ENOTSOCK, EMSGSIZE,
    ENOPROTOOPT, EPROTONOSUPPORT, ESOCKTNOSUPPORT, EOPNOTSUPP, EPFNOSUPPORT, EAFNOSUPPORT,
    ENETDOWN, ECONNABORTED, ECONNRESET, ENOBUFS, ENOTCONN, ETIMEDOUT,
    ECONNREFUSED, ESTALE, EDQUOT,
};
constexpr char kTexts[] =
    "EPERM\0Operation not permitted\0"
    "ENOENT\0No such file or directory\0"
    "ESRCH\0No such process\0"
    "EINTR\0Interrupted system call\0"
    "EIO\0I/O error\0"
    "ENXIO\0No such device or address\0"
    "E2BIG\0Argument list too long\0"
    "EBADF\0Bad file descriptor\0"
    "ECHILD\0No child process\0"
    "EAGAIN\0Resource temporarily unavailable\0"
    "ENOMEM\0Out of memory\0"
    "EACCES\0Permission denied\0"
    "EBUSY\0Resource busy\0"
    "EEXIST\0File exists\0"
    "ENODEV\0No such device\0"
    "ENOTDIR\0Not a directory\0"
    "EISDIR\0Is a directory\0"
    "EINVAL\0Invalid argument\0"
    "ENFILE\0Too many open files in system\0"
    "EMFILE\0No file descriptors available\0"
    "EFBIG\0File too large\0"
    "ENOSPC\0No space left on device\0"
    "EROFS\0Read-only file system\0"
    "EPIPE\0Broken pipe\0"
    "ENAMETOOLONG\0Filename too long\0"
    "ENOSYS\0Function not implemented\0"
    "ELOOP\0Symbolic link loop\0"
    "EPROTO\0Protocol error\0"
    "ENOTSOCK\0Not a socket\0"
    "EMSGSIZE\0Message too large\0"
    "ENOPROTOOPT\0Protocol not available\0"
    "EPROTONOSUPPORT\0Protocol not supported\0"
    "ESOCKTNOSUPPORT\0Socket type not supported\0"
    "EOPNOTSUPP\0Not supported\0"
    "EPFNOSUPPORT\0Protocol family not supported\0"
    "EAFNOSUPPORT\0Address family not supported by protocol\0"
    "ENETDOWN\0Network is down\0"
    "ECONNABORTED\0Connection aborted\0"
    "ECONNRESET\0Connection reset by peer\0"
    "ENOBUFS\0No buffer space available\0"
    "ENOTCONN\0Socket not connected\0"
    "ETIMEDOUT\0Operation timed out\0"
    "ECONNREFUSED\0Connection refused\0"
    "ESTALE\0Stale file handle\0"
    "EDQUOT\0Quota exceeded\0";

// The name of entry `err`, or nullptr; its text follows the name's NUL.
const char* lookup(int err) {
    const char* p = kTexts;
    for (uint8_t code : kCodes) {
        if (code == err) return p;
        p += std::strlen(p) + 1;  // the name
        p += std::strlen(p) + 1;  // the text
    }
    return nullptr;
}

}  // namespace

const char* errno_name(int err, char (&scratch)[16]) {
    if (const char* name = lookup(err)) return name;
    fmt(scratch, sizeof scratch, "E%d", err);
    return scratch;
}

const char* error_text(int err) {
    if (const char* name = lookup(err)) return name + std::strlen(name) + 1;
    static char scratch[24];  // single-threaded; only for an errno not in the table
    fmt(scratch, sizeof scratch, "error %d", err);
    return scratch;
}

}  // namespace tc
