#include "core/posix_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/unique_fd.h"

namespace resmeter {
namespace {

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(UniqueFd fd, std::string path, uint64_t size_bytes)
      : fd_(std::move(fd)), path_(std::move(path)), size_(size_bytes) {}

  Status Append(std::string_view bytes) override {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::write(fd_.get(), bytes.data() + off, bytes.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Status::FromErrno("cannot write " + path_, n < 0 ? errno : EIO);
      off += static_cast<size_t>(n);
      size_ += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (::fsync(fd_.get()) != 0) return Status::FromErrno("cannot sync " + path_, errno);
    return Status::Ok();
  }

  Status Truncate(uint64_t size_bytes) override {
    if (::ftruncate(fd_.get(), static_cast<off_t>(size_bytes)) != 0)
      return Status::FromErrno("cannot truncate " + path_, errno);
    size_ = size_bytes;
    return Status::Ok();
  }

  uint64_t Size() const override { return size_; }

  Status Close() override {
    if (!fd_.valid()) return Status::IOError(path_ + ": already closed");
    if (::close(fd_.release()) != 0) return Status::FromErrno("cannot close " + path_, errno);
    return Status::Ok();
  }

 private:
  UniqueFd fd_;  // O_APPEND: every write lands at the end
  std::string path_;
  uint64_t size_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(UniqueFd fd) : fd_(std::move(fd)) {}  // closing releases the flock

 private:
  UniqueFd fd_;
};

class PosixDirectory final : public Directory {
 public:
  explicit PosixDirectory(SafeDir dir) : dir_(std::move(dir)) {}

  const std::string& path() const override { return dir_.path(); }

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& name, WriteMode mode,
                                                     unsigned perm) override {
    int flags = O_WRONLY | O_APPEND | O_CREAT;
    if (mode == WriteMode::kCreateExclusive) flags |= O_EXCL;
    if (mode == WriteMode::kTruncate) flags |= O_TRUNC;
    RESMETER_ASSIGN_OR_RETURN(UniqueFd fd, dir_.OpenFileAt(name, flags, perm));
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return Status::FromErrno("cannot stat " + PathOf(name), errno);
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(std::move(fd), PathOf(name), static_cast<uint64_t>(st.st_size)));
  }

  Result<std::string> ReadAt(const std::string& name, uint64_t offset, size_t max_bytes) const override {
    RESMETER_ASSIGN_OR_RETURN(UniqueFd fd, dir_.OpenFileAt(name, O_RDONLY));
    std::string out(max_bytes, '\0');
    size_t got = 0;
    while (got < max_bytes) {
      ssize_t n = ::pread(fd.get(), out.data() + got, max_bytes - got, static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::FromErrno("cannot read " + PathOf(name), errno);
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    out.resize(got);
    return out;
  }

  Result<DirEntryInfo> Stat(const std::string& name) const override {
    RESMETER_ASSIGN_OR_RETURN(struct stat st, dir_.StatAt(name));
    DirEntryInfo info;
    info.size_bytes = static_cast<uint64_t>(st.st_size);
    info.type = S_ISREG(st.st_mode)   ? DirEntryInfo::Type::kRegular
                : S_ISDIR(st.st_mode) ? DirEntryInfo::Type::kDirectory
                : S_ISLNK(st.st_mode) ? DirEntryInfo::Type::kSymlink
                                      : DirEntryInfo::Type::kOther;
    return info;
  }

  Result<std::vector<std::string>> List() const override { return dir_.List(); }

  Status Rename(const std::string& from, const std::string& to, RenameMode mode) override {
    return dir_.RenameAt(from, to, mode == RenameMode::kReplace);
  }

  Status Remove(const std::string& name) override { return dir_.UnlinkAt(name); }

  Status Sync() override { return dir_.Sync(); }

  Result<std::unique_ptr<FileLock>> LockExclusive(const std::string& name) override {
    RESMETER_ASSIGN_OR_RETURN(UniqueFd fd, dir_.OpenFileAt(name, O_RDWR | O_CREAT, 0600));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) return std::unique_ptr<FileLock>();
      return Status::FromErrno("cannot lock " + PathOf(name), errno);
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(std::move(fd)));
  }

  Result<std::unique_ptr<Directory>> OpenSubdirectory(const std::string& name,
                                                      unsigned create_mode) override {
    RESMETER_ASSIGN_OR_RETURN(SafeDir sub, dir_.OpenSubdir(name, create_mode));
    return NewPosixDirectory(std::move(sub));
  }

 private:
  SafeDir dir_;
};

}  // namespace

std::unique_ptr<Directory> NewPosixDirectory(SafeDir dir) {
  return std::unique_ptr<Directory>(new PosixDirectory(std::move(dir)));
}

}  // namespace resmeter
