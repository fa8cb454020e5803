#include "ledger/ledger_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "ledger/ledger_statement.h"

namespace resmeter {
namespace {
constexpr size_t kChunkBytes = 1 << 20;
}  // namespace

LedgerReader::LedgerReader(std::vector<std::string> files) : files_(std::move(files)) {}

LedgerReader::~LedgerReader() {
  if (fd_ >= 0) ::close(fd_);
}

Status LedgerReader::OpenNext() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  file_index_ = next_file_++;
  const std::string& path = files_[file_index_];
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::FromErrno("cannot open " + path, errno);
  }
  eof_ = false;
  buf_.clear();
  pos_ = 0;
  line_number_ = 0;
  skipping_long_ = false;
  return Status::Ok();
}

// Appends up to one chunk to buf_ (dropping consumed bytes first); sets eof_.
Status LedgerReader::Fill() {
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  const size_t old = buf_.size();
  buf_.resize(old + kChunkBytes);
  ssize_t n;
  do {
    n = ::read(fd_, buf_.data() + old, kChunkBytes);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    buf_.resize(old);
    return Status::FromErrno("cannot read " + files_[file_index_], errno);
  }
  buf_.resize(old + static_cast<size_t>(n));
  if (n == 0) eof_ = true;
  return Status::Ok();
}

Result<bool> LedgerReader::Next(LedgerLine* out) {
  for (;;) {
    if (fd_ < 0 || (eof_ && pos_ >= buf_.size())) {
      if (next_file_ >= files_.size()) return false;
      RESMETER_RETURN_IF_ERROR(OpenNext());
    }
    const size_t nl = buf_.find('\n', pos_);
    if (nl == std::string::npos) {
      if (buf_.size() - pos_ > kMaxLedgerLineBytes) {  // drop the overlong line's bytes as they come
        if (!skipping_long_) {
          skipping_long_ = true;
          ++line_number_;
          *out = LedgerLine{{}, file_index_, line_number_, true, true};
          pos_ = buf_.size();
          return true;
        }
        pos_ = buf_.size();
      }
      if (!eof_) {
        RESMETER_RETURN_IF_ERROR(Fill());
        continue;
      }
      if (pos_ >= buf_.size()) continue;  // the file ended on a newline
      if (skipping_long_) {
        pos_ = buf_.size();
        continue;
      }
      ++line_number_;
      *out = LedgerLine{std::string_view(buf_).substr(pos_), file_index_, line_number_, false, false};
      pos_ = buf_.size();
      return true;
    }
    if (skipping_long_) {  // the rest of an overlong line
      skipping_long_ = false;
      pos_ = nl + 1;
      continue;
    }
    ++line_number_;
    const size_t len = nl - pos_;
    if (len > kMaxLedgerLineBytes) {
      *out = LedgerLine{{}, file_index_, line_number_, true, true};
    } else {
      *out = LedgerLine{std::string_view(buf_).substr(pos_, len), file_index_, line_number_, true, false};
    }
    pos_ = nl + 1;
    return true;
  }
}

}  // namespace resmeter
