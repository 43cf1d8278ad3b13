// --watch between polls: reads the address events the kernel announces and
// decides whether a poll is due. A burst (an interface going down drops
// all its addresses at once) gives one poll, not one per address. The
// kernel only through a seam: the real source (app/run.cpp) is the
// NETLINK_ROUTE socket and the run's wait; tests script one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/result.hpp"
#include "wire/route_wire.hpp"

namespace tc {

class AddrEventSource {
public:
    // Takes one queued datagram into `buf` without waiting: its length;
    // EAGAIN when none is queued. Any other error means events were lost
    // (ENOBUFS: the socket overran; EMSGSIZE: a datagram cut).
    virtual Result<size_t> take(std::span<uint8_t> buf) = 0;
    enum class Woke : uint8_t { Event, Deadline, Stop };
    // Waits until a datagram is queued, the monotonic deadline passes, or
    // a stop is asked for.
    virtual Woke wait(uint64_t deadline_ns) = 0;
    virtual uint64_t now_ns() = 0;

protected:
    ~AddrEventSource() = default;
};

struct Removals {
    enum class Verdict : uint8_t { None, Poll, Stop };
    Verdict verdict = Verdict::None;
    bool lost = false;  // events were lost or unreadable: any address may be gone
    AddrEvents ev;      // what was read: removals, the first removed address
};

struct Settle {
    uint64_t quiet_ns = 3'000'000;   // a burst ends after this long without events
    uint64_t max_ns = 100'000'000;   // and lasts no longer than this from its start
};

// Called when the source has something to read. Reads everything queued,
// then, if an address was removed or events were lost, goes on reading
// until the burst is over (Settle): Poll. None when the events removed
// nothing (an address added or changed); Stop when a stop came first.
Removals collect_removals(AddrEventSource& src, std::span<uint8_t> buf, Settle settle = {});

}  // namespace tc
