#include "reporter/ledger_writer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <vector>

#include "reporter/ledger_files.h"

namespace resmeter {
namespace {

// How far back from a file's end recovery looks for the last statement.
constexpr uint64_t kTailWindowBytes = 4 * kMaxLedgerLineBytes;

// A complete, parseable line found near the end of a file.
struct TailLine {
  LedgerStatement statement;
  std::string hash;
  uint64_t end_offset = 0;  // file offset just after its newline
};

// The end of one file: its valid statements in the tail window, in order,
// and where the valid part ends.
struct FileTail {
  std::vector<TailLine> lines;
  uint64_t size = 0;
  uint64_t keep_size = 0;  // bytes up to and including the last valid line
  bool window_covers_file = false;
};

// Reads exactly `n` bytes at `offset`.
Status PreadAll(int fd, const std::string& path, uint64_t offset, size_t n, std::string* out) {
  out->resize(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, out->data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::FromErrno("cannot read " + path, errno);
    if (r == 0) return Status::IOError(path + ": file shrank while reading");
    got += static_cast<size_t>(r);
  }
  return Status::Ok();
}

// Reads the tail window of `path` and finds its valid statements.
Result<FileTail> ReadTail(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::FromErrno("cannot stat " + path, errno);
  FileTail tail;
  tail.size = static_cast<uint64_t>(st.st_size);
  const uint64_t start = tail.size > kTailWindowBytes ? tail.size - kTailWindowBytes : 0;
  tail.window_covers_file = start == 0;
  std::string buf;
  RESMETER_RETURN_IF_ERROR(PreadAll(fd, path, start, tail.size - start, &buf));
  size_t pos = 0;
  if (start > 0) {  // the window may begin inside a line: skip to the first line start
    pos = buf.find('\n');
    pos = pos == std::string::npos ? buf.size() : pos + 1;
  }
  while (pos < buf.size()) {
    const size_t nl = buf.find('\n', pos);
    if (nl == std::string::npos) break;  // no newline: torn
    std::string_view text(buf.data() + pos, nl - pos);
    auto parsed = ParseLedgerLine(text);
    if (parsed.ok()) {
      tail.lines.push_back({std::move(*parsed), LedgerLineHash(text), start + nl + 1});
    }
    pos = nl + 1;
  }
  tail.keep_size = tail.lines.empty() ? start : tail.lines.back().end_offset;
  return tail;
}

// fsyncs a directory so a created or removed entry is durable.
Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open " + dir, errno);
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno("cannot sync " + dir, e);
  return Status::Ok();
}

}  // namespace

LedgerWriter::LedgerWriter(const LedgerWriterOptions& options, std::shared_ptr<const Signer> signer)
    : options_(options), signer_(std::move(signer)), kid_(signer_->Thumbprint()) {}

LedgerWriter::~LedgerWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<LedgerWriter>> LedgerWriter::Open(const LedgerWriterOptions& options,
                                                         std::shared_ptr<const Signer> signer,
                                                         const LedgerClock& clock) {
  if (!signer) return Status::InvalidArgument("ledger writer needs a signer");
  if (options.dir.empty()) return Status::InvalidArgument("ledger directory is empty");
  if (::mkdir(options.dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::FromErrno("cannot create ledger directory " + options.dir, errno);
  }
  std::unique_ptr<LedgerWriter> w(new LedgerWriter(options, std::move(signer)));
  const std::string lock_path = options.dir + "/LOCK";
  w->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (w->lock_fd_ < 0) return Status::FromErrno("cannot open " + lock_path, errno);
  if (::flock(w->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      return Status::PermissionDenied("ledger " + options.dir + " is in use by another writer");
    return Status::FromErrno("cannot lock " + lock_path, errno);
  }
  RESMETER_RETURN_IF_ERROR(w->Recover(clock));
  return w;
}

Status LedgerWriter::OpenCurrent(const std::string& path) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) return Status::FromErrno("cannot open ledger file " + path, errno);
  struct stat st;
  if (::fstat(fd_, &st) != 0) return Status::FromErrno("cannot stat " + path, errno);
  current_path_ = path;
  current_size_ = static_cast<uint64_t>(st.st_size);
  return SyncDir(options_.dir);
}

Status LedgerWriter::Recover(const LedgerClock& clock) {
  RESMETER_ASSIGN_OR_RETURN(std::vector<std::string> files, ListLedgerFiles(options_.dir));
  head_ = std::string(kLedgerGenesisPrev);
  bool have_end = false;
  std::string append_path;
  // Walk back from the newest file until the last statement (and the last
  // period end) are known. Only the newest non-empty file may be cut.
  bool found_last = false;
  for (size_t i = files.size(); i-- > 0 && !(found_last && have_end);) {
    const std::string& path = files[i];
    int fd = ::open(path.c_str(), found_last ? O_RDONLY | O_CLOEXEC : O_RDWR | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("cannot open ledger file " + path, errno);
    auto tail = ReadTail(fd, path);
    if (!tail.ok()) {
      ::close(fd);
      return tail.status();
    }
    if (!found_last && tail->keep_size < tail->size) {
      const uint64_t torn = tail->size - tail->keep_size;
      if (i + 1 < files.size()) {
        ::close(fd);
        return Status::Corruption(path + ": ends with " + std::to_string(torn) +
                                  " bytes that are not a statement, but a later ledger file exists");
      }
      if (tail->lines.empty() && !tail->window_covers_file) {
        ::close(fd);
        return Status::Corruption(path + ": no valid statement in its last " +
                                  std::to_string(kTailWindowBytes) +
                                  " bytes; refusing to cut it (repair by hand)");
      }
      if (::ftruncate(fd, static_cast<off_t>(tail->keep_size)) != 0 || ::fsync(fd) != 0) {
        int e = errno;
        ::close(fd);
        return Status::FromErrno("cannot cut the torn end of " + path, e);
      }
      recovery_.torn_bytes += torn;
      recovery_.torn_file = path;
    }
    ::close(fd);
    if (append_path.empty()) append_path = path;
    for (size_t k = tail->lines.size(); k-- > 0;) {
      const TailLine& line = tail->lines[k];
      if (!found_last) {
        found_last = true;
        last_seq_ = line.statement.seq;
        head_ = line.hash;
        recovery_.clean =
            line.statement.kind == LedgerKind::kCheckpoint && line.statement.reason == "shutdown";
      }
      if (line.statement.kind != LedgerKind::kCheckpoint) {
        last_end_ = line.statement.end_unix_seconds;
        have_end = true;
        break;
      }
    }
    if (!found_last && i + 1 < files.size()) {
      return Status::Corruption(path + ": holds no statement but a later ledger file exists");
    }
  }
  recovery_.new_ledger = !found_last;
  recovery_.last_seq = last_seq_;
  const uint64_t next_seq = last_seq_ + 1;
  // Append to the newest file unless it is empty and misnamed (a rotation cut short).
  if (!append_path.empty()) {
    auto first = ParseLedgerFileName(append_path.substr(append_path.rfind('/') + 1));
    struct stat st;
    if (::stat(append_path.c_str(), &st) == 0 && st.st_size == 0 && first && *first != next_seq) {
      if (::unlink(append_path.c_str()) != 0)
        return Status::FromErrno("cannot remove empty " + append_path, errno);
      append_path.clear();
    }
  }
  if (append_path.empty()) append_path = options_.dir + "/" + LedgerFileName(next_seq);
  RESMETER_RETURN_IF_ERROR(OpenCurrent(append_path));

  LedgerStatement marker = Next(LedgerKind::kRestart);
  marker.start_unix_seconds = have_end ? last_end_ : clock.now_unix_seconds;
  marker.end_unix_seconds = std::max(clock.now_unix_seconds, marker.start_unix_seconds);
  marker.time_trusted = clock.trusted;
  marker.time_reason = clock.reason;
  marker.torn_bytes = recovery_.torn_bytes;
  marker.clean = recovery_.new_ledger || recovery_.clean;
  marker.reason = recovery_.new_ledger ? "new ledger"
                  : recovery_.clean    ? "restart after shutdown"
                                       : "recovered after unclean stop";
  if (have_end && clock.now_unix_seconds < last_end_) {
    marker.reason +=
        "; clock is " + std::to_string(last_end_ - clock.now_unix_seconds) + " s behind the last period end";
  }
  recovery_.gap_seconds = marker.end_unix_seconds - marker.start_unix_seconds;
  RESMETER_ASSIGN_OR_RETURN(recovery_.restart_seq, Append(std::move(marker)));
  return Status::Ok();
}

LedgerStatement LedgerWriter::Next(LedgerKind kind) const {
  LedgerStatement s;
  s.seq = last_seq_ + 1;
  s.prev = head_;
  s.kind = kind;
  s.kid = kid_;
  return s;
}

Status LedgerWriter::RotateIfNeeded() {
  if (current_size_ < options_.max_file_bytes) return Status::Ok();
  // Seal the old file with a checkpoint, then continue the chain in a new one.
  LedgerStatement cp = Next(LedgerKind::kCheckpoint);
  cp.reason = "rotation";
  RESMETER_ASSIGN_OR_RETURN(std::string line, SealLedgerStatement(cp, *signer_));
  RESMETER_RETURN_IF_ERROR(WriteLine(line));
  last_seq_ = cp.seq;
  head_ = LedgerLineHash(line);
  since_checkpoint_ = 0;
  return OpenCurrent(options_.dir + "/" + LedgerFileName(last_seq_ + 1));
}

Status LedgerWriter::WriteLine(const std::string& line) {
  std::string bytes = line + "\n";
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failed_ = true;
      return Status::FromErrno("cannot append to " + current_path_, errno);
    }
    off += static_cast<size_t>(n);
  }
  if (options_.sync && ::fsync(fd_) != 0) {
    failed_ = true;
    return Status::FromErrno("cannot sync " + current_path_, errno);
  }
  current_size_ += bytes.size();
  return Status::Ok();
}

Result<uint64_t> LedgerWriter::Append(LedgerStatement s) {
  if (closed_) return Status::InvalidArgument("ledger writer is closed");
  if (failed_) return Status::IOError("ledger writer failed earlier; reopen it to recover");
  RESMETER_RETURN_IF_ERROR(RotateIfNeeded());
  s.seq = last_seq_ + 1;
  s.prev = head_;
  RESMETER_ASSIGN_OR_RETURN(std::string line, SealLedgerStatement(s, *signer_));
  RESMETER_RETURN_IF_ERROR(WriteLine(line));
  last_seq_ = s.seq;
  head_ = LedgerLineHash(line);
  if (s.kind != LedgerKind::kCheckpoint) last_end_ = s.end_unix_seconds;
  since_checkpoint_ = s.is_signed() ? 0 : since_checkpoint_ + 1;
  return s.seq;
}

Result<uint64_t> LedgerWriter::AppendUsage(const LedgerUsage& u) {
  if (!(u.end_unix_seconds >= u.start_unix_seconds)) {
    return Status::InvalidArgument("usage period ends (" + std::to_string(u.end_unix_seconds) +
                                   ") before it starts (" + std::to_string(u.start_unix_seconds) + ")");
  }
  LedgerStatement s = Next(LedgerKind::kUsage);
  static_cast<LedgerUsage&>(s) = u;
  RESMETER_ASSIGN_OR_RETURN(uint64_t seq, Append(std::move(s)));
  if (options_.checkpoint_every > 0 && since_checkpoint_ >= options_.checkpoint_every) {
    RESMETER_RETURN_IF_ERROR(Checkpoint("interval").status());
  }
  return seq;
}

Result<uint64_t> LedgerWriter::Checkpoint(const std::string& reason) {
  LedgerStatement cp = Next(LedgerKind::kCheckpoint);
  cp.reason = reason;
  return Append(std::move(cp));
}

Status LedgerWriter::Close() {
  if (closed_) return Status::Ok();
  auto cp = Checkpoint("shutdown");
  closed_ = true;
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  return cp.status();
}

}  // namespace resmeter
