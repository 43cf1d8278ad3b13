// Errors are values: an errno-style code plus a static context string.
// No exceptions anywhere in the tool, so every fallible call returns one of
// these and the caller must look at it.
#pragma once

#include <cerrno>
#include <utility>

namespace tc {

struct Error {
    int code = 0;              // errno value (EINVAL, EPROTO, ...)
    const char* what = "";     // static string: which step failed
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : ok_(true), value_(std::move(value)) {}
    Result(Error err) : ok_(false), err_(err) {}

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    T& value() { return value_; }
    const T& value() const { return value_; }
    T* operator->() { return &value_; }
    const T* operator->() const { return &value_; }
    T& operator*() { return value_; }
    const Error& error() const { return err_; }

private:
    bool ok_;
    T value_{};
    Error err_{};
};

// Result<void> is spelled Status.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Error err) : ok_(false), err_(err) {}
    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return err_; }

private:
    bool ok_ = true;
    Error err_{};
};

inline Error make_error(int code, const char* what) { return Error{code, what}; }

}  // namespace tc
