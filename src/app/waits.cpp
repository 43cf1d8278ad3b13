#include "app/waits.hpp"

#include <cerrno>

namespace tc {

Result<size_t> WatchSource::take(std::span<uint8_t> buf) {
    while (true) {
        Result<Received> got = sock_.recv(buf, false);
        if (!got) return got.error();
        if (got->cut) return make_error(EMSGSIZE, "address event larger than the buffer");
        if (got->sender == 0) return got->len;
        ++foreign;
    }
}

AddrEventSource::Woke WatchSource::wait(uint64_t deadline_ns) {
    while (true) {
        switch (sys::wait_until(deadline_ns, sock_.fd())) {
            case sys::Wake::Hangup:
                log_.reopen();
                hangup = true;
                continue;
            case sys::Wake::Event: return Woke::Event;
            case sys::Wake::Deadline: return Woke::Deadline;
            case sys::Wake::Stop: return Woke::Stop;
        }
    }
}

void GracePause::wait_ms(uint32_t ms) {
    const uint64_t end = sys::monotonic_ns() + uint64_t{ms} * 1000000;
    while (sys::wait_until(end) == sys::Wake::Hangup) {
        log_.reopen();
        hangup_ = true;
    }
}

}  // namespace tc
