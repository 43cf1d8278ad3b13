// A growable array of trivially copyable values. The static binary cannot
// use std::vector (operator new lives in libstdc++); this is all the engine
// needs, and it keeps its capacity between polls so a long-running daemon
// does not churn memory.
//
// The memory comes straight from the kernel in whole pages (mem_resize,
// implemented with mmap/mremap in sys/mem.cpp): the tool holds a handful of
// arrays, and leaving libc's malloc out keeps about 7 KiB out of the binary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace tc {

// Grows or shrinks a block from mem_resize (p == nullptr: a new one) to
// new_bytes, keeping its contents; nullptr when memory ran out (p is then
// unchanged). mem_free gives a block back.
void* mem_resize(void* p, size_t old_bytes, size_t new_bytes);
void mem_free(void* p, size_t bytes);

template <typename T>
class PodVec {
    static_assert(std::is_trivially_copyable_v<T>);

public:
    PodVec() = default;
    PodVec(const PodVec&) = delete;
    PodVec& operator=(const PodVec&) = delete;
    ~PodVec() { mem_free(data_, cap_ * sizeof(T)); }

    size_t size() const { return size_; }
    T* data() { return data_; }
    const T* data() const { return data_; }
    T& operator[](size_t i) { return data_[i]; }
    const T& operator[](size_t i) const { return data_[i]; }
    void clear() { size_ = 0; }
    void swap(PodVec& o) {
        T* d = data_;
        data_ = o.data_;
        o.data_ = d;
        const size_t s = size_, c = cap_;
        size_ = o.size_;
        cap_ = o.cap_;
        o.size_ = s;
        o.cap_ = c;
    }

    // False when memory ran out; the array is unchanged then.
    [[nodiscard]] bool push_back(const T& v) {
        if (size_ == cap_ && !grow(cap_ ? cap_ * 2 : 64)) return false;
        data_[size_++] = v;
        return true;
    }
    [[nodiscard]] bool resize(size_t n) {
        if (n > cap_ && !grow(n)) return false;
        for (size_t i = size_; i < n; ++i) data_[i] = T{};
        size_ = n;
        return true;
    }

private:
    bool grow(size_t cap) {
        if (cap > SIZE_MAX / sizeof(T)) return false;
        void* p = mem_resize(data_, cap_ * sizeof(T), cap * sizeof(T));
        if (!p) return false;
        data_ = static_cast<T*>(p);
        cap_ = cap;
        return true;
    }

    T* data_ = nullptr;
    size_t size_ = 0;
    size_t cap_ = 0;
};

}  // namespace tc
