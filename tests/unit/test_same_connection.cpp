// The /proc path's check that a duplicate taken from a holder is still the
// connection the dump reported.
#include <catch2/catch.hpp>

#include <string>

#include "engine/proc_terminator.hpp"
#include "helpers.hpp"
#include "proc_identity.hpp"

using namespace tc;
using testutil::identity_of;
using testutil::sock;

TEST_CASE("same_connection: cookie and both endpoints", "[proc_terminator]") {
    for (const char* addr : {"127.0.0.1", "::1", "::ffff:127.0.0.1"}) {
        INFO(addr);
        SockRecord r = sock(40000, 77, addr);
        FdIdentity id = identity_of(r);
        CHECK(same_connection(r, id));
        FdIdentity other = id;
        other.cookie ^= 1;  // another socket (an fd number reused)
        CHECK_FALSE(same_connection(r, other));
        other = id;
        other.connected = false;  // disconnected since the dump
        CHECK_FALSE(same_connection(r, other));
        SockRecord moved = sock(40001, 77, addr);  // same socket, reconnected to another peer
        CHECK_FALSE(same_connection(moved, id));
        SockRecord rebound = r;
        rebound.id.idiag_src[0] ^= 0x01000000;
        CHECK_FALSE(same_connection(rebound, id));
        FdIdentity none;  // not a socket
        CHECK_FALSE(same_connection(r, none));
        FdIdentity not_socket = id;
        not_socket.socket = false;
        CHECK_FALSE(same_connection(r, not_socket));

        // Without a cookie on either side (/proc/net records; SO_COOKIE
        // not answered): the inode decides, with both endpoints.
        SockRecord table = r;
        table.id.idiag_cookie[0] = table.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
        CHECK(same_connection(table, id));
        FdIdentity other_inode = id;
        other_inode.inode ^= 1;
        CHECK_FALSE(same_connection(table, other_inode));
        FdIdentity no_cookie = id;
        no_cookie.cookie = 0;
        CHECK(same_connection(r, no_cookie));
        no_cookie.inode ^= 1;
        CHECK_FALSE(same_connection(r, no_cookie));
        SockRecord no_inode = table;
        no_inode.inode = 0;  // TIME_WAIT lines carry inode 0: never matched that way
        FdIdentity zero = id;
        zero.inode = 0;
        CHECK_FALSE(same_connection(no_inode, zero));
        CHECK(same_connection(r, other_inode));  // with cookies on both sides, the cookie decides
    }
    SockRecord v4 = sock(1, 5, "127.0.0.1");
    SockRecord v6 = sock(1, 5, "::1");
    CHECK_FALSE(same_connection(v4, identity_of(v6)));  // family must agree
}

TEST_CASE("same_connection: local and peer addresses that differ are each compared with their own", "[proc_terminator]") {
    struct Pair {
        const char* local;
        const char* peer;
    };
    for (const Pair& p : {Pair{"127.0.0.2", "127.0.0.3"}, Pair{"2001:db8::1", "2001:db8::2"},
                          Pair{"::ffff:10.0.0.1", "::ffff:10.0.0.2"}}) {
        INFO(p.local << " -> " << p.peer);
        SockRecord r = testutil::rec(p.local, 7000, p.peer, 40000);
        r.inode = 9;
        r.id.idiag_cookie[0] = 28;
        FdIdentity id = identity_of(r);
        CHECK(same_connection(r, id));
        // The same ports with the addresses the other way round, or both
        // ends on one address: another connection.
        SockRecord swapped = testutil::rec(p.peer, 7000, p.local, 40000);
        swapped.inode = 9;
        swapped.id.idiag_cookie[0] = 28;
        CHECK_FALSE(same_connection(swapped, id));
        SockRecord both_local = testutil::rec(p.local, 7000, p.local, 40000);
        both_local.inode = 9;
        both_local.id.idiag_cookie[0] = 28;
        CHECK_FALSE(same_connection(both_local, id));
        SockRecord both_peer = testutil::rec(p.peer, 7000, p.peer, 40000);
        both_peer.inode = 9;
        both_peer.id.idiag_cookie[0] = 28;
        CHECK_FALSE(same_connection(both_peer, id));
    }
}

// A connect() still waiting for its SYN-ACK: getpeername answers ENOTCONN,
// so the duplicate is identified by its cookie (or inode) and local end.
TEST_CASE("same_connection: a syn-sent socket has no peer yet", "[proc_terminator]") {
    for (const char* addr : {"127.0.0.1", "::1"}) {
        INFO(addr);
        SockRecord r = sock(40000, 77, addr);
        r.state = 2;  // SYN_SENT
        FdIdentity id = identity_of(r);
        id.connected = false;
        id.peer = sockaddr_storage{};
        CHECK(same_connection(r, id));
        FdIdentity other = id;
        other.cookie ^= 1;
        CHECK_FALSE(same_connection(r, other));
        SockRecord rebound = r;
        rebound.id.idiag_sport ^= 1;
        CHECK_FALSE(same_connection(rebound, id));
        SockRecord established = r;
        established.state = 1;  // any other state still needs the peer
        CHECK_FALSE(same_connection(established, id));
        FdIdentity now_connected = identity_of(r);  // the SYN-ACK came meanwhile: the peer must agree
        CHECK(same_connection(r, now_connected));
        SockRecord elsewhere = sock(40001, 77, addr);
        elsewhere.state = 2;
        CHECK_FALSE(same_connection(elsewhere, now_connected));
    }
}
