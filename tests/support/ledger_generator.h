// Test and benchmark support: writes a synthetic but genuine usage ledger
// through the real LedgerWriter (without fsync), with known totals, so tests
// can tamper with it and the bench can audit it. Not part of the product.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"
#include "core/signer.h"
#include "evidence/evidence_verifier.h"

namespace resmeter {

struct LedgerGeneratorOptions {
  std::string dir;
  uint64_t usage_statements = 100;
  uint32_t checkpoint_every = 0;
  uint64_t max_file_bytes = 64ull * 1024 * 1024;
  double start_unix_seconds = 1'800'000'000;  // 2027-01-15T08:00:00Z
  double period_seconds = 60;
  uint32_t restarts = 0;             // reopen the writer this many times, evenly spaced
  double restart_gap_seconds = 120;  // agent down time at each restart
  uint64_t untrusted_from = 0;       // usage statements [from, to) (0-based) have untrusted time
  uint64_t untrusted_to = 0;
  bool close = true;                 // end with the shutdown checkpoint
  bool new_key_per_restart = false;  // like the agent: a fresh Ed25519 key at every reopen
  // Epoch evidence (LedgerWriterOptions::collect_evidence); unset: "none".
  std::function<Result<nlohmann::json>(const std::string& kid, const std::string& nonce)> collect_evidence;
  // How each reopen appraises earlier epochs (LedgerWriterOptions::epoch_evidence).
  EvidenceVerifyOptions epoch_evidence;
  // Per period: 4 vCPUs delivered 98%, stolen 2%, 16 GiB, 1 GPU.
  double vcpus = 4, delivered_ratio = 0.98, memory_gib = 16, gpus = 1;
};

struct LedgerGeneratorSummary {
  uint64_t last_seq = 0;
  uint64_t lines = 0;
  double delivered_vcpu_seconds = 0, stolen_vcpu_seconds = 0, memory_gib_seconds = 0, gpu_seconds = 0;
  double end_unix_seconds = 0;
};

// Writes the ledger into options.dir (which must not hold one yet).
Result<LedgerGeneratorSummary> GenerateLedger(const LedgerGeneratorOptions& options,
                                              std::shared_ptr<const Signer> signer);

}  // namespace resmeter
