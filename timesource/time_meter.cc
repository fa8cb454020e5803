// The `time` meter: chronyd's state, the time assessment and clock jumps.
#include "timesource/time_meter.h"

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
    for (const char* key : {"synchronized", "trusted", "nts_authenticated", "stratum", "server",
                            "leap_status", "offset_seconds", "root_delay_seconds", "root_dispersion_seconds",
                            "since_last_update_seconds", "error_bound_seconds"}) {
      if (j.contains(key)) r.claims[key] = j[key];
    }
    if (!a.trusted) r.findings.push_back({"time_untrusted", a.reason, {{"reason", a.reason}}});
  }
  r.conditions = {{"method", "chronyd command socket, protocol version 6"},
                  {"chrony_socket", o.chrony_socket},
                  {"chronyd_state", a.chrony_state},
                  {"max_error_bound_seconds", o.max_error_bound_seconds},
                  {"error_bound_formula", ErrorBoundFormula()}};
  if (jump) r.findings.push_back({"clock_jump", jump->Message(), jump->ToJson()});
  return r;
}

}  // namespace resmeter
