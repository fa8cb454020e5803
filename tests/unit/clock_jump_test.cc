// Clock-jump detection with a fake clock.
#include "timesource/clock_jump.h"

#include <gtest/gtest.h>

namespace resmeter {
namespace {

// An Env whose clocks the test sets.
class FakeClockEnv final : public Env {
 public:
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
  double mono = 100;
  double wall = 1.7e9;
};

TEST(ClockJump, first_sample_is_a_baseline_and_steady_clocks_are_quiet) {
  FakeClockEnv env;
  ClockJumpDetector d(&env);
  EXPECT_FALSE(d.Sample());
  for (int i = 0; i < 10; ++i) {
    env.SleepFor(60);
    env.wall += 60 * 20e-6;  // a 20 ppm frequency correction is not a jump
    EXPECT_FALSE(d.Sample()) << i;
  }
}

TEST(ClockJump, step_forward_and_back_are_findings) {
  FakeClockEnv env;
  ClockJumpDetector d(&env);
  d.Sample();
  env.SleepFor(60);
  env.wall += 3600;  // someone moved the clock an hour ahead
  auto j = d.Sample();
  ASSERT_TRUE(j);
  EXPECT_NEAR(j->jump_seconds, 3600, 1e-6);
  EXPECT_NEAR(j->monotonic_elapsed_seconds, 60, 1e-9);
  EXPECT_NE(j->Message().find("+3600.000000 s"), std::string::npos) << j->Message();
  EXPECT_EQ(j->ToJson()["jump_seconds"].get<double>(), j->jump_seconds);
  env.SleepFor(60);
  env.wall -= 5;
  auto back = d.Sample();
  ASSERT_TRUE(back);
  EXPECT_NEAR(back->jump_seconds, -5, 1e-6);
  env.SleepFor(60);
  EXPECT_FALSE(d.Sample()) << "only the interval with the step reports it";
}

TEST(ClockJump, allowance_grows_with_error_bound_and_interval) {
  FakeClockEnv env;
  ClockJumpDetector d(&env, ClockJumpOptions{1000, 0.01});
  // 10 s at 1000 ppm = 10 ms, + 10 ms minimum = 20 ms allowed.
  EXPECT_FALSE(d.Compare(0, 0, 10.019, 10));
  EXPECT_TRUE(d.Compare(0, 0, 10.021, 10));
  d.SetErrorBound(0.5);
  EXPECT_FALSE(d.Compare(0, 0, 10.5, 10));
  auto j = d.Compare(0, 0, 10.6, 10);
  ASSERT_TRUE(j);
  EXPECT_NEAR(j->allowed_seconds, 0.52, 1e-9);
}

}  // namespace
}  // namespace resmeter
