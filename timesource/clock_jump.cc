// Clock-jump detection by comparing wall and monotonic progress.
#include "timesource/clock_jump.h"

#include <cmath>
#include <cstdio>

namespace resmeter {

nlohmann::json ClockJump::ToJson() const {
  return {{"wall_elapsed_seconds", wall_elapsed_seconds},
          {"monotonic_elapsed_seconds", monotonic_elapsed_seconds},
          {"jump_seconds", jump_seconds},
          {"allowed_seconds", allowed_seconds}};
}

std::string ClockJump::Message() const {
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "wall clock jumped %+.6f s relative to monotonic time over %.3f s (allowed %.6f s)",
                jump_seconds, monotonic_elapsed_seconds, allowed_seconds);
  return buf;
}

ClockJumpDetector::ClockJumpDetector(Env* env, ClockJumpOptions options) : env_(env), options_(options) {}

std::optional<ClockJump> ClockJumpDetector::Compare(double wall0, double mono0, double wall1,
                                                    double mono1) const {
  ClockJump j;
  j.wall_elapsed_seconds = wall1 - wall0;
  j.monotonic_elapsed_seconds = mono1 - mono0;
  j.jump_seconds = j.wall_elapsed_seconds - j.monotonic_elapsed_seconds;
  j.allowed_seconds = std::max(0.0, error_bound_seconds_) +
                      std::fabs(j.monotonic_elapsed_seconds) * options_.max_rate_ppm * 1e-6 +
                      options_.min_jump_seconds;
  if (std::fabs(j.jump_seconds) > j.allowed_seconds) return j;
  return std::nullopt;
}

std::optional<ClockJump> ClockJumpDetector::Sample() {
  double mono = env_->MonotonicSeconds();
  double wall = env_->WallSeconds();
  std::optional<ClockJump> jump;
  if (have_sample_) jump = Compare(last_wall_, last_mono_, wall, mono);
  have_sample_ = true;
  last_wall_ = wall;
  last_mono_ = mono;
  return jump;
}

}  // namespace resmeter
