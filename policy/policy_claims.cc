#include "policy/policy_claims.h"

#include <algorithm>

namespace resmeter {
namespace {

using json = nlohmann::json;

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// A measurement that is not there, with the reason.
PolicyMeasurement Unavailable(std::string why) {
  PolicyMeasurement m;
  m.unavailable = std::move(why);
  return m;
}

PolicyMeasurement Number(double v) {
  PolicyMeasurement m;
  m.number = v;
  return m;
}

// The claims object of `meter` when it ran with status ok; otherwise null
// and *why says what happened instead.
const json* OkClaims(const json& submods, const std::string& meter, std::string* why) {
  if (!submods.is_object() || !submods.contains(meter) || !submods[meter].is_object()) {
    *why = "meter " + meter + " is not in the report";
    return nullptr;
  }
  const json& m = submods[meter];
  const std::string status =
      m.contains("status") && m["status"].is_string() ? m["status"].get<std::string>() : "?";
  if (status != "ok") {
    *why = meter + " " + status;
    if (m.contains("reason") && m["reason"].is_string()) *why += ": " + m["reason"].get<std::string>();
    return nullptr;
  }
  if (!m.contains("claims") || !m["claims"].is_object()) {
    *why = meter + " has no claims";
    return nullptr;
  }
  return &m["claims"];
}

// claims[key] * scale from one meter.
PolicyMeasurement Scalar(const json& submods, const std::string& meter, const std::string& key,
                         double scale) {
  std::string why;
  const json* claims = OkClaims(submods, meter, &why);
  if (claims == nullptr) return Unavailable(why);
  if (!claims->contains(key) || !(*claims)[key].is_number()) {
    return Unavailable(meter + " has no numeric claim " + key);
  }
  return Number((*claims)[key].get<double>() * scale);
}

// A disk.io workload metric at the clause's queue depth, e.g.
// rand_read_qd32_ios_per_second.
PolicyMeasurement Disk(const json& submods, const PolicyClause& clause, const std::string& workload,
                       const std::string& metric, double scale) {
  const std::string key = workload + "_qd" + std::to_string(clause.queue_depth.value_or(1)) + "_" + metric;
  PolicyMeasurement m = Scalar(submods, "disk.io", key, scale);
  if (!m.number && m.unavailable.find("no numeric claim") != std::string::npos) {
    m.unavailable = "disk.io did not run " + workload + " at queue depth " +
                    std::to_string(clause.queue_depth.value_or(1)) + " (no claim " + key + ")";
  }
  return m;
}

// A per-target metric of net.throughput or net.latency: the clause's peer
// (matched by the peer's key thumbprint, never by address), or the worst
// over all targets.
PolicyMeasurement Net(const json& submods, const PolicyClause& clause, const std::string& meter,
                      const std::string& key, double scale, bool higher_is_better) {
  std::string why;
  const json* claims = OkClaims(submods, meter, &why);
  if (claims == nullptr) return Unavailable(why);
  if (!claims->contains("targets") || !(*claims)["targets"].is_array())
    return Unavailable(meter + " has no targets");
  std::optional<double> worst;
  bool matched = false;
  const std::string& kid = clause.peer_kid.empty() ? clause.peer : clause.peer_kid;
  std::string failed;  // targets that failed before their peer's key was known
  for (const json& t : (*claims)["targets"]) {
    if (!t.is_object()) continue;
    const std::string target =
        t.contains("target") && t["target"].is_string() ? t["target"].get<std::string>() : "?";
    if (!kid.empty() &&
        !(t.contains("peer_thumbprint") && t["peer_thumbprint"].is_string() && t["peer_thumbprint"] == kid)) {
      if (!t.contains("peer_thumbprint") && t.contains("status") && t["status"] != "ok") {
        const std::string reason =
            t.contains("reason") && t["reason"].is_string() ? t["reason"].get<std::string>() : "no reason";
        failed += (failed.empty() ? "" : "; ") + target + " failed: " + reason;
      }
      continue;
    }
    matched = true;
    if (!t.contains("status") || t["status"] != "ok") {
      const std::string reason =
          t.contains("reason") && t["reason"].is_string() ? t["reason"].get<std::string>() : "no reason";
      return Unavailable(meter + " to " + target + " failed: " + reason);
    }
    if (!t.contains(key) || !t[key].is_number())
      return Unavailable(meter + " to " + target + " has no " + key);
    const double v = t[key].get<double>() * scale;
    if (!worst || (higher_is_better ? v < *worst : v > *worst)) worst = v;
  }
  if (!matched) {
    if (clause.peer.empty()) return Unavailable(meter + " measured no target");
    return Unavailable(meter + " did not measure peer " + clause.peer + " (kid " + kid + ")" +
                       (failed.empty() ? "" : "; " + failed));
  }
  return Number(*worst);
}

// The devices array of gpu.devices, or why there is none.
const json* GpuDevices(const json& submods, std::string* why) {
  const json* claims = OkClaims(submods, "gpu.devices", why);
  if (claims == nullptr) return nullptr;
  if (!claims->contains("devices") || !(*claims)["devices"].is_array()) {
    *why = "gpu.devices has no devices list";
    return nullptr;
  }
  if ((*claims)["devices"].empty()) {
    *why = "gpu.devices found no GPU";
    return nullptr;
  }
  return &(*claims)["devices"];
}

// A string member of a nested object, or "".
std::string Text(const json& j, const char* object, const char* key) {
  if (!j.contains(object) || !j[object].is_object()) return "";
  const json& o = j[object];
  return o.contains(key) && o[key].is_string() ? o[key].get<std::string>() : "";
}

// One GPU's model: NVML's name, the NVIDIA driver's, amdgpu's product name,
// then the pci.ids device name, whichever comes first.
std::string GpuModel(const json& d) {
  for (const auto& [object, key] : {std::pair{"nvml", "name"}, std::pair{"nvidia_driver", "model"},
                                    std::pair{"amdgpu", "product_name"}}) {
    std::string s = Text(d, object, key);
    if (!s.empty()) return s;
  }
  return d.contains("device_name") && d["device_name"].is_string() ? d["device_name"].get<std::string>() : "";
}

PolicyMeasurement GpuModels(const json& submods, const PolicyClause& /*clause*/) {
  std::string why;
  const json* devices = GpuDevices(submods, &why);
  if (devices == nullptr) return Unavailable(why);
  PolicyMeasurement m;
  for (const json& d : *devices) {
    std::string model = GpuModel(d);
    if (model.empty())
      return Unavailable("GPU " + d.value("pci_bus_id", std::string("?")) + " has no model name");
    m.texts.push_back(std::move(model));
  }
  return m;
}

// The smallest device memory over all GPUs (NVML, then amdgpu VRAM).
PolicyMeasurement GpuMemory(const json& submods, const PolicyClause& /*clause*/) {
  std::string why;
  const json* devices = GpuDevices(submods, &why);
  if (devices == nullptr) return Unavailable(why);
  std::optional<double> least;
  for (const json& d : *devices) {
    double bytes = -1;
    for (const auto& [object, key] :
         {std::pair{"nvml", "memory_total_bytes"}, std::pair{"amdgpu", "vram_total_bytes"}}) {
      if (bytes < 0 && d.contains(object) && d[object].is_object() && d[object].contains(key) &&
          d[object][key].is_number()) {
        bytes = d[object][key].get<double>();
      }
    }
    if (bytes < 0)
      return Unavailable("GPU " + d.value("pci_bus_id", std::string("?")) + " reports no memory size");
    least = std::min(least.value_or(bytes), bytes);
  }
  return Number(*least / kGiB);
}

using K = PolicyValueKind;
using Q = PolicyQualifier;

}  // namespace

const std::vector<PolicyClaimSpec>& PolicyClaimTable() {
  // name, unit, kind, qualifier, higher is better, source, measure
  static const std::vector<PolicyClaimSpec> kTable = {
      {"cpu.vcpus", "", K::kNumber, Q::kNone, true, "cpu.topology threads",
       [](const json& s, const PolicyClause&) { return Scalar(s, "cpu.topology", "threads", 1); }},
      {"cpu.burst_ghz", "GHz", K::kNumber, Q::kNone, true, "cpu.frequency single_core_burst_hz / 1e9",
       [](const json& s, const PolicyClause&) {
         return Scalar(s, "cpu.frequency", "single_core_burst_hz", 1e-9);
       }},
      {"cpu.all_core_ghz", "GHz", K::kNumber, Q::kNone, true, "cpu.frequency all_core_hz / 1e9",
       [](const json& s, const PolicyClause&) { return Scalar(s, "cpu.frequency", "all_core_hz", 1e-9); }},
      {"cpu.sustained_ghz", "GHz", K::kNumber, Q::kNone, true, "cpu.throttling sustained_hz / 1e9",
       [](const json& s, const PolicyClause&) { return Scalar(s, "cpu.throttling", "sustained_hz", 1e-9); }},
      {"cpu.availability_ratio", "", K::kNumber, Q::kNone, true, "cpu.availability availability_ratio",
       [](const json& s, const PolicyClause&) {
         return Scalar(s, "cpu.availability", "availability_ratio", 1);
       }},
      {"cpu.steal_ratio", "", K::kNumber, Q::kNone, false, "cpu.time steal_ratio",
       [](const json& s, const PolicyClause&) { return Scalar(s, "cpu.time", "steal_ratio", 1); }},
      {"memory.total_gib", "GiB", K::kNumber, Q::kNone, true, "memory.capacity mem_total_bytes / 2^30",
       [](const json& s, const PolicyClause&) {
         return Scalar(s, "memory.capacity", "mem_total_bytes", 1 / kGiB);
       }},
      {"memory.triad_gb_per_second", "GB/s", K::kNumber, Q::kNone, true,
       "memory.bandwidth triad_bytes_per_second / 1e9",
       [](const json& s, const PolicyClause&) {
         return Scalar(s, "memory.bandwidth", "triad_bytes_per_second", 1e-9);
       }},
      {"memory.latency_ns", "ns", K::kNumber, Q::kNone, false, "memory.latency latency_seconds * 1e9",
       [](const json& s, const PolicyClause&) {
         return Scalar(s, "memory.latency", "latency_seconds", 1e9);
       }},
      {"disk.rand_read_iops", "IOPS", K::kNumber, Q::kQueueDepth, true,
       "disk.io rand_read_qdN_ios_per_second",
       [](const json& s, const PolicyClause& c) { return Disk(s, c, "rand_read", "ios_per_second", 1); }},
      {"disk.rand_read_p99_ms", "ms", K::kNumber, Q::kQueueDepth, false,
       "disk.io rand_read_qdN_latency_p99_seconds * 1e3",
       [](const json& s, const PolicyClause& c) {
         return Disk(s, c, "rand_read", "latency_p99_seconds", 1e3);
       }},
      {"disk.rand_write_iops", "IOPS", K::kNumber, Q::kQueueDepth, true,
       "disk.io rand_write_qdN_ios_per_second",
       [](const json& s, const PolicyClause& c) { return Disk(s, c, "rand_write", "ios_per_second", 1); }},
      {"disk.rand_write_p99_ms", "ms", K::kNumber, Q::kQueueDepth, false,
       "disk.io rand_write_qdN_latency_p99_seconds * 1e3",
       [](const json& s, const PolicyClause& c) {
         return Disk(s, c, "rand_write", "latency_p99_seconds", 1e3);
       }},
      {"disk.seq_read_mb_per_second", "MB/s", K::kNumber, Q::kQueueDepth, true,
       "disk.io seq_read_qdN_bytes_per_second / 1e6",
       [](const json& s, const PolicyClause& c) { return Disk(s, c, "seq_read", "bytes_per_second", 1e-6); }},
      {"disk.seq_write_mb_per_second", "MB/s", K::kNumber, Q::kQueueDepth, true,
       "disk.io seq_write_qdN_bytes_per_second / 1e6",
       [](const json& s, const PolicyClause& c) {
         return Disk(s, c, "seq_write", "bytes_per_second", 1e-6);
       }},
      {"disk.fsync_p99_ms", "ms", K::kNumber, Q::kNone, false, "disk.io fsync_latency_p99_seconds * 1e3",
       [](const json& s, const PolicyClause&) {
         return Scalar(s, "disk.io", "fsync_latency_p99_seconds", 1e3);
       }},
      {"net.upload_gbit_per_second", "Gbit/s", K::kNumber, Q::kPeer, true,
       "net.throughput targets[].upload_bps / 1e9",
       [](const json& s, const PolicyClause& c) {
         return Net(s, c, "net.throughput", "upload_bps", 1e-9, true);
       }},
      {"net.download_gbit_per_second", "Gbit/s", K::kNumber, Q::kPeer, true,
       "net.throughput targets[].download_bps / 1e9",
       [](const json& s, const PolicyClause& c) {
         return Net(s, c, "net.throughput", "download_bps", 1e-9, true);
       }},
      {"net.rtt_p99_ms", "ms", K::kNumber, Q::kPeer, false, "net.latency targets[].rtt_p99_seconds * 1e3",
       [](const json& s, const PolicyClause& c) {
         return Net(s, c, "net.latency", "rtt_p99_seconds", 1e3, false);
       }},
      {"gpu.count", "", K::kNumber, Q::kNone, true, "gpu.devices gpu_count",
       [](const json& s, const PolicyClause&) { return Scalar(s, "gpu.devices", "gpu_count", 1); }},
      {"gpu.model", "", K::kText, Q::kNone, true,
       "gpu.devices devices[]: nvml.name, nvidia_driver.model, amdgpu.product_name or device_name; every GPU",
       GpuModels},
      {"gpu.memory_gib", "GiB", K::kNumber, Q::kNone, true,
       "gpu.devices devices[]: nvml.memory_total_bytes or amdgpu.vram_total_bytes / 2^30; the smallest GPU",
       GpuMemory},
  };
  return kTable;
}

const PolicyClaimSpec* FindPolicyClaim(const std::string& name) {
  for (const auto& spec : PolicyClaimTable()) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

}  // namespace resmeter
