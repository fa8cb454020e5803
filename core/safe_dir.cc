#include "core/safe_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>

namespace resmeter {
namespace {

// "0777" for the permission bits of `mode`.
std::string ModeText(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// `path` without trailing slashes ("/" stays "/"): a trailing slash would make
// open() follow a symlinked last component despite O_NOFOLLOW.
std::string StripTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// InvalidArgument unless `name` is one plain entry name (no '/', not "." or "..").
Status CheckEntryName(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
    return Status::InvalidArgument("'" + name + "' is not a plain file name");
  return Status::Ok();
}

Status SymlinkRefused(const std::string& path) {
  return Status::PermissionDenied(
      path + " is a symbolic link; refusing to follow it (its target is left untouched)");
}

// The error for an open of directory `name` (relative to dirfd) that failed with `err`.
Status DirOpenError(int dirfd, const std::string& name, const std::string& display, int err) {
  if (err == ENOENT) return Status::NotFound(display + ": no such directory");
  struct stat st;
  if (err == ELOOP || (err == ENOTDIR && ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                       S_ISLNK(st.st_mode))) {
    return SymlinkRefused(display);
  }
  if (err == ENOTDIR) return Status::InvalidArgument(display + " exists and is not a directory");
  return Status::FromErrno("cannot open directory " + display, err);
}

// OK when the open directory `fd` is owned by our effective uid (any uid
// when `any_owner`) and not writable by group or others; otherwise
// PermissionDenied naming `display`.
Status CheckTrusted(int fd, const std::string& display, bool any_owner = false) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::FromErrno("cannot stat " + display, errno);
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument(display + " is not a directory");
  const uid_t me = ::geteuid();
  if (st.st_uid != me && !any_owner) {
    return Status::PermissionDenied("directory " + display + " is owned by uid " + std::to_string(st.st_uid) +
                                    ", not by this process's uid " + std::to_string(me) +
                                    "; refusing it (chown " + std::to_string(me) + " " + display + ")");
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    return Status::PermissionDenied("directory " + display + " has mode " + ModeText(st.st_mode) +
                                    " (writable by group or others); refusing it (chmod 700 " + display +
                                    ")");
  }
  return Status::Ok();
}

// OK when the symlink `path` (lstat `link`) is owned by root or us and sits
// in a directory owned by root or us that group and others cannot write:
// then only root or we could have made or changed it. PermissionDenied otherwise.
Status CheckTrustedLink(const std::string& path, const struct stat& link) {
  const size_t slash = path.rfind('/');
  const std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const uid_t me = ::geteuid();
  struct stat st;
  if (::stat(parent.c_str(), &st) != 0) return Status::FromErrno("cannot stat " + parent, errno);
  if ((link.st_uid != 0 && link.st_uid != me) || (st.st_uid != 0 && st.st_uid != me) ||
      (st.st_mode & (S_IWGRP | S_IWOTH))) {
    return Status::PermissionDenied(
        path + " is a symbolic link (owned by uid " + std::to_string(link.st_uid) + ", in " + parent +
        " with mode " + ModeText(st.st_mode) + ", owner uid " + std::to_string(st.st_uid) +
        ") that others could have planted; refusing to follow it (use the real path)");
  }
  return Status::Ok();
}

// Creates the missing parents of `path` (0755) and `path` itself (`mode`).
Status CreateMissing(const std::string& path, unsigned mode) {
  for (size_t pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    const std::string parent = path.substr(0, pos);
    if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST)
      return Status::FromErrno("mkdir " + parent, errno);
  }
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return Status::FromErrno("mkdir " + path, errno);
  return Status::Ok();
}

}  // namespace

Result<SafeDir> SafeDir::Open(const std::string& path, unsigned create_mode) {
  return OpenChecked(path, create_mode, /*root_reads_any_owner=*/false);
}

Result<SafeDir> SafeDir::OpenForReading(const std::string& path) {
  return OpenChecked(path, 0, /*root_reads_any_owner=*/true);
}

Result<SafeDir> SafeDir::OpenChecked(const std::string& path_in, unsigned create_mode,
                                     bool root_reads_any_owner) {
  const std::string path = StripTrailingSlashes(path_in);
  if (path.empty()) return Status::InvalidArgument("empty directory path");
  if (create_mode != 0) RESMETER_RETURN_IF_ERROR(CreateMissing(path, create_mode));
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    const int err = errno;
    struct stat link;
    if ((err != ELOOP && err != ENOTDIR) || ::lstat(path.c_str(), &link) != 0 || !S_ISLNK(link.st_mode))
      return DirOpenError(AT_FDCWD, path, path, err);
    // Only a link that nobody but root or us could have made is followed
    // (systemd's DynamicUser= /var/lib/NAME -> private/NAME).
    RESMETER_RETURN_IF_ERROR(CheckTrustedLink(path, link));
    fd.reset(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return Status::FromErrno("cannot open directory " + path, errno);
  }
  RESMETER_RETURN_IF_ERROR(CheckTrusted(fd.get(), path, root_reads_any_owner && ::geteuid() == 0));
  SafeDir dir(std::move(fd), path);
  dir.trusted_ = true;
  return dir;
}

Result<SafeDir> SafeDir::OpenUnchecked(const std::string& path_in) {
  const std::string path = path_in.empty() ? "." : path_in;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return DirOpenError(AT_FDCWD, path, path, errno);
  return SafeDir(std::move(fd), path);
}

Result<SafeDir> SafeDir::OpenSubdir(const std::string& name, unsigned create_mode) const {
  RESMETER_RETURN_IF_ERROR(CheckEntryName(name));
  if (create_mode != 0 && ::mkdirat(fd(), name.c_str(), create_mode) != 0 && errno != EEXIST)
    return Status::FromErrno("mkdir " + PathOf(name), errno);
  UniqueFd sub(::openat(fd(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!sub.valid()) return DirOpenError(fd(), name, PathOf(name), errno);
  RESMETER_RETURN_IF_ERROR(CheckTrusted(sub.get(), PathOf(name)));
  SafeDir dir(std::move(sub), PathOf(name));
  dir.trusted_ = true;
  return dir;
}

Result<UniqueFd> SafeDir::OpenFileAt(const std::string& name, int flags, unsigned mode) const {
  RESMETER_RETURN_IF_ERROR(CheckEntryName(name));
  const std::string display = PathOf(name);
  const bool creating = (flags & O_CREAT) != 0;
  const bool writing = (flags & O_ACCMODE) != O_RDONLY;
  // Look before opening: a FIFO or device must not even be opened.
  struct stat st;
  if (::fstatat(fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) return SymlinkRefused(display);
    if (!S_ISREG(st.st_mode))
      return Status::PermissionDenied(display + " is not a regular file; refusing it");
    if (creating && (flags & O_EXCL)) return Status::InvalidArgument(display + " already exists");
  } else if (errno != ENOENT) {
    return Status::FromErrno("cannot stat " + display, errno);
  } else if (!creating) {
    return Status::NotFound(display + ": no such file");
  }
  // O_TRUNC waits until the file is known to be ours alone.
  const int open_flags = (flags & ~O_TRUNC) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
  UniqueFd file(::openat(fd(), name.c_str(), open_flags, static_cast<mode_t>(mode)));
  if (!file.valid()) {
    if (errno == ELOOP) return SymlinkRefused(display);
    if (errno == EEXIST) return Status::InvalidArgument(display + " already exists");
    if (errno == ENOENT) return Status::NotFound(display + ": no such file");
    return Status::FromErrno("cannot open " + display, errno);
  }
  if (::fstat(file.get(), &st) != 0) return Status::FromErrno("cannot stat " + display, errno);
  if (!S_ISREG(st.st_mode)) return Status::PermissionDenied(display + " is not a regular file; refusing it");
  if (writing && st.st_nlink > 1) {
    return Status::PermissionDenied(display + " has " + std::to_string(st.st_nlink) +
                                    " hard links; refusing to write through it");
  }
  const int fl = ::fcntl(file.get(), F_GETFL);
  if (fl < 0 || ::fcntl(file.get(), F_SETFL, fl & ~O_NONBLOCK) != 0)
    return Status::FromErrno("cannot set flags of " + display, errno);
  if ((flags & O_TRUNC) && writing && ::ftruncate(file.get(), 0) != 0)
    return Status::FromErrno("cannot truncate " + display, errno);
  return file;
}

Result<std::string> SafeDir::ReadFileAt(const std::string& name, size_t max_bytes) const {
  RESMETER_ASSIGN_OR_RETURN(UniqueFd file, OpenFileAt(name, O_RDONLY));
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(file.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("cannot read " + PathOf(name), errno);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes)
      return Status::InvalidArgument(PathOf(name) + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  return out;
}

Status SafeDir::RenameAt(const std::string& from, const std::string& to, bool replace) const {
  RESMETER_RETURN_IF_ERROR(CheckEntryName(from));
  RESMETER_RETURN_IF_ERROR(CheckEntryName(to));
  struct stat st;
  if (trusted_ && ::fstatat(fd(), to.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    return SymlinkRefused(PathOf(to));
  if (replace) {
    if (::renameat(fd(), from.c_str(), fd(), to.c_str()) != 0)
      return Status::FromErrno("cannot rename " + PathOf(from) + " to " + to, errno);
    return Status::Ok();
  }
  if (::renameat2(fd(), from.c_str(), fd(), to.c_str(), RENAME_NOREPLACE) == 0) return Status::Ok();
  if (errno == EEXIST) return Status::InvalidArgument(PathOf(to) + " already exists");
  if (errno != EINVAL && errno != ENOSYS)
    return Status::FromErrno("cannot rename " + PathOf(from) + " to " + to, errno);
  // A file system without RENAME_NOREPLACE: a hard link cannot replace either.
  if (::linkat(fd(), from.c_str(), fd(), to.c_str(), 0) != 0) {
    if (errno == EEXIST) return Status::InvalidArgument(PathOf(to) + " already exists");
    return Status::FromErrno("cannot rename " + PathOf(from) + " to " + to, errno);
  }
  return UnlinkAt(from);
}

Status SafeDir::UnlinkAt(const std::string& name) const {
  RESMETER_RETURN_IF_ERROR(CheckEntryName(name));
  if (::unlinkat(fd(), name.c_str(), 0) != 0) {
    if (errno == ENOENT) return Status::NotFound(PathOf(name) + ": no such file");
    return Status::FromErrno("cannot remove " + PathOf(name), errno);
  }
  return Status::Ok();
}

Result<struct stat> SafeDir::StatAt(const std::string& name) const {
  RESMETER_RETURN_IF_ERROR(CheckEntryName(name));
  struct stat st;
  if (::fstatat(fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::NotFound(PathOf(name) + ": no such file");
    return Status::FromErrno("cannot stat " + PathOf(name), errno);
  }
  return st;
}

Result<std::vector<std::string>> SafeDir::List() const {
  // A fresh descriptor of our own: readdir moves the offset it reads from.
  int own = ::openat(fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (own < 0) return Status::FromErrno("cannot list " + path_, errno);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(own), ::closedir);
  if (!dir) {
    int e = errno;
    ::close(own);
    return Status::FromErrno("cannot list " + path_, e);
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir.get())) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status SafeDir::Sync() const {
  if (::fsync(fd()) != 0) return Status::FromErrno("cannot sync directory " + path_, errno);
  return Status::Ok();
}

}  // namespace resmeter
