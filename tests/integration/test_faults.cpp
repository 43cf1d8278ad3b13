// Faults against the real kernel, through the library itself rather than
// the binary: here a destroy socket with the smallest receive buffer the
// kernel allows, so most acks of a batch are dropped (ENOBUFS).
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "checks.hpp"
#include "engine/engine.hpp"
#include "engine/sock_destroy.hpp"
#include "harness.hpp"
#include "sys/sys.hpp"

using namespace tc;

namespace {

// Passes everything through and counts the ENOBUFS the kernel reports.
struct CountingTransport final : DiagTransport {
    DiagTransport& inner;
    size_t enobufs = 0;
    explicit CountingTransport(DiagTransport& t) : inner(t) {}
    Status send(std::span<const uint8_t> msg) override { return inner.send(msg); }
    Result<Received> recv(std::span<uint8_t> buf, bool wait) override { return count(inner.recv(buf, wait)); }
    Result<size_t> recv_many(std::span<uint8_t> buf, size_t slot, std::span<Received> got, bool wait) override {
        return count(inner.recv_many(buf, slot, got, wait));
    }
    template <typename T>
    Result<T> count(Result<T> r) {
        if (!r && r.error().code == ENOBUFS) ++enobufs;
        return r;
    }
};

struct Quiet final : PollObserver {
    void on_filter(const DumpScope&, std::span<const uint8_t>) override {}
    void on_candidate(const SockRecord&, uint32_t, bool) override {}
    void on_result(const SockRecord&, const EndResult&) override {}
};

}  // namespace

TEST_CASE("acks dropped by a tiny receive buffer: each connection is looked up and counted right", "[faults]") {
    if (it::mode() != it::Mode::SockDestroy) return;  // the library alone: once is enough
    rlimit lim{};
    REQUIRE(getrlimit(RLIMIT_NOFILE, &lim) == 0);
    if (lim.rlim_cur < 4096) {
        lim.rlim_cur = lim.rlim_max < 4096 ? lim.rlim_max : 4096;
        REQUIRE(setrlimit(RLIMIT_NOFILE, &lim) == 0);
    }
    int l = it::listen_on(AF_INET, "127.0.0.1", 7131);
    int other = it::listen_on(AF_INET, "127.0.0.1", 7132);
    auto hit = it::connect_n(300, l, AF_INET, "127.0.0.1", 7131);
    auto spared = it::connect_n(20, other, AF_INET, "127.0.0.1", 7132);

    sys::DiagSocket dump, destroy;
    REQUIRE(dump.open(4 << 20, 4 << 20).ok());
    REQUIRE(destroy.open(1, 1 << 20).ok());  // the kernel raises it to its minimum: a few acks
    CountingTransport counting(destroy);
    SockDestroyTerminator term(counting);
    Engine engine(dump, term);
    Selection sel;
    REQUIRE(parse_ports("7131", sel.sports).ok());
    Quiet quiet;
    Result<PollStats> st = engine.poll(sel, quiet);
    REQUIRE(st.ok());
    CHECK(counting.enobufs > 0);  // or this test tests nothing
    CHECK(st->matched == 300);
    CHECK(st->ended == 300);
    CHECK(st->failed == 0);
    it::expect(hit, "aborted", "reset");
    it::expect(spared, "alive", "alive");
    it::close_all(hit);
    it::close_all(spared);
    close(l);
    close(other);
}
