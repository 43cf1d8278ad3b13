// TCP states by their names: the one table of them, for --state, the log
// and JSON. Pure.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/result.hpp"

namespace tc {

// The log's name of a TCP_* state: "ESTABLISHED", "TIME_WAIT", ...
const char* tcp_state_log_name(uint8_t state);
// The name ss uses, which --state takes and JSON prints: "established",
// "time-wait", ...
const char* tcp_state_name(uint8_t state);

// "established,close-wait" -> 1 << TCP_* bits. "all" is every state but
// listening (a listening socket is never destroyed); "syn-recv" includes
// the request sockets (TCP_NEW_SYN_RECV) the dump lists under their own bit.
Status parse_states(std::string_view text, uint32_t& mask);

}  // namespace tc
