// SafeDir: a directory holding keys, ledgers or state, opened so that
// nobody but this process's user (or root) can have planted anything in it,
// and every file in it is opened relative to the directory's descriptor
// without following symbolic links.
//
// Open() refuses, with one line naming the path and the reason:
//   - a directory that is a symbolic link others could have planted (the
//     last component is opened with O_DIRECTORY|O_NOFOLLOW; a link is
//     followed only when it and the directory holding it are owned by root
//     or us and that directory is not group/other-writable, as systemd's
//     DynamicUser= /var/lib/NAME -> private/NAME; components above are the
//     administrator's),
//   - a directory writable by group or others (mode & 022),
//   - a directory not owned by the process's effective uid.
// A missing directory is created (parents 0755, itself `create_mode`) when
// create_mode is not 0.
//
// OpenFileAt() opens a name in the directory with openat(O_NOFOLLOW): a
// symbolic link, FIFO, device or directory where a file is expected is
// refused before anything is opened, so the target of a planted link is
// never read, truncated or written. A file opened for writing must have one
// link (a hard link to a file elsewhere is refused).
//
// The write paths use it through the Directory interface
// (core/posix_directory.h); the one atomic file replacement is
// core/atomic_write.h.
//
// Thread-safety: a SafeDir may be used from several threads at once (every
// call is a system call on the directory descriptor); moving one is not
// thread-safe.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"

namespace resmeter {

class SafeDir {
 public:
  SafeDir() = default;  // holds no directory
  SafeDir(SafeDir&&) = default;
  SafeDir& operator=(SafeDir&&) = default;
  SafeDir(const SafeDir&) = delete;
  SafeDir& operator=(const SafeDir&) = delete;

  // Opens the trusted directory `path` (see the header comment); creates it
  // when missing and create_mode != 0. Errors: NotFound (missing and
  // create_mode 0), PermissionDenied (symlink, group/other-writable, foreign
  // owner), InvalidArgument (not a directory), IOError.
  static Result<SafeDir> Open(const std::string& path, unsigned create_mode);
  // As Open(path, 0) for a command that only reads (`resmeter identity`):
  // run as root, it also accepts a directory owned by another uid (the
  // agent's service user); files are still opened without following links.
  static Result<SafeDir> OpenForReading(const std::string& path);
  // Opens the directory `path` that a user named for an output file, with
  // none of Open()'s checks (it may be /tmp or a symlink the user chose).
  static Result<SafeDir> OpenUnchecked(const std::string& path);
  // Opens (creates when missing and create_mode != 0) the subdirectory
  // `name` with Open()'s checks, relative to this directory.
  Result<SafeDir> OpenSubdir(const std::string& name, unsigned create_mode) const;

  // Opens `name` with `flags` | O_NOFOLLOW | O_CLOEXEC (and `mode` when
  // creating). NotFound when missing without O_CREAT; PermissionDenied for a
  // symlink, a non-regular file, or a hard-linked file opened for writing;
  // InvalidArgument when O_EXCL|O_CREAT finds it existing; IOError otherwise.
  Result<UniqueFd> OpenFileAt(const std::string& name, int flags, unsigned mode = 0) const;
  // The whole content of the regular file `name`; InvalidArgument beyond max_bytes.
  Result<std::string> ReadFileAt(const std::string& name, size_t max_bytes) const;
  // renameat(from, to) within this directory (no fsync; see Sync). With
  // `replace` false, InvalidArgument when `to` exists (nothing changes). In a
  // directory opened with Open()'s checks, a symlinked `to` is refused
  // (PermissionDenied), not replaced.
  Status RenameAt(const std::string& from, const std::string& to, bool replace = true) const;
  // Removes the entry `name` (a symlink itself, never its target). NotFound when missing.
  Status UnlinkAt(const std::string& name) const;
  // lstat of `name` (a symlink is described, not followed). NotFound when missing.
  Result<struct stat> StatAt(const std::string& name) const;
  // Entry names (no "." or ".."), sorted.
  Result<std::vector<std::string>> List() const;
  // fsyncs the directory so created, renamed and removed entries are durable.
  Status Sync() const;

  bool valid() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  // path() + "/" + name, for messages.
  std::string PathOf(const std::string& name) const { return path_ + "/" + name; }

 private:
  SafeDir(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  // Open() and OpenForReading().
  static Result<SafeDir> OpenChecked(const std::string& path, unsigned create_mode,
                                     bool root_reads_any_owner);

  UniqueFd fd_;
  std::string path_;
  bool trusted_ = false;  // opened with Open()'s checks: symlinked names are refused, not replaced
};

}  // namespace resmeter
