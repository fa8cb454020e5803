// Helpers for the disk.io integration tests: run the meter in-process or in
// a forked child, temporary directories, mounts and shell commands.
#pragma once

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "core/env.h"
#include "meters/disk/disk_io.h"
#include "meters/registry/registry.h"

namespace resmeter::disk_test {

// The disk.io defaults from the registry row, shrunk for tests (16 MiB file,
// 0.1 s warm-up, 0.3 s windows, deep queue 8).
inline Options SmallDiskOptions(const std::string& dir) {
  Options o;
  for (const auto& spec : FindMeter("disk.io")->options) o.Set(spec.key, spec.default_value);
  o.Set("directory", dir);
  o.Set("file_size_bytes", 16 << 20);
  o.Set("free_space_margin_bytes", 0);
  o.Set("warmup_seconds", 0.1);
  o.Set("duration_seconds", 0.3);
  o.Set("deep_queue_depth", 8);
  return o;
}

// Runs disk.io once in this process with `options`.
inline MeterResult RunDiskIo(const Options& options, std::shared_ptr<std::atomic<bool>> cancel = nullptr) {
  MeterContext ctx;
  ctx.env = DefaultEnv();
  ctx.options = options;
  if (cancel) ctx.cancel_flag = cancel;
  ctx.deadline_monotonic_seconds = ctx.env->MonotonicSeconds() + 300;
  DiskIoMeter meter;
  return meter.Measure(ctx);
}

// A fresh directory under /var/tmp (a real disk, not tmpfs); removed recursively on destruction.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/var/tmp/resmeter-disk-test-XXXXXX";
    path_ = ::mkdtemp(tmpl) ? tmpl : "";
  }
  ~TempDir() {
    if (!path_.empty()) (void)std::system(("umount -q " + path_ + "/* 2>/dev/null; rm -rf " + path_).c_str());
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Entries of a directory (names), via the Env.
inline std::vector<std::string> Entries(const std::string& dir) {
  auto r = DefaultEnv()->ListDir(dir);
  return r.ok() ? *r : std::vector<std::string>{"<cannot list " + dir + ">"};
}

// Runs `body` in a forked child; returns the raw wait status. The child's
// exit code is body()'s return value.
inline int InChild(const std::function<int()>& body, pid_t* child_pid = nullptr,
                   const std::function<void(pid_t)>& parent_while_running = {}) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  if (child_pid) *child_pid = pid;
  if (parent_while_running) parent_while_running(pid);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

inline bool IsRoot() { return ::geteuid() == 0; }

// Runs a shell command; true on exit 0.
inline bool Sh(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

}  // namespace resmeter::disk_test
