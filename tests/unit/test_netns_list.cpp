// The namespaces an --all-netns poll visits, and --netns values as paths.
#include <catch2/catch.hpp>

#include <string>

#include "core/netns_list.hpp"

using namespace tc;

TEST_CASE("netns list: each namespace once, under its first name", "[netns]") {
    NetnsList l;
    REQUIRE(l.add(3, 100, "blue", "/var/run/netns/blue"));
    REQUIRE(l.add(3, 200, "pid:1", "/proc/1/ns/net"));
    REQUIRE(l.add(3, 100, "pid:42", "/proc/42/ns/net"));  // blue again, through a process
    REQUIRE(l.add(4, 100, "pid:43", "/proc/43/ns/net"));  // same inode, other device: another one
    REQUIRE(l.size() == 3);
    CHECK(std::string(l[0].name) == "blue");
    CHECK(std::string(l[0].path) == "/var/run/netns/blue");
    CHECK(std::string(l[1].name) == "pid:1");
    CHECK(std::string(l[2].name) == "pid:43");
    std::string long_name(200, 'x');
    REQUIRE(l.add(5, 1, long_name, "/p"));
    CHECK(std::string(l[3].name) == long_name.substr(0, 63));  // clamped, still named
    REQUIRE(l.add(6, 1, "n", std::string(100, '/')));        // a path too long to open: left out
    CHECK(l.size() == 4);
    l.clear();
    CHECK(l.size() == 0);

    char path[32];
    REQUIRE(netns_path("blue", path, sizeof path));
    CHECK(std::string(path) == "/var/run/netns/blue");
    REQUIRE(netns_path("/proc/42/ns/net", path, sizeof path));
    CHECK(std::string(path) == "/proc/42/ns/net");
    CHECK_FALSE(netns_path(std::string(40, 'a'), path, sizeof path));
}
