// MetricsExporter: the agent's Prometheus metrics in the text exposition
// format, built with prometheus-cpp's core (Registry, families,
// TextSerializer).
//
// Names follow Prometheus conventions: the one prefix `resmeter_`, base
// units (`_seconds`, `_bytes`, `_ratio`), `_total` for counters, `_info` for
// identity. Label values come only from the agent itself (meter names and
// claim names from the registry, a fixed set of handler names and status
// codes), never from what a client sends, so every label set is bounded.
//
// Exposed:
//   resmeter_build_info{version}, resmeter_agent_info{kid,alg,ueid,evidence_type}
//   resmeter_agent_start_time_seconds
//   resmeter_meter_success{meter}, resmeter_meter_duration_seconds{meter},
//   resmeter_meter_last_run_timestamp_seconds{meter}, resmeter_meter_findings{meter},
//   resmeter_meter_runs_total{meter,status}
//   the declared claim gauges (agent/claim_metrics.h): each claim declared
//     with a metric name in claims/*_claim_specs.h, from each meter's last ok
//     run, e.g. resmeter_cpu_topology_vcpus, resmeter_disk_io_ios_per_second
//     {workload,queue_depth}, resmeter_time_trusted (from the report's time claim)
//   resmeter_report_last_timestamp_seconds, resmeter_attestation_last_timestamp_seconds,
//   resmeter_attestations_total{outcome}
//   resmeter_ledger_sequence, resmeter_ledger_statements_appended_total,
//   resmeter_ledger_append_errors_total, resmeter_ledger_last_append_timestamp_seconds
//   resmeter_heavy_cycles_total{trigger}, resmeter_heavy_next_run_timestamp_seconds,
//   resmeter_light_interval_seconds, resmeter_config_reloads_total{outcome}
//   resmeter_http_requests_total{handler,code}, resmeter_http_request_duration_seconds{handler}
//   resmeter_meter_last_success_timestamp_seconds{meter}, resmeter_findings_total{meter,code}
//   resmeter_usage_*_total: what the appended ledger statements bill (agent/usage_counters.h)
//   resmeter_cpu_seconds_total{cpu,mode}: /proc/stat at scrape time (agent/cpu_seconds_metrics.h)
//   per-GPU and disk.io series (agent/device_metrics.h)
//   process_*: the standard process metrics (agent/process_stats.h)
//
// Thread-safe: Render and ObserveRequest may be called from several HTTP
// worker threads at once.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/agent_state.h"
#include "agent/metrics_exposition.h"

namespace resmeter {

// The fixed set of handler label values of the HTTP metrics.
inline constexpr const char* kHandlerNames[] = {"metrics", "identity", "report_latest",
                                                "attest",  "ledger",   "other"};

struct MetricsExporterOptions {
  std::string proc_root = "/proc";  // resmeter_cpu_seconds_total reads <proc_root>/stat
  double user_hz = 100;             // sysconf(_SC_CLK_TCK)
};

class MetricsExporter {
 public:
  // `state` must outlive the exporter.
  explicit MetricsExporter(const AgentState* state, MetricsExporterOptions options = {});
  MetricsExporter(const MetricsExporter&) = delete;
  MetricsExporter& operator=(const MetricsExporter&) = delete;

  // Every family, each name once.
  std::vector<prometheus::MetricFamily> Collect() const;
  // The whole exposition text.
  std::string Render(MetricsFormat format = MetricsFormat::kPrometheusText) const;
  // Counts one HTTP request. `handler` must be one of kHandlerNames.
  void ObserveRequest(const std::string& handler, int status, double seconds);

  // The families derived from the agent state at wall time `now` (pure; tests).
  static std::vector<prometheus::MetricFamily> StateFamilies(const AgentState& state);

 private:
  const AgentState* state_;
  const MetricsExporterOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* durations_;
};

}  // namespace resmeter
