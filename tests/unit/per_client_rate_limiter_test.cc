#include <gtest/gtest.h>

#include "agent/rate_limiter.h"

namespace resmeter {
namespace {

TEST(per_client_rate_limiter_test, one_client_exhausting_its_bucket_leaves_another_intact) {
  PerClientRateLimiter rl(6, 3);  // one token every 10 s, bursts of 3
  double retry = 0;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.TryAcquire("127.0.0.2", 100, &retry)) << i;
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(rl.TryAcquire("127.0.0.2", 100 + i * 0.1, &retry)) << i;
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 10);
  // The other client still has its whole burst.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.TryAcquire("127.0.0.1", 105, &retry)) << i;
  EXPECT_FALSE(rl.TryAcquire("127.0.0.1", 105, &retry));
  // The hog refills at the rate, not faster.
  EXPECT_TRUE(rl.TryAcquire("127.0.0.2", 111, &retry));
  EXPECT_FALSE(rl.TryAcquire("127.0.0.2", 111, &retry));
}

TEST(per_client_rate_limiter_test, bucket_count_is_bounded) {
  PerClientRateLimiter rl(6, 2, /*max_clients=*/8);
  double retry = 0;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(rl.TryAcquire("10.0.0." + std::to_string(i), 1 + i * 0.001, &retry));
    EXPECT_LE(rl.clients(), 8u);
  }
  // The most recent client is still tracked: its second and third requests see its own bucket.
  EXPECT_TRUE(rl.TryAcquire("10.0.0.999", 2, &retry));
  EXPECT_FALSE(rl.TryAcquire("10.0.0.999", 2, &retry));
}

TEST(per_client_rate_limiter_test, reconfigure_caps_every_bucket) {
  PerClientRateLimiter rl(60, 10);
  double retry = 0;
  EXPECT_TRUE(rl.TryAcquire("a", 1, &retry));
  rl.Reconfigure(60, 1);
  EXPECT_TRUE(rl.TryAcquire("a", 1, &retry));
  EXPECT_FALSE(rl.TryAcquire("a", 1, &retry));
}

}  // namespace
}  // namespace resmeter
