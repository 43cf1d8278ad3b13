// Address prefixes as the user writes them ("10.0.0.0/8", "192.0.2.7",
// "2001:db8::/32", "::1"). Pure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/result.hpp"

namespace tc {

struct Prefix {
    uint8_t family = 0;             // AF_INET or AF_INET6
    uint8_t len = 0;                // 0..32 or 0..128
    std::array<uint8_t, 16> addr{}; // network order; bits past `len` are zero
    bool operator==(const Prefix&) const = default;
};

// Parses one prefix; a missing "/len" means a single address (/32, /128).
// Host bits are cleared, so "10.1.2.3/8" means 10.0.0.0/8. An IPv4-mapped
// spelling (::ffff:10.1.2.3, ::ffff:10.1.2.0/120) is the IPv4 one.
Status parse_prefix(std::string_view text, Prefix& out);

// Does a socket address (family AF_INET: the first 4 bytes of `addr`;
// AF_INET6: 16 bytes) lie in the prefix? An IPv4 prefix also matches an
// IPv4-mapped address (::ffff:a.b.c.d) on an IPv6 socket, as the kernel's
// host condition does.
bool prefix_matches(const Prefix& p, uint8_t family, const uint8_t* addr);

// Up to kMax prefixes of one kind (--src or --dst); a socket matches the set
// when it matches any of them (an empty set matches everything).
class PrefixSet {
public:
    static constexpr size_t kMax = 64;

    bool empty() const { return count_ == 0; }
    size_t size() const { return count_; }
    const Prefix* begin() const { return items_.data(); }
    const Prefix* end() const { return items_.data() + count_; }
    bool has_family(uint8_t family) const;
    bool matches(uint8_t family, const uint8_t* addr) const;
    Status add(const Prefix& p);

private:
    std::array<Prefix, kMax> items_{};
    size_t count_ = 0;
};

}  // namespace tc
