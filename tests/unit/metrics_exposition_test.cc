// /metrics content negotiation (Accept, Accept-Encoding), the OpenMetrics
// serializer's family rules, gzip, and the series computed at scrape time:
// usage counters against the bill, per-CPU seconds, per-GPU series,
// process_*.
#include "agent/metrics_exposition.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <limits>
#include <random>

#include "agent/cpu_seconds_metrics.h"
#include "agent/device_metrics.h"
#include "agent/metric_family_builder.h"
#include "agent/process_stats.h"
#include "agent/usage_counters.h"
#include "ledger/ledger_bill.h"

namespace resmeter {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

// What Prometheus 2.42 sends by default.
constexpr const char* kPrometheusAccept =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

TEST(metrics_exposition_test, negotiates_the_format_by_accept) {
  EXPECT_EQ(NegotiateMetricsFormat(kPrometheusAccept), MetricsFormat::kOpenMetrics);
  EXPECT_EQ(NegotiateMetricsFormat(""), MetricsFormat::kPrometheusText);
  EXPECT_EQ(NegotiateMetricsFormat("*/*"), MetricsFormat::kPrometheusText);  // curl
  EXPECT_EQ(
      NegotiateMetricsFormat("text/plain;version=0.0.4;q=0.5, application/openmetrics-text;version=1.0.0"),
      MetricsFormat::kOpenMetrics);  // higher q wins, whatever the order
  EXPECT_EQ(NegotiateMetricsFormat("application/openmetrics-text; q=0, text/plain"),
            MetricsFormat::kPrometheusText);  // q=0 refuses
  EXPECT_EQ(NegotiateMetricsFormat("Application/OpenMetrics-Text; Version=\"1.0.0\""),
            MetricsFormat::kOpenMetrics);  // case and quotes
  EXPECT_EQ(NegotiateMetricsFormat("application/openmetrics-text;version=2.0.0"),
            MetricsFormat::kPrometheusText);  // a version not written here
  EXPECT_EQ(NegotiateMetricsFormat("text/plain, application/openmetrics-text"),
            MetricsFormat::kPrometheusText);  // a tie: the first listed
  EXPECT_EQ(NegotiateMetricsFormat("application/openmetrics-text;q=banana"), MetricsFormat::kPrometheusText);
  EXPECT_EQ(NegotiateMetricsFormat(",,;;=,q=;"), MetricsFormat::kPrometheusText);
}

TEST(metrics_exposition_test, gzip_only_when_accepted) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, GZIP;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_TRUE(AcceptsGzip("x-gzip"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0, *"));  // the explicit refusal wins over *
  EXPECT_FALSE(AcceptsGzip("*;q=0"));
}

std::string Gunzip(const std::string& gz) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

TEST(metrics_exposition_test, gzip_round_trips) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "resmeter_x{cpu=\"" + std::to_string(i) + "\"} 1\n";
  auto gz = GzipCompress(text);
  ASSERT_TRUE(gz);
  EXPECT_EQ(static_cast<unsigned char>((*gz)[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>((*gz)[1]), 0x8b);
  EXPECT_LT(gz->size(), text.size() / 4);
  EXPECT_EQ(Gunzip(*gz), text);
  EXPECT_EQ(Gunzip(*GzipCompress("")), "");
}

TEST(metrics_exposition_test, openmetrics_families) {
  std::vector<MetricFamily> f;
  f.push_back(SingleSample("resmeter_usage_vcpu_seconds_total", "Delivered \"vCPU\" seconds\nbilled",
                           MetricType::Counter, 12.5));
  f.push_back(
      SingleSample("resmeter_build_info", "build", MetricType::Gauge, 1, {{"version", "1.0\\x\"y\n"}}));
  f.push_back(SingleSample("resmeter_odd_info", "not all ones", MetricType::Gauge, 2));
  f.push_back(
      SingleSample("resmeter_temp_celsius", "t", MetricType::Gauge, std::numeric_limits<double>::infinity()));
  f.push_back(SingleSample("resmeter_usage_vcpu_seconds_total", "a duplicate", MetricType::Counter, 99));
  f.push_back(EmptyFamily("resmeter_empty", "no samples", MetricType::Gauge));
  MetricFamily h{"resmeter_latency_seconds", "a histogram", MetricType::Histogram, {}};
  prometheus::ClientMetric m;
  m.label = {{"handler", "metrics"}};
  m.histogram.sample_count = 3;
  m.histogram.sample_sum = 0.75;
  m.histogram.bucket = {{1, 0.1}, {3, 1.0}};  // no +Inf bucket: the serializer adds it
  h.metric.push_back(m);
  f.push_back(h);

  const std::string om = SerializeOpenMetrics(f);
  EXPECT_NE(om.find("# TYPE resmeter_usage_vcpu_seconds counter\n"
                    "# HELP resmeter_usage_vcpu_seconds Delivered \\\"vCPU\\\" seconds\\nbilled\n"
                    "resmeter_usage_vcpu_seconds_total 12.5\n"),
            std::string::npos)
      << om;
  EXPECT_EQ(om.find(" 99\n"), std::string::npos);  // a family is written once
  EXPECT_NE(om.find("# TYPE resmeter_build info\n"), std::string::npos);
  EXPECT_NE(om.find("resmeter_build_info{version=\"1.0\\\\x\\\"y\\n\"} 1\n"), std::string::npos) << om;
  EXPECT_NE(
      om.find("# TYPE resmeter_odd_info gauge\n# HELP resmeter_odd_info not all ones\nresmeter_odd_info 2\n"),
      std::string::npos);
  EXPECT_NE(om.find("resmeter_temp_celsius +Inf\n"), std::string::npos);
  EXPECT_EQ(om.find("resmeter_empty"), std::string::npos);
  EXPECT_NE(om.find("resmeter_latency_seconds_bucket{handler=\"metrics\",le=\"0.1\"} 1\n"
                    "resmeter_latency_seconds_bucket{handler=\"metrics\",le=\"1\"} 3\n"
                    "resmeter_latency_seconds_bucket{handler=\"metrics\",le=\"+Inf\"} 3\n"
                    "resmeter_latency_seconds_count{handler=\"metrics\"} 3\n"
                    "resmeter_latency_seconds_sum{handler=\"metrics\"} 0.75\n"),
            std::string::npos)
      << om;
  ASSERT_GE(om.size(), 6u);
  EXPECT_EQ(om.substr(om.size() - 6), "# EOF\n");
  EXPECT_EQ(om.find("# EOF"), om.size() - 6);  // once, at the end

  // The classic format keeps prometheus-cpp's serializer (and its _total names).
  const std::string text = SerializeMetrics(f, MetricsFormat::kPrometheusText);
  EXPECT_NE(text.find("# TYPE resmeter_usage_vcpu_seconds_total counter"), std::string::npos);
  EXPECT_EQ(text.find("# EOF"), std::string::npos);
}

// The counters add up to exactly what the bill charges for the same
// statements: measured and unmeasured periods, trusted time or not.
TEST(usage_counters_test, equal_the_bill_for_the_same_statements) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u01(0, 1);
  UsageCounters counters;
  LedgerBillBuilder bill(std::nullopt, std::nullopt);
  double t = 1.7e9;
  for (uint64_t seq = 1; seq <= 500; ++seq) {
    LedgerUsage u;
    u.start_unix_seconds = t;
    u.end_unix_seconds = t += 1 + 59 * u01(rng);
    const double capacity = (u.end_unix_seconds - u.start_unix_seconds) * 4;
    u.vcpu_stolen_seconds = capacity * 0.1 * u01(rng);
    u.vcpu_delivered_seconds = capacity - u.vcpu_stolen_seconds;
    u.memory_gib_seconds = 16 * (u.end_unix_seconds - u.start_unix_seconds);
    u.gpu_seconds = seq % 3 == 0 ? 0 : 2 * (u.end_unix_seconds - u.start_unix_seconds);
    u.time_trusted = seq % 7 != 0;
    if (seq % 2 == 0) {  // measured availability
      u.availability.sampled = true;
      u.availability.samples = 10;
      u.availability.vcpus = 4;
      u.availability.measured_ratio = 0.7 + 0.3 * u01(rng);
    }
    counters.Add(u);
    bill.AddUsage(u.start_unix_seconds, u.end_unix_seconds, u.vcpu_delivered_seconds, u.vcpu_stolen_seconds,
                  u.memory_gib_seconds, u.gpu_seconds, u.time_trusted, std::nullopt,
                  MeasuredAvailability{seq, u.availability.samples, u.availability.measured_ratio,
                                       u.availability.vcpus, 0});
  }
  const LedgerBillTotals b = bill.Finish().totals;
  auto near = [](double seconds, double hours) { EXPECT_NEAR(seconds / 3600, hours, 1e-9 * (1 + hours)); };
  EXPECT_EQ(counters.statements, b.statements);
  near(counters.metered_seconds, b.covered_hours);
  near(counters.vcpu_seconds, b.delivered_vcpu_hours);
  near(counters.vcpu_stolen_seconds, b.stolen_vcpu_hours);
  near(counters.vcpu_measured_loss_seconds, b.measured_loss_vcpu_hours);
  near(counters.availability_measured_seconds, b.measured_hours);
  near(counters.memory_gib_seconds, b.memory_gib_hours);
  near(counters.gpu_seconds, b.gpu_hours);
  near(counters.untrusted_time_seconds, b.untrusted_time_hours);
  // Measured periods bill less than steal alone would here: the counters follow the bill, not steal.
  EXPECT_LT(counters.vcpu_seconds, b.steal_based_delivered_vcpu_hours * 3600);

  const auto families = UsageCounterFamilies(counters);
  bool found = false;
  for (const auto& f : families) {
    EXPECT_EQ(f.type, MetricType::Counter) << f.name;
    EXPECT_EQ(f.name.rfind("resmeter_usage_", 0), 0u) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    if (f.name == "resmeter_usage_vcpu_seconds_total") {
      found = true;
      EXPECT_DOUBLE_EQ(f.metric.at(0).counter.value, counters.vcpu_seconds);
    }
  }
  EXPECT_TRUE(found);
}

TEST(cpu_seconds_metrics_test, per_cpu_and_mode_from_proc_stat) {
  const std::string stat =
      "cpu  300 0 200 1000 10 0 5 7 0 0\n"
      "cpu0 100 0 100 500 5 0 2 3 0 0\n"
      "cpu1 200 0 100 500 5 0 3 4 0 0\n"
      "intr 1 2 3\nbtime 1700000000\n";
  auto f = CpuSecondsFamily(stat, 100);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->name, "resmeter_cpu_seconds_total");
  EXPECT_EQ(f->type, MetricType::Counter);
  ASSERT_EQ(f->metric.size(), 16u);  // 2 CPUs x 8 modes; the aggregate line is not repeated
  double cpu1_user = -1, cpu0_steal = -1;
  for (const auto& m : f->metric) {
    ASSERT_EQ(m.label.size(), 2u);
    if (m.label[0].value == "1" && m.label[1].value == "user") cpu1_user = m.counter.value;
    if (m.label[0].value == "0" && m.label[1].value == "steal") cpu0_steal = m.counter.value;
  }
  EXPECT_DOUBLE_EQ(cpu1_user, 2.0);
  EXPECT_DOUBLE_EQ(cpu0_steal, 0.03);
  // An old kernel without steal: no steal series rather than a made-up zero.
  auto old = CpuSecondsFamily("cpu0 1 2 3 4\n", 100);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->metric.size(), 4u);
  EXPECT_FALSE(CpuSecondsFamily("cpu0 x y\n", 100));
  EXPECT_FALSE(CpuSecondsFamily("intr 1\n", 100));
  EXPECT_FALSE(ReadCpuSecondsFamily("/nonexistent", 100));
}

MeterRecord OkRecord(const std::string& name, nlohmann::json claims) {
  MeterRecord r;
  r.run.name = name;
  r.run.result = MeterResult::Ok();
  r.run.result.claims = std::move(claims);
  return r;
}

const MetricFamily* Find(const std::vector<MetricFamily>& fs, const std::string& name) {
  for (const auto& f : fs) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST(device_metrics_test, per_gpu_series) {
  std::map<std::string, MeterRecord> meters;
  nlohmann::json devices = nlohmann::json::array();
  devices.push_back(
      {{"pci_bus_id", "0000:01:00.0"},
       {"vendor_id", "10de"},
       {"device_id", "2330"},
       {"device_name", "GH100 [H100 SXM5 80GB]"},
       {"driver", "nvidia"},
       {"link_width_lanes", 16},
       {"nvml", {{"name", "NVIDIA H100"}, {"uuid", "GPU-1"}, {"memory_total_bytes", 85899345920.0}}}});
  devices.push_back({{"pci_bus_id", std::string(500, 'x')}, {"driver", nullptr}});  // hostile: cut short
  // Hostile names: invalid UTF-8, a control character, a multi-byte character at the cut.
  devices.push_back({{"pci_bus_id", "b\xff\xfe\n\x01"}, {"device_name", std::string(127, 'a') + "\xc3\xa9"}});
  meters["gpu.devices"] = OkRecord("gpu.devices", {{"gpu_count", 2}, {"devices", devices}});
  meters["gpu.compute"] = OkRecord("gpu.compute", {{"devices",
                                                    {{{"pci_bus_id", "0000:01:00.0"},
                                                      {"fp32_matmul_flops_per_second", 5e13},
                                                      {"result_verified", true}}}}});
  const auto fs = DeviceFamilies(meters);
  const MetricFamily* info = Find(fs, "resmeter_gpu_info");
  ASSERT_TRUE(info);
  ASSERT_EQ(info->metric.size(), 3u);
  std::map<std::string, std::string> labels;
  for (const auto& l : info->metric[0].label) labels[l.name] = l.value;
  EXPECT_EQ(labels["gpu"], "0000:01:00.0");
  EXPECT_EQ(labels["name"], "NVIDIA H100");
  EXPECT_EQ(labels["uuid"], "GPU-1");
  for (const auto& l : info->metric[1].label) EXPECT_LE(l.value.size(), kMaxDeviceLabelBytes);
  std::map<std::string, std::string> hostile;
  for (const auto& l : info->metric[2].label) hostile[l.name] = l.value;
  EXPECT_EQ(hostile["gpu"], "b????");
  EXPECT_EQ(hostile["name"], std::string(127, 'a'));  // the 2-byte character does not fit: dropped whole
  const MetricFamily* mem = Find(fs, "resmeter_gpu_memory_bytes");
  ASSERT_TRUE(mem);
  EXPECT_DOUBLE_EQ(mem->metric.at(0).gauge.value, 85899345920.0);
  ASSERT_TRUE(Find(fs, "resmeter_gpu_pcie_link_width_lanes"));
  const MetricFamily* flops = Find(fs, "resmeter_gpu_fp32_matmul_flops_per_second");
  ASSERT_TRUE(flops);
  EXPECT_DOUBLE_EQ(flops->metric.at(0).gauge.value, 5e13);
  EXPECT_DOUBLE_EQ(Find(fs, "resmeter_gpu_result_verified")->metric.at(0).gauge.value, 1);
  // A meter whose last run was not ok exports nothing of it.
  meters["gpu.compute"].run.result.status = MeterStatus::kFailed;
  EXPECT_FALSE(Find(DeviceFamilies(meters), "resmeter_gpu_fp32_matmul_flops_per_second"));

  // At most kMaxDevices devices.
  nlohmann::json many = nlohmann::json::array();
  for (int i = 0; i < 1000; ++i) many.push_back({{"pci_bus_id", std::string("b").append(std::to_string(i))}});
  meters["gpu.devices"] = OkRecord("gpu.devices", {{"devices", many}});
  EXPECT_EQ(Find(DeviceFamilies(meters), "resmeter_gpu_info")->metric.size(), kMaxDevices);
}

TEST(process_stats_test, standard_process_families) {
  const auto fs = ProcessFamilies();
  for (const char* name :
       {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
        "process_open_fds", "process_max_fds", "process_start_time_seconds"}) {
    EXPECT_TRUE(Find(fs, name)) << name;
  }
  const double start = Find(fs, "process_start_time_seconds")->metric.at(0).gauge.value;
  EXPECT_GT(start, 1.5e9);
  EXPECT_LT(start, 5e9);
  EXPECT_GE(Find(fs, "process_open_fds")->metric.at(0).gauge.value, 3);
}

}  // namespace
}  // namespace resmeter
