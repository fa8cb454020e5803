#include "agent/metrics_exporter.h"

#include <cstring>
#include <set>
#include <sstream>

#include "agent/claim_metrics.h"
#include "agent/cpu_seconds_metrics.h"
#include "agent/device_metrics.h"
#include "agent/metric_family_builder.h"
#include "agent/process_stats.h"
#include "agent/usage_counters.h"
#include "core/version.h"
#include "meters/registry/registry.h"

namespace resmeter {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// One-sample family.
MetricFamily Single(const std::string& name, const std::string& help, MetricType type, double value,
                    std::vector<ClientMetric::Label> labels = {}) {
  return SingleSample(name, help, type, value, std::move(labels));
}

}  // namespace

MetricsExporter::MetricsExporter(const AgentState* state, MetricsExporterOptions options)
    : state_(state), options_(std::move(options)), registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("resmeter_http_requests_total")
                   .Help("HTTP requests the agent answered since it started, by handler and HTTP status code")
                   .Register(*registry_);
  durations_ = &prometheus::BuildHistogram()
                    .Name("resmeter_http_request_duration_seconds")
                    .Help("Seconds from a request's arrival to its answer, by handler")
                    .Register(*registry_);
}

void MetricsExporter::ObserveRequest(const std::string& handler, int status, double seconds) {
  requests_->Add({{"handler", handler}, {"code", std::to_string(status)}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  durations_->Add({{"handler", handler}}, kBuckets).Observe(seconds);
}

std::vector<MetricFamily> MetricsExporter::StateFamilies(const AgentState& state) {
  std::vector<MetricFamily> out;
  const AgentIdentity& id = state.identity();
  out.push_back(Single("resmeter_build_info", "The resmeter version this agent runs; always 1",
                       MetricType::Gauge, 1, {{"version", SoftwareVersion()}}));
  out.push_back(Single(
      "resmeter_agent_info",
      "The agent's signing key (kid, alg, ueid; new at every start) and hardware evidence type; always 1",
      MetricType::Gauge, 1,
      {{"alg", id.alg},
       {"evidence_type", id.evidence.value("type", std::string("none"))},
       {"kid", id.kid},
       {"ueid", id.ueid}}));
  out.push_back(Single("resmeter_agent_start_time_seconds",
                       "When the agent started (and made its signing key), Unix seconds", MetricType::Gauge,
                       state.started_unix_seconds()));

  // Per meter: success, duration, last run, findings, run counts.
  MetricFamily success{
      "resmeter_meter_success", "1 when the meter's last run was ok, else 0", MetricType::Gauge, {}};
  MetricFamily duration{
      "resmeter_meter_duration_seconds", "Seconds the meter's last run took", MetricType::Gauge, {}};
  MetricFamily last{"resmeter_meter_last_run_timestamp_seconds",
                    "When the meter last ran, whatever its outcome, Unix seconds",
                    MetricType::Gauge,
                    {}};
  MetricFamily findings{
      "resmeter_meter_findings",
      "Findings (measured disagreements with what the host reports) in the meter's last run",
      MetricType::Gauge,
      {}};
  MetricFamily runs{"resmeter_meter_runs_total",
                    "Meter runs since the agent started, by outcome: ok, unavailable (cannot measure here, "
                    "with a reason), failed",
                    MetricType::Counter,
                    {}};
  MetricFamily last_ok{"resmeter_meter_last_success_timestamp_seconds",
                       "When the meter last measured successfully, Unix seconds; time() minus it is how "
                       "stale its numbers are",
                       MetricType::Gauge,
                       {}};
  MetricFamily findings_total{"resmeter_findings_total",
                              "Findings the meter raised since the agent started, by finding code (a "
                              "finding is a measured disagreement, e.g. the host's figure against the "
                              "measured one)",
                              MetricType::Counter,
                              {}};
  std::vector<MetricFamily> claims;
  for (const auto& [name, rec] : state.Meters()) {
    const MeterResult& r = rec.run.result;
    AddSample(success, r.status == MeterStatus::kOk ? 1 : 0, {{"meter", name}});
    AddSample(duration, r.duration_seconds, {{"meter", name}});
    AddSample(last, rec.measured_at_unix_seconds, {{"meter", name}});
    AddSample(findings, static_cast<double>(r.findings.size()), {{"meter", name}});
    AddSample(runs, static_cast<double>(rec.ok), {{"meter", name}, {"status", "ok"}});
    AddSample(runs, static_cast<double>(rec.unavailable), {{"meter", name}, {"status", "unavailable"}});
    AddSample(runs, static_cast<double>(rec.failed), {{"meter", name}, {"status", "failed"}});
    if (rec.last_ok_unix_seconds > 0) AddSample(last_ok, rec.last_ok_unix_seconds, {{"meter", name}});
    for (const auto& [code, count] : rec.findings_by_code)
      AddSample(findings_total, static_cast<double>(count), {{"code", code}, {"meter", name}});
    // Declared claims of the last ok run (agent/claim_metrics.h); `time` comes from the report.
    const MeterInfo* info = FindMeter(name);
    if (info == nullptr || name == "time" || r.status != MeterStatus::kOk) continue;
    AddClaimGauges(info->claims, r.claims, &claims);
  }
  for (auto* f : {&success, &duration, &last, &findings, &runs, &last_ok, &findings_total}) {
    if (!f->metric.empty()) out.push_back(std::move(*f));
  }
  for (auto& f : claims) out.push_back(std::move(f));
  for (auto& f : DeviceFamilies(state.Meters())) out.push_back(std::move(f));

  // Time trust, from the latest report, under the `time` meter's declared names.
  AddTimeClaimGauges(state.TimeClaim(), &out);

  if (auto report = state.LatestReport()) {
    out.push_back(Single("resmeter_report_last_timestamp_seconds",
                         "When the latest scheduled report was signed (its iat), Unix seconds",
                         MetricType::Gauge, report->issued_at_unix_seconds));
  }
  const AttestCounts a = state.Attests();
  if (a.last_unix_seconds > 0) {
    out.push_back(Single("resmeter_attestation_last_timestamp_seconds",
                         "When the last successful POST /v1/attest was answered, Unix seconds",
                         MetricType::Gauge, a.last_unix_seconds));
  }
  MetricFamily attests{
      "resmeter_attestations_total",
      "POST /v1/attest requests since start, by outcome: ok, rate_limited, busy, rejected, failed",
      MetricType::Counter,
      {}};
  AddSample(attests, static_cast<double>(a.ok), {{"outcome", "ok"}});
  AddSample(attests, static_cast<double>(a.rate_limited), {{"outcome", "rate_limited"}});
  AddSample(attests, static_cast<double>(a.busy), {{"outcome", "busy"}});
  AddSample(attests, static_cast<double>(a.rejected), {{"outcome", "rejected"}});
  AddSample(attests, static_cast<double>(a.failed), {{"outcome", "failed"}});
  out.push_back(std::move(attests));

  const LedgerHead ledger = state.Ledger();
  if (ledger.enabled) {
    out.push_back(Single("resmeter_ledger_sequence",
                         "Sequence number of the last statement in the usage ledger", MetricType::Gauge,
                         static_cast<double>(ledger.last_seq)));
    out.push_back(Single("resmeter_ledger_statements_appended_total",
                         "Ledger statements (usage, epoch, checkpoint) appended since the agent started",
                         MetricType::Counter, static_cast<double>(ledger.appended)));
    out.push_back(
        Single("resmeter_ledger_append_errors_total",
               "Ledger appends that failed since the agent started; a period not appended is never billed",
               MetricType::Counter, static_cast<double>(ledger.append_errors)));
    out.push_back(Single("resmeter_ledger_period_seconds",
                         "Length of one usage statement's period (ledger.period_seconds); the usage "
                         "counters step once per period",
                         MetricType::Gauge, ledger.period_seconds));
    for (auto& f : UsageCounterFamilies(ledger.billed)) out.push_back(std::move(f));
    if (ledger.last_append_unix_seconds > 0) {
      out.push_back(Single("resmeter_ledger_last_append_timestamp_seconds",
                           "When the last ledger statement was appended, Unix seconds", MetricType::Gauge,
                           ledger.last_append_unix_seconds));
    }
  }

  MetricFamily heavy{"resmeter_heavy_cycles_total",
                     "Heavy meter cycles since start, by trigger: schedule (secret random times), startup, "
                     "provider_signal (SIGUSR1), buyer_nonce (POST /v1/attest)",
                     MetricType::Counter,
                     {}};
  const auto cycles = state.HeavyCycles();
  for (const char* trigger :
       {kTriggerSchedule, kTriggerStartup, kTriggerProviderSignal, kTriggerBuyerNonce}) {
    auto it = cycles.find(trigger);
    AddSample(heavy, it == cycles.end() ? 0 : static_cast<double>(it->second), {{"trigger", trigger}});
  }
  out.push_back(std::move(heavy));
  // When the next scheduled heavy cycle is due is deliberately not exported:
  // a host that knew it could boost its resources just for the benchmark.
  if (state.EffectiveLightInterval() > 0) {
    out.push_back(Single("resmeter_light_interval_seconds",
                         "Seconds between light cycles now (agent.light_interval_seconds, stretched while "
                         "the agent is over its CPU budget)",
                         MetricType::Gauge, state.EffectiveLightInterval()));
  }
  MetricFamily reloads{"resmeter_config_reloads_total",
                       "Config reloads (SIGHUP) since start, by outcome",
                       MetricType::Counter,
                       {}};
  const auto rl = state.Reloads();
  for (const char* outcome : {"ok", "error"}) {
    auto it = rl.find(outcome);
    AddSample(reloads, it == rl.end() ? 0 : static_cast<double>(it->second), {{"outcome", outcome}});
  }
  out.push_back(std::move(reloads));
  return out;
}

std::vector<MetricFamily> MetricsExporter::Collect() const {
  std::vector<MetricFamily> families = StateFamilies(*state_);
  if (auto cpu = ReadCpuSecondsFamily(options_.proc_root, options_.user_hz))
    families.push_back(std::move(*cpu));
  for (auto& f : registry_->Collect()) families.push_back(std::move(f));
  for (auto& f : ProcessFamilies()) families.push_back(std::move(f));
  // Each family once: two claims that sanitize to one name must not make an
  // exposition Prometheus rejects as a whole.
  std::set<std::string> names;
  std::vector<MetricFamily> unique;
  unique.reserve(families.size());
  for (auto& f : families) {
    if (names.insert(f.name).second) unique.push_back(std::move(f));
  }
  return unique;
}

std::string MetricsExporter::Render(MetricsFormat format) const {
  return SerializeMetrics(Collect(), format);
}

}  // namespace resmeter
