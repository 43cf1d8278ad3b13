// Errors are values: an errno-style code plus a static context string.
// No exceptions anywhere in the tool, so every fallible call returns one of
// these and the caller must look at it.
#pragma once

#include <cerrno>
#include <cstdint>
#include <utility>

namespace tc {

// What kind of failure an error is, so callers tell errors apart by
// meaning, never by their text.
enum class ErrorKind : uint8_t {
    System,   // a system call, a file or the kernel failed (the run: exit 1)
    Usage,    // a value the user gave names nothing usable (exit 2)
    Refused,  // the kernel answered a request with an error (NLMSG_ERROR)
};

struct Error {
    int code = 0;              // errno value (EINVAL, EPROTO, ...)
    const char* what = "";     // static string: which step failed
    ErrorKind kind = ErrorKind::System;
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

inline Error make_error(int code, const char* what, ErrorKind kind = ErrorKind::System) {
    return Error{code, what, kind};
}
inline Error usage_error(int code, const char* what) { return Error{code, what, ErrorKind::Usage}; }

}  // namespace tc
