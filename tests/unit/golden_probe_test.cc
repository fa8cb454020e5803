// Golden end-to-end test (issue #18): the real `resmeter probe --json` on
// each fixture machine tree (tests/fixtures/machines/), with the light
// meters that read only the given roots, compared with the checked-in
// tests/golden/<machine>.json after masking what changes from run to run
// (times, durations, the ephemeral key, the host's time and evidence).
// RESMETER_UPDATE_GOLDEN=1 rewrites the golden files instead. Also checks
// that every claim in the output is declared. Wall time: about 1 s (four
// probes with a 50 ms cpu.time window).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/claim_tables.h"
#include "support/shell_command.h"

namespace resmeter {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kSource = RESMETER_SOURCE_DIR;
const char* kMasked = "<masked>";

// Top-level report claims that depend on the run or on the host, not on the fixture.
const char* kVolatileTop[] = {
    "iat", "exp", "ueid", "cnf", "swversion", "time", "evidence", "live", "not_live_reasons", "eat_nonce"};
// Per-submod members that are timings.
const char* kVolatileSubmod[] = {"duration_seconds", "measured_at"};
// Claims and conditions measured over a wall-clock window (meter -> keys).
const std::vector<std::pair<std::string, std::vector<std::string>>> kVolatileClaims = {
    {"cpu.time", {"window_seconds", "delivered_vcpu_seconds"}}};
const std::vector<std::pair<std::string, std::vector<std::string>>> kVolatileConditions = {
    {"cpu.time", {"window_seconds", "window_ticks"}}, {"cpu.topology", {"source"}}};

void MaskMembers(json& object, const std::vector<std::string>& keys) {
  if (!object.is_object()) return;
  for (const std::string& k : keys)
    if (object.contains(k)) object[k] = kMasked;
}

// Replaces the fixture tree's absolute path (it depends on the checkout) by "<fixture>".
void ReplaceRoot(json& j, const std::string& root) {
  if (j.is_string()) {
    std::string text = j.get<std::string>();
    for (size_t at = text.find(root); at != std::string::npos; at = text.find(root, at))
      text.replace(at, root.size(), "<fixture>");
    j = text;
  } else if (j.is_structured()) {
    for (auto& member : j) ReplaceRoot(member, root);
  }
}

json Mask(json report, const std::string& root) {
  ReplaceRoot(report, root);
  for (const char* k : kVolatileTop)
    if (report.contains(k)) report[k] = kMasked;
  if (!report.contains("submods") || !report["submods"].is_object()) return report;
  for (auto& [name, sub] : report["submods"].items()) {
    for (const char* k : kVolatileSubmod)
      if (sub.contains(k)) sub[k] = kMasked;
    for (const auto& [meter, keys] : kVolatileClaims)
      if (name == meter && sub.contains("claims")) MaskMembers(sub["claims"], keys);
    for (const auto& [meter, keys] : kVolatileConditions)
      if (name == meter && sub.contains("conditions")) MaskMembers(sub["conditions"], keys);
  }
  return report;
}

// A line diff of two texts (enough to spot a changed claim).
std::string Diff(const std::string& want, const std::string& got) {
  std::vector<std::string> a, b;
  std::stringstream sa(want), sb(got);
  for (std::string l; std::getline(sa, l);) a.push_back(l);
  for (std::string l; std::getline(sb, l);) b.push_back(l);
  std::string out;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      ++i, ++j;
      continue;
    }
    // Resynchronise on the next line of `got` that `want` has a little later.
    size_t k = i;
    while (k < a.size() && k < i + 20 && (j >= b.size() || a[k] != b[j])) ++k;
    if (j < b.size() && k < a.size() && k < i + 20) {
      for (; i < k; ++i) out += "- " + a[i] + "\n";
      continue;
    }
    if (j < b.size())
      out += "+ " + b[j++] + "\n";
    else
      out += "- " + a[i++] + "\n";
  }
  return out;
}

class golden_probe_test : public ::testing::TestWithParam<std::string> {};

TEST_P(golden_probe_test, probe_json_matches_the_golden_file) {
  const std::string machine = GetParam();
  const std::string root = kSource + "/tests/fixtures/machines/" + machine;
  const fs::path state =
      fs::temp_directory_path() / ("resmeter_golden_" + machine + "_" + std::to_string(::getpid()));
  fs::create_directories(state);
  fs::permissions(state, fs::perms::owner_all, fs::perm_options::replace);
  // An empty config (all defaults): never the host's /etc/resmeter/resmeter.yaml.
  const std::string config = (state / "config.yaml").string();
  std::ofstream(config).close();
  const std::string cmd =
      std::string(RESMETER_BINARY) + " --config " + config + " --state-dir " + state.string() +
      " --proc-root " + root + "/proc --sys-root " + root +
      "/sys --set evidence.backend=none --set meters.cpu.time.window_seconds=0.05"
      " --set meters.gpu.devices.use_nvml=false"
      " probe --only cpu.topology,memory.capacity,cpu.time,gpu.devices --json 2>/dev/null";
  std::string out;
  const int rc = RunShellCommand(cmd, &out);
  fs::remove_all(state);
  ASSERT_EQ(rc, 0) << cmd;
  json report = json::parse(out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << out;

  // Every claim the real binary signed is declared.
  for (const auto& [name, sub] : report["submods"].items()) {
    if (sub.contains("claims")) {
      EXPECT_EQ(ExplainClaims(name, sub["claims"]), "") << machine;
    }
  }

  const std::string got = Mask(report, root).dump(2) + "\n";
  const std::string path = kSource + "/tests/golden/" + machine + ".json";
  if (const char* update = std::getenv("RESMETER_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::ofstream(path) << got;
    GTEST_SKIP() << "wrote " << path;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << path << " is missing; run with RESMETER_UPDATE_GOLDEN=1 to create it";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(want.str(), got) << "probe --json on " << machine << " differs from " << path
                             << " (- golden, + now); if the change is intended, rerun with "
                                "RESMETER_UPDATE_GOLDEN=1 and review the diff:\n"
                             << Diff(want.str(), got);
}

INSTANTIATE_TEST_SUITE_P(machines, golden_probe_test,
                         ::testing::Values("vm_2cpu", "numa_2socket", "numa_2socket_inconsistent",
                                           "no_numa"));

}  // namespace
}  // namespace resmeter
