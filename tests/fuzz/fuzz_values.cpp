// libFuzzer: every value parser, each against a slow reference or a
// round trip. The first byte picks the parser; the rest is its text.
#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>

#include "fuzz/fuzz_check.hpp"
#include <algorithm>
#include <cstring>
#include <vector>
#include <string>
#include <string_view>

#include "core/options.hpp"
#include "core/owner.hpp"
#include "core/ports.hpp"
#include "core/text.hpp"
#include "core/prefix.hpp"
#include "core/tcp_state.hpp"
#include "proc/procfs.hpp"
#include "proc/procnet.hpp"

using namespace tc;


namespace {

// The port list grammar, written the obvious way: items split at commas,
// each "N" or "N-M", 1 <= N <= M <= 65535, decimal digits only (leading
// zeros allowed). Returns false for
// text the grammar rejects; fills the set of ports it names.
bool slow_number(const std::string& text, long& v) {
    if (text.empty()) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    const size_t nz = text.find_first_not_of('0');  // leading zeros are allowed
    const std::string s = nz == std::string::npos ? "0" : text.substr(nz);
    if (s.size() > 6) return false;
    v = std::stol(s);
    return v >= 1 && v <= 65535;
}

bool slow_ports(const std::string& text, std::vector<uint8_t>& out) {
    if (text.empty()) return false;
    size_t start = 0;
    while (true) {
        size_t comma = text.find(',', start);
        std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        size_t dash = item.find('-');
        long lo = 0, hi = 0;
        if (dash == std::string::npos) {
            if (!slow_number(item, lo)) return false;
            hi = lo;
        } else if (!slow_number(item.substr(0, dash), lo) || !slow_number(item.substr(dash + 1), hi) || lo > hi) {
            return false;
        }
        for (long p = lo; p <= hi; ++p) out[static_cast<size_t>(p)] = 1;
        if (comma == std::string::npos) return true;
        start = comma + 1;
    }
}

void ports(std::string_view text) {
    PortSet set;
    const bool ok = parse_ports(text, set).ok();
    std::vector<uint8_t> want(65536);
    const bool slow_ok = slow_ports(std::string(text), want);
    if (!ok) {
        // Only the cap on ranges may refuse what the grammar allows.
        if (slow_ok) CHECK_OR_DIE(set.size() == PortSet::kMaxRanges);
        return;
    }
    CHECK_OR_DIE(slow_ok);
    std::vector<uint8_t> got(65536);
    for (const PortRange& r : set)
        for (uint32_t p = r.lo; p <= r.hi; ++p) got[p] = 1;
    CHECK_OR_DIE(got == want);
    for (const PortRange& r : set) {  // and contains() agrees at the edges
        CHECK_OR_DIE(set.contains(r.lo) && set.contains(r.hi));
        if (r.lo > 1) CHECK_OR_DIE(!set.contains(static_cast<uint16_t>(r.lo - 1)));
    }
    for (size_t i = 1; i < set.size(); ++i) CHECK_OR_DIE(set[i - 1].hi + 1 < set[i].lo);  // sorted, apart
}

void seconds(std::string_view text) {
    uint64_t ns = 0;
    if (!parse_seconds(text, ns)) return;
    // Reference: whole seconds (leading zeros allowed) and up to 9
    // decimals, by hand.
    size_t dot = text.find('.');
    std::string whole(text.substr(0, dot));
    std::string frac = dot == std::string_view::npos ? "" : std::string(text.substr(dot + 1));
    CHECK_OR_DIE(!whole.empty() && frac.size() <= 9);
    CHECK_OR_DIE(dot == std::string_view::npos || !frac.empty());
    for (char c : whole + frac) CHECK_OR_DIE(c >= '0' && c <= '9');
    const size_t nz = whole.find_first_not_of('0');
    whole = nz == std::string::npos ? "0" : whole.substr(nz);
    CHECK_OR_DIE(whole.size() <= 8);  // 31536000 at most
    while (frac.size() < 9) frac.push_back('0');
    const uint64_t want = std::stoull(whole) * 1000000000ull + std::stoull(frac);
    CHECK_OR_DIE(ns == want);
    CHECK_OR_DIE(ns <= 31536000ull * 1000000000ull);
}

void prefix(std::string_view text) {
    Prefix p;
    if (!parse_prefix(text, p).ok()) return;
    CHECK_OR_DIE(p.family == AF_INET || p.family == AF_INET6);
    const int bits = p.family == AF_INET ? 32 : 128;
    CHECK_OR_DIE(p.len <= bits);
    for (int b = p.len; b < bits; ++b) CHECK_OR_DIE(!(p.addr[b / 8] & (0x80 >> (b % 8))));  // host bits clear
    // Round trip through the C library's printer.
    char buf[64];
    CHECK_OR_DIE(inet_ntop(p.family, p.addr.data(), buf, sizeof buf));
    std::string again = std::string(buf) + "/" + std::to_string(p.len);
    Prefix q;
    CHECK_OR_DIE(parse_prefix(again, q).ok());
    CHECK_OR_DIE(p == q);
    CHECK_OR_DIE(prefix_matches(p, p.family, p.addr.data()));
}

void states(std::string_view text) {
    uint32_t mask = 0;
    if (!parse_states(text, mask).ok()) return;
    CHECK_OR_DIE(mask != 0);
    CHECK_OR_DIE(!(mask & (1u << 10)));  // TCP_LISTEN: never
}

void proc_names(std::string_view text) {
    int32_t v = 0;
    if (parse_pid(text, v)) {
        CHECK_OR_DIE(v > 0);
        CHECK_OR_DIE(std::to_string(v) == text);
    }
    if (parse_fd_number(text, v)) {
        CHECK_OR_DIE(v >= 0);
        CHECK_OR_DIE(std::to_string(v) == text);
    }
    uint32_t inode = 0;
    if (parse_socket_link(text, inode)) CHECK_OR_DIE("socket:[" + std::to_string(inode) + "]" == text);
    char comm[16];
    parse_comm(std::span<const char>(text.data(), text.size()), comm);
    CHECK_OR_DIE(std::memchr(comm, 0, sizeof comm) != nullptr);
}

// Numbers (milliseconds, --max-kills): digits only, at most `max`.
void number(std::string_view text, uint64_t max) {
    uint64_t v = 0;
    const bool ok = parse_uint(text, max, v);
    bool digits = !text.empty();
    for (char c : text) digits &= c >= '0' && c <= '9';
    if (!digits) {
        CHECK_OR_DIE(!ok);
        return;
    }
    const std::string s(text);
    const size_t nz = s.find_first_not_of('0');
    const std::string sig = nz == std::string::npos ? "0" : s.substr(nz);
    const bool fits = sig.size() < 20 && std::stoull(sig) <= max;  // 19 digits always fit in 64 bits
    CHECK_OR_DIE(ok == fits);
    if (ok) CHECK_OR_DIE(v == std::stoull(sig));
}

// /proc/net/tcp{,6} and udp{,6} text: the records parsed from the whole text and from
// the same text fed in chunks of any size are the same, and each record is
// well formed.
void procnet(const uint8_t* data, size_t size) {
    if (size < 2) return;
    const bool v6 = data[0] & 1;
    const Proto p = data[0] & 2 ? Proto::Udp : Proto::Tcp;
    const size_t chunk = 1 + data[1] % 64;
    std::span<const uint8_t> text(data + 2, size - 2);
    auto parse_all = [&](size_t step) {
        std::vector<SockRecord> out;
        LineSplitter split;
        auto take = [&](std::string_view line) {
            CHECK_OR_DIE(line.size() <= text.size());
            SockRecord r;
            if (!parse_procnet_line(line, v6, r, p)) return;
            CHECK_OR_DIE(r.family == (v6 ? AF_INET6 : AF_INET));
            CHECK_OR_DIE(r.proto() == p);
            CHECK_OR_DIE(r.state >= 1 && r.state <= 12);
            CHECK_OR_DIE(r.cookie_is_wildcard() && !r.has_info);
            out.push_back(r);
        };
        for (size_t at = 0; at < text.size(); at += step)
            split.feed(text.subspan(at, std::min(step, text.size() - at)), take);
        split.finish(take);
        return std::make_pair(out, split.dropped());
    };
    auto whole = parse_all(text.size() ? text.size() : 1);
    auto parts = parse_all(chunk);
    if (parts.second == 0) {  // no line was too long to carry: the same records
        CHECK_OR_DIE(whole.first.size() == parts.first.size());
        for (size_t i = 0; i < whole.first.size(); ++i) {
            const SockRecord &a = whole.first[i], &b = parts.first[i];
            CHECK_OR_DIE(std::memcmp(&a.id, &b.id, sizeof a.id) == 0);
            CHECK_OR_DIE(a.family == b.family && a.state == b.state && a.uid == b.uid && a.inode == b.inode);
        }
    }
}

void dirents(const uint8_t* data, size_t size) {
    DirentIter it(std::span<const uint8_t>(data, size));
    std::string_view name;
    while (it.next(name)) {
        CHECK_OR_DIE(reinterpret_cast<const uint8_t*>(name.data()) >= data);
        CHECK_OR_DIE(reinterpret_cast<const uint8_t*>(name.data()) + name.size() < data + size);  // its NUL too
        CHECK_OR_DIE(name.data()[name.size()] == 0);
    }
}

// The owner parsers: a mark round-trips through its hex spelling and has no
// value bits outside its mask; the line parsers never write past `cap` and
// only accept what they claim to.
void owner(std::string_view text) {
    MarkSel m;
    if (parse_mark(text, m)) {
        CHECK_OR_DIE((m.value & ~m.mask) == 0);
        char again[32];
        std::snprintf(again, sizeof again, "0x%x/0x%x", m.value, m.mask);
        MarkSel n;
        CHECK_OR_DIE(parse_mark(again, n) && n.value == m.value && n.mask == m.mask);
    }
    char out[24];
    std::memset(out, 'Z', sizeof out);
    if (mountinfo_cgroup2(text, out, 16)) {
        const size_t len = std::strlen(out);
        CHECK_OR_DIE(len > 0 && len < 16);
        CHECK_OR_DIE(text.find(" cgroup2") != std::string_view::npos);
        CHECK_OR_DIE(text.find(std::string_view(out, len)) != std::string_view::npos);
    }
    CHECK_OR_DIE(out[16] == 'Z');
    uint32_t uid = 0;
    const size_t colon = text.find(':');
    const std::string_view name = colon == std::string_view::npos ? text : text.substr(0, colon);
    if (passwd_line_uid(text, name, uid)) CHECK_OR_DIE(colon != std::string_view::npos && !name.empty());
    // cgroup_dir with the text cut in two at its first NUL-free split
    std::string value(text.substr(0, text.size() < 40 ? text.size() : 40));
    value.erase(std::remove(value.begin(), value.end(), '\0'), value.end());
    char path[32];
    std::memset(path, 'Z', sizeof path);
    if (cgroup_dir("/sys/fs/cgroup", value.c_str(), path, 24)) {
        const std::string p = path;
        CHECK_OR_DIE(p.size() < 24);
        CHECK_OR_DIE(p.size() >= value.size() && p.compare(p.size() - value.size(), value.size(), value) == 0);
    }
    CHECK_OR_DIE(path[24] == 'Z');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 10) {
        case 0: ports(text); break;
        case 1: seconds(text); break;
        case 2: prefix(text); break;
        case 3: states(text); break;
        case 4: proc_names(text); break;
        case 5: dirents(data + 1, size - 1); break;
        case 6: number(text, 4294967295u); break;
        case 7: number(text, UINT64_MAX / 2 + 12345); break;
        case 8: procnet(data + 1, size - 1); break;
        case 9: owner(text); break;
    }
    return 0;
}
