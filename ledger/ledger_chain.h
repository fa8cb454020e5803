// LedgerChain: the one walk over a v2 usage ledger that both the writer's
// recovery and the audit use. It reads the ledger files from the start and
// judges every line: does it parse, does its signature verify under the key
// its `kid` names (an epoch statement declares its own key and is signed by
// it; every other statement must be signed by the key of the current epoch),
// and does it link (seq = last + 1, prev = SHA-256 of the last line).
//
// A line is *authentic* when it parses and its signature verifies under the
// current epoch's key (epoch statements: under the key they declare, which
// must be the key named by their kid; the first epoch key is self-declared;
// evidence is appraised by the audit and the writer's recovery with
// ledger/ledger_epoch_evidence.h, not here). An authentic line with a
// higher seq advances the head even when its link is broken (the break is
// reported), so one deleted line is one finding. The writer stops at the
// first line that is not fully accepted (or at an epoch whose evidence it
// rejects) and adopts the line before it as head.
//
// Signatures of a batch of lines are verified on `threads` threads; the
// chain rules then run in line order. A LedgerChain is not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "jose/jwk.h"
#include "ledger/ledger_statement.h"

namespace resmeter {

// Why a line is not (fully) accepted.
enum class LedgerLineVerdict {
  kAccepted,      // authentic and linked
  kMalformed,     // does not parse (or is over the length limit)
  kOldVersion,    // a v1 line
  kTorn,          // the last line of a file without its newline
  kUnknownKey,    // its kid names no key declared by an epoch statement
  kBadSignature,  // the signature does not verify under the named key
  kWrongKey,      // signed by a declared key that is not the current epoch's
  kBadEpoch,      // an epoch statement that does not declare its own key properly
  kMissing,       // authentic, but statements before it are missing (head advanced)
  kBrokenLink,    // authentic, but prev is not the last line's hash, or it follows rejected lines (head
                  // advanced)
  kDuplicate,     // the same statement again
  kOutOfOrder,    // a seq at or below the head that is not a copy of it
};

// "accepted", "malformed", ... (the audit's finding kinds).
const char* LedgerLineVerdictName(LedgerLineVerdict v);

// One line as read.
struct LedgerChainLine {
  std::string text;         // without the newline (empty when too long)
  uint32_t file = 0;        // index into the files walked
  uint64_t line = 0;        // 1-based within its file
  uint64_t end_offset = 0;  // byte offset just after its newline in its file (0 when unknown)
  bool complete = true;     // false: the file ends without a newline after it
  bool too_long = false;
};

// What the walk decided about one line.
struct LedgerChainStep {
  LedgerLineVerdict verdict = LedgerLineVerdict::kMalformed;
  std::string why;  // one line naming seq and file:line, when not accepted
  bool parsed = false;
  LedgerStatement statement;  // when parsed
  bool advanced = false;      // became the new head (authentic, higher seq)
  unsigned char hash[32] = {};
};

// An epoch the walk accepted into the chain.
struct LedgerChainEpoch {
  uint64_t seq = 0;
  std::string kid;
  std::shared_ptr<const PublicKey> key;
  std::string prev;  // hex prev of the epoch statement: its evidence nonce (genesis: none)
};

class LedgerChain {
 public:
  // `threads`: 0 uses every core.
  explicit LedgerChain(unsigned threads = 1);

  // Judges `lines` (consecutive, in file order, after every line given
  // before) and calls `visit` for each in order; stops early when visit
  // returns false (the rest of the batch is not judged). Returns false then.
  bool Walk(const std::vector<LedgerChainLine>& lines,
            const std::function<bool(const LedgerChainLine&, const LedgerChainStep&)>& visit);

  bool has_head() const { return has_head_; }
  uint64_t last_seq() const { return last_seq_; }
  const unsigned char* head_hash() const { return head_; }
  // The epochs advanced into the chain, in order.
  const std::vector<LedgerChainEpoch>& epochs() const { return epochs_; }

 private:
  // Chain rules for one pre-judged line; updates the head.
  void Judge(const LedgerChainLine& line, LedgerChainStep& step);

  unsigned threads_;
  std::map<std::string, std::shared_ptr<const PublicKey>> declared_;  // kid -> key, from epoch lines seen
  std::vector<LedgerChainEpoch> epochs_;
  std::set<uint64_t> rejected_;  // seqs of parsed lines rejected since the head last advanced
  bool has_head_ = false;
  uint64_t last_seq_ = 0;
  unsigned char head_[32] = {};
};

// Streams `files` (paths, in chain order) through `chain` in batches; `visit`
// as in LedgerChain::Walk. Returns false when visit stopped the walk, true at
// the end; IOError / NotFound naming the file.
Result<bool> WalkLedgerFiles(
    const std::vector<std::string>& files, LedgerChain& chain,
    const std::function<bool(const LedgerChainLine&, const LedgerChainStep&)>& visit);

}  // namespace resmeter
