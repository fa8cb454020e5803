// The time assessment from chronyd's state; see time_assessment.h.
#include "timesource/time_assessment.h"

#include <cmath>
#include <cstdio>

#include "core/strings.h"

namespace resmeter {
namespace {

// Most sources a snapshot reads (chronyd rarely has more than a handful).
constexpr uint32_t kMaxSources = 64;
// Reference id of chronyd's `local` reference ("LOCL").
constexpr uint32_t kLocalRefId = 0x7F7F0101;

// 8 uppercase hex digits, as chronyc prints reference ids.
std::string RefIdHex(uint32_t id) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08X", id);
  return buf;
}

// Shortest round-trippable text of a number, for reasons.
std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// True for sources reached over NTP (client or peer mode), not refclocks.
bool IsNtpSource(const chrony::SourceData& s) {
  return s.mode != chrony::kModeRefclock && (s.ip.family == 1 || s.ip.family == 2);
}

const char* ModeName(uint16_t mode) {
  switch (mode) {
    case chrony::kModeClient:
      return "server";
    case chrony::kModePeer:
      return "peer";
    case chrony::kModeRefclock:
      return "refclock";
    default:
      return "unknown";
  }
}

}  // namespace

const char* ErrorBoundFormula() {
  return "|offset| + root_delay/2 + root_dispersion + since_last_update * "
         "(|residual_freq| + skew + max_clock_error)";
}

Result<ChronySnapshot> QueryChrony(ChronyClient& client) {
  ChronySnapshot snap;
  RESMETER_ASSIGN_OR_RETURN(snap.tracking, client.Tracking());
  RESMETER_ASSIGN_OR_RETURN(uint32_t n, client.NumSources());
  if (n > kMaxSources) {
    snap.notes.push_back("chronyd has " + std::to_string(n) + " sources; read the first " +
                         std::to_string(kMaxSources));
    n = kMaxSources;
  }
  for (uint32_t i = 0; i < n; ++i) {
    Result<chrony::SourceData> s = client.Source(static_cast<int32_t>(i));
    if (!s.ok()) {
      // The list can shrink between the two requests; stop at the end.
      if (s.status().code() == Status::Code::kNotFound) break;
      return s.status();
    }
    std::optional<chrony::AuthData> auth;
    if (IsNtpSource(*s)) {
      Result<chrony::AuthData> a = client.AuthData(s->ip);
      if (a.ok()) {
        auth = *a;
      } else {
        snap.notes.push_back("auth data of " + s->ip.ToString() + ": " + a.status().message());
      }
    }
    snap.sources.push_back(*s);
    snap.source_auth.push_back(auth);
  }
  const chrony::IpAddr& ref = snap.tracking.ip;
  if (ref.family == 1 || ref.family == 2) {
    Result<chrony::NtpData> ntp = client.NtpData(ref);
    if (ntp.ok()) {
      snap.selected_ntp = *ntp;
    } else {
      snap.notes.push_back("ntp data of " + ref.ToString() + ": " + ntp.status().message());
    }
    for (size_t i = 0; i < snap.sources.size(); ++i) {
      if (snap.sources[i].ip == ref) snap.selected_auth = snap.source_auth[i];
    }
    if (!snap.selected_auth) {
      Result<chrony::AuthData> a = client.AuthData(ref);
      if (a.ok()) snap.selected_auth = *a;
    }
  }
  return snap;
}

TimeAssessment AssessSnapshot(const ChronySnapshot& snap, double wall_now, const TimeSourceOptions& options) {
  const chrony::Tracking& t = snap.tracking;
  TimeAssessment a;
  a.chrony_socket = options.chrony_socket;
  a.reachable = true;
  a.chrony_state = "reachable";
  a.max_error_bound_seconds = options.max_error_bound_seconds;
  a.notes = snap.notes;
  a.leap_status = chrony::LeapStatusName(t.leap_status);
  a.synchronized = t.leap_status != chrony::kLeapUnsynchronised && t.ref_id != 0;
  a.reference_id = RefIdHex(t.ref_id);
  a.stratum = t.stratum;
  a.server = t.ip.ToString();
  a.offset_seconds = t.current_correction_seconds;
  a.root_delay_seconds = t.root_delay_seconds;
  a.root_dispersion_seconds = t.root_dispersion_seconds;

  for (size_t i = 0; i < snap.sources.size(); ++i) {
    const chrony::SourceData& s = snap.sources[i];
    nlohmann::json j = {{"address", s.ip.ToString()},
                        {"mode", ModeName(s.mode)},
                        {"state", chrony::SourceStateName(s.state)},
                        {"stratum", s.stratum},
                        {"reachability", s.reachability},
                        {"since_sample_seconds", s.since_sample_seconds}};
    if (i < snap.source_auth.size() && snap.source_auth[i]) {
      j["authentication"] = chrony::AuthModeName(snap.source_auth[i]->mode);
    }
    a.sources.push_back(std::move(j));
  }

  if (snap.selected_auth) {
    const chrony::AuthData& auth = *snap.selected_auth;
    a.authentication = chrony::AuthModeName(auth.mode);
    if (auth.mode == chrony::kAuthNts) {
      a.nts = {{"key_exchange_attempts", auth.ke_attempts},
               {"last_key_exchange_ago_seconds", auth.last_ke_ago_seconds},
               {"cookies", auth.cookies},
               {"nak", auth.nak != 0}};
    }
  }
  bool last_response_authenticated =
      snap.selected_ntp && (snap.selected_ntp->flags & chrony::kNtpFlagAuthenticated) != 0;
  a.nts_authenticated = a.authentication == "nts" && last_response_authenticated;

  if (a.synchronized) {
    double since = wall_now - t.ref_time_seconds;
    if (since < 0) {
      a.notes.push_back("last update lies " + Num(-since) + " s in the future; counted as 0");
      since = 0;
    }
    double rate_ppm = std::fabs(t.resid_freq_ppm) + std::fabs(t.skew_ppm) + options.max_clock_error_ppm;
    a.since_last_update_seconds = since;
    a.drift_seconds = since * rate_ppm * 1e-6;
    a.error_bound_seconds = std::fabs(t.current_correction_seconds) + t.root_delay_seconds / 2 +
                            t.root_dispersion_seconds + *a.drift_seconds;
  }

  if (!a.synchronized) {
    a.reason = "chronyd is not synchronised (leap status " + a.leap_status + ")";
  } else if (t.ip.family != 1 && t.ip.family != 2) {
    a.reason = t.ref_id == kLocalRefId
                   ? "chronyd serves its local clock (local reference), not a synchronised source"
                   : "chronyd is synchronised to reference " + a.reference_id + ", not to an NTP source";
  } else if (a.authentication != "nts") {
    a.reason = "selected source " + a.server +
               " is not NTS-authenticated (authentication: " + a.authentication + ")";
  } else if (!last_response_authenticated) {
    a.reason = "selected source " + a.server + " uses NTS but its last response was not authenticated";
  } else if (!std::isfinite(*a.error_bound_seconds) ||
             *a.error_bound_seconds >= options.max_error_bound_seconds) {
    a.reason = "error bound " + Num(*a.error_bound_seconds) + " s is not below the limit " +
               Num(options.max_error_bound_seconds) + " s";
  } else {
    a.trusted = true;
  }
  return a;
}

TimeAssessment AssessUnreachable(const Status& error, const TimeSourceOptions& options) {
  TimeAssessment a;
  a.chrony_socket = options.chrony_socket;
  a.max_error_bound_seconds = options.max_error_bound_seconds;
  const std::string& msg = error.message();
  switch (error.code()) {
    case Status::Code::kNotFound:
    case Status::Code::kInvalidArgument:
      a.chrony_state = "absent";
      a.reason = StartsWith(msg, "chronyd not reachable") ? msg : "chronyd not reachable: " + msg;
      break;
    case Status::Code::kPermissionDenied:
      a.chrony_state = "access_refused";
      a.reason = StartsWith(msg, "access to chronyd refused") ? msg : "access to chronyd refused: " + msg;
      break;
    case Status::Code::kDeadlineExceeded:
      a.chrony_state = "busy";
      a.reason = StartsWith(msg, "chronyd busy") ? msg : "chronyd busy: " + msg;
      break;
    default:
      a.chrony_state = "error";
      a.reason = "chronyd query failed: " + msg;
  }
  return a;
}

TimeAssessment AssessTime(const TimeSourceOptions& options, Env* env) {
  Result<std::unique_ptr<ChronyTransport>> transport =
      OpenUnixChronyTransport(options.chrony_socket, options.client_socket_dir);
  if (!transport.ok()) return AssessUnreachable(transport.status(), options);
  ChronyClient client(std::move(transport).value(),
                      ChronyClientOptions{options.timeout_seconds, options.attempts,
                                          2 * options.timeout_seconds * options.attempts});
  Result<ChronySnapshot> snap = QueryChrony(client);
  if (!snap.ok()) return AssessUnreachable(snap.status(), options);
  return AssessSnapshot(*snap, env->WallSeconds(), options);
}

nlohmann::json TimeAssessmentToJson(const TimeAssessment& a) {
  nlohmann::json j;
  j["source"] = "chrony";
  j["chronyd_socket"] = a.chrony_socket;
  j["chronyd_state"] = a.chrony_state;
  j["reachable"] = a.reachable;
  j["synchronized"] = a.synchronized;
  j["trusted"] = a.trusted;
  if (!a.trusted) j["reason"] = a.reason;
  j["max_error_bound_seconds"] = a.max_error_bound_seconds;
  if (a.reachable) {
    j["server"] = a.server;
    j["reference_id"] = a.reference_id;
    j["stratum"] = a.stratum;
    j["leap_status"] = a.leap_status;
    j["nts_authenticated"] = a.nts_authenticated;
    j["authentication"] = a.authentication;
    if (!a.nts.is_null()) j["nts"] = a.nts;
    j["sources"] = a.sources;
  } else {
    j["nts_authenticated"] = false;
  }
  auto put = [&j](const char* key, const std::optional<double>& v) {
    if (v) j[key] = *v;
  };
  put("offset_seconds", a.offset_seconds);
  put("root_delay_seconds", a.root_delay_seconds);
  put("root_dispersion_seconds", a.root_dispersion_seconds);
  put("since_last_update_seconds", a.since_last_update_seconds);
  put("drift_seconds", a.drift_seconds);
  put("error_bound_seconds", a.error_bound_seconds);
  if (a.error_bound_seconds) j["error_bound_formula"] = ErrorBoundFormula();
  if (!a.notes.empty()) j["notes"] = a.notes;
  return j;
}

nlohmann::json AssessTimeClaim(const TimeSourceOptions& options, Env* env) {
  return TimeAssessmentToJson(AssessTime(options, env));
}

TimeMetrics ToTimeMetrics(const TimeAssessment& a) {
  TimeMetrics m;
  m.reachable = a.reachable;
  m.synchronized = a.synchronized;
  m.has_offset = a.offset_seconds.has_value();
  m.offset_seconds = a.offset_seconds.value_or(0);
  m.has_error_bound = a.error_bound_seconds.has_value();
  m.error_bound_seconds = a.error_bound_seconds.value_or(0);
  m.trusted = a.trusted ? 1 : 0;
  m.stratum = a.stratum;
  return m;
}

}  // namespace resmeter
