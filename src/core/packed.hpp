// Tables of short texts packed at compile time into one array: entry after
// entry, a few bytes of the entry's own (its head), its text, a NUL. A
// table of structs holding a `const char*` pays 8 bytes of pointer, and the
// padding beside it, per entry; a packed one pays the head and the NUL.
// The source keeps the readable table; only the packed array is shipped.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace tc {

// The packed size of `list`, whose texts are `text`, with H-byte heads.
template <size_t H, typename T, size_t N>
constexpr size_t packed_size(const T (&list)[N], const char* const T::* text) {
    size_t n = 1;  // a NUL after the last entry: the array ends as a C string does
    for (const T& e : list) n += H + std::string_view(e.*text).size() + 1;
    return n;
}

// `list` packed: `head(e)` gives an entry's H bytes (std::array<char, H>).
template <size_t Size, size_t H, typename T, size_t N, typename Head>
constexpr std::array<char, Size> pack(const T (&list)[N], const char* const T::* text, Head head) {
    std::array<char, Size> out{};
    size_t at = 0;
    for (const T& e : list) {
        for (char c : head(e)) out[at++] = c;
        for (const char* t = e.*text; *t; ++t) out[at++] = *t;
        out[at++] = '\0';
    }
    return out;
}

// Where the entries of a packed array end: at its final NUL.
template <size_t N>
const char* packed_end(const std::array<char, N>& packed) {
    return packed.data() + N - 1;
}

// The text of the entry at `e` in a table with `head`-byte heads. (Counted
// here, not by strlen: GCC 12 takes a packed array for a string without
// its NUL and warns at every strlen into it.)
inline std::string_view packed_text(const char* e, size_t head) {
    size_t n = 0;
    while (e[head + n]) ++n;
    return {e + head, n};
}

// The entry after the one at `e`.
inline const char* packed_next(const char* e, size_t head) { return e + head + packed_text(e, head).size() + 1; }

}  // namespace tc
