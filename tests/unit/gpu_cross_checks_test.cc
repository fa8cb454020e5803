// Unit tests of gpu/gpu_cross_checks and gpu/nvidia_proc parsing.
#include "gpu/gpu_cross_checks.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace resmeter {
namespace {

// Codes of findings, in order.
std::vector<std::string> Codes(const std::vector<Finding>& f) {
  std::vector<std::string> out;
  for (const auto& x : f) out.push_back(x.code);
  return out;
}

PciGpu MakePci(const std::string& bus, uint16_t vendor, uint16_t device) {
  PciGpu g;
  g.bus_id = bus;
  g.class_code = 0x030200;
  g.vendor_id = vendor;
  g.device_id = device;
  return g;
}

NvmlDevice MakeNvml(unsigned i, const std::string& name, const std::string& bus, uint16_t device,
                    const std::string& uuid) {
  NvmlDevice d;
  d.index = i;
  d.name = name;
  d.pci_bus_id = bus;
  d.pci_vendor_id = kPciVendorNvidia;
  d.pci_device_id = device;
  d.uuid = uuid;
  return d;
}

PciIds TestIds() {
  return *PciIds::Parse(
      "10de  NVIDIA Corporation\n"
      "\t20b0  GA100 [A100 SXM4 40GB]\n"
      "\t2236  GA102GL [A10]\n"
      "\t2330  GH100[H100 SXM5 80GB]\n"
      "\t2684  AD102 [GeForce RTX 4090]\n");
}

TEST(gpu_cross_checks_test, model_tokens_and_whole_word_name_matching) {
  EXPECT_EQ(GpuModelToken("NVIDIA H100 80GB HBM3"), "H100");
  EXPECT_EQ(GpuModelToken("NVIDIA GeForce RTX 4090"), "4090");
  EXPECT_EQ(GpuModelToken("NVIDIA A100-SXM4-80GB"), "A100");
  EXPECT_EQ(GpuModelToken("Tesla T4"), "T4");
  EXPECT_EQ(GpuModelToken("NVIDIA"), "");
  EXPECT_TRUE(NameMatchesPciName("NVIDIA H100 80GB HBM3", "GH100[H100 SXM5 80GB]"));
  EXPECT_TRUE(NameMatchesPciName("NVIDIA A100-SXM4-40GB", "GA100 [A100 SXM4 40GB]"));
  EXPECT_TRUE(NameMatchesPciName("NVIDIA GeForce RTX 4090", "AD102 [GeForce RTX 4090]"));
  EXPECT_FALSE(NameMatchesPciName("NVIDIA A10", "GA100 [A100 SXM4 40GB]"));  // A10 is not A100
  EXPECT_FALSE(NameMatchesPciName("NVIDIA H100 80GB HBM3", "AD102 [GeForce RTX 4090]"));
}

TEST(gpu_cross_checks_test, honest_nvml_yields_no_findings) {
  PciScan pci;
  pci.gpus = {MakePci("0000:18:00.0", kPciVendorNvidia, 0x2330)};
  NvmlSnapshot nvml;
  nvml.devices = {MakeNvml(0, "NVIDIA H100 80GB HBM3", "0000:18:00.0", 0x2330, "GPU-a")};
  PciIds ids = TestIds();
  EXPECT_TRUE(CheckNvmlAgainstPci(pci, &ids, nvml).empty());
}

TEST(gpu_cross_checks_test, spoofed_nvml_yields_count_presence_id_name_and_duplicate_findings) {
  PciScan pci;
  pci.gpus = {MakePci("0000:18:00.0", kPciVendorNvidia, 0x2684)};
  NvmlSnapshot nvml;
  nvml.devices = {MakeNvml(0, "NVIDIA H100 80GB HBM3", "0000:18:00.0", 0x2330, "GPU-a"),
                  MakeNvml(1, "NVIDIA H100 80GB HBM3", "0000:19:00.0", 0x2330, "GPU-a")};
  PciIds ids = TestIds();
  auto f = CheckNvmlAgainstPci(pci, &ids, nvml);
  EXPECT_EQ(Codes(f),
            (std::vector<std::string>{"gpu_count_mismatch", "gpu_duplicate_identity", "gpu_pci_id_mismatch",
                                      "gpu_name_mismatch", "gpu_not_on_pci"}));
  EXPECT_EQ(f[0].details["nvml_count"], 2);
  EXPECT_EQ(f[0].details["pci_count"], 1);
  EXPECT_EQ(f[3].details["pci_name"], "AD102 [GeForce RTX 4090]");
  EXPECT_EQ(f[4].details["nvml_pci_bus_id"], "0000:19:00.0");
  // Without pci.ids the name check is skipped; the id check still fires.
  auto raw = Codes(CheckNvmlAgainstPci(pci, nullptr, nvml));
  EXPECT_EQ(std::count(raw.begin(), raw.end(), "gpu_name_mismatch"), 0);
  EXPECT_EQ(std::count(raw.begin(), raw.end(), "gpu_pci_id_mismatch"), 1);
}

TEST(gpu_cross_checks_test, driver_versions_possible_and_impossible) {
  for (const char* ok : {"535.104.05", "550.54.14", "470.256.02", "390.157", "525.60.13"}) {
    EXPECT_FALSE(ImpossibleDriverVersionReason(ok).has_value()) << ok;
  }
  for (const char* bad : {"", "31.0.15.3598", "9999.1", "99.1.01", "535", "535.104.5", "535.x.05", "1.0-9631",
                          "535.104.05-beta"}) {
    EXPECT_TRUE(ImpossibleDriverVersionReason(bad).has_value()) << bad;
  }
  EXPECT_TRUE(CheckDriverVersions("535.104.05", "535.104.05").empty());
  EXPECT_EQ(Codes(CheckDriverVersions("31.0.15.3598", "535.104.05")),
            (std::vector<std::string>{"driver_version_impossible", "driver_version_mismatch"}));
  EXPECT_TRUE(CheckDriverVersions("", "").empty());
}

TEST(gpu_cross_checks_test, proc_uuid_disagreeing_with_nvml_is_a_finding) {
  NvidiaProcInfo proc;
  NvidiaProcGpu g;
  g.bus_id = "0000:18:00.0";
  g.uuid = "GPU-kernel";
  proc.gpus = {g};
  NvmlSnapshot nvml;
  nvml.devices = {MakeNvml(0, "x", "0000:18:00.0", 0x2330, "GPU-nvml")};
  EXPECT_EQ(Codes(CheckProcAgainstNvml(proc, nvml)), std::vector<std::string>{"gpu_uuid_mismatch"});
  nvml.devices[0].uuid = "GPU-kernel";
  EXPECT_TRUE(CheckProcAgainstNvml(proc, nvml).empty());
}

TEST(gpu_cross_checks_test, uuid_state_round_trips_and_detects_change) {
  char tmpl[] = "/tmp/resmeter_gpu_state_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string path = GpuUuidStatePath(tmpl);
  EXPECT_EQ(LoadGpuUuidState(*DefaultEnv(), path).status().code(), Status::Code::kNotFound);
  GpuUuidMap a = {{"0000:18:00.0", "GPU-a"}, {"0000:19:00.0", "GPU-b"}};
  ASSERT_TRUE(SaveGpuUuidState(*DefaultEnv(), path, a).ok());
  auto loaded = LoadGpuUuidState(*DefaultEnv(), path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, a);
  EXPECT_FALSE(CompareGpuUuids(a, a).has_value());
  GpuUuidMap b = {{"0000:18:00.0", "GPU-a"}, {"0000:19:00.0", "GPU-c"}};
  auto f = CompareGpuUuids(a, b);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->code, "gpu_uuid_changed");
  EXPECT_EQ(f->details["added"], nlohmann::json({"GPU-c"}));
  EXPECT_EQ(f->details["removed"], nlohmann::json({"GPU-b"}));
  std::remove(path.c_str());
  rmdir(tmpl);
}

TEST(nvidia_proc_test, parses_information_and_nvrm_versions) {
  auto g = ParseNvidiaGpuInformation(
      "Model: \t\t NVIDIA H100 80GB HBM3\nGPU UUID: \t GPU-123\nVideo BIOS: \t 96.00.74.00.01\n"
      "Bus Location: \t 0000:18:00.0\nDevice Minor: \t 3\nGPU Excluded:\t No\n");
  EXPECT_EQ(g.model, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(g.uuid, "GPU-123");
  EXPECT_EQ(g.vbios_version, "96.00.74.00.01");
  EXPECT_EQ(g.bus_id, "0000:18:00.0");
  EXPECT_EQ(*g.device_minor, 3);
  EXPECT_FALSE(*g.excluded);
  EXPECT_EQ(
      *ParseNvrmVersion("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 2023\n"),
      "535.104.05");
  EXPECT_EQ(*ParseNvrmVersion(
                "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  Release Build\n"),
            "550.54.14");
  EXPECT_FALSE(ParseNvrmVersion("GCC version: 12.2.0\n").has_value());
}

}  // namespace
}  // namespace resmeter
