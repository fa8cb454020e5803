#include "agent/device_metrics.h"

#include "agent/metric_family_builder.h"

namespace resmeter {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;
using json = nlohmann::json;

// The length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
size_t Utf8Length(const std::string& s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
  if (n == 2 && c < 0xc2) return 0;
  if (n == 3 && ((c == 0xe0 && b(i + 1) < 0xa0) || (c == 0xed && b(i + 1) >= 0xa0))) return 0;
  if (n == 4 && ((c == 0xf0 && b(i + 1) < 0x90) || c > 0xf4 || (c == 0xf4 && b(i + 1) >= 0x90))) return 0;
  return n;
}

// A label value from a claim: strings as they are, numbers as JSON; invalid
// UTF-8 and control characters become '?' (a scraper rejects the whole
// exposition over one bad label value), cut to kMaxDeviceLabelBytes on a
// character boundary.
std::string LabelText(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return "";
  const json& v = obj[key];
  const std::string raw =
      v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  for (size_t i = 0; i < raw.size();) {
    const size_t n = Utf8Length(raw, i);
    const unsigned char c = static_cast<unsigned char>(raw[i]);
    const bool bad = n == 0 || (n == 1 && (c < 0x20 || c == 0x7f));
    const size_t take = bad ? 1 : n;
    if (out.size() + take > kMaxDeviceLabelBytes) break;
    if (bad) {
      out += '?';
    } else {
      out.append(raw, i, n);
    }
    i += take;
  }
  return out;
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

}  // namespace

std::vector<MetricFamily> DeviceFamilies(const std::map<std::string, MeterRecord>& meters) {
  std::vector<MetricFamily> out;
  if (const json* c = OkClaims(meters, "gpu.devices")) GpuDevices(*c, &out);
  if (const json* c = OkClaims(meters, "gpu.compute")) GpuCompute(*c, &out);
  return out;
}

}  // namespace resmeter
