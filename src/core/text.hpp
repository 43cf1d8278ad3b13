// Text helpers for the parsers of argv, /proc and /etc files: bounds-
// checked string_view pieces and strict numbers. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tc {

// string_view::substr throws (and so needs libstdc++); these clamp instead.
inline std::string_view sv_head(std::string_view s, size_t n) { return {s.data(), n < s.size() ? n : s.size()}; }
inline std::string_view sv_tail(std::string_view s, size_t pos) {
    return pos < s.size() ? std::string_view{s.data() + pos, s.size() - pos} : std::string_view{};
}

// string_view::find(char) calls memchr (about 200 bytes of libc): this is
// a plain loop. The index of the first `c` at or after `from`, or npos.
inline size_t sv_find(std::string_view s, char c, size_t from = 0) {
    for (size_t i = from; i < s.size(); ++i)
        if (s[i] == c) return i;
    return std::string_view::npos;
}

// The value of a hex digit (either case), or -1.
inline int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Strict decimal parse of an unsigned number: digits only, no sign, no
// spaces, no overflow past `max`.
bool parse_uint(std::string_view text, uint64_t max, uint64_t& out);

// Is `text` one or more decimal digits (a number, maybe too large)?
inline bool all_digits(std::string_view text) {
    for (char c : text)
        if (c < '0' || c > '9') return false;
    return !text.empty();
}

}  // namespace tc
