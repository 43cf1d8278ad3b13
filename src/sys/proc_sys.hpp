// The /proc path's syscalls: the walk over /proc/*/fd, pidfd_open +
// pidfd_getfd, connect(AF_UNSPEC), shutdown, and the last-resort kill.
// Everything here is a thin wrapper; the decisions are in
// engine/proc_terminator.cpp.
#pragma once

#include <array>
#include <cstdint>

#include "engine/proc_terminator.hpp"
#include "sys/sys.hpp"

namespace tc::sys {

class ProcSys final : public ProcOps {
public:
    // `root` is "/proc" in the tool; tests point it at a fake tree.
    explicit ProcSys(const char* root = "/proc") : root_(root) {}

    Status find_holders(OwnerMap& map, const OwnerSel* only) override;
    Result<int> dup_fd(int32_t pid, int32_t fd) override;
    Result<FdIdentity> identify(int fd) override;
    int disconnect(int fd) override;
    int shutdown_rdwr(int fd) override;
    int tcp_figures(int fd, SockRecord& rec) override;
    int get_int_opt(int fd, int level, int name, int& value) override;
    int set_int_opt(int fd, int level, int name, int value) override;
    void close_fd(int fd) override;
    int kill_holder(const Holder& h) override;
    void comm(int32_t pid, char (&out)[16]) override;
    int32_t self_pid() override;

private:
    Status scan_process(int proc_fd, int32_t pid, OwnerMap& map);

    const char* root_;
    // getdents64 buffers: /proc itself, and one process's fd directory.
    alignas(8) std::array<uint8_t, 16384> dents_{};
    alignas(8) std::array<uint8_t, 16384> fd_dents_{};
};

// /proc/net/tcp and /proc/net/tcp6 of the network namespace we are in.
class ProcNetFiles final : public ProcNetTables {
public:
    Status open(Proto p, bool v6) override;
    Result<size_t> read(std::span<uint8_t> buf) override;

private:
    Fd fd_;
};

}  // namespace tc::sys
