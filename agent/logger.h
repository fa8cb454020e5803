// Logger: the agent's structured log, one line per event on standard error,
// as logfmt (`ts=... level=info msg="..." key=value`) or JSON Lines.
//
// Values are JSON scalars; strings are quoted and escaped so a line never
// breaks. Thread-safe: lines from several threads never interleave, and the
// format and level may be changed while others log (SIGHUP reload).
#pragma once

#include <atomic>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace resmeter {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using LogFields = std::vector<std::pair<std::string, nlohmann::json>>;

class Logger {
 public:
  // Writes to `out` (stderr by default). REQUIRES: out stays open.
  explicit Logger(FILE* out = stderr) : out_(out) {}
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // "logfmt" or "json"; anything else is treated as logfmt.
  void SetFormat(const std::string& format) { json_.store(format == "json"); }
  // "debug", "info", "warn" or "error"; anything else is info.
  void SetLevel(const std::string& level);
  // True when a line at `level` would be written.
  bool Enabled(LogLevel level) const { return static_cast<int>(level) >= level_.load(); }

  // Writes one line when `level` is enabled.
  void Log(LogLevel level, const std::string& msg, const LogFields& fields = {});
  void Debug(const std::string& msg, const LogFields& fields = {}) { Log(LogLevel::kDebug, msg, fields); }
  void Info(const std::string& msg, const LogFields& fields = {}) { Log(LogLevel::kInfo, msg, fields); }
  void Warn(const std::string& msg, const LogFields& fields = {}) { Log(LogLevel::kWarn, msg, fields); }
  void Error(const std::string& msg, const LogFields& fields = {}) { Log(LogLevel::kError, msg, fields); }

  // The line that Log() would write at wall time `unix_seconds` (no newline).
  std::string Format(LogLevel level, double unix_seconds, const std::string& msg,
                     const LogFields& fields) const;

 private:
  FILE* out_;
  std::mutex mu_;
  std::atomic<bool> json_{false};
  std::atomic<int> level_{static_cast<int>(LogLevel::kInfo)};
};

}  // namespace resmeter
