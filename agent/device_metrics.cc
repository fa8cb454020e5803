#include "agent/device_metrics.h"

#include "agent/metric_family_builder.h"

namespace resmeter {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;
using json = nlohmann::json;

// A label value from a claim: strings as they are, numbers as JSON, cut short.
std::string LabelText(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return "";
  const json& v = obj[key];
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.size() > kMaxDeviceLabelBytes) s.resize(kMaxDeviceLabelBytes);
  return s;
}

// A numeric member of obj (booleans as 0/1), if present.
bool Number(const json& obj, const char* key, double* out) {
  if (!obj.is_object() || !obj.contains(key)) return false;
  const json& v = obj[key];
  if (v.is_boolean()) {
    *out = v.get<bool>() ? 1 : 0;
    return true;
  }
  if (!v.is_number()) return false;
  *out = v.get<double>();
  return true;
}

// The claims of a meter's last run when it was ok.
const json* OkClaims(const std::map<std::string, MeterRecord>& meters, const char* name) {
  auto it = meters.find(name);
  if (it == meters.end() || it->second.run.result.status != MeterStatus::kOk) return nullptr;
  const json& c = it->second.run.result.claims;
  return c.is_object() ? &c : nullptr;
}

void GpuDevices(const json& claims, std::vector<MetricFamily>* out) {
  if (!claims.contains("devices") || !claims["devices"].is_array()) return;
  MetricFamily info = EmptyFamily("resmeter_gpu_info",
                                  "A GPU on the PCI bus (gpu.devices): its bus id, PCI ids, name, UUID and "
                                  "driver; always 1",
                                  MetricType::Gauge);
  struct Numeric {
    const char* source;  // "nvml" sub-object or "" for the device itself
    const char* key;
    MetricFamily family;
  };
  std::vector<Numeric> numeric = {
      {"nvml", "memory_total_bytes",
       EmptyFamily("resmeter_gpu_memory_bytes", "GPU memory the driver (NVML) reports, bytes",
                   MetricType::Gauge)},
      {"", "link_width_lanes",
       EmptyFamily("resmeter_gpu_pcie_link_width_lanes", "PCIe lanes the GPU's link runs at now",
                   MetricType::Gauge)},
      {"", "max_link_width_lanes",
       EmptyFamily("resmeter_gpu_pcie_link_max_width_lanes", "PCIe lanes the GPU's link supports",
                   MetricType::Gauge)},
      {"", "link_speed_transfers_per_second",
       EmptyFamily("resmeter_gpu_pcie_link_speed_transfers_per_second",
                   "PCIe transfers per second per lane the GPU's link runs at now", MetricType::Gauge)},
      {"", "max_link_speed_transfers_per_second",
       EmptyFamily("resmeter_gpu_pcie_link_max_speed_transfers_per_second",
                   "PCIe transfers per second per lane the GPU's link supports", MetricType::Gauge)},
      {"nvml", "power_limit_watts",
       EmptyFamily("resmeter_gpu_power_limit_watts", "GPU power limit the driver (NVML) reports, watts",
                   MetricType::Gauge)},
      {"nvml", "max_sm_clock_hz",
       EmptyFamily("resmeter_gpu_max_sm_clock_hertz", "Highest SM clock the driver (NVML) reports, hertz",
                   MetricType::Gauge)},
  };
  size_t n = 0;
  for (const json& d : claims["devices"]) {
    if (!d.is_object() || ++n > kMaxDevices) break;
    const std::string gpu = LabelText(d, "pci_bus_id");
    if (gpu.empty()) continue;
    const json nvml = d.contains("nvml") ? d["nvml"] : json::object();
    const json drv = d.contains("nvidia_driver") ? d["nvidia_driver"] : json::object();
    std::string name = LabelText(nvml, "name");
    if (name.empty()) name = LabelText(d, "device_name");
    if (name.empty()) name = LabelText(drv, "model");
    std::string uuid = LabelText(nvml, "uuid");
    if (uuid.empty()) uuid = LabelText(drv, "uuid");
    AddSample(info, 1,
              {{"device_id", LabelText(d, "device_id")},
               {"driver", LabelText(d, "driver")},
               {"gpu", gpu},
               {"name", name},
               {"uuid", uuid},
               {"vendor_id", LabelText(d, "vendor_id")}});
    for (Numeric& m : numeric) {
      const json& src = *m.source ? nvml : d;
      double v = 0;
      if (Number(src, m.key, &v)) AddSample(m.family, v, {{"gpu", gpu}});
    }
  }
  if (!info.metric.empty()) out->push_back(std::move(info));
  for (Numeric& m : numeric) {
    if (!m.family.metric.empty()) out->push_back(std::move(m.family));
  }
}

void GpuCompute(const json& claims, std::vector<MetricFamily>* out) {
  if (!claims.contains("devices") || !claims["devices"].is_array()) return;
  MetricFamily flops = EmptyFamily("resmeter_gpu_fp32_matmul_flops_per_second",
                                   "FP32 matrix-multiply rate the gpu.compute challenge measured (median "
                                   "iteration), FLOP/s",
                                   MetricType::Gauge);
  MetricFamily peak =
      EmptyFamily("resmeter_gpu_peak_ratio",
                  "Measured FP32 rate over the model's reference peak (gpu.compute)", MetricType::Gauge);
  MetricFamily verified =
      EmptyFamily("resmeter_gpu_result_verified",
                  "1 when the GPU's challenge result checked out, 0 when it was wrong", MetricType::Gauge);
  size_t n = 0;
  for (const json& d : claims["devices"]) {
    if (!d.is_object() || ++n > kMaxDevices) break;
    const std::string gpu = LabelText(d, "pci_bus_id");
    if (gpu.empty()) continue;
    double v = 0;
    if (Number(d, "fp32_matmul_flops_per_second", &v)) AddSample(flops, v, {{"gpu", gpu}});
    if (Number(d, "peak_ratio", &v)) AddSample(peak, v, {{"gpu", gpu}});
    if (Number(d, "result_verified", &v)) AddSample(verified, v, {{"gpu", gpu}});
  }
  for (auto* f : {&flops, &peak, &verified}) {
    if (!f->metric.empty()) out->push_back(std::move(*f));
  }
}

// disk.io claims are "<workload>_latency_<statistic>_seconds", "<workload>_bytes_per_second", ...
void DiskIo(const json& claims, std::vector<MetricFamily>* out) {
  MetricFamily latency = EmptyFamily("resmeter_disk_io_latency_seconds",
                                     "Completion latency of disk.io's workloads in their last run, by "
                                     "statistic (min, mean, p50, p90, p99, p999, max), seconds",
                                     MetricType::Gauge);
  MetricFamily bytes =
      EmptyFamily("resmeter_disk_io_bytes_per_second",
                  "Throughput of disk.io's workloads in their last run, bytes per second", MetricType::Gauge);
  MetricFamily ops =
      EmptyFamily("resmeter_disk_io_operations_per_second",
                  "I/O operations per second of disk.io's workloads in their last run", MetricType::Gauge);
  const std::string kLatency = "_latency_", kSeconds = "_seconds", kBytes = "_bytes_per_second",
                    kIos = "_ios_per_second";
  auto ends_with = [](const std::string& s, const std::string& suffix) {
    return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  std::map<std::string, bool> workloads;  // bounded below
  for (const auto& [key, value] : claims.items()) {
    if (!value.is_number()) continue;
    const double v = value.get<double>();
    std::string workload;
    if (const size_t at = key.find(kLatency); at != std::string::npos && at > 0 && ends_with(key, kSeconds)) {
      workload = key.substr(0, at);
      const std::string statistic =
          key.substr(at + kLatency.size(), key.size() - kSeconds.size() - at - kLatency.size());
      if (statistic.empty()) continue;
      if (!workloads.count(workload) && workloads.size() >= kMaxDevices) continue;
      workloads[workload] = true;
      AddSample(latency, v,
                {{"statistic", statistic}, {"workload", workload.substr(0, kMaxDeviceLabelBytes)}});
    } else if (ends_with(key, kBytes) || ends_with(key, kIos)) {
      const bool is_bytes = ends_with(key, kBytes);
      workload = key.substr(0, key.size() - (is_bytes ? kBytes : kIos).size());
      if (!workloads.count(workload) && workloads.size() >= kMaxDevices) continue;
      workloads[workload] = true;
      AddSample(is_bytes ? bytes : ops, v, {{"workload", workload.substr(0, kMaxDeviceLabelBytes)}});
    }
  }
  for (auto* f : {&latency, &bytes, &ops}) {
    if (!f->metric.empty()) out->push_back(std::move(*f));
  }
}

}  // namespace

std::vector<MetricFamily> DeviceFamilies(const std::map<std::string, MeterRecord>& meters) {
  std::vector<MetricFamily> out;
  if (const json* c = OkClaims(meters, "gpu.devices")) GpuDevices(*c, &out);
  if (const json* c = OkClaims(meters, "gpu.compute")) GpuCompute(*c, &out);
  if (const json* c = OkClaims(meters, "disk.io")) DiskIo(*c, &out);
  return out;
}

}  // namespace resmeter
