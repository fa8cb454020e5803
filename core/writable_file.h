// WritableFile: a file a Directory (core/directory.h) opened for writing.
// Bytes always go to the end of the file; they are durable only after
// Sync() returns OK (until then a power loss may drop any of them).
// Not thread-safe: one owner writes at a time.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace resmeter {

class WritableFile {
 public:
  virtual ~WritableFile() = default;  // closes without reporting errors (call Close() to see them)

  // Appends all of `bytes` at the end of the file (short writes are retried).
  // IOError naming the file; after an error the file's end is unknown.
  virtual Status Append(std::string_view bytes) = 0;
  // Makes the file's content and size durable (fsync). IOError naming the file.
  virtual Status Sync() = 0;
  // Shortens (or extends with zeros) the file to `size_bytes`; later
  // appends go to the new end. Not durable until Sync(). IOError.
  virtual Status Truncate(uint64_t size_bytes) = 0;
  // The file's size as this handle has made it (its size at open, plus
  // appends, after truncation).
  virtual uint64_t Size() const = 0;
  // Closes the file; later calls fail. IOError when close(2) reports one.
  virtual Status Close() = 0;
};

}  // namespace resmeter
