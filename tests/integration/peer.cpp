#include "peer.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "harness.hpp"

namespace it {

namespace {

void sh(const std::string& cmd) { REQUIRE(std::system(cmd.c_str()) == 0); }

}  // namespace

Peer::Peer(const std::string& link, const std::string& net) : link_(link), net_(net) {
    int ready[2];
    REQUIRE(pipe(ready) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
        if (unshare(CLONE_NEWNET) != 0) _exit(1);
        (void)!write(ready[1], "x", 1);
        while (true) pause();
    }
    char c;
    REQUIRE(read(ready[0], &c, 1) == 1);
    close(ready[0]);
    close(ready[1]);
    const std::string p = std::to_string(pid_);
    home_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    ns_ = open(("/proc/" + p + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(home_ >= 0);
    REQUIRE(ns_ >= 0);
    sh("ip link add " + link_ + "0 type veth peer name " + link_ + "1 netns " + p);
    sh("ip addr add " + net_ + ".1/24 dev " + link_ + "0 && ip link set " + link_ + "0 up");
    sh("nsenter -t " + p + " -n sh -c 'ip link set lo up && ip addr add " + net_ + ".2/24 dev " + link_ +
       "1 && ip link set " + link_ + "1 up'");
}

int Peer::listen_there(int port) {
    REQUIRE(setns(ns_, CLONE_NEWNET) == 0);
    const int l = listen_on(AF_INET, address().c_str(), port);
    REQUIRE(setns(home_, CLONE_NEWNET) == 0);
    return l;
}

void Peer::link_down() { sh("nsenter -t " + std::to_string(pid_) + " -n ip link set " + link_ + "1 down"); }

Peer::~Peer() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    close(ns_);
    close(home_);
    std::system(("ip link del " + link_ + "0 2>/dev/null").c_str());
}

}  // namespace it
