// Status: the one error type of resmeter.
//
// A Status is either OK or carries a code and a one-line message that names
// the file, field or value involved. Functions that produce a value return
// Result<T> (core/result.h). Status values are cheap to copy and thread-safe
// to read; they never throw.
#pragma once

#include <string>
#include <utility>

namespace resmeter {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,          // a file, key or entry does not exist
    kCorruption,        // bytes that do not parse or fail an integrity check
    kIOError,           // the operating system refused or failed
    kInvalidArgument,   // a caller or user supplied a bad value
    kNotSupported,      // the platform lacks the capability (no PMU, no TEE)
    kPermissionDenied,  // access refused, or a file with unsafe permissions
    kDeadlineExceeded,  // a timeout expired
    kVerifyFailed,      // a signature, binding or policy check did not hold
    kCancelled,         // the caller asked the work to stop
  };

  // Creates an OK status.
  Status() = default;

  static Status Ok() { return Status(); }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status NotSupported(std::string msg) { return {Code::kNotSupported, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {Code::kPermissionDenied, std::move(msg)}; }
  static Status DeadlineExceeded(std::string msg) { return {Code::kDeadlineExceeded, std::move(msg)}; }
  static Status VerifyFailed(std::string msg) { return {Code::kVerifyFailed, std::move(msg)}; }
  static Status Cancelled(std::string msg) { return {Code::kCancelled, std::move(msg)}; }
  // An IOError whose message ends with strerror(errno_value).
  static Status FromErrno(const std::string& context, int errno_value);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // Returns a copy whose message is "context: message".
  Status WithContext(const std::string& context) const;
  // Human-readable "CodeName: message" ("OK" when ok).
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace resmeter

// Returns from the enclosing function when `expr` yields a non-OK Status.
#define RESMETER_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::resmeter::Status resmeter_status_ = (expr);        \
    if (!resmeter_status_.ok()) return resmeter_status_; \
  } while (0)
