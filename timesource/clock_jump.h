// ClockJumpDetector: notices when the wall clock moves differently from the
// monotonic clock between two samples, i.e. when someone stepped the clock.
//
// The agent calls Sample() once per interval. Between two samples the wall
// clock (CLOCK_REALTIME) and the raw monotonic clock (CLOCK_MONOTONIC_RAW,
// never slewed or stepped) should advance by the same amount, up to the
// frequency correction chronyd applies. A divergence larger than
//
//   allowed = error_bound + monotonic_elapsed * max_rate_ppm * 1e-6 + min_jump
//
// is a jump: the wall clock was stepped (by chronyd, an administrator, or a
// host that rewrote the VM's clock). `error_bound` is the latest assessment's
// bound (SetErrorBound), max_rate_ppm allows for the kernel's frequency and
// slew corrections, min_jump absorbs sampling noise.
//
// Thread-compatible: one detector per sampling loop.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "core/env.h"

namespace resmeter {

struct ClockJumpOptions {
  double max_rate_ppm = 1000;  // kernel frequency limit (500 ppm) plus slewing headroom
  double min_jump_seconds = 0.01;
};

// One detected jump.
struct ClockJump {
  double wall_elapsed_seconds = 0;
  double monotonic_elapsed_seconds = 0;
  double jump_seconds = 0;  // wall minus monotonic progress (negative: clock went back)
  double allowed_seconds = 0;

  // {"wall_elapsed_seconds", "monotonic_elapsed_seconds", "jump_seconds", "allowed_seconds"}.
  nlohmann::json ToJson() const;
  // One human line: "wall clock jumped +3600.000 s relative to monotonic time ...".
  std::string Message() const;
};

class ClockJumpDetector {
 public:
  explicit ClockJumpDetector(Env* env, ClockJumpOptions options = {});
  ClockJumpDetector(const ClockJumpDetector&) = delete;
  ClockJumpDetector& operator=(const ClockJumpDetector&) = delete;

  // Sets the error bound (seconds) that the next comparisons allow; unknown: 0.
  void SetErrorBound(double seconds) { error_bound_seconds_ = seconds; }
  // Reads both clocks; returns the jump since the previous sample, if any.
  // The first call only records the baseline.
  std::optional<ClockJump> Sample();
  // Compares two pairs of readings (the pure part of Sample()).
  std::optional<ClockJump> Compare(double wall0, double mono0, double wall1, double mono1) const;

 private:
  Env* env_;
  ClockJumpOptions options_;
  double error_bound_seconds_ = 0;
  bool have_sample_ = false;
  double last_wall_ = 0;
  double last_mono_ = 0;
};

}  // namespace resmeter
