#include "meters/registry/runner.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

namespace resmeter {
namespace {

// State shared between the runner and a meter thread; outlives either.
struct CallState {
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  MeterResult result;
};

std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

// Waits until the meter is done (true), its timeout passes, or `stop` turns
// true (sets *stopped); the stop flag is polled every 100 ms.
bool WaitUntilDone(CallState* state, std::unique_lock<std::mutex>& lock, double timeout_seconds,
                   const std::atomic<bool>* stop, bool* stopped) {
  const std::chrono::steady_clock::time_point deadline =
      std::chrono::steady_clock::now() +
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeout_seconds));
  const auto slice = std::chrono::milliseconds(100);
  while (!state->done) {
    if (stop != nullptr && stop->load()) {
      *stopped = true;
      return false;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    state->done_cv.wait_until(lock, stop != nullptr ? std::min(deadline, now + slice) : deadline);
  }
  return true;
}

}  // namespace

MeterRun MeterRunner::Run(const MeterPlan& plan, const std::function<void(const std::string&)>& progress) {
  MeterRun run;
  run.name = plan.info->name;
  run.kind = plan.info->kind;
  run.measured_at_unix_seconds = env_->WallSeconds();  // replaced when the meter returns

  auto state = std::make_shared<CallState>();
  auto ctx = std::make_shared<MeterContext>();
  ctx->env = env_;
  ctx->proc_root = roots_.proc_root;
  ctx->sys_root = roots_.sys_root;
  ctx->options = plan.options;
  ctx->signer = roots_.signer;
  ctx->state_dir = roots_.state_dir;
  ctx->global = roots_.global;
  ctx->progress = progress;
  const double start = env_->MonotonicSeconds();
  ctx->deadline_monotonic_seconds = start + plan.timeout_seconds;

  std::shared_ptr<Meter> meter;
  try {
    meter = plan.info->factory();
  } catch (const std::exception& e) {
    run.result = MeterResult::Failed(std::string("could not create meter: ") + e.what());
    return run;
  }

  std::thread worker([state, ctx, meter]() {
    MeterResult r;
    try {
      r = meter->Measure(*ctx);
    } catch (const std::exception& e) {
      r = MeterResult::Failed(std::string("internal error: ") + e.what());
    } catch (...) {
      r = MeterResult::Failed("internal error: unknown exception");
    }
    std::lock_guard<std::mutex> lock(state->mu);
    state->result = std::move(r);
    state->done = true;
    state->done_cv.notify_all();
  });

  std::unique_lock<std::mutex> lock(state->mu);
  bool stopped = false;
  bool finished = WaitUntilDone(state.get(), lock, plan.timeout_seconds, roots_.stop, &stopped);
  if (!finished) {
    ctx->cancel_flag->store(true);
    finished = state->done_cv.wait_for(lock, std::chrono::duration<double>(kCancelGraceSeconds),
                                       [&] { return state->done; });
  }
  const double end = env_->MonotonicSeconds();
  if (finished) {
    run.result = std::move(state->result);
    lock.unlock();
    worker.join();
    if (ctx->cancel_flag->load() && run.result.status == MeterStatus::kOk) {
      // It returned only after being cancelled: its numbers are partial.
      run.result = MeterResult::Failed(stopped ? "cancelled: stopping"
                                               : "timed out after " + FormatSeconds(plan.timeout_seconds) + " s");
    }
  } else {
    lock.unlock();
    worker.detach();  // keeps `state`, `ctx` and `meter` alive by shared ownership
    run.result = MeterResult::Failed(
        (stopped ? std::string("cancelled: stopping") : "timed out after " + FormatSeconds(plan.timeout_seconds) + " s") +
        " and did not stop when cancelled");
  }
  run.result.duration_seconds = end - start;
  run.measured_at_unix_seconds = env_->WallSeconds();
  return run;
}

std::vector<MeterRun> MeterRunner::RunAll(const std::vector<MeterPlan>& plans, const Observer& observer) {
  std::vector<MeterRun> runs;
  runs.reserve(plans.size());
  for (const auto& plan : plans) {
    if (observer) observer(plan.info->name, nullptr);
    runs.push_back(Run(plan, [&](const std::string& line) {
      if (observer) observer(plan.info->name + ": " + line, nullptr);
    }));
    if (observer) observer(plan.info->name, &runs.back());
  }
  return runs;
}

}  // namespace resmeter
