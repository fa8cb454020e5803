#include "agent/claim_metrics.h"

#include "claims/time_claim_specs.h"

namespace resmeter {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily& FamilyFor(const ClaimSpec& spec, std::vector<MetricFamily>* families) {
  const std::string name(spec.metric);
  for (MetricFamily& f : *families)
    if (f.name == name) return f;
  families->push_back({name, ClaimMetricHelp(spec), MetricType::Gauge, {}});
  return families->back();
}

void AddGauge(const ClaimSpec& spec, const nlohmann::json& value, std::vector<ClientMetric::Label> labels,
              std::vector<MetricFamily>* families) {
  if (!value.is_number() && !value.is_boolean()) return;
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value.is_boolean() ? (value.get<bool>() ? 1.0 : 0.0) : value.get<double>();
  FamilyFor(spec, families).metric.push_back(std::move(m));
}

// Every member of `object` that is an instance of the spec's leaf, with its
// placeholder labels plus `extra`.
void AddMatches(const ClaimSpec& spec, const nlohmann::json& object,
                const std::vector<ClientMetric::Label>& extra, std::vector<MetricFamily>* families) {
  if (!object.is_object()) return;
  for (const auto& [key, value] : object.items()) {
    ClaimBindings b;
    if (!MatchClaimKey(spec, key, &b)) continue;
    std::vector<ClientMetric::Label> labels = extra;
    for (auto& [name, v] : b) labels.push_back({name, v});
    AddGauge(spec, value, std::move(labels), families);
  }
}

}  // namespace

std::string ClaimMetricHelp(const ClaimSpec& spec) {
  std::string help(spec.meaning);
  help += " (";
  if (!spec.unit.empty()) help += std::string(spec.unit) + "; ";
  help.append("claim ").append(spec.meter).append(" ").append(spec.key).append(")");
  return help;
}

void AddClaimGauges(std::span<const ClaimSpec* const> specs, const nlohmann::json& claims,
                    std::vector<MetricFamily>* families) {
  if (!claims.is_object()) return;
  for (const ClaimSpec* spec : specs) {
    if (spec->metric.empty()) continue;
    if (!spec->IsElement()) {
      AddMatches(*spec, claims, {}, families);
      continue;
    }
    // "targets[].upload_bps" with element_label "peer=target".
    auto list = claims.find(std::string(spec->List()));
    if (list == claims.end() || !list->is_array()) continue;
    const std::string_view el = spec->element_label;
    const size_t eq = el.find('=');
    for (const nlohmann::json& element : *list) {
      std::vector<ClientMetric::Label> extra;
      if (eq != std::string_view::npos && element.is_object()) {
        auto member = element.find(std::string(el.substr(eq + 1)));
        if (member == element.end() || !member->is_string()) continue;  // unlabelled: would collide
        extra.push_back({std::string(el.substr(0, eq)), member->get<std::string>()});
      }
      AddMatches(*spec, element, extra, families);
    }
  }
}

void AddTimeClaimGauges(const nlohmann::json& time_claim, std::vector<MetricFamily>* families) {
  if (!time_claim.is_object()) return;
  for (const ClaimSpec* spec : kTimeClaims) {
    if (spec->metric.empty()) continue;
    const nlohmann::json* v = FindClaim(time_claim, *spec);
    if (spec->type == ClaimType::kBool) {
      AddGauge(*spec, v != nullptr && v->is_boolean() ? *v : nlohmann::json(false), {}, families);
    } else if (v != nullptr) {
      AddGauge(*spec, *v, {}, families);
    }
  }
}

}  // namespace resmeter
