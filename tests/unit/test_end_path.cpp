// The path decision: SOCK_DESTROY or /proc, from the probe alone.
#include <catch2/catch.hpp>

#include <string>

#include "engine/end_path.hpp"
#include "fake_transport.hpp"

using namespace tc;
using testutil::FakeTransport;

TEST_CASE("path decision: only the probe says the kernel lacks SOCK_DESTROY", "[end_path]") {
    struct Case {
        int answer;
        EndPath path;
        const char* reason_has;
    };
    const Case cases[] = {
        {ENOENT, EndPath::SockDestroy, nullptr},
        {ESTALE, EndPath::SockDestroy, nullptr},
        {EOPNOTSUPP, EndPath::Proc, "CONFIG_INET_DIAG_DESTROY"},
        {EINVAL, EndPath::Proc, "older than 4.5"},
        {EACCES, EndPath::Proc, "refused"},
    };
    for (const Case& c : cases) {
        INFO("probe answer " << c.answer);
        FakeTransport t;
        t.destroy_rule = [&](const inet_diag_req_v2&) { return c.answer; };
        Result<PathChoice> choice = probe_path(t);
        REQUIRE(choice.ok());
        CHECK(choice->path == c.path);
        CHECK(choice->probe_err == c.answer);
        if (c.reason_has) {
            REQUIRE(choice->reason);
            CHECK(std::string(choice->reason).find(c.reason_has) != std::string::npos);
        } else {
            CHECK(choice->reason == nullptr);
        }
        CHECK(t.sent.size() == 1);
    }
}

TEST_CASE("path decision: a broken transport is an error, not a path", "[end_path]") {
    FakeTransport broken;
    broken.send_error = ECONNREFUSED;
    Result<PathChoice> err = probe_path(broken);
    REQUIRE_FALSE(err.ok());
    CHECK(err.error().code == ECONNREFUSED);

    FakeTransport silent;  // accepts the probe, never answers
    silent.destroy_rule = nullptr;
    Result<PathChoice> none = probe_path(silent);
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().code == ETIMEDOUT);  // the kernel stopped answering
}
