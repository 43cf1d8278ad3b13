// Network namespaces: entering one, and finding all of them.
#pragma once

#include "core/netns_list.hpp"
#include "core/result.hpp"

namespace tc::sys {

// Opens a namespace file (/var/run/netns/NAME, /proc/PID/ns/net) and
// checks it is a network namespace.
Result<int> open_netns(const char* path);
// setns(fd, CLONE_NEWNET): sockets opened afterwards live there.
Status enter_netns(int fd);
// Every network namespace: the named ones (/var/run/netns), then those of
// running processes (/proc/*/ns/net), each once.
Status list_netns(NetnsList& out);

}  // namespace tc::sys
