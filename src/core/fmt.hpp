// The part of snprintf the tool uses, without libc's printf: in a static
// musl binary printf drags in about 9 KiB of floating-point formatting and
// stdio that the tool never needs.
//
// Conversions: %s %d %u %x with the length modifiers l, ll and z (%ld %llu %zu %x),
// and %%. Flags '-' (left-justify) and '0' (zero-pad numbers), a width, and
// for %s a precision (.N or .*). Anything else is a programming error: the
// format attribute lets the compiler check every call.
//
// Like snprintf: writes at most n - 1 bytes plus a NUL (when n > 0) and
// returns the length the whole output would have had.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace tc {

__attribute__((format(printf, 3, 4))) int fmt(char* out, size_t n, const char* format, ...);
int vfmt(char* out, size_t n, const char* format, va_list ap);

// Builds one line piece by piece in a caller buffer; clamps at its end.
class Appender {
public:
    Appender(char* out, size_t n) : out_(out), n_(n) {
        if (n_) out_[0] = '\0';
    }
    __attribute__((format(printf, 2, 3))) void add(const char* format, ...);
    size_t used() const { return used_; }

private:
    char* out_;
    size_t n_;
    size_t used_ = 0;
};

}  // namespace tc
