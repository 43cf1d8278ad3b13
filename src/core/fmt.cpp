#include "core/fmt.hpp"

#include <cstdarg>
#include <cstdint>

namespace tc {
namespace {

struct Sink {
    char* out;
    size_t n;
    size_t len = 0;
    void put(char c) {
        if (len + 1 < n) out[len] = c;
        ++len;
    }
    void repeat(char c, size_t count) {
        for (size_t i = 0; i < count; ++i) put(c);
    }
};

// Digits of v in `base` (10 or 16), most significant first, into the end
// of buf; returns the start.
char* utoa(unsigned long long v, char* end, unsigned base = 10, bool upper = false) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        *--end = digits[v % base];
        v /= base;
    } while (v);
    return end;
}

}  // namespace

int vfmt_unchecked(char* out, size_t n, const char* f, va_list ap) {
    Sink s{out, n};
    for (; *f; ++f) {
        if (*f != '%') {
            s.put(*f);
            continue;
        }
        ++f;
        bool left = false, zero = false;
        for (;; ++f) {
            if (*f == '-')
                left = true;
            else if (*f == '0')
                zero = true;
            else
                break;
        }
        size_t width = 0;
        while (*f >= '0' && *f <= '9') width = width * 10 + static_cast<size_t>(*f++ - '0');
        size_t prec = SIZE_MAX;
        if (*f == '.') {
            ++f;
            prec = 0;
            if (*f == '*') {
                int p = va_arg(ap, int);
                prec = p < 0 ? SIZE_MAX : static_cast<size_t>(p);
                ++f;
            } else {
                while (*f >= '0' && *f <= '9') prec = prec * 10 + static_cast<size_t>(*f++ - '0');
            }
        }
        char size = 0;
        if (*f == 'l' && f[1] == 'l') {
            size = 'q';
            f += 2;
        } else if (*f == 'l' || *f == 'z') {
            size = *f++;
        }

        char num[24];
        char* const num_end = num + sizeof num;
        const char* text = nullptr;
        size_t len = 0;
        bool negative = false;
        switch (*f) {
            case 's': {
                text = va_arg(ap, const char*);
                if (!text) text = "(null)";
                while (len < prec && text[len]) ++len;
                zero = false;
                break;
            }
            case 'd':
            case 'i': {
                long long v = size == 'q'   ? va_arg(ap, long long)
                              : size == 'l' ? va_arg(ap, long)
                              : size == 'z' ? va_arg(ap, long)
                                            : va_arg(ap, int);
                negative = v < 0;
                unsigned long long mag = negative ? 0ull - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
                text = utoa(mag, num_end);
                len = static_cast<size_t>(num_end - text);
                break;
            }
            case 'u':
            case 'x':
            case 'X': {
                unsigned long long v = size == 'q'   ? va_arg(ap, unsigned long long)
                                       : size == 'l' ? va_arg(ap, unsigned long)
                                       : size == 'z' ? va_arg(ap, size_t)
                                                     : va_arg(ap, unsigned);
                text = utoa(v, num_end, *f == 'u' ? 10 : 16, *f == 'X');
                len = static_cast<size_t>(num_end - text);
                break;
            }
            case 'c':
                num[0] = static_cast<char>(va_arg(ap, int));
                text = num;
                len = 1;
                zero = false;
                break;
            case 'p': {
                const uintptr_t v = reinterpret_cast<uintptr_t>(va_arg(ap, const void*));
                char* t = utoa(v, num_end, 16);
                *--t = 'x';
                *--t = '0';
                text = t;
                len = static_cast<size_t>(num_end - text);
                zero = false;
                break;
            }
            case '%':
                s.put('%');
                continue;
            default:  // unreachable: FormatString refuses such formats at compile time
                if (!*f) --f;
                continue;
        }
        const size_t body = len + (negative ? 1 : 0);
        const size_t pad = width > body ? width - body : 0;
        if (!left && !zero) s.repeat(' ', pad);
        if (negative) s.put('-');
        if (!left && zero) s.repeat('0', pad);
        for (size_t i = 0; i < len; ++i) s.put(text[i]);
        if (left) s.repeat(' ', pad);
    }
    if (n > 0) out[s.len < n ? s.len : n - 1] = '\0';
    return s.len > INT32_MAX ? INT32_MAX : static_cast<int>(s.len);
}


int fmt_unchecked(char* out, size_t n, const char* format, ...) {
    va_list ap;
    va_start(ap, format);
    int r = vfmt_unchecked(out, n, format, ap);
    va_end(ap);
    return r;
}

void Appender::add_unchecked(const char* format, ...) {
    if (used_ + 1 >= n_) return;
    va_list ap;
    va_start(ap, format);
    const int w = vfmt_unchecked(out_ + used_, n_ - used_, format, ap);
    va_end(ap);
    if (w > 0) used_ += static_cast<size_t>(w) < n_ - used_ ? static_cast<size_t>(w) : n_ - used_ - 1;
}

}  // namespace tc
