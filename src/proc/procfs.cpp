#include "proc/procfs.hpp"

#include "core/text.hpp"

#include <cstring>

namespace tc {

bool DirentIter::next(std::string_view& name) {
    if (malformed_ || pos_ >= buf_.size()) return false;
    const size_t left = buf_.size() - pos_;
    uint16_t reclen = 0;
    if (left < kHeader + 1) {
        malformed_ = true;
        return false;
    }
    std::memcpy(&reclen, buf_.data() + pos_ + 16, sizeof reclen);
    if (reclen < kHeader + 1 || reclen > left) {
        malformed_ = true;
        return false;
    }
    const char* start = reinterpret_cast<const char*>(buf_.data() + pos_ + kHeader);
    const size_t room = reclen - kHeader;
    const size_t len = sv_find(std::string_view(start, room), '\0');
    if (len == std::string_view::npos) {
        malformed_ = true;
        return false;
    }
    name = std::string_view(start, len);
    pos_ += reclen;
    return true;
}

namespace {

bool parse_decimal(std::string_view s, uint64_t max, uint64_t& out) {
    if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        uint64_t d = static_cast<uint64_t>(c - '0');
        if (v > (max - d) / 10) return false;
        v = v * 10 + d;
    }
    out = v;
    return true;
}

}  // namespace

bool parse_pid(std::string_view name, int32_t& pid) {
    uint64_t v = 0;
    if (!parse_decimal(name, INT32_MAX, v) || v == 0) return false;
    pid = static_cast<int32_t>(v);
    return true;
}

bool parse_fd_number(std::string_view name, int32_t& fd) {
    uint64_t v = 0;
    if (!parse_decimal(name, INT32_MAX, v)) return false;
    fd = static_cast<int32_t>(v);
    return true;
}

bool parse_socket_link(std::string_view target, uint32_t& inode) {
    constexpr std::string_view kPrefix = "socket:[";
    // (string_view::compare with a position can throw: memcmp after the size check.)
    if (target.size() < kPrefix.size() + 2 || std::memcmp(target.data(), kPrefix.data(), kPrefix.size()) != 0 ||
        target.back() != ']')
        return false;
    std::string_view digits(target.data() + kPrefix.size(), target.size() - kPrefix.size() - 1);
    uint64_t v = 0;
    if (!parse_decimal(digits, UINT32_MAX, v)) return false;
    inode = static_cast<uint32_t>(v);
    return true;
}

void parse_comm(std::span<const char> raw, char (&out)[16]) {
    size_t n = raw.size();
    if (n > 0 && raw[n - 1] == '\n') --n;
    if (n > 15) n = 15;
    for (size_t i = 0; i < n; ++i) out[i] = raw[i];
    out[n] = '\0';
}

}  // namespace tc
