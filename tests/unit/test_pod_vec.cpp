// PodVec and the page allocator behind it.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>

#include "core/pod_vec.hpp"

using namespace tc;

TEST_CASE("mem_resize: grows keeping contents, shrinks, frees", "[pod_vec]") {
    auto* p = static_cast<uint8_t*>(mem_resize(nullptr, 0, 100));
    REQUIRE(p);
    std::memset(p, 0xab, 100);
    p = static_cast<uint8_t*>(mem_resize(p, 100, 1 << 20));  // past many pages: may move
    REQUIRE(p);
    for (int i = 0; i < 100; ++i) REQUIRE(p[i] == 0xab);
    p[(1 << 20) - 1] = 7;  // the whole new size is usable
    p = static_cast<uint8_t*>(mem_resize(p, 1 << 20, 10));
    REQUIRE(p);
    CHECK(p[9] == 0xab);
    mem_free(p, 10);
    CHECK(mem_resize(nullptr, 0, SIZE_MAX) == nullptr);  // too large: refused, not wrapped

    PodVec<uint32_t> v;
    for (uint32_t i = 0; i < 100000; ++i) REQUIRE(v.push_back(i));
    CHECK(v.size() == 100000);
    for (uint32_t i = 0; i < 100000; i += 997) CHECK(v[i] == i);
    REQUIRE(v.resize(5));
    CHECK(v[4] == 4);
}
