#include "ledger/ledger_writer.h"

#include <openssl/evp.h>

#include <algorithm>
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

// File name without its directory.
std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// A new cut file for the bytes after the head, "cut-<seq>.bin", or
// "cut-<seq>-<n>.bin" when a recovery that crashed left one: an earlier cut
// file is never overwritten (it may hold bytes no epoch statement records).
Result<std::pair<std::unique_ptr<WritableFile>, std::string>> CreateCutFile(Directory& dir,
                                                                            uint64_t next_seq) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    char name[64];
    if (attempt == 0)
      std::snprintf(name, sizeof name, "cut-%020llu.bin", static_cast<unsigned long long>(next_seq));
    else
      std::snprintf(name, sizeof name, "cut-%020llu-%d.bin", static_cast<unsigned long long>(next_seq),
                    attempt);
    auto file = dir.OpenWritable(name, WriteMode::kCreateExclusive, 0600);
    if (file.ok()) return std::make_pair(std::move(*file), std::string(name));
    if (file.status().code() != Status::Code::kInvalidArgument) return file.status();
  }
  return Status::IOError("too many cut files for seq " + std::to_string(next_seq) + " in " + dir.path());
}

}  // namespace

LedgerWriter::LedgerWriter(const LedgerWriterOptions& options, std::shared_ptr<const Signer> signer)
    : options_(options), signer_(std::move(signer)), kid_(signer_->Thumbprint()) {}

LedgerWriter::~LedgerWriter() = default;

Result<std::unique_ptr<LedgerWriter>> LedgerWriter::Open(const LedgerWriterOptions& options,
                                                         std::shared_ptr<const Signer> signer,
                                                         const LedgerClock& clock) {
  if (!signer) return Status::InvalidArgument("ledger writer needs a signer");
  if (options.dir.empty()) return Status::InvalidArgument("ledger directory is empty");
  Env* env = options.env ? options.env : DefaultEnv();
  // Ours alone (0700, our uid, no symlink), and no planted link among its files.
  auto dir = env->OpenDirectory(options.dir, 0700);
  if (!dir.ok()) return dir.status().WithContext("ledger directory");
  RESMETER_RETURN_IF_ERROR(CheckLedgerDirEntries(**dir));
  std::unique_ptr<LedgerWriter> w(new LedgerWriter(options, std::move(signer)));
  w->dir_ = std::move(*dir);
  RESMETER_ASSIGN_OR_RETURN(w->lock_, w->dir_->LockExclusive("LOCK"));
  if (!w->lock_) return Status::PermissionDenied("ledger " + options.dir + " is in use by another writer");
  RESMETER_RETURN_IF_ERROR(w->Recover(clock));
  return w;
}

Status LedgerWriter::OpenCurrent(const std::string& path) {
  file_.reset();
  RESMETER_ASSIGN_OR_RETURN(file_, dir_->OpenWritable(BaseName(path), WriteMode::kAppend, 0640));
  current_path_ = path;
  return dir_->Sync();
}

Status LedgerWriter::Cut(const std::vector<std::string>& files, size_t file, uint64_t offset,
                         uint64_t next_seq) {
  std::string saved;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  if (!md || EVP_DigestInit_ex(md, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(md);
    return Status::IOError("cannot start SHA-256");
  }
  std::unique_ptr<WritableFile> out;
  uint64_t total = 0;
  Status st = Status::Ok();
  // Copy and hash the bytes after the head, file by file.
  for (size_t i = file; i < files.size() && st.ok(); ++i) {
    for (uint64_t pos = i == file ? offset : 0; st.ok();) {
      auto chunk = dir_->ReadAt(BaseName(files[i]), pos, 1 << 20);
      if (!chunk.ok()) {
        st = chunk.status();
        break;
      }
      if (chunk->empty()) break;
      if (!out) {
        auto created = CreateCutFile(*dir_, next_seq);
        if (!created.ok()) {
          st = created.status();
          break;
        }
        out = std::move(created->first);
        saved = dir_->PathOf(created->second);
      }
      st = out->Append(*chunk);
      EVP_DigestUpdate(md, chunk->data(), chunk->size());
      total += chunk->size();
      pos += chunk->size();
    }
  }
  unsigned char digest[32];
  unsigned int digest_len = 0;
  EVP_DigestFinal_ex(md, digest, &digest_len);
  EVP_MD_CTX_free(md);
  if (out && st.ok()) st = out->Sync();
  if (out && st.ok()) st = out->Close();
  // The cut file's entry is durable before any byte leaves the ledger.
  if (out && st.ok()) st = dir_->Sync();
  RESMETER_RETURN_IF_ERROR(st);
  if (total > 0) {
    recovery_.cut_bytes = total;
    recovery_.cut_sha256 = HexEncode(std::string_view(reinterpret_cast<const char*>(digest), 32));
    recovery_.cut_file = BaseName(files[file]);
    recovery_.cut_saved_to = saved;
  }
  // Remove them: the head's file is truncated, later files deleted.
  {
    RESMETER_ASSIGN_OR_RETURN(auto head_file,
                              dir_->OpenWritable(BaseName(files[file]), WriteMode::kAppend, 0640));
    if (Status t = head_file->Truncate(offset); !t.ok()) return t.WithContext("cannot cut " + files[file]);
    (void)head_file->Sync();
  }
  for (size_t i = file + 1; i < files.size(); ++i) RESMETER_RETURN_IF_ERROR(dir_->Remove(BaseName(files[i])));
  return dir_->Sync();
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
    if (LedgerKindHasPeriod(st.statement.kind)) {
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
    auto info = dir_->Stat(BaseName(append_path));
    if (info.ok() && info->size_bytes == 0 && first && *first != next_seq) {
      if (Status removed = dir_->Remove(BaseName(append_path)); !removed.ok())
        return removed.WithContext("cannot remove empty " + append_path);
      append_path.clear();
    }
  }
  if (append_path.empty()) append_path = options_.dir + "/" + LedgerFileName(next_seq);
  RESMETER_RETURN_IF_ERROR(OpenCurrent(append_path));
  // A full file: the epoch starts the next one (a rotation checkpoint would
  // have to be signed by the new key before the epoch statement declares it).
  if (file_->Size() >= options_.max_file_bytes) {
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
  if (file_->Size() < options_.max_file_bytes) return Status::Ok();
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
  Status st = file_->Append(line + "\n");
  if (st.ok() && options_.sync) st = file_->Sync();
  if (!st.ok()) {
    failed_ = true;
    return st.WithContext("ledger append");
  }
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
  if (LedgerKindHasPeriod(s.kind)) last_end_ = s.end_unix_seconds;
  if (s.kind == LedgerKind::kUsage) ++since_checkpoint_;
  if (s.kind == LedgerKind::kCheckpoint) since_checkpoint_ = 0;
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

Result<uint64_t> LedgerWriter::AppendTimestamp(const LedgerTimestampFields& t) {
  if (t.stamped_seq == 0 || t.stamped_seq > last_seq_) {
    return Status::InvalidArgument("timestamp for seq " + std::to_string(t.stamped_seq) +
                                   ", which is not in the ledger");
  }
  LedgerStatement s = Next(LedgerKind::kTimestamp);
  static_cast<LedgerTimestampFields&>(s) = t;
  return Append(std::move(s));
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
  Status closed = file_ ? file_->Close() : Status::Ok();
  file_.reset();
  return cp.ok() ? closed : cp.status();
}

}  // namespace resmeter
