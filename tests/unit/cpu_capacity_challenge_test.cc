// The statistics behind cpu.frequency, cpu.availability and cpu.effective:
// the typical chunk rate, the availability interval and its finding rule,
// and the effective-vCPU ratio. Pure functions: no timing, no machine speed.
#include <gtest/gtest.h>

#include "meters/cpu/cpu_availability_meter.h"
#include "meters/cpu/cpu_effective_meter.h"
#include "meters/cpu/cpu_work.h"

namespace resmeter {
namespace {

TEST(cpu_capacity_challenge_test, typical_rate_ignores_fast_outliers_the_maximum_would_pick) {
  // 100 clean chunks around 3.40 GHz (+-0.5 %), 3 chunks 5 % fast (timer jitter).
  std::vector<double> rates;
  for (int i = 0; i < 100; ++i) rates.push_back(3.40e9 * (1 + 0.005 * ((i % 11) - 5) / 5.0));
  for (int i = 0; i < 3; ++i) rates.push_back(3.57e9);
  EXPECT_NEAR(TypicalRate(rates), 3.40e9, 0.01 * 3.40e9);
  EXPECT_DOUBLE_EQ(*std::max_element(rates.begin(), rates.end()), 3.57e9);
}

TEST(cpu_capacity_challenge_test, typical_rate_survives_a_majority_of_preempted_chunks) {
  // 30 clean chunks at 3 GHz, 70 preempted ones scattered from 0.1 to 2.9 GHz:
  // the median would read far too low, the densest band does not.
  std::vector<double> rates(30, 3.0e9);
  for (int i = 0; i < 70; ++i) rates.push_back(0.1e9 + 0.04e9 * i);
  EXPECT_LT(MedianOf(rates), 2.5e9);
  EXPECT_DOUBLE_EQ(TypicalRate(rates), 3.0e9);
  EXPECT_EQ(TypicalRate({}), 0);
  EXPECT_DOUBLE_EQ(TypicalRate({5}), 5);
}

TEST(cpu_capacity_challenge_test, student_t_interval_of_window_means) {
  EXPECT_DOUBLE_EQ(StudentT975(4), 2.776);
  EXPECT_DOUBLE_EQ(StudentT975(100), 1.96);
  MeanInterval one = MeanConfidenceInterval({0.5});
  EXPECT_DOUBLE_EQ(one.low, 0.5);
  EXPECT_DOUBLE_EQ(one.high, 0.5);
  MeanInterval m = MeanConfidenceInterval({0.98, 1.0, 0.99, 1.0, 0.98});
  EXPECT_NEAR(m.mean, 0.99, 1e-12);
  EXPECT_NEAR(m.stddev, 0.01, 1e-12);
  EXPECT_NEAR(m.high - m.mean, 2.776 * 0.01 / std::sqrt(5.0), 1e-12);
}

TEST(cpu_capacity_challenge_test, one_bad_window_widens_the_interval_instead_of_raising_a_finding) {
  // A passing host hiccup in one of five windows: mean 0.90, yet no finding.
  MeanInterval hiccup = MeanConfidenceInterval({1.0, 1.0, 0.5, 1.0, 1.0});
  EXPECT_NEAR(hiccup.mean, 0.9, 1e-12);
  EXPECT_FALSE(AvailabilityBelowBound(hiccup, 0.9));
  // A quota of half the vCPUs: every window low, a narrow interval, a finding.
  MeanInterval quota = MeanConfidenceInterval({0.51, 0.49, 0.50, 0.50, 0.52});
  EXPECT_TRUE(AvailabilityBelowBound(quota, 0.9));
  // A host taking a steady 20 %: found too.
  EXPECT_TRUE(AvailabilityBelowBound(MeanConfidenceInterval({0.8, 0.79, 0.82, 0.8, 0.81}), 0.9));
}

TEST(cpu_capacity_challenge_test, effective_vcpus_is_total_rate_over_one_vcpu_rate) {
  ParallelRound full{100, {100, 100, 100, 100}, {1, 1, 1, 1}, {}, {}, 0, {}};
  EXPECT_DOUBLE_EQ(EffectiveVcpus(full), 4);
  // Four hyper-threads on two cores: each runs at half speed together.
  ParallelRound smt{100, {50, 50, 50, 50}, {1, 1, 1, 1}, {}, {}, 0, {}};
  EXPECT_DOUBLE_EQ(EffectiveVcpus(smt), 2);
  // A quota of one CPU over two vCPUs: each ran half of the wall time.
  ParallelRound quota{100, {50, 50}, {1, 1}, {}, {}, 0, {}};
  EXPECT_DOUBLE_EQ(EffectiveVcpus(quota), 1);
  EXPECT_EQ(EffectiveVcpus(ParallelRound{}), 0);
}

TEST(cpu_capacity_challenge_test, effective_vcpus_discounts_other_guest_tasks_but_not_a_quota) {
  // Other processes of the guest held both vCPUs 80 % of the time: the
  // threads ran (CPU time) 0.2 s of 1 s and did full-speed work then.
  ParallelRound busy_guest{100, {20, 20}, {1, 1}, {0.2, 0.2}, {0, 0}, 0, {}};
  EXPECT_DOUBLE_EQ(EffectiveVcpus(busy_guest), 2);
  // A cgroup quota of one CPU: each thread ran 0.5 s and was throttled 0.5 s.
  ParallelRound quota{100, {50, 50}, {1, 1}, {0.5, 0.5}, {0, 0}, 1.0, {}};
  EXPECT_DOUBLE_EQ(EffectiveVcpus(quota), 1);
  // A host that takes half of each vCPU and reports it as steal.
  ParallelRound steal{100, {50, 50}, {1, 1}, {0.5, 0.5}, {0.5, 0.5}, 0, {}};
  EXPECT_DOUBLE_EQ(EffectiveVcpus(steal), 1);
  // Hyper-thread pairs: the guest ran the threads all the time, half the work got done.
  ParallelRound smt{100, {50, 50}, {1, 1}, {1, 1}, {0, 0}, 0, {}};
  EXPECT_DOUBLE_EQ(EffectiveVcpus(smt), 1);
}

TEST(cpu_capacity_challenge_test, concurrent_speed_separates_slower_vcpus_from_less_time) {
  // A quota: each thread ran half the time at full speed.
  ParallelRound quota{100, {50, 50}, {1, 1}, {0.5, 0.5}, {0, 0}, 1.0, {100, 100}, 100};
  EXPECT_DOUBLE_EQ(ConcurrentSpeedRatio(quota), 1);
  // SMT siblings: all the time, at half speed.
  ParallelRound smt{100, {50, 50}, {1, 1}, {1, 1}, {0, 0}, 0, {50, 50}, 100};
  EXPECT_DOUBLE_EQ(ConcurrentSpeedRatio(smt), 0.5);
  EXPECT_DOUBLE_EQ(EffectiveVcpus(smt), EffectiveVcpus(quota));
  // A lower all-core clock under a quota: both figures show the 8 %.
  ParallelRound clocked{100, {46, 46}, {1, 1}, {0.5, 0.5}, {0, 0}, 1.0, {92, 92}, 100};
  EXPECT_DOUBLE_EQ(ConcurrentSpeedRatio(clocked), 0.92);
  EXPECT_DOUBLE_EQ(EffectiveVcpus(clocked), 0.92);
  EXPECT_EQ(ConcurrentSpeedRatio(ParallelRound{}), 0);
}

TEST(cpu_capacity_challenge_test, independent_chains_are_not_elided) {
  // Every add of every chain ran: the chains start at 0..7 and gain 1 per add.
  EXPECT_EQ(RunIndependentChains(0), 28u);
  EXPECT_EQ(RunIndependentChains(10), 28u + 10 * kIndependentOpsPerBlock);
}

}  // namespace
}  // namespace resmeter
