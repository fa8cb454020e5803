#include "policy/policy_claims.h"

#include <algorithm>

#include "claims/cpu_claim_specs.h"
#include "claims/disk_claim_specs.h"
#include "claims/gpu_claim_specs.h"
#include "claims/memory_claim_specs.h"
#include "claims/net_claim_specs.h"

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

// The declared claim `spec` (the family member `bindings`) x scale.
PolicyMeasurement Scalar(const json& submods, const ClaimSpec& spec, double scale,
                         const ClaimBindings& bindings = {}) {
  const std::string meter(spec.meter);
  std::string why;
  const json* claims = OkClaims(submods, meter, &why);
  if (claims == nullptr) return Unavailable(why);
  const json* v = FindClaim(*claims, spec, bindings);
  if (v == nullptr || !v->is_number()) {
    return Unavailable(meter + " has no numeric claim " + ExpandClaimKey(spec, bindings));
  }
  return Number(v->get<double>() * scale);
}

// A disk.io workload statistic at the clause's queue depth, e.g.
// rand_read_qd32_ios_per_second.
PolicyMeasurement Disk(const json& submods, const PolicyClause& clause, const ClaimSpec& spec,
                       const std::string& workload, double scale) {
  const std::string qd = std::to_string(clause.queue_depth.value_or(1));
  const ClaimBindings b = {{"workload", workload}, {"queue_depth", qd}};
  PolicyMeasurement m = Scalar(submods, spec, scale, b);
  if (!m.number && m.unavailable.find("no numeric claim") != std::string::npos) {
    m.unavailable = "disk.io did not run " + workload + " at queue depth " + qd + " (no claim " +
                    ExpandClaimKey(spec, b) + ")";
  }
  return m;
}

// A per-target metric of net.throughput or net.latency: the clause's peer
// (matched by the peer's key thumbprint, never by address), or the worst
// over all targets.
PolicyMeasurement Net(const json& submods, const PolicyClause& clause, const ClaimSpec& spec, double scale,
                      bool higher_is_better) {
  const std::string meter(spec.meter);
  const std::string key(spec.Leaf());
  const std::string list(spec.List());
  const std::string thumbprint(kNetPeerThumbprint.Leaf());
  const std::string status(kNetTargetStatus.Leaf()), reason_key(kNetTargetReason.Leaf());
  std::string why;
  const json* claims = OkClaims(submods, meter, &why);
  if (claims == nullptr) return Unavailable(why);
  if (!claims->contains(list) || !(*claims)[list].is_array()) return Unavailable(meter + " has no " + list);
  std::optional<double> worst;
  bool matched = false;
  const std::string& kid = clause.peer_kid.empty() ? clause.peer : clause.peer_kid;
  std::string failed;  // targets that failed before their peer's key was known
  for (const json& t : (*claims)[list]) {
    if (!t.is_object()) continue;
    const json* target_claim = FindClaim(t, kNetTarget);
    const std::string target =
        target_claim && target_claim->is_string() ? target_claim->get<std::string>() : "?";
    if (!kid.empty() && !(t.contains(thumbprint) && t[thumbprint].is_string() && t[thumbprint] == kid)) {
      if (!t.contains(thumbprint) && t.contains(status) && t[status] != "ok") {
        const std::string reason = t.contains(reason_key) && t[reason_key].is_string()
                                       ? t[reason_key].get<std::string>()
                                       : "no reason";
        failed += (failed.empty() ? "" : "; ") + target + " failed: " + reason;
      }
      continue;
    }
    matched = true;
    if (!t.contains(status) || t[status] != "ok") {
      const std::string reason = t.contains(reason_key) && t[reason_key].is_string()
                                     ? t[reason_key].get<std::string>()
                                     : "no reason";
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
  const json* claims = OkClaims(submods, std::string(kGpuDevices.meter), why);
  if (claims == nullptr) return nullptr;
  const json* devices = FindClaim(*claims, kGpuDevices);
  if (devices == nullptr || !devices->is_array()) {
    *why = "gpu.devices has no devices list";
    return nullptr;
  }
  if (devices->empty()) {
    *why = "gpu.devices found no GPU";
    return nullptr;
  }
  return devices;
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

std::string PolicyClaimSource(const PolicyClaimSpec& spec) {
  ClaimBindings shown = spec.bindings;
  std::string key = ExpandClaimKey(*spec.claim, shown);
  if (spec.claim->IsElement()) key = std::string(spec.claim->List()) + "[]." + key;
  // Appends only: GCC 12 reports a false -Wrestrict on "literal" + std::string&&.
  std::string out = "`";
  out.append(spec.claim->meter).append("` `").append(key).append("`");
  if (spec.conversion[0] != ':' && spec.conversion[0] != '\0') out += ' ';
  out += spec.conversion;
  return out;
}

const std::vector<PolicyClaimSpec>& PolicyClaimTable() {
  // name, unit, kind, qualifier, higher is better, claim read, family member, conversion, measure
  static const ClaimBindings kQd = {{"queue_depth", "N"}};
  static const std::vector<PolicyClaimSpec> kTable = {
      {"cpu.vcpus",
       "",
       K::kNumber,
       Q::kNone,
       true,
       &kCpuTopologyVcpus,
       {},
       "",
       [](const json& s, const PolicyClause&) { return Scalar(s, kCpuTopologyVcpus, 1); }},
      {"cpu.burst_ghz",
       "GHz",
       K::kNumber,
       Q::kNone,
       true,
       &kCpuFrequencyBurstHz,
       {},
       "/ 1e9",
       [](const json& s, const PolicyClause&) { return Scalar(s, kCpuFrequencyBurstHz, 1e-9); }},
      {"cpu.all_core_ghz",
       "GHz",
       K::kNumber,
       Q::kNone,
       true,
       &kCpuFrequencyAllCoreHz,
       {},
       "/ 1e9",
       [](const json& s, const PolicyClause&) { return Scalar(s, kCpuFrequencyAllCoreHz, 1e-9); }},
      {"cpu.sustained_ghz",
       "GHz",
       K::kNumber,
       Q::kNone,
       true,
       &kCpuThrottlingSustainedHz,
       {},
       "/ 1e9",
       [](const json& s, const PolicyClause&) { return Scalar(s, kCpuThrottlingSustainedHz, 1e-9); }},
      {"cpu.availability_ratio",
       "",
       K::kNumber,
       Q::kNone,
       true,
       &kCpuAvailabilityRatio,
       {},
       "",
       [](const json& s, const PolicyClause&) { return Scalar(s, kCpuAvailabilityRatio, 1); }},
      {"cpu.availability_ci95_low_ratio",
       "",
       K::kNumber,
       Q::kNone,
       true,
       &kCpuAvailabilityCi95Low,
       {},
       "",
       [](const json& s, const PolicyClause&) { return Scalar(s, kCpuAvailabilityCi95Low, 1); }},
      {"cpu.effective_vcpus",
       "",
       K::kNumber,
       Q::kNone,
       true,
       &kCpuEffectiveVcpus,
       {},
       "",
       [](const json& s, const PolicyClause&) { return Scalar(s, kCpuEffectiveVcpus, 1); }},
      {"cpu.steal_ratio",
       "",
       K::kNumber,
       Q::kNone,
       false,
       &kCpuTimeStealRatio,
       {},
       "",
       [](const json& s, const PolicyClause&) { return Scalar(s, kCpuTimeStealRatio, 1); }},
      {"memory.total_gib",
       "GiB",
       K::kNumber,
       Q::kNone,
       true,
       &kMemTotalBytes,
       {},
       "/ 2^30",
       [](const json& s, const PolicyClause&) { return Scalar(s, kMemTotalBytes, 1 / kGiB); }},
      {"memory.verified_bytes",
       "bytes",
       K::kNumber,
       Q::kNone,
       true,
       &kMemVerifiedBytes,
       {},
       "",
       [](const json& s, const PolicyClause&) { return Scalar(s, kMemVerifiedBytes, 1); }},
      {"memory.triad_gb_per_second",
       "GB/s",
       K::kNumber,
       Q::kNone,
       true,
       &kMemBandwidthBest,
       {{"kernel", "triad"}},
       "/ 1e9",
       [](const json& s, const PolicyClause&) {
         return Scalar(s, kMemBandwidthBest, 1e-9, {{"kernel", "triad"}});
       }},
      {"memory.latency_ns",
       "ns",
       K::kNumber,
       Q::kNone,
       false,
       &kMemLatencySeconds,
       {},
       "x 1e9",
       [](const json& s, const PolicyClause&) { return Scalar(s, kMemLatencySeconds, 1e9); }},
      {"disk.rand_read_iops",
       "IOPS",
       K::kNumber,
       Q::kQueueDepth,
       true,
       &kDiskIosPerSecond,
       {{"workload", "rand_read"}, kQd[0]},
       "",
       [](const json& s, const PolicyClause& c) { return Disk(s, c, kDiskIosPerSecond, "rand_read", 1); }},
      {"disk.rand_read_p99_ms",
       "ms",
       K::kNumber,
       Q::kQueueDepth,
       false,
       &kDiskLatencyP99,
       {{"workload", "rand_read"}, kQd[0]},
       "x 1e3",
       [](const json& s, const PolicyClause& c) { return Disk(s, c, kDiskLatencyP99, "rand_read", 1e3); }},
      {"disk.rand_write_iops",
       "IOPS",
       K::kNumber,
       Q::kQueueDepth,
       true,
       &kDiskIosPerSecond,
       {{"workload", "rand_write"}, kQd[0]},
       "",
       [](const json& s, const PolicyClause& c) { return Disk(s, c, kDiskIosPerSecond, "rand_write", 1); }},
      {"disk.rand_write_p99_ms",
       "ms",
       K::kNumber,
       Q::kQueueDepth,
       false,
       &kDiskLatencyP99,
       {{"workload", "rand_write"}, kQd[0]},
       "x 1e3",
       [](const json& s, const PolicyClause& c) { return Disk(s, c, kDiskLatencyP99, "rand_write", 1e3); }},
      {"disk.seq_read_mb_per_second",
       "MB/s",
       K::kNumber,
       Q::kQueueDepth,
       true,
       &kDiskBytesPerSecond,
       {{"workload", "seq_read"}, kQd[0]},
       "/ 1e6",
       [](const json& s, const PolicyClause& c) {
         return Disk(s, c, kDiskBytesPerSecond, "seq_read", 1e-6);
       }},
      {"disk.seq_write_mb_per_second",
       "MB/s",
       K::kNumber,
       Q::kQueueDepth,
       true,
       &kDiskBytesPerSecond,
       {{"workload", "seq_write"}, kQd[0]},
       "/ 1e6",
       [](const json& s, const PolicyClause& c) {
         return Disk(s, c, kDiskBytesPerSecond, "seq_write", 1e-6);
       }},
      {"disk.fsync_p99_ms",
       "ms",
       K::kNumber,
       Q::kNone,
       false,
       &kDiskFsyncLatencyP99,
       {},
       "x 1e3",
       [](const json& s, const PolicyClause&) { return Scalar(s, kDiskFsyncLatencyP99, 1e3); }},
      {"net.upload_gbit_per_second",
       "Gbit/s",
       K::kNumber,
       Q::kPeer,
       true,
       &kNetUploadBps,
       {},
       "/ 1e9",
       [](const json& s, const PolicyClause& c) { return Net(s, c, kNetUploadBps, 1e-9, true); }},
      {"net.download_gbit_per_second",
       "Gbit/s",
       K::kNumber,
       Q::kPeer,
       true,
       &kNetDownloadBps,
       {},
       "/ 1e9",
       [](const json& s, const PolicyClause& c) { return Net(s, c, kNetDownloadBps, 1e-9, true); }},
      {"net.rtt_p99_ms",
       "ms",
       K::kNumber,
       Q::kPeer,
       false,
       &kNetRttP99,
       {},
       "x 1e3",
       [](const json& s, const PolicyClause& c) { return Net(s, c, kNetRttP99, 1e3, false); }},
      {"gpu.count",
       "",
       K::kNumber,
       Q::kNone,
       true,
       &kGpuCount,
       {},
       "",
       [](const json& s, const PolicyClause&) { return Scalar(s, kGpuCount, 1); }},
      {"gpu.model",
       "",
       K::kText,
       Q::kNone,
       true,
       &kGpuDevices,
       {},
       ": NVML name, else NVIDIA driver model, else amdgpu product name, else the pci.ids name; every GPU "
       "must match",
       GpuModels},
      {"gpu.memory_gib",
       "GiB",
       K::kNumber,
       Q::kNone,
       true,
       &kGpuDevices,
       {},
       ": NVML `memory_total_bytes` or amdgpu `vram_total_bytes` / 2^30; the smallest GPU",
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
