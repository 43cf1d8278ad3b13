// /proc/net/tcp{,6} and udp{,6} parsing: tables captured from the kernel in
// a private namespace (a loopback listener and connection, an IPv6 one, and
// IPv4 on a dual-stack listener; UDP: unconnected servers and connected
// clients of each kind), and malformed lines.
#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <string>
#include <vector>

#include "proc/procnet.hpp"

using namespace tc;

namespace {

const char kTcp[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     \n"
    "   0: 0100007F:1B59 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 37916287 1 00000000981d86e5 100 0 0 10 0                  \n"
    "   1: 0100007F:94F4 0100007F:1B59 01 00000000:00000000 00:00000000 00000000     0        0 37916289 2 00000000668be79c 20 0 0 10 -1                  \n"
    "   2: 0100007F:E10C 0100007F:1B5A 01 00000000:00000000 00:00000000 00000000     0        0 37916293 2 00000000a88fcddd 20 0 0 10 -1                  \n"
    "   3: 0100007F:1B59 0100007F:94F4 01 00000000:00000000 00:00000000 00000000     0        0 37916290 1 000000004f3035ed 20 0 0 10 -1                  \n";
const char kTcp6[] =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000000000000:1B5A 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 37916288 1 000000005d1120eb 100 0 0 10 0\n"
    "   1: 00000000000000000000000001000000:1B5A 00000000000000000000000001000000:AE40 01 00000000:00000000 00:00000000 00000000     0        0 37916292 1 0000000024f5f27b 20 0 0 10 -1\n"
    "   2: 0000000000000000FFFF00000100007F:1B5A 0000000000000000FFFF00000100007F:E10C 01 00000000:00000000 00:00000000 00000000     0        0 37916294 1 00000000dd2290c7 20 0 0 10 -1\n"
    "   3: 00000000000000000000000001000000:AE40 00000000000000000000000001000000:1B5A 01 00000000:00000000 00:00000000 00000000     0        0 37916291 2 00000000e64a4fae 20 0 0 10 -1\n";

// Captured (Linux 6.18) with a server on 127.0.0.1:5353 and a dual-stack
// one on [::]:5354, and clients connected from 127.0.0.1:40001 to the
// first, from [::1]:40002 and [::ffff:127.0.0.1]:40003 to the second.
const char kUdp[] =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            \n"
    "  854: 0100007F:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5746718 2 00000000764bd05f 0       \n"
    " 2734: 0100007F:9C41 0100007F:14E9 01 00000000:00000000 00:00000000 00000000     0        0 5746720 2 00000000eafb80d9 0       \n"
;
const char kUdp6[] =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
    "  855: 00000000000000000000000000000000:14EA 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5746719 2 00000000c7e17d5a 0\n"
    " 2735: 00000000000000000000000001000000:9C42 00000000000000000000000001000000:14EA 01 00000000:00000000 00:00000000 00000000     0        0 5746721 2 0000000053d0d17d 0\n"
    " 2736: 0000000000000000FFFF00000100007F:9C43 0000000000000000FFFF00000100007F:14EA 01 00000000:00000000 00:00000000 00000000     0        0 5746722 2 0000000078db789a 0\n"
;

std::vector<SockRecord> parse_table(const std::string& text, bool v6, size_t chunk, Proto p = Proto::Tcp) {
    std::vector<SockRecord> out;
    LineSplitter split;
    auto take = [&](std::string_view line) {
        SockRecord r;
        if (parse_procnet_line(line, v6, r, p)) out.push_back(r);
    };
    for (size_t at = 0; at < text.size(); at += chunk) {
        const size_t n = text.size() - at < chunk ? text.size() - at : chunk;
        split.feed({reinterpret_cast<const uint8_t*>(text.data() + at), n}, take);
    }
    split.finish(take);
    return out;
}

std::string addr(const SockRecord& r, bool local) {
    char buf[64];
    inet_ntop(r.family, local ? r.id.idiag_src : r.id.idiag_dst, buf, sizeof buf);
    return buf;
}

}  // namespace

TEST_CASE("procnet: a captured IPv4 table, whole and in chunks of every size", "[procnet]") {
    for (size_t chunk : {size_t{1}, size_t{7}, size_t{150}, size_t{4096}}) {
        INFO("chunk " << chunk);
        std::vector<SockRecord> t = parse_table(kTcp, false, chunk);
        REQUIRE(t.size() == 4);  // the header is no socket
        CHECK(t[0].state == 10);  // LISTEN
        CHECK(addr(t[0], true) == "127.0.0.1");
        CHECK(t[0].sport() == 7001);
        CHECK(t[0].dport() == 0);
        CHECK(t[1].state == 1);  // ESTABLISHED
        CHECK(t[1].sport() == 0x94F4);
        CHECK(t[1].dport() == 7001);
        CHECK(addr(t[1], false) == "127.0.0.1");
        CHECK(t[1].inode == 37916289);
        CHECK(t[1].uid == 0);
        CHECK(t[1].family == AF_INET);
        CHECK(t[1].cookie_is_wildcard());
        CHECK_FALSE(t[1].has_info);
        CHECK(t[3].sport() == 7001);
        CHECK(t[3].dport() == 0x94F4);
    }
}

TEST_CASE("procnet: a captured IPv6 table with native and v4-mapped connections", "[procnet]") {
    std::vector<SockRecord> t = parse_table(kTcp6, true, 64);
    REQUIRE(t.size() == 4);
    CHECK(addr(t[0], true) == "::");
    CHECK(t[0].state == 10);
    CHECK(addr(t[1], true) == "::1");
    CHECK(t[1].sport() == 7002);
    CHECK(t[1].family == AF_INET6);
    CHECK_FALSE(t[1].v4_mapped());
    CHECK(addr(t[2], true) == "::ffff:127.0.0.1");
    CHECK(t[2].v4_mapped());
    CHECK(t[2].dport() == 0xE10C);
    CHECK(t[2].inode == 37916294);
}

TEST_CASE("procnet: lines that are not exactly a socket are skipped, never guessed", "[procnet]") {
    const std::string good = "   1: 0100007F:94F4 0100007F:1B59 01 00000000:00000000 00:00000000 00000000  1000        0 "
                             "37916289 2 00000000668be79c 20 0 0 10 -1";
    SockRecord r;
    REQUIRE(parse_procnet_line(good, false, r));
    CHECK(r.uid == 1000);
    const std::vector<std::string> bad = {
        "",
        "  sl  local_address rem_address   st tx_queue",
        "   1: 0100007F:94F4",                                 // cut after the local address
        "   1: 0100007F:94F4 0100007F:1B59",                   // no state
        "   1: 0100007F:94F4 0100007F:1B59 01",                // nothing after the state
        "   1: 0100007G:94F4 0100007F:1B59 01 0:0 0:0 0 0 0 1",  // not hex
        "   1: 0100007F:94F 0100007F:1B59 01 0:0 0:0 0 0 0 1",   // short port
        "   1: 0100007F:94F4 0100007F:1B59 00 0:0 0:0 0 0 0 1",  // state 0
        "   1: 0100007F:94F4 0100007F:1B59 0D 0:0 0:0 0 0 0 1",  // state 13
        "   1: 0100007F:94F4 0100007F:1B59 01 0:0 0:0 0 x 0 1",  // uid not decimal
        "   1: 0100007F:94F4 0100007F:1B59 01 0:0 0:0 0 0 0 99999999999",  // inode past 32 bits
        "   1: 0100007F:94F4 0100007F:1B59 01 0:0 0:0 0 0 0",    // no inode
        "x  1: 0100007F:94F4 0100007F:1B59 01 0:0 0:0 0 0 0 1",
        "   1: 0100007F0:94F4 0100007F:1B59 01 0:0 0:0 0 0 0 1",  // 9 hex digits
    };
    for (const std::string& line : bad) {
        INFO("line: " << line);
        CHECK_FALSE(parse_procnet_line(line, false, r));
    }
    // An IPv4 line read as IPv6 (and the other way) does not parse.
    CHECK_FALSE(parse_procnet_line(good, true, r));
    std::string six = std::string(kTcp6).substr(std::string(kTcp6).find('\n') + 1);
    six = six.substr(0, six.find('\n'));
    CHECK(parse_procnet_line(six, true, r));
    CHECK_FALSE(parse_procnet_line(six, false, r));
}

TEST_CASE("procnet: a line longer than the carry buffer is dropped, the next one kept", "[procnet]") {
    const std::string line = "   1: 0100007F:94F4 0100007F:1B59 01 00000000:00000000 00:00000000 00000000     0        0 7 1";
    std::string text = line + "\n" + std::string(LineSplitter::kMaxLine + 10, 'x') + "\n" + line + "\n" + line;
    for (size_t chunk : {size_t{5}, size_t{100}}) {
        INFO("chunk " << chunk);
        std::vector<SockRecord> got = parse_table(text, false, chunk);
        CHECK(got.size() == 3);  // the last line has no newline, and counts
    }
    // Carried across chunks, the long line is dropped and counted; inside
    // one chunk it is handed over whole (a view, nothing copied) and fails
    // to parse like any other junk.
    for (size_t chunk : {size_t{5}, text.size()}) {
        LineSplitter split;
        size_t lines = 0;
        auto count_line = [&](std::string_view) { ++lines; };
        for (size_t at = 0; at < text.size(); at += chunk)
            split.feed({reinterpret_cast<const uint8_t*>(text.data() + at), std::min(chunk, text.size() - at)}, count_line);
        split.finish(count_line);
        INFO("chunk " << chunk);
        CHECK(lines == (chunk == 5 ? 3u : 4u));
        CHECK(split.dropped() == (chunk == 5 ? 1u : 0u));
    }
}

// Lines of 300 to 5,000 bytes (a long GECOS field in /etc/passwd, an
// overlay mount in mountinfo) read 4 KiB at a time, the text shifted so
// that every line is cut at every offset: each line is handed over whole or
// not at all, and every line that fits the carry buffer is handed over.
TEST_CASE("procnet: lines of any length split at every offset are whole or skipped", "[procnet]") {
    std::vector<std::string> lines;
    for (size_t len : {size_t{300}, size_t{1000}, size_t{4095}, size_t{4096}, size_t{4097}, size_t{5000}, size_t{20}}) {
        lines.push_back(std::string(len, static_cast<char>('a' + lines.size())));
        lines.push_back("short " + std::to_string(len));
    }
    constexpr size_t kRead = 4096;
    for (size_t shift = 0; shift < kRead; ++shift) {
        std::string text = std::string(shift, '#') + "\n";
        for (const std::string& l : lines) text += l + "\n";
        LineSplitter split;
        std::vector<std::string> got;
        auto take = [&](std::string_view line) { got.emplace_back(line); };
        for (size_t at = 0; at < text.size(); at += kRead)
            split.feed({reinterpret_cast<const uint8_t*>(text.data() + at), std::min(kRead, text.size() - at)}, take);
        split.finish(take);
        std::vector<std::string> want;
        if (shift <= LineSplitter::kMaxLine) want.push_back(std::string(shift, '#'));
        size_t carried_long = 0;
        for (const std::string& l : lines) want.push_back(l);
        // A line longer than the buffer is kept only when one read holds it
        // whole; otherwise it is the one thing dropped.
        for (const std::string& w : want) {
            const bool found = std::find(got.begin(), got.end(), w) != got.end();
            if (w.size() <= LineSplitter::kMaxLine) {
                INFO("shift " << shift << ", a line of " << w.size() << " bytes");
                CHECK(found);
            } else if (!found) {
                ++carried_long;
            }
        }
        INFO("shift " << shift);
        // Nothing but whole lines, in order.
        size_t at = 0;
        for (const std::string& g : got) {
            while (at < want.size() && want[at] != g) ++at;
            CHECK(at < want.size());
        }
        CHECK(split.dropped() == carried_long);
    }
}

TEST_CASE("procnet: captured UDP tables: connected sockets are state 1, servers 7", "[procnet][udp]") {
    for (size_t chunk : {size_t{1}, size_t{13}, size_t{4096}}) {
        INFO("chunk " << chunk);
        std::vector<SockRecord> t = parse_table(kUdp, false, chunk, Proto::Udp);
        REQUIRE(t.size() == 2);
        CHECK(t[0].udp);
        CHECK(t[0].proto() == Proto::Udp);
        CHECK(t[0].state == 7);  // the unconnected server
        CHECK(t[0].sport() == 5353);
        CHECK(t[0].dport() == 0);
        CHECK(t[1].state == 1);  // the connected client
        CHECK(t[1].sport() == 40001);
        CHECK(t[1].dport() == 5353);
        CHECK(addr(t[1], false) == "127.0.0.1");
        CHECK(t[1].inode == 5746720);
        CHECK(t[1].cookie_is_wildcard());

        std::vector<SockRecord> t6 = parse_table(kUdp6, true, chunk, Proto::Udp);
        REQUIRE(t6.size() == 3);
        CHECK(t6[0].state == 7);
        CHECK(t6[0].sport() == 5354);
        CHECK(t6[1].state == 1);
        CHECK(addr(t6[1], true) == "::1");
        CHECK(t6[1].sport() == 40002);
        CHECK_FALSE(t6[1].v4_mapped());
        CHECK(t6[2].state == 1);
        CHECK(t6[2].v4_mapped());
        CHECK(addr(t6[2], false) == "::ffff:127.0.0.1");
        CHECK(t6[2].dport() == 5354);
    }
    // The same lines read as TCP are TCP records: the caller says which table it reads.
    CHECK_FALSE(parse_table(kUdp, false, 4096)[1].udp);
}
