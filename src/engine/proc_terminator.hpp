// Ends connections from the user side (src/KERNEL.md, The /proc path),
// for kernels without SOCK_DESTROY or when asked with --use_proc or
// --kill_owner:
//
//   1. one walk over /proc/*/fd maps every matched inode to its holders;
//   2. per socket, duplicate it from a holder (pidfd_open + pidfd_getfd),
//      check the duplicate is still that connection, connect(AF_UNSPEC) on
//      it (the kernel sends a RST and the owner gets ECONNRESET), and close
//      the duplicate; where a blocked reader makes the kernel answer EBUSY,
//      shutdown(SHUT_RDWR) instead (a FIN). A UDP socket gets
//      shutdown(SHUT_RDWR) then connect(AF_UNSPEC). One holder is enough:
//      the socket is shared, so it is ended once;
//   3. only when no holder's fd can be reached (pidfd_getfd missing, ptrace
//      rules or an LSM refuse) kill the holding processes: never PID 1,
//      never ourselves. --kill_owner asks for that outright.
//
// The policy lives here and makes no syscalls; ProcOps is the seam to the
// kernel (sys/proc_sys.hpp), faked in the unit tests.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>

#include "core/result.hpp"
#include "engine/engine.hpp"
#include "engine/terminator.hpp"
#include "proc/owner_map.hpp"

namespace tc {

// What a duplicated fd turned out to be. The socket cookie (SO_COOKIE, the
// same 64-bit value inet_diag reports) names one socket for its whole life
// and is never reused, unlike an inode number or an fd number: it is the
// check that the duplicate is the socket the dump reported.
struct FdIdentity {
    bool socket = false;  // false: the fd now names another kind of file
    uint64_t cookie = 0;  // 0: SO_COOKIE not answered (no socket has cookie 0)
    uint32_t inode = 0;   // the socket's inode (fstat)
    sockaddr_storage local{};
    sockaddr_storage peer{};
    bool connected = false;  // getpeername worked
};

class ProcOps {
public:
    // One walk over every process's fd table, filling `map` (want() was
    // called); with `only`, over the processes its --pid/--comm select.
    virtual Status find_holders(OwnerMap& map, const OwnerSel* only) = 0;
    // Duplicates fd `fd` of process `pid` into ours. Errors: ESRCH (process
    // gone), EBADF (fd closed), EPERM/EACCES (not allowed), ENOSYS (kernel
    // older than 5.6).
    virtual Result<int> dup_fd(int32_t pid, int32_t fd) = 0;
    // The cookie and endpoints of a duplicated fd (cookie 0 if it is no socket).
    virtual Result<FdIdentity> identify(int fd) = 0;
    virtual int disconnect(int fd) = 0;  // connect(AF_UNSPEC): 0 or errno
    virtual int shutdown_rdwr(int fd) = 0;
    // The tcp_info figures of a duplicated socket (getsockopt TCP_INFO,
    // read_tcp_figures): 0, or EPROTO when not even tcpi_last_data_recv came.
    virtual int tcp_figures(int fd, SockRecord& rec) = 0;
    // getsockopt and setsockopt of an int option on a duplicate (arming):
    // 0 or errno.
    virtual int get_int_opt(int fd, int level, int name, int& value) = 0;
    virtual int set_int_opt(int fd, int level, int name, int value) = 0;
    virtual void close_fd(int fd) = 0;
    // SIGKILL to the process, but only if it still holds the inode at that
    // fd (a pid reused since the walk must survive): 0, ESRCH, ESTALE or errno.
    virtual int kill_holder(const Holder& h) = 0;
    virtual void comm(int32_t pid, char (&out)[16]) = 0;
    virtual int32_t self_pid() = 0;

protected:
    ~ProcOps() = default;
};

// Told about every process the last resort kills (main logs it).
class KillObserver {
public:
    virtual void on_process_killed(const SockRecord& rec, int32_t pid, const char* comm, int why) = 0;

protected:
    ~KillObserver() = default;
};

// The 64-bit socket cookie inet_diag reported, as SO_COOKIE returns it.
inline uint64_t sock_cookie(const SockRecord& rec) {
    return static_cast<uint64_t>(rec.id.idiag_cookie[1]) << 32 | rec.id.idiag_cookie[0];
}

// True when the duplicate is the connection the dump reported: the same
// socket and both endpoints equal. The same socket means the same cookie;
// where either side has none (the /proc/net tables carry no cookie, and
// some emulators do not answer SO_COOKIE), the same inode. Catches an fd
// number reused for another file and a socket that was reconnected since.
bool same_connection(const SockRecord& rec, const FdIdentity& id);

class ProcTerminator final : public Terminator, public IdleReader, public Armer {
public:
    enum class Mode : uint8_t { Reset, KillOwner };

    ProcTerminator(ProcOps& ops, Mode mode, KillObserver* observer) : ops_(ops), mode_(mode), observer_(observer) {}
    void set_mode(Mode mode) { mode_ = mode; }
    Status end_connections(std::span<const SockRecord> recs, std::span<EndResult> out) override;
    // Arming (core/arm.hpp): on a duplicate taken from one holder (the
    // socket is shared: armed once), reads the owner's TCP_USER_TIMEOUT and
    // SO_KEEPALIVE, sets what the owner has not chosen, the keepalive timers before
    // keepalive itself (its first probe then follows IDLE). A holder out of
    // reach makes the result Failed, never a kill, whatever the mode.
    Status arm_connections(std::span<const SockRecord> recs, std::span<const Rule> rules,
                           std::span<EndResult> out) override;

    // For sockets found without tcp_info (the /proc/net tables): reads each
    // one's last receive time from a duplicate taken from a holder, setting
    // has_info and last_data_recv_ms. Returns how many could not be read
    // (no holder, or its fd or TCP_INFO out of reach): those keep has_info
    // false, so no idle rule ever selects them.
    size_t read_idle(std::span<SockRecord> recs, int& why) override;

private:
    // One walk over /proc for `recs`' inodes.
    Status walk(std::span<const SockRecord> recs);
    // Does the map hold every one of `recs`' inodes?
    bool walked_for(std::span<const SockRecord> recs) const;
    // A duplicate of the holder's fd that is still `rec`'s connection
    // (checked, see same_connection); ESTALE when it is not, dup_fd's errno
    // when it could not be taken. The caller closes it.
    Result<int> dup_connection(const SockRecord& rec, const Holder& h);
    // The holders of `rec`, or the result that says there are none.
    std::span<const Holder> holders_or(const SockRecord& rec, EndResult& none);
    // Ends each record (`rules` empty) or arms it with its rule's ArmSpec.
    Status each(std::span<const SockRecord> recs, std::span<const Rule> rules, std::span<EndResult> out);
    // Resets (`arm` null) or arms the connection on a duplicate taken from
    // the first holder that can be reached; a reset refused there tries the
    // next holder. No holder reachable: a reset falls back to killing them,
    // arming never does.
    EndResult through_holder(const SockRecord& rec, std::span<const Holder> holders, const ArmSpec* arm);
    // Sets on the duplicate what `want` asks and the owner has not chosen
    // itself; `bits` gets the kArm* set, and (<< 4) those kept: 0 or the
    // errno of the refusal that stopped it.
    int arm_fd(int fd, const ArmSpec& want, uint8_t& bits);
    // Resets the connection on the duplicate (UDP: shut down and
    // disconnected): Ended, or Failed with the errno.
    EndResult reset_fd(const SockRecord& rec, int fd);
    EndResult kill_holders(const SockRecord& rec, std::span<const Holder> holders, int why);
    // The command name of `pid`, read once per poll per process (a small
    // direct-mapped cache: a few processes usually hold many sockets).
    void comm_of(int32_t pid, char (&out)[16]);

    struct CommEntry {
        int32_t pid = 0;  // 0: empty
        char comm[16] = {};
    };
    std::array<CommEntry, 64> comms_{};

    ProcOps& ops_;
    Mode mode_;
    KillObserver* observer_;
    OwnerMap map_;
    bool idle_walk_ = false;  // map_ is read_idle's walk, not yet used by end_connections
};

}  // namespace tc
