#include "core/untrusted_json.h"
#include "ledger/ledger_chain.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/strings.h"
#include "ledger/ledger_reader.h"

namespace resmeter {
namespace {

// Lines judged per batch (bounds memory; each batch is verified in parallel).
constexpr size_t kBatchLines = 4096;

// Runs fn(i) for i in [0, n) on up to `threads` threads, in contiguous slices.
template <typename Fn>
void ParallelFor(size_t n, unsigned threads, const Fn& fn) {
  if (threads <= 1 || n < 64) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  const unsigned used = static_cast<unsigned>(std::min<size_t>(threads, n / 32));
  std::vector<std::thread> pool;
  pool.reserve(used);
  for (unsigned t = 0; t < used; ++t) {
    pool.emplace_back([&, t] {
      for (size_t i = n * t / used, end = n * (t + 1) / used; i < end; ++i) fn(i);
    });
  }
  for (auto& th : pool) th.join();
}

std::string Where(const std::string& file_hint, const LedgerChainLine& l) {
  return file_hint + "line " + std::to_string(l.line);
}

}  // namespace

const char* LedgerLineVerdictName(LedgerLineVerdict v) {
  switch (v) {
    case LedgerLineVerdict::kAccepted:
      return "accepted";
    case LedgerLineVerdict::kMalformed:
      return "malformed";
    case LedgerLineVerdict::kOldVersion:
      return "old_version";
    case LedgerLineVerdict::kTorn:
      return "torn_line";
    case LedgerLineVerdict::kUnknownKey:
      return "unknown_key";
    case LedgerLineVerdict::kBadSignature:
      return "bad_signature";
    case LedgerLineVerdict::kWrongKey:
      return "wrong_key";
    case LedgerLineVerdict::kBadEpoch:
      return "bad_epoch";
    case LedgerLineVerdict::kMissing:
      return "missing";
    case LedgerLineVerdict::kBrokenLink:
      return "broken_link";
    case LedgerLineVerdict::kDuplicate:
      return "duplicate";
    case LedgerLineVerdict::kOutOfOrder:
      return "out_of_order";
  }
  return "?";
}

LedgerChain::LedgerChain(unsigned threads)
    : threads_(threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : threads) {}

bool LedgerChain::Walk(const std::vector<LedgerChainLine>& lines,
                       const std::function<bool(const LedgerChainLine&, const LedgerChainStep&)>& visit) {
  std::vector<LedgerChainStep> steps(lines.size());
  // Parse and hash (parallel).
  ParallelFor(lines.size(), threads_, [&](size_t i) {
    const LedgerChainLine& l = lines[i];
    LedgerChainStep& st = steps[i];
    const std::string at = Where("", l);
    if (l.too_long) {
      st.why = at + ": longer than " + std::to_string(kMaxLedgerLineBytes) + " bytes";
      return;
    }
    LedgerLineHashRaw(l.text, st.hash);
    auto parsed = ParseLedgerLine(l.text);
    if (!l.complete) {
      st.verdict = LedgerLineVerdict::kTorn;
      st.why =
          at + " (" + std::to_string(l.text.size()) + " bytes) lacks its newline: an append was interrupted";
      if (parsed.ok()) {
        st.parsed = true;
        st.statement = std::move(*parsed);
      }
      return;
    }
    if (!parsed.ok()) {
      const bool old = StartsWith(parsed.status().message(), "'v' is 1");
      st.verdict = old ? LedgerLineVerdict::kOldVersion : LedgerLineVerdict::kMalformed;
      st.why = at + ": not a ledger statement: " + parsed.status().message();
      return;
    }
    st.parsed = true;
    st.statement = std::move(*parsed);
    st.verdict = LedgerLineVerdict::kAccepted;  // provisional: signature and chain follow
  });
  // Keys declared by epoch statements (sequential: later lines may use them).
  for (size_t i = 0; i < lines.size(); ++i) {
    LedgerChainStep& st = steps[i];
    if (st.verdict != LedgerLineVerdict::kAccepted || st.statement.kind != LedgerKind::kEpoch) continue;
    const LedgerStatement& s = st.statement;
    const std::string at = "seq " + std::to_string(s.seq) + " (" + Where("", lines[i]) + ")";
    nlohmann::json jwk = ParseUntrustedJsonOrDiscarded(s.jwk);
    auto key = PublicKey::FromJwk(jwk);
    if (jwk.is_discarded() || !key.ok()) {
      st.verdict = LedgerLineVerdict::kBadEpoch;
      st.why = "epoch statement " + at + ": 'jwk' is not a public key: " +
               (key.ok() ? std::string("not JSON") : key.status().message());
    } else if ((*key)->thumbprint() != s.kid) {
      st.verdict = LedgerLineVerdict::kBadEpoch;
      st.why = "epoch statement " + at + ": its kid " + s.kid + " is not the thumbprint of its jwk (" +
               (*key)->thumbprint() + ")";
    } else {
      declared_.try_emplace(s.kid, *key);
    }
  }
  // Signatures (parallel; declared_ is only read here).
  ParallelFor(lines.size(), threads_, [&](size_t i) {
    LedgerChainStep& st = steps[i];
    if (st.verdict != LedgerLineVerdict::kAccepted) return;
    const LedgerStatement& s = st.statement;
    const std::string at = "seq " + std::to_string(s.seq) + " (" + Where("", lines[i]) + ")";
    auto it = declared_.find(s.kid);
    if (it == declared_.end()) {
      st.verdict = LedgerLineVerdict::kUnknownKey;
      st.why = at + " is signed by kid " + s.kid + ", which no epoch statement before it declares";
      return;
    }
    Status v = VerifyLedgerSignature(lines[i].text, *it->second);
    if (!v.ok()) {
      st.verdict = LedgerLineVerdict::kBadSignature;
      st.why = at + ": signature does not verify (forged or altered): " + v.message();
    }
  });
  for (size_t i = 0; i < lines.size(); ++i) {
    Judge(lines[i], steps[i]);
    const LedgerChainStep& st = steps[i];
    if (st.parsed && !st.advanced && (!has_head_ || st.statement.seq > last_seq_) &&
        rejected_.size() < 100000) {
      rejected_.insert(st.statement.seq);
    }
    if (!visit(lines[i], st)) return false;
  }
  return true;
}

void LedgerChain::Judge(const LedgerChainLine& line, LedgerChainStep& st) {
  if (st.verdict != LedgerLineVerdict::kAccepted) return;
  const LedgerStatement& s = st.statement;
  const std::string at = "seq " + std::to_string(s.seq) + " (" + Where("", line) + ")";
  const LedgerChainEpoch* current = epochs_.empty() ? nullptr : &epochs_.back();
  if (s.kind != LedgerKind::kEpoch) {
    if (!current || s.kid != current->kid) {
      st.verdict = LedgerLineVerdict::kWrongKey;
      st.why =
          at + " is signed by kid " + s.kid + ", not by the key of the current epoch" +
          (current ? " (seq " + std::to_string(current->seq) + ", kid " + current->kid + ")" : " (none yet)");
      return;
    }
  } else if (s.prev_epoch_kid != (current ? current->kid : std::string())) {
    st.verdict = LedgerLineVerdict::kBadEpoch;
    st.why = "epoch statement " + at + " names prev_epoch_kid '" + s.prev_epoch_kid +
             "', but the current epoch's kid is '" + (current ? current->kid : std::string()) + "'";
    return;
  }
  const std::string head_hex = has_head_
                                   ? HexEncode(std::string_view(reinterpret_cast<const char*>(head_), 32))
                                   : std::string(kLedgerGenesisPrev);
  if (has_head_ && s.seq <= last_seq_) {
    const bool same = s.seq == last_seq_ && std::memcmp(st.hash, head_, 32) == 0;
    st.verdict = same ? LedgerLineVerdict::kDuplicate : LedgerLineVerdict::kOutOfOrder;
    st.why = same ? at + " appears again (a copy of the statement before)"
                  : at + " comes after seq " + std::to_string(last_seq_) + " (reordered, replayed or forked)";
    return;
  }
  const uint64_t expected = has_head_ ? last_seq_ + 1 : 1;
  const std::string range =
      "seq " + std::to_string(expected) + (s.seq - 1 > expected ? ".." + std::to_string(s.seq - 1) : "");
  // Lines before it that are present but were rejected (already reported)
  // break the link; lines that are absent are missing.
  bool rejected_present = s.seq > expected && s.seq - expected <= rejected_.size();
  for (uint64_t q = expected; rejected_present && q < s.seq; ++q) rejected_present = rejected_.count(q) > 0;
  if (s.seq > expected && !rejected_present) {
    st.verdict = LedgerLineVerdict::kMissing;
    st.why = range + " missing (deleted) before " + at;
  } else if (rejected_present) {
    st.verdict = LedgerLineVerdict::kBrokenLink;
    st.why = at + " follows rejected " + range + ", not " +
             (has_head_ ? "seq " + std::to_string(last_seq_) : std::string("the start of the ledger"));
  } else if (s.prev != head_hex) {
    st.verdict = LedgerLineVerdict::kBrokenLink;
    st.why = at + ": prev is not the SHA-256 of " +
             (has_head_ ? "seq " + std::to_string(last_seq_) + " (it, or this line, was altered)"
                        : "nothing (seq 1 must have prev 0)");
  }
  st.advanced = true;
  rejected_.clear();
  has_head_ = true;
  last_seq_ = s.seq;
  std::memcpy(head_, st.hash, 32);
  if (s.kind == LedgerKind::kEpoch) epochs_.push_back({s.seq, s.kid, declared_.at(s.kid), s.prev});
}

Result<bool> WalkLedgerFiles(
    const std::vector<std::string>& files, LedgerChain& chain,
    const std::function<bool(const LedgerChainLine&, const LedgerChainStep&)>& visit) {
  LedgerReader reader(files);
  std::vector<LedgerChainLine> batch;
  batch.reserve(kBatchLines);
  LedgerLine line;
  size_t file = files.size();
  uint64_t offset = 0;
  bool offset_known = true;
  for (;;) {
    RESMETER_ASSIGN_OR_RETURN(bool more, reader.Next(&line));
    if (more) {
      if (line.file_index != file) {
        file = line.file_index;
        offset = 0;
        offset_known = true;
      }
      LedgerChainLine l;
      l.text.assign(line.text);
      l.file = static_cast<uint32_t>(line.file_index);
      l.line = line.line_number;
      l.complete = line.complete;
      l.too_long = line.too_long;
      if (line.too_long) offset_known = false;
      offset += line.text.size() + (line.complete ? 1 : 0);
      l.end_offset = offset_known ? offset : 0;
      batch.push_back(std::move(l));
    }
    if (batch.size() >= kBatchLines || (!more && !batch.empty())) {
      if (!chain.Walk(batch, visit)) return false;
      batch.clear();
    }
    if (!more) return true;
  }
}

}  // namespace resmeter
