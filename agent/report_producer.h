// ReportProducer: runs the selected meters and turns their results into a
// signed report. Shared by `probe`, the agent's scheduler and /v1/attest.
// Thread-compatible: one call at a time per instance.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config.h"
#include "agent/report_timestamper.h"
#include "core/env.h"
#include "jose/key_origin.h"
#include "jose/signing_key.h"
#include "meters/registry/runner.h"
#include "report/report.h"

namespace resmeter {

struct ProducedReport {
  std::string token;      // JWS compact
  nlohmann::json claims;  // the signed claims
  std::vector<MeterRun> runs;
};

// The submod object of one run: MeterResultToJson plus `measured_at` (Unix
// seconds, when the run finished) and `trigger` (when known).
nlohmann::json SubmodJson(const MeterRun& run);

// Builds the run plan for the chosen meters from the config.
std::vector<MeterPlan> PlanMeters(const Config& config, const std::vector<const MeterInfo*>& meters);

// Runs `plans` and signs the report (stamped by the TSAs of time.tsa, if any). `nonce_hex` must be normalized
// already; `key_origin` says where `key` came from (jose/key_origin.h) and is signed; nullopt: found out with
// KeyOriginOf.
Result<ProducedReport> ProduceReport(const Config& config, const std::vector<MeterPlan>& plans,
                                     const std::optional<std::string>& nonce_hex, const SigningKey& key,
                                     Env* env, const MeterRunner::Observer& observer = {},
                                     std::optional<std::string_view> key_origin = std::nullopt);
// Signs a report over meter runs already made (the agent reuses runs of
// earlier cycles). `nonce_hex` must be normalized already. With `stamper`,
// the claims get RFC 3161 tokens (time.tsa) before they are signed.
Result<ProducedReport> SignMeterRuns(const Config& config, std::vector<MeterRun> runs,
                                     const std::optional<std::string>& nonce_hex, const SigningKey& key,
                                     Env* env, std::optional<std::string_view> key_origin = std::nullopt,
                                     ReportTimestamper* stamper = nullptr);
// "file" when <state_dir>/signing_key.pem holds `key`, else "ephemeral" (a
// key the process generated and never wrote).
std::string_view KeyOriginOf(const Config& config, const SigningKey& key);

// Whether the meters read the live machine: procfs and sysfs at their default
// roots. Sets `live` and `not_live_reasons` ("proc_root=/x") of `in`.
void SetLiveness(const Config& config, ReportInputs& in);
// The roots a MeterRunner gets from the config, with `key` as the signer.
RunnerRoots RunnerRootsFromConfig(const Config& config, const SigningKey& key);

}  // namespace resmeter
