// A growable array of trivially copyable values on malloc/realloc. The
// static binary cannot use std::vector (operator new lives in libstdc++);
// this is all the engine needs, and it keeps its capacity between polls so
// a long-running daemon does not churn memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <type_traits>

namespace tc {

template <typename T>
class PodVec {
    static_assert(std::is_trivially_copyable_v<T>);

public:
    PodVec() = default;
    PodVec(const PodVec&) = delete;
    PodVec& operator=(const PodVec&) = delete;
    ~PodVec() { std::free(data_); }

    size_t size() const { return size_; }
    T* data() { return data_; }
    const T* data() const { return data_; }
    T& operator[](size_t i) { return data_[i]; }
    const T& operator[](size_t i) const { return data_[i]; }
    void clear() { size_ = 0; }

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
        void* p = std::realloc(data_, cap * sizeof(T));
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
