// The capability report: EAT/EAR-shaped claims (RFC 9711) signed as a JWS.
//
// The report sees meters only through their JSON submods; it adds the
// identity of the agent, validity, nonce, time assessment and evidence.
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/signer.h"

namespace resmeter {

// Names this report format and its version (the `eat_profile` claim).
inline constexpr const char* kReportProfile = "tag:resmeter.dev,2026:report/v1";

struct ReportInputs {
  nlohmann::json submods = nlohmann::json::object();  // meter name -> submod object
  nlohmann::json time = nlohmann::json::object();     // time assessment
  nlohmann::json evidence = nlohmann::json::object(); // evidence and key binding
  std::optional<std::string> nonce_hex;               // the challenge, lowercase hex
  double issued_at_unix_seconds = 0;
  int64_t validity_seconds = 3600;
  // True only when the meters read the live machine: procfs and sysfs at
  // their default roots (/proc, /sys), no fixture or test root configured.
  bool live = false;
  std::vector<std::string> not_live_reasons;  // why not live, e.g. "proc_root=/x"
  std::string key_origin;                     // jose/key_origin.h: "ephemeral" or "file"
};

// The UEID of an agent: base64url(0x01 "RAND" type || SHA-256(thumbprint)), 33 bytes.
std::string UeidForThumbprint(const std::string& thumbprint);
// Builds the claims object (ordered as documented in the README).
nlohmann::ordered_json BuildReportClaims(const ReportInputs& in, const Signer& signer);
// Builds and signs; returns the JWS compact token.
Result<std::string> SignReport(const ReportInputs& in, const Signer& signer);
// Validates a nonce given on the command line: 16..128 hex digits (8..64 bytes as EAT allows).
Result<std::string> NormalizeNonceHex(const std::string& hex);

}  // namespace resmeter
