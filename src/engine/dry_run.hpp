// --dry-run: a Terminator (and Armer) that ends and arms nothing and says
// so for every socket. The engine runs exactly as in a real run (same
// dump, filter, policy and --max-kills cap), so the list is what a real
// run would end or arm; arming's list does not look into the owners.
#pragma once

#include "engine/terminator.hpp"

namespace tc {

class DryRunTerminator final : public Terminator, public Armer {
public:
    Status end_connections(std::span<const SockRecord> recs, std::span<EndResult> out) override {
        return say(recs, out, Outcome::WouldEnd);
    }
    Status arm_connections(std::span<const SockRecord> recs, std::span<const Rule>,
                           std::span<EndResult> out) override {
        return say(recs, out, Outcome::WouldArm);
    }

private:
    static Status say(std::span<const SockRecord> recs, std::span<EndResult> out, Outcome o) {
        if (out.size() != recs.size()) return make_error(EINVAL, "result buffer size mismatch");
        for (EndResult& r : out) {
            r = EndResult{};
            r.outcome = o;
        }
        return {};
    }
};

}  // namespace tc
