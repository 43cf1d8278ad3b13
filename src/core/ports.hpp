// Port sets as the user writes them: "22", "7000-7099", "80,443,8000-8100".
// Pure logic: no syscalls, no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/result.hpp"

namespace tc {

struct PortRange {
    uint16_t lo = 0;
    uint16_t hi = 0;
    bool operator==(const PortRange&) const = default;
};

// A sorted set of disjoint, non-adjacent ranges. Each range costs one GE/LE
// pair in the kernel filter, so the cap keeps the filter far below the
// 64 KiB attribute limit (see bytecode.hpp).
class PortSet {
public:
    static constexpr size_t kMaxRanges = 512;

    bool empty() const { return count_ == 0; }
    size_t size() const { return count_; }
    const PortRange* begin() const { return ranges_.data(); }
    const PortRange* end() const { return ranges_.data() + count_; }
    const PortRange& operator[](size_t i) const { return ranges_[i]; }

    bool contains(uint16_t port) const;
    // The one port of a set that holds exactly one, else 0.
    uint16_t single() const { return count_ == 1 && ranges_[0].lo == ranges_[0].hi ? ranges_[0].lo : 0; }

    // Adds one range and re-normalizes (sort + merge overlapping/adjacent).
    // The cap applies to the merged set: 512 single ports followed by a
    // range covering them all is one range, not 513.
    Status add(PortRange r);

private:
    std::array<PortRange, kMaxRanges + 1> ranges_{};  // one spare for the range being merged
    size_t count_ = 0;
};

// Parses one user value ("80,443,8000-8100") into `set` (added to what is
// there already, so repeated -s flags accumulate). On error `set` may hold
// a part of the value; callers reject the whole command line anyway.
Status parse_ports(std::string_view text, PortSet& set);

}  // namespace tc
