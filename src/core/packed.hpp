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
    size_t n = 0;
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

// The entry after the one at `e` in a table with `head`-byte heads.
inline const char* packed_next(const char* e, size_t head) {
    return e + head + std::string_view(e + head).size() + 1;
}

}  // namespace tc
