#include "app/destroy_helper.hpp"

#include "sys/process.hpp"
#include "sys/sys.hpp"

namespace tc {

ForkHelper::~ForkHelper() {
    if (pid_ > 0) (void)sys::wait_exit(pid_);
    release();
}

void ForkHelper::release() {
    sys::shared_free(shared_, shared_bytes_);
    shared_ = nullptr;
    shared_bytes_ = 0;
    pid_ = -1;
}

bool ForkHelper::start(std::span<const SockRecord> recs) {
    if (cpus_ == 0) cpus_ = sys::usable_cpus() > 1 ? 2 : 1;
    if (cpus_ == 1 || pid_ > 0 || recs.empty()) return false;
    shared_bytes_ = kHeader + recs.size() * sizeof(int32_t);
    shared_ = static_cast<uint8_t*>(sys::shared_alloc(shared_bytes_));
    if (!shared_) {
        release();
        return false;
    }
    Result<int> pid = sys::fork_process();
    if (!pid) {
        release();
        return false;
    }
    if (*pid == 0) run_child(recs);
    pid_ = *pid;
    return true;
}

void ForkHelper::run_child(std::span<const SockRecord> recs) {
    sys::DiagSocket sock;
    if (!sock.open(socket_buffer_, socket_buffer_)) sys::exit_now(1);
    SockDestroyTerminator own(sock);
    constexpr size_t kBatch = SockDestroyTerminator::kBatch;
    EndResult batch[kBatch];
    for (size_t at = 0; at < recs.size(); at += kBatch) {
        const size_t n = recs.size() - at < kBatch ? recs.size() - at : kBatch;
        if (!own.end_batches(recs.subspan(at, n), std::span<EndResult>(batch, n))) sys::exit_now(1);
        for (size_t i = 0; i < n; ++i) acks()[at + i] = errno_of(batch[i]);
        __atomic_store_n(done_count(), at + n, __ATOMIC_RELEASE);
    }
    sys::exit_now(0);
}

size_t ForkHelper::finish(std::span<EndResult> out) {
    if (pid_ <= 0) return 0;
    (void)sys::wait_exit(pid_);  // whatever its status, `done` says what it finished
    size_t done = __atomic_load_n(done_count(), __ATOMIC_ACQUIRE);
    if (done > out.size()) done = out.size();
    for (size_t i = 0; i < done; ++i) out[i] = result_from_errno(acks()[i]);
    release();
    return done;
}

}  // namespace tc
