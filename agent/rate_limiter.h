// Token buckets for POST /v1/attest.
//
// RateLimiter: one bucket admitting `rate_per_minute` requests per minute
// with bursts of up to `burst`, shared by all clients (the global bound on
// how often the agent measures for anyone).
// PerClientRateLimiter: one such bucket per client key (the authenticated
// user when there is one, else the remote address), so one client that
// exhausts its own bucket does not take the tokens of the others. At most
// `max_clients` buckets are kept; beyond that the full (idle) ones are
// dropped, then the least recently used.
// Both are thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

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

class PerClientRateLimiter {
 public:
  // REQUIRES: rate_per_minute > 0, burst >= 1, max_clients >= 1. A client
  // seen for the first time starts with a full bucket.
  PerClientRateLimiter(double rate_per_minute, double burst, size_t max_clients = 4096);

  // Takes one token from `client`'s bucket at `now_seconds`; as RateLimiter::TryAcquire.
  bool TryAcquire(const std::string& client, double now_seconds, double* retry_after_seconds);
  // Changes the rate and burst of every bucket (config reload).
  void Reconfigure(double rate_per_minute, double burst);
  // Buckets currently kept (for tests).
  size_t clients() const;

 private:
  struct Bucket {
    double tokens = 0;
    double last = 0;  // monotonic time of the last refill
  };
  // Drops full buckets, then the least recently used, until under max_clients_. REQUIRES: mu_ held.
  void Prune(double now_seconds);

  mutable std::mutex mu_;
  double rate_per_second_;
  double burst_;
  size_t max_clients_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace resmeter
