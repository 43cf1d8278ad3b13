#include "report/json.hpp"

#include <cstring>

#include "core/fmt.hpp"
#include "report/report.hpp"
#include "core/errors.hpp"
#include "core/tcp_state.hpp"

namespace tc {

void json_escape(char* out, size_t n, const char* in) {
    if (n == 0) return;
    static const char hex[] = "0123456789abcdef";
    size_t len = 0;
    for (; *in; ++in) {
        const unsigned char c = static_cast<unsigned char>(*in);
        char esc[7];
        size_t k = 0;
        if (c == '"' || c == '\\') {
            esc[k++] = '\\';
            esc[k++] = static_cast<char>(c);
        } else if (c < 0x20) {
            esc[k++] = '\\';
            esc[k++] = 'u';
            esc[k++] = '0';
            esc[k++] = '0';
            esc[k++] = hex[c >> 4];
            esc[k++] = hex[c & 0xf];
        } else {
            esc[k++] = static_cast<char>(c);
        }
        if (len + k >= n) break;
        std::memcpy(out + len, esc, k);
        len += k;
    }
    out[len] = '\0';
}

namespace {

struct Json : Appender {
    using Appender::Appender;
    void str(const char* key, const char* value) {
        char esc[256];
        json_escape(esc, sizeof esc, value);
        add(",\"%s\":\"%s\"", key, esc);
    }
};

}  // namespace

size_t format_json_result(char* out, size_t n, const SockRecord& rec, const EndResult& res, const char* netns,
                          const OwnerSel* owner, const char* reason, uint8_t figures, const char* rule,
                          const ArmSpec* arm) {
    Json j(out, n);
    j.add("{\"type\":\"connection\"");
    if (netns) j.str("netns", netns);
    if (rule) j.str("rule", rule);
    j.str("outcome", outcome_name(res.outcome));
    if (res.outcome == Outcome::Ended || res.outcome == Outcome::Armed) j.str("by", method_name(res.method));
    if (res.pid > 0) {
        j.add(",\"pid\":%d", res.pid);
        // The name as it is (JSON escapes what it must), but ASCII: a
        // byte past it would not be valid UTF-8.
        char comm[16];
        size_t k = 0;
        for (; k < sizeof comm - 1 && res.comm[k]; ++k) comm[k] = res.comm[k] & 0x80 ? '?' : res.comm[k];
        comm[k] = '\0';
        j.str("comm", comm);
    }
    j.str("protocol", proto_name(rec.proto()));
    j.str("family", rec.family == AF_INET ? "ipv4" : "ipv6");
    j.str("state", tcp_state_name(rec.state));
    char addr[48];
    format_addr(addr, sizeof addr, rec.family, rec.id.idiag_src);
    j.str("src", addr);
    j.add(",\"sport\":%u", rec.sport());
    format_addr(addr, sizeof addr, rec.family, rec.id.idiag_dst);
    j.str("dst", addr);
    j.add(",\"dport\":%u,\"uid\":%u,\"inode\":%u", rec.dport(), rec.uid, rec.inode);
    const OwnerMatch m = owner_match(owner, rec);
    if (m.mark.mask) j.add(",\"mark\":\"0x%x/0x%x\"", m.mark.value, m.mark.mask);
    if (m.cgroup) j.str("cgroup", m.cgroup);
    if (m.dev) j.str("dev", m.dev);
    // The 64-bit cookie as a string: JSON numbers lose precision past 2^53.
    char cookie[24];
    unsigned long long c = static_cast<unsigned long long>(rec.id.idiag_cookie[1]) << 32 | rec.id.idiag_cookie[0];
    fmt(cookie, sizeof cookie, "%llu", c);
    j.str("cookie", cookie);
    if (rec.has_info)
        j.add(",\"last_recv_ms\":%u", rec.last_data_recv_ms);
    else
        j.add(",\"last_recv_ms\":null");
    for (const Figure& f : kFigures) {
        if (!(figures & f.bit)) continue;
        if (rec.figures & f.bit)
            j.add(",\"%s\":%u", f.name, rec.*f.value);
        else
            j.add(",\"%s\":null", f.name);
    }
    if (res.outcome == Outcome::Failed || res.method == Method::Shutdown || (res.method == Method::Kill && res.err)) {
        char scratch[16];
        if (res.err) {
            j.str("error", errno_name(res.err, scratch));
            j.str("message", error_text(res.err));
        }
    }
    if (arm) {
        if (res.arm & kArmUserTimeout) j.add(",\"user_timeout_ms\":%u", arm->user_timeout_ms);
        if (res.arm & kArmKeepalive)
            j.add(",\"keepalive_s\":[%u,%u,%u]", unsigned{arm->keep_idle_s}, unsigned{arm->keep_intvl_s},
                  unsigned{arm->keep_count});
        if (const char* kept = kept_names(res.arm)) j.str("kept", kept);
    }
    if (res.note != Note::None) j.str("note", note_text(res.note));
    if (reason) j.str("reason", reason);
    j.add("}");
    return j.used();
}

size_t format_json_summary(char* out, size_t n, const PollStats& s, bool dry_run, const char* netns,
                           bool per_proto) {
    Json j(out, n);
    j.add("{\"type\":\"summary\"");
    if (netns) j.str("netns", netns);
    j.add(",\"dry_run\":%s,\"matched\":%zu", dry_run ? "true" : "false", s.matched);
    if (dry_run) {
        j.add(",\"would_destroy\":%zu,\"skipped\":%zu", s.would_end, s.skipped);
        if (s.arming) j.add(",\"would_arm\":%zu", s.would_arm);
    } else {
        j.add(",\"destroyed\":%zu,\"sock_destroy\":%zu,\"reset\":%zu,\"shutdown\":%zu,\"killed\":%zu", s.ended,
              s.sock_destroy, s.reset, s.shutdown, s.killed);
        j.add(",\"no_owner\":%zu,\"vanished\":%zu,\"skipped\":%zu,\"failed\":%zu", s.no_owner, s.vanished,
              s.skipped, s.failed);
        if (s.arming) j.add(",\"armed\":%zu,\"kept\":%zu", s.armed, s.kept);
    }
    // --tcp --udp: the totals split by protocol.
    for (Proto p : {Proto::Tcp, Proto::Udp}) {
        if (!per_proto) break;
        const PollStats::PerProto& c = s.by_proto[static_cast<size_t>(p)];
        j.add(",\"%s\":{\"matched\":%zu,\"%s\":%zu,\"failed\":%zu}", proto_name(p), c.matched,
              dry_run ? "would_destroy" : "destroyed", c.ended, c.failed);
    }
    j.add("}");
    return j.used();
}

}  // namespace tc
