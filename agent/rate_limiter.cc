#include "agent/rate_limiter.h"

#include <algorithm>

namespace resmeter {

RateLimiter::RateLimiter(double rate_per_minute, double burst)
    : rate_per_second_(rate_per_minute / 60.0), burst_(burst), tokens_(burst) {}

bool RateLimiter::TryAcquire(double now_seconds, double* retry_after_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  if (last_ >= 0 && now_seconds > last_) {
    tokens_ = std::min(burst_, tokens_ + (now_seconds - last_) * rate_per_second_);
  }
  if (last_ < 0 || now_seconds > last_) last_ = now_seconds;
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  if (retry_after_seconds) *retry_after_seconds = (1.0 - tokens_) / rate_per_second_;
  return false;
}

void RateLimiter::Reconfigure(double rate_per_minute, double burst) {
  std::lock_guard<std::mutex> lock(mu_);
  rate_per_second_ = rate_per_minute / 60.0;
  burst_ = burst;
  tokens_ = std::min(tokens_, burst_);
}

}  // namespace resmeter
