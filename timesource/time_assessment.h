// Time assessment: how far the system clock can be from true time, and whether
// resmeter trusts it, from chronyd's state.
//
// The assessment is the report's `time` claim (and each ledger statement's
// time trust). It states: whether chronyd is reachable and synchronised, the
// selected source and whether it is NTS-authenticated, stratum, leap status,
// offset, root delay, root dispersion, time since the last clock update and
// an error bound:
//
//   error_bound = |offset| + root_delay / 2 + root_dispersion
//                 + since_last_update * (|residual_freq| + skew + max_clock_error)
//
// where offset is chronyd's current correction of the system clock (how far
// it still is from its estimate of true time), root delay and root dispersion
// are the totals to the stratum-1 reference, and the last term is how far the
// clock may have drifted since chronyd last updated it (frequencies in ppm;
// max_clock_error is the assumed frequency error of the clock itself,
// chrony's `maxclockerror`, 1 ppm by default). chronyd may already include
// part of that drift in root dispersion; counting it again keeps the bound
// conservative. Half the root delay bounds the path asymmetry error of NTP.
//
// `trusted` is true only when chronyd is synchronised to an NTP source that is
// NTS-authenticated (auth mode NTS and the last response authenticated) and
// the error bound is below `max_error_bound_seconds`; otherwise false with
// the reason. A number that was not measured is never reported.
//
// Thread-safe: free functions without shared state.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/result.h"
#include "timesource/chrony_client.h"
#include "timesource/chrony_protocol.h"

namespace resmeter {

// Where chronyd is and how strict the assessment is (config keys time.*).
struct TimeSourceOptions {
  std::string chrony_socket = "/run/chrony/chronyd.sock";
  std::string client_socket_dir;  // empty: next to chrony_socket
  double max_error_bound_seconds = 0.1;
  double timeout_seconds = 0.5;      // per request attempt
  int attempts = 3;                  // a whole query stops after 2 * timeout * attempts
  double max_clock_error_ppm = 1.0;  // chrony's maxclockerror default
};

// Everything read from chronyd for one assessment.
struct ChronySnapshot {
  chrony::Tracking tracking;
  std::vector<chrony::SourceData> sources;
  std::vector<std::optional<chrony::AuthData>> source_auth;  // parallel to sources
  std::optional<chrony::NtpData> selected_ntp;               // NTP data of the tracked source
  std::optional<chrony::AuthData> selected_auth;             // auth data of the tracked source
  std::vector<std::string> notes;                            // optional requests that failed
};

// Asks chronyd for tracking, sources, and NTP/auth data of the sources.
// Fails only when tracking or the source list cannot be read.
Result<ChronySnapshot> QueryChrony(ChronyClient& client);

struct TimeAssessment {
  std::string chrony_socket;
  bool reachable = false;
  std::string chrony_state = "absent";  // reachable, absent, busy, access_refused, error
  bool synchronized = false;
  std::string server;        // address of the tracked source; empty if none
  std::string reference_id;  // 8 hex digits
  bool nts_authenticated = false;
  std::string authentication = "none";
  int stratum = 0;
  std::string leap_status = "unsynchronised";
  std::optional<double> offset_seconds;
  std::optional<double> root_delay_seconds;
  std::optional<double> root_dispersion_seconds;
  std::optional<double> since_last_update_seconds;
  std::optional<double> drift_seconds;
  std::optional<double> error_bound_seconds;
  double max_error_bound_seconds = 0.1;
  bool trusted = false;
  std::string reason;  // why not trusted; empty when trusted
  nlohmann::json sources = nlohmann::json::array();
  nlohmann::json nts = nlohmann::json();  // NTS-KE state of the tracked source, if NTS
  std::vector<std::string> notes;
};

// Assesses a snapshot read at wall-clock time `wall_now` (Unix seconds).
TimeAssessment AssessSnapshot(const ChronySnapshot& snap, double wall_now, const TimeSourceOptions& options);
// The assessment when chronyd could not be queried (reason from `error`).
TimeAssessment AssessUnreachable(const Status& error, const TimeSourceOptions& options);
// Queries chronyd and assesses; never fails (an unreachable chronyd is an
// untrusted assessment with the reason).
TimeAssessment AssessTime(const TimeSourceOptions& options, Env* env);

// The `time` claim object of a report.
nlohmann::json TimeAssessmentToJson(const TimeAssessment& a);
// Queries chronyd and returns the `time` claim; what the report builder calls.
nlohmann::json AssessTimeClaim(const TimeSourceOptions& options, Env* env = DefaultEnv());

// Values for the Prometheus exporter; `has_*` false when not measured.
struct TimeMetrics {
  bool reachable = false;
  bool synchronized = false;
  bool has_offset = false;
  double offset_seconds = 0;
  bool has_error_bound = false;
  double error_bound_seconds = 0;
  double trusted = 0;  // 1 or 0
  int stratum = 0;
};
TimeMetrics ToTimeMetrics(const TimeAssessment& a);

// The text of the error-bound formula, as put in claims and docs.
const char* ErrorBoundFormula();

}  // namespace resmeter
