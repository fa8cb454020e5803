#include "tsa/time_axis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/base64url.h"
#include "tsa/timestamp_verifier.h"

namespace resmeter {

namespace {

// Line hashes kept for matching stamps (a token arrives seconds after its line).
constexpr size_t kHashWindow = 65536;
// Periods kept waiting for an upper bound; older ones become unchecked.
constexpr size_t kMaxPending = 1 << 20;

std::string Seconds(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string Seq(uint64_t s) { return "seq " + std::to_string(s); }

}  // namespace

TimeAxisChecker::TimeAxisChecker(TimeAxisOptions options) : options_(std::move(options)) {}

double TimeAxisChecker::Clipped(double start, double end) const {
  if (options_.from_unix_seconds) start = std::max(start, *options_.from_unix_seconds);
  if (options_.to_unix_seconds) end = std::min(end, *options_.to_unix_seconds);
  return std::max(0.0, end - start);
}

void TimeAxisChecker::OnLine(uint64_t seq, const unsigned char sha256[32]) {
  hashes_.emplace_back(seq, std::string(reinterpret_cast<const char*>(sha256), 32));
  if (hashes_.size() > kHashWindow) hashes_.pop_front();
}

void TimeAxisChecker::Resolve(const Pending& p, bool checked) {
  if (!p.billed) return;
  const double seconds = Clipped(p.start, p.end);
  if (checked) {
    summary_.checked_seconds += seconds;
    run_seconds_ = 0;
    run_first_ = 0;
    return;
  }
  summary_.unchecked_seconds += seconds;
  if (run_first_ == 0) run_first_ = p.seq;
  run_seconds_ += seconds;
  if (run_seconds_ > summary_.longest_unchecked_seconds) {
    summary_.longest_unchecked_seconds = run_seconds_;
    summary_.first_unchecked_seq = run_first_;
  }
}

void TimeAxisChecker::OnPeriod(uint64_t seq, double start, double end, bool billed) {
  Pending p{seq, start, end, lower_.has_value(), false, billed};
  if (lower_ && end < *lower_ - lower_tolerance_) {
    // Written after the token of lower_seq_ existed, yet it says it ended before: a slow clock.
    p.outside = true;
    ++summary_.periods_outside;
    if (slow_finding_ < findings_.size() && slow_lower_seq_ == lower_seq_) {
      findings_[slow_finding_].seq_end = seq;  // one finding per token: its first statement, and the last
    } else {
      slow_finding_ = findings_.size();
      slow_lower_seq_ = lower_seq_;
      findings_.push_back({"time_bracket", true, seq, seq,
                           Seq(seq) + " ends at " + Seconds(end) + ", " + Seconds(*lower_ - end) +
                               " s before the TSA time " + Seconds(*lower_) + " of the token in " +
                               Seq(lower_seq_) +
                               ", which it follows: the agent's clock ran slow (tolerance " +
                               Seconds(lower_tolerance_) + " s)"});
    }
  }
  pending_.push_back(p);
  if (pending_.size() > kMaxPending) {
    Resolve(pending_.front(), false);
    pending_.pop_front();
  }
}

void TimeAxisChecker::ApplyUpper(uint64_t stamped_seq, double t, double tolerance, const std::string& tsa,
                                 uint64_t token_seq) {
  uint64_t outside = 0, first = 0, last = 0;
  double first_end = 0;
  while (!pending_.empty() && pending_.front().seq <= stamped_seq) {
    const Pending p = pending_.front();
    pending_.pop_front();
    bool ok = p.has_lower && !p.outside;
    if (p.end > t + tolerance) {
      ok = false;
      ++summary_.periods_outside;
      if (outside++ == 0) {
        first = p.seq;
        first_end = p.end;
      }
      last = p.seq;
    }
    Resolve(p, ok);
  }
  if (outside > 0) {
    findings_.push_back({"time_bracket", true, first, last,
                         Seq(first) + " ends at " + Seconds(first_end) + ", " + Seconds(first_end - t) +
                             " s after TSA " + tsa + " stamped " + Seq(stamped_seq) + " at " + Seconds(t) +
                             " (token in " + Seq(token_seq) + "): the agent's clock ran fast (tolerance " +
                             Seconds(tolerance) + " s); " + std::to_string(outside) + " period" +
                             (outside == 1 ? "" : "s") + " outside up to " + Seq(last)});
  }
}

void TimeAxisChecker::OnTimestamp(uint64_t seq, uint64_t stamped_seq, const std::string& stamped_sha256_hex,
                                  const std::string& tsa, const std::string& nonce_hex,
                                  const std::string& token_base64url) {
  ++summary_.tokens;
  const std::string at = Seq(seq) + ": token of TSA " + tsa + " for " + Seq(stamped_seq);
  if (options_.anchors.empty()) {
    if (!warned_no_anchors_) {
      warned_no_anchors_ = true;
      findings_.push_back({"timestamp_unchecked", false, seq, seq,
                           "the ledger carries TSA tokens but no TSA anchor is configured (" +
                               options_.anchors.source() + "): its time axis is not checked"});
    }
    return;
  }
  // The stamped hash must be the hash of the line the statement names.
  std::string line_hash;
  for (auto it = hashes_.rbegin(); it != hashes_.rend(); ++it) {
    if (it->first == stamped_seq) {
      line_hash = it->second;
      break;
    }
    if (it->first < stamped_seq) break;
  }
  std::string line_hex;
  for (unsigned char c : line_hash) {
    static const char kDigits[] = "0123456789abcdef";
    line_hex += kDigits[c >> 4];
    line_hex += kDigits[c & 15];
  }
  if (line_hash.empty() || line_hex != stamped_sha256_hex) {
    ++summary_.tokens_rejected;
    findings_.push_back({"timestamp_mismatch", true, seq, seq,
                         at + ": " +
                             (line_hash.empty() ? "that line is not in the audited chain (or too far back)"
                                                : "stamped_sha256 is not that line's hash")});
    return;
  }
  auto der = Base64UrlDecode(token_base64url);
  if (!der) {
    ++summary_.tokens_rejected;
    findings_.push_back({"timestamp_token", true, seq, seq, at + " rejected: not base64url"});
    return;
  }
  auto verified = VerifyTimestampToken(*der, {line_hash, nonce_hex}, options_.anchors);
  if (!verified.ok()) {
    ++summary_.tokens_rejected;
    findings_.push_back(
        {"timestamp_token", true, seq, seq, at + " rejected: " + verified.status().message()});
    return;
  }
  const std::string& subject = verified->signer_subject;
  const auto& accepted = options_.accepted_tsas;
  if (!accepted.empty() && !TsaSignerListed(subject, accepted)) {
    ++summary_.tokens_ignored;
    if (warned_tsas_.insert(subject).second) {
      findings_.push_back(
          {"timestamp_tsa", false, seq, seq,
           at + ": signed by \"" + subject + "\", not a TSA the policy requires; not counted"});
    }
    return;
  }
  ++summary_.tokens_verified;
  summary_.signers.insert(subject);
  const double t = verified->info.gen_time_unix_seconds;
  const double tolerance = options_.tolerance_seconds + std::max(0.0, verified->info.accuracy_seconds);
  ApplyUpper(stamped_seq, t, tolerance, tsa, seq);
  if (!lower_ || t > *lower_) {
    lower_ = t;
    lower_seq_ = seq;
    lower_tolerance_ = tolerance;
  }
}

void TimeAxisChecker::Finish() {
  while (!pending_.empty()) {
    Resolve(pending_.front(), false);
    pending_.pop_front();
  }
}

}  // namespace resmeter
