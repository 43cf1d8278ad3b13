// Which way a run ends connections: SOCK_DESTROY, or the /proc path. Decided
// once at start-up; only the probe (never one socket's error) can say that
// the kernel lacks SOCK_DESTROY.
#pragma once

#include <cstdint>

#include "core/result.hpp"
#include "core/sock_record.hpp"
#include "engine/transport.hpp"

namespace tc {

enum class EndPath : uint8_t { SockDestroy, Proc };

struct PathChoice {
    EndPath path = EndPath::SockDestroy;
    int probe_err = 0;              // the probe's answer (when it ran)
    const char* reason = nullptr;   // why the /proc path was chosen, for the log
};

// The probe's answer -> the path.
PathChoice path_for_probe(int probe_err, Proto p = Proto::Tcp);

// Probes SOCK_DESTROY through `t` once (a run on the /proc path from the
// start, or a dry run, never probes). An error of the transport itself is
// returned as is (the run cannot go on without netlink anyway).
Result<PathChoice> probe_path(DiagTransport& t, Proto p = Proto::Tcp);

}  // namespace tc
