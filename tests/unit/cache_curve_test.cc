// Plateau detection on fixture latency curves (tests/fixtures/cache_curve/):
// two live curves from a loaded 2-vCPU EPYC guest and one synthetic curve.
#include "meters/memory/cache_curve.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "meters/memory/cache_hierarchy_meter.h"

namespace resmeter {
namespace {

std::vector<CurvePoint> LoadCurve(const std::string& name) {
  std::ifstream in(std::string(RESMETER_FIXTURES_DIR) + "/cache_curve/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str());
  std::vector<CurvePoint> out;
  for (const auto& p : j["points"]) out.push_back({p[0].get<uint64_t>(), p[1].get<double>()});
  return out;
}

// |log2(a/b)|: how many powers of two apart two sizes are.
double Octaves(uint64_t a, uint64_t b) {
  return std::fabs(std::log2(static_cast<double>(a) / static_cast<double>(b)));
}

std::vector<CacheLevelInfo> EpycReported() {
  return {{1, "Data", 32 * 1024, 64, "0"},
          {2, "Unified", 512 * 1024, 64, "0"},
          {3, "Unified", 32u << 20, 64, "0-1"}};
}

TEST(cache_curve_test, live_epyc_curve_yields_l1_l2_l3_and_memory) {
  for (const char* name : {"epyc_vm_loaded.json", "epyc_vm_loaded_b.json"}) {
    std::vector<Plateau> p = DetectPlateaus(LoadCurve(name));
    ASSERT_EQ(p.size(), 4u) << name;
    EXPECT_EQ(p[0].last_size_bytes, 32768u) << name;
    EXPECT_LE(Octaves(p[1].last_size_bytes, 512 * 1024), 1.0) << name;
    EXPECT_NEAR(p[0].latency_seconds, 1.24e-9, 0.1e-9);
    EXPECT_NEAR(p[1].latency_seconds, 3.74e-9, 0.3e-9);
    EXPECT_GT(p[2].latency_seconds, 10e-9);
    EXPECT_LT(p[2].latency_seconds, 20e-9);
    EXPECT_GT(p[3].latency_seconds, 100e-9);  // main memory
    EXPECT_EQ(p[3].last_size_bytes, 128u << 20);
  }
}

TEST(cache_curve_test, live_curve_against_reported_sizes_flags_only_the_shrunken_l3) {
  std::vector<Finding> findings;
  nlohmann::json levels =
      CompareLevels(DetectPlateaus(LoadCurve("epyc_vm_loaded.json")), EpycReported(), 1.0, false, &findings);
  ASSERT_EQ(levels.size(), 3u);  // memory plateau is not a level
  EXPECT_LE(Octaves(levels[0]["measured_size_bytes"].get<uint64_t>(), 32768),
            0.25);  // the knee, a little past 32K
  EXPECT_EQ(levels[0]["reported_size_bytes"], 32768);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].code, "cache_size_mismatch");
  EXPECT_EQ(findings[0].details["level"], 3);
}

TEST(cache_curve_test, in_a_vm_a_shrunken_shared_l3_is_marked_not_a_finding) {
  // The same loaded EPYC VM curve: in a guest the L3 is shared with tenants it
  // cannot see, so a smaller effective L3 is what it gets (claims keep it).
  std::vector<Finding> findings;
  nlohmann::json levels =
      CompareLevels(DetectPlateaus(LoadCurve("epyc_vm_loaded.json")), EpycReported(), 1.0, true, &findings);
  ASSERT_EQ(levels.size(), 3u);
  EXPECT_TRUE(findings.empty());
  EXPECT_EQ(levels[2]["shared_with_unseen_tenants"], true);
  EXPECT_LT(levels[2]["size_ratio"].get<double>(), 0.5);
  EXPECT_FALSE(levels[0].contains("shared_with_unseen_tenants"));
  // An L1 off by more than the tolerance is still a finding in a VM.
  std::vector<CacheLevelInfo> wrong_l1 = EpycReported();
  wrong_l1[0].size_bytes *= 8;
  CompareLevels(DetectPlateaus(LoadCurve("epyc_vm_loaded.json")), wrong_l1, 1.0, true, &findings);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].details["level"], 1);
}

TEST(cache_curve_test, synthetic_curve_with_a_spike_finds_the_three_levels) {
  std::vector<Plateau> p = DetectPlateaus(LoadCurve("synthetic_intel.json"));
  ASSERT_EQ(p.size(), 3u);  // memory never flattens before 128 MiB in this curve
  EXPECT_LE(Octaves(p[0].last_size_bytes, 48 * 1024), 0.5);
  EXPECT_LE(Octaves(p[1].last_size_bytes, 1280 * 1024), 0.5);
  EXPECT_LE(Octaves(p[2].last_size_bytes, 30u << 20), 0.5);
  EXPECT_NEAR(p[0].latency_seconds, 1.2e-9, 1e-12);
  EXPECT_NEAR(p[1].latency_seconds, 3.7e-9, 0.2e-9);  // the x1.8 spike does not split L2
}

TEST(cache_curve_test, capacity_is_the_knee_not_the_end_of_the_flat_run) {
  // Zen 4: the L2 plateau's flat run ends 1.5 octaves below 1 MiB; the knee
  // (latency x1.5) lands within one octave, and each capacity stays between
  // its plateau's end and the next plateau's start.
  std::vector<Plateau> p = DetectPlateaus(LoadCurve("zen4_vm_cpuid_only.json"));
  ASSERT_GE(p.size(), 3u);
  EXPECT_LE(Octaves(p[0].capacity_bytes, 48 * 1024), 0.5);
  EXPECT_LE(Octaves(p[1].capacity_bytes, 1024 * 1024), 1.0);
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_GE(p[i].capacity_bytes, p[i].last_size_bytes);
    if (i + 1 < p.size()) {
      EXPECT_LE(p[i].capacity_bytes, p[i + 1].first_size_bytes);
    }
  }
}

TEST(cache_curve_test, flat_and_empty_curves) {
  EXPECT_TRUE(DetectPlateaus({}).empty());
  std::vector<CurvePoint> flat;
  for (uint64_t s = 4096; s <= (1u << 20); s *= 2) flat.push_back({s, 2e-9});
  std::vector<Plateau> p = DetectPlateaus(flat);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].first_size_bytes, 4096u);
  EXPECT_EQ(p[0].last_size_bytes, 1u << 20);
}

TEST(cache_curve_test, missing_level_is_a_count_finding) {
  std::vector<Finding> findings;
  std::vector<Plateau> two = {{4096, 32768, 32768, 1e-9, 4}, {65536, 524288, 524288, 4e-9, 4}};
  CompareLevels(two, EpycReported(), 1.0, false, &findings);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].code, "cache_level_count_mismatch");
}

TEST(cache_curve_test, in_a_vm_a_last_level_without_a_plateau_is_marked_not_a_finding) {
  std::vector<Finding> findings;
  std::vector<Plateau> two = {{4096, 32768, 32768, 1e-9, 4}, {65536, 524288, 524288, 4e-9, 4}};
  nlohmann::json levels = CompareLevels(two, EpycReported(), 1.0, true, &findings);
  EXPECT_TRUE(findings.empty());
  ASSERT_EQ(levels.size(), 3u);
  EXPECT_EQ(levels[2]["measured"], false);
  EXPECT_EQ(levels[2]["shared_with_unseen_tenants"], true);
  // Two levels missing is still a finding in a VM.
  CompareLevels({two[0]}, EpycReported(), 1.0, true, &findings);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].code, "cache_level_count_mismatch");
}

TEST(cache_curve_test, in_a_vm_extra_plateaus_past_the_last_level_are_one_level) {
  // L1, L2, a crowded L3 of 8 MiB, a partial-hit stretch 11-32 MiB (88 ns)
  // and memory from 46 MiB (140 ns): four plateaus below memory for three levels.
  std::vector<Plateau> five = {{4096, 32768, 32768, 1e-9, 4},
                               {65536, 262144, 400000, 3.6e-9, 4},
                               {1u << 20, 8u << 20, 8u << 20, 13e-9, 6},
                               {11u << 20, 32u << 20, 32u << 20, 100e-9, 4},
                               {46u << 20, 128u << 20, 128u << 20, 140e-9, 4}};
  std::vector<Finding> findings;
  nlohmann::json levels = CompareLevels(five, EpycReported(), 1.0, true, &findings);
  EXPECT_TRUE(findings.empty()) << levels.dump();
  ASSERT_EQ(levels.size(), 3u);
  EXPECT_EQ(levels[2]["measured_size_bytes"], 8u << 20);
  EXPECT_EQ(levels[2]["merged_plateaus"], 2);
  EXPECT_EQ(levels[2]["shared_with_unseen_tenants"], true);
  // On bare metal the same curve is a level-count finding (and the 8 MiB L3 a size one).
  CompareLevels(five, EpycReported(), 1.0, false, &findings);
  std::vector<std::string> codes;
  for (const Finding& f : findings) codes.push_back(f.code);
  EXPECT_EQ(codes, (std::vector<std::string>{"cache_size_mismatch", "cache_level_count_mismatch"}));
}

TEST(cache_curve_test, curve_sizes_double_every_steps_per_octave) {
  std::vector<uint64_t> s = CurveSizes(4096, 65536, 2, 64);
  ASSERT_EQ(s.size(), 9u);
  EXPECT_EQ(s.front(), 4096u);
  EXPECT_EQ(s[2], 8192u);
  EXPECT_EQ(s.back(), 65536u);
  for (uint64_t v : s) EXPECT_EQ(v % 64, 0u);
}

}  // namespace
}  // namespace resmeter
