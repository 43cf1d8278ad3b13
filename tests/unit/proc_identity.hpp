// What a duplicated socket reports about itself, built from a record: the
// /proc path's identity check and its fakes share it.
#pragma once

#include <netinet/in.h>

#include <cstring>

#include "engine/proc_terminator.hpp"
#include "helpers.hpp"

namespace testutil {

// The identity a duplicate of `rec`'s socket reports.
inline tc::FdIdentity identity_of(const tc::SockRecord& rec) {
    tc::FdIdentity id;
    id.socket = true;
    id.cookie = tc::sock_cookie(rec);
    id.inode = rec.inode;
    id.connected = true;
    if (rec.family == AF_INET) {
        sockaddr_in l{}, p{};
        l.sin_family = p.sin_family = AF_INET;
        l.sin_port = rec.id.idiag_sport;
        p.sin_port = rec.id.idiag_dport;
        std::memcpy(&l.sin_addr, rec.id.idiag_src, 4);
        std::memcpy(&p.sin_addr, rec.id.idiag_dst, 4);
        std::memcpy(&id.local, &l, sizeof l);
        std::memcpy(&id.peer, &p, sizeof p);
    } else {
        sockaddr_in6 l{}, p{};
        l.sin6_family = p.sin6_family = AF_INET6;
        l.sin6_port = rec.id.idiag_sport;
        p.sin6_port = rec.id.idiag_dport;
        std::memcpy(&l.sin6_addr, rec.id.idiag_src, 16);
        std::memcpy(&p.sin6_addr, rec.id.idiag_dst, 16);
        std::memcpy(&id.local, &l, sizeof l);
        std::memcpy(&id.peer, &p, sizeof p);
    }
    return id;
}

// A connection 127.0.0.1:7000 -> addr:dport (or addr on both ends) with an
// inode and a cookie derived from it.
inline tc::SockRecord sock(uint16_t dport, uint32_t inode, const char* addr = "127.0.0.1") {
    tc::SockRecord r = rec(addr, 7000, addr, dport);
    r.inode = inode;
    r.id.idiag_cookie[0] = inode * 3 + 1;
    r.id.idiag_cookie[1] = 5;
    return r;
}

}  // namespace testutil
