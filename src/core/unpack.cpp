#include "core/unpack.hpp"

namespace tc {

size_t unpack(std::span<const uint8_t> in, char* out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < in.size();) {
        const uint8_t b = in[i++];
        if (b < 0x80) {
            if (o == cap) return 0;
            out[o++] = static_cast<char>(b);
            continue;
        }
        if (i == in.size()) return 0;
        const size_t back = ((b & 7u) << 8 | in[i++]) + 1;
        size_t len = ((b >> 3) & 15u) + 3;
        if (back > o || len > cap - o) return 0;
        for (; len > 0; --len, ++o) out[o] = out[o - back];
    }
    return o;
}

}  // namespace tc
