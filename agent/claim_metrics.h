// ClaimMetrics: the Prometheus gauges of meter claims, derived from the
// claim declarations (claims/*_claim_specs.h): each declared claim with a
// metric name becomes one gauge family named by it, HELP = its meaning and
// unit, labels = the key's placeholders (workload, queue_depth, kernel,
// state, ...) and, for members of list claims, the element's label
// (peer = the target's configured address). Values come from each meter's
// last ok run, light or heavy; booleans are 0/1. Claims not declared, or
// declared without a metric, are not exported, so every name and label set
// is fixed by the declarations and the agent's own config.
//
// The `time` meter's gauges are exported from the latest report's `time`
// claim instead (the same keys), so they exist even when chronyd is
// unreachable (trusted 0).
//
// Pure functions of their inputs; thread-safe.
#pragma once

#include <prometheus/metric_family.h>

#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "claims/claim_spec.h"

namespace resmeter {

// The gauges of one meter's claims, appended to `families` (one family per
// metric name, created on first use). `specs` are that meter's declarations.
void AddClaimGauges(std::span<const ClaimSpec* const> specs, const nlohmann::json& claims,
                    std::vector<prometheus::MetricFamily>* families);

// The time gauges from the report's `time` claim: flags always (absent = 0),
// numbers when present.
void AddTimeClaimGauges(const nlohmann::json& time_claim, std::vector<prometheus::MetricFamily>* families);

// The HELP text of a declared claim's metric: "meaning (unit; claim METER KEY)".
std::string ClaimMetricHelp(const ClaimSpec& spec);

}  // namespace resmeter
