// A userspace model of the kernel's inet_diag bytecode audit
// (inet_diag_bc_audit, valid_cc, valid_hostcond, valid_port_comparison,
// valid_devcond, valid_markcond, valid_cgroupcond) and
// interpreter (inet_diag_bc_run), written from net/ipv4/inet_diag.c. The
// compiler's output must pass the audit and give the same verdict as the
// user-space policy; the integration tests then check the real kernel.
#pragma once

#include <linux/inet_diag.h>

#include <cstdint>
#include <cstring>
#include <span>

namespace model {

struct Entry {
    uint8_t family = 2;   // AF_INET / AF_INET6
    uint8_t saddr[16] = {};
    uint8_t daddr[16] = {};
    uint16_t sport = 0;
    uint16_t dport = 0;
    uint32_t ifindex = 0;  // sk_bound_dev_if
    uint32_t mark = 0;
    uint64_t cgroup = 0;
};

inline inet_diag_bc_op op_at(std::span<const uint8_t> bc, size_t off) {
    inet_diag_bc_op o;
    std::memcpy(&o, bc.data() + off, sizeof o);
    return o;
}

// Is offset `cc` (counted as remaining length, like the kernel) reached by
// walking yes steps from the start?
inline bool valid_cc(std::span<const uint8_t> bc, int len, int cc) {
    size_t off = 0;
    while (len >= 0) {
        if (cc > len) return false;
        if (cc == len) return true;
        inet_diag_bc_op o = op_at(bc, off);
        if (o.yes < 4 || (o.yes & 3)) return false;
        len -= o.yes;
        off += o.yes;
    }
    return false;
}

// `net_admin`: the requester holds CAP_NET_ADMIN (MARK_COND needs it; the
// kernel answers EPERM, here false).
inline bool audit(std::span<const uint8_t> bc, bool net_admin = true) {
    int len = static_cast<int>(bc.size());
    size_t off = 0;
    while (len > 0) {
        if (len < 4) return false;  // the kernel reads the op header (attribute is 4-aligned)
        inet_diag_bc_op o = op_at(bc, off);
        int min_len = sizeof(inet_diag_bc_op);
        switch (o.code) {
            case INET_DIAG_BC_S_COND:
            case INET_DIAG_BC_D_COND: {
                min_len += sizeof(inet_diag_hostcond);
                if (len < min_len) return false;
                inet_diag_hostcond hc;
                std::memcpy(&hc, bc.data() + off + 4, sizeof hc);
                int addr_len;
                if (hc.family == 0) addr_len = 0;
                else if (hc.family == 2) addr_len = 4;
                else if (hc.family == 10) addr_len = 16;
                else return false;
                min_len += addr_len;
                if (len < min_len) return false;
                if (hc.prefix_len > 8 * addr_len) return false;
                break;
            }
            case INET_DIAG_BC_S_GE: case INET_DIAG_BC_S_LE: case INET_DIAG_BC_D_GE:
            case INET_DIAG_BC_D_LE: case INET_DIAG_BC_S_EQ: case INET_DIAG_BC_D_EQ:
                min_len += sizeof(inet_diag_bc_op);
                if (len < min_len) return false;
                break;
            case INET_DIAG_BC_DEV_COND:
                min_len += 4;
                if (len < min_len) return false;
                break;
            case INET_DIAG_BC_MARK_COND:
                if (!net_admin) return false;
                min_len += sizeof(inet_diag_markcond);
                if (len < min_len) return false;
                break;
            case INET_DIAG_BC_CGROUP_COND:
                min_len += 8;
                if (len < min_len) return false;
                break;
            case INET_DIAG_BC_AUTO: case INET_DIAG_BC_JMP: case INET_DIAG_BC_NOP:
                break;
            default:
                return false;
        }
        if (o.code != INET_DIAG_BC_NOP) {
            if (o.no < min_len || o.no > len + 4 || (o.no & 3)) return false;
            if (o.no < len && !valid_cc(bc, static_cast<int>(bc.size()), len - o.no)) return false;
        }
        if (o.yes < min_len || o.yes > len + 4 || (o.yes & 3)) return false;
        off += o.yes;
        len -= o.yes;
    }
    return len == 0;
}

inline bool bits_match(const uint8_t* a, const uint8_t* b, int bits) {
    int bytes = bits / 8, rest = bits % 8;
    if (bytes && std::memcmp(a, b, bytes) != 0) return false;
    if (rest) {
        uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
        if ((a[bytes] ^ b[bytes]) & mask) return false;
    }
    return true;
}

// Runs an audited program; true = the socket is reported.
inline bool run(std::span<const uint8_t> bc, const Entry& e) {
    int len = static_cast<int>(bc.size());
    size_t off = 0;
    while (len > 0) {
        inet_diag_bc_op o = op_at(bc, off);
        bool yes = true;
        auto port_arg = [&] { return op_at(bc, off + 4).no; };
        switch (o.code) {
            case INET_DIAG_BC_NOP: break;
            case INET_DIAG_BC_JMP: yes = false; break;
            case INET_DIAG_BC_S_EQ: yes = e.sport == port_arg(); break;
            case INET_DIAG_BC_S_GE: yes = e.sport >= port_arg(); break;
            case INET_DIAG_BC_S_LE: yes = e.sport <= port_arg(); break;
            case INET_DIAG_BC_D_EQ: yes = e.dport == port_arg(); break;
            case INET_DIAG_BC_D_GE: yes = e.dport >= port_arg(); break;
            case INET_DIAG_BC_D_LE: yes = e.dport <= port_arg(); break;
            case INET_DIAG_BC_S_COND: case INET_DIAG_BC_D_COND: {
                inet_diag_hostcond hc;
                std::memcpy(&hc, bc.data() + off + 4, sizeof hc);
                const uint8_t* caddr = bc.data() + off + 4 + sizeof hc;
                bool src = o.code == INET_DIAG_BC_S_COND;
                if (hc.port != -1 && hc.port != (src ? e.sport : e.dport)) { yes = false; break; }
                const uint8_t* addr = src ? e.saddr : e.daddr;
                if (hc.family != 0 && hc.family != e.family) {
                    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
                    if (e.family == 10 && hc.family == 2 && std::memcmp(addr, mapped, 12) == 0 &&
                        bits_match(addr + 12, caddr, hc.prefix_len))
                        break;
                    yes = false;
                    break;
                }
                if (hc.prefix_len == 0) break;
                if (bits_match(addr, caddr, hc.prefix_len)) break;
                yes = false;
                break;
            }
            case INET_DIAG_BC_DEV_COND: {
                uint32_t ifindex;
                std::memcpy(&ifindex, bc.data() + off + 4, 4);
                yes = ifindex == e.ifindex;
                break;
            }
            case INET_DIAG_BC_MARK_COND: {
                inet_diag_markcond mc;
                std::memcpy(&mc, bc.data() + off + 4, sizeof mc);
                yes = (e.mark & mc.mask) == mc.mark;
                break;
            }
            case INET_DIAG_BC_CGROUP_COND: {
                uint64_t id;
                std::memcpy(&id, bc.data() + off + 4, 8);
                yes = id == e.cgroup;
                break;
            }
            default: return false;  // not reached for audited programs
        }
        if (yes) { len -= o.yes; off += o.yes; }
        else { len -= o.no; off += o.no; }
    }
    return len == 0;
}

}  // namespace model
