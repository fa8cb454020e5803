// LedgerWriter: appends statements to the usage ledger v2 in a directory
// (file naming in ledger/ledger_files.h), one write(2) per line on an
// O_APPEND file followed by fsync, so a statement is durable when Append*
// returns. Every statement is signed with the writer's key (one key per
// writer: the agent's ephemeral key of this start).
//
// Open() recovers with the walk the audit uses (ledger/ledger_chain.h): it
// reads the chain from the start and adopts as head only the last statement
// that is authentic and linked, and appraises every epoch statement's evidence
// as the audit does (ledger/ledger_epoch_evidence.h). Everything after the
// head (a torn append, edited, foreign or unsigned lines, invented statements,
// an epoch whose evidence does not verify: forged, replayed or "none" outside
// development mode) is cut off: copied to
// <dir>/cut-<seq>.bin, removed from the ledger, never billed; its size and
// SHA-256 go into the new epoch statement. Accepted statements are never
// rewritten. Then the epoch statement names the new key, its evidence (bound
// to SHA-512(kid || raw SHA-256 of the head line)), the cut and the gap
// between the last period and now. A signed checkpoint closes each file at
// rotation and the ledger at Close(). A directory holding a v1 ledger is
// refused (archive it first).
//
// The directory is opened with core/safe_dir.h's checks (0700, our uid, not
// a symlink) and a ledger file, LOCK or cut file that is a symlink (or not a
// regular file) is refused before anything is read or written: its target
// is never truncated. Files are opened with openat(O_NOFOLLOW).
//
// One writer per directory (an exclusive flock on <dir>/LOCK). Not
// thread-safe: callers serialize. After a failed write the writer refuses
// further appends; reopen it to recover.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"
#include "core/safe_dir.h"
#include "core/signer.h"
#include "evidence/evidence_verifier.h"
#include "jose/key_origin.h"
#include "ledger/ledger_statement.h"

namespace resmeter {

struct LedgerWriterOptions {
  std::string dir;                                // created (mode 0700) when missing; see SafeDir::Open
  uint64_t max_file_bytes = 64ull * 1024 * 1024;  // rotate once a file reaches this size
  uint32_t checkpoint_every = 0;               // usage statements per extra checkpoint; 0: none on a count
  bool sync = true;                            // fsync every append; false only for test data generators
  std::string key_origin = std::string(kKeyOriginEphemeral);  // the signer's origin, stated in the epoch
  // Evidence for the epoch statement, bound to SHA-512(kid || nonce); nonce
  // is the raw SHA-256 of the head line ("" for a new ledger). Unset: "none"
  // evidence (development mode), which an audit rejects unless allowed.
  std::function<Result<nlohmann::json>(const std::string& kid, const std::string& nonce)> collect_evidence;
  // Recovery appraises each epoch statement's evidence under these options;
  // one that fails is not adopted (it and all after it are cut). Set
  // allow_none only when this writer's own evidence is "none" (development
  // mode); without collect_evidence it is implied. When an epoch fails and
  // this start's own evidence fails the same appraisal too (e.g. trust
  // anchors missing), Open() changes nothing and returns VerifyFailed.
  EvidenceVerifyOptions epoch_evidence;
};

// The time at which the writer starts, as the time source assessed it.
struct LedgerClock {
  double now_unix_seconds = 0;
  bool trusted = false;
  std::string reason;  // why not trusted
};

// What Open() found and did.
struct LedgerRecovery {
  bool new_ledger = false;
  uint64_t last_seq = 0;       // the adopted head (0: none)
  bool clean = false;          // the previous epoch ended with a shutdown checkpoint
  uint64_t cut_bytes = 0;      // bytes cut off after the head
  std::string cut_sha256;      // their SHA-256, hex ("" when none)
  std::string cut_file;        // the file the cut started in
  std::string cut_saved_to;    // where the cut bytes were kept
  std::string cut_reason;      // why the first line after the head was not accepted
  uint64_t epoch_seq = 0;      // seq of the epoch statement written
  double gap_seconds = 0;      // time between the last period's end and now
};

class LedgerWriter {
 public:
  // Opens (or creates) the ledger, recovers it and appends the epoch
  // statement. Errors: IOError, PermissionDenied (locked by another writer),
  // InvalidArgument (a v1 ledger is in the directory; nothing is changed),
  // the evidence collector's error, VerifyFailed (an epoch's evidence does
  // not verify and neither does this start's own; nothing is changed).
  static Result<std::unique_ptr<LedgerWriter>> Open(const LedgerWriterOptions& options,
                                                    std::shared_ptr<const Signer> signer, const LedgerClock& clock);
  ~LedgerWriter();
  LedgerWriter(const LedgerWriter&) = delete;
  LedgerWriter& operator=(const LedgerWriter&) = delete;

  // Appends a usage statement (and a checkpoint when one is due); returns its
  // seq once durable. InvalidArgument for a period that ends before it starts.
  Result<uint64_t> AppendUsage(const LedgerUsage& usage);
  // Appends a signed checkpoint; returns its seq.
  Result<uint64_t> Checkpoint(const std::string& reason);
  // Appends the shutdown checkpoint and closes; later appends fail. Idempotent.
  Status Close();

  const LedgerRecovery& recovery() const { return recovery_; }
  uint64_t last_seq() const { return last_seq_; }
  // Hex SHA-256 of the last line written (the next statement's prev).
  const std::string& head() const { return head_; }
  // The file appends go to now.
  const std::string& current_file() const { return current_path_; }

 private:
  LedgerWriter(const LedgerWriterOptions& options, std::shared_ptr<const Signer> signer);
  // Walks the chain, cuts what follows the head, appends the epoch statement.
  Status Recover(const LedgerClock& clock);
  // Moves bytes from (files[file], offset) to the end of the ledger into a
  // cut file and removes them; fills recovery_.cut_*.
  Status Cut(const std::vector<std::string>& files, size_t file, uint64_t offset, uint64_t next_seq);
  // Makes `path` the file appends go to (created if missing).
  Status OpenCurrent(const std::string& path);
  // Seals the current file with a rotation checkpoint and starts the next one when it is full.
  Status RotateIfNeeded();
  // Writes line + newline with one write(2) (retried on short writes) and syncs.
  Status WriteLine(const std::string& line);
  // Chains, seals, writes and syncs one statement (first rotating a full
  // file when `may_rotate`); returns its seq.
  Result<uint64_t> Append(LedgerStatement s, bool may_rotate = true);
  // A statement of `kind` with the next seq, the current head as prev, and our kid.
  LedgerStatement Next(LedgerKind kind) const;

  LedgerWriterOptions options_;
  std::shared_ptr<const Signer> signer_;
  std::string kid_;
  SafeDir dir_;  // options_.dir, checked; every file is opened relative to it without following links
  int lock_fd_ = -1;
  int fd_ = -1;
  std::string current_path_;
  uint64_t current_size_ = 0;
  uint64_t last_seq_ = 0;
  std::string head_;
  double last_end_ = 0;
  uint32_t since_checkpoint_ = 0;
  bool failed_ = false;
  bool closed_ = false;
  LedgerRecovery recovery_;
};

}  // namespace resmeter
