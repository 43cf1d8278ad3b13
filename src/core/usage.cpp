#include "core/options.hpp"
#include "core/unpack.hpp"

namespace tc {
namespace {
// build/gen/usage.inc, packed from src/core/usage.txt.
#include "usage.inc"
static_assert(kUsageLen <= kUsageMax, "the help text outgrew kUsageMax");
}  // namespace

size_t usage_text(char* out, size_t cap) { return unpack(kUsagePacked, out, cap); }

}  // namespace tc
