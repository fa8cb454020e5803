// Declared claims of the `time` meter: the same keys as the report's `time`
// claim, which the metrics export (agent/claim_metrics.h).
// See claims/claim_spec.h.
#pragma once

#include "claims/claim_spec.h"

namespace resmeter {

inline constexpr ClaimSpec kTimeSynchronized{"time",
                                             "synchronized",
                                             "",
                                             ClaimType::kBool,
                                             "chronyd reports the clock synchronized",
                                             {},
                                             "resmeter_time_synchronized"};
inline constexpr ClaimSpec kTimeTrusted{
    "time",
    "trusted",
    "",
    ClaimType::kBool,
    "synchronized over NTS within the error bound: the time assessment holds",
    {},
    "resmeter_time_trusted"};
inline constexpr ClaimSpec kTimeNts{"time",
                                    "nts_authenticated",
                                    "",
                                    ClaimType::kBool,
                                    "the selected source is NTS-authenticated",
                                    {},
                                    "resmeter_time_nts_authenticated"};
inline constexpr ClaimSpec kTimeStratum{
    "time", "stratum", "count", ClaimType::kInteger, "NTP stratum of the clock", {}, "resmeter_time_stratum"};
inline constexpr ClaimSpec kTimeServer{"time", "server", "", ClaimType::kString, "the selected time source"};
inline constexpr ClaimSpec kTimeLeapStatus{"time", "leap_status", "", ClaimType::kString,
                                           "chronyd's leap status"};
inline constexpr ClaimSpec kTimeOffset{"time",
                                       "offset_seconds",
                                       "seconds",
                                       ClaimType::kNumber,
                                       "chronyd's current correction of the system clock",
                                       {},
                                       "resmeter_time_offset_seconds"};
inline constexpr ClaimSpec kTimeRootDelay{"time",
                                          "root_delay_seconds",
                                          "seconds",
                                          ClaimType::kNumber,
                                          "round-trip delay to the stratum-1 root",
                                          {},
                                          "resmeter_time_root_delay_seconds"};
inline constexpr ClaimSpec kTimeRootDispersion{"time",
                                               "root_dispersion_seconds",
                                               "seconds",
                                               ClaimType::kNumber,
                                               "dispersion accumulated up to the root",
                                               {},
                                               "resmeter_time_root_dispersion_seconds"};
inline constexpr ClaimSpec kTimeSinceUpdate{"time",
                                            "since_last_update_seconds",
                                            "seconds",
                                            ClaimType::kNumber,
                                            "time since chronyd last updated the clock",
                                            {},
                                            "resmeter_time_since_last_update_seconds"};
inline constexpr ClaimSpec kTimeErrorBound{"time",
                                           "error_bound_seconds",
                                           "seconds",
                                           ClaimType::kNumber,
                                           "bound on the clock's distance from true time",
                                           {},
                                           "resmeter_time_error_bound_seconds"};
// The selected NTS source by name, and the certificate its NTS-KE server
// presented to resmeter's own handshake (timesource/nts_certificate.h).
inline constexpr ClaimSpec kTimeServerName{"time", "server_name", "", ClaimType::kString,
                                           "the name chronyd was configured with for the selected source"};
inline constexpr ClaimSpec kTimeNtsCertificate{
    "time", "nts_certificate", "", ClaimType::kObject,
    "the selected NTS-KE server's TLS certificate: server, subject, issuer, sha256, verified, verify_error, "
    "not_after, checked_at"};
inline constexpr const ClaimSpec* kTimeClaims[] = {
    &kTimeSynchronized, &kTimeTrusted,    &kTimeNts,           &kTimeStratum,        &kTimeServer,
    &kTimeLeapStatus,   &kTimeOffset,     &kTimeRootDelay,     &kTimeRootDispersion, &kTimeSinceUpdate,
    &kTimeErrorBound,   &kTimeServerName, &kTimeNtsCertificate};

}  // namespace resmeter
