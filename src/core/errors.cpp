#include "core/errors.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/fmt.hpp"
#include "core/unpack.hpp"

namespace tc {

namespace {

// The errnos, and for each in the same order "NAME\0text\0" in g_texts:
// two strings per entry, no pointers (a pointer table would cost 16 bytes an
// entry).
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
// build/gen/errors.inc: src/core/errors.txt packed, "NAME\ntext\n" per errno.
#include "errors.inc"

// Unpacked at the first lookup, each '\n' made a NUL.
char g_texts[kErrorsLen + 1];

// The name of entry `err`, or nullptr; its text follows the name's NUL.
const char* lookup(int err) {
    if (!g_texts[0]) {
        unpack(kErrorsPacked, g_texts, kErrorsLen);
        for (char& c : g_texts)
            if (c == '\n') c = '\0';
    }
    const char* p = g_texts;
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
