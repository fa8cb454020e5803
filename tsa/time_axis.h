// TimeAxisChecker: checks the time axis of a hash-chained ledger against
// RFC 3161 tokens, offline (the buyer's audit). Independent of the ledger's
// format: the audit feeds it, in chain order, every authentic line's hash,
// every timestamp statement (a token for an earlier line's hash) and every
// billed period.
//
// Brackets. A verified token with genTime T for line K proves line K (and so
// every line before it, by the hash chain) existed at T: each period of a
// line at or before K must end by T + tolerance. The token itself is
// carried by a later line M, which cannot have been written before T: each
// period of a line after M must end at or after T - tolerance. A period with
// both bounds and inside them is *time-checked*; one outside is a finding
// (the agent's clock ran fast or slow: the finding names the first such
// statement and how far off it is); one without both bounds is *unchecked*
// (no TSA reached, or no stamp yet). tolerance = the stated tolerance + the
// token's own accuracy.
//
// Tokens count only when they verify (tsa/timestamp_verifier.h: the stamped
// hash is the line's, the nonce is the one the statement says was sent, the
// signer chains to an anchor at genTime) and, when accepted_tsas is not
// empty, their signer certificate's CN (or full subject) is in it.
//
// Memory: a window of recent line hashes and the periods still waiting for
// their upper bound (both capped). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tsa/tsa_anchors.h"

namespace resmeter {

struct TimeAxisOptions {
  TsaAnchors anchors;
  std::vector<std::string> accepted_tsas;  // signer CN or subject; empty: any anchored TSA
  double tolerance_seconds = 5.0;
  std::optional<double> from_unix_seconds, to_unix_seconds;  // clip the hours to this range
};

struct TimeAxisFinding {
  // timestamp_token (a token does not verify), timestamp_mismatch (the
  // stamped hash is not the line's), time_bracket (a period outside its
  // bracket); warnings: timestamp_tsa (a TSA the policy does not accept),
  // timestamp_unchecked (tokens present but no anchors to check them).
  std::string kind;
  bool error = true;
  uint64_t seq = 0, seq_end = 0;
  std::string message;  // one line
};

struct TimeAxisSummary {
  uint64_t tokens = 0;                   // timestamp statements seen
  uint64_t tokens_verified = 0;          // that verified and count
  uint64_t tokens_rejected = 0;          // that did not verify (findings)
  uint64_t tokens_ignored = 0;           // verified, but from a TSA not accepted
  double checked_seconds = 0;            // billed time inside a verified bracket
  double unchecked_seconds = 0;          // billed time without both bounds, or outside them
  double longest_unchecked_seconds = 0;  // longest run of consecutive unchecked periods
  uint64_t first_unchecked_seq = 0;      // start of that run
  uint64_t periods_outside = 0;          // periods outside their bracket
  std::set<std::string> signers;         // subjects of the TSAs whose tokens counted
};

class TimeAxisChecker {
 public:
  explicit TimeAxisChecker(TimeAxisOptions options);

  // Every authentic line, in chain order, with its SHA-256.
  void OnLine(uint64_t seq, const unsigned char sha256[32]);
  // A timestamp statement (before OnLine for its own line is fine).
  void OnTimestamp(uint64_t seq, uint64_t stamped_seq, const std::string& stamped_sha256_hex,
                   const std::string& tsa, const std::string& nonce_hex, const std::string& token_base64url);
  // An authentic usage period, in chain order; `billed`: it counts in the
  // hours (a period that is not billed is still checked against its bracket).
  void OnPeriod(uint64_t seq, double start_unix_seconds, double end_unix_seconds, bool billed = true);
  // Periods still waiting for an upper bound become unchecked.
  void Finish();

  const std::vector<TimeAxisFinding>& findings() const { return findings_; }
  const TimeAxisSummary& summary() const { return summary_; }

 private:
  struct Pending {
    uint64_t seq;
    double start, end;
    bool has_lower;
    bool outside;  // already found below its lower bound
    bool billed;
  };
  // Applies a verified upper bound (line `stamped_seq` existed at `t`).
  void ApplyUpper(uint64_t stamped_seq, double t, double tolerance, const std::string& tsa,
                  uint64_t token_seq);
  // Counts one period whose fate is known.
  void Resolve(const Pending& p, bool checked);
  double Clipped(double start, double end) const;

  TimeAxisOptions options_;
  std::deque<std::pair<uint64_t, std::string>> hashes_;  // recent lines: seq, raw SHA-256
  std::deque<Pending> pending_;                          // periods waiting for an upper bound, seq order
  std::optional<double> lower_;                          // latest verified genTime carried by a line
  uint64_t lower_seq_ = 0;                               // the line that carried it
  double lower_tolerance_ = 0;
  double run_seconds_ = 0;  // current run of unchecked periods
  uint64_t run_first_ = 0;
  size_t slow_finding_ = SIZE_MAX;  // index of the open "clock ran slow" finding
  uint64_t slow_lower_seq_ = 0;     // the token line it is about
  bool warned_no_anchors_ = false;
  std::set<std::string> warned_tsas_;
  std::vector<TimeAxisFinding> findings_;
  TimeAxisSummary summary_;
};

}  // namespace resmeter
