#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "fake_transport.hpp"
#include "wire/netlink.hpp"

using namespace tc;

using testutil::append_msg;

namespace {

// A message whose length field may lie (len_override).
void put_msg(std::vector<uint8_t>& buf, uint16_t type, uint32_t seq, std::vector<uint8_t> payload,
             uint32_t len_override = 0) {
    size_t at = buf.size();
    append_msg(buf, type, seq, payload);
    if (len_override) std::memcpy(buf.data() + at, &len_override, sizeof len_override);
}

// Walks every message; returns how many whole messages were seen and
// whether the walk stopped on a malformed one.
std::pair<size_t, bool> walk(const std::vector<uint8_t>& buf) {
    NlMsgIter it(buf);
    NlMsg m;
    size_t n = 0;
    while (it.next(m)) ++n;
    return {n, it.malformed()};
}

}  // namespace

TEST_CASE("ByteWriter never writes past its buffer and stays failed", "[netlink]") {
    std::array<uint8_t, 8> buf{};
    ByteWriter w(buf);
    const uint8_t five[5] = {1, 2, 3, 4, 5};
    CHECK(w.put(five, 5));
    CHECK(w.pad4());
    CHECK(w.size() == 8);
    CHECK_FALSE(w.put(five, 1));
    CHECK_FALSE(w.ok());
    CHECK_FALSE(w.put_zeros(0));  // sticky
    CHECK(w.size() == 8);
    ByteWriter w2(buf);
    CHECK(w2.put(five, 4));
    CHECK_FALSE(w2.patch(2, five, 3));  // patch beyond what was written
}

TEST_CASE("message iterator walks well-formed datagrams", "[netlink]") {
    std::vector<uint8_t> buf;
    put_msg(buf, 20, 1, {1, 2, 3});  // padded to 4
    put_msg(buf, NLMSG_DONE, 1, {0, 0, 0, 0});
    NlMsgIter it(buf);
    NlMsg m;
    REQUIRE(it.next(m));
    CHECK(m.type == 20);
    CHECK(m.payload.size() == 3);
    CHECK(m.payload[2] == 3);
    REQUIRE(it.next(m));
    CHECK(m.type == NLMSG_DONE);
    CHECK_FALSE(it.next(m));
    CHECK_FALSE(it.malformed());
}

TEST_CASE("message iterator stops cleanly on malformed input", "[netlink]") {
    SECTION("truncated header") {
        std::vector<uint8_t> buf;
        put_msg(buf, 20, 1, {});
        buf.resize(buf.size() + 10, 0);  // 10 stray bytes: not a header
        CHECK(walk(buf) == std::make_pair(size_t{1}, true));
    }
    SECTION("length larger than the buffer") {
        std::vector<uint8_t> buf;
        put_msg(buf, 20, 1, {1, 2, 3, 4}, 4096);
        CHECK(walk(buf) == std::make_pair(size_t{0}, true));
    }
    SECTION("length smaller than a header") {
        std::vector<uint8_t> buf;
        put_msg(buf, 20, 1, {1, 2, 3, 4}, 8);
        CHECK(walk(buf) == std::make_pair(size_t{0}, true));
    }
    SECTION("every truncation of a valid datagram") {
        std::vector<uint8_t> buf;
        put_msg(buf, 20, 1, {9, 9, 9, 9, 9, 9, 9, 9});
        put_msg(buf, 20, 2, {8, 8, 8, 8});
        for (size_t cut = 0; cut < buf.size(); ++cut) {
            std::vector<uint8_t> part(buf.begin(), buf.begin() + static_cast<long>(cut));
            NlMsgIter it(part);
            NlMsg m;
            size_t n = 0, bytes = 0;
            while (it.next(m)) {
                ++n;
                bytes += m.payload.size();
            }
            CHECK(n <= 2);
            CHECK(bytes <= part.size());
            if (cut != 0 && cut != 24) CHECK(it.malformed());
        }
    }
}

TEST_CASE("attribute iterator checks every length", "[netlink]") {
    // | len=6 type=2 | 2 data bytes + 2 pad | len=4 type=0x8003 (nested flag) |
    std::vector<uint8_t> buf = {6, 0, 2, 0, 0xaa, 0xbb, 0, 0, 4, 0, 3, 0x80};
    NlAttrIter it(buf);
    NlAttr a;
    REQUIRE(it.next(a));
    CHECK(a.type == 2);
    REQUIRE(a.data.size() == 2);
    CHECK(a.data[1] == 0xbb);
    REQUIRE(it.next(a));
    CHECK(a.type == 3);
    CHECK(a.data.empty());
    CHECK_FALSE(it.next(a));
    CHECK_FALSE(it.malformed());

    std::vector<uint8_t> too_long = {200, 0, 2, 0, 1, 2, 3, 4};
    NlAttrIter bad(too_long);
    CHECK_FALSE(bad.next(a));
    CHECK(bad.malformed());
    std::vector<uint8_t> too_short = {3, 0, 2, 0};
    NlAttrIter bad2(too_short);
    CHECK_FALSE(bad2.next(a));
    CHECK(bad2.malformed());
    std::vector<uint8_t> stub = {4, 0};
    NlAttrIter bad3(stub);
    CHECK_FALSE(bad3.next(a));
    CHECK(bad3.malformed());
}

TEST_CASE("errno from NLMSG_ERROR / NLMSG_DONE payloads", "[netlink]") {
    int err = -1;
    const int32_t minus_enoent = -ENOENT;
    CHECK(nl_payload_errno({reinterpret_cast<const uint8_t*>(&minus_enoent), 4}, err));
    CHECK(err == ENOENT);
    const int32_t zero = 0;
    CHECK(nl_payload_errno({reinterpret_cast<const uint8_t*>(&zero), 4}, err));
    CHECK(err == 0);
    const int32_t weird = INT32_MIN;
    CHECK(nl_payload_errno({reinterpret_cast<const uint8_t*>(&weird), 4}, err));
    CHECK(err == EPROTO);
    CHECK_FALSE(nl_payload_errno({reinterpret_cast<const uint8_t*>(&zero), 3}, err));
}
