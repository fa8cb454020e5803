// PMU detection: a counter source is injected, so the decision logic runs
// without hardware counters (these machines have none).
#include "meters/cpu/pmu.h"

#include <gtest/gtest.h>

namespace resmeter {
namespace {

// Returns `count(needed)` cycles from every Stop().
class FakeCounter final : public CycleCounter {
 public:
  explicit FakeCounter(std::function<uint64_t()> count) : count_(std::move(count)) {}
  Status Start() override { return Status::Ok(); }
  Result<uint64_t> Stop() override { return count_(); }

 private:
  std::function<uint64_t()> count_;
};

class FakeSource final : public CycleCounterSource {
 public:
  FakeSource(bool opens, std::function<uint64_t()> count) : opens_(opens), count_(std::move(count)) {}
  Result<std::unique_ptr<CycleCounter>> OpenForCurrentThread() override {
    if (!opens_) return Status::NotSupported("perf_event_open(cycles): No such file or directory");
    return std::unique_ptr<CycleCounter>(new FakeCounter(count_));
  }
  std::string EventName() const override { return "fake::cycles"; }

 private:
  bool opens_;
  std::function<uint64_t()> count_;
};

constexpr uint64_t kNeeded = 1'000'000;
uint64_t Probe() { return kNeeded; }

TEST(pmu_detection_test, counter_returning_zeros_is_treated_as_absent_with_a_finding) {
  FakeSource zeros(true, [] { return uint64_t{0}; });
  PmuDetection d = DetectPmu(zeros, Probe);
  EXPECT_FALSE(d.usable);
  ASSERT_TRUE(d.finding.has_value());
  EXPECT_EQ(d.finding->code, "pmu_counts_nonsense");
  EXPECT_EQ(d.finding->details["counted_cycles"], 0);
  EXPECT_NE(d.detail.find("counted 0 cycles"), std::string::npos) << d.detail;
}

TEST(pmu_detection_test, counter_counting_fewer_cycles_than_the_probe_needs_is_absent) {
  FakeSource few(true, [] { return kNeeded / 2; });
  PmuDetection d = DetectPmu(few, Probe);
  EXPECT_FALSE(d.usable);
  EXPECT_TRUE(d.finding.has_value());
}

TEST(pmu_detection_test, absurdly_large_counts_are_absent) {
  FakeSource huge(true, [] { return kNeeded * 1000; });
  EXPECT_FALSE(DetectPmu(huge, Probe).usable);
}

TEST(pmu_detection_test, counter_that_does_not_open_is_absent_without_a_finding) {
  FakeSource none(false, [] { return uint64_t{0}; });
  PmuDetection d = DetectPmu(none, Probe);
  EXPECT_FALSE(d.usable);
  EXPECT_FALSE(d.finding.has_value());
  EXPECT_NE(d.detail.find("No such file"), std::string::npos);
}

TEST(pmu_detection_test, plausible_counter_is_used) {
  FakeSource good(true, [] { return kNeeded + kNeeded / 10; });
  PmuDetection d = DetectPmu(good, Probe);
  EXPECT_TRUE(d.usable) << d.detail;
  EXPECT_FALSE(d.finding.has_value());
}

TEST(pmu_detection_test, a_single_zero_among_good_counts_rejects_the_pmu) {
  int calls = 0;
  FakeSource flaky(true, [&calls] { return ++calls == 2 ? uint64_t{0} : kNeeded; });
  EXPECT_FALSE(DetectPmu(flaky, Probe).usable);
}

}  // namespace
}  // namespace resmeter
