// RateLimiter: a token bucket admitting `rate_per_minute` requests per
// minute with bursts of up to `burst`. Global, not per client, so nothing a
// client sends (its address) is stored. Thread-safe.
#pragma once

#include <mutex>

namespace resmeter {

class RateLimiter {
 public:
  // REQUIRES: rate_per_minute > 0, burst >= 1. Starts full.
  RateLimiter(double rate_per_minute, double burst);

  // Takes one token at monotonic time `now_seconds`. True when admitted;
  // otherwise false and *retry_after_seconds says when a token will be there.
  bool TryAcquire(double now_seconds, double* retry_after_seconds);
  // Changes the rate and burst (config reload); keeps the tokens, capped.
  void Reconfigure(double rate_per_minute, double burst);

 private:
  std::mutex mu_;
  double rate_per_second_;
  double burst_;
  double tokens_;
  double last_ = -1;  // monotonic time of the last refill; <0: never
};

}  // namespace resmeter
