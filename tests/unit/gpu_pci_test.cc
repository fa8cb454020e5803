// Unit tests of gpu/pci_scan and gpu/pci_ids on fixture trees.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "gpu/pci_ids.h"
#include "gpu/pci_scan.h"

namespace resmeter {
namespace {

const std::string kGpuFixtures = std::string(RESMETER_FIXTURES_DIR) + "/gpu";

TEST(gpu_pci_scan_test, no_gpu_fixture_scans_devices_and_finds_none) {
  auto scan = ScanPciGpus(*DefaultEnv(), kGpuFixtures + "/no_gpu/sys");
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_TRUE(scan->pci_bus_present);
  EXPECT_EQ(scan->devices_scanned, 3);
  EXPECT_TRUE(scan->gpus.empty());
}

TEST(gpu_pci_scan_test, h100_fixture_reads_ids_driver_numa_and_link) {
  auto scan = ScanPciGpus(*DefaultEnv(), kGpuFixtures + "/nvidia_h100/sys");
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->gpus.size(), 1u);
  const PciGpu& g = scan->gpus[0];
  EXPECT_EQ(g.bus_id, "0000:18:00.0");
  EXPECT_EQ(g.class_code, 0x030200u);
  EXPECT_EQ(g.vendor_id, kPciVendorNvidia);
  EXPECT_EQ(g.device_id, 0x2330);
  EXPECT_EQ(*g.subsystem_device_id, 0x16c1);
  EXPECT_EQ(g.driver, "nvidia");
  EXPECT_EQ(*g.numa_node, 0);
  EXPECT_DOUBLE_EQ(*g.link_speed_transfers_per_second, 32e9);
  EXPECT_EQ(*g.link_width_lanes, 16);
}

TEST(gpu_pci_scan_test, missing_sysfs_is_not_found_but_missing_pci_bus_is_empty) {
  auto none = ScanPciGpus(*DefaultEnv(), kGpuFixtures + "/does_not_exist");
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound);
  // A sysfs with a bus/ folder but no PCI bus (a microVM): zero GPUs, measured.
  char tmpl[] = "/tmp/resmeter_gpu_test_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  ASSERT_EQ(mkdir((root + "/bus").c_str(), 0700), 0);
  auto no_pci = ScanPciGpus(*DefaultEnv(), root);
  ASSERT_TRUE(no_pci.ok());
  EXPECT_FALSE(no_pci->pci_bus_present);
  EXPECT_TRUE(no_pci->gpus.empty());
  rmdir((root + "/bus").c_str());
  rmdir(root.c_str());
}

TEST(gpu_pci_scan_test, classes_bus_ids_and_link_speeds_parse) {
  EXPECT_TRUE(IsGpuClass(0x030000));
  EXPECT_TRUE(IsGpuClass(0x030200));
  EXPECT_TRUE(IsGpuClass(0x038000));
  EXPECT_FALSE(IsGpuClass(0x020000));
  EXPECT_FALSE(IsGpuClass(0x030100));
  EXPECT_EQ(*NormalizePciBusId("00000000:3B:00.0"), "0000:3b:00.0");
  EXPECT_EQ(*NormalizePciBusId("3b:1f.7"), "0000:3b:1f.7");
  EXPECT_FALSE(NormalizePciBusId("3b:20.0").has_value());
  EXPECT_FALSE(NormalizePciBusId("garbage").has_value());
  EXPECT_DOUBLE_EQ(*ParseLinkSpeed("2.5 GT/s"), 2.5e9);
  EXPECT_DOUBLE_EQ(*ParseLinkSpeed("16.0 GT/s PCIe\n"), 16e9);
  EXPECT_FALSE(ParseLinkSpeed("Unknown").has_value());
}

TEST(gpu_pci_ids_test, parses_vendors_devices_subsystems_and_stops_at_classes) {
  const char* text =
      "# comment\n"
      "10de  NVIDIA Corporation\n"
      "\t2330  GH100[H100 SXM5 80GB]\n"
      "\t\t10de 16c1  H100 SXM5 80GB\n"
      "\t2684  AD102 [GeForce RTX 4090]\n"
      "1002  Advanced Micro Devices, Inc. [AMD/ATI]\n"
      "\t740f  Aldebaran/MI200 [Instinct MI210]\n"
      "\tzzzz  malformed line is skipped\n"
      "C 03  Display controller\n"
      "\t02  3D controller\n";
  auto ids = PciIds::Parse(text);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids->Vendor(0x10de), "NVIDIA Corporation");
  EXPECT_EQ(*ids->Device(0x10de, 0x2330), "GH100[H100 SXM5 80GB]");
  EXPECT_EQ(*ids->Subsystem(0x10de, 0x2330, 0x10de, 0x16c1), "H100 SXM5 80GB");
  EXPECT_EQ(*ids->Device(0x1002, 0x740f), "Aldebaran/MI200 [Instinct MI210]");
  EXPECT_FALSE(ids->Device(0x1002, 0x0002).has_value());  // class "02" did not become a device
  EXPECT_EQ(ids->device_count(), 3u);
  EXPECT_EQ(PciIds::Parse("nothing here\n").status().code(), Status::Code::kCorruption);
  auto amd_only = PciIds::Parse(text, {0x1002});
  ASSERT_TRUE(amd_only.ok());
  EXPECT_EQ(*amd_only->Vendor(0x10de), "NVIDIA Corporation");  // vendor names always kept
  EXPECT_FALSE(amd_only->Device(0x10de, 0x2330).has_value());
  EXPECT_TRUE(amd_only->Device(0x1002, 0x740f).has_value());
}

TEST(gpu_pci_ids_test, loads_debian_database_when_installed) {
  auto ids = PciIds::Load(*DefaultEnv(), kDefaultPciIdsPath);
  if (!ids.ok()) GTEST_SKIP() << "pci.ids package not installed: " << ids.status().ToString();
  EXPECT_GT(ids->device_count(), 10000u);
  EXPECT_TRUE(ids->Device(0x10de, 0x2330).has_value());
}

}  // namespace
}  // namespace resmeter
