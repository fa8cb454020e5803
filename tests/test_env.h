// SnapshotEnv: an Env for unit tests that serves fixture trees as if they
// were the live filesystem, one snapshot at a time, on a fake clock.
//
// Each snapshot is (time, host directory). A path P read through the Env is
// served from <directory of the latest snapshot whose time <= now> + P, so a
// meter reading "/proc/stat" with proc_root "/proc" sees
// tests/fixtures/cpu_time/steal/t0/proc/stat first and .../t1/proc/stat once
// SleepFor() has advanced the fake clock to t1's time. The clock starts at 0;
// SleepFor never blocks. Not thread-safe (tests drive it from one thread at
// a time; the clock is atomic so a meter thread may read it).
#pragma once

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "core/env.h"

namespace resmeter {

class SnapshotEnv final : public Env {
 public:
  // REQUIRES: snapshots sorted by time, the first at time 0.
  explicit SnapshotEnv(std::vector<std::pair<double, std::string>> snapshots, double wall_epoch = 1.7e9)
      : snapshots_(std::move(snapshots)), wall_epoch_(wall_epoch) {}

  // Snapshots <dir>/<name> for each name, `step` seconds apart.
  static SnapshotEnv Sequence(const std::string& dir, const std::vector<std::string>& names, double step) {
    std::vector<std::pair<double, std::string>> snaps;
    for (size_t i = 0; i < names.size(); ++i)
      snaps.emplace_back(step * static_cast<double>(i), dir + "/" + names[i]);
    return SnapshotEnv(std::move(snaps));
  }

  Result<std::string> ReadFile(const std::string& path) const override {
    reads_++;
    return DefaultEnv()->ReadFile(Current() + path);
  }
  Result<std::vector<std::string>> ListDir(const std::string& path) const override {
    return DefaultEnv()->ListDir(Current() + path);
  }
  bool Exists(const std::string& path) const override { return DefaultEnv()->Exists(Current() + path); }
  double MonotonicSeconds() const override { return now_.load(); }
  double WallSeconds() const override { return wall_epoch_ + now_.load(); }
  void SleepFor(double seconds) override {
    if (seconds > 0) now_.store(now_.load() + seconds);
    sleeps_++;
  }

  // Test accessors.
  int sleeps() const { return sleeps_; }
  int reads() const { return reads_; }
  double now() const { return now_.load(); }

 private:
  // The directory of the snapshot in effect now (a 1 us tolerance absorbs
  // rounding from sleeping in slices).
  const std::string& Current() const {
    size_t i = 0;
    while (i + 1 < snapshots_.size() && snapshots_[i + 1].first <= now_.load() + 1e-6) ++i;
    return snapshots_[i].second;
  }

  std::vector<std::pair<double, std::string>> snapshots_;
  double wall_epoch_;
  std::atomic<double> now_{0};
  std::atomic<int> sleeps_{0};
  mutable std::atomic<int> reads_{0};
};

// FakeClockEnv: an Env with no files whose two clocks the test sets or
// moves (SleepFor advances both); for clock-jump and time-meter tests.
class FakeClockEnv final : public Env {
 public:
  FakeClockEnv(double mono_start, double wall_start) : mono(mono_start), wall(wall_start) {}
  Result<std::string> ReadFile(const std::string& p) const override { return Status::NotFound(p); }
  Result<std::vector<std::string>> ListDir(const std::string& p) const override {
    return Status::NotFound(p);
  }
  bool Exists(const std::string&) const override { return false; }
  double MonotonicSeconds() const override { return mono; }
  double WallSeconds() const override { return wall; }
  void SleepFor(double s) override {
    mono += s;
    wall += s;
  }
  double mono;
  double wall;
};

}  // namespace resmeter
