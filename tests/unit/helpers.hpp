// Builders for test values: sockets from address strings, and the model
// entry the kernel would see for them.
#pragma once

#include <arpa/inet.h>

#include <cstring>
#include <initializer_list>
#include <vector>

#include "bc_model.hpp"
#include "core/sock_record.hpp"

namespace testutil {

inline tc::SockRecord rec(const char* src, uint16_t sport, const char* dst, uint16_t dport, uint8_t state = 1) {
    tc::SockRecord r;
    if (inet_pton(AF_INET, src, r.id.idiag_src) == 1) {
        inet_pton(AF_INET, dst, r.id.idiag_dst);
        r.family = AF_INET;
    } else {
        inet_pton(AF_INET6, src, r.id.idiag_src);
        inet_pton(AF_INET6, dst, r.id.idiag_dst);
        r.family = AF_INET6;
    }
    r.id.idiag_sport = htons(sport);
    r.id.idiag_dport = htons(dport);
    r.id.idiag_cookie[0] = 0x1234;
    r.id.idiag_cookie[1] = 0;
    r.state = state;
    return r;
}

// Sockets that differ only in their inode, for the /proc path's tests.
inline std::vector<tc::SockRecord> with_inodes(std::initializer_list<uint32_t> inodes) {
    std::vector<tc::SockRecord> v;
    for (uint32_t i : inodes) {
        v.push_back(rec("127.0.0.1", 22, "127.0.0.1", 1));
        v.back().inode = i;
    }
    return v;
}

inline model::Entry entry(const tc::SockRecord& r) {
    model::Entry e;
    e.family = r.family;
    std::memcpy(e.saddr, r.id.idiag_src, 16);
    std::memcpy(e.daddr, r.id.idiag_dst, 16);
    e.sport = r.sport();
    e.dport = r.dport();
    e.ifindex = r.id.idiag_if;
    return e;
}

}  // namespace testutil
