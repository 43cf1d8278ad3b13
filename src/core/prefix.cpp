#include "core/prefix.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "core/ports.hpp"

namespace tc {
namespace {

bool bits_equal(const uint8_t* a, const uint8_t* b, unsigned bits) {
    unsigned bytes = bits / 8, rest = bits % 8;
    if (bytes && std::memcmp(a, b, bytes) != 0) return false;
    if (rest == 0) return true;
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    return ((a[bytes] ^ b[bytes]) & mask) == 0;
}

constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

Status parse_prefix(std::string_view text, Prefix& out) {
    if (text.empty()) return make_error(EINVAL, "empty address");
    size_t slash = text.find('/');
    std::string_view host = sv_head(text, slash);
    char buf[64];
    if (host.empty() || host.size() >= sizeof buf) return make_error(EINVAL, "not an IPv4 or IPv6 address");
    std::memcpy(buf, host.data(), host.size());
    buf[host.size()] = '\0';
    Prefix p;
    unsigned max_len;
    if (host.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, buf, p.addr.data()) != 1) return make_error(EINVAL, "not an IPv4 or IPv6 address");
        p.family = AF_INET;
        max_len = 32;
    } else {
        if (inet_pton(AF_INET6, buf, p.addr.data()) != 1) return make_error(EINVAL, "not an IPv4 or IPv6 address");
        p.family = AF_INET6;
        max_len = 128;
    }
    p.len = static_cast<uint8_t>(max_len);
    if (slash != std::string_view::npos) {
        uint64_t len = 0;
        if (!parse_uint(sv_tail(text, slash + 1), 255, len)) return make_error(EINVAL, "not a prefix length");
        if (len > max_len)
            return make_error(EINVAL, max_len == 32 ? "prefix length above 32" : "prefix length above 128");
        p.len = static_cast<uint8_t>(len);
    }
    for (unsigned bit = p.len; bit < max_len; ++bit) p.addr[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
    out = p;
    return {};
}

bool prefix_matches(const Prefix& p, uint8_t family, const uint8_t* addr) {
    if (p.family == family) return bits_equal(addr, p.addr.data(), p.len);
    if (p.family == AF_INET && family == AF_INET6 && std::memcmp(addr, kMapped, sizeof kMapped) == 0)
        return bits_equal(addr + 12, p.addr.data(), p.len);
    return false;
}

bool PrefixSet::has_family(uint8_t family) const {
    for (const Prefix& p : *this)
        if (p.family == family) return true;
    return false;
}

bool PrefixSet::matches(uint8_t family, const uint8_t* addr) const {
    if (empty()) return true;
    for (const Prefix& p : *this)
        if (prefix_matches(p, family, addr)) return true;
    return false;
}

Status PrefixSet::add(const Prefix& p) {
    for (const Prefix& q : *this)
        if (q == p) return {};
    if (count_ == kMax) return make_error(E2BIG, "too many addresses (at most 64 of each kind)");
    items_[count_++] = p;
    return {};
}

Status parse_states(std::string_view text, uint32_t& mask) {
    struct Name {
        const char* name;
        uint32_t bits;
    };
    static constexpr Name kNames[] = {
        {"established", 1u << 1}, {"syn-sent", 1u << 2}, {"syn-recv", 1u << 3 | 1u << 12},
        {"fin-wait-1", 1u << 4},  {"fin-wait-2", 1u << 5}, {"time-wait", 1u << 6},
        {"close-wait", 1u << 8},  {"last-ack", 1u << 9},   {"closing", 1u << 11},
    };
    if (text.empty()) return make_error(EINVAL, "empty state list");
    uint32_t m = 0;
    while (true) {
        size_t comma = text.find(',');
        std::string_view item = sv_head(text, comma);
        if (item == "all") {
            for (const Name& n : kNames) m |= n.bits;
        } else if (item == "listening" || item == "listen") {
            return make_error(EINVAL, "listening sockets are never destroyed");
        } else {
            uint32_t bits = 0;
            for (const Name& n : kNames)
                if (item == n.name) bits = n.bits;
            if (!bits) return make_error(EINVAL, "unknown state (established, syn-sent, syn-recv, fin-wait-1, "
                                                 "fin-wait-2, time-wait, close-wait, last-ack, closing, all)");
            m |= bits;
        }
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    mask = m;
    return {};
}

}  // namespace tc
