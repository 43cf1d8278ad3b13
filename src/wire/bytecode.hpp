// Compiles a Selection into an inet_diag bytecode filter (the kernel's
// rules: src/KERNEL.md, The filter).
//
// The program is built from fragments with one convention (the one iproute2's
// ss uses): running off the end of a fragment means "accept", jumping to
// fragment_end + 4 means "reject". Then
//
//   AND(a, b) = a ++ b, with a's reject jumps moved to end(b) + 4
//   OR(r1..rn) = r1 JMP r2 JMP ... rn, each JMP going to the end (accept);
//                a range that fails jumps to its own end + 4, which is the
//                start of the next range
//
// The port and address part uses only ops that every kernel since 4.5 knows
// (S_GE/S_LE/D_GE/D_LE, S_COND/D_COND, JMP): a port range costs one GE/LE
// pair, an address prefix one host condition. --dev, --mark and --cgroup add
// DEV_COND, MARK_COND (which the audit refuses with EPERM without
// CAP_NET_ADMIN) and CGROUP_COND (Linux 5.7): AND-ed fragments, each an OR
// of its values, left out with owner_ops = false for kernels that refuse
// them (user space checks them anyway).
//
// Each op is {u8 code, u8 yes, u16 no} in host order; the kernel's audit
// (inet_diag_bc_audit) wants every yes/no a multiple of 4, at least the op's
// own length, at most remaining + 4, and every `no` target inside the program
// on the chain of `yes` steps from the start. All ops here use yes = their
// own length, so every op start is on that chain.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/local_prefixes.hpp"
#include "core/result.hpp"
#include "core/rules.hpp"
#include "core/selection.hpp"

namespace tc {

// The most bytes the program for `sel` can take (ports: a 16-byte GE/LE pair
// and a JMP per range; prefixes: a host condition of at most 28 bytes and a
// JMP each; owner values at most 12 bytes and a JMP each; the family
// condition; with --src-removed, a condition and a JMP per local prefix, up
// to 64 of them). With every cap reached it is about 27 KiB, inside the u16
// attribute length.
size_t filter_size_bound(const Selection& sel, size_t local_prefixes = 0);

// Writes the program for one dump into `out`; returns its length (0 means
// "no filter": everything matches). With --src-removed and this poll's
// `local` prefixes, the kernel leaves out sockets whose source address one
// of them covers (NOT of their OR; none when there are more than 64).
Result<size_t> compile_filter(const Selection& sel, const DumpScope& scope, std::span<uint8_t> out,
                              bool owner_ops = true, const LocalPrefixes* local = nullptr);

// The kernel's limit on a program: the length of the netlink attribute
// that carries it is 16 bits.
constexpr size_t kMaxFilter = 0xffff - 4;

// The OR of the programs of the rules that can match in `scope`, each
// checked with its own families (rule_scope), followed by a JMP to the
// accept except the last: a rule's reject (its end + 4) is the start of the
// next rule. The rules that need a source port go first, behind a gate (the
// span of their ports; outside it, the group is skipped), then those that
// need a destination port, behind theirs, then the rest. 0 (no filter) when
// a rule's program is empty, or when the OR would not fit in kMaxFilter
// bytes: then user space decides alone.
size_t compile_rules_filter(std::span<const Rule> rules, const DumpScope& scope, std::span<uint8_t> out,
                            bool owner_ops, const LocalPrefixes* local);
// The bytes compile_rules_filter may need (at most kMaxFilter).
size_t rules_filter_bound(std::span<const Rule> rules, size_t local_prefixes);

// One op of a program, decoded for the verbose log. Returns the offset of the
// next op on the yes chain, or 0 when `pos` does not hold a whole op.
size_t describe_op(std::span<const uint8_t> prog, size_t pos, char* text, size_t text_len);

}  // namespace tc
