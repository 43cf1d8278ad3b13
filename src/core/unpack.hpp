// Texts packed at build time by scripts/pack_text.cpp (the help text), and
// unpacked when printed. The byte code: a byte below 0x80 is itself; a byte
// b at or above 0x80 and the byte after it copy ((b >> 3) & 15) + 3 bytes
// from ((b & 7) << 8 | next) + 1 bytes back in the output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tc {

// Unpacks `in` into `out`; returns the text's length, or 0 when `in` is
// malformed (a copy from before the start, a cut pair) or `out` too small.
size_t unpack(std::span<const uint8_t> in, char* out, size_t cap);

}  // namespace tc
