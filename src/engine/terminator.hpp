// How a selected connection is ended. The engine only knows this interface;
// SOCK_DESTROY (sock_destroy.hpp) is one implementation, the /proc path
// (proc_terminator.hpp) the other.
#pragma once

#include <cstdint>
#include <span>

#include "core/result.hpp"
#include "core/rules.hpp"
#include "core/sock_record.hpp"

namespace tc {

enum class Outcome : uint8_t {
    Ended,     // the connection is gone; `method` says how
    NoOwner,   // /proc path: no process holds the socket (nothing to act on)
    Vanished,  // it closed by itself between the dump and our request
    Failed,    // see err
    Skipped,   // over the --max-kills cap: left alone this poll
    WouldEnd,  // --dry-run: would have been ended
    Armed,     // arming: an option was set on the owner's socket (EndResult::arm)
    Kept,      // arming: nothing set, the owner's own choices stand
    WouldArm,  // --dry-run of an arming rule
};

enum class Method : uint8_t {
    None,
    SockDestroy,  // the kernel reset it (SOCK_DESTROY)
    Reset,        // connect(AF_UNSPEC) on a duplicate of the owner's fd: RST
    Shutdown,     // shutdown(SHUT_RDWR) on the duplicate: FIN (reset refused);
                  // UDP: shutdown, then connect(AF_UNSPEC)
    Kill,         // the holding process was killed
    Dup,          // arming: set on a duplicate of the owner's fd (pidfd_getfd)
};

// What a result says beyond its errno (a byte, not a pointer: one result
// is kept per matched connection, so its size is memory per connection).
enum class Note : uint8_t {
    None,
    OwnerUnreadable,  // no holder found, and some /proc/PID/fd could not be read
    NeverKilled,      // held by PID 1 or by tcp_closer itself
    TimeWaitRefused,  // a kernel before 6.0 cannot destroy TIME_WAIT sockets
};

inline const char* note_text(Note n) {
    switch (n) {
        case Note::OwnerUnreadable: return "no owner found, and some processes' /proc/PID/fd could not be read";
        case Note::NeverKilled: return "held by PID 1 or by tcp_closer itself, which are never killed";
        case Note::TimeWaitRefused: return "this kernel cannot destroy TIME_WAIT sockets (Linux 6.0 and later can)";
        case Note::None: break;
    }
    return nullptr;
}

struct EndResult {
    Outcome outcome = Outcome::Failed;
    Method method = Method::None;
    Note note = Note::None;
    uint8_t arm = 0;             // arming: the kArm* bits set, and (<< 4) those the owner's choice kept
    uint16_t procs = 0;          // Kill: how many processes were killed
    // Failed: the errno. Shutdown/Kill: why the reset was not used
    // (0 when --kill_owner asked for a kill outright).
    int err = 0;
    int32_t pid = 0;             // /proc path: the process acted on (the first, for Kill)
    char comm[16] = {};          // that process's command name
};
static_assert(sizeof(EndResult) == 32, "one per matched connection: keep it small");

// Arms connections instead of ending them (core/arm.hpp): each record
// with its rule's ArmSpec, rules[rec.rule].sel.arm. One result per record
// in `out`; a non-ok Status as for Terminator. Nothing is ever ended.
class Armer {
public:
    virtual Status arm_connections(std::span<const SockRecord> recs, std::span<const Rule> rules,
                                   std::span<EndResult> out) = 0;

protected:
    ~Armer() = default;
};

class Terminator {
public:
    // Ends every record, writing one result per record into `out`
    // (out.size() == recs.size()). A non-ok Status means the mechanism
    // itself broke; the results written so far are still valid.
    virtual Status end_connections(std::span<const SockRecord> recs, std::span<EndResult> out) = 0;

protected:
    ~Terminator() = default;
};

}  // namespace tc
