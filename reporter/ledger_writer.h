// LedgerWriter: appends statements to the usage ledger in a directory
// (file naming in reporter/ledger_files.h), one write(2) per line on an
// O_APPEND file followed by fsync, so a statement is durable when Append*
// returns.
//
// Open() recovers: bytes after the last complete, parseable statement (a
// torn append) are cut off and counted; statements already written are never
// rewritten; then a signed restart marker records the gap between the last
// period and now. A signed checkpoint is written every `checkpoint_every`
// usage statements, before each rotation and at Close(). The chain continues
// across files: rotation starts a new file named after the next seq.
//
// One writer per directory (an exclusive flock on <dir>/LOCK). Not
// thread-safe: callers serialize. After a failed write the writer refuses
// further appends; reopen it to recover.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "core/signer.h"
#include "reporter/ledger_statement.h"

namespace resmeter {

struct LedgerWriterOptions {
  std::string dir;                             // created (mode 0700) when missing
  uint64_t max_file_bytes = 64ull * 1024 * 1024;  // rotate once a file reaches this size
  uint32_t checkpoint_every = 60;              // usage statements per signed checkpoint; 0: none on a count
  bool sync = true;                            // fsync every append; false only for test data generators
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
  uint64_t last_seq = 0;       // last statement before the restart marker (0: none)
  bool clean = false;          // the previous run ended with a shutdown checkpoint
  uint64_t torn_bytes = 0;     // bytes cut off after the last statement
  std::string torn_file;       // the file they were cut from
  uint64_t restart_seq = 0;    // seq of the restart marker written
  double gap_seconds = 0;      // time between the last period's end and now
};

class LedgerWriter {
 public:
  // Opens (or creates) the ledger, recovers it and appends a restart marker.
  // `signer` must stay valid for the writer's life. Errors: IOError,
  // PermissionDenied (locked by another writer), Corruption (no valid
  // statement found where one must be; nothing is cut then).
  static Result<std::unique_ptr<LedgerWriter>> Open(const LedgerWriterOptions& options,
                                                    std::shared_ptr<const Signer> signer, const LedgerClock& clock);
  ~LedgerWriter();
  LedgerWriter(const LedgerWriter&) = delete;
  LedgerWriter& operator=(const LedgerWriter&) = delete;

  // Appends a usage statement (and a checkpoint when one is due); returns its
  // seq once durable. InvalidArgument for a period that ends before it starts.
  Result<uint64_t> AppendUsage(const LedgerUsage& usage);
  // Appends a signed checkpoint of the current chain head; returns its seq.
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
  // Finds the last statement, cuts a torn end, appends the restart marker.
  Status Recover(const LedgerClock& clock);
  // Makes `path` the file appends go to (created if missing).
  Status OpenCurrent(const std::string& path);
  // Seals the current file with a rotation checkpoint and starts the next one when it is full.
  Status RotateIfNeeded();
  // Writes line + newline with one write(2) (retried on short writes) and syncs.
  Status WriteLine(const std::string& line);
  // Chains, seals, writes and syncs one statement; returns its seq.
  Result<uint64_t> Append(LedgerStatement s);
  // A statement of `kind` with the next seq, the current head as prev, and our kid.
  LedgerStatement Next(LedgerKind kind) const;

  LedgerWriterOptions options_;
  std::shared_ptr<const Signer> signer_;
  std::string kid_;
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
