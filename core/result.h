// Result<T>: a value or a non-OK Status (like absl::StatusOr).
//
// Accessing value() of an error Result is a programming error and aborts.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "core/status.h"

namespace resmeter {

template <typename T>
class Result {
 public:
  // REQUIRES: !status.ok()
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) Die("Result constructed from an OK status without a value");
  }
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok()
  const T& value() const& {
    Check();
    return *value_;
  }
  T& value() & {
    Check();
    return *value_;
  }
  T&& value() && {
    Check();
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  void Check() const {
    if (!status_.ok()) Die(status_.ToString().c_str());
  }
  [[noreturn]] static void Die(const char* why) {
    std::fprintf(stderr, "resmeter: fatal: Result::value() on error: %s\n", why);
    std::abort();
  }
  Status status_;
  std::optional<T> value_;
};

}  // namespace resmeter

#define RESMETER_CONCAT_INNER_(a, b) a##b
#define RESMETER_CONCAT_(a, b) RESMETER_CONCAT_INNER_(a, b)
// Declares `lhs` from a Result-returning `expr`, or returns its Status.
#define RESMETER_ASSIGN_OR_RETURN(lhs, expr) \
  RESMETER_ASSIGN_OR_RETURN_IMPL_(RESMETER_CONCAT_(resmeter_result_, __LINE__), lhs, expr)
#define RESMETER_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()
