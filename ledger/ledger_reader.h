// LedgerReader: streams the lines of one or more ledger files in order,
// with where each came from. It does not parse or judge them (that is the
// audit's job); it only splits bytes into lines, bounds their length and
// says whether the last one of a file lacks its newline (a torn append).
//
// Reads in 1 MiB chunks, so memory stays flat for any ledger size. Not
// thread-safe; one reader per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace resmeter {

struct LedgerLine {
  std::string_view text;  // without the newline; valid until the next Next()
  size_t file_index = 0;  // index into files()
  uint64_t line_number = 0;  // 1-based within its file
  bool complete = true;   // false: the file ends without a newline after it
  bool too_long = false;  // longer than kMaxLedgerLineBytes; text is empty
};

class LedgerReader {
 public:
  // Reads `files` (paths, in chain order) one after the other.
  explicit LedgerReader(std::vector<std::string> files);
  ~LedgerReader();
  LedgerReader(const LedgerReader&) = delete;
  LedgerReader& operator=(const LedgerReader&) = delete;

  // Produces the next line: true with *out set, false at the end of the last
  // file, or IOError / NotFound naming the file.
  Result<bool> Next(LedgerLine* out);
  const std::vector<std::string>& files() const { return files_; }

 private:
  Status OpenNext();
  Status Fill();

  std::vector<std::string> files_;
  size_t next_file_ = 0;
  size_t file_index_ = 0;
  int fd_ = -1;
  bool eof_ = true;
  std::string buf_;
  size_t pos_ = 0;  // start of unread data in buf_
  uint64_t line_number_ = 0;
  bool skipping_long_ = false;
};

}  // namespace resmeter
