// A dead peer on demand: a second network namespace, held by a child that
// only waits, joined to the suite's by a veth pair whose far end can be
// taken down (the peer then vanishes without a word).
#pragma once

#include <sys/types.h>

#include <string>

namespace it {

class Peer {
public:
    // veth LINK0 (NET.1, ours) and LINK1 (NET.2, the peer's): ("tcs", "10.77.0").
    Peer(const std::string& link, const std::string& net);
    ~Peer();
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;
    // A listener made inside the peer's namespace (it stays there), on NET.2.
    int listen_there(int port);
    // The peer's end of the link goes down: nothing it sent arrives, nothing is answered.
    void link_down();
    std::string address() const { return net_ + ".2"; }

private:
    std::string link_, net_;
    pid_t pid_ = -1;
    int ns_ = -1;    // its namespace
    int home_ = -1;  // ours
};

}  // namespace it
