// LedgerStatement: one line of the hash-chained usage ledger v2 (JSON Lines),
// its serialization, parsing, hashing and signing.
//
// Every line carries `seq` and `prev` (the SHA-256, hex, of the previous
// line's exact bytes) and is signed with a detached JWS (RFC 7515 appendix F)
// over the line without its trailing `sig` member, by the key of its epoch.
// Kinds: `epoch` (first statement of every agent start; names the new key,
// its hardware evidence and what recovery cut off; signed by the new key),
// `usage` (one metered period) and `checkpoint` (shutdown, rotation). The
// members `jwk` and `evidence` of an epoch statement are JSON texts inside a
// string, so every line stays one flat object. See README, "Usage ledger".
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/signer.h"
#include "jose/jwk.h"

namespace resmeter {

// Format version written in every line's `v`.
inline constexpr int kLedgerVersion = 2;
// Longest line the reader and parser accept (hostile input bound; an epoch
// statement carries the hardware evidence, certificates included).
inline constexpr size_t kMaxLedgerLineBytes = 256 * 1024;
// `prev` of the very first statement of a ledger.
inline constexpr std::string_view kLedgerGenesisPrev =
    "0000000000000000000000000000000000000000000000000000000000000000";

enum class LedgerKind { kUsage, kEpoch, kCheckpoint };

// "usage", "epoch", "checkpoint".
const char* LedgerKindName(LedgerKind kind);

// What one metered period delivered: the quantities a usage statement bills.
// Unix seconds in assessed time.
struct MeteredPeriod {
  double start_unix_seconds = 0;
  double end_unix_seconds = 0;
  double vcpu_delivered_seconds = 0;
  double vcpu_stolen_seconds = 0;
  double memory_gib_seconds = 0;
  double gpu_seconds = 0;
};

// A period's measured availability (meters/cpu/cpu_availability_sampler.h), beside
// the steal in MeteredPeriod (kept out of it so MeteredPeriod stays a plain
// six-number aggregate). Written only when `sampled`; the ratio only when
// samples > 0.
struct PeriodAvailability {
  bool sampled = false;          // a sampler ran during the period
  uint64_t samples = 0;          // vCPU challenge windows: vcpu_availability_samples
  double measured_ratio = 0;     // their mean availability, 0..1: vcpu_availability_measured_ratio
  uint64_t vcpus = 0;            // vCPUs of the rounds: vcpus_challenged
  double sampler_cpu_ratio = 0;  // the sampler's cost in cores: availability_sampler_cpu_ratio
};

// One usage statement's content, as the agent measured it.
struct LedgerUsage : MeteredPeriod {
  bool time_trusted = false;
  std::string time_reason;    // why time is not trusted (empty when trusted)
  std::string report_digest;  // hex SHA-256 of the latest capability report ("" if none)
  PeriodAvailability availability = {};  // measured availability (optional members)
};

// What an epoch statement says besides its gap (start/end: last period end
// -> this start) and the time trust at start.
struct LedgerEpochFields {
  std::string jwk;             // the new key's public JWK, compact JSON text
  std::string key_origin;      // "ephemeral" for agents
  std::string evidence;        // evidence JSON text bound to SHA-512(kid || raw prev hash)
  std::string prev_epoch_kid;  // kid of the epoch before ("" for the first)
  uint64_t cut_bytes = 0;      // bytes recovery discarded after the adopted head
  std::string cut_sha256;      // their SHA-256, hex ("" when none)
  std::string cut_file;        // the file the cut started in ("" when none)
  bool clean = true;           // the previous epoch ended with a shutdown checkpoint
};

// A ledger line. Usage: the metered period; epoch: the gap in start/end and
// the epoch fields, other quantities zero; checkpoint: only `reason`.
struct LedgerStatement : LedgerUsage, LedgerEpochFields {
  uint64_t seq = 0;
  std::string prev;  // 64 hex digits: SHA-256 of the previous line
  LedgerKind kind = LedgerKind::kUsage;
  std::string kid;     // RFC 7638 thumbprint of the epoch's key
  std::string reason;  // epoch and checkpoint: why it was written
  std::string sig;     // detached JWS "HEADER..SIGNATURE" over the line without this member
};

// Serializes the statement without `sig` as one JSON object (no newline);
// members in a fixed order, numbers in shortest round-trip form.
std::string SerializeLedgerBody(const LedgerStatement& s);
// Serializes and signs with `signer` (which must be the key named by s.kid).
// Returns the final line without newline.
Result<std::string> SealLedgerStatement(const LedgerStatement& s, const Signer& signer);

// Parses one line (no newline). Corruption naming the bad member; a line of
// an older format version says so ("'v' is 1, ...").
Result<LedgerStatement> ParseLedgerLine(std::string_view line);

// SHA-256 of a line's bytes as 64 lowercase hex digits (the next line's `prev`).
std::string LedgerLineHash(std::string_view line);
// SHA-256 of a line's bytes, raw 32 bytes, written to out[32].
void LedgerLineHashRaw(std::string_view line, unsigned char out[32]);

// Checks the detached signature of a line with `key`: the header's alg must
// be the key's and its kid the key's thumbprint. VerifyFailed with the reason
// otherwise, Corruption when the line has no well-formed `sig`.
Status VerifyLedgerSignature(std::string_view line, const PublicKey& key);

}  // namespace resmeter
