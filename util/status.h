// Status and Result<T>: how tearproof reports operating errors and detected corruption.
//
// Contract: every fallible operation in util/, sim/ and btt/ returns a [[nodiscard]] Status or
// Result<T>; none of them throws. A Status carries a code (what kind of failure, for callers that
// branch on it) and a message (what exactly, for the human reading it: name the field, the arena,
// the offset). Bytes read from a medium are untrusted input: their problems are Status values,
// never assertions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "util/assert.h"

namespace tearproof {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,  // caller error: LBA out of range, bad size, bad flag
  kOutOfRange,       // an address outside the medium or namespace
  kReadOnly,         // a mutation was asked of a read-only open
  kMediaError,       // the block is flagged as an error (map E flag) or the medium failed
  kCorruption,       // on-media metadata failed validation
  kNotFound,         // no BTT (or no such file)
  kUnsupported,      // a valid layout this build does not handle
  kIoError,          // the host OS failed an operation (open, mmap, ...)
  kInternal,         // a bug in tearproof: should never be seen
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "CODE: message", or "OK".
  std::string ToString() const;

  // Prepends context ("arena 1: ") to the message; a no-op on OK.
  Status Annotate(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status ReadOnlyError(std::string m) { return {StatusCode::kReadOnly, std::move(m)}; }
inline Status MediaError(std::string m) { return {StatusCode::kMediaError, std::move(m)}; }
inline Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    TP_ASSERT(!status_.ok(), "RESULT-ERROR-NOT-OK");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  T& value() & {
    TP_ASSERT(ok(), "RESULT-VALUE-ON-ERROR");
    return *value_;
  }
  const T& value() const& {
    TP_ASSERT(ok(), "RESULT-VALUE-ON-ERROR");
    return *value_;
  }
  T&& value() && {
    TP_ASSERT(ok(), "RESULT-VALUE-ON-ERROR");
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace tearproof

// Propagates a non-OK Status to the caller.
#define TP_RETURN_IF_ERROR(expr)                   \
  do {                                             \
    ::tearproof::Status tp_status_ = (expr);       \
    if (!tp_status_.ok()) return tp_status_;       \
  } while (0)

#define TP_CONCAT_INNER_(a, b) a##b
#define TP_CONCAT_(a, b) TP_CONCAT_INNER_(a, b)

// `TP_ASSIGN_OR_RETURN(auto x, Foo());` binds x to Foo()'s value or returns its Status.
#define TP_ASSIGN_OR_RETURN(lhs, expr) \
  TP_ASSIGN_OR_RETURN_IMPL_(TP_CONCAT_(tp_result_, __LINE__), lhs, expr)
#define TP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
