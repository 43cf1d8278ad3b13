// --watch between polls: which address events make a poll due, and when.
// A scripted source plays events on a clock of its own (no sleeping): real
// events captured in a private namespace, overruns, cut datagrams, bursts
// and stops.
#include <catch2/catch.hpp>

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/addr_watch.hpp"
#include "fake_transport.hpp"
#include "report/report.hpp"

using namespace tc;
using testutil::Datagram;
using testutil::Bytes;

namespace {

// Adding 192.0.2.11/32, then removing 192.0.2.10/24 and 2001:db8::10/64.
const Datagram kCaptured[] = {
#include "addr_events_golden.inc"
};

Bytes captured(size_t i) {
    REQUIRE(i < std::size(kCaptured));
    REQUIRE(kCaptured[i].len == kCaptured[i].bytes.size());
    return kCaptured[i].bytes;
}

constexpr uint64_t kMs = 1'000'000;

// Events on a timeline: a datagram, an error the socket reports (ENOBUFS),
// or a stop signal, each due at its time. take() hands over what is due;
// wait() jumps the clock to the next item or to the deadline.
class ScriptedEvents final : public AddrEventSource {
public:
    struct Item {
        uint64_t at;
        Bytes dgram;
        int err = 0;        // take() fails with this instead
        bool stop = false;  // a stop signal, not something to read
    };
    std::vector<Item> items;
    size_t next = 0;
    uint64_t now = 0;
    std::vector<uint64_t> deadlines;  // every wait's deadline
    int always_err = 0;  // every take fails so, and the socket is always readable (1 ms per wake)
    size_t takes = 0;

    void at(uint64_t t, Bytes d) { items.push_back({t, std::move(d)}); }
    void error_at(uint64_t t, int err) { items.push_back({t, {}, err}); }
    void stop_at(uint64_t t) { items.push_back({t, {}, 0, true}); }

    Result<size_t> take(std::span<uint8_t> buf) override {
        ++takes;
        if (always_err) return make_error(always_err, "scripted");
        if (next == items.size() || items[next].at > now || items[next].stop) return make_error(EAGAIN, "none");
        const Item& it = items[next++];
        if (it.err) return make_error(it.err, "scripted");
        if (it.dgram.size() > buf.size()) return make_error(EMSGSIZE, "too large");
        std::memcpy(buf.data(), it.dgram.data(), it.dgram.size());
        return it.dgram.size();
    }
    Woke wait(uint64_t deadline) override {
        deadlines.push_back(deadline);
        if (always_err) {
            now = now + kMs < deadline ? now + kMs : deadline;
            return now < deadline ? Woke::Event : Woke::Deadline;
        }
        if (next < items.size() && items[next].at <= deadline) {
            if (items[next].at > now) now = items[next].at;
            if (items[next].stop) {
                ++next;
                return Woke::Stop;
            }
            return Woke::Event;
        }
        now = deadline;
        return Woke::Deadline;
    }
    uint64_t now_ns() override { return now; }
};

Bytes removal(uint8_t last) {
    ifaddrmsg m{};
    m.ifa_family = AF_INET;
    m.ifa_prefixlen = 32;
    Bytes p(sizeof m);
    std::memcpy(p.data(), &m, sizeof m);
    const uint8_t attr[8] = {8, 0, IFA_LOCAL, 0, 192, 0, 2, last};
    p.insert(p.end(), attr, attr + 8);
    Bytes d;
    testutil::append_msg(d, RTM_DELADDR, 0, p);
    return d;
}

Prefix pfx(const char* text) {
    Prefix p;
    REQUIRE(parse_prefix(text, p).ok());
    return p;
}

std::string line_of(const Removals& r) {
    char buf[kLineMax];
    format_removals(buf, sizeof buf, r);
    return buf;
}

std::array<uint8_t, 16384> rx;

}  // namespace

TEST_CASE("captured address events: the addition alone is no reason to poll, the removals are", "[addr_watch]") {
    ScriptedEvents added;
    added.at(0, captured(0));
    Removals r = collect_removals(added, rx);
    CHECK(r.verdict == Removals::Verdict::None);
    CHECK(added.deadlines.empty());  // no settling for nothing

    ScriptedEvents all;
    for (size_t i = 0; i < std::size(kCaptured); ++i) all.at(0, captured(i));
    r = collect_removals(all, rx);
    CHECK(r.verdict == Removals::Verdict::Poll);
    CHECK(r.ev.removed == 2);
    CHECK(r.ev.first == pfx("192.0.2.10/32"));  // IFA_LOCAL of the first removal
    CHECK_FALSE(r.lost);
    CHECK(line_of(r) == "address 192.0.2.10 removed (and 1 more): polling now");

    ScriptedEvents v6;
    v6.at(0, captured(2));
    r = collect_removals(v6, rx);
    CHECK(r.verdict == Removals::Verdict::Poll);
    CHECK(r.ev.first == pfx("2001:db8::10/128"));
    CHECK(line_of(r) == "address 2001:db8::10 removed: polling now");
}

TEST_CASE("one removal: a poll once 3 ms pass without another event", "[addr_watch]") {
    ScriptedEvents s;
    s.now = 5 * kMs;
    s.at(5 * kMs, removal(1));
    const Removals r = collect_removals(s, rx);
    CHECK(r.verdict == Removals::Verdict::Poll);
    CHECK(r.ev.removed == 1);
    REQUIRE(s.deadlines.size() == 1);
    CHECK(s.deadlines[0] == 8 * kMs);
    CHECK(s.now == 8 * kMs);
}

TEST_CASE("a burst of removals gives one poll; a removal after the quiet gap gives another", "[addr_watch]") {
    ScriptedEvents s;
    for (uint8_t i = 0; i < 5; ++i) s.at(i * 2 * kMs, removal(static_cast<uint8_t>(20 + i)));  // 2 ms apart
    s.at(12 * kMs, removal(30));  // 4 ms after the burst's last: a burst of its own
    Removals r = collect_removals(s, rx);
    CHECK(r.verdict == Removals::Verdict::Poll);
    CHECK(r.ev.removed == 5);
    CHECK(r.ev.first == pfx("192.0.2.20/32"));
    CHECK(s.now == 11 * kMs);  // 3 ms after the last of the burst
    CHECK(line_of(r) == "address 192.0.2.20 removed (and 4 more): polling now");

    // The run polls, then waits again and is woken by the late one.
    s.now = 12 * kMs;
    r = collect_removals(s, rx);
    CHECK(r.verdict == Removals::Verdict::Poll);
    CHECK(r.ev.removed == 1);
    CHECK(r.ev.first == pfx("192.0.2.30/32"));
}

TEST_CASE("a stream of removals that never pauses still polls every 100 ms", "[addr_watch]") {
    ScriptedEvents s;
    for (uint64_t t = 0; t < 1000 * kMs; t += 2 * kMs) s.at(t, removal(static_cast<uint8_t>(t / kMs % 250)));
    Removals r = collect_removals(s, rx);
    CHECK(r.verdict == Removals::Verdict::Poll);
    CHECK(s.now == 100 * kMs);
    CHECK(r.ev.removed == 51);  // 0, 2, ... 100 ms
    for (uint64_t d : s.deadlines) CHECK(d <= 100 * kMs);

    // After the poll the run waits again, woken at 102 ms: a burst of its
    // own, bounded the same way.
    s.now = 102 * kMs;
    r = collect_removals(s, rx);
    CHECK(r.verdict == Removals::Verdict::Poll);
    CHECK(s.now == 202 * kMs);
    CHECK(r.ev.removed == 51);
}

TEST_CASE("lost events (ENOBUFS) are a reason to poll, and what was kept is still read", "[addr_watch]") {
    ScriptedEvents s;
    s.error_at(0, ENOBUFS);
    s.at(0, captured(0));  // an addition the socket kept after the overrun
    s.at(0, removal(7));
    const Removals r = collect_removals(s, rx);
    CHECK(r.verdict == Removals::Verdict::Poll);
    CHECK(r.lost);
    CHECK(r.ev.removed == 1);  // read on past the error
    CHECK(s.next == s.items.size());
    CHECK(line_of(r) == "address events were lost: polling now");

    // Only an overrun, nothing else: still a poll.
    ScriptedEvents only;
    only.error_at(0, ENOBUFS);
    CHECK(collect_removals(only, rx).verdict == Removals::Verdict::Poll);
}

TEST_CASE("a datagram that cannot be read whole counts as lost events", "[addr_watch]") {
    ScriptedEvents cut;
    const Bytes whole = removal(1);
    cut.at(0, Bytes(whole.begin(), whole.end() - 6));  // the header claims more than came
    Removals r = collect_removals(cut, rx);
    CHECK(r.verdict == Removals::Verdict::Poll);
    CHECK(r.lost);

    ScriptedEvents big;  // larger than the buffer: the socket says EMSGSIZE
    big.at(0, removal(1));
    std::array<uint8_t, 8> small{};
    r = collect_removals(big, small);
    CHECK(r.verdict == Removals::Verdict::Poll);
    CHECK(r.lost);
}

TEST_CASE("a socket that keeps failing ends each drain after two errors and polls within 100 ms", "[addr_watch]") {
    ScriptedEvents s;
    s.always_err = EIO;
    const Removals r = collect_removals(s, rx);
    CHECK(r.verdict == Removals::Verdict::Poll);
    CHECK(r.lost);
    CHECK(s.now == 100 * kMs);
    CHECK(s.takes <= 2 * (s.deadlines.size() + 1));
}

TEST_CASE("a stop while a burst settles ends the wait without a poll", "[addr_watch]") {
    ScriptedEvents s;
    s.at(0, removal(1));
    s.stop_at(2 * kMs);
    const Removals r = collect_removals(s, rx);
    CHECK(r.verdict == Removals::Verdict::Stop);
    CHECK(s.now == 2 * kMs);
}

TEST_CASE("a removal whose address cannot be read is still named as unknown", "[addr_watch]") {
    Removals r;
    r.verdict = Removals::Verdict::Poll;
    r.ev.removed = 1;
    CHECK(line_of(r) == "address ? removed: polling now");
}
