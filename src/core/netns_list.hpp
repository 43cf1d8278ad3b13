// The network namespaces one --all-netns poll visits: each once, however
// many processes share it, under the best name it has (an `ip netns` name,
// else the first process found in it). Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/pod_vec.hpp"

namespace tc {

struct Netns {
    uint64_t dev = 0;
    uint64_t ino = 0;    // the namespace's identity (nsfs inode)
    char name[64] = {};  // "blue" or "pid:1234"
    char path[64] = {};  // what to open: "/var/run/netns/blue", "/proc/1234/ns/net"
};

class NetnsList {
public:
    void clear() { items_.clear(); }
    size_t size() const { return items_.size(); }
    const Netns& operator[](size_t i) const { return items_[i]; }
    // Adds a namespace unless one with the same identity is there already
    // (the first name stays). False only when memory ran out.
    [[nodiscard]] bool add(uint64_t dev, uint64_t ino, std::string_view name, std::string_view path);

private:
    PodVec<Netns> items_;
};

// --netns VALUE: a name under /var/run/netns, or a path when it has a '/'.
// False when the result does not fit `out`.
bool netns_path(std::string_view value, char* out, size_t n);

}  // namespace tc
