// The POSIX implementation of Env: the only place meters touch the OS.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <memory>

#include "core/env.h"
#include "core/posix_directory.h"
#include "core/safe_dir.h"
#include "core/strings.h"

namespace resmeter {
namespace {

class PosixEnv final : public Env {
 public:
  Result<std::string> ReadFile(const std::string& path) const override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound(path + ": no such file");
      return Status::FromErrno(path, errno);
    }
    std::string out;
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        ::close(fd);
        return Status::FromErrno(path, e);
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) const override {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()), ::closedir);
    if (!dir) {
      if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound(path + ": no such directory");
      return Status::FromErrno(path, errno);
    }
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(dir.get())) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  bool Exists(const std::string& path) const override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }

  Result<std::unique_ptr<Directory>> OpenDirectory(const std::string& path, unsigned create_mode) override {
    RESMETER_ASSIGN_OR_RETURN(SafeDir dir, SafeDir::Open(path, create_mode));
    return NewPosixDirectory(std::move(dir));
  }

  double MonotonicSeconds() const override { return ClockSeconds(CLOCK_MONOTONIC_RAW); }
  double WallSeconds() const override { return ClockSeconds(CLOCK_REALTIME); }

  void SleepFor(double seconds) override {
    if (!(seconds > 0)) return;
    struct timespec ts;
    ts.tv_sec = static_cast<time_t>(seconds);
    ts.tv_nsec = static_cast<long>((seconds - std::floor(seconds)) * 1e9);
    while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }

 private:
  static double ClockSeconds(clockid_t id) {
    struct timespec ts;
    ::clock_gettime(id, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
};

}  // namespace

Result<std::unique_ptr<Directory>> Env::OpenDirectory(const std::string& path, unsigned /*create_mode*/) {
  return Status::NotSupported("this environment does not write files (" + path + ")");
}

Env* DefaultEnv() {
  static Env* env = new PosixEnv();
  return env;
}

Result<std::string> ReadTrimmedFile(const Env& env, const std::string& path) {
  RESMETER_ASSIGN_OR_RETURN(std::string text, env.ReadFile(path));
  return std::string(Trim(text));
}

Result<int64_t> ReadIntFile(const Env& env, const std::string& path) {
  RESMETER_ASSIGN_OR_RETURN(std::string text, ReadTrimmedFile(env, path));
  auto value = ParseInt64(text);
  if (!value) return Status::Corruption(path + ": expected an integer, got '" + text + "'");
  return *value;
}

}  // namespace resmeter
