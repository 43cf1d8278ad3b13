// The NETLINK_ROUTE route dump, for "which addresses are local here"
// (--src-removed, src/KERNEL.md: Local addresses). Pure: no syscalls.
//
//   request: | nlmsghdr 16 (RTM_GETROUTE, DUMP) | rtmsg 12 (AF_UNSPEC) |
//   reply:   | nlmsghdr 16 (RTM_NEWROUTE, MULTI) | rtmsg 12 | attributes (RTA_DST, RTA_TABLE ...) |
//
// A dump without a table filter returns every table of both families; the
// local addresses are its RTN_LOCAL routes: the `local` table's, and each
// VRF's own table's, and AnyIP prefixes (`ip route add local PREFIX`).
#pragma once

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/local_prefixes.hpp"
#include "core/prefix.hpp"
#include "core/result.hpp"
#include "wire/nl_conversation.hpp"

namespace tc {

static_assert(sizeof(rtmsg) == 12);

// RTM_GETROUTE dump of every table, both families.
Result<size_t> encode_route_dump_request(uint32_t seq, std::span<uint8_t> out);

struct Route {
    uint8_t type = 0;     // RTN_*
    uint32_t table = 0;   // RTA_TABLE when present (tables above 255), else rtm_table
    Prefix dst;           // family, length and address (0/0 without RTA_DST)
};

// Decodes the payload of one RTM_NEWROUTE reply. A short header, an
// address of the wrong length for the family, a prefix length past the
// family's, a destination length without RTA_DST, or a malformed
// attribute is an error: a route table read wrong must never make a
// connection look removed.
Result<Route> decode_route(std::span<const uint8_t> payload);

// What a batch of address events (datagrams of a NETLINK_ROUTE socket
// subscribed to the IPv4 and IPv6 address and route groups) says: how many
// addresses were removed (RTM_DELADDR, or RTM_DELROUTE of a local route),
// and the first of them.
struct AddrEvents {
    size_t removed = 0;
    Prefix first;          // the first removed address (family 0: none)
    bool v4 = false, v6 = false;  // an IPv4 / IPv6 address was among the removed
    bool malformed = false;  // some datagram could not be read whole
};
// Adds one datagram's events to `ev`.
void scan_addr_events(std::span<const uint8_t> datagram, AddrEvents& ev);

// Takes the answer to one route dump (through the one receive loop,
// engine/receive.hpp) into the local prefixes: every RTN_LOCAL route of any
// table. The set must not be used unless the dump ended well: it fails on
// an error answer, a malformed route or no memory, and an interrupted dump
// (NlConversation::interrupted) is asked again.
class LocalRouteReader final : public NlSink {
public:
    explicit LocalRouteReader(LocalPrefixes& out) : out_(out) { out_.clear(); }
    Status take(const NlReply& reply) override;

private:
    LocalPrefixes& out_;
};

}  // namespace tc
