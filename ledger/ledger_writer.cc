#include "ledger/ledger_writer.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/strings.h"
#include "evidence/evidence.h"
#include "evidence/evidence_none.h"
#include "ledger/ledger_chain.h"
#include "ledger/ledger_epoch_evidence.h"
#include "ledger/ledger_files.h"

namespace resmeter {
namespace {

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

// Writes all of `bytes` to fd.
Status WriteAll(int fd, const std::string& path, std::string_view bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::FromErrno("cannot write " + path, errno);
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// File name without its directory.
std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

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
  // Ours alone (0700, our uid, no symlink), and no planted link among its files.
  auto dir = SafeDir::Open(options.dir, 0700);
  if (!dir.ok()) return dir.status().WithContext("ledger directory");
  RESMETER_RETURN_IF_ERROR(CheckLedgerDirEntries(*dir));
  std::unique_ptr<LedgerWriter> w(new LedgerWriter(options, std::move(signer)));
  w->dir_ = std::move(*dir);
  const std::string lock_path = options.dir + "/LOCK";
  RESMETER_ASSIGN_OR_RETURN(UniqueFd lock, w->dir_.OpenFileAt("LOCK", O_RDWR | O_CREAT, 0600));
  w->lock_fd_ = lock.release();
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
  fd_ = -1;
  RESMETER_ASSIGN_OR_RETURN(UniqueFd file,
                            dir_.OpenFileAt(BaseName(path), O_WRONLY | O_APPEND | O_CREAT, 0640));
  fd_ = file.release();
  struct stat st;
  if (::fstat(fd_, &st) != 0) return Status::FromErrno("cannot stat " + path, errno);
  current_path_ = path;
  current_size_ = static_cast<uint64_t>(st.st_size);
  return dir_.Sync();
}

Status LedgerWriter::Cut(const std::vector<std::string>& files, size_t file, uint64_t offset,
                         uint64_t next_seq) {
  char name[64];
  std::snprintf(name, sizeof name, "/cut-%020llu.bin", static_cast<unsigned long long>(next_seq));
  const std::string saved = options_.dir + name;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  if (!md || EVP_DigestInit_ex(md, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(md);
    return Status::IOError("cannot start SHA-256");
  }
  int out = -1;
  uint64_t total = 0;
  Status st = Status::Ok();
  // Copy and hash the bytes after the head, file by file.
  for (size_t i = file; i < files.size() && st.ok(); ++i) {
    auto opened = dir_.OpenFileAt(BaseName(files[i]), O_RDONLY);
    if (!opened.ok()) {
      st = opened.status();
      break;
    }
    int fd = opened->release();
    struct stat sb {};
    if (::fstat(fd, &sb) != 0) st = Status::FromErrno("cannot stat " + files[i], errno);
    const uint64_t size = static_cast<uint64_t>(sb.st_size);
    for (uint64_t pos = i == file ? offset : 0; st.ok() && pos < size;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(size - pos, 1 << 20));
      std::string buf;
      st = PreadAll(fd, files[i], pos, n, &buf);
      if (!st.ok()) break;
      if (out < 0) {
        auto created = dir_.OpenFileAt(BaseName(saved), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (!created.ok()) {
          st = created.status();
          break;
        }
        out = created->release();
      }
      st = WriteAll(out, saved, buf);
      EVP_DigestUpdate(md, buf.data(), buf.size());
      total += n;
      pos += n;
    }
    ::close(fd);
  }
  unsigned char digest[32];
  unsigned int digest_len = 0;
  EVP_DigestFinal_ex(md, digest, &digest_len);
  EVP_MD_CTX_free(md);
  if (out >= 0) {
    if (st.ok() && ::fsync(out) != 0) st = Status::FromErrno("cannot sync " + saved, errno);
    ::close(out);
  }
  RESMETER_RETURN_IF_ERROR(st);
  if (total > 0) {
    recovery_.cut_bytes = total;
    recovery_.cut_sha256 = HexEncode(std::string_view(reinterpret_cast<const char*>(digest), 32));
    recovery_.cut_file = BaseName(files[file]);
    recovery_.cut_saved_to = saved;
  }
  // Remove them: the head's file is truncated, later files deleted.
  {
    RESMETER_ASSIGN_OR_RETURN(UniqueFd head_file, dir_.OpenFileAt(BaseName(files[file]), O_WRONLY));
    if (::ftruncate(head_file.get(), static_cast<off_t>(offset)) != 0)
      return Status::FromErrno("cannot cut " + files[file], errno);
    ::fsync(head_file.get());
  }
  for (size_t i = file + 1; i < files.size(); ++i)
    RESMETER_RETURN_IF_ERROR(dir_.UnlinkAt(BaseName(files[i])));
  return dir_.Sync();
}

Status LedgerWriter::Recover(const LedgerClock& clock) {
  RESMETER_ASSIGN_OR_RETURN(std::vector<std::string> files, ListLedgerFiles(options_.dir));
  // Epoch evidence is appraised as the audit does; "none" passes only when
  // this writer's own evidence is "none" (no collector: development mode).
  EvidenceVerifyOptions appraisal = options_.epoch_evidence;
  if (!options_.collect_evidence) appraisal.allow_none = true;
  // Walk the whole chain; stop at the first line that is not accepted, or at
  // an epoch statement whose evidence does not verify. The head adopted is
  // the last line before it (tracked here: the chain has advanced past an
  // authentic epoch before its evidence is appraised).
  LedgerChain chain(1);
  bool have_head = false;
  uint64_t head_seq = 0;
  std::string head_hash;  // raw SHA-256 of the head line
  std::string head_epoch_kid;
  size_t head_file = files.size();
  uint64_t head_end = 0;
  bool have_end = false;
  LedgerLineVerdict stop = LedgerLineVerdict::kAccepted;
  size_t stop_file = 0;
  std::string rejected_epoch;  // "seq N (kid K)" of an epoch cut for its evidence
  auto walked = WalkLedgerFiles(files, chain, [&](const LedgerChainLine& l, const LedgerChainStep& st) {
    if (st.verdict != LedgerLineVerdict::kAccepted) {
      stop = st.verdict;
      stop_file = l.file;
      recovery_.cut_reason = BaseName(files[l.file]) + " " + st.why;
      return false;
    }
    const LedgerStatement& s = st.statement;
    if (s.kind == LedgerKind::kEpoch) {
      auto appraised = AppraiseLedgerEpochEvidence(s, appraisal);
      if (!appraised.ok()) {
        stop_file = l.file;
        rejected_epoch = "seq " + std::to_string(s.seq) + " (kid " + s.kid + ")";
        recovery_.cut_reason = BaseName(files[l.file]) + " line " + std::to_string(l.line) +
                               ": epoch statement " + rejected_epoch + " not adopted: its evidence " +
                               LedgerEpochEvidenceType(s) +
                               " does not verify: " + appraised.status().message();
        return false;
      }
      head_epoch_kid = s.kid;
    }
    have_head = true;
    head_seq = s.seq;
    head_hash.assign(reinterpret_cast<const char*>(st.hash), 32);
    head_file = l.file;
    head_end = l.end_offset;
    recovery_.clean = st.statement.kind == LedgerKind::kCheckpoint && st.statement.reason == "shutdown";
    if (st.statement.kind != LedgerKind::kCheckpoint) {
      last_end_ = st.statement.end_unix_seconds;
      have_end = true;
    }
    return true;
  });
  if (!walked.ok()) return walked.status();
  if (stop == LedgerLineVerdict::kOldVersion) {
    return Status::InvalidArgument(
        "ledger directory " + options_.dir + " holds a v1 ledger (" + files[stop_file] +
        "); this version writes v2 ledgers (every statement signed): archive the v1 "
        "files (move them out of " +
        options_.dir + ") and start again");
  }
  last_seq_ = have_head ? head_seq : 0;
  head_ = have_head ? HexEncode(head_hash) : std::string(kLedgerGenesisPrev);
  recovery_.new_ledger = !have_head;
  recovery_.last_seq = last_seq_;
  const uint64_t next_seq = last_seq_ + 1;

  // This start's evidence, bound to the head (collected before anything is cut).
  const std::string nonce = have_head ? head_hash : std::string();
  nlohmann::json evidence;
  if (options_.collect_evidence) {
    auto collected = options_.collect_evidence(kid_, nonce);
    if (!collected.ok()) return collected.status().WithContext("epoch evidence");
    evidence = std::move(*collected);
  } else {
    NoneBackend none("no evidence collector configured for the ledger");
    RESMETER_ASSIGN_OR_RETURN(evidence, none.Collect(ComputeUserData(kid_, nonce)));
  }
  if (!rejected_epoch.empty()) {
    // Cut an epoch for its evidence only when our own evidence passes the same
    // appraisal (else the options cannot tell forged from genuine: e.g. trust
    // anchors missing); nothing is changed then.
    auto own = VerifyKeyBoundEvidence(evidence, kid_, nonce, appraisal);
    if (!own.ok()) {
      return Status::VerifyFailed("ledger " + options_.dir + ": epoch statement " + rejected_epoch +
                                  " has evidence that does not verify, but neither does this start's own " +
                                  "evidence (" + own.status().message() +
                                  "): recovery cannot tell a forged epoch from a genuine one and changed "
                                  "nothing; check the trust anchors in " +
                                  appraisal.trust_anchors_dir);
    }
  }
  if (!files.empty()) {
    const size_t cut_file = have_head ? head_file : 0;
    RESMETER_RETURN_IF_ERROR(Cut(files, cut_file, have_head ? head_end : 0, next_seq));
    files.resize(cut_file + 1);
  }
  // Append to the head's file unless it is empty and misnamed (a rotation cut short).
  std::string append_path = files.empty() ? "" : files.back();
  if (!append_path.empty()) {
    auto first = ParseLedgerFileName(BaseName(append_path));
    struct stat st;
    if (::stat(append_path.c_str(), &st) == 0 && st.st_size == 0 && first && *first != next_seq) {
      if (::unlink(append_path.c_str()) != 0)
        return Status::FromErrno("cannot remove empty " + append_path, errno);
      append_path.clear();
    }
  }
  if (append_path.empty()) append_path = options_.dir + "/" + LedgerFileName(next_seq);
  RESMETER_RETURN_IF_ERROR(OpenCurrent(append_path));
  // A full file: the epoch starts the next one (a rotation checkpoint would
  // have to be signed by the new key before the epoch statement declares it).
  if (current_size_ >= options_.max_file_bytes) {
    RESMETER_RETURN_IF_ERROR(OpenCurrent(options_.dir + "/" + LedgerFileName(next_seq)));
  }

  LedgerStatement epoch = Next(LedgerKind::kEpoch);
  epoch.start_unix_seconds = have_end ? last_end_ : clock.now_unix_seconds;
  epoch.end_unix_seconds = std::max(clock.now_unix_seconds, epoch.start_unix_seconds);
  epoch.time_trusted = clock.trusted;
  epoch.time_reason = clock.reason;
  epoch.jwk = signer_->PublicJwk().dump();
  epoch.key_origin = options_.key_origin;
  epoch.evidence = evidence.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  epoch.prev_epoch_kid = head_epoch_kid;
  epoch.cut_bytes = recovery_.cut_bytes;
  epoch.cut_sha256 = recovery_.cut_sha256;
  epoch.cut_file = recovery_.cut_file;
  epoch.clean = recovery_.new_ledger || recovery_.clean;
  epoch.reason = recovery_.new_ledger ? "new ledger"
                 : recovery_.clean    ? "restart after shutdown"
                                      : "recovered after unclean stop";
  if (recovery_.cut_bytes > 0) {
    epoch.reason += "; cut " + std::to_string(recovery_.cut_bytes) + " bytes after seq " +
                    std::to_string(last_seq_) + ": " + recovery_.cut_reason;
  }
  if (have_end && clock.now_unix_seconds < last_end_) {
    epoch.reason +=
        "; clock is " + std::to_string(last_end_ - clock.now_unix_seconds) + " s behind the last period end";
  }
  if (epoch.reason.size() > 2048) epoch.reason.resize(2048);
  recovery_.gap_seconds = epoch.end_unix_seconds - epoch.start_unix_seconds;
  RESMETER_ASSIGN_OR_RETURN(recovery_.epoch_seq, Append(std::move(epoch), /*may_rotate=*/false));
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

Result<uint64_t> LedgerWriter::Append(LedgerStatement s, bool may_rotate) {
  if (closed_) return Status::InvalidArgument("ledger writer is closed");
  if (failed_) return Status::IOError("ledger writer failed earlier; reopen it to recover");
  if (may_rotate) RESMETER_RETURN_IF_ERROR(RotateIfNeeded());
  s.seq = last_seq_ + 1;
  s.prev = head_;
  RESMETER_ASSIGN_OR_RETURN(std::string line, SealLedgerStatement(s, *signer_));
  RESMETER_RETURN_IF_ERROR(WriteLine(line));
  last_seq_ = s.seq;
  head_ = LedgerLineHash(line);
  if (s.kind != LedgerKind::kCheckpoint) last_end_ = s.end_unix_seconds;
  since_checkpoint_ = s.kind == LedgerKind::kUsage ? since_checkpoint_ + 1 : 0;
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
