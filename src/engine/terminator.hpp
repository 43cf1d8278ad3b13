// How a selected connection is ended. The engine only knows this interface;
// SOCK_DESTROY is one implementation, the /proc path will be another.
#pragma once

#include <cstdint>
#include <span>

#include "core/result.hpp"
#include "core/sock_record.hpp"

namespace tc {

enum class Outcome : uint8_t {
    Destroyed,  // the kernel reset the connection
    Vanished,   // it closed by itself between the dump and our request
    Failed,     // see err
};

struct KillResult {
    Outcome outcome = Outcome::Failed;
    int err = 0;  // errno for Failed
};

class Terminator {
public:
    // Ends every record, writing one result per record into `out`
    // (out.size() == recs.size()). A non-ok Status means the mechanism
    // itself broke; the results written so far are still valid.
    virtual Status end_connections(std::span<const SockRecord> recs, std::span<KillResult> out) = 0;

protected:
    ~Terminator() = default;
};

}  // namespace tc
