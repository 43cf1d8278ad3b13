// --dry-run: a Terminator that ends nothing and says so for every socket.
// The engine runs exactly as in a real run (same dump, filter, policy and
// --max-kills cap), so the list is what a real run would end.
#pragma once

#include "engine/terminator.hpp"

namespace tc {

class DryRunTerminator final : public Terminator {
public:
    Status end_connections(std::span<const SockRecord> recs, std::span<EndResult> out) override {
        if (out.size() != recs.size()) return make_error(EINVAL, "result buffer size mismatch");
        for (EndResult& r : out) {
            r = EndResult{};
            r.outcome = Outcome::WouldEnd;
        }
        return {};
    }
};

}  // namespace tc
