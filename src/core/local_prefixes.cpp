#include "core/local_prefixes.hpp"

namespace tc {

bool LocalPrefixes::add(const Prefix& p) {
    for (size_t i = 0; i < items_.size(); ++i)
        if (items_.data()[i] == p) return true;  // the same prefix from another table
    return items_.push_back(p);
}

bool LocalPrefixes::covers(uint8_t family, const uint8_t* addr) const {
    for (size_t i = 0; i < items_.size(); ++i)
        if (prefix_matches(items_.data()[i], family, addr)) return true;
    return false;
}

}  // namespace tc
