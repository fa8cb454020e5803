// The disk meter's latency histogram against fio on the same workload
// (4 KiB random reads, queue depth 1, O_DIRECT, psync, a 64 MiB file in
// /var/tmp): fio's own json+ "clat_ns" bins follow the layout of
// core/fio_latency_bins.h (every key is a bucket's key value), fio's own
// percentiles recomputed from its bins with FioBinsPercentile equal what fio
// printed, and the report's bins use the same keys, hold every I/O, and
// reproduce the report's p50/p99 within the stated relative error. The two
// tools' medians are compared loosely (same disk, a shared machine).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/fio_latency_bins.h"
#include "meters/api/latency_histogram.h"
#include "support/shell_command.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

using json = nlohmann::json;

std::string Q(const std::string& s) { return "'" + s + "'"; }

TEST(FioBins, SameLayoutAsFioJsonPlusOnTheSameWorkload) {
  if (RunShellCommand("command -v fio > /dev/null") != 0)
    GTEST_SKIP() << "fio not installed (scripts/install-deps.sh bench)";
  const std::string dir = "/var/tmp/resmeter-fio-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::string d;
    ~Cleanup() { std::filesystem::remove_all(d); }
  } cleanup{dir};

  std::string out;
  ASSERT_EQ(RunShellCommand("fio --name=rr --filename=" + Q(dir + "/fio.dat") +
                                " --rw=randread --bs=4k --iodepth=1 --direct=1 --ioengine=psync --size=64M"
                                " --runtime=1 --time_based --output-format=json+ 2>/dev/null",
                            &out),
            0);
  const json fio = json::parse(out.substr(out.find('{')), nullptr, false);
  ASSERT_TRUE(fio.is_object()) << out.substr(0, 300);
  const json& clat = fio["jobs"][0]["read"]["clat_ns"];
  ASSERT_TRUE(clat.contains("bins")) << "fio printed no json+ bins";
  const FioBins fio_bins = FioBinsFromJson(clat["bins"]);
  ASSERT_FALSE(fio_bins.empty());
  for (const auto& [key, count] : fio_bins)
    EXPECT_EQ(FioBinValue(FioBinIndex(key)), key) << "fio key " << key;
  for (const auto& [label, q] : {std::pair{"50.000000", 0.5}, std::pair{"99.000000", 0.99}}) {
    const double printed = clat["percentile"][label].get<double>();
    const double recomputed = static_cast<double>(FioBinsPercentile(fio_bins, q));
    EXPECT_LE(std::fabs(recomputed - printed), printed * kFioBinRelativeError * 2)
        << "fio p" << label << " " << printed << " vs from its bins " << recomputed;
  }

  ASSERT_EQ(RunShellCommand(
                Q(RESMETER_BINARY) + " --state-dir " + Q(dir + "/state") +
                    " --set meters.disk.io.directory=" + Q(dir) +
                    " --set meters.disk.io.file_size_bytes=67108864 --set meters.disk.io.engine=psync"
                    " --set \"meters.disk.io.workloads=[rand_read]\" --set meters.disk.io.deep_queue_depth=1"
                    " --set meters.disk.io.duration_seconds=1 --set meters.disk.io.warmup_seconds=0.2"
                    " probe --only disk.io --json 2>/dev/null",
                &out),
            0);
  const json report = json::parse(out, nullptr, false);
  ASSERT_TRUE(report.is_object());
  const json& c = report["submods"]["disk.io"]["claims"];
  ASSERT_TRUE(c.contains("rand_read_qd1_latency_histogram")) << c.dump().substr(0, 300);
  const json& h = c["rand_read_qd1_latency_histogram"];
  const FioBins ours = FioBinsFromJson(h["bins"]);
  uint64_t total = 0;
  for (const auto& [key, count] : ours) {
    EXPECT_EQ(FioBinValue(FioBinIndex(key)), key) << "report key " << key;
    total += count;
  }
  EXPECT_EQ(total, c["rand_read_qd1_ios"].get<uint64_t>()) << "every I/O is in a bin";
  const double bound = h["relative_error_ratio"].get<double>() + LatencyHistogram::kRelativeErrorBound;
  for (const auto& [name, q] : {std::pair{"rand_read_qd1_latency_p50_seconds", 0.5},
                                std::pair{"rand_read_qd1_latency_p99_seconds", 0.99}}) {
    const double reported = c[name].get<double>() * 1e9;
    const double from_bins = static_cast<double>(FioBinsPercentile(ours, q));
    EXPECT_LE(std::fabs(from_bins - reported) / reported, bound) << name;
  }
  const double fio_p50 = clat["percentile"]["50.000000"].get<double>();
  const double our_p50 = c["rand_read_qd1_latency_p50_seconds"].get<double>() * 1e9;
  std::printf("p50: fio %.0f ns, resmeter %.0f ns; bins: fio %zu, resmeter %zu (%zu bytes)\n", fio_p50,
              our_p50, fio_bins.size(), ours.size(), h.dump().size());
  EXPECT_LT(std::max(fio_p50, our_p50) / std::min(fio_p50, our_p50), 3.0)
      << "same workload, same disk: medians within a factor of 3 on a shared machine";
}

}  // namespace
}  // namespace resmeter
