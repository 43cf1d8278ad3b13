// Tables packed at compile time: heads, texts, and the walk from entry to entry.
#include <catch2/catch.hpp>

#include <string>

#include "core/packed.hpp"

namespace {
struct Item {
    char a, b;
    const char* text;
};
constexpr Item kList[] = {{'x', 1, "first"}, {0, 0, ""}, {'z', 3, "third one"}};
constexpr size_t kSize = tc::packed_size<2>(kList, &Item::text);
constexpr auto kPacked =
    tc::pack<kSize, 2>(kList, &Item::text, [](const Item& i) { return std::array<char, 2>{i.a, i.b}; });
}  // namespace

TEST_CASE("packed tables: each entry's head, then its text and a NUL", "[packed]") {
    STATIC_REQUIRE(kSize == (2 + 5 + 1) + (2 + 0 + 1) + (2 + 9 + 1) + 1);  // and a final NUL
    const char* e = kPacked.data();
    CHECK(e[0] == 'x');
    CHECK(e[1] == 1);
    CHECK(tc::packed_text(e, 2) == "first");
    e = tc::packed_next(e, 2);
    CHECK(e[0] == 0);  // a zero head byte is data, not an end
    CHECK(tc::packed_text(e, 2).empty());
    e = tc::packed_next(e, 2);
    CHECK(e[0] == 'z');
    CHECK(e[1] == 3);
    CHECK(tc::packed_text(e, 2) == "third one");
    CHECK(tc::packed_next(e, 2) == tc::packed_end(kPacked));
    CHECK(*tc::packed_end(kPacked) == 0);
    CHECK(tc::packed_end(kPacked) == kPacked.data() + kPacked.size() - 1);
}
