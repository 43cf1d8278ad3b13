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
    static constexpr uint64_t kMax[] = {32767000, 32767000, 127};
    for (size_t i = 0; i < 3; ++i) {
        const size_t comma = sv_find(text, ',');
        // The timers in whole seconds (as the kernel counts them), none 0.
        if ((comma == std::string_view::npos) != (i == 2) || !parse_uint(sv_head(text, comma), kMax[i], v[i]) ||
            v[i] == 0 || (i < 2 && v[i] % 1000))
            return "not IDLE_MS,INTERVAL_MS,COUNT: timers of whole seconds, 1000-32767000 ms; a count of 1-127";
        text = sv_tail(text, i == 2 ? text.size() : comma + 1);
    }
    spec.keep_idle_s = static_cast<uint16_t>(v[0] / 1000);
    spec.keep_intvl_s = static_cast<uint16_t>(v[1] / 1000);
    spec.keep_count = static_cast<uint8_t>(v[2]);
    return nullptr;
}

}  // namespace tc
