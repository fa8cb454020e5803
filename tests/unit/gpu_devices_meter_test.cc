// gpu.devices on the fixture trees of tests/fixtures/gpu, with NVML either
// absent (a path that does not exist) or the fake NVML test library.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "gpu/gpu_cross_checks.h"
#include "gpu/gpu_devices_meter.h"
#include "meters/registry/registry.h"

namespace resmeter {
namespace {

const std::string kGpuFixtures = std::string(RESMETER_FIXTURES_DIR) + "/gpu";
const char* kNoNvml = "/nonexistent/libnvidia-ml.so.1";

// Sets the fake NVML's environment for one test and clears it afterwards.
class FakeNvmlEnv {
 public:
  FakeNvmlEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (auto [k, v] : vars) {
      setenv(k, v, 1);
      keys_.push_back(k);
    }
  }
  ~FakeNvmlEnv() {
    for (const char* k : keys_) unsetenv(k);
  }

 private:
  std::vector<const char*> keys_;
};

// Runs gpu.devices on a fixture with the given NVML library and state dir.
MeterResult RunOn(const std::string& fixture, const std::string& nvml, const std::string& state_dir = "") {
  MeterContext ctx;
  ctx.env = DefaultEnv();
  ctx.sys_root = kGpuFixtures + "/" + fixture + "/sys";
  ctx.proc_root = kGpuFixtures + "/" + fixture + "/proc";
  ctx.state_dir = state_dir;
  ctx.options.Set("pci_ids_path", kDefaultPciIdsPath);
  ctx.options.Set("nvml_library", nvml);
  ctx.options.Set("use_nvml", true);
  GpuDevicesMeter meter;
  return meter.Measure(ctx);
}

std::vector<std::string> Codes(const MeterResult& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings) out.push_back(f.code);
  return out;
}

size_t CountCode(const MeterResult& r, const std::string& code) {
  auto c = Codes(r);
  return static_cast<size_t>(std::count(c.begin(), c.end(), code));
}

bool HavePciIds() { return DefaultEnv()->Exists(kDefaultPciIdsPath); }

TEST(gpu_devices_meter_test, registry_row_is_light_and_on_by_default) {
  const MeterInfo* m = FindMeter("gpu.devices");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->kind, MeterKind::kLight);
  EXPECT_TRUE(m->enabled_by_default);
  EXPECT_EQ(m->options.size(), 3u);
}

TEST(gpu_devices_meter_test, no_gpu_is_an_ok_measurement_of_zero) {
  MeterResult r = RunOn("no_gpu", kNoNvml);
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(r.claims["gpu_count"], 0);
  EXPECT_EQ(r.claims["pci_devices_scanned"], 3);
  EXPECT_EQ(r.claims["summary"], "no GPU (none of 3 PCI devices is a display/3D controller)");
  EXPECT_EQ(r.claims["nvml"]["status"], "unavailable");
  EXPECT_NE(r.claims["nvml"]["reason"].get<std::string>().find(kNoNvml), std::string::npos);
  EXPECT_EQ(r.claims["nvidia_kernel_driver"]["loaded"], false);
  EXPECT_TRUE(r.findings.empty());
}

TEST(gpu_devices_meter_test, h100_fixture_without_nvml_uses_pci_and_driver_proc) {
  MeterResult r = RunOn("nvidia_h100", kNoNvml);
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  ASSERT_EQ(r.claims["gpu_count"], 1);
  const auto& d = r.claims["devices"][0];
  EXPECT_EQ(d["pci_bus_id"], "0000:18:00.0");
  EXPECT_EQ(d["vendor_id"], "10de");
  EXPECT_EQ(d["device_id"], "2330");
  EXPECT_EQ(d["driver"], "nvidia");
  EXPECT_EQ(d["numa_node"], 0);
  EXPECT_EQ(d["link_width_lanes"], 16);
  EXPECT_EQ(d["nvidia_driver"]["model"], "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(d["nvidia_driver"]["uuid"], "GPU-fa4e0000-0000-4000-8000-000000000000");
  EXPECT_EQ(d["nvidia_driver"]["vbios_version"], "96.00.74.00.01");
  EXPECT_EQ(r.claims["nvidia_kernel_driver"]["version"], "535.104.05");
  if (HavePciIds()) {
    EXPECT_EQ(d["device_name"], "GH100[H100 SXM5 80GB]");
  }
  EXPECT_EQ(r.claims["nvml"]["status"], "unavailable");
  EXPECT_TRUE(r.findings.empty());
}

TEST(gpu_devices_meter_test, h100_fixture_with_honest_nvml_agrees_everywhere) {
  FakeNvmlEnv env({{"FAKE_NVML_COUNT", "1"}});
  MeterResult r = RunOn("nvidia_h100", RESMETER_FAKE_NVML);
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(r.claims["nvml"]["status"], "ok");
  EXPECT_EQ(r.claims["nvml"]["device_count"], 1);
  EXPECT_EQ(r.claims["nvml"]["driver_version"], "535.104.05");
  EXPECT_EQ(r.claims["nvml"]["confidential_computing"]["enabled"], true);
  const auto& n = r.claims["devices"][0]["nvml"];
  EXPECT_EQ(n["name"], "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(n["memory_total_bytes"], 85520809984ull);
  EXPECT_DOUBLE_EQ(n["max_sm_clock_hz"].get<double>(), 1980e6);
  EXPECT_DOUBLE_EQ(n["power_limit_watts"].get<double>(), 700.0);
  EXPECT_TRUE(r.findings.empty()) << r.findings[0].message;
}

TEST(gpu_devices_meter_test, two_amd_gpus_report_vram_and_vbios) {
  MeterResult r = RunOn("amd_two", kNoNvml);
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  ASSERT_EQ(r.claims["gpu_count"], 2);
  for (int i = 0; i < 2; ++i) {
    const auto& d = r.claims["devices"][i];
    EXPECT_EQ(d["vendor_id"], "1002");
    EXPECT_EQ(d["device_id"], "740f");
    EXPECT_EQ(d["driver"], "amdgpu");
    EXPECT_EQ(d["numa_node"], i);
    EXPECT_EQ(d["amdgpu"]["vram_total_bytes"], 68702699520ull);
    EXPECT_EQ(d["amdgpu"]["vbios_version"], "113-D67301-063");
    EXPECT_EQ(d["amdgpu"]["product_name"], "Instinct MI210");
    if (HavePciIds()) {
      EXPECT_EQ(d["device_name"], "Aldebaran/MI200 [Instinct MI210]");
    }
  }
  EXPECT_EQ(r.claims["devices"][0]["pci_bus_id"], "0000:03:00.0");
  EXPECT_EQ(r.claims["devices"][1]["pci_bus_id"], "0000:83:00.0");
  EXPECT_TRUE(r.findings.empty());
}

TEST(gpu_devices_meter_test, spoofed_nvml_claiming_eight_h100s_is_caught) {
  FakeNvmlEnv env({{"FAKE_NVML_COUNT", "8"}});
  MeterResult r = RunOn("spoof", RESMETER_FAKE_NVML);
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(r.claims["gpu_count"], 1);  // what the PCI bus really holds
  EXPECT_EQ(r.claims["nvml"]["device_count"], 8);
  EXPECT_EQ(r.claims["nvml"]["devices_not_on_pci"].size(), 7u);
  EXPECT_EQ(CountCode(r, "gpu_count_mismatch"), 1u);
  EXPECT_EQ(CountCode(r, "gpu_not_on_pci"), 7u);
  EXPECT_EQ(CountCode(r, "gpu_pci_id_mismatch"), 1u);
  EXPECT_EQ(CountCode(r, "gpu_name_mismatch"), HavePciIds() ? 1u : 0u);
  EXPECT_EQ(CountCode(r, "gpu_uuid_mismatch"), 1u);  // the kernel driver knows the real card
  EXPECT_EQ(r.findings[0].code, "gpu_count_mismatch");
  EXPECT_EQ(r.findings[0].details["nvml_count"], 8);
  EXPECT_EQ(r.findings[0].details["pci_count"], 1);
}

TEST(gpu_devices_meter_test, impossible_driver_version_from_nvml_is_a_finding) {
  FakeNvmlEnv env({{"FAKE_NVML_COUNT", "1"}, {"FAKE_NVML_DRIVER_VERSION", "31.0.15.3598"}});
  MeterResult r = RunOn("nvidia_h100", RESMETER_FAKE_NVML);
  ASSERT_EQ(r.status, MeterStatus::kOk);
  EXPECT_EQ(CountCode(r, "driver_version_impossible"), 1u);
  EXPECT_EQ(CountCode(r, "driver_version_mismatch"), 1u);
}

TEST(gpu_devices_meter_test, nvml_init_failure_is_unavailable_not_failed) {
  FakeNvmlEnv env({{"FAKE_NVML_INIT_FAIL", "1"}});
  MeterResult r = RunOn("nvidia_h100", RESMETER_FAKE_NVML);
  ASSERT_EQ(r.status, MeterStatus::kOk);
  EXPECT_EQ(r.claims["nvml"]["status"], "unavailable");
  EXPECT_EQ(r.claims["nvml"]["reason"], "nvmlInit failed: Driver Not Loaded");
}

TEST(gpu_devices_meter_test, uuid_change_between_runs_is_a_finding) {
  char tmpl[] = "/tmp/resmeter_gpu_meter_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    FakeNvmlEnv env({{"FAKE_NVML_COUNT", "1"}});
    MeterResult first = RunOn("nvidia_h100", RESMETER_FAKE_NVML, dir);
    EXPECT_EQ(first.conditions["uuid_history"], "first run");
    EXPECT_EQ(CountCode(first, "gpu_uuid_changed"), 0u);
    MeterResult same = RunOn("nvidia_h100", RESMETER_FAKE_NVML, dir);
    EXPECT_EQ(same.conditions["uuid_history"], "compared with the last run");
    EXPECT_EQ(CountCode(same, "gpu_uuid_changed"), 0u);
  }
  {
    FakeNvmlEnv env({{"FAKE_NVML_COUNT", "1"}, {"FAKE_NVML_UUID_SALT", "7"}});
    MeterResult swapped = RunOn("nvidia_h100", RESMETER_FAKE_NVML, dir);
    EXPECT_EQ(CountCode(swapped, "gpu_uuid_changed"), 1u);
    EXPECT_EQ(CountCode(swapped, "gpu_uuid_mismatch"), 1u);  // and the kernel driver disagrees with NVML
  }
  std::remove(GpuUuidStatePath(dir).c_str());
  rmdir(dir.c_str());
}

TEST(gpu_devices_meter_test, missing_sysfs_is_unavailable_with_reason) {
  MeterContext ctx;
  ctx.env = DefaultEnv();
  ctx.sys_root = kGpuFixtures + "/does_not_exist";
  ctx.proc_root = kGpuFixtures + "/does_not_exist";
  ctx.options.Set("use_nvml", false);
  GpuDevicesMeter meter;
  MeterResult r = meter.Measure(ctx);
  EXPECT_EQ(r.status, MeterStatus::kUnavailable);
  EXPECT_NE(r.reason.find("does_not_exist/bus"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace resmeter
