// The framework's rules for one meter call: duration measured by the runner,
// exceptions become `failed`, the timeout cancels the meter (and abandons one
// that ignores cancellation), and an external stop flag cancels at once.
// Bounds are loose on purpose: they only need the order of magnitude.
#include "meters/registry/runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "test_env.h"

namespace resmeter {
namespace {

// A meter whose Measure is the test's lambda.
class LambdaMeter final : public Meter {
 public:
  explicit LambdaMeter(std::function<MeterResult(MeterContext&)> fn) : fn_(std::move(fn)) {}
  MeterResult Measure(MeterContext& ctx) override { return fn_(ctx); }

 private:
  std::function<MeterResult(MeterContext&)> fn_;
};

// A registry row named "test.meter" around `fn`.
MeterInfo Row(std::function<MeterResult(MeterContext&)> fn) {
  return MeterInfo{"test.meter", MeterKind::kHeavy, 5, true, "test", {},
                   [fn] { return std::make_unique<LambdaMeter>(fn); }};
}

// Sleeps in 10 ms steps until cancelled, then returns `ok` (partial numbers).
MeterResult SpinUntilCancelled(MeterContext& ctx) {
  while (!ctx.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  MeterResult r = MeterResult::Ok();
  r.claims["partial"] = true;
  return r;
}

TEST(meter_runner_test, ok_result_passes_through_with_the_duration_measured_by_the_runner) {
  MeterInfo row = Row([](MeterContext&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    MeterResult r = MeterResult::Ok();
    r.claims["value"] = 7;
    r.duration_seconds = 1e6;  // a meter cannot set its own duration
    return r;
  });
  MeterRunner runner(DefaultEnv(), RunnerRoots{});
  MeterRun run = runner.Run(MeterPlan{&row, 5, Options{}});
  EXPECT_EQ(run.name, "test.meter");
  EXPECT_EQ(run.result.status, MeterStatus::kOk);
  EXPECT_EQ(run.result.claims["value"], 7);
  EXPECT_GE(run.result.duration_seconds, 0.045);
  EXPECT_LT(run.result.duration_seconds, 5);
}

TEST(meter_runner_test, measured_at_is_when_the_meter_returned_on_the_injected_clock) {
  FakeClockEnv env(10, 1.9e9);
  MeterInfo row = Row([&env](MeterContext&) {
    env.wall += 42;  // the meter takes 42 s of (fake) wall time
    return MeterResult::Ok();
  });
  MeterRunner runner(&env, RunnerRoots{});
  MeterRun run = runner.Run(MeterPlan{&row, 5, Options{}});
  EXPECT_EQ(run.result.status, MeterStatus::kOk);
  EXPECT_EQ(run.measured_at_unix_seconds, 1.9e9 + 42);
  EXPECT_EQ(run.trigger, "") << "the caller says why it ran";
}

TEST(meter_runner_test, exceptions_become_failed_with_the_message) {
  MeterInfo row = Row([](MeterContext&) -> MeterResult { throw std::runtime_error("boom"); });
  MeterRunner runner(DefaultEnv(), RunnerRoots{});
  MeterRun run = runner.Run(MeterPlan{&row, 5, Options{}});
  EXPECT_EQ(run.result.status, MeterStatus::kFailed);
  EXPECT_EQ(run.result.reason, "internal error: boom");
}

TEST(meter_runner_test, timeout_cancels_and_partial_ok_becomes_failed) {
  MeterInfo row = Row(SpinUntilCancelled);
  MeterRunner runner(DefaultEnv(), RunnerRoots{});
  MeterRun run = runner.Run(MeterPlan{&row, 0.2, Options{}});
  EXPECT_EQ(run.result.status, MeterStatus::kFailed);
  EXPECT_EQ(run.result.reason, "timed out after 0.2 s");
  EXPECT_TRUE(run.result.claims.empty()) << "partial numbers are not reported";
  EXPECT_GE(run.result.duration_seconds, 0.19);
  EXPECT_LT(run.result.duration_seconds, 0.2 + MeterRunner::kCancelGraceSeconds);
}

TEST(meter_runner_test, a_meter_that_ignores_cancellation_is_abandoned_after_the_grace_period) {
  auto release = std::make_shared<std::atomic<bool>>(false);
  MeterInfo row = Row([release](MeterContext&) {
    while (!release->load()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return MeterResult::Ok();
  });
  MeterRunner runner(DefaultEnv(), RunnerRoots{});
  MeterRun run = runner.Run(MeterPlan{&row, 0.1, Options{}});
  release->store(true);  // lets the abandoned thread end before the test exits
  EXPECT_EQ(run.result.status, MeterStatus::kFailed);
  EXPECT_EQ(run.result.reason, "timed out after 0.1 s and did not stop when cancelled");
  EXPECT_GE(run.result.duration_seconds, 0.1 + MeterRunner::kCancelGraceSeconds - 0.05);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

TEST(meter_runner_test, stop_flag_cancels_the_running_meter_long_before_its_timeout) {
  std::atomic<bool> stop{false};
  RunnerRoots roots;
  roots.stop = &stop;
  MeterInfo row = Row(SpinUntilCancelled);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop.store(true);
  });
  MeterRunner runner(DefaultEnv(), roots);
  MeterRun run = runner.Run(MeterPlan{&row, 600, Options{}});
  stopper.join();
  EXPECT_EQ(run.result.status, MeterStatus::kFailed);
  EXPECT_EQ(run.result.reason, "cancelled: stopping");
  EXPECT_LT(run.result.duration_seconds, 60) << "a 600 s timeout must not be waited out";
}

TEST(meter_runner_test, unset_stop_flag_changes_nothing) {
  std::atomic<bool> stop{false};
  RunnerRoots roots;
  roots.stop = &stop;
  MeterInfo row = Row([](MeterContext&) { return MeterResult::Unavailable("no such device"); });
  MeterRunner runner(DefaultEnv(), roots);
  MeterRun run = runner.Run(MeterPlan{&row, 5, Options{}});
  EXPECT_EQ(run.result.status, MeterStatus::kUnavailable);
  EXPECT_EQ(run.result.reason, "no such device");
}

}  // namespace
}  // namespace resmeter
