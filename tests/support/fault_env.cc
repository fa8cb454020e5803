#include "support/fault_env.h"

#include <algorithm>
#include <utility>

namespace resmeter::testing {

namespace {
constexpr uint64_t kUnarmed = std::numeric_limits<uint64_t>::max();
}  // namespace

struct FaultEnv::State {
  // A create, rename or remove not yet made durable by a directory sync.
  struct EntryOp {
    enum class Kind { kCreate, kRename, kRemove } kind;
    std::string from, to;      // kCreate/kRemove use `from`
    bool had_old = false;      // the replaced or removed file existed ...
    std::string old_content;   // ... with this content
    bool old_tracked = false;  // ... and was written through this Env
    uint64_t old_durable = 0;
  };

  explicit State(Env* base_env) : base(base_env) {}

  // Counts one mutating operation; the crash error when it must not happen.
  Status BeginOp(const std::string& what) {
    if (crashed) return CrashError(what);
    if (ops_left != kUnarmed) {
      if (ops_left == 0) {
        crashed = true;
        log.push_back("crash before " + what);
        return CrashError(what);
      }
      --ops_left;
    }
    log.push_back(what);
    return Status::Ok();
  }
  static Status CrashError(const std::string& what) {
    return Status::IOError("simulated crash (" + what + " not done)");
  }

  std::mutex mu;
  Env* base;
  uint64_t bytes_left = kUnarmed;
  uint64_t ops_left = kUnarmed;
  bool crashed = false;
  std::vector<std::string> log;
  std::map<std::string, uint64_t> durable_bytes;        // file path -> bytes that survive a power loss
  std::map<std::string, std::vector<EntryOp>> pending;  // directory path -> entry changes since its sync
};

namespace {

using State = FaultEnv::State;

std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

class FaultFile final : public WritableFile {
 public:
  FaultFile(std::shared_ptr<State> state, std::unique_ptr<WritableFile> base, std::string path)
      : state_(std::move(state)), base_(std::move(base)), path_(std::move(path)), name_(BaseName(path_)) {}

  Status Append(std::string_view bytes) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    RESMETER_RETURN_IF_ERROR(state_->BeginOp("append " + name_ + " " + std::to_string(bytes.size())));
    if (state_->bytes_left != kUnarmed && bytes.size() >= state_->bytes_left) {
      // The write that reaches the limit: its first bytes land, then the process dies.
      const size_t kept = static_cast<size_t>(state_->bytes_left);
      state_->bytes_left = 0;
      state_->crashed = true;
      if (kept > 0) RESMETER_RETURN_IF_ERROR(base_->Append(bytes.substr(0, kept)));
      state_->log.push_back("crash after " + std::to_string(kept) + " of " + std::to_string(bytes.size()) +
                            " bytes");
      return State::CrashError("append of " + name_ + " torn after " + std::to_string(kept) + " bytes");
    }
    if (state_->bytes_left != kUnarmed) state_->bytes_left -= bytes.size();
    return base_->Append(bytes);
  }

  Status Sync() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    RESMETER_RETURN_IF_ERROR(state_->BeginOp("sync " + name_));
    // Recorded, not performed: durability is modelled (ApplyCrash), and the
    // tests do not wait on the disk.
    state_->durable_bytes[path_] = base_->Size();
    return Status::Ok();
  }

  Status Truncate(uint64_t size_bytes) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    RESMETER_RETURN_IF_ERROR(state_->BeginOp("truncate " + name_ + " " + std::to_string(size_bytes)));
    RESMETER_RETURN_IF_ERROR(base_->Truncate(size_bytes));
    uint64_t& durable = state_->durable_bytes[path_];
    durable = std::min(durable, size_bytes);
    return Status::Ok();
  }

  uint64_t Size() const override { return base_->Size(); }

  Status Close() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    RESMETER_RETURN_IF_ERROR(state_->BeginOp("close " + name_));
    return base_->Close();
  }

 private:
  std::shared_ptr<State> state_;
  std::unique_ptr<WritableFile> base_;  // destroyed (closed) with this object, crash or not
  std::string path_;
  std::string name_;
};

class FaultDirectory final : public Directory {
 public:
  FaultDirectory(std::shared_ptr<State> state, std::unique_ptr<Directory> base)
      : state_(std::move(state)), base_(std::move(base)) {}

  const std::string& path() const override { return base_->path(); }

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& name, WriteMode mode,
                                                     unsigned perm) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    RESMETER_RETURN_IF_ERROR(state_->BeginOp("open " + name));
    auto before = base_->Stat(name);
    RESMETER_ASSIGN_OR_RETURN(auto file, base_->OpenWritable(name, mode, perm));
    const std::string key = PathOf(name);
    if (!before.ok()) {
      state_->pending[path()].push_back({State::EntryOp::Kind::kCreate, name, "", false, "", false, 0});
      state_->durable_bytes[key] = 0;
    } else if (mode == WriteMode::kTruncate) {
      state_->durable_bytes[key] = 0;
    } else if (!state_->durable_bytes.count(key)) {
      state_->durable_bytes[key] = before->size_bytes;
    }
    return std::unique_ptr<WritableFile>(new FaultFile(state_, std::move(file), key));
  }

  Result<std::string> ReadAt(const std::string& name, uint64_t offset, size_t max_bytes) const override {
    return base_->ReadAt(name, offset, max_bytes);
  }
  Result<DirEntryInfo> Stat(const std::string& name) const override { return base_->Stat(name); }
  Result<std::vector<std::string>> List() const override { return base_->List(); }

  Status Rename(const std::string& from, const std::string& to, RenameMode mode) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    RESMETER_RETURN_IF_ERROR(state_->BeginOp("rename " + from + " " + to));
    State::EntryOp op{State::EntryOp::Kind::kRename, from, to, false, "", false, 0};
    SaveOld(to, &op);
    RESMETER_RETURN_IF_ERROR(base_->Rename(from, to, mode));
    auto& durable = state_->durable_bytes;
    durable.erase(PathOf(to));
    if (auto it = durable.find(PathOf(from)); it != durable.end()) {
      durable[PathOf(to)] = it->second;
      durable.erase(PathOf(from));
    }
    state_->pending[path()].push_back(std::move(op));
    return Status::Ok();
  }

  Status Remove(const std::string& name) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    RESMETER_RETURN_IF_ERROR(state_->BeginOp("remove " + name));
    State::EntryOp op{State::EntryOp::Kind::kRemove, name, "", false, "", false, 0};
    SaveOld(name, &op);
    RESMETER_RETURN_IF_ERROR(base_->Remove(name));
    state_->durable_bytes.erase(PathOf(name));
    state_->pending[path()].push_back(std::move(op));
    return Status::Ok();
  }

  Status Sync() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    RESMETER_RETURN_IF_ERROR(state_->BeginOp("syncdir " + BaseName(path())));
    state_->pending.erase(path());  // modelled, not performed (see FaultFile::Sync)
    return Status::Ok();
  }

  Result<std::unique_ptr<FileLock>> LockExclusive(const std::string& name) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    RESMETER_RETURN_IF_ERROR(state_->BeginOp("lock " + name));
    return base_->LockExclusive(name);
  }

  Result<std::unique_ptr<Directory>> OpenSubdirectory(const std::string& name,
                                                      unsigned create_mode) override {
    RESMETER_ASSIGN_OR_RETURN(auto sub, base_->OpenSubdirectory(name, create_mode));
    return std::unique_ptr<Directory>(new FaultDirectory(state_, std::move(sub)));
  }

 private:
  // Keeps what a rename or remove would destroy, so a power loss can bring it back.
  void SaveOld(const std::string& name, State::EntryOp* op) const {
    auto info = base_->Stat(name);
    if (!info.ok() || info->type != DirEntryInfo::Type::kRegular) return;
    auto content = base_->ReadAt(name, 0, static_cast<size_t>(info->size_bytes));
    if (!content.ok()) return;
    op->had_old = true;
    op->old_content = std::move(*content);
    auto it = state_->durable_bytes.find(PathOf(name));
    op->old_tracked = it != state_->durable_bytes.end();
    op->old_durable = op->old_tracked ? it->second : 0;
  }

  std::shared_ptr<State> state_;
  std::unique_ptr<Directory> base_;
};

// Writes `content` as the whole of `name` in `dir` (restoring a file a power loss keeps).
Status Restore(Directory& dir, const std::string& name, const std::string& content) {
  RESMETER_ASSIGN_OR_RETURN(auto file, dir.OpenWritable(name, WriteMode::kTruncate, 0600));
  RESMETER_RETURN_IF_ERROR(file->Append(content));
  return file->Close();
}

}  // namespace

FaultEnv::FaultEnv(Env* base) : base_(base ? base : DefaultEnv()), state_(std::make_shared<State>(base_)) {}

FaultEnv::~FaultEnv() = default;

Result<std::unique_ptr<Directory>> FaultEnv::OpenDirectory(const std::string& path, unsigned create_mode) {
  RESMETER_ASSIGN_OR_RETURN(auto dir, base_->OpenDirectory(path, create_mode));
  return std::unique_ptr<Directory>(new FaultDirectory(state_, std::move(dir)));
}

void FaultEnv::CrashAfterBytes(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->bytes_left = bytes;
}

void FaultEnv::CrashBeforeOperation(uint64_t operations) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->ops_left = operations;
}

bool FaultEnv::crashed() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->crashed;
}

std::vector<std::string> FaultEnv::Log() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->log;
}

Status FaultEnv::ApplyCrash(CrashLoss loss) {
  std::lock_guard<std::mutex> lock(state_->mu);
  Status result = Status::Ok();
  auto note = [&result](const Status& s) {
    if (result.ok() && !s.ok() && s.code() != Status::Code::kNotFound) result = s;
  };
  if (loss == CrashLoss::kUnsynced) {
    auto& durable = state_->durable_bytes;
    // Entry changes not made durable by a directory sync are undone, newest first.
    for (auto& [dir_path, ops] : state_->pending) {
      auto dir = base_->OpenDirectory(dir_path, 0);
      if (!dir.ok()) {
        note(dir.status());
        continue;
      }
      for (auto op = ops.rbegin(); op != ops.rend(); ++op) {
        const std::string from = (*dir)->PathOf(op->from), to = (*dir)->PathOf(op->to);
        switch (op->kind) {
          case State::EntryOp::Kind::kCreate:
            note((*dir)->Remove(op->from));
            durable.erase(from);
            break;
          case State::EntryOp::Kind::kRename:
            note((*dir)->Rename(op->to, op->from, RenameMode::kReplace));
            if (auto it = durable.find(to); it != durable.end()) {
              durable[from] = it->second;
              durable.erase(to);
            }
            if (op->had_old) note(Restore(**dir, op->to, op->old_content));
            if (op->had_old && op->old_tracked) durable[to] = op->old_durable;
            break;
          case State::EntryOp::Kind::kRemove:
            if (op->had_old) note(Restore(**dir, op->from, op->old_content));
            if (op->had_old && op->old_tracked) durable[from] = op->old_durable;
            break;
        }
      }
    }
    // Bytes appended since a file's last sync are lost.
    for (const auto& [path, size] : durable) {
      const size_t slash = path.rfind('/');
      auto dir = base_->OpenDirectory(path.substr(0, slash), 0);
      if (!dir.ok()) {
        note(dir.status());
        continue;
      }
      const std::string name = path.substr(slash + 1);
      auto info = (*dir)->Stat(name);
      if (!info.ok() || info->size_bytes <= size) continue;
      auto file = (*dir)->OpenWritable(name, WriteMode::kAppend, 0600);
      if (!file.ok()) {
        note(file.status());
        continue;
      }
      note((*file)->Truncate(size));
    }
  }
  state_->log.push_back(loss == CrashLoss::kUnsynced ? "power loss" : "process killed");
  state_->bytes_left = state_->ops_left = kUnarmed;
  state_->crashed = false;
  state_->durable_bytes.clear();
  state_->pending.clear();
  return result;
}

}  // namespace resmeter::testing
