#include "ledger/ledger_policy.h"

#include <cmath>

#include "policy/policy_claims.h"
#include "policy/policy_evaluator.h"

namespace resmeter {
namespace {

// Averages over a period to two decimals (see the header).
double Round2(double v) { return std::round(v * 100) / 100; }

// The claims a ledger statement can express.
bool LedgerCanExpress(const std::string& claim) {
  return claim == "cpu.vcpus" || claim == "cpu.availability_ratio" || claim == "cpu.steal_ratio" ||
         claim == "memory.total_gib" || claim == "gpu.count";
}

// The value of an expressible claim over one statement's period.
PolicyMeasurement MeasureStatement(const std::string& claim, const LedgerStatement& s) {
  PolicyMeasurement m;
  const double period = s.end_unix_seconds - s.start_unix_seconds;
  const double cpu = s.vcpu_delivered_seconds + s.vcpu_stolen_seconds;
  if (claim == "cpu.vcpus") {
    m.number = Round2(cpu / period);
  } else if (claim == "cpu.availability_ratio" || claim == "cpu.steal_ratio") {
    if (cpu <= 0) {
      m.unavailable = "no vCPU time accounted in this period";
    } else {
      m.number = (claim == "cpu.availability_ratio" ? s.vcpu_delivered_seconds : s.vcpu_stolen_seconds) / cpu;
    }
  } else if (claim == "memory.total_gib") {
    m.number = Round2(s.memory_gib_seconds / period);
  } else if (claim == "gpu.count") {
    m.number = Round2(s.gpu_seconds / period);
  } else {
    m.unavailable = "not assessable from the ledger";
  }
  return m;
}

bool SameClauses(const std::vector<LedgerClauseFailure>& a, const std::vector<LedgerClauseFailure>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name) return false;
  }
  return true;
}

}  // namespace

std::string LedgerClauseFailure::Measured() const {
  if (!detail.empty()) return detail;
  if (!measured_min) return "?";
  if (*measured_min == measured_max.value_or(*measured_min)) return FormatPolicyNumber(*measured_min, unit);
  return FormatPolicyNumber(*measured_min, "") + " .. " + FormatPolicyNumber(*measured_max, unit);
}

LedgerPolicyAssessor::LedgerPolicyAssessor(Policy policy) : policy_(std::move(policy)) {
  for (const PolicyClause& c : policy_.clauses) {
    const PolicyClaimSpec* spec = FindPolicyClaim(c.claim);
    if (spec == nullptr) continue;
    const ClauseResult shape = JudgeClause(c, *spec, PolicyMeasurement{});
    if (LedgerCanExpress(c.claim)) {
      assessable_.push_back({&c, shape.name, shape.required, spec->unit});
    } else {
      not_assessable_.push_back(shape.name + " " + shape.required);
    }
  }
  if (policy_.require_trusted_time) assessable_.push_back({nullptr, "time.trusted", "trusted", ""});
  if (policy_.max_time_error_bound_seconds) {
    not_assessable_.push_back("time.error_bound_seconds <= " +
                              FormatPolicyNumber(*policy_.max_time_error_bound_seconds, "s"));
  }
  if (!policy_.nts_servers.empty()) not_assessable_.push_back("time.nts_server (report time claims only)");
  if (!policy_.nts_certificate_subjects.empty())
    not_assessable_.push_back("time.nts_certificate (report time claims only)");
  // time.require_tsa and time.max_unstamped_seconds are judged on the whole
  // time axis by `ledger audit` (checks policy.time.*), not per period.
  if (policy_.evidence) not_assessable_.push_back("evidence (accepted types and measurements)");
  if (policy_.findings && !policy_.findings->forbid.empty()) not_assessable_.push_back("findings.forbid");
  if (policy_.findings && policy_.findings->max) {
    not_assessable_.push_back("findings.max <= " + std::to_string(*policy_.findings->max));
  }
  for (const PolicyMeterAge& age : policy_.meter_ages) {
    not_assessable_.push_back("meters." + age.meter +
                              ".age_seconds <= " + FormatPolicyNumber(age.max_age_seconds, "s"));
  }
  if (policy_.max_report_age_seconds) {
    not_assessable_.push_back("report.age_seconds <= " +
                              FormatPolicyNumber(*policy_.max_report_age_seconds, "s"));
  }
}

std::optional<bool> LedgerPolicyAssessor::Assess(const LedgerStatement& s) {
  if (assessable_.empty() || s.end_unix_seconds <= s.start_unix_seconds) return std::nullopt;
  const std::optional<uint64_t> previous = last_assessed_seq_;
  last_assessed_seq_ = s.seq;
  std::vector<LedgerClauseFailure> failures;
  for (const Assessable& a : assessable_) {
    if (a.clause == nullptr) {
      if (!s.time_trusted) {
        failures.push_back({a.name,
                            a.required,
                            "",
                            {},
                            {},
                            "untrusted: " + (s.time_reason.empty() ? "no reason" : s.time_reason)});
      }
      continue;
    }
    const PolicyMeasurement m = MeasureStatement(a.clause->claim, s);
    const ClauseResult r = JudgeClause(*a.clause, *FindPolicyClaim(a.clause->claim), m);
    if (r.passed) continue;
    failures.push_back({a.name, a.required, a.unit, m.number, m.number,
                        m.unavailable.empty() ? "" : "unavailable: " + m.unavailable});
  }
  if (failures.empty()) return false;
  // Grouped with the previous usage period (restart markers and checkpoints
  // in between do not split a run) when it failed the same clauses.
  if (!violations_.empty() && previous == violations_.back().last_seq &&
      SameClauses(violations_.back().failures, failures)) {
    LedgerPolicyViolation& v = violations_.back();
    v.last_seq = s.seq;
    v.end_unix_seconds = s.end_unix_seconds;
    for (size_t i = 0; i < failures.size(); ++i) {
      LedgerClauseFailure& f = v.failures[i];
      if (!failures[i].measured_min) continue;
      const double x = *failures[i].measured_min;
      f.measured_min = f.measured_min ? std::min(*f.measured_min, x) : x;
      f.measured_max = f.measured_max ? std::max(*f.measured_max, x) : x;
    }
    return true;
  }
  violations_.push_back({s.seq, s.seq, s.start_unix_seconds, s.end_unix_seconds, std::move(failures)});
  return true;
}

nlohmann::json LedgerPolicyAssessor::ToJson() const {
  nlohmann::json assessed = nlohmann::json::array();
  for (const Assessable& a : assessable_) assessed.push_back({{"name", a.name}, {"required", a.required}});
  nlohmann::json violations = nlohmann::json::array();
  for (const auto& v : violations_) {
    nlohmann::json clauses = nlohmann::json::array();
    for (const auto& f : v.failures) {
      nlohmann::json c = {{"name", f.name}, {"required", f.required}, {"measured", f.Measured()}};
      if (f.measured_min) c["measured_min"] = *f.measured_min, c["measured_max"] = f.measured_max.value_or(0);
      clauses.push_back(std::move(c));
    }
    violations.push_back({{"first_seq", v.first_seq},
                          {"last_seq", v.last_seq},
                          {"start_unix_seconds", v.start_unix_seconds},
                          {"end_unix_seconds", v.end_unix_seconds},
                          {"clauses", clauses}});
  }
  return {{"file", policy_.source},
          {"name", policy_.name},
          {"assessed_clauses", assessed},
          {"not_assessable", not_assessable_},
          {"violations", violations}};
}

}  // namespace resmeter
