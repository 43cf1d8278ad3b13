// The log writer: what it says when its output fails and works again.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "app/logger.hpp"

using namespace tc;

namespace {

std::string slurp(int fd) {
    std::string s;
    char buf[4096];
    lseek(fd, 0, SEEK_SET);
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) s.append(buf, static_cast<size_t>(n));
    return s;
}

}  // namespace

TEST_CASE("logger: a log that fails and works again says how many lines were lost", "[logger]") {
    // The log's descriptor is first /dev/full (every write fails: ENOSPC),
    // then a file; the logger keeps writing to the same number.
    std::FILE* file = std::tmpfile();
    REQUIRE(file);
    const int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
    REQUIRE(full >= 0);
    const int log_fd = dup(full);
    REQUIRE(log_fd >= 0);
    LogConfig cfg;
    cfg.fd = log_fd;
    cfg.syslog = false;
    {
        Logger log(cfg);
        // Two polls' worth while the log is broken: 5 lines in two writes.
        for (int i = 0; i < 3; ++i) log.line("lost line");
        log.flush();
        for (int i = 0; i < 2; ++i) log.line("lost line");
        log.flush();
        REQUIRE(dup2(fileno(file), log_fd) == log_fd);
        log.line("kept line");
        log.flush();
        log.flush();  // the note is written by the next flush at the latest
    }
    const std::string text = slurp(fileno(file));
    INFO(text);
    CHECK(text.find("lost line") == std::string::npos);
    CHECK(text.find("kept line") != std::string::npos);
    CHECK(text.find("log output works again; 5 line(s) were lost") != std::string::npos);
    close(log_fd);
    close(full);
    std::fclose(file);
}
