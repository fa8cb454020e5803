// Env: every operating-system access a meter makes (files, directories,
// clocks, sleep) and every write of the ledger, keys and state files goes
// through this interface, so tests can substitute fixture trees, fake clocks
// and fault injection (tests/support/fault_env.h replays crashes byte by byte).
//
// Paths are absolute; callers build them from the injectable roots in
// MeterContext (--proc-root, --sys-root). Implementations must be safe to
// call from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/directory.h"
#include "core/result.h"

namespace resmeter {

class Env {
 public:
  virtual ~Env() = default;

  // Returns the whole content of a file, or NotFound / IOError.
  virtual Result<std::string> ReadFile(const std::string& path) const = 0;
  // Returns the entry names of a directory (no "." or ".."), sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) const = 0;
  // True when the path exists (file, directory or symlink target).
  virtual bool Exists(const std::string& path) const = 0;
  // Seconds on a monotonic clock that never jumps (CLOCK_MONOTONIC_RAW on Linux).
  virtual double MonotonicSeconds() const = 0;
  // Seconds since the Unix epoch on the wall clock (CLOCK_REALTIME).
  virtual double WallSeconds() const = 0;
  // Sleeps for the given duration; fake environments may advance time instead.
  virtual void SleepFor(double seconds) = 0;
  // Opens the directory `path` to write in, with SafeDir::Open()'s checks
  // (core/safe_dir.h: ours alone, not a planted link); creates it (mode
  // create_mode, parents 0755) when missing and create_mode != 0. Errors as
  // SafeDir::Open. Environments that only serve reads return NotSupported.
  virtual Result<std::unique_ptr<Directory>> OpenDirectory(const std::string& path, unsigned create_mode);
};

// The process-wide environment backed by POSIX. Never deleted.
Env* DefaultEnv();

// Reads a file holding one integer (sysfs style, surrounding whitespace ok).
Result<int64_t> ReadIntFile(const Env& env, const std::string& path);
// Reads a file and strips surrounding whitespace.
Result<std::string> ReadTrimmedFile(const Env& env, const std::string& path);

}  // namespace resmeter
