// /proc parsing: getdents64 records, pid and fd names, link targets, comm.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "proc/procfs.hpp"

using namespace tc;

namespace {

using Bytes = std::vector<uint8_t>;

// One linux_dirent64 record: ino 8, off 8, reclen 2, type 1, name, NUL,
// padded to 8 bytes as the kernel does.
void put_dirent(Bytes& b, const std::string& name, int reclen_override = -1) {
    size_t reclen = (19 + name.size() + 1 + 7) & ~size_t{7};
    size_t at = b.size();
    b.resize(at + reclen, 0);
    uint64_t ino = 1234;
    std::memcpy(&b[at], &ino, 8);
    uint16_t rl = static_cast<uint16_t>(reclen_override >= 0 ? reclen_override : static_cast<int>(reclen));
    std::memcpy(&b[at + 16], &rl, 2);
    b[at + 18] = 10;  // DT_LNK
    std::memcpy(&b[at + 19], name.data(), name.size());
}

std::vector<std::string> names(const Bytes& b, bool* malformed = nullptr) {
    DirentIter it(b);
    std::vector<std::string> out;
    std::string_view n;
    while (it.next(n)) out.emplace_back(n);
    if (malformed) *malformed = it.malformed();
    return out;
}

}  // namespace

TEST_CASE("dirents: golden layout and a walk over several records", "[procfs]") {
    Bytes b;
    put_dirent(b, ".");
    put_dirent(b, "..");
    put_dirent(b, "12345");
    put_dirent(b, "a-long-name-that-spans-padding");
    CHECK(b.size() == 24 + 24 + 32 + 56);  // 19 + name + NUL, rounded up to 8
    bool bad = true;
    CHECK(names(b, &bad) == std::vector<std::string>{".", "..", "12345", "a-long-name-that-spans-padding"});
    CHECK_FALSE(bad);
    CHECK(names(Bytes{}, &bad).empty());
    CHECK_FALSE(bad);
}

TEST_CASE("dirents: malformed records stop the walk, never read past the buffer", "[procfs]") {
    bool bad = false;
    SECTION("reclen past the buffer") {
        Bytes b;
        put_dirent(b, "1");
        put_dirent(b, "2", 200);
        CHECK(names(b, &bad) == std::vector<std::string>{"1"});
        CHECK(bad);
    }
    SECTION("reclen shorter than the header (0 would loop forever)") {
        for (int rl : {0, 1, 19}) {
            Bytes b;
            put_dirent(b, "1", rl);
            CHECK(names(b, &bad).empty());
            CHECK(bad);
        }
    }
    SECTION("no NUL inside the record") {
        Bytes b;
        put_dirent(b, "1234567", 24);  // 19 + 5 bytes of name, no NUL in reach
        b.resize(24);
        CHECK(names(b, &bad).empty());
        CHECK(bad);
    }
    SECTION("a truncated header after a good record") {
        Bytes b;
        put_dirent(b, "1");
        b.resize(b.size() + 10, 0);
        CHECK(names(b, &bad) == std::vector<std::string>{"1"});
        CHECK(bad);
    }
}

TEST_CASE("pid and fd names", "[procfs]") {
    int32_t v = -1;
    CHECK((parse_pid("1", v) && v == 1));
    CHECK((parse_pid("4194304", v) && v == 4194304));
    CHECK((parse_pid("2147483647", v) && v == 2147483647));
    for (const char* bad : {"", "0", "self", "thread-self", ".", "..", "-1", "+1", "01", "12a", "2147483648",
                            "99999999999999999999", " 1", "1 "}) {
        INFO(bad);
        CHECK_FALSE(parse_pid(bad, v));
    }
    CHECK((parse_fd_number("0", v) && v == 0));
    CHECK((parse_fd_number("19999", v) && v == 19999));
    CHECK_FALSE(parse_fd_number("00", v));
    CHECK_FALSE(parse_fd_number("x", v));
}

TEST_CASE("socket link targets", "[procfs]") {
    uint32_t ino = 0;
    CHECK((parse_socket_link("socket:[12345]", ino) && ino == 12345));
    CHECK((parse_socket_link("socket:[4294967295]", ino) && ino == 4294967295u));
    CHECK((parse_socket_link("socket:[1]", ino) && ino == 1));
    for (const char* bad : {"socket:[]", "socket:[99999999999999999999]", "socket:[4294967296]", "pipe:[1]",
                            "anon_inode:[eventfd]", "socket:[12", "socket:12]", "socket:[12]x", "socket:[1a]",
                            "Socket:[1]", "socket:[-1]", "socket:[012]", "/dev/null", "", "socket:["}) {
        INFO(bad);
        CHECK_FALSE(parse_socket_link(bad, ino));
    }
}

TEST_CASE("comm: newline dropped, clamped to 15, the bytes as they are", "[procfs]") {
    char out[16];
    auto comm = [&](const std::string& raw) {
        std::memset(out, 'Z', sizeof out);
        parse_comm(std::span<const char>(raw.data(), raw.size()), out);
        return std::string(out);
    };
    CHECK(comm("sshd\n") == "sshd");
    CHECK(comm("sshd") == "sshd");
    // --comm compares these bytes: a space stays a space (the log makes it
    // printable, report.hpp), so --comm 'my app' matches a process so named.
    CHECK(comm("my app\n") == "my app");
    CHECK(comm("a\tb\x7f\xff") == "a\tb\x7f\xff");
    CHECK(comm("0123456789abcdefghij\n") == "0123456789abcde");
    CHECK(comm("") == "");
    CHECK(comm("\n") == "");
}
