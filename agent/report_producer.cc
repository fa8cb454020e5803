#include "agent/report_producer.h"

#include "core/strings.h"
#include "reporter/evidence_claim.h"
#include "reporter/report.h"
#include "timesource/time_claim.h"

namespace resmeter {

std::vector<MeterPlan> PlanMeters(const Config& config, const std::vector<const MeterInfo*>& meters) {
  std::vector<MeterPlan> plans;
  for (const MeterInfo* info : meters) {
    MeterPlan plan;
    plan.info = info;
    plan.options = config.Meter(info->name);
    plan.timeout_seconds = plan.options.Double("timeout_seconds");
    plans.push_back(std::move(plan));
  }
  return plans;
}

Result<ProducedReport> ProduceReport(const Config& config, const std::vector<MeterPlan>& plans,
                                     const std::optional<std::string>& nonce_hex, const SigningKey& key, Env* env,
                                     const MeterRunner::Observer& observer) {
  MeterRunner runner(env, RunnerRootsFromConfig(config, key));
  return SignMeterRuns(config, runner.RunAll(plans, observer), nonce_hex, key, env);
}

RunnerRoots RunnerRootsFromConfig(const Config& config, const SigningKey& key) {
  RunnerRoots roots;
  roots.proc_root = config.global.String("paths.proc_root");
  roots.sys_root = config.global.String("paths.sys_root");
  roots.state_dir = config.global.String("state_dir");
  roots.signer = &key;
  roots.global = config.global;
  return roots;
}

Result<ProducedReport> SignMeterRuns(const Config& config, std::vector<MeterRun> runs,
                                     const std::optional<std::string>& nonce_hex, const SigningKey& key, Env* env) {
  ProducedReport out;
  out.runs = std::move(runs);
  ReportInputs in;
  for (const auto& run : out.runs) in.submods[run.name] = MeterResultToJson(run.result);
  in.issued_at_unix_seconds = env->WallSeconds();
  in.time = CurrentTimeClaim(config.global, in.issued_at_unix_seconds);
  // Evidence from the detected backend, bound to SHA-512(kid || nonce).
  std::string nonce_bytes = nonce_hex ? HexDecode(*nonce_hex).value_or(std::string()) : std::string();
  RESMETER_ASSIGN_OR_RETURN(in.evidence, CollectEvidenceClaim(config.global, key.Thumbprint(), nonce_bytes));
  in.nonce_hex = nonce_hex;
  in.validity_seconds = config.global.Int("report.validity_seconds");
  out.claims = BuildReportClaims(in, key);
  RESMETER_ASSIGN_OR_RETURN(out.token, key.SignCompact(out.claims.dump()));
  return out;
}

}  // namespace resmeter
