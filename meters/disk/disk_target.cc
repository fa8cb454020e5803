#include "meters/disk/disk_target.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "core/temp_path_registry.h"
#include "meters/disk/io_job_support.h"

namespace resmeter {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kFillChunk = 1 * kMiB;

std::string MiB(uint64_t bytes) { return std::to_string(bytes / kMiB) + " MiB"; }

// Removes trailing slashes (but keeps "/").
std::string StripTrailingSlashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

Status CheckScratchDirectory(const std::string& directory_in) {
  const std::string directory = StripTrailingSlashes(directory_in);
  if (directory.empty() || directory[0] != '/') {
    return Status::InvalidArgument("meters.disk.io.directory must be an absolute path, got '" + directory_in +
                                   "'");
  }
  struct stat st;
  if (::lstat(directory.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("disk.io directory " + directory + " does not exist");
    return Status::FromErrno("disk.io directory " + directory, errno);
  }
  char real[PATH_MAX];
  if (::realpath(directory.c_str(), real) == nullptr)
    return Status::FromErrno("disk.io directory " + directory, errno);
  if (directory != real) {
    return Status::PermissionDenied("disk.io directory " + directory + " goes through a symlink to " + real +
                                    "; refusing to write there (configure the real path)");
  }
  if (!S_ISDIR(st.st_mode))
    return Status::InvalidArgument("disk.io directory " + directory + " is not a directory");
  if (::access(directory.c_str(), W_OK | X_OK) != 0) {
    return Status::PermissionDenied("disk.io directory " + directory +
                                    " is not writable: " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<std::unique_ptr<DiskTarget>> DiskTarget::CreateScratchFile(const ScratchFileSpec& spec) {
  const std::string dir = StripTrailingSlashes(spec.directory);
  RESMETER_RETURN_IF_ERROR(CheckScratchDirectory(dir));
  struct statvfs vfs;
  if (::statvfs(dir.c_str(), &vfs) != 0) return Status::FromErrno("statvfs " + dir, errno);
  const uint64_t avail = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  const uint64_t need = spec.size_bytes + spec.free_space_margin_bytes;
  if (avail < need) {
    return Status::IOError("disk full: " + dir + " has " + MiB(avail) + " free, disk.io needs " + MiB(need) +
                           " (file_size_bytes + free_space_margin_bytes)");
  }

  std::unique_ptr<DiskTarget> t(new DiskTarget());
  SplitMix64 name_rng(spec.seed ^ static_cast<uint64_t>(::getpid()));
  char name[64];
  std::snprintf(name, sizeof name, "/.resmeter-disk-io-%d-%016llx.tmp", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(name_rng.Next()));
  t->path_ = (dir == "/" ? "" : dir) + name;
  t->size_ = spec.size_bytes;
  t->direct_ = spec.direct;
  t->fd_ = ::open(t->path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (t->fd_ < 0) {
    int e = errno;
    if (e == ENOSPC)
      return Status::IOError("disk full: cannot create " + t->path_ + ": No space left on device");
    return Status::FromErrno("cannot create disk.io scratch file " + t->path_, e);
  }
  struct stat st;
  if (::fstat(t->fd_, &st) != 0) {
    int e = errno;
    ::unlink(t->path_.c_str());
    return Status::FromErrno("fstat " + t->path_, e);
  }
  t->owned_file_ = true;
  t->dev_ = st.st_dev;
  t->ino_ = st.st_ino;
  // Registered only once created, so a signal can never remove a file resmeter
  // did not create (the window between open and here is a few instructions).
  RESMETER_ASSIGN_OR_RETURN(t->registry_slot_, RegisterTempPath(t->path_));
  struct statfs sfs;
  if (::fstatfs(t->fd_, &sfs) == 0) {
    char magic[32];
    std::snprintf(magic, sizeof magic, "0x%llx", static_cast<unsigned long long>(sfs.f_type));
    t->info_["filesystem_magic"] = magic;
  }
  t->info_["device_number"] = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));

  int rc = ::posix_fallocate(t->fd_, 0, static_cast<off_t>(spec.size_bytes));
  if (rc == ENOSPC || rc == EDQUOT || rc == EFBIG) {
    return Status::IOError(std::string(rc == EFBIG ? "file size limit" : "disk full") + ": cannot allocate " +
                           MiB(spec.size_bytes) + " for " + t->path_ + ": " + std::strerror(rc));
  }
  if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) return Status::FromErrno("fallocate " + t->path_, rc);
  if (spec.direct) {
    int flags = ::fcntl(t->fd_, F_GETFL);
    if (flags < 0 || ::fcntl(t->fd_, F_SETFL, flags | O_DIRECT) != 0) {
      return Status::NotSupported("the filesystem of " + dir +
                                  " does not support O_DIRECT (set meters.disk.io.direct: false to measure "
                                  "buffered I/O)");
    }
  }
  // Fill with random data so reads hit real blocks and nothing compresses or dedups.
  IoBufferPool pool(1, kFillChunk, spec.seed);
  IoBuffer& buf = pool[0];
  SplitMix64 rng(spec.seed + 11);
  for (uint64_t off = 0; off < spec.size_bytes; off += kFillChunk) {
    if (spec.cancelled()) return Status::Cancelled("disk.io cancelled while filling " + t->path_);
    const size_t len = static_cast<size_t>(std::min<uint64_t>(kFillChunk, spec.size_bytes - off));
    buf.Scramble(rng);
    ssize_t n = ::pwrite(t->fd_, buf.data(), len, static_cast<off_t>(off));
    if (n != static_cast<ssize_t>(len)) {
      int e = n < 0 ? errno : ENOSPC;
      if (e == ENOSPC || e == EFBIG || e == EDQUOT) {
        return Status::IOError(std::string(e == EFBIG ? "file size limit" : "disk full") + ": writing " +
                               t->path_ + " failed at " + MiB(off) + " of " + MiB(spec.size_bytes) + ": " +
                               std::strerror(e));
      }
      return Status::FromErrno("writing " + t->path_ + " at offset " + std::to_string(off), e);
    }
  }
  if (::fsync(t->fd_) != 0) return Status::FromErrno("fsync " + t->path_, errno);
  return t;
}

Result<std::unique_ptr<DiskTarget>> DiskTarget::OpenBlockDevice(const std::string& path, bool direct) {
  std::unique_ptr<DiskTarget> t(new DiskTarget());
  t->path_ = path;
  t->read_only_ = true;
  t->direct_ = direct;
  t->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (direct ? O_DIRECT : 0));
  if (t->fd_ < 0) return Status::FromErrno("cannot open block device " + path + " read-only", errno);
  struct stat st;
  if (::fstat(t->fd_, &st) != 0) return Status::FromErrno("fstat " + path, errno);
  if (!S_ISBLK(st.st_mode)) {
    return Status::InvalidArgument("meters.disk.io.block_device " + path + " is not a block device");
  }
  uint64_t size = 0;
  if (::ioctl(t->fd_, BLKGETSIZE64, &size) != 0) return Status::FromErrno("BLKGETSIZE64 " + path, errno);
  int logical = 0;
  if (::ioctl(t->fd_, BLKSSZGET, &logical) == 0 && logical > 0) {
    t->alignment_ = static_cast<uint64_t>(logical) < 4096 ? 4096 : static_cast<uint64_t>(logical);
    t->info_["logical_block_size_bytes"] = logical;
  }
  t->size_ = size;
  t->info_["device_number"] = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
  return t;
}

nlohmann::json DiskTarget::ConditionsJson() const {
  nlohmann::json j = info_;
  j["kind"] = read_only_ ? "block_device" : "file";
  j["path"] = path_;
  j["size_bytes"] = size_;
  j["direct"] = direct_;
  j["read_only"] = read_only_;
  return j;
}

void DiskTarget::Remove() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (owned_file_) {
    struct stat st;
    // Unlink only if the path still names the file this object created.
    if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) ::unlink(path_.c_str());
    owned_file_ = false;
  }
  if (registry_slot_ >= 0) {
    UnregisterTempPath(registry_slot_);
    registry_slot_ = -1;
  }
}

DiskTarget::~DiskTarget() { Remove(); }

}  // namespace resmeter
