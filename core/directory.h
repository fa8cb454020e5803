// Directory: a directory the process writes in (ledger, keys, state), with
// every operation the write paths need, so that tests can substitute an
// implementation that injects faults (tests/support/fault_env.h) and replay
// crashes byte by byte. Env::OpenDirectory() opens one; the POSIX one
// (core/posix_directory.h) keeps core/safe_dir.h's guarantees: the directory
// was checked when opened (0700-style, our uid, no planted symlink) and every
// name in it is opened relative to its descriptor without following links.
//
// Names are plain entry names (no '/', not "." or ".."); anything else is
// InvalidArgument. Thread-safety: as SafeDir (calls are system calls on the
// directory descriptor); the files it returns are single-owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/writable_file.h"

namespace resmeter {

// How OpenWritable treats an existing file.
enum class WriteMode {
  kAppend,           // keep its bytes (create when missing)
  kCreateExclusive,  // fail with InvalidArgument when it exists
  kTruncate,         // empty it (create when missing)
};

// Whether Rename may replace an existing target.
enum class RenameMode {
  kReplace,    // rename(2): the target, if any, is replaced atomically
  kNoReplace,  // InvalidArgument when the target exists (nothing changes)
};

// What a directory entry is (a symbolic link is described, not followed).
struct DirEntryInfo {
  enum class Type { kRegular, kDirectory, kSymlink, kOther };
  Type type = Type::kOther;
  uint64_t size_bytes = 0;
};

// An advisory exclusive lock (flock) held until the object goes away.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Directory {
 public:
  virtual ~Directory() = default;

  // The path the directory was opened as (for messages).
  virtual const std::string& path() const = 0;
  // path() + "/" + name, for messages.
  std::string PathOf(const std::string& name) const { return path() + "/" + name; }

  // Opens the regular file `name` for appending (mode `perm` when created).
  // PermissionDenied for a symbolic link, a non-regular file or a file with
  // more than one hard link; InvalidArgument when kCreateExclusive finds it;
  // IOError otherwise.
  virtual Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& name, WriteMode mode,
                                                             unsigned perm) = 0;
  // Up to `max_bytes` of the regular file `name` from `offset` (fewer at its
  // end). NotFound, PermissionDenied (a link or not a regular file), IOError.
  virtual Result<std::string> ReadAt(const std::string& name, uint64_t offset, size_t max_bytes) const = 0;
  // The entry `name` without following a link. NotFound when missing.
  virtual Result<DirEntryInfo> Stat(const std::string& name) const = 0;
  // Entry names (no "." or ".."), sorted.
  virtual Result<std::vector<std::string>> List() const = 0;
  // Renames `from` to `to` within this directory; not durable until Sync().
  // PermissionDenied when `to` is a symbolic link in a checked directory
  // (a planted link is refused, not silently replaced).
  virtual Status Rename(const std::string& from, const std::string& to, RenameMode mode) = 0;
  // Removes the entry `name` (a link itself, never its target); not durable
  // until Sync(). NotFound when missing.
  virtual Status Remove(const std::string& name) = 0;
  // Makes created, renamed and removed entries durable (fsync of the directory).
  virtual Status Sync() = 0;
  // Takes an exclusive advisory lock on the regular file `name` (created
  // 0600 when missing) without waiting. nullptr when another process holds
  // it; errors as OpenWritable.
  virtual Result<std::unique_ptr<FileLock>> LockExclusive(const std::string& name) = 0;
  // Opens (creates with `create_mode` when missing and create_mode != 0) the
  // subdirectory `name` with SafeDir::Open()'s checks (0700-style, our uid, no link).
  virtual Result<std::unique_ptr<Directory>> OpenSubdirectory(const std::string& name,
                                                              unsigned create_mode) = 0;
};

}  // namespace resmeter
