#include "tsa/timestamp_stamper.h"

#include <chrono>

namespace resmeter {

TimestampStamper::TimestampStamper(std::vector<TsaEndpoint> tsas, TsaRequestOptions options,
                                   std::function<void(const TsaEndpoint&, const Status&)> on_failure)
    : tsas_(std::move(tsas)), options_(options), on_failure_(std::move(on_failure)) {
  thread_ = std::thread([this] { Loop(); });
}

TimestampStamper::~TimestampStamper() { Stop(); }

void TimestampStamper::Submit(uint64_t seq, const std::string& sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return;
  queued_ = Job{seq, sha256};
  cv_.notify_all();
}

std::vector<CompletedStamp> TimestampStamper::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<CompletedStamp> out;
  out.swap(done_);
  return out;
}

bool TimestampStamper::WaitIdle(double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return !queued_ && !busy_; });
}

void TimestampStamper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void TimestampStamper::Loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || queued_.has_value(); });
      if (stop_) return;
      job = std::move(*queued_);
      queued_.reset();
      busy_ = true;
    }
    std::vector<CompletedStamp> got;
    for (const TsaEndpoint& tsa : tsas_) {
      ++requests_;
      auto stamp = RequestTimestamp(tsa, job.sha256, options_);
      if (!stamp.ok()) {
        ++failures_;
        if (on_failure_) on_failure_(tsa, stamp.status());
        continue;
      }
      got.push_back({job.seq, TsaHex(job.sha256), std::move(stamp).value()});
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& g : got) done_.push_back(std::move(g));
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace resmeter
