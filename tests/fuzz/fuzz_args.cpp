// libFuzzer: command lines. The input, split at NUL bytes, is argv. A
// command line the parser accepts must yield a selection that compiles for
// every dump it plans, into no more than filter_size_bound bytes, that the
// model of the kernel's audit accepts, and whose kernel verdict agrees with
// the user-space check on sockets at the edges of the selection (and of its
// exclusions, which the filter carries negated).
#include <cstdlib>

#include "fuzz/fuzz_check.hpp"
#include <string>
#include <vector>

#include "core/options.hpp"
#include "unit/bc_model.hpp"
#include "unit/helpers.hpp"
#include "wire/bytecode.hpp"

using namespace tc;


namespace {

// Sockets worth asking about: each selected port and its neighbours, on
// addresses of each family (and v4-mapped), from each prefix's address.
std::vector<SockRecord> probes(const Selection& sel) {
    std::vector<uint16_t> ports = {1, 22, 65535};
    for (const PortSet* set : {&sel.sports, &sel.dports, &sel.ex.sports, &sel.ex.dports})
        for (const PortRange& r : *set)
            for (uint16_t p : {r.lo, r.hi}) {
                ports.push_back(p);
                ports.push_back(static_cast<uint16_t>(p - 1));
                ports.push_back(static_cast<uint16_t>(p + 1));
            }
    if (ports.size() > 24) ports.resize(24);
    std::vector<SockRecord> out;
    const char* addrs[] = {"127.0.0.1", "10.1.2.3", "::1", "::ffff:10.1.2.3", "2001:db8::1"};
    for (const char* a : addrs)
        for (size_t i = 0; i < ports.size(); ++i) {
            SockRecord r = testutil::rec(a, ports[i], a, ports[(i * 7 + 3) % ports.size()]);
            for (uint8_t st : {uint8_t{1}, uint8_t{6}, uint8_t{8}}) {
                r.state = st;
                out.push_back(r);
            }
        }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<std::string> args{"tcp_closer"};
    std::string cur;
    for (size_t i = 0; i < size && args.size() < 40; ++i) {
        if (data[i] == 0) {
            args.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(static_cast<char>(data[i]));
        }
    }
    if (!cur.empty()) args.push_back(cur);
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);

    ParseResult r = parse_args(static_cast<int>(args.size()), argv.data());
    if (!r.ok) {
        CHECK_OR_DIE(r.message && *r.message);
        return 0;
    }
    if (r.opts.help || r.opts.version) return 0;
    const Selection& sel = r.opts.sel;
    CHECK_OR_DIE(sel.ipv4 || sel.ipv6);
    CHECK_OR_DIE((sel.states & (1u << 10)) == 0);  // never LISTEN
    CHECK_OR_DIE(sel.states != 0);
    CHECK_OR_DIE(sel.tcp || sel.udp);
    // UDP: connected sockets only, and no rule that needs tcp_info.
    CHECK_OR_DIE(!sel.udp || (sel.states_of(Proto::Udp) == kUdpConnected && !sel.needs_tcp_info()));
    std::vector<SockRecord> recs = probes(sel);
    // Owner values as parsed (before the start-up lookups, ifindex and
    // cgroup ids are 0): probes carry mark 0, cgroup 0, no device.
    SockExtras x;
    x.has_mark = x.has_cgroup = true;
    for (bool single : {true, false})
    for (bool owner_ops : {true, false}) {
        DumpPlan plan = plan_dumps(sel, single);
        CHECK_OR_DIE(plan.count >= 1 && plan.count <= 4);
        for (size_t s = 0; s < plan.count; ++s) {
            std::vector<uint8_t> buf(filter_size_bound(sel));
            Result<size_t> len = compile_filter(sel, plan.scopes[s], buf, owner_ops);
            CHECK_OR_DIE(len.ok());
            std::span<const uint8_t> prog(buf.data(), *len);
            CHECK_OR_DIE(model::audit(prog));
            const Proto p = plan.scopes[s].proto;
            CHECK_OR_DIE(p == Proto::Tcp || plan.scopes[s].family != AF_UNSPEC);  // UDP: per family
            for (SockRecord rec : recs) {
                rec.udp = p == Proto::Udp;
                if (plan.scopes[s].family != AF_UNSPEC && rec.family != plan.scopes[s].family) continue;
                if (!(sel.states_of(p) & (1u << rec.state))) continue;  // the kernel's state mask, before the filter
                const bool kernel = prog.empty() || model::run(prog, testutil::entry(rec));
                // The kernel may return more (the user-space check then drops
                // it), never less.
                uint8_t ix = 0;
                if (matches_filter(sel, plan.scopes[s], rec) && owner_attrs_match(sel, x, ix)) CHECK_OR_DIE(kernel);
            }
        }
    }
    return 0;
}
