// LedgerIndex: a sparse map seq -> (ledger file, byte offset) over a ledger
// directory a LedgerWriter has recovered, so that a page of statements from
// any seq is read by seeking near it: O(page), not O(ledger).
//
// It relies on what the writer's recovery guarantees: after LedgerWriter::Open
// every complete line in the files is an accepted statement, seq grows by one
// per line and each file's name carries the seq of its first line. Build()
// counts lines (it parses none) and keeps every kStride-th seq, each file's
// first line and the head (the end of the last complete line); Extend() scans
// only the bytes appended since and files created by rotation. Read() parses
// the first and the last line it serves and checks their seq; when one does
// not match (the files changed behind the writer), it answers from a full
// scan instead and stale() turns true until the next Build().
//
// Thread-safe: Build/Extend (the writer's thread) and Read (HTTP threads)
// may run at once; Read never waits for a scan's I/O.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/safe_dir.h"

namespace resmeter {

class LedgerIndex {
 public:
  static constexpr uint64_t kStride = 256;  // one mark per this many statements

  // Opens `dir` (SafeDir checks, not created) and indexes its ledger files
  // from scratch. IOError / PermissionDenied / NotFound from the directory.
  Status Build(const std::string& dir);
  // Indexes the lines appended since the last Build/Extend. REQUIRES: Build succeeded.
  Status Extend();
  // Up to max_lines complete lines with seq >= from, each ending in a
  // newline ("" when from is past the head). Without a successful Build it
  // scans the directory passed to Build.
  Result<std::string> Read(uint64_t from, size_t max_lines) const;

  // Marks kept (each file's first line and every kStride-th seq).
  size_t marks() const;
  // True after a Read found the files disagreeing with the index.
  bool stale() const { return stale_.load(); }

 private:
  struct File {
    std::string name;
    uint64_t first_seq = 0;
  };
  struct Mark {
    uint64_t seq = 0;     // the statement whose line starts at `offset`
    size_t file = 0;      // index into files
    uint64_t offset = 0;  // byte offset of the line in its file
  };
  struct State {
    std::vector<File> files;
    std::vector<Mark> marks;   // sorted by seq
    uint64_t scan_offset = 0;  // end of the last complete line of files.back()
    uint64_t scan_seq = 0;     // seq of the line that will start there (the head + 1)
  };
  // Scans `dir` from s's frontier to the end of the ledger, adding marks.
  static Status Scan(const SafeDir& dir, State* s);

  mutable std::mutex mu_;
  std::string path_;                    // the directory given to Build
  std::shared_ptr<const SafeDir> dir_;  // null until a Build succeeds
  State state_;
  mutable std::atomic<bool> stale_{false};
};

// Up to max_lines complete lines with seq >= from from the ledger files
// `paths` (chain order), by reading and parsing every line: the reference
// the index is checked against, and its fallback.
Result<std::string> ScanLedgerLines(const std::vector<std::string>& paths, uint64_t from, size_t max_lines);

}  // namespace resmeter
