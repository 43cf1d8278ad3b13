// The run's waits that the engine asks for through its seams, on the real
// clock and signals: the --watch event socket (collect_removals reads it)
// and --src-removed's grace between its two route dumps. In both, a stop
// signal ends the wait and SIGHUP reopens the log, as between polls.
#pragma once

#include <cstdint>
#include <span>

#include "app/logger.hpp"
#include "engine/addr_watch.hpp"
#include "engine/transport.hpp"
#include "sys/sys.hpp"

namespace tc {

class WatchSource final : public AddrEventSource {
public:
    WatchSource(sys::DiagSocket& sock, Logger& log) : sock_(sock), log_(log) {}
    // Only the kernel's events: a process with CAP_NET_ADMIN here may send
    // to the groups too; what it sent is counted in `foreign`.
    Result<size_t> take(std::span<uint8_t> buf) override;
    Woke wait(uint64_t deadline_ns) override;
    uint64_t now_ns() override { return sys::monotonic_ns(); }
    uint32_t foreign = 0;
    bool hangup = false;  // SIGHUP came while it waited

private:
    sys::DiagSocket& sock_;
    Logger& log_;
};

class GracePause final : public Pause {
public:
    explicit GracePause(Logger& log) : log_(log) {}
    void wait_ms(uint32_t ms) override;
    // SIGHUP came during a wait since the last call.
    bool take_hangup() {
        const bool h = hangup_;
        hangup_ = false;
        return h;
    }

private:
    Logger& log_;
    bool hangup_ = false;
};

}  // namespace tc
