#include "agent/report_producer.h"

#include "agent/report_timestamper.h"
#include "attester/evidence_claim.h"
#include "claims/time_claim_specs.h"
#include "core/strings.h"
#include "jose/key_store.h"
#include "report/report.h"
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
                                     const std::optional<std::string>& nonce_hex, const SigningKey& key,
                                     Env* env, const MeterRunner::Observer& observer,
                                     std::optional<std::string_view> key_origin) {
  MeterRunner runner(env, RunnerRootsFromConfig(config, key));
  std::vector<MeterRun> runs = runner.RunAll(plans, observer);
  for (MeterRun& run : runs) run.trigger = kTriggerProbe;  // one-shot CLI run, when its operator chose
  ReportTimestamper stamper(env);
  return SignMeterRuns(config, std::move(runs), nonce_hex, key, env, key_origin, &stamper);
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

nlohmann::json SubmodJson(const MeterRun& run) {
  nlohmann::json j = MeterResultToJson(run.result);
  j["measured_at"] = run.measured_at_unix_seconds;
  if (!run.trigger.empty()) j["trigger"] = run.trigger;
  return j;
}

std::string_view KeyOriginOf(const Config& config, const SigningKey& key) {
  auto on_disk = LoadSigningKey(config.global.String("state_dir"));
  if (on_disk.ok() && (*on_disk)->Thumbprint() == key.Thumbprint()) return kKeyOriginFile;
  return kKeyOriginEphemeral;
}

void SetLiveness(const Config& config, ReportInputs& in) {
  // The roots RunnerRootsFromConfig hands the meters, with their live defaults.
  static const std::pair<const char*, const char*> kRoots[] = {{"paths.proc_root", "/proc"},
                                                               {"paths.sys_root", "/sys"}};
  in.not_live_reasons.clear();
  for (const auto& [key, live_default] : kRoots) {
    const std::string value = config.global.String(key);
    if (value != live_default) in.not_live_reasons.push_back(std::string(key).substr(6) + "=" + value);
  }
  in.live = in.not_live_reasons.empty();
}

namespace {

// The time meter's view of the selected NTS source (its configured name and
// NTS-KE certificate) into the report's time claim, when the meter looked at
// the same source chronyd selects now.
void CopyNtsCertificate(const nlohmann::json& submods, nlohmann::json& time) {
  if (!submods.contains("time") || !time.is_object()) return;
  const nlohmann::json& meter = submods["time"];
  if (!meter.is_object() || !meter.contains("claims") || !meter["claims"].is_object()) return;
  const nlohmann::json& claims = meter["claims"];
  const nlohmann::json* measured = FindClaim(claims, kTimeServer);
  const nlohmann::json* now = FindClaim(time, kTimeServer);
  if (!measured || !now || !measured->is_string() || *measured != *now) return;
  for (const ClaimSpec* spec : {&kTimeServerName, &kTimeNtsCertificate}) {
    if (const nlohmann::json* v = FindClaim(claims, *spec)) SetClaim(time, *spec, *v);
  }
}

}  // namespace

Result<ProducedReport> SignMeterRuns(const Config& config, std::vector<MeterRun> runs,
                                     const std::optional<std::string>& nonce_hex, const SigningKey& key,
                                     Env* env, std::optional<std::string_view> key_origin,
                                     ReportTimestamper* stamper) {
  ProducedReport out;
  out.runs = std::move(runs);
  ReportInputs in;
  for (const auto& run : out.runs) in.submods[run.name] = SubmodJson(run);
  in.issued_at_unix_seconds = env->WallSeconds();
  in.time = CurrentTimeClaim(config.global, in.issued_at_unix_seconds);
  CopyNtsCertificate(in.submods, in.time);
  // Evidence from the detected backend, bound to SHA-512(kid || nonce).
  std::string nonce_bytes = nonce_hex ? HexDecode(*nonce_hex).value_or(std::string()) : std::string();
  RESMETER_ASSIGN_OR_RETURN(in.evidence, CollectEvidenceClaim(config.global, key.Thumbprint(), nonce_bytes));
  in.nonce_hex = nonce_hex;
  in.validity_seconds = config.global.Int("report.validity_seconds");
  in.key_origin = std::string(key_origin ? *key_origin : KeyOriginOf(config, key));
  SetLiveness(config, in);
  out.claims = BuildReportClaims(in, key);
  // Tokens over everything else, then the signature over the tokens too.
  if (stamper) stamper->Stamp(config, out.claims);
  RESMETER_ASSIGN_OR_RETURN(out.token, key.SignCompact(out.claims.dump()));
  return out;
}

}  // namespace resmeter
