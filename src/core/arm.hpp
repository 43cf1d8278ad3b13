// Arming (--arm-user-timeout, --arm-keepalive): instead of ending a
// selected TCP connection, give its owner's socket the kernel's own
// dead-peer detection, set through a duplicate of the owner's fd
// (src/KERNEL.md: Arming). Pure: the values and their parsing.
#pragma once

#include <cstdint>
#include <string_view>

namespace tc {

struct ArmSpec {
    uint32_t user_timeout_ms = 0;  // TCP_USER_TIMEOUT; 0: not set
    uint16_t keep_idle_s = 0;      // TCP_KEEPIDLE; 0: no keepalive
    uint16_t keep_intvl_s = 0;     // TCP_KEEPINTVL
    uint8_t keep_count = 0;        // TCP_KEEPCNT

    bool any() const { return user_timeout_ms != 0 || keep_idle_s != 0; }
};

// --arm-user-timeout MS (1 to 2,147,483,647, the kernel's int): nullptr,
// or what is wrong.
const char* parse_user_timeout(std::string_view text, ArmSpec& spec);
// --arm-keepalive IDLE_MS,INTERVAL_MS,COUNT: the timers in milliseconds
// but whole seconds, as the kernel counts them (1 to 32,767 s), the count
// 1 to 127: nullptr, or what is wrong (one message for all of it).
const char* parse_keepalive(std::string_view text, ArmSpec& spec);

// The options of arming, as bits.
enum : uint8_t { kArmUserTimeout = 1, kArmKeepalive = 2 };

}  // namespace tc
