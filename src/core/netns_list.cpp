#include "core/netns_list.hpp"

#include <cstring>

#include "core/text.hpp"

namespace tc {

static bool copy_text(std::string_view s, char* out, size_t n) {
    if (s.size() >= n) return false;
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    return true;
}

bool NetnsList::add(uint64_t dev, uint64_t ino, std::string_view name, std::string_view path) {
    for (size_t i = 0; i < items_.size(); ++i)
        if (items_[i].dev == dev && items_[i].ino == ino) return true;
    Netns n;
    n.dev = dev;
    n.ino = ino;
    if (!copy_text(name, n.name, sizeof n.name)) copy_text(name.substr(0, sizeof n.name - 1), n.name, sizeof n.name);
    if (!copy_text(path, n.path, sizeof n.path)) return true;  // a path too long to open: skip it
    return items_.push_back(n);
}

bool netns_path(std::string_view value, char* out, size_t n) {
    if (sv_find(value, '/') != std::string_view::npos) return copy_text(value, out, n);
    constexpr std::string_view kDir = "/var/run/netns/";
    if (kDir.size() + value.size() >= n) return false;
    std::memcpy(out, kDir.data(), kDir.size());
    std::memcpy(out + kDir.size(), value.data(), value.size());
    out[kDir.size() + value.size()] = '\0';
    return true;
}

}  // namespace tc
