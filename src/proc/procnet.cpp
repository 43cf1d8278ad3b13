#include "proc/procnet.hpp"

#include <sys/socket.h>

#include <cstring>

#include "core/text.hpp"

namespace tc {

namespace {

// A cursor over one line; every read checks the length first.
struct Cursor {
    std::string_view s;
    size_t at = 0;

    void skip_spaces() {
        while (at < s.size() && s[at] == ' ') ++at;
    }
    bool expect(char c) {
        if (at >= s.size() || s[at] != c) return false;
        ++at;
        return true;
    }
    // Exactly `digits` hex digits (upper or lower case).
    bool hex(size_t digits, uint32_t& out) {
        if (s.size() - at < digits) return false;
        uint32_t v = 0;
        for (size_t i = 0; i < digits; ++i) {
            const int d = hex_digit(s[at + i]);
            if (d < 0) return false;
            v = v << 4 | static_cast<uint32_t>(d);
        }
        at += digits;
        out = v;
        return true;
    }
    // Decimal up to UINT32_MAX, at least one digit.
    bool dec(uint32_t& out) {
        uint64_t v = 0;
        const size_t start = at;
        while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
            v = v * 10 + static_cast<uint64_t>(s[at] - '0');
            if (v > 0xffffffffu) return false;
            ++at;
        }
        out = static_cast<uint32_t>(v);
        return at > start;
    }
    // A field of anything but spaces (skipped), at least one character.
    bool skip_field() {
        const size_t start = at;
        while (at < s.size() && s[at] != ' ') ++at;
        return at > start;
    }
    bool at_space_or_end() const { return at == s.size() || s[at] == ' '; }

    // "ADDR:PORT": the words as they lie in memory, so the bytes come out
    // in network order whatever the CPU's byte order.
    bool endpoint(bool v6, uint32_t (&addr)[4], uint16_t& port_net) {
        const size_t words = v6 ? 4 : 1;
        for (size_t w = 0; w < words; ++w) {
            uint32_t v;
            if (!hex(8, v)) return false;
            std::memcpy(&addr[w], &v, 4);
        }
        uint32_t port;
        if (!expect(':') || !hex(4, port)) return false;
        port_net = net16(static_cast<uint16_t>(port));
        return at_space_or_end();
    }
};

}  // namespace

bool parse_procnet_line(std::string_view line, bool v6, SockRecord& out, Proto p) {
    Cursor c{line};
    SockRecord r;
    uint32_t num, state;
    c.skip_spaces();
    if (!c.dec(num) || !c.expect(':')) return false;  // "sl:"; the header line fails here
    c.skip_spaces();
    if (!c.endpoint(v6, r.id.idiag_src, r.id.idiag_sport)) return false;
    c.skip_spaces();
    if (!c.endpoint(v6, r.id.idiag_dst, r.id.idiag_dport)) return false;
    c.skip_spaces();
    if (!c.hex(2, state) || !c.at_space_or_end() || state == 0 || state > 12) return false;
    c.skip_spaces();
    for (int f = 0; f < 3; ++f) {  // tx_queue:rx_queue, tr:tm->when, retrnsmt
        if (!c.skip_field()) return false;
        c.skip_spaces();
    }
    if (!c.dec(r.uid) || !c.at_space_or_end()) return false;
    c.skip_spaces();
    if (!c.skip_field()) return false;  // timeout
    c.skip_spaces();
    if (!c.dec(r.inode) || !c.at_space_or_end()) return false;
    r.family = v6 ? AF_INET6 : AF_INET;
    r.udp = p == Proto::Udp;
    r.state = static_cast<uint8_t>(state);
    r.id.idiag_cookie[0] = r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    out = r;
    return true;
}

}  // namespace tc
