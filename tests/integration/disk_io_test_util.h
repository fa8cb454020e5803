// Helpers for the disk.io integration tests: run the meter in-process or in
// a forked child, temporary directories, mounts and shell commands.
#pragma once

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/env.h"
#include "meters/disk/disk_io.h"
#include "meters/registry/registry.h"
#include "support/cgroup_files.h"

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

// A loop device attached to a file or a block device; detached on destruction.
class LoopDevice {
 public:
  // Attaches `backing` with extra losetup options; returns an empty string
  // on success, else why not. `scratch` is a file for losetup's output.
  std::string Attach(const std::string& backing, const std::string& options, const std::string& scratch) {
    if (!Sh("losetup -f --show " + options + " " + backing + " > " + scratch + " 2>/dev/null"))
      return "losetup could not attach a loop device here";
    dev_ = ReadTextFile(scratch);
    while (!dev_.empty() && dev_.back() == '\n') dev_.pop_back();
    struct stat st;
    if (::stat(dev_.c_str(), &st) != 0) return "cannot stat " + dev_;
    majmin_ = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
    return "";
  }
  ~LoopDevice() {
    if (!dev_.empty()) Sh("losetup -d " + dev_);
  }
  const std::string& path() const { return dev_; }
  const std::string& majmin() const { return majmin_; }
  // /sys/block/loopN/queue/<attribute>
  std::string QueueAttribute(const std::string& attribute) const {
    return "/sys/block/" + dev_.substr(dev_.rfind('/') + 1) + "/queue/" + attribute;
  }

 private:
  std::string dev_, majmin_;
};

// A cgroup with a read throttle on one device (cgroup v1
// blkio.throttle.read_{bps,iops}_device, or v2 io.max); removed on destruction.
class ThrottledCgroup {
 public:
  enum Kind { kReadBps, kReadIops };
  // Returns an empty reason on success, else why no throttle can be set here.
  std::string Create(const std::string& majmin, Kind kind, uint64_t limit) {
    const std::string name = "resmeter-disk-test-" + std::to_string(::getpid());
    const std::string v1 = "/sys/fs/cgroup/blkio";
    if (::access((v1 + "/blkio.throttle.read_bps_device").c_str(), W_OK) == 0) {
      dir_ = v1 + "/" + name;
      if (::mkdir(dir_.c_str(), 0755) != 0) return "cannot create " + dir_;
      v1_ = true;
      kind_ = "cgroup v1 blkio.throttle";
      return Set(majmin, kind, limit);
    }
    for (const std::string root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
      if (ReadTextFile(root + "/cgroup.controllers").find("io") == std::string::npos) continue;
      WriteCgroupFile(root + "/cgroup.subtree_control", "+io");
      dir_ = root + "/" + name;
      if (::mkdir(dir_.c_str(), 0755) != 0) return "cannot create " + dir_;
      kind_ = "cgroup v2 io.max";
      return Set(majmin, kind, limit);
    }
    return "no writable cgroup v1 blkio throttle and no cgroup v2 io controller";
  }
  // Changes the limit; empty on success.
  std::string Set(const std::string& majmin, Kind kind, uint64_t limit) const {
    const std::string n = std::to_string(limit);
    if (v1_) {
      const std::string file = kind == kReadBps ? "read_bps_device" : "read_iops_device";
      if (!WriteCgroupFile(dir_ + "/blkio.throttle." + file, majmin + " " + n))
        return "cannot write blkio.throttle." + file;
      return "";
    }
    if (!WriteCgroupFile(dir_ + "/io.max", majmin + (kind == kReadBps ? " rbps=" : " riops=") + n))
      return "cannot write io.max";
    return "";
  }
  ~ThrottledCgroup() {
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  // Moves the calling process into the cgroup.
  bool Join() const { return WriteCgroupFile(dir_ + "/cgroup.procs", std::to_string(::getpid())); }
  const std::string& kind() const { return kind_; }

 private:
  std::string dir_, kind_;
  bool v1_ = false;
};

}  // namespace resmeter::disk_test
