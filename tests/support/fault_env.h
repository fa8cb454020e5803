// FaultEnv: an Env over a real one (files really land on disk, so the
// ledger audit and the writer's recovery read them as usual) that can "crash"
// the process at a chosen point of its writes and then make the disk look as
// it would after that crash, so recovery is tested at every byte of a
// statement without killing processes.
//
// Crash points: after a number of appended bytes (the Append that reaches
// the limit keeps only the bytes before it: a torn write), or before the
// n-th mutating operation (open for writing, append, sync, truncate, close,
// rename, remove, directory sync, lock). From the crash on, every mutating
// call fails with IOError "simulated crash"; reads still work.
//
// ApplyCrash() then models what survives:
//   - CrashLoss::kNothing: a killed process. The page cache survives:
//     everything written stays, torn write included.
//   - CrashLoss::kUnsynced: a power loss. Each file written through this Env
//     keeps only the bytes it had at its last Sync() (or when first opened);
//     creates, renames and removes since their directory's last Sync() are
//     undone (a replaced or removed file comes back). Shrinking a file
//     (Truncate) is taken as durable at once (the kernel may keep the old
//     bytes; recovery must cope with both and the writer syncs right after).
//
// Sync() of files and directories is recorded, not performed (durability is
// the model's business): tests through a FaultEnv never wait on the disk.
//
// Test support only. Thread-safe (one mutex); files and directories it hands
// out must be destroyed before ApplyCrash() (as a dead process's are).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/env.h"

namespace resmeter::testing {

enum class CrashLoss {
  kNothing,   // process crash (SIGKILL): written bytes survive
  kUnsynced,  // power loss: bytes and entries not synced are lost
};

class FaultEnv final : public Env {
 public:
  // Forwards to `base` (not owned; DefaultEnv() when null).
  explicit FaultEnv(Env* base = nullptr);
  ~FaultEnv() override;
  FaultEnv(const FaultEnv&) = delete;
  FaultEnv& operator=(const FaultEnv&) = delete;

  // Env: reads and clocks forward to the base; OpenDirectory wraps its directory.
  Result<std::string> ReadFile(const std::string& path) const override { return base_->ReadFile(path); }
  Result<std::vector<std::string>> ListDir(const std::string& path) const override {
    return base_->ListDir(path);
  }
  bool Exists(const std::string& path) const override { return base_->Exists(path); }
  double MonotonicSeconds() const override { return base_->MonotonicSeconds(); }
  double WallSeconds() const override { return base_->WallSeconds(); }
  void SleepFor(double seconds) override { base_->SleepFor(seconds); }
  Result<std::unique_ptr<Directory>> OpenDirectory(const std::string& path, unsigned create_mode) override;

  // Arms a crash once `bytes` more bytes have been appended (any file).
  void CrashAfterBytes(uint64_t bytes);
  // Arms a crash before the mutating operation after the next `operations` ones.
  void CrashBeforeOperation(uint64_t operations);
  // True once an armed crash has happened.
  bool crashed() const;
  // Makes the disk look as after the crash (see the header comment), then
  // disarms and forgets everything: the next use is a fresh boot.
  // REQUIRES: every Directory, WritableFile and FileLock from this Env is gone.
  Status ApplyCrash(CrashLoss loss);
  // Mutating operations so far, one line each ("append NAME BYTES",
  // "sync NAME", "syncdir DIR", "rename FROM TO", "crash"...).
  std::vector<std::string> Log() const;

  // Shared with the directories and files handed out (defined in fault_env.cc).
  struct State;

 private:
  Env* base_;
  std::shared_ptr<State> state_;
};

}  // namespace resmeter::testing
