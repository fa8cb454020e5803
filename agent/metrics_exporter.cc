#include "agent/metrics_exporter.h"

#include <prometheus/text_serializer.h>

#include <sstream>

#include "agent/claim_metrics.h"
#include "agent/process_stats.h"
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
  MetricFamily f{name, help, type, {}};
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
  return f;
}

// Adds one labelled sample to a family.
void AddSample(MetricFamily& f, double value, std::vector<ClientMetric::Label> labels) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

}  // namespace

MetricsExporter::MetricsExporter(const AgentState* state)
    : state_(state), registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("resmeter_http_requests_total")
                   .Help("HTTP requests served, by handler and status code")
                   .Register(*registry_);
  durations_ = &prometheus::BuildHistogram()
                    .Name("resmeter_http_request_duration_seconds")
                    .Help("Time to serve an HTTP request, by handler")
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
  out.push_back(Single("resmeter_build_info", "The resmeter build; always 1", MetricType::Gauge, 1,
                       {{"version", SoftwareVersion()}}));
  out.push_back(Single("resmeter_agent_info", "The agent's signing key and evidence type; always 1",
                       MetricType::Gauge, 1,
                       {{"alg", id.alg},
                        {"evidence_type", id.evidence.value("type", std::string("none"))},
                        {"kid", id.kid},
                        {"ueid", id.ueid}}));
  out.push_back(Single("resmeter_agent_start_time_seconds", "When the agent started, Unix seconds",
                       MetricType::Gauge, state.started_unix_seconds()));

  // Per meter: success, duration, last run, findings, run counts.
  MetricFamily success{
      "resmeter_meter_success", "1 when the meter's last run was ok, else 0", MetricType::Gauge, {}};
  MetricFamily duration{
      "resmeter_meter_duration_seconds", "Duration of the meter's last run", MetricType::Gauge, {}};
  MetricFamily last{"resmeter_meter_last_run_timestamp_seconds",
                    "When the meter last ran, Unix seconds",
                    MetricType::Gauge,
                    {}};
  MetricFamily findings{"resmeter_meter_findings", "Findings of the meter's last run", MetricType::Gauge, {}};
  MetricFamily runs{
      "resmeter_meter_runs_total", "Meter runs since start, by outcome", MetricType::Counter, {}};
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
    // Declared claims of the last ok run (agent/claim_metrics.h); `time` comes from the report.
    const MeterInfo* info = FindMeter(name);
    if (info == nullptr || name == "time" || r.status != MeterStatus::kOk) continue;
    AddClaimGauges(info->claims, r.claims, &claims);
  }
  for (auto* f : {&success, &duration, &last, &findings, &runs}) {
    if (!f->metric.empty()) out.push_back(std::move(*f));
  }
  for (auto& f : claims) out.push_back(std::move(f));

  // Time trust, from the latest report, under the `time` meter's declared names.
  AddTimeClaimGauges(state.TimeClaim(), &out);

  if (auto report = state.LatestReport()) {
    out.push_back(Single("resmeter_report_last_timestamp_seconds", "iat of the latest scheduled report",
                         MetricType::Gauge, report->issued_at_unix_seconds));
  }
  const AttestCounts a = state.Attests();
  if (a.last_unix_seconds > 0) {
    out.push_back(Single("resmeter_attestation_last_timestamp_seconds",
                         "When the last attestation was served", MetricType::Gauge, a.last_unix_seconds));
  }
  MetricFamily attests{
      "resmeter_attestations_total", "POST /v1/attest requests by outcome", MetricType::Counter, {}};
  AddSample(attests, static_cast<double>(a.ok), {{"outcome", "ok"}});
  AddSample(attests, static_cast<double>(a.rate_limited), {{"outcome", "rate_limited"}});
  AddSample(attests, static_cast<double>(a.busy), {{"outcome", "busy"}});
  AddSample(attests, static_cast<double>(a.rejected), {{"outcome", "rejected"}});
  AddSample(attests, static_cast<double>(a.failed), {{"outcome", "failed"}});
  out.push_back(std::move(attests));

  const LedgerHead ledger = state.Ledger();
  if (ledger.enabled) {
    out.push_back(Single("resmeter_ledger_sequence", "Sequence number of the last ledger statement",
                         MetricType::Gauge, static_cast<double>(ledger.last_seq)));
    out.push_back(Single("resmeter_ledger_statements_appended_total",
                         "Ledger statements appended since start", MetricType::Counter,
                         static_cast<double>(ledger.appended)));
    out.push_back(Single("resmeter_ledger_append_errors_total", "Ledger appends that failed since start",
                         MetricType::Counter, static_cast<double>(ledger.append_errors)));
    if (ledger.last_append_unix_seconds > 0) {
      out.push_back(Single("resmeter_ledger_last_append_timestamp_seconds",
                           "When the last statement was appended", MetricType::Gauge,
                           ledger.last_append_unix_seconds));
    }
  }

  MetricFamily heavy{"resmeter_heavy_cycles_total", "Heavy meter cycles by trigger", MetricType::Counter, {}};
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
                         "Light interval in force (stretched over CPU budget)", MetricType::Gauge,
                         state.EffectiveLightInterval()));
  }
  MetricFamily reloads{
      "resmeter_config_reloads_total", "Config reloads (SIGHUP) by outcome", MetricType::Counter, {}};
  const auto rl = state.Reloads();
  for (const char* outcome : {"ok", "error"}) {
    auto it = rl.find(outcome);
    AddSample(reloads, it == rl.end() ? 0 : static_cast<double>(it->second), {{"outcome", outcome}});
  }
  out.push_back(std::move(reloads));
  return out;
}

std::string MetricsExporter::Render() const {
  std::vector<MetricFamily> families = StateFamilies(*state_);
  for (auto& f : registry_->Collect()) families.push_back(std::move(f));
  families.push_back(Single("resmeter_process_cpu_seconds_total",
                            "CPU time used by the agent (user + system)", MetricType::Counter,
                            ProcessCpuSeconds()));
  const double rss = ProcessResidentBytes();
  if (rss >= 0) {
    families.push_back(Single("resmeter_process_resident_memory_bytes", "Resident memory of the agent",
                              MetricType::Gauge, rss));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace resmeter
