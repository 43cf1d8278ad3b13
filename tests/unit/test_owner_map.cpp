// The inode -> holders map that one /proc walk fills.
#include <catch2/catch.hpp>

#include <vector>

#include "helpers.hpp"
#include "proc/owner_map.hpp"

using namespace tc;

namespace {

std::vector<std::pair<int32_t, int32_t>> holders(const OwnerMap& m, uint32_t inode) {
    std::vector<std::pair<int32_t, int32_t>> v;
    for (const Holder& h : m.holders_of(inode)) {
        CHECK(h.inode == inode);
        v.emplace_back(h.pid, h.fd);
    }
    return v;
}

}  // namespace

TEST_CASE("owner map: wanted inodes, sorted and unique; 0 never wanted", "[owner_map]") {
    OwnerMap m;
    auto recs = testutil::with_inodes({500, 7, 0, 500, 90, 7, 4294967295u});
    REQUIRE(m.want(recs));
    CHECK_FALSE(m.empty());
    for (uint32_t i : {7u, 90u, 500u, 4294967295u}) CHECK(m.wants(i));
    for (uint32_t i : {0u, 1u, 8u, 89u, 91u, 499u, 501u, 4294967294u}) CHECK_FALSE(m.wants(i));
    REQUIRE(m.want(testutil::with_inodes({0, 0})));
    CHECK(m.empty());
    CHECK_FALSE(m.wants(0));
}

TEST_CASE("owner map: holders grouped by inode, in walk order", "[owner_map]") {
    OwnerMap m;
    REQUIRE(m.want(testutil::with_inodes({30, 10, 20})));
    // As a walk over /proc finds them: by pid, then by fd.
    REQUIRE(m.add(10, 100, 3));
    REQUIRE(m.add(30, 100, 4));
    REQUIRE(m.add(10, 100, 9));  // the same socket twice in one process (dup)
    REQUIRE(m.add(10, 205, 3));  // and in a forked child
    REQUIRE(m.add(30, 300, 7));
    REQUIRE(m.finish());
    CHECK(holders(m, 10) == std::vector<std::pair<int32_t, int32_t>>{{100, 3}, {100, 9}, {205, 3}});
    CHECK(holders(m, 20).empty());
    CHECK(holders(m, 30) == std::vector<std::pair<int32_t, int32_t>>{{100, 4}, {300, 7}});
    CHECK(holders(m, 40).empty());
    CHECK(m.unreadable() == 0);
    m.note_unreadable();
    CHECK(m.unreadable() == 1);

    // The next poll starts clean.
    REQUIRE(m.want(testutil::with_inodes({20})));
    CHECK(m.unreadable() == 0);
    CHECK(holders(m, 20).empty());  // before finish(): nothing
    REQUIRE(m.add(20, 1, 1));
    REQUIRE(m.finish());
    CHECK(holders(m, 20) == std::vector<std::pair<int32_t, int32_t>>{{1, 1}});
    CHECK(holders(m, 10).empty());
}

TEST_CASE("owner map: many inodes, shuffled", "[owner_map]") {
    OwnerMap m;
    std::vector<SockRecord> recs;
    for (uint32_t i = 0; i < 3000; ++i) {
        recs.push_back(testutil::rec("127.0.0.1", 22, "127.0.0.1", 1));
        recs.back().inode = (i * 7919u) % 3001u + 1;  // a permutation of 1..3001 minus one value
    }
    REQUIRE(m.want(recs));
    for (const SockRecord& r : recs) REQUIRE(m.add(r.inode, static_cast<int32_t>(r.inode), 3));
    REQUIRE(m.finish());
    for (const SockRecord& r : recs) {
        auto h = m.holders_of(r.inode);
        REQUIRE(h.size() == 1);
        CHECK(h[0].pid == static_cast<int32_t>(r.inode));
    }
}

TEST_CASE("owner map: an inode that was never asked for is not recorded (and never written past the groups)",
          "[owner_map]") {
    OwnerMap m;
    REQUIRE(m.want(testutil::with_inodes({10, 20})));
    // Larger than every wanted inode, smaller, in between, and 0: a caller
    // that skipped wants() must not make finish() count past its array.
    for (uint32_t stray : {4294967295u, 5u, 15u, 0u}) REQUIRE(m.add(stray, 1, 9));
    REQUIRE(m.add(20, 2, 4));
    CHECK(m.holder_count() == 1);
    REQUIRE(m.finish());
    CHECK(holders(m, 20) == std::vector<std::pair<int32_t, int32_t>>{{2, 4}});
    CHECK(holders(m, 10).empty());
    for (uint32_t stray : {4294967295u, 5u, 15u, 0u}) CHECK(m.holders_of(stray).empty());
}
