#include "proc/owner_map.hpp"

#include "core/heap_sort.hpp"

namespace tc {

bool OwnerMap::want(std::span<const SockRecord> recs) {
    inodes_.clear();
    found_.clear();
    grouped_.clear();
    start_.clear();
    unreadable_ = 0;
    for (const SockRecord& r : recs)
        if (r.inode != 0 && !inodes_.push_back(r.inode)) return false;
    heap_sort(inodes_.data(), inodes_.size());
    size_t unique = 0;
    for (size_t i = 0; i < inodes_.size(); ++i)
        if (unique == 0 || inodes_[unique - 1] != inodes_[i]) inodes_[unique++] = inodes_[i];
    return inodes_.resize(unique);
}

size_t OwnerMap::index_of(uint32_t inode) const {
    const size_t i = lower_index(inodes_.data(), inodes_.size(), inode);
    return i < inodes_.size() && inodes_[i] == inode ? i : inodes_.size();
}

bool OwnerMap::wants(uint32_t inode) const { return inode != 0 && index_of(inode) < inodes_.size(); }

bool OwnerMap::add(uint32_t inode, int32_t pid, int32_t fd) {
    // finish() counts holders per wanted inode: any other would be counted
    // past the end of its array.
    if (!wants(inode)) return true;
    Holder h;
    h.inode = inode;
    h.pid = pid;
    h.fd = fd;
    return found_.push_back(h);
}

bool OwnerMap::finish() {
    const size_t n = inodes_.size();
    if (!start_.resize(n + 1) || !grouped_.resize(found_.size())) return false;
    for (size_t i = 0; i <= n; ++i) start_[i] = 0;
    for (size_t k = 0; k < found_.size(); ++k) ++start_[index_of(found_[k].inode) + 1];
    for (size_t i = 0; i < n; ++i) start_[i + 1] += start_[i];
    // start_[i] now counts up as group i fills; afterwards it is group i + 1's start.
    for (size_t k = 0; k < found_.size(); ++k) grouped_[start_[index_of(found_[k].inode)]++] = found_[k];
    for (size_t i = n; i > 0; --i) start_[i] = start_[i - 1];
    start_[0] = 0;
    return true;
}

std::span<const Holder> OwnerMap::holders_of(uint32_t inode) const {
    size_t i = index_of(inode);
    if (i >= inodes_.size() || start_.size() != inodes_.size() + 1) return {};
    return {grouped_.data() + start_[i], static_cast<size_t>(start_[i + 1] - start_[i])};
}

}  // namespace tc
