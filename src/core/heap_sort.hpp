// Sorting and looking up numbers in place: a heap sort (no recursion, no
// allocation, and far less code than std::sort in a binary that must stay
// small) and a binary search. Pure.
#pragma once

#include <cstddef>

namespace tc {

template <typename T>
void sift_down(T* a, size_t root, size_t n) {
    while (2 * root + 1 < n) {
        size_t child = 2 * root + 1;
        if (child + 1 < n && a[child] < a[child + 1]) ++child;
        if (!(a[root] < a[child])) return;
        T t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
    }
}

template <typename T>
void heap_sort(T* a, size_t n) {
    for (size_t i = n / 2; i-- > 0;) sift_down(a, i, n);
    for (size_t end = n; end-- > 1;) {
        T t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end);
    }
}

// The index of the first element of sorted a[0, n) not less than `v` (n: none).
template <typename T>
size_t lower_index(const T* a, size_t n, T v) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

}  // namespace tc
