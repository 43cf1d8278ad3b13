#include "core/tcp_state.hpp"

#include "core/text.hpp"

namespace tc {

namespace {

struct StateNames {
    const char* log;  // the kernel's own spelling
    const char* name;  // ss's
    bool any;          // part of --state all (a state a connection can be ended in)
};

// Indexed by TCP_* (include/net/tcp_states.h).
constexpr StateNames kStates[] = {
    {"UNKNOWN", "unknown", false},
    {"ESTABLISHED", "established", true},
    {"SYN_SENT", "syn-sent", true},
    {"SYN_RECV", "syn-recv", true},
    {"FIN_WAIT1", "fin-wait-1", true},
    {"FIN_WAIT2", "fin-wait-2", true},
    {"TIME_WAIT", "time-wait", true},
    {"CLOSE", "close", false},
    {"CLOSE_WAIT", "close-wait", true},
    {"LAST_ACK", "last-ack", true},
    {"LISTEN", "listening", false},
    {"CLOSING", "closing", true},
    {"NEW_SYN_RECV", "syn-recv", true},  // a request socket: selected with syn-recv
    {"BOUND_INACTIVE", "bound-inactive", false},
};
constexpr uint8_t kCount = sizeof kStates / sizeof kStates[0];

}  // namespace

const char* tcp_state_log_name(uint8_t state) { return kStates[state < kCount ? state : 0].log; }

const char* tcp_state_name(uint8_t state) { return kStates[state < kCount ? state : 0].name; }

Status parse_states(std::string_view text, uint32_t& mask) {
    if (text.empty()) return make_error(EINVAL, "empty state list");
    uint32_t m = 0;
    while (true) {
        const size_t comma = sv_find(text, ',');
        const std::string_view item = sv_head(text, comma);
        if (item.empty()) return make_error(EINVAL, "empty element in state list");
        if (item == "listening" || item == "listen")
            return make_error(EINVAL, "listening sockets are never destroyed");
        uint32_t bits = 0;
        for (uint8_t s = 0; s < kCount; ++s)
            if (kStates[s].any && (item == "all" || item == kStates[s].name)) bits |= 1u << s;
        if (!bits)
            return make_error(EINVAL, "unknown state (established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, "
                                      "time-wait, close-wait, last-ack, closing, all)");
        m |= bits;
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    mask = m;
    return {};
}

}  // namespace tc
