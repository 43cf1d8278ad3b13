#include "engine/addr_watch.hpp"

#include <errno.h>

namespace tc {

namespace {

// Everything queued now. A datagram that cannot be read whole, or an
// overrun, counts as lost events; two errors in a row end the drain (the
// socket reports an overrun once, then hands over what it kept).
void drain(AddrEventSource& src, std::span<uint8_t> buf, Removals& r) {
    bool failed_last = false;
    while (true) {
        Result<size_t> got = src.take(buf);
        if (got) {
            scan_addr_events(buf.first(*got <= buf.size() ? *got : buf.size()), r.ev);
            failed_last = false;
            continue;
        }
        if (got.error().code == EAGAIN || failed_last) return;
        r.lost = true;
        failed_last = true;
    }
}

}  // namespace

Removals collect_removals(AddrEventSource& src, std::span<uint8_t> buf, Settle settle) {
    Removals r;
    drain(src, buf, r);
    if (r.ev.malformed) r.lost = true;
    if (r.ev.removed == 0 && !r.lost) return r;  // nothing went away
    const uint64_t start = src.now_ns();
    const uint64_t last_call = start + settle.max_ns;
    while (true) {
        const uint64_t quiet_until = src.now_ns() + settle.quiet_ns;
        const AddrEventSource::Woke w = src.wait(quiet_until < last_call ? quiet_until : last_call);
        if (w == AddrEventSource::Woke::Stop) {
            r.verdict = Removals::Verdict::Stop;
            return r;
        }
        if (w == AddrEventSource::Woke::Deadline) break;
        drain(src, buf, r);
        if (r.ev.malformed) r.lost = true;
        if (src.now_ns() >= last_call) break;
    }
    r.verdict = Removals::Verdict::Poll;
    return r;
}

}  // namespace tc
