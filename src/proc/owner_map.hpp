// Which processes hold the sockets we are about to end: filled by one walk
// over /proc/*/fd per poll (sys/proc_sys.cpp), then read per socket.
//
// want() takes the matched sockets' inodes; the walk asks wants() for every
// socket link it sees and records the hits. Lookups are binary searches
// over sorted arrays, so the walk costs one comparison chain per fd, not one
// per matched socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/pod_vec.hpp"
#include "core/sock_record.hpp"

namespace tc {

struct Holder {
    uint32_t inode = 0;
    int32_t pid = 0;
    int32_t fd = 0;
};

class OwnerMap {
public:
    // Starts a new walk looking for these sockets' inodes. Inode 0 (a socket
    // still in a listener's accept queue has none) is never wanted.
    [[nodiscard]] bool want(std::span<const SockRecord> recs);
    bool empty() const { return inodes_.size() == 0; }
    bool wants(uint32_t inode) const;

    // Records a holder of a wanted inode; one that was not asked for (a
    // caller that skipped wants()) is ignored. False only when memory ran out.
    [[nodiscard]] bool add(uint32_t inode, int32_t pid, int32_t fd);
    // Holders recorded in this walk.
    size_t holder_count() const { return found_.size(); }
    // A process whose fd table could not be read (EACCES): an inode with no
    // holder may then be held there, so "no owner" cannot be claimed.
    void note_unreadable() { ++unreadable_; }
    size_t unreadable() const { return unreadable_; }

    // Ends the walk: groups the holders by inode, keeping the walk's order
    // (by pid, as /proc lists them) within each group.
    [[nodiscard]] bool finish();
    // The holders of one inode; empty if none.
    std::span<const Holder> holders_of(uint32_t inode) const;

private:
    // Index of `inode` in inodes_, or inodes_.size() when not wanted.
    size_t index_of(uint32_t inode) const;

    PodVec<uint32_t> inodes_;   // sorted, unique
    PodVec<Holder> found_;      // in walk order
    PodVec<Holder> grouped_;    // by inode (a counting sort of found_)
    PodVec<uint32_t> start_;    // grouped_[start_[i], start_[i + 1]) hold inodes_[i]
    size_t unreadable_ = 0;
};

}  // namespace tc
