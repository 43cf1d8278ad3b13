// What the bytecode tests share: compiling into a buffer of exactly the
// bound (so a bound too small fails), audited by the kernel model; the
// opcodes of a program; the values the random comparisons draw from.
#pragma once

#include <catch2/catch.hpp>

#include <cstring>
#include <span>
#include <vector>

#include "bc_model.hpp"
#include "helpers.hpp"
#include "wire/bytecode.hpp"

namespace bctest {

using namespace tc;

struct Compiled {
    std::vector<uint8_t> buf;
    size_t len = 0;
    std::span<const uint8_t> prog() const { return {buf.data(), len}; }
};

// Compiles into a buffer of exactly filter_size_bound(sel) bytes, so a bound
// that is too small fails here.
inline Compiled compile(const Selection& sel, DumpScope scope) {
    Compiled c;
    c.buf.resize(filter_size_bound(sel));
    Result<size_t> r = compile_filter(sel, scope, c.buf);
    REQUIRE(r.ok());
    c.len = *r;
    REQUIRE(model::audit(c.prog()));
    return c;
}

inline Prefix prefix(const char* text) {
    Prefix p;
    REQUIRE(parse_prefix(text, p).ok());
    return p;
}

inline Selection ports(const char* s, const char* d) {
    Selection sel;
    if (s) REQUIRE(parse_ports(s, sel.sports).ok());
    if (d) REQUIRE(parse_ports(d, sel.dports).ok());
    return sel;
}

constexpr DumpScope kV4{AF_INET, V6Scope::Any};

// What the random address tests draw from: prefixes, socket addresses, scopes.
inline const char* const v4[] = {"10.0.0.0/8", "10.1.0.0/16", "127.0.0.1", "0.0.0.0/0", "192.0.2.0/25", "10.1.2.3/31"};
inline const char* const v6[] = {"2001:db8::/32", "::1", "::/0", "2001:db8:1::/48", "fe80::/10", "::ffff:10.0.0.0/104"};
inline const char* const socks4[] = {"10.1.2.3", "10.1.2.2", "127.0.0.1", "192.0.2.200", "192.0.2.1", "11.0.0.1"};
inline const char* const socks6[] = {"2001:db8::1", "2001:db8:1::9", "::1", "fe80::1", "::ffff:10.1.2.3", "::ffff:127.0.0.1"};
inline const DumpScope scopes[] = {{AF_INET, V6Scope::Any},          {AF_INET6, V6Scope::Any},
                            {AF_INET6, V6Scope::MappedOnly},  {AF_INET6, V6Scope::NativeOnly},
                            {AF_UNSPEC, V6Scope::MappedOnly}, {AF_UNSPEC, V6Scope::Any}};

inline std::vector<uint8_t> opcodes(std::span<const uint8_t> prog) {
    std::vector<uint8_t> ops;
    for (size_t at = 0; at + 4 <= prog.size();) {
        inet_diag_bc_op o;
        std::memcpy(&o, prog.data() + at, sizeof o);
        ops.push_back(o.code);
        if (o.yes == 0) break;
        at += o.yes;
    }
    return ops;
}

inline bool has_op(std::span<const uint8_t> prog, uint8_t code) {
    for (uint8_t c : opcodes(prog))
        if (c == code) return true;
    return false;
}

}  // namespace bctest
