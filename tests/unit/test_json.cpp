// The JSON report: escaping, and objects that a strict parser accepts with
// the values we put in.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <string>

#include "helpers.hpp"
#include "json_check.hpp"
#include "report/json.hpp"

using namespace tc;

TEST_CASE("json_escape: quotes, backslashes and control characters", "[json]") {
    char out[64];
    json_escape(out, sizeof out, "plain");
    CHECK(std::string(out) == "plain");
    json_escape(out, sizeof out, "a\"b\\c\nd\te\x01");
    CHECK(std::string(out) == "a\\\"b\\\\c\\u000ad\\u0009e\\u0001");
    char tiny[6];
    json_escape(tiny, sizeof tiny, "ab\"cd");  // never cut inside an escape
    CHECK(std::string(tiny) == "ab\\\"c");
    char tiny2[4];
    json_escape(tiny2, sizeof tiny2, "ab\"");
    CHECK(std::string(tiny2) == "ab");
    // Every escaped string parses back to the original.
    for (int c = 1; c < 256; ++c) {
        char in[3] = {'x', static_cast<char>(c), 0};
        json_escape(out, sizeof out, in);
        std::string doc = std::string("{\"k\":\"") + out + "\"}";
        INFO("byte " << c << ": " << doc);
        testutil::JsonObject obj;
        REQUIRE(testutil::parse_json_object(doc, obj));
        CHECK(obj["k"] == std::string(in));
    }
}

TEST_CASE("json: a connection object", "[json]") {
    SockRecord r = testutil::rec("::ffff:127.0.0.1", 7000, "::ffff:127.0.0.1", 41094);
    r.uid = 1000;
    r.inode = 555;
    r.state = 8;
    r.id.idiag_cookie[0] = 0xffffffffu;
    r.id.idiag_cookie[1] = 0x7fffffffu;
    EndResult k;
    k.outcome = Outcome::Ended;
    k.method = Method::Reset;
    k.pid = 42;
    std::memcpy(k.comm, "my\"app", 7);
    char buf[kJsonMax];
    size_t n = format_json_result(buf, sizeof buf, r, k);
    CHECK(n == std::strlen(buf));
    testutil::JsonObject o;
    INFO(buf);
    REQUIRE(testutil::parse_json_object(buf, o));
    CHECK(o["type"] == "connection");
    CHECK(o["outcome"] == "destroyed");
    CHECK(o["by"] == "reset");
    CHECK(o["pid"] == "42");
    CHECK(o["comm"] == "my\"app");
    std::memcpy(k.comm, "my app\xff", 8);  // the name as it is, kept valid UTF-8
    REQUIRE(testutil::parse_json_object(std::string(buf, format_json_result(buf, sizeof buf, r, k)), o));
    CHECK(o["comm"] == "my app?");
    std::memcpy(k.comm, "my\"app", 7);
    REQUIRE(testutil::parse_json_object(std::string(buf, format_json_result(buf, sizeof buf, r, k)), o));
    CHECK(o["family"] == "ipv6");
    CHECK(o["state"] == "close-wait");
    CHECK(o["src"] == "::ffff:127.0.0.1");
    CHECK(o["sport"] == "7000");
    CHECK(o["dport"] == "41094");
    CHECK(o["uid"] == "1000");
    CHECK(o["inode"] == "555");
    CHECK(o["cookie"] == std::to_string((0x7fffffffull << 32) | 0xffffffffull));
    CHECK(o["last_recv_ms"] == "null");
    CHECK(o.count("error") == 0);

    SockRecord v4 = testutil::rec("10.0.0.1", 22, "10.0.0.2", 5);
    v4.has_info = true;
    v4.last_data_recv_ms = 61000;
    EndResult failed;
    failed.err = EPERM;
    failed.note = Note::NeverKilled;
    format_json_result(buf, sizeof buf, v4, failed);
    testutil::JsonObject f;
    REQUIRE(testutil::parse_json_object(buf, f));
    CHECK(f["outcome"] == "failed");
    CHECK(f["family"] == "ipv4");
    CHECK(f["src"] == "10.0.0.1");
    CHECK(f["last_recv_ms"] == "61000");
    CHECK(f["error"] == "EPERM");
    CHECK(f["message"] == tc::error_text(EPERM));
    CHECK(f["note"] == note_text(Note::NeverKilled));
    CHECK(f.count("by") == 0);
    char scratch[16];
    CHECK(std::string(errno_name(4095, scratch)) == "E4095");
}

TEST_CASE("json: the owner values that matched", "[json][owner]") {
    SockRecord r = testutil::rec("127.0.0.1", 22, "127.0.0.1", 5);
    r.id.idiag_if = 1;
    r.owner_ix = 1 << 4 | 1;
    OwnerSel o;
    o.n_mark = 1;
    o.mark[0] = {0xa, 0xff};
    o.n_cgroup = 1;
    o.cgroup_path[0] = "/sys\"x";
    o.n_dev = 1;
    o.dev_name[0] = "lo";
    o.ifindex[0] = 1;
    EndResult k;
    k.outcome = Outcome::WouldEnd;
    char buf[kJsonMax];
    format_json_result(buf, sizeof buf, r, k, nullptr, &o);
    testutil::JsonObject j;
    INFO(buf);
    REQUIRE(testutil::parse_json_object(buf, j));
    CHECK(j["mark"] == "0xa/0xff");
    CHECK(j["cgroup"] == "/sys\"x");
    CHECK(j["dev"] == "lo");
    format_json_result(buf, sizeof buf, r, k);
    testutil::JsonObject plain;
    REQUIRE(testutil::parse_json_object(buf, plain));
    CHECK(plain.count("mark") == 0);
    CHECK(plain.count("cgroup") == 0);
    CHECK(plain.count("dev") == 0);
}

TEST_CASE("json: summary objects", "[json]") {
    PollStats s;
    s.matched = 20;
    s.ended = 5;
    s.sock_destroy = 5;
    s.skipped = 15;
    char buf[kJsonMax];
    format_json_summary(buf, sizeof buf, s, false);
    testutil::JsonObject o;
    INFO(buf);
    REQUIRE(testutil::parse_json_object(buf, o));
    CHECK(o["type"] == "summary");
    CHECK(o["dry_run"] == "false");
    CHECK(o["matched"] == "20");
    CHECK(o["destroyed"] == "5");
    CHECK(o["skipped"] == "15");
    CHECK(o["failed"] == "0");
    PollStats d;
    d.matched = 3;
    d.would_end = 3;
    format_json_summary(buf, sizeof buf, d, true);
    testutil::JsonObject od;
    REQUIRE(testutil::parse_json_object(buf, od));
    CHECK(od["dry_run"] == "true");
    CHECK(od["would_destroy"] == "3");
    CHECK(od.count("destroyed") == 0);
}

TEST_CASE("json: the protocol of each connection, and per-protocol counts with --tcp -u", "[json][udp]") {
    SockRecord r = testutil::rec("127.0.0.1", 40001, "127.0.0.1", 53);
    EndResult k;
    k.outcome = Outcome::Ended;
    k.method = Method::SockDestroy;
    char buf[kJsonMax];
    format_json_result(buf, sizeof buf, r, k);
    testutil::JsonObject tcp;
    REQUIRE(testutil::parse_json_object(buf, tcp));
    CHECK(tcp["protocol"] == "tcp");
    r.udp = true;
    k.outcome = Outcome::WouldEnd;
    format_json_result(buf, sizeof buf, r, k);
    testutil::JsonObject udp;
    INFO(buf);
    REQUIRE(testutil::parse_json_object(buf, udp));
    CHECK(udp["protocol"] == "udp");
    CHECK(udp["state"] == "established");
    CHECK(udp["last_recv_ms"] == "null");

    PollStats s;
    s.matched = 5;
    s.ended = 4;
    s.failed = 1;
    s.by_proto[0] = {2, 2, 0};
    s.by_proto[1] = {3, 2, 1};
    format_json_summary(buf, sizeof buf, s, false);
    CHECK(std::string(buf).find("\"udp\"") == std::string::npos);  // one protocol: no split
    format_json_summary(buf, sizeof buf, s, false, nullptr, true);
    CHECK(std::string(buf).find(",\"tcp\":{\"matched\":2,\"destroyed\":2,\"failed\":0},"
                                "\"udp\":{\"matched\":3,\"destroyed\":2,\"failed\":1}}") != std::string::npos);
    format_json_summary(buf, sizeof buf, s, true, "blue", true);
    CHECK(std::string(buf).find(",\"udp\":{\"matched\":3,\"would_destroy\":2,\"failed\":1}}") != std::string::npos);
    CHECK(std::string(buf).find("\"netns\":\"blue\"") != std::string::npos);
}

TEST_CASE("json: the figures --stalled and --send_idle judged, null where unknown", "[json][stalled]") {
    SockRecord r = testutil::rec("127.0.0.1", 40000, "10.0.0.9", 443);
    r.has_info = true;
    r.unacked = 3;
    r.last_ack_recv_ms = 30500;
    r.figures = SockRecord::kFigureUnacked | SockRecord::kFigureAckRecv;
    EndResult k;
    k.outcome = Outcome::Ended;
    k.method = Method::SockDestroy;
    char buf[1024];
    std::map<std::string, std::string> o;
    const uint8_t all = SockRecord::kFigureUnacked | SockRecord::kFigureAckRecv | SockRecord::kFigureSent;
    REQUIRE(testutil::parse_json_object(
        std::string(buf, format_json_result(buf, sizeof buf, r, k, nullptr, nullptr, nullptr, all)), o));
    CHECK(o["unacked"] == "3");
    CHECK(o["last_ack_ms"] == "30500");
    CHECK(o["last_send_ms"] == "null");
    o.clear();
    REQUIRE(testutil::parse_json_object(std::string(buf, format_json_result(buf, sizeof buf, r, k)), o));
    CHECK(o.count("unacked") == 0);
}

TEST_CASE("json: an armed connection, and the summary's armed and kept", "[json][arm]") {
    SockRecord r = testutil::rec("127.0.0.1", 40000, "10.0.0.9", 5432);
    ArmSpec spec;
    spec.user_timeout_ms = 2000;
    spec.keep_idle_s = 60;
    spec.keep_intvl_s = 10;
    spec.keep_count = 3;
    EndResult k;
    k.outcome = Outcome::Armed;
    k.method = Method::Dup;
    k.arm = kArmKeepalive | kArmUserTimeout << 4;
    char buf[kJsonMax];
    format_json_result(buf, sizeof buf, r, k, nullptr, nullptr, nullptr, 0, "db", &spec);
    INFO(buf);
    std::string text = buf;
    const size_t at = text.find(",\"keepalive_s\":[60,10,3]");
    REQUIRE(at != std::string::npos);
    text.erase(at, std::strlen(",\"keepalive_s\":[60,10,3]"));  // the test's parser takes no arrays
    testutil::JsonObject o;
    REQUIRE(testutil::parse_json_object(text, o));
    CHECK(o["outcome"] == "armed");
    CHECK(o["by"] == "pidfd_getfd");
    CHECK(o["kept"] == "user_timeout");
    CHECK(o.count("user_timeout_ms") == 0);
    k.arm = kArmUserTimeout;
    format_json_result(buf, sizeof buf, r, k, nullptr, nullptr, nullptr, 0, "db", &spec);
    testutil::JsonObject o2;
    REQUIRE(testutil::parse_json_object(buf, o2));
    CHECK(o2["user_timeout_ms"] == "2000");
    CHECK(o2.count("kept") == 0);
    CHECK(o2.count("keepalive_s") == 0);
    PollStats s;
    s.arming = true;
    s.armed = 4;
    s.kept = 1;
    format_json_summary(buf, sizeof buf, s, false);
    testutil::JsonObject os;
    REQUIRE(testutil::parse_json_object(buf, os));
    CHECK(os["armed"] == "4");
    CHECK(os["kept"] == "1");
    s.arming = false;
    format_json_summary(buf, sizeof buf, s, false);
    testutil::JsonObject on;
    REQUIRE(testutil::parse_json_object(buf, on));
    CHECK(on.count("armed") == 0);
}
