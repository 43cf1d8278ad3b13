// The prefixes that are local in a network namespace (its RTN_LOCAL routes:
// assigned addresses, and AnyIP prefixes), as read from one route dump.
// --src-removed selects a connection whose local address none of them
// covers. Pure.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/pod_vec.hpp"
#include "core/prefix.hpp"

namespace tc {

class LocalPrefixes {
public:
    void clear() { items_.clear(); }
    // False when there is no memory for it (the set is then incomplete:
    // the caller must not judge by it).
    bool add(const Prefix& p);
    size_t size() const { return items_.size(); }
    const Prefix& operator[](size_t i) const { return items_.data()[i]; }
    // Is a socket's local address (family AF_INET: 4 bytes; AF_INET6: 16)
    // local? An IPv4 connection on a dual-stack socket (::ffff:a.b.c.d) is
    // judged by its IPv4 address.
    bool covers(uint8_t family, const uint8_t* addr) const;

private:
    PodVec<Prefix> items_;
};

}  // namespace tc
