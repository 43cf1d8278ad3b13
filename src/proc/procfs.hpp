// What /proc hands back, parsed: directory entries from getdents64, pid and
// fd names, fd link targets ("socket:[12345]") and /proc/PID/comm. Pure code
// over caller buffers; the walk itself is in the syscall layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace tc {

// One record of getdents64:
//
//   | d_ino 8 | d_off 8 | d_reclen 2 | d_type 1 | d_name ... NUL | padding |
//
// The iterator checks every length before it reads: a record that is
// shorter than its header, runs past the buffer or has no NUL in its name
// ends the walk and sets malformed().
class DirentIter {
public:
    static constexpr size_t kHeader = 19;  // offsetof(linux_dirent64, d_name)

    explicit DirentIter(std::span<const uint8_t> buf) : buf_(buf) {}
    bool next(std::string_view& name);
    bool malformed() const { return malformed_; }

private:
    std::span<const uint8_t> buf_;
    size_t pos_ = 0;
    bool malformed_ = false;
};

// A /proc/PID or /proc/PID/fd/N name: decimal, no sign, no leading zero,
// 1..INT32_MAX for pids (0..INT32_MAX for fds). "self", "." and the like
// are not numbers.
bool parse_pid(std::string_view name, int32_t& pid);
bool parse_fd_number(std::string_view name, int32_t& fd);

// "socket:[12345]" -> 12345. Anything else ("pipe:[1]", "anon_inode:[eventfd]",
// "socket:[]", a number past 2^32 - 1, trailing bytes) is not a socket we can
// match: inet_diag reports inodes as 32-bit values.
bool parse_socket_link(std::string_view target, uint32_t& inode);

// The content of /proc/PID/comm ("sshd\n") into a NUL-terminated name of at
// most 15 characters, the trailing newline dropped, the bytes as they are
// (--comm compares them; the log makes them printable: report.hpp).
void parse_comm(std::span<const char> raw, char (&out)[16]);

}  // namespace tc
