// libFuzzer target: the policy parser on arbitrary bytes and, when they parse,
// the evaluator and the ledger assessor on a small fixed report and ledger
// statement. Must never crash, leak or read out of bounds; any input either
// parses or yields one InvalidArgument line.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ledger/ledger_policy.h"
#include "policy/policy.h"
#include "policy/policy_evaluator.h"

namespace {

// A report's claims with one value for every meter the claim table reads.
const nlohmann::json& FixedClaims() {
  static const nlohmann::json kClaims = nlohmann::json::parse(R"({
  "iat": 1800000000,
  "time": {"trusted": true, "error_bound_seconds": 0.01},
  "submods": {
    "cpu.topology": {"status": "ok", "claims": {"threads": 8}},
    "cpu.time": {"status": "ok", "claims": {"steal_ratio": 0.01}},
    "cpu.frequency": {"status": "ok", "claims": {"single_core_burst_hz": 3.8e9, "all_core_hz": 3.4e9}},
    "cpu.throttling": {"status": "unavailable", "reason": "no PMU", "claims": {}},
    "cpu.availability": {"status": "ok", "claims": {"availability_ratio": 0.97}},
    "memory.capacity": {"status": "ok", "claims": {"mem_total_bytes": 68719476736}, "measured_at": 1799999990,
                        "findings": [{"code": "memory_total_mismatch", "message": "x"}, {"message": "no code"}]},
    "memory.bandwidth": {"status": "failed", "reason": "cancelled", "claims": {}},
    "disk.io": {"status": "ok", "measured_at": "not a number", "claims": {"rand_read_qd32_ios_per_second": 210000,
                                           "rand_read_qd32_latency_p99_seconds": 0.0009}},
    "net.throughput": {"status": "ok", "claims": {"targets": [
        {"target": "peer:7300", "status": "ok", "download_bps": 9.5e9, "upload_bps": 9.1e9},
        {"target": "down:7300", "status": "failed", "reason": "refused"}]}},
    "gpu.devices": {"status": "ok", "claims": {"gpu_count": 1, "devices": [
        {"pci_bus_id": "0000:01:00.0", "nvml": {"name": "NVIDIA H100", "memory_total_bytes": 85899345920}}]}}
  }
})");
  return kClaims;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto policy = resmeter::ParsePolicy(text, "fuzz.yaml");
  if (!policy.ok()) {
    if (policy.status().message().find('\n') != std::string::npos) __builtin_trap();  // one line only
    return 0;
  }
  resmeter::EvidenceAppraisal evidence;
  evidence.type = "sev-snp";
  evidence.status = resmeter::EvidenceAppraisalStatus::kVerified;
  evidence.measurement = "aabb";
  const resmeter::PolicyVerdict verdict =
      resmeter::EvaluatePolicy(*policy, FixedClaims(), evidence, 1'800'000'060);
  (void)verdict.ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  resmeter::LedgerStatement s;
  s.seq = 7;
  s.start_unix_seconds = 1'800'000'000;
  s.end_unix_seconds = 1'800'000'060;
  s.vcpu_delivered_seconds = 470;
  s.vcpu_stolen_seconds = 10;
  s.memory_gib_seconds = 60 * 64;
  s.gpu_seconds = 60;
  resmeter::LedgerPolicyAssessor assessor(std::move(*policy));
  (void)assessor.Assess(s);
  s.seq = 8;
  s.time_trusted = false;
  (void)assessor.Assess(s);
  (void)assessor.ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
