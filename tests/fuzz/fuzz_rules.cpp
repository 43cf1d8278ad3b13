// libFuzzer: rules files. The input is the file. The parser must never
// crash or read outside the text, and a file it accepts must round-trip:
// each rule written back as options (quoted where a value needs it) parses
// to the same name and the same selection.
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/rules.hpp"
#include "core/tcp_state.hpp"
#include "fuzz/fuzz_check.hpp"
#include "report/report.hpp"

using namespace tc;

namespace {

// A word as a shell would read it back: in single quotes, each ' as '\''.
std::string quoted(const char* s) {
    std::string out = "'";
    for (; *s; ++s) out += *s == '\'' ? std::string("'\\''") : std::string(1, *s);
    return out + "'";
}

void ports(std::string& out, const char* opt, const PortSet& set) {
    for (const PortRange& r : set) out += std::string(" ") + opt + " " + std::to_string(r.lo) + "-" + std::to_string(r.hi);
}

void prefixes(std::string& out, const char* opt, const PrefixSet& set) {
    for (const Prefix& p : set) {
        uint32_t words[4];
        std::memcpy(words, p.addr.data(), sizeof words);
        char addr[64];
        format_addr(addr, sizeof addr, p.family, words);
        out += std::string(" ") + opt + " " + addr + "/" + std::to_string(p.len);
    }
}

void owners(std::string& out, const OwnerSel& o, bool excluded) {
    for (size_t i = 0; i < o.n_uid; ++i)
        out += std::string(excluded ? " --exclude-uid " : " --uid ") +
               (o.uid_name[i] ? quoted(o.uid_name[i]) : std::to_string(o.uid[i]));
    for (size_t i = 0; i < o.n_comm; ++i) out += std::string(excluded ? " --exclude-comm " : " --comm ") + quoted(o.comm[i]);
    if (excluded) return;
    for (size_t i = 0; i < o.n_mark; ++i)
        out += " --mark " + std::to_string(o.mark[i].value) + "/" + std::to_string(o.mark[i].mask);
    for (size_t i = 0; i < o.n_dev; ++i) out += " --dev " + quoted(o.dev_name[i]);
    for (size_t i = 0; i < o.n_cgroup; ++i) out += " --cgroup " + quoted(o.cgroup_path[i]);
    for (size_t i = 0; i < o.n_pid; ++i) out += " --pid " + std::to_string(o.pid[i]);
}

std::string rule_text(const Rule& r) {
    const Selection& s = r.sel;
    std::string out = std::string(r.name) + ":";
    if (s.tcp) out += " --tcp";
    if (s.udp) out += " -u";
    if (s.ipv4) out += " -4";
    if (s.ipv6) out += " -6";
    ports(out, "-s", s.sports);
    ports(out, "-d", s.dports);
    prefixes(out, "--src", s.srcs);
    prefixes(out, "--dst", s.dsts);
    std::string states;
    for (uint8_t st = 1; st < 12; ++st)
        if (s.states & (1u << st)) states += std::string(states.empty() ? "" : ",") + tcp_state_name(st);
    if (!states.empty()) out += " --state " + states;
    owners(out, s.owner, false);
    ports(out, "--exclude-sport", s.ex.sports);
    ports(out, "--exclude-dport", s.ex.dports);
    prefixes(out, "--exclude-src", s.ex.srcs);
    prefixes(out, "--exclude-dst", s.ex.dsts);
    owners(out, s.ex.owner, true);
    if (s.src_removed) out += " --src-removed";
    if (s.max_per_poll) out += " --max-kills " + std::to_string(s.max_per_poll);
    if (s.idle_min_ms) out += " -t " + std::to_string(s.idle_min_ms);
    if (s.last_recv_limit_ms) out += " --last_recv_limit " + std::to_string(s.last_recv_limit_ms);
    if (s.stalled_ms) out += " --stalled " + std::to_string(s.stalled_ms);
    if (s.send_idle_ms) out += " --send_idle " + std::to_string(s.send_idle_ms);
    return out + "\n";
}

bool same_str(const char* a, const char* b) { return (!a && !b) || (a && b && std::strcmp(a, b) == 0); }

bool same_owner(const OwnerSel& a, const OwnerSel& b) {
    if (a.n_uid != b.n_uid || a.n_mark != b.n_mark || a.n_dev != b.n_dev || a.n_cgroup != b.n_cgroup ||
        a.n_pid != b.n_pid || a.n_comm != b.n_comm)
        return false;
    for (size_t i = 0; i < a.n_uid; ++i)
        if (!same_str(a.uid_name[i], b.uid_name[i]) || (!a.uid_name[i] && a.uid[i] != b.uid[i])) return false;
    for (size_t i = 0; i < a.n_mark; ++i)
        if (a.mark[i].value != b.mark[i].value || a.mark[i].mask != b.mark[i].mask) return false;
    for (size_t i = 0; i < a.n_dev; ++i)
        if (!same_str(a.dev_name[i], b.dev_name[i])) return false;
    for (size_t i = 0; i < a.n_cgroup; ++i)
        if (!same_str(a.cgroup_path[i], b.cgroup_path[i])) return false;
    for (size_t i = 0; i < a.n_pid; ++i)
        if (a.pid[i] != b.pid[i]) return false;
    for (size_t i = 0; i < a.n_comm; ++i)
        if (!same_str(a.comm[i], b.comm[i])) return false;
    return true;
}

bool same_ports(const PortSet& a, const PortSet& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].lo != b[i].lo || a[i].hi != b[i].hi) return false;
    return true;
}

bool same_prefixes(const PrefixSet& a, const PrefixSet& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        const Prefix &p = a.begin()[i], &q = b.begin()[i];
        if (p.family != q.family || p.len != q.len || p.addr != q.addr) return false;
    }
    return true;
}

bool same_rule(const Rule& a, const Rule& b) {
    const Selection &s = a.sel, &t = b.sel;
    return std::strcmp(a.name, b.name) == 0 && s.tcp == t.tcp && s.udp == t.udp && s.ipv4 == t.ipv4 &&
           s.ipv6 == t.ipv6 && s.states == t.states && s.max_per_poll == t.max_per_poll &&
           s.idle_min_ms == t.idle_min_ms && s.last_recv_limit_ms == t.last_recv_limit_ms &&
           s.stalled_ms == t.stalled_ms && s.send_idle_ms == t.send_idle_ms && s.src_removed == t.src_removed &&
           same_ports(s.sports, t.sports) && same_ports(s.dports, t.dports) && same_prefixes(s.srcs, t.srcs) &&
           same_prefixes(s.dsts, t.dsts) && same_owner(s.owner, t.owner) && same_ports(s.ex.sports, t.ex.sports) &&
           same_ports(s.ex.dports, t.ex.dports) && same_prefixes(s.ex.srcs, t.ex.srcs) &&
           same_prefixes(s.ex.dsts, t.ex.dsts) && same_owner(s.ex.owner, t.ex.owner);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 16384) return 0;
    RuleSet first;
    PodVec<RuleError> errors;
    const bool ok = first.parse(std::string_view(reinterpret_cast<const char*>(data), size), errors);
    CHECK_OR_DIE(ok == (errors.size() == 0));
    CHECK_OR_DIE(ok || first.size() == 0);  // nothing of a broken file is taken
    for (size_t i = 0; i < errors.size(); ++i) CHECK_OR_DIE(errors[i].line >= 1);
    if (!ok) return 0;
    std::string again;
    for (const Rule& r : first.rules()) again += rule_text(r);
    RuleSet second;
    const bool ok2 = second.parse(again, errors);
    if (!ok2) std::fprintf(stderr, "written back:\n%s%s\n", again.c_str(), errors.size() ? errors[0].text : "");
    CHECK_OR_DIE(ok2);
    CHECK_OR_DIE(second.size() == first.size());
    for (size_t i = 0; i < first.size(); ++i) CHECK_OR_DIE(same_rule(first.rules()[i], second.rules()[i]));
    return 0;
}
