#include "agent/rate_limiter.h"

#include <algorithm>
#include <iterator>

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

namespace resmeter {

PerClientRateLimiter::PerClientRateLimiter(double rate_per_minute, double burst, size_t max_clients)
    : rate_per_second_(rate_per_minute / 60.0), burst_(burst), max_clients_(max_clients) {}

bool PerClientRateLimiter::TryAcquire(const std::string& client, double now_seconds,
                                      double* retry_after_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(client);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) Prune(now_seconds);
    it = buckets_.emplace(client, Bucket{burst_, now_seconds}).first;
  }
  Bucket& b = it->second;
  if (now_seconds > b.last) {
    b.tokens = std::min(burst_, b.tokens + (now_seconds - b.last) * rate_per_second_);
    b.last = now_seconds;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  if (retry_after_seconds) *retry_after_seconds = (1.0 - b.tokens) / rate_per_second_;
  return false;
}

void PerClientRateLimiter::Prune(double now_seconds) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const double refilled = it->second.tokens + (now_seconds - it->second.last) * rate_per_second_;
    it = refilled >= burst_ ? buckets_.erase(it) : std::next(it);
  }
  while (buckets_.size() >= max_clients_) {
    auto oldest = buckets_.begin();
    for (auto it = buckets_.begin(); it != buckets_.end(); ++it) {
      if (it->second.last < oldest->second.last) oldest = it;
    }
    buckets_.erase(oldest);
  }
}

void PerClientRateLimiter::Reconfigure(double rate_per_minute, double burst) {
  std::lock_guard<std::mutex> lock(mu_);
  rate_per_second_ = rate_per_minute / 60.0;
  burst_ = burst;
  for (auto& [client, b] : buckets_) b.tokens = std::min(b.tokens, burst_);
}

size_t PerClientRateLimiter::clients() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

}  // namespace resmeter
