#include "core/text.hpp"

namespace tc {

bool parse_uint(std::string_view text, uint64_t max, uint64_t& out) {
    if (text.empty()) return false;
    uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        uint64_t d = static_cast<uint64_t>(c - '0');
        if (v > (max - d) / 10) return false;  // v*10 + d would pass max
        v = v * 10 + d;
    }
    out = v;
    return true;
}

}  // namespace tc
