// Evidence: the shared vocabulary of hardware evidence (SEV-SNP reports, TDX
// quotes, TPM 2.0 quotes, and "none"), the 64-byte user data that binds the
// agent's signing key to it, and the backend interface that collects it.
//
// The user data is SHA-512(thumbprint || nonce): the RFC 7638 thumbprint of the
// agent's public JWK as its base64url ASCII text, followed by the raw nonce
// bytes (empty when there is no challenge). Verifiers recompute it from the
// key and nonce they expect.
//
// Evidence travels as a JSON object: {"type": "sev-snp"|"tdx"|"tpm2"|"none",
// "user_data": hex, ...type-specific members (base64 blobs)}. The types here
// are plain values; backends are used from one thread at a time.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace resmeter {

enum class EvidenceType { kNone, kSevSnp, kTdx, kTpm2 };

// The wire name of a type: "none", "sev-snp", "tdx", "tpm2".
std::string EvidenceTypeName(EvidenceType type);
// Parses a wire name; InvalidArgument naming the value otherwise.
Result<EvidenceType> ParseEvidenceType(std::string_view name);

// Size of the user data every backend binds (SNP REPORT_DATA, TDX REPORTDATA,
// TPM qualifying data).
inline constexpr size_t kUserDataSize = 64;

// SHA-512(thumbprint || nonce), 64 raw bytes.
std::string ComputeUserData(std::string_view thumbprint, std::string_view nonce);

// What a successful verification established: the checks that ran (in order,
// each one passed), the checks that did not run and why, and the evidence's
// fields for printing.
struct EvidenceVerdict {
  std::string type;                      // wire name
  std::vector<std::string> checks;       // e.g. "signature", "vcek_chain"
  std::vector<std::string> not_checked;  // e.g. "tcb_status: no Intel collateral"
  nlohmann::json fields = nlohmann::json::object();
  // {"type", "checks", "not_checked", "fields"}.
  nlohmann::json ToJson() const;
};

// Builds the VerifyFailed status of a failing check: "<type>: <check>: <detail>".
Status CheckFailed(std::string_view type, std::string_view check, std::string_view detail);

// A source of hardware evidence on this machine.
class EvidenceBackend {
 public:
  virtual ~EvidenceBackend() = default;
  virtual EvidenceType type() const = 0;
  // Collects evidence whose user data is `user_data` (kUserDataSize bytes) and
  // returns its JSON object; a non-OK status names the step that failed.
  virtual Result<nlohmann::json> Collect(const std::string& user_data) = 0;
};

// Base64 (standard alphabet, padded) and its inverse (nullopt on bad input),
// used for the binary blobs inside evidence JSON.
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace resmeter
