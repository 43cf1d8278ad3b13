#include "engine/proc_terminator.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstring>

namespace tc {

bool same_connection(const SockRecord& rec, const FdIdentity& id) {
    // A connect() still waiting for its SYN-ACK has no peer yet (getpeername
    // answers ENOTCONN): its cookie or inode and its local end identify it.
    constexpr uint8_t kSynSent = 2;
    const bool peer = id.connected || rec.udp || rec.state != kSynSent;
    if (!id.socket || (peer && !id.connected)) return false;
    if (!rec.cookie_is_wildcard() && id.cookie != 0) {
        if (id.cookie != sock_cookie(rec)) return false;
    } else if (rec.inode == 0 || id.inode != rec.inode) {
        return false;
    }
    if (id.local.ss_family != rec.family || (peer && id.peer.ss_family != rec.family)) return false;
    if (rec.family == AF_INET) {
        sockaddr_in l, p;
        std::memcpy(&l, &id.local, sizeof l);
        std::memcpy(&p, &id.peer, sizeof p);
        return l.sin_port == rec.id.idiag_sport && std::memcmp(&l.sin_addr, rec.id.idiag_src, 4) == 0 &&
               (!peer || (p.sin_port == rec.id.idiag_dport && std::memcmp(&p.sin_addr, rec.id.idiag_dst, 4) == 0));
    }
    if (rec.family == AF_INET6) {
        sockaddr_in6 l, p;
        std::memcpy(&l, &id.local, sizeof l);
        std::memcpy(&p, &id.peer, sizeof p);
        return l.sin6_port == rec.id.idiag_sport && std::memcmp(&l.sin6_addr, rec.id.idiag_src, 16) == 0 &&
               (!peer || (p.sin6_port == rec.id.idiag_dport && std::memcmp(&p.sin6_addr, rec.id.idiag_dst, 16) == 0));
    }
    return false;
}

namespace {

// Errors that say the owner's fd cannot be reached at all, so only the
// last resort is left: no pidfd_open/pidfd_getfd (before 5.3/5.6), or ptrace
// rules / an LSM refuse.
bool reset_impossible(int err) { return err == ENOSYS || err == EPERM || err == EACCES; }

EndResult failed(int err, Note note = Note::None) {
    EndResult r;
    r.outcome = Outcome::Failed;
    r.err = err;
    r.note = note;
    return r;
}

}  // namespace

Status ProcTerminator::walk(std::span<const SockRecord> recs) {
    if (!map_.want(recs)) return make_error(ENOMEM, "too many matching connections");
    if (map_.empty()) return {};
    if (Status s = ops_.find_holders(map_, nullptr); !s) return s;
    if (!map_.finish()) return make_error(ENOMEM, "too many socket holders");
    return {};
}

bool ProcTerminator::walked_for(std::span<const SockRecord> recs) const {
    for (const SockRecord& r : recs)
        if (!map_.wants(r.inode)) return false;
    return true;
}

Result<int> ProcTerminator::dup_connection(const SockRecord& rec, const Holder& h) {
    Result<int> dup = ops_.dup_fd(h.pid, h.fd);
    if (!dup) return dup.error();
    Result<FdIdentity> id = ops_.identify(*dup);
    if (!id || !same_connection(rec, *id)) {  // the fd number now names something else
        ops_.close_fd(*dup);
        return make_error(ESTALE, "not that connection any more");
    }
    return *dup;
}

Status ProcTerminator::end_connections(std::span<const SockRecord> recs, std::span<EndResult> out) {
    return each(recs, {}, out);
}

Status ProcTerminator::arm_connections(std::span<const SockRecord> recs, std::span<const Rule> rules,
                                       std::span<EndResult> out) {
    return each(recs, rules, out);
}

Status ProcTerminator::each(std::span<const SockRecord> recs, std::span<const Rule> rules, std::span<EndResult> out) {
    if (out.size() != recs.size()) return make_error(EINVAL, "result buffer size mismatch");
    for (CommEntry& c : comms_) c.pid = 0;  // pids may be reused between polls
    // read_idle walked /proc a moment ago for this poll's candidates, of
    // which these are some: that map serves, one walk per poll.
    const bool fresh = idle_walk_ && walked_for(recs);
    idle_walk_ = false;
    if (!fresh) {
        if (Status s = walk(recs); !s) {
            for (EndResult& r : out) r = failed(s.error().code);
            return s;
        }
    }
    for (size_t i = 0; i < recs.size(); ++i) {
        const SockRecord& rec = recs[i];
        std::span<const Holder> holders = holders_or(rec, out[i]);
        if (holders.empty()) continue;
        if (!rules.empty())
            out[i] = through_holder(rec, holders, &rules[rec.rule].sel.arm);
        else if (mode_ == Mode::KillOwner)
            out[i] = kill_holders(rec, holders, 0);
        else
            out[i] = through_holder(rec, holders, nullptr);
    }
    return {};
}

size_t ProcTerminator::read_idle(std::span<SockRecord> recs, int& why) {
    for (SockRecord& r : recs) r.has_info = false;
    why = 0;
    idle_walk_ = false;
    if (Status s = walk(recs); !s) {
        why = s.error().code;
        return recs.size();
    }
    idle_walk_ = true;
    size_t missing = 0;
    for (SockRecord& r : recs) {
        int err = 0;  // why this socket's tcp_info could not be read (0: no holder)
        for (const Holder& h : r.inode ? map_.holders_of(r.inode) : std::span<const Holder>{}) {
            Result<int> dup = dup_connection(r, h);
            if (!dup) {
                err = dup.error().code;
                continue;
            }
            err = ops_.tcp_figures(*dup, r);
            ops_.close_fd(*dup);
            if (err == 0) {
                r.has_info = true;
                break;
            }
        }
        if (r.has_info) continue;
        ++missing;
        if (err) why = err;
    }
    return missing;
}

std::span<const Holder> ProcTerminator::holders_or(const SockRecord& rec, EndResult& none) {
    if (map_.unreadable() > 0) {
        none = failed(EACCES, Note::OwnerUnreadable);
    } else {
        none = EndResult{};
        none.outcome = Outcome::NoOwner;
    }
    return rec.inode ? map_.holders_of(rec.inode) : std::span<const Holder>{};
}

EndResult ProcTerminator::through_holder(const SockRecord& rec, std::span<const Holder> holders, const ArmSpec* arm) {
    int impossible = 0;  // why a holder's fd could not be reached
    int other = 0;       // any other error
    for (const Holder& h : holders) {
        Result<int> dup = dup_connection(rec, h);
        if (!dup) {
            const int e = dup.error().code;
            // Process or fd gone since the walk, or the fd names something else now.
            if (e == ESRCH || e == EBADF || e == ESTALE) continue;
            (reset_impossible(e) ? impossible : other) = e;
            continue;
        }
        EndResult r;
        if (arm) {
            r.err = arm_fd(*dup, *arm, r.arm);
            r.outcome = r.err ? Outcome::Failed : r.arm & (kArmUserTimeout | kArmKeepalive) ? Outcome::Armed : Outcome::Kept;
            r.method = Method::Dup;
        } else {
            r = reset_fd(rec, *dup);
        }
        ops_.close_fd(*dup);
        // A reset refused: the next holder. A socket is armed (or refused)
        // once, whoever else holds it.
        if (!arm && r.outcome == Outcome::Failed) {
            other = r.err;
            continue;
        }
        r.pid = h.pid;
        comm_of(h.pid, r.comm);
        return r;
    }
    // Arming never kills.
    if (impossible && !arm) return kill_holders(rec, holders, impossible);
    if (other || impossible) return failed(other ? other : impossible);
    EndResult gone;
    gone.outcome = Outcome::Vanished;
    return gone;
}

int ProcTerminator::arm_fd(int fd, const ArmSpec& want, uint8_t& bits) {
    // The options in the order they are set: the user timeout (row 0), then
    // keepalive (rows 1-4), its timers before keepalive itself so that the
    // first probe follows IDLE. The last row of each is the one an owner
    // may have chosen itself: a non-zero TCP_USER_TIMEOUT, SO_KEEPALIVE on.
    static constexpr int kOpts[][2] = {{IPPROTO_TCP, TCP_USER_TIMEOUT},
                                       {IPPROTO_TCP, TCP_KEEPIDLE},
                                       {IPPROTO_TCP, TCP_KEEPINTVL},
                                       {IPPROTO_TCP, TCP_KEEPCNT},
                                       {SOL_SOCKET, SO_KEEPALIVE}};
    const int values[] = {static_cast<int>(want.user_timeout_ms), want.keep_idle_s, want.keep_intvl_s, want.keep_count,
                          1};
    static_assert(kArmUserTimeout == 1 && kArmKeepalive == 2);
    for (size_t k = 0; k < 2; ++k) {
        const size_t first = k, last = 4 * k;  // rows 0-0, then 1-4
        const uint8_t bit = static_cast<uint8_t>(1u << k);
        if (!values[first]) continue;  // not asked for
        int own = 0;
        if (int e = ops_.get_int_opt(fd, kOpts[last][0], kOpts[last][1], own)) return e;
        if (own) {
            bits |= static_cast<uint8_t>(bit << 4);
            continue;
        }
        // A refusal part way: what was set before it stays set, and is said.
        for (size_t i = first; i <= last; ++i)
            if (int e = ops_.set_int_opt(fd, kOpts[i][0], kOpts[i][1], values[i])) return e;
        bits |= bit;
    }
    return 0;
}

EndResult ProcTerminator::reset_fd(const SockRecord& rec, int fd) {
    EndResult r;
    r.outcome = Outcome::Ended;
    r.method = Method::Reset;
    int e = 0;
    if (rec.udp) {
        // UDP (src/KERNEL.md: UDP): shutdown wakes a blocked reader
        // (recv returns 0) and fails later sends; the disconnect then
        // drops the peer, so the socket is no longer connected (and
        // never selected again) and send() fails with EDESTADDRREQ.
        r.method = Method::Shutdown;
        e = ops_.shutdown_rdwr(fd);
        if (e == 0) e = ops_.disconnect(fd);
    } else {
        e = ops_.disconnect(fd);
    }
    if (e == EBUSY && !rec.udp) {
        // A thread blocked on the socket makes some stable kernels refuse
        // tcp_disconnect: close it gracefully instead; the reader wakes.
        r.method = Method::Shutdown;
        r.err = EBUSY;
        e = ops_.shutdown_rdwr(fd);
    }
    return e ? failed(e) : r;
}

void ProcTerminator::comm_of(int32_t pid, char (&out)[16]) {
    CommEntry& e = comms_[static_cast<uint32_t>(pid) % comms_.size()];
    if (e.pid != pid) {
        e.pid = pid;
        ops_.comm(pid, e.comm);
    }
    std::memcpy(out, e.comm, sizeof out);
}

EndResult ProcTerminator::kill_holders(const SockRecord& rec, std::span<const Holder> holders, int why) {
    // Killing some holders while PID 1 or we ourselves keep the socket open
    // would end processes and leave the connection up: refuse up front.
    const int32_t self = ops_.self_pid();
    for (const Holder& h : holders)
        if (h.pid == 1 || h.pid == self)
            return failed(why ? why : EPERM, Note::NeverKilled);

    EndResult r;
    r.outcome = Outcome::Ended;
    r.method = Method::Kill;
    r.err = why;
    int last_err = 0;
    int32_t prev = 0;
    for (const Holder& h : holders) {
        if (h.pid == prev) continue;  // several fds of one process: one kill
        prev = h.pid;
        char comm[16] = {};
        ops_.comm(h.pid, comm);  // before the kill: afterwards /proc/PID is gone
        int e = ops_.kill_holder(h);
        if (e == ESRCH || e == ESTALE) continue;  // gone, or no longer holds it
        if (e != 0) {
            last_err = e;
            continue;
        }
        if (r.procs == 0) {
            r.pid = h.pid;
            std::memcpy(r.comm, comm, sizeof comm);
        }
        ++r.procs;
        if (observer_) observer_->on_process_killed(rec, h.pid, comm, why);
    }
    if (r.procs > 0) return r;
    if (last_err) return failed(last_err);
    EndResult gone;
    gone.outcome = Outcome::Vanished;
    return gone;
}

}  // namespace tc
