// The errno table that stands in for strerror.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/errors.hpp"

using namespace tc;

TEST_CASE("errno names and texts come from one table", "[errors]") {
    struct Known {
        int err;
        const char* name;
    };
#define E(x) Known{x, #x}
    const Known all[] = {E(EPERM),        E(ENOENT),       E(ESRCH),         E(EINTR),           E(EIO),
                         E(ENXIO),        E(E2BIG),        E(EBADF),         E(ECHILD),          E(EAGAIN),
                         E(ENOMEM),       E(EACCES),       E(EBUSY),         E(EEXIST),          E(ENODEV),
                         E(ENOTDIR),      E(EISDIR),       E(EINVAL),        E(ENFILE),          E(EMFILE),
                         E(EFBIG),        E(ENOSPC),       E(EROFS),         E(EPIPE),           E(ENAMETOOLONG),
                         E(ENOSYS),       E(ELOOP),        E(EPROTO),        E(ENOTSOCK),        E(EMSGSIZE),
                         E(ENOPROTOOPT),  E(EPROTONOSUPPORT), E(ESOCKTNOSUPPORT), E(EOPNOTSUPP), E(EPFNOSUPPORT),
                         E(EAFNOSUPPORT), E(ENETDOWN),     E(ECONNABORTED),  E(ECONNRESET),      E(ENOBUFS),
                         E(ENOTCONN),     E(ETIMEDOUT),    E(ECONNREFUSED),  E(ESTALE),          E(EDQUOT)};
#undef E
    char scratch[16];
    for (const Known& k : all) {
        INFO(k.name);
        CHECK(std::string(errno_name(k.err, scratch)) == k.name);  // names and codes in step
        const std::string text = error_text(k.err);
        CHECK(text.size() > 3);
        CHECK(text.find("error ") != 0);  // from the table, not the fallback
        CHECK(text != k.name);
    }
    CHECK(std::string(error_text(EPERM)) == "Operation not permitted");
    CHECK(std::string(error_text(ECONNRESET)) == "Connection reset by peer");
    CHECK(std::string(error_text(4095)) == "error 4095");
    CHECK(std::string(errno_name(4095, scratch)) == "E4095");
    CHECK(std::string(error_text(0)) == "error 0");
}
