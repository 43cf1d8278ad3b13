// The part of snprintf the tool uses, without libc's printf: in a static
// musl binary printf drags in about 9 KiB of floating-point formatting and
// stdio that the tool never needs.
//
// Conversions: %d %i %u %x %X %c %s %p and %%; the length modifiers l, ll
// and z on the integer ones; the flags '-' (left-justify) and '0' (zero-pad
// numbers), a width, and for %s a precision (.N or .*).
//
// The format must be a string literal, and it is checked at compile time
// against the arguments (FormatString below): any other conversion, flag or
// modifier, an argument of the wrong kind or size, or a count of arguments
// that differs from the conversions is a compile error, so no argument can
// ever be read in the wrong place.
//
// Like snprintf: writes at most n - 1 bytes plus a NUL (when n > 0) and
// returns the length the whole output would have had.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace tc {

namespace fmt_check {

// What a conversion reads from the argument list.
enum class Kind : uint8_t { Int4, Int8, Str, Ptr, Bad };

template <typename T>
consteval Kind kind_of() {
    using U = std::remove_cv_t<T>;
    if constexpr (std::is_integral_v<U>) return sizeof(U) <= 4 ? Kind::Int4 : Kind::Int8;
    else if constexpr (std::is_same_v<U, const char*> || std::is_same_v<U, char*>) return Kind::Str;
    else if constexpr (std::is_pointer_v<U>) return Kind::Ptr;
    else return Kind::Bad;
}

// Called only where a format is wrong: being neither constexpr nor
// defined, it turns the mistake into a compile error that names it.
void format_string_does_not_match_fmt_or_its_arguments();

// The kinds `format` reads, in order, into `out` (at most `cap`); the count.
consteval size_t conversions(const char* f, Kind* out, size_t cap) {
    size_t n = 0;
    auto take = [&](Kind k) {
        if (n == cap) format_string_does_not_match_fmt_or_its_arguments();
        out[n++] = k;
    };
    for (; *f; ++f) {
        if (*f != '%') continue;
        ++f;
        if (*f == '%') continue;
        while (*f == '-' || *f == '0') ++f;
        while (*f >= '0' && *f <= '9') ++f;
        bool precision = false;
        if (*f == '.') {
            precision = true;
            ++f;
            if (*f == '*') {
                take(Kind::Int4);
                ++f;
            } else {
                while (*f >= '0' && *f <= '9') ++f;
            }
        }
        size_t bytes = 0;  // 0: no length modifier (an int, or what promotes to one)
        if (f[0] == 'l' && f[1] == 'l') {
            bytes = sizeof(long long);
            f += 2;
        } else if (*f == 'l') {
            bytes = sizeof(long);
            ++f;
        } else if (*f == 'z') {
            bytes = sizeof(size_t);
            ++f;
        }
        switch (*f) {
            case 'd': case 'i': case 'u': case 'x': case 'X':
                if (precision) format_string_does_not_match_fmt_or_its_arguments();
                take(bytes <= 4 ? Kind::Int4 : Kind::Int8);
                break;
            case 'c':
                if (bytes || precision) format_string_does_not_match_fmt_or_its_arguments();
                take(Kind::Int4);
                break;
            case 's':
                if (bytes) format_string_does_not_match_fmt_or_its_arguments();
                take(Kind::Str);
                break;
            case 'p':
                if (bytes || precision) format_string_does_not_match_fmt_or_its_arguments();
                take(Kind::Ptr);
                break;
            default:  // an unsupported conversion, flag or modifier, or a cut format
                format_string_does_not_match_fmt_or_its_arguments();
        }
    }
    return n;
}

}  // namespace fmt_check

// A format string checked against the types of the arguments that follow it.
template <typename... Args>
struct FormatString {
    const char* text;
    template <size_t N>
    consteval FormatString(const char (&s)[N]) : text(s) {
        constexpr size_t kArgs = sizeof...(Args);
        constexpr fmt_check::Kind want[kArgs + 1] = {fmt_check::kind_of<Args>()..., fmt_check::Kind::Bad};
        fmt_check::Kind got[kArgs + 1] = {};
        if (fmt_check::conversions(s, got, kArgs + 1) != kArgs)
            fmt_check::format_string_does_not_match_fmt_or_its_arguments();
        for (size_t i = 0; i < kArgs; ++i) {
            // A %p takes any pointer, a C string too.
            const bool ok = got[i] == want[i] || (got[i] == fmt_check::Kind::Ptr && want[i] == fmt_check::Kind::Str);
            if (!ok || want[i] == fmt_check::Kind::Bad) fmt_check::format_string_does_not_match_fmt_or_its_arguments();
        }
    }
};

// The formatter itself; call it through fmt(), never directly: only the
// checked entry points guarantee that format and arguments agree.
int fmt_unchecked(char* out, size_t n, const char* format, ...);
int vfmt_unchecked(char* out, size_t n, const char* format, va_list ap);

template <typename... Args>
int fmt(char* out, size_t n, FormatString<std::type_identity_t<Args>...> format, Args... args) {
    return fmt_unchecked(out, n, format.text, args...);
}

// Builds one line piece by piece in a caller buffer; clamps at its end.
class Appender {
public:
    Appender(char* out, size_t n) : out_(out), n_(n) {
        if (n_) out_[0] = '\0';
    }
    // The check is the compiler's: the call is add_unchecked's (one
    // function for every argument list).
    template <typename... Args>
    [[gnu::always_inline]] void add(FormatString<std::type_identity_t<Args>...> format, Args... args) {
        add_unchecked(format.text, args...);
    }
    size_t used() const { return used_; }

private:
    void add_unchecked(const char* format, ...);

    char* out_;
    size_t n_;
    size_t used_ = 0;
};

}  // namespace tc
