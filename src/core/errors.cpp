#include "core/errors.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
#include <string_view>

#include "core/fmt.hpp"
#include "core/packed.hpp"

namespace tc {

namespace {

// The errnos the tool can meet: each one's code, then its name and its
// text in one string ("EPERM Operation not permitted": the name is the
// first word).
struct ErrnoText {
    uint8_t code;
    const char* words;
};

constexpr ErrnoText kErrnoList[] = {
    {EPERM, "EPERM Operation not permitted"},
    {ENOENT, "ENOENT No such file or directory"},
    {ESRCH, "ESRCH No such process"},
    {EINTR, "EINTR Interrupted system call"},
    {EIO, "EIO I/O error"},
    {ENXIO, "ENXIO No such device or address"},
    {E2BIG, "E2BIG Argument list too long"},
    {EBADF, "EBADF Bad file descriptor"},
    {ECHILD, "ECHILD No child process"},
    {EAGAIN, "EAGAIN Resource temporarily unavailable"},
    {ENOMEM, "ENOMEM Out of memory"},
    {EACCES, "EACCES Permission denied"},
    {EBUSY, "EBUSY Resource busy"},
    {EEXIST, "EEXIST File exists"},
    {ENODEV, "ENODEV No such device"},
    {ENOTDIR, "ENOTDIR Not a directory"},
    {EISDIR, "EISDIR Is a directory"},
    {EINVAL, "EINVAL Invalid argument"},
    {ENFILE, "ENFILE Too many open files in system"},
    {EMFILE, "EMFILE No file descriptors available"},
    {EFBIG, "EFBIG File too large"},
    {ENOSPC, "ENOSPC No space left on device"},
    {EROFS, "EROFS Read-only file system"},
    {EPIPE, "EPIPE Broken pipe"},
    {ENAMETOOLONG, "ENAMETOOLONG Filename too long"},
    {ENOSYS, "ENOSYS Function not implemented"},
    {ELOOP, "ELOOP Symbolic link loop"},
    {EPROTO, "EPROTO Protocol error"},
    {ENOTSOCK, "ENOTSOCK Not a socket"},
    {EMSGSIZE, "EMSGSIZE Message too large"},
    {ENOPROTOOPT, "ENOPROTOOPT Protocol not available"},
    {EPROTONOSUPPORT, "EPROTONOSUPPORT Protocol not supported"},
    {ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT Socket type not supported"},
    {EOPNOTSUPP, "EOPNOTSUPP Not supported"},
    {EPFNOSUPPORT, "EPFNOSUPPORT Protocol family not supported"},
    {EAFNOSUPPORT, "EAFNOSUPPORT Address family not supported by protocol"},
    {ENETDOWN, "ENETDOWN Network is down"},
    {ECONNABORTED, "ECONNABORTED Connection aborted"},
    {ECONNRESET, "ECONNRESET Connection reset by peer"},
    {ENOBUFS, "ENOBUFS No buffer space available"},
    {ENOTCONN, "ENOTCONN Socket not connected"},
    {ETIMEDOUT, "ETIMEDOUT Operation timed out"},
    {ECONNREFUSED, "ECONNREFUSED Connection refused"},
    {ESTALE, "ESTALE Stale file handle"},
    {EDQUOT, "EDQUOT Quota exceeded"},
};

// Shipped packed (core/packed.hpp): the code's byte, the words, a NUL.
constexpr auto kErrnos = pack<packed_size<1>(kErrnoList, &ErrnoText::words), 1>(
    kErrnoList, &ErrnoText::words, [](const ErrnoText& e) { return std::array<char, 1>{static_cast<char>(e.code)}; });

// The words of `err`, or nullptr.
const char* lookup(int err) {
    for (const char* e = kErrnos.data(); e != packed_end(kErrnos); e = packed_next(e, 1))
        if (static_cast<uint8_t>(*e) == err) return e + 1;
    return nullptr;
}

}  // namespace

const char* errno_name(int err, char (&scratch)[16]) {
    if (const char* words = lookup(err)) {
        size_t n = 0;
        for (; words[n] != ' ' && n < sizeof scratch - 1; ++n) scratch[n] = words[n];
        scratch[n] = '\0';
        return scratch;
    }
    fmt(scratch, sizeof scratch, "E%d", err);
    return scratch;
}

const char* error_text(int err) {
    if (const char* text = lookup(err)) {
        while (*text++ != ' ') {
        }
        return text;
    }
    static char scratch[24];  // single-threaded; only for an errno not in the table
    fmt(scratch, sizeof scratch, "error %d", err);
    return scratch;
}

}  // namespace tc
