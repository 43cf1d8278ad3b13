#include "report/report.hpp"

#include <cstring>

#include "core/fmt.hpp"
#include "core/errors.hpp"
#include "core/tcp_state.hpp"

namespace tc {

const char* outcome_name(Outcome o) {
    switch (o) {
        case Outcome::Ended: return "destroyed";
        case Outcome::NoOwner: return "no_owner";
        case Outcome::Vanished: return "vanished";
        case Outcome::Failed: return "failed";
        case Outcome::Skipped: return "skipped";
        case Outcome::WouldEnd: return "would_destroy";
        case Outcome::Armed: return "armed";
        case Outcome::Kept: return "kept";
        case Outcome::WouldArm: return "would_arm";
    }
    return "failed";
}

const char* method_name(Method m) {
    switch (m) {
        case Method::SockDestroy: return "sock_destroy";
        case Method::Reset: return "reset";
        case Method::Shutdown: return "shutdown";
        case Method::Kill: return "killed";
        case Method::Dup: return "pidfd_getfd";
        case Method::None: break;
    }
    return "none";
}

void printable_comm(const char* comm, char (&out)[16]) {
    size_t n = 0;
    for (; n < sizeof out - 1 && comm[n]; ++n) out[n] = comm[n] > ' ' && comm[n] < 127 ? comm[n] : '?';
    if (n == 0) out[n++] = '?';
    out[n] = '\0';
}

void format_addr(char* out, size_t n, uint8_t family, const uint32_t addr[4]) {
    uint8_t b[16];
    std::memcpy(b, addr, sizeof b);
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family == AF_INET) {  // only the first 4 bytes are meaningful
        fmt(out, n, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
        return;
    }
    if (std::memcmp(b, kMapped, sizeof kMapped) == 0) {
        fmt(out, n, "::ffff:%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
        return;
    }
    // RFC 5952: lowercase hex without leading zeros; the longest run of two
    // or more zero groups (the first of equals) becomes "::".
    uint16_t w[8];
    for (int i = 0; i < 8; ++i) w[i] = static_cast<uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && w[j] == 0) ++j;
        if (j - i > best_len && j - i >= 2) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    static const char hex[] = "0123456789abcdef";
    char text[40];
    size_t len = 0;
    for (int i = 0; i < 8;) {
        if (i == best) {
            text[len++] = ':';
            text[len++] = ':';
            i += best_len;
            continue;
        }
        if (i > 0 && i != best + best_len) text[len++] = ':';
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            int d = (w[i] >> shift) & 0xf;
            if (d || started || shift == 0) {
                text[len++] = hex[d];
                started = true;
            }
        }
        ++i;
    }
    text[len] = '\0';
    fmt(out, n, "%s", text);
}

void format_endpoint(char* out, size_t n, uint8_t family, const uint32_t addr[4], uint16_t port) {
    char a[48];
    format_addr(a, sizeof a, family, addr);
    if (family == AF_INET)
        fmt(out, n, "%s:%u", a, port);
    else
        fmt(out, n, "[%s]:%u", a, port);
}

namespace {

struct Endpoints {
    char local[64];
    char remote[64];
    char last_recv[16];
};

// TCP is the default and goes unsaid; a UDP socket's line says so.
const char* proto_field(const SockRecord& rec) { return rec.udp ? " proto=udp" : ""; }

void fill(Endpoints& e, const SockRecord& rec) {
    format_endpoint(e.local, sizeof e.local, rec.family, rec.id.idiag_src, rec.sport());
    format_endpoint(e.remote, sizeof e.remote, rec.family, rec.id.idiag_dst, rec.dport());
    if (rec.has_info)
        fmt(e.last_recv, sizeof e.last_recv, "%u", rec.last_data_recv_ms);
    else
        fmt(e.last_recv, sizeof e.last_recv, "-");
}

// " unacked=2 last_ack_ms=31000 last_send_ms=400", the figures asked for.
void add_figures(Appender& b, const SockRecord& rec, uint8_t figures) {
    for (const Figure& f : kFigures) {
        if (!(figures & f.bit)) continue;
        if (rec.figures & f.bit)
            b.add(" %s=%u", f.name, rec.*f.value);
        else
            b.add(" %s=-", f.name);
    }
}

}  // namespace

const Figure kFigures[3] = {
    {"unacked", SockRecord::kFigureUnacked, &SockRecord::unacked},
    {"last_ack_ms", SockRecord::kFigureAckRecv, &SockRecord::last_ack_recv_ms},
    {"last_send_ms", SockRecord::kFigureSent, &SockRecord::last_data_sent_ms},
};


OwnerMatch owner_match(const OwnerSel* o, const SockRecord& rec) {
    OwnerMatch m;
    if (!o) return m;
    const unsigned mark = rec.owner_ix & 15u, cgroup = rec.owner_ix >> 4;
    if (mark && mark <= o->n_mark) m.mark = o->mark[mark - 1];
    if (cgroup && cgroup <= o->n_cgroup) m.cgroup = o->cgroup_path[cgroup - 1];
    for (size_t i = 0; i < o->n_dev; ++i)
        if (o->ifindex[i] == rec.id.idiag_if) m.dev = o->dev_name[i];
    return m;
}

void format_result(char* out, size_t n, const SockRecord& rec, const EndResult& res, const OwnerSel* owner,
                   uint8_t figures, const char* rule, const ArmSpec* arm) {
    Endpoints e;
    fill(e, rec);
    Appender b(out, n);
    b.add("%s %s -> %s state=%s%s last_recv_ms=%s", outcome_name(res.outcome), e.local, e.remote,
          tcp_state_log_name(rec.state), proto_field(rec), e.last_recv);
    add_figures(b, rec, figures);
    b.add(" uid=%u inode=%u", rec.uid, rec.inode);
    if (rule) b.add(" rule=%s", rule);
    const OwnerMatch m = owner_match(owner, rec);
    if (m.mark.mask) b.add(" mark=0x%x/0x%x", m.mark.value, m.mark.mask);
    if (m.cgroup) b.add(" cgroup=%s", m.cgroup);
    if (m.dev) b.add(" dev=%s", m.dev);
    if (res.outcome == Outcome::Ended || res.outcome == Outcome::Armed) b.add(" by=%s", method_name(res.method));
    if (res.pid > 0) {
        char comm[16];
        printable_comm(res.comm, comm);
        b.add(" pid=%d comm=%s", res.pid, comm);
    }
    if (arm) {
        if (res.arm & kArmUserTimeout) b.add(" user_timeout_ms=%u", arm->user_timeout_ms);
        if (res.arm & kArmKeepalive)
            b.add(" keepalive_s=%u,%u,%u", unsigned{arm->keep_idle_s}, unsigned{arm->keep_intvl_s},
                  unsigned{arm->keep_count});
        if (const char* kept = kept_names(res.arm)) b.add(" kept=%s", kept);
    }
    if (res.outcome == Outcome::Ended) {
        if (res.method == Method::Kill && res.procs > 1) b.add(" (+%u more)", res.procs - 1u);
        if (res.method == Method::Shutdown && res.err) b.add(" (reset refused: %s)", error_text(res.err));
        if (res.method == Method::Kill && res.err) b.add(" (reset impossible: %s)", error_text(res.err));
        if (res.method == Method::Kill && !res.err) b.add(" (--kill_owner)");
    }
    if (res.outcome == Outcome::Failed) b.add(" error=%s", error_text(res.err));
    if (res.outcome == Outcome::Skipped) b.add(" (over --max-kills)");
    if (res.note != Note::None) b.add(" (%s)", note_text(res.note));
}

const char* kept_names(uint8_t arm_bits) {
    static const char* const kNames[] = {nullptr, "user_timeout", "keepalive", "user_timeout,keepalive"};
    return kNames[(arm_bits >> 4) & 3];
}

void format_kill(char* out, size_t n, const SockRecord& rec, int pid, const char* comm, int why) {
    Endpoints e;
    fill(e, rec);
    Appender b(out, n);
    char name[16];
    printable_comm(comm, name);
    b.add("killed pid %d (%s): it holds %s -> %s%s inode=%u", pid, name, e.local, e.remote, proto_field(rec),
          rec.inode);
    if (why)
        b.add(", and resetting the connection inside it is not possible: %s", error_text(why));
    else
        b.add(", and --kill_owner was given");
}

void format_candidate(char* out, size_t n, const SockRecord& rec, uint32_t rtt_us, bool selected, uint8_t figures,
                      const char* rule) {
    Endpoints e;
    fill(e, rec);
    char rtt[16] = "-";
    if (rec.has_info) fmt(rtt, sizeof rtt, "%u", rtt_us);
    Appender b(out, n);
    b.add("candidate %s -> %s state=%s%s rtt_us=%s last_recv_ms=%s", e.local, e.remote, tcp_state_log_name(rec.state),
          proto_field(rec), rtt, e.last_recv);
    add_figures(b, rec, figures);
    // Owner-less (inode 0): no owner selector or exclusion answers for it.
    b.add(" uid=%u inode=%u selected=%s", rec.uid, rec.inode, selected ? "yes" : rec.inode ? "no" : "no (no owner)");
    if (selected && rule) b.add(" rule=%s", rule);
}

void format_summary(char* out, size_t n, const PollStats& s, bool dry_run) {
    Appender b(out, n);
    if (dry_run) {
        b.add("poll (dry run): matched=%zu would_destroy=%zu skipped=%zu", s.matched, s.would_end, s.skipped);
        if (s.arming) b.add(" would_arm=%zu", s.would_arm);
        return;
    }
    b.add("poll: matched=%zu destroyed=%zu sock_destroy=%zu reset=%zu shutdown=%zu killed=%zu no_owner=%zu "
          "vanished=%zu skipped=%zu failed=%zu",
          s.matched, s.ended, s.sock_destroy, s.reset, s.shutdown, s.killed, s.no_owner, s.vanished, s.skipped,
          s.failed);
    if (s.arming) b.add(" armed=%zu kept=%zu", s.armed, s.kept);
}

}  // namespace tc

namespace tc {

void format_removals(char* out, size_t n, const Removals& r) {
    if (r.lost) {
        fmt(out, n, "address events were lost: polling now");
        return;
    }
    char addr[56] = "?";
    uint32_t words[4];
    std::memcpy(words, r.ev.first.addr.data(), sizeof words);
    if (r.ev.first.family) {
        format_addr(addr, sizeof addr, r.ev.first.family, words);
        // A prefix (an AnyIP route) with its length; an address alone.
        const size_t at = std::strlen(addr);
        if (r.ev.first.len != (r.ev.first.family == AF_INET ? 32 : 128))
            fmt(addr + at, sizeof addr - at, "/%u", r.ev.first.len);
    }
    if (r.ev.removed > 1)
        fmt(out, n, "address %s removed (and %zu more): polling now", addr, r.ev.removed - 1);
    else
        fmt(out, n, "address %s removed: polling now", addr);
}

}  // namespace tc
