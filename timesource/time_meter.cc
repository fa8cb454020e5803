// The `time` meter: chronyd's state, the time assessment and clock jumps.
#include "timesource/time_meter.h"

#include "claims/time_claim_specs.h"
#include "timesource/time_assessment.h"
#include "timesource/time_claim.h"

namespace resmeter {

MeterResult TimeMeter::Measure(MeterContext& ctx) {
  // Configured by the global time.* section, the same as the report's `time` claim.
  const TimeSourceOptions o = TimeSourceOptionsFromConfig(ctx.global);
  ctx.Progress("querying chronyd at " + o.chrony_socket);
  TimeAssessment a = AssessTime(o, ctx.env);

  if (!jumps_) jumps_ = std::make_unique<ClockJumpDetector>(ctx.env);
  if (a.error_bound_seconds) jumps_->SetErrorBound(*a.error_bound_seconds);
  std::optional<ClockJump> jump = jumps_->Sample();

  nlohmann::json j = TimeAssessmentToJson(a);
  MeterResult r;
  if (!a.reachable) {
    r = a.chrony_state == "error" ? MeterResult::Failed(a.reason) : MeterResult::Unavailable(a.reason);
  } else {
    r = MeterResult::Ok();
    // The declared time claims, copied from the assessment when present.
    for (const ClaimSpec* spec : kTimeClaims) {
      if (const nlohmann::json* v = FindClaim(j, *spec)) SetClaim(r.claims, *spec, *v);
    }
    if (!a.trusted) r.findings.push_back({"time_untrusted", a.reason, {{"reason", a.reason}}});
  }
  std::string nts_certificate_reason;
  if (a.reachable) {
    const NtsCertificateOptions no = NtsCertificateOptionsFromConfig(ctx.global);
    if (no.enabled && a.authentication == "nts") ctx.Progress("NTS-KE handshake with the selected source");
    NtsCertificateCheck::Outcome nts = nts_certificate_.Check(a, o, no, ctx.env);
    if (!nts.server_name.empty()) SetClaim(r.claims, kTimeServerName, nts.server_name);
    if (nts.certificate) SetClaim(r.claims, kTimeNtsCertificate, *nts.certificate);
    nts_certificate_reason = nts.reason;
  }
  r.conditions = {{"method", "chronyd command socket, protocol version 6"},
                  {"chrony_socket", o.chrony_socket},
                  {"chronyd_state", a.chrony_state},
                  {"max_error_bound_seconds", o.max_error_bound_seconds},
                  {"error_bound_formula", ErrorBoundFormula()}};
  if (!nts_certificate_reason.empty()) r.conditions["nts_certificate"] = nts_certificate_reason;
  if (jump) r.findings.push_back({"clock_jump", jump->Message(), jump->ToJson()});
  return r;
}

}  // namespace resmeter
