// What must work before anything is ended: the --metrics file can be
// created where it will be, the -f log can be written, every --pid is a
// process. A one-shot run whose log lines or metrics were lost exits 1.
// Full and read-only file systems are small tmpfs mounts in a mount
// namespace of the tool's own (harness.hpp).
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "checks.hpp"
#include "harness.hpp"

namespace {

constexpr const char* kNoSyslog = "--disable_syslog";

// The one message line a refused start-up prints (exit 1, nothing on stdout).
void check_refused(const it::RunResult& r, const std::string& says) {
    INFO("stderr: " << r.err);
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find("tcp_closer: ") == 0);
    CHECK(r.err.find(says) != std::string::npos);
}

}  // namespace

TEST_CASE("paths that cannot be written are refused before anything is ended", "[paths]") {
    const int port = 7831;
    int l = it::listen_on(AF_INET, "127.0.0.1", port);
    auto conns = it::connect_n(2, l, AF_INET, "127.0.0.1", port);
    it::TmpDir d("paths");
    const std::vector<std::string> sel{"-s", std::to_string(port), kNoSyslog};
    auto with = [&](std::vector<std::string> more) {
        more.insert(more.begin(), sel.begin(), sel.end());
        return more;
    };
    struct Case {
        std::vector<std::string> args;
        std::string says;
    };
    const std::vector<Case> cases = {
        {{"--metrics", d.path}, "the metrics file is a directory '" + d.path + "': Is a directory"},
        // /proc/version exists: what fails is the temporary file beside it.
        {{"--metrics", "/proc/version"},
         "cannot create a temporary file beside the metrics file '/proc/version': No such file or directory"},
        {{"--metrics", d / "missing/m.prom"}, "beside the metrics file '" + d / "missing/m.prom" + "': No such file"},
        {{"-f", "/proc/version"}, "cannot write log file '/proc/version': I/O error"},
        {{"-f", "/dev/full"}, "cannot write log file '/dev/full': No space left on device"},
        {{"-n", "--metrics", d.path}, "the metrics file is a directory"},  // a dry run too
    };
    for (const Case& c : cases) {
        check_refused(it::run_tool(with(c.args)), c.says);
        it::expect(conns, "alive", "alive");
    }
    // A special file at the path would be replaced by a plain one (--metrics
    // /dev/null once replaced the device): refused, and left as it was.
    REQUIRE(mknod((d / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    REQUIRE(mkfifo((d / "fifo").c_str(), 0600) == 0);
    for (const char* name : {"null", "fifo"}) {
        check_refused(it::run_tool(with({"--metrics", d / name})),
                      "the metrics file is not a regular file, and replacing it would remove it '" + d / name + "'");
        struct stat st {};
        REQUIRE(lstat((d / name).c_str(), &st) == 0);
        CHECK((S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)));
    }
    // A read-only and a full file system, each in the tool's own mount namespace.
    check_refused(it::run_tool_on_tmpfs(d.path, true, false, with({"--metrics", d / "m.prom"})),
                  "beside the metrics file '" + d / "m.prom" + "': Read-only file system");
    check_refused(it::run_tool_on_tmpfs(d.path, false, true, with({"--metrics", d / "m.prom"})),
                  "cannot write beside the metrics file '" + d / "m.prom" + "': No space left on device");
    check_refused(it::run_tool_on_tmpfs(d.path, true, false, with({"-f", d / "log"})),
                  "cannot open log file '" + d / "log" + "': Read-only file system");
    it::expect(conns, "alive", "alive");
    it::close_all(conns);
    close(l);
}

TEST_CASE("a one-shot run whose log lines were lost exits 1 and says so", "[paths]") {
    const int port = 7832;
    int l = it::listen_on(AF_INET, "127.0.0.1", port);
    auto conns = it::connect_n(2, l, AF_INET, "127.0.0.1", port);
    it::TmpDir d("paths");
    // The log file opens on a full file system; its first line is lost.
    it::RunResult r = it::run_tool_on_tmpfs(d.path, false, true, {"-s", std::to_string(port), kNoSyslog, "-f", d / "log"});
    INFO("stderr: " << r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find("tcp_closer: log lines were lost, writing '" + d / "log" + "': No space left on device") !=
          std::string::npos);
    it::expect(conns, it::killed(), "reset");  // the run itself went on
    it::close_all(conns);
    close(l);
}

TEST_CASE("--pid of no process is refused before anything is ended", "[paths][owner]") {
    const int port = 7833;
    int l = it::listen_on(AF_INET, "127.0.0.1", port);
    auto conns = it::connect_n(1, l, AF_INET, "127.0.0.1", port);
    // A process that was and is no more: its pid names nothing now.
    const pid_t gone = fork();
    if (gone == 0) _exit(0);
    REQUIRE(gone > 0);
    REQUIRE(waitpid(gone, nullptr, 0) == gone);
    const std::string pid = std::to_string(gone);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"--pid", pid, kNoSyslog}, {"--pid", std::to_string(getpid()), "--pid", pid, kNoSyslog},
          {"-n", "-s", std::to_string(port), "--pid", pid, kNoSyslog}})
        check_refused(it::run_tool(args), "no process '" + pid + "': No such process");
    it::expect(conns, "alive", "alive");
    // --uid root --exclude-uid 0 selects nothing either, once the name is a number.
    it::RunResult r = it::run_tool({"--uid", "root", "--exclude-uid", "0", kNoSyslog});
    INFO("stderr: " << r.err);
    CHECK(r.status == 2);
    CHECK(r.err == "tcp_closer: --exclude-uid excludes every user of --uid: nothing can match\n");
    it::expect(conns, "alive", "alive");
    it::close_all(conns);
    close(l);
}
