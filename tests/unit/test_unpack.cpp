#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/unpack.hpp"
#include "usage_text.hpp"

using tc::unpack;

namespace {

std::string run(std::vector<uint8_t> in, size_t cap = 64) {
    std::vector<char> out(cap);
    size_t n = unpack(in, out.data(), cap);
    return std::string(out.data(), n);
}

}  // namespace

TEST_CASE("the packed help text unpacks to src/core/usage.txt", "[unpack]") {
    std::ifstream f("src/core/usage.txt");
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string text = ss.str();
    REQUIRE(text.size() > 1000);
    CHECK(tc_usage() == text);
    // and it is packed: the build would not gain anything otherwise
    char small[100];
    CHECK(tc::usage_text(small, sizeof small) == 0);
}

TEST_CASE("unpack: literals and copies", "[unpack]") {
    CHECK(run({'a', 'b', 'c'}) == "abc");
    // copy 3 bytes from 3 back: "abc" + "abc"
    CHECK(run({'a', 'b', 'c', 0x80, 2}) == "abcabc");
    // an overlapping copy repeats: 18 bytes from 1 back
    CHECK(run({'x', 0x80 | 15 << 3, 0}) == std::string(19, 'x'));
    // the offset's high bits: 0x81 0x00 is 257 back
    std::vector<uint8_t> in(257, 'y');
    in[0] = 'z';
    in.push_back(0x81);
    in.push_back(0x00);
    std::string want(257, 'y');
    want[0] = 'z';
    want += "zyy";
    CHECK(run(in, 400) == want);
    CHECK(run({}) == "");
}

TEST_CASE("unpack: malformed input and small buffers give 0", "[unpack]") {
    CHECK(run({0x80, 0}) == "");              // a copy from before the start
    CHECK(run({'a', 'b', 0x80, 2}) == "");    // 3 back with 2 written
    CHECK(run({'a', 'b', 'c', 0x80}) == "");  // the pair cut
    CHECK(run({'a', 'b', 'c'}, 2) == "");     // literal past the end
    CHECK(run({'a', 'b', 'c', 0x80, 2}, 5) == "");  // copy past the end
    CHECK(run({'a', 'b', 'c', 0x80, 2}, 6) == "abcabc");
}
