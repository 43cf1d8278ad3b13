// The /proc/net/tcp, tcp6, udp and udp6 tables (the same columns), for kernels without
// NETLINK_SOCK_DIAG (src/KERNEL.md, Without inet_diag). Pure: no syscalls,
// no allocation.
//
//   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ...
//    0: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 12345 ...
//
// Addresses are hex words of 8 digits (one for IPv4, four for IPv6), each
// the 32-bit word as it lies in memory printed as a number in the CPU's
// byte order; ports are 4 hex digits in host order; the state is hex (the
// TCP_* number; UDP: 01 connected, 07 unconnected); uid and inode are
// decimal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/sock_record.hpp"

namespace tc {

// One table line into a record (no cookie: the wildcard; no tcp_info).
// False for the header line and for any line that is not exactly this
// shape: never guessed.
bool parse_procnet_line(std::string_view line, bool v6, SockRecord& out, Proto p = Proto::Tcp);

// Cuts a file read in chunks into lines without copying whole lines
// around: a line split between chunks is carried (up to kMaxLine bytes; a
// longer one is dropped whole and counted). Every line is handed over whole
// or not at all: /proc/net lines are about 150 (IPv4) and 180 (IPv6)
// bytes, but /etc/passwd (long GECOS fields) and mountinfo (overlay mounts)
// have longer ones.
class LineSplitter {
public:
    static constexpr size_t kMaxLine = 4096;

    // Calls fn(line) for every whole line in `chunk` (without its '\n').
    template <class Fn>
    void feed(std::span<const uint8_t> chunk, Fn&& fn) {
        const char* p = reinterpret_cast<const char*>(chunk.data());
        const char* end = p + chunk.size();
        while (p < end) {
            const char* nl = p;
            while (nl < end && *nl != '\n') ++nl;
            const size_t n = static_cast<size_t>(nl - p);
            if (nl == end) {  // no end of line in this chunk: carry the rest
                carry(p, n);
                return;
            }
            if (held_ == 0 && !too_long_) {  // the whole line is in this chunk
                fn(std::string_view(p, n));
            } else {
                carry(p, n);
                if (!too_long_) fn(std::string_view(buf_, held_));
                held_ = 0;
                too_long_ = false;
            }
            p = nl + 1;
        }
    }
    // The end of the table: a last line without '\n' counts too.
    template <class Fn>
    void finish(Fn&& fn) {
        if (held_ > 0 && !too_long_) fn(std::string_view(buf_, held_));
        held_ = 0;
        too_long_ = false;
    }
    size_t dropped() const { return dropped_; }

private:
    void carry(const char* p, size_t n) {
        if (too_long_) return;
        if (held_ + n > kMaxLine) {
            too_long_ = true;
            ++dropped_;
            return;
        }
        for (size_t i = 0; i < n; ++i) buf_[held_ + i] = p[i];
        held_ += n;
    }

    char buf_[kMaxLine];
    size_t held_ = 0;
    bool too_long_ = false;
    size_t dropped_ = 0;
};

}  // namespace tc
