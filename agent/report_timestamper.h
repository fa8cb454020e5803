// ReportTimestamper: puts RFC 3161 tokens into a report before it is signed
// (report/report_timestamps.h has the format and what a token proves).
//
// With time.tsa set and time.tsa_stamp_reports true, Stamp() asks every
// configured TSA, in parallel, each bounded by time.tsa_timeout_seconds, to
// stamp ReportImprint(claims), and adds `timestamps` to the claims: a token
// entry per TSA that answered, an {tsa, error} entry per TSA that did not.
// So a report is never held up longer than one TSA timeout, and a TSA that
// failed is not asked again for time.tsa_report_retry_seconds (its entry
// then says so): a dead TSA costs a light cycle its timeout at most once
// per retry interval. The TSA list is read from the config of each call
// (a reloaded config applies at once). Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/config.h"
#include "core/env.h"

namespace resmeter {

class ReportTimestamper {
 public:
  explicit ReportTimestamper(Env* env) : env_(env) {}

  // True when `config` asks for report tokens (time.tsa set, time.tsa_stamp_reports).
  static bool Enabled(const Config& config);
  // Adds `timestamps` to `claims` (unchanged when !Enabled(config)). Never
  // fails: a TSA that cannot stamp is an error entry.
  void Stamp(const Config& config, nlohmann::json& claims);
  void Stamp(const Config& config, nlohmann::ordered_json& claims);

 private:
  // The `timestamps` entries for the claims whose JSON text is `claims_text`.
  nlohmann::json Entries(const Config& config, const std::string& claims_text);

  struct Failure {
    double at_monotonic_seconds;
    std::string reason;
  };
  Env* env_;
  std::mutex mu_;
  std::map<std::string, Failure> failed_;  // by TSA url: the last failure
};

}  // namespace resmeter
