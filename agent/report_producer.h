// ReportProducer: runs the selected meters and turns their results into a
// signed report. Shared by `probe`, the agent's scheduler and /v1/attest.
// Thread-compatible: one call at a time per instance.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/config.h"
#include "core/env.h"
#include "meters/runner.h"
#include "reporter/signing_key.h"

namespace resmeter {

struct ProducedReport {
  std::string token;        // JWS compact
  nlohmann::json claims;    // the signed claims
  std::vector<MeterRun> runs;
};

// Builds the run plan for the chosen meters from the config.
std::vector<MeterPlan> PlanMeters(const Config& config, const std::vector<const MeterInfo*>& meters);

// Runs `plans` and signs the report. `nonce_hex` must be normalized already.
Result<ProducedReport> ProduceReport(const Config& config, const std::vector<MeterPlan>& plans,
                                     const std::optional<std::string>& nonce_hex, const SigningKey& key, Env* env,
                                     const MeterRunner::Observer& observer = {});
// Signs a report over meter runs already made (the agent reuses runs of
// earlier cycles). `nonce_hex` must be normalized already.
Result<ProducedReport> SignMeterRuns(const Config& config, std::vector<MeterRun> runs,
                                     const std::optional<std::string>& nonce_hex, const SigningKey& key, Env* env);
// The roots a MeterRunner gets from the config, with `key` as the signer.
RunnerRoots RunnerRootsFromConfig(const Config& config, const SigningKey& key);

}  // namespace resmeter
