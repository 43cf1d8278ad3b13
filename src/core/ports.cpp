#include "core/ports.hpp"

#include <algorithm>

#include "core/text.hpp"

namespace tc {

bool PortSet::contains(uint16_t port) const {
    for (const PortRange& r : *this)
        if (port >= r.lo && port <= r.hi) return true;
    return false;
}

Status PortSet::add(PortRange r) {
    // The set is sorted already: insert `r` in its place.
    size_t at = count_++;
    for (; at > 0 && ranges_[at - 1].lo > r.lo; --at) ranges_[at] = ranges_[at - 1];
    ranges_[at] = r;
    size_t out = 0;
    for (size_t i = 1; i < count_; ++i) {
        PortRange& last = ranges_[out];
        if (static_cast<uint32_t>(ranges_[i].lo) <= static_cast<uint32_t>(last.hi) + 1)
            last.hi = std::max(last.hi, ranges_[i].hi);
        else
            ranges_[++out] = ranges_[i];
    }
    count_ = out + 1;
    if (count_ > kMaxRanges) {
        // Nothing merged, so `r` stands alone in the set: take it out again,
        // leaving the set as it was.
        size_t k = 0;
        while (k < count_ && !(ranges_[k] == r)) ++k;
        for (; k + 1 < count_; ++k) ranges_[k] = ranges_[k + 1];
        count_ = kMaxRanges;
        return make_error(E2BIG, "too many port ranges (at most 512 after merging)");
    }
    return {};
}

static Status parse_port(std::string_view text, uint16_t& port) {
    uint64_t v = 0;
    if (!parse_uint(text, 65535, v)) return make_error(EINVAL, "not a port number (1-65535)");
    if (v == 0) return make_error(EINVAL, "port 0 is not a valid port (1-65535)");
    port = static_cast<uint16_t>(v);
    return {};
}

Status parse_ports(std::string_view text, PortSet& set) {
    if (text.empty()) return make_error(EINVAL, "empty port list");
    while (true) {
        size_t comma = sv_find(text, ',');
        std::string_view item = sv_head(text, comma);
        if (item.empty()) return make_error(EINVAL, "empty element in port list");
        PortRange r;
        size_t dash = sv_find(item, '-');
        if (dash == std::string_view::npos) {
            if (Status s = parse_port(item, r.lo); !s) return s;
            r.hi = r.lo;
        } else {
            if (Status s = parse_port(sv_head(item, dash), r.lo); !s) return s;
            if (Status s = parse_port(sv_tail(item, dash + 1), r.hi); !s) return s;
            if (r.lo > r.hi) return make_error(EINVAL, "range start is above range end");
        }
        if (Status s = set.add(r); !s) return s;
        if (comma == std::string_view::npos) return {};
        text.remove_prefix(comma + 1);
    }
}

}  // namespace tc
