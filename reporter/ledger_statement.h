// LedgerStatement: one line of the hash-chained usage ledger (JSON Lines),
// its serialization, parsing, hashing and signing.
//
// Every line carries `seq` and `prev` (the SHA-256, hex, of the previous
// line's exact bytes), so a line fixes every line before it. Usage lines are
// not signed; restart markers and checkpoints are, with a detached JWS
// (RFC 7515 appendix F) over the line without its trailing `sig` member, and
// so authenticate the chain head (see README, "Usage ledger"). All functions
// are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/signer.h"
#include "reporter/jwk.h"

namespace resmeter {

// Format version written in every line's `v`.
inline constexpr int kLedgerVersion = 1;
// Longest line the reader and parser accept (hostile input bound).
inline constexpr size_t kMaxLedgerLineBytes = 64 * 1024;
// `prev` of the very first statement of a ledger.
inline constexpr std::string_view kLedgerGenesisPrev =
    "0000000000000000000000000000000000000000000000000000000000000000";

enum class LedgerKind { kUsage, kRestart, kCheckpoint };

// "usage", "restart", "checkpoint".
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

// A period's measured availability (meters/cpu_availability_sampler.h), beside
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

// A ledger line. Usage: the metered period; restart: the gap (last period
// end -> restart) in start/end and the time trust at restart, other
// quantities zero; checkpoint: none of the usage members.
struct LedgerStatement : LedgerUsage {
  uint64_t seq = 0;
  std::string prev;  // 64 hex digits: SHA-256 of the previous line
  LedgerKind kind = LedgerKind::kUsage;
  std::string kid;  // RFC 7638 thumbprint of the agent's key

  // Restart: bytes of a torn last line cut off at recovery, and whether the
  // previous run ended with a shutdown checkpoint. Restart and checkpoint:
  // why it was written ("new ledger", "recovered", "interval", "shutdown", "rotation").
  uint64_t torn_bytes = 0;
  bool clean = true;
  std::string reason;

  // Restart and checkpoint: detached JWS "HEADER..SIGNATURE" over the line
  // without this member. Empty for usage lines.
  std::string sig;

  bool is_signed() const { return kind != LedgerKind::kUsage; }
};

// Serializes the statement without `sig` as one JSON object (no newline);
// members in a fixed order, numbers in shortest round-trip form.
std::string SerializeLedgerBody(const LedgerStatement& s);
// Serializes and, for signed kinds, signs with `signer` (which must be the
// key named by s.kid). Returns the final line without newline.
Result<std::string> SealLedgerStatement(const LedgerStatement& s, const Signer& signer);

// Parses one line (no newline). Corruption naming the bad member.
Result<LedgerStatement> ParseLedgerLine(std::string_view line);

// SHA-256 of a line's bytes as 64 lowercase hex digits (the next line's `prev`).
std::string LedgerLineHash(std::string_view line);
// SHA-256 of a line's bytes, raw 32 bytes, written to out[32].
void LedgerLineHashRaw(std::string_view line, unsigned char out[32]);

// Checks the detached signature of a signed line with `key`: the header's
// alg must be the key's and its kid the key's thumbprint. VerifyFailed with
// the reason otherwise, Corruption when the line has no well-formed `sig`.
Status VerifyLedgerSignature(std::string_view line, const PublicKey& key);

}  // namespace resmeter
