// TimeMeter (`time`, light): the state of the time source (chronyd with NTS)
// as a meter, so the time assessment is sampled every interval alongside the
// other light meters, and clock jumps between samples become findings.
//
// Claims: synchronized, trusted, nts_authenticated, stratum, server,
// leap_status, offset_seconds, root_delay_seconds, root_dispersion_seconds,
// since_last_update_seconds, error_bound_seconds (see
// timesource/time_assessment.h for the formula); for an NTS source also
// server_name and nts_certificate (timesource/nts_certificate.h; when the
// handshake fails, condition `nts_certificate` says why). Status `unavailable` when
// chronyd is absent, busy or refuses access (with the reason); findings
// `time_untrusted` (reachable but not trusted) and `clock_jump` (the wall
// clock moved differently from the monotonic clock since the previous
// Measure() of this instance by more than the error bound allows).
//
// Thread-compatible: the agent calls one instance from one thread.
#pragma once

#include <memory>

#include "meters/api/meter.h"
#include "timesource/clock_jump.h"
#include "timesource/nts_certificate.h"

namespace resmeter {

class TimeMeter final : public Meter {
 public:
  MeterResult Measure(MeterContext& ctx) override;

 private:
  std::unique_ptr<ClockJumpDetector> jumps_;
  NtsCertificateCheck nts_certificate_;  // cached NTS-KE handshakes
};

}  // namespace resmeter
