#include "core/arm.hpp"

#include "core/text.hpp"

namespace tc {

const char* parse_user_timeout(std::string_view text, ArmSpec& spec) {
    uint64_t n = 0;
    if (!parse_uint(text, 2147483647, n) || n == 0) return "not a number of milliseconds (1-2147483647)";
    spec.user_timeout_ms = static_cast<uint32_t>(n);
    return nullptr;
}

const char* parse_keepalive(std::string_view text, ArmSpec& spec) {
    uint64_t v[3] = {};
    for (size_t i = 0; i < 3; ++i) {
        const size_t comma = sv_find(text, ',');
        if ((comma == std::string_view::npos) != (i == 2) || !parse_uint(sv_head(text, comma), UINT32_MAX, v[i]))
            return "not IDLE_MS,INTERVAL_MS,COUNT (three numbers)";
        text = sv_tail(text, i == 2 ? text.size() : comma + 1);
    }
    for (size_t i = 0; i < 2; ++i)
        if (v[i] % 1000 || v[i] == 0 || v[i] > 32767000)
            return "keepalive timers are whole seconds, 1000-32767000 ms";
    if (v[2] == 0 || v[2] > 127) return "keepalive count is 1-127";
    spec.keep_idle_s = static_cast<uint16_t>(v[0] / 1000);
    spec.keep_intvl_s = static_cast<uint16_t>(v[1] / 1000);
    spec.keep_count = static_cast<uint8_t>(v[2]);
    return nullptr;
}

}  // namespace tc
