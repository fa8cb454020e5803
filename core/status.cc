#include "core/status.h"

#include <cstring>

namespace resmeter {

Status Status::FromErrno(const std::string& context, int errno_value) {
  return Status(Code::kIOError, context + ": " + std::strerror(errno_value));
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

std::string Status::ToString() const {
  switch (code_) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      return "NotFound: " + message_;
    case Code::kCorruption:
      return "Corruption: " + message_;
    case Code::kIOError:
      return "IOError: " + message_;
    case Code::kInvalidArgument:
      return "InvalidArgument: " + message_;
    case Code::kNotSupported:
      return "NotSupported: " + message_;
    case Code::kPermissionDenied:
      return "PermissionDenied: " + message_;
    case Code::kDeadlineExceeded:
      return "DeadlineExceeded: " + message_;
    case Code::kVerifyFailed:
      return "VerifyFailed: " + message_;
    case Code::kCancelled:
      return "Cancelled: " + message_;
  }
  return message_;
}

}  // namespace resmeter
