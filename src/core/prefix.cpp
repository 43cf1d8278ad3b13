#include "core/prefix.hpp"

#include <sys/socket.h>

#include <cstring>

#include "core/text.hpp"

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

// The address parsers (libc's inet_pton is about 800 bytes): what inet_pton
// accepts, nothing more. Dotted quad: four decimals 0-255 without leading
// zeros.
bool parse_v4(std::string_view s, uint8_t* out) {
    size_t i = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0 && (i >= s.size() || s[i++] != '.')) return false;
        const size_t start = i;
        unsigned v = 0;
        while (i < s.size() && i - start < 3 && s[i] >= '0' && s[i] <= '9') v = v * 10 + static_cast<unsigned>(s[i++] - '0');
        if (i == start || v > 255 || (i - start > 1 && s[start] == '0')) return false;
        out[part] = static_cast<uint8_t>(v);
    }
    return i == s.size();
}

// Groups of 1-4 hex digits between colons, at most one "::" standing for
// one or more zero groups, and optionally a dotted quad as the last 32 bits.
bool parse_v6(std::string_view s, uint8_t* out) {
    uint16_t w[8] = {};
    size_t n = 0, i = 0;
    int gap = -1;  // where "::" stands, in groups
    if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    } else if (!s.empty() && s[0] == ':') {
        return false;
    }
    while (i < s.size()) {
        size_t j = i;
        while (j < s.size() && s[j] != ':') ++j;
        const std::string_view group = sv_head(sv_tail(s, i), j - i);
        if (j == s.size() && sv_find(group, '.') != std::string_view::npos) {
            uint8_t q[4];
            if (n > 6 || !parse_v4(group, q)) return false;
            w[n++] = static_cast<uint16_t>(q[0] << 8 | q[1]);
            w[n++] = static_cast<uint16_t>(q[2] << 8 | q[3]);
            break;
        }
        if (group.empty() || group.size() > 4 || n == 8) return false;
        unsigned v = 0;
        for (char c : group) {
            const int d = hex_digit(c);
            if (d < 0) return false;
            v = v << 4 | static_cast<unsigned>(d);
        }
        w[n++] = static_cast<uint16_t>(v);
        if (j == s.size()) break;
        if (j + 1 < s.size() && s[j + 1] == ':') {
            if (gap >= 0) return false;
            gap = static_cast<int>(n);
            i = j + 2;
        } else {
            i = j + 1;
            if (i == s.size()) return false;  // a single trailing colon
        }
    }
    if (gap < 0 ? n != 8 : n > 7) return false;
    if (gap >= 0) {  // move the groups after "::" to the end
        const size_t tail = n - static_cast<size_t>(gap);
        for (size_t k = 0; k < tail; ++k) {
            w[7 - k] = w[n - 1 - k];
            w[n - 1 - k] = 0;
        }
        for (size_t k = static_cast<size_t>(gap); k < 8 - tail; ++k) w[k] = 0;
    }
    for (size_t k = 0; k < 8; ++k) {
        out[2 * k] = static_cast<uint8_t>(w[k] >> 8);
        out[2 * k + 1] = static_cast<uint8_t>(w[k]);
    }
    return true;
}

}  // namespace

Status parse_prefix(std::string_view text, Prefix& out) {
    if (text.empty()) return make_error(EINVAL, "empty address");
    size_t slash = sv_find(text, '/');
    std::string_view host = sv_head(text, slash);
    Prefix p;
    unsigned max_len;
    if (sv_find(host, ':') == std::string_view::npos) {
        if (!parse_v4(host, p.addr.data())) return make_error(EINVAL, "not an IPv4 or IPv6 address");
        p.family = AF_INET;
        max_len = 32;
    } else {
        if (!parse_v6(host, p.addr.data())) return make_error(EINVAL, "not an IPv4 or IPv6 address");
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
    // ::ffff:a.b.c.d (as ss prints an IPv4 connection on a dual-stack
    // socket), or a prefix of 96 bits or more under ::ffff:0:0/96, is the
    // IPv4 address or prefix: it then matches native and v4-mapped sockets.
    if (p.family == AF_INET6 && p.len >= 96 && std::memcmp(p.addr.data(), kMapped, sizeof kMapped) == 0) {
        p.family = AF_INET;
        p.len = static_cast<uint8_t>(p.len - 96);
        std::memmove(p.addr.data(), p.addr.data() + 12, 4);
        std::memset(p.addr.data() + 4, 0, 12);
    }
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

}  // namespace tc
