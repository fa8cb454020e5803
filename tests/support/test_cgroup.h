// TestCgroup: a cgroup made by a root-only integration test with the cpu or
// memory controller (v1 or v2, whichever the machine mounts), removed when
// the object goes away; and RunInChild, which runs a function in a forked
// child placed in the cgroup and returns the JSON it produced. Test support only.
#pragma once

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/strings.h"
#include "support/cgroup_files.h"

namespace resmeter {

class TestCgroup {
 public:
  // controller: "cpu" or "memory". Finds a hierarchy with it and makes a
  // child; returns an empty string on success, else why not.
  std::string Create(const std::string& controller) {
    std::istringstream mounts(ReadTextFile("/proc/self/mounts"));
    std::string line, v1, v2;
    while (std::getline(mounts, line)) {
      std::vector<std::string_view> f = SplitWhitespace(line);
      if (f.size() < 4) continue;
      if (f[2] == "cgroup2") {
        for (std::string_view c : SplitWhitespace(ReadTextFile(std::string(f[1]) + "/cgroup.controllers"))) {
          if (c == controller) v2 = f[1];
        }
      } else if (f[2] == "cgroup") {
        for (std::string_view o : Split(f[3], ',')) {
          if (o == controller) v1 = f[1];
        }
      }
    }
    const std::string name = "/resmeter_" + controller + "_test_" + std::to_string(getpid());
    if (!v1.empty()) {
      v2_ = false;
      dir_ = v1 + name;
    } else if (!v2.empty()) {
      v2_ = true;
      dir_ = v2 + name;
      WriteCgroupFile(v2 + "/cgroup.subtree_control", "+" + controller);
    } else {
      return "no cgroup hierarchy with the " + controller + " controller is mounted";
    }
    if (mkdir(dir_.c_str(), 0755) != 0) return "mkdir " + dir_ + " failed";
    created_ = true;
    return "";
  }
  ~TestCgroup() {
    if (created_) rmdir(dir_.c_str());
  }
  // Highest CPU weight: other tenants of a shared machine cannot starve the child.
  bool SetMaxCpuWeight() {
    return v2_ ? WriteCgroupFile(dir_ + "/cpu.weight", "10000")
               : WriteCgroupFile(dir_ + "/cpu.shares", "262144");
  }
  // Sets the CPU quota in microseconds per 100 ms period; quota < 0 removes it.
  bool SetCpuQuota(long quota_us) {
    const long period = 100000;
    if (v2_)
      return WriteCgroupFile(
          dir_ + "/cpu.max",
          (quota_us < 0 ? std::string("max") : std::to_string(quota_us)) + " " + std::to_string(period));
    return WriteCgroupFile(dir_ + "/cpu.cfs_period_us", std::to_string(period)) &&
           WriteCgroupFile(dir_ + "/cpu.cfs_quota_us", std::to_string(quota_us < 0 ? -1 : quota_us));
  }
  // Limits RAM (not swap) to `bytes`.
  bool SetMemoryLimit(uint64_t bytes) {
    if (v2_) return WriteCgroupFile(dir_ + "/memory.max", std::to_string(bytes));
    return WriteCgroupFile(dir_ + "/memory.limit_in_bytes", std::to_string(bytes));
  }
  bool AddPid(pid_t pid) { return WriteCgroupFile(dir_ + "/cgroup.procs", std::to_string(pid)); }
  const std::string& dir() const { return dir_; }
  bool v2() const { return v2_; }

 private:
  std::string dir_;
  bool v2_ = false;
  bool created_ = false;
};

// Forks a child, moves it into `cg`, runs `body` there and returns the JSON
// it returned ({"error": ...} when anything failed).
inline nlohmann::json RunInChild(TestCgroup& cg, const std::function<nlohmann::json()>& body) {
  int go[2], back[2];
  if (pipe(go) != 0 || pipe(back) != 0) return {{"error", "pipe"}};
  pid_t pid = fork();
  if (pid == 0) {
    close(go[1]);
    close(back[0]);
    char c;
    if (read(go[0], &c, 1) != 1) _exit(3);
    const std::string out = body().dump();
    size_t off = 0;
    while (off < out.size()) {
      ssize_t n = write(back[1], out.data() + off, out.size() - off);
      if (n <= 0) _exit(4);
      off += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(go[0]);
  close(back[1]);
  const bool added = cg.AddPid(pid);
  if (write(go[1], "g", 1) != 1) {
  }
  close(go[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(back[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(back[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!added) return {{"error", "could not move the child into " + cg.dir()}};
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.empty())
    return {{"error", "child failed (status " + std::to_string(status) + ")"}};
  return nlohmann::json::parse(out, nullptr, false);
}

}  // namespace resmeter
