// NtsCertificateCheck: the `time` meter's view of which NTS-KE certificate
// the selected NTS source has (timesource/nts_ke_probe.h), so the time claim
// can name it and a policy can pin it (time.nts_certificate_subjects).
//
// For a selected source that chronyd authenticates with NTS, it asks
// chronyd for the name the source was configured with (REQ_NTP_SOURCE_NAME:
// the NTS-KE server name), makes its own NTS-KE handshake to that name and
// keeps the result, success or failure, for time.nts_certificate_interval_seconds
// (a new name probes at once): the certificate is looked at on the time
// meter's runs only, and at most that often.
//
// Thread-compatible: one instance per TimeMeter.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/env.h"
#include "core/option_spec.h"
#include "timesource/nts_ke_probe.h"
#include "timesource/time_assessment.h"

namespace resmeter {

struct NtsCertificateOptions {
  bool enabled = true;            // time.nts_certificate_check
  double interval_seconds = 600;  // time.nts_certificate_interval_seconds
  NtsKeProbeOptions probe;        // time.nts_ke_port, time.nts_ke_timeout_seconds, time.nts_ca_file
};
NtsCertificateOptions NtsCertificateOptionsFromConfig(const Options& global_config);

// The `nts_certificate` claim object of a probed certificate, checked at `wall_seconds`.
nlohmann::json NtsCertificateJson(const NtsKeCertificate& cert, double wall_seconds);

class NtsCertificateCheck {
 public:
  struct Outcome {
    std::string server_name;                    // the selected source's configured name; "" when unknown
    std::optional<nlohmann::json> certificate;  // the `nts_certificate` claim
    std::string reason;                         // why there is no certificate (when none)
  };

  // For assessment `a` (chronyd at `chrony`).
  Outcome Check(const TimeAssessment& a, const TimeSourceOptions& chrony,
                const NtsCertificateOptions& options, Env* env);

 private:
  std::string name_;  // what the cache holds
  double probed_at_ = 0;
  bool has_ = false;
  std::optional<nlohmann::json> certificate_;
  std::string reason_;
};

}  // namespace resmeter
