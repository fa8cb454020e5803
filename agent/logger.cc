#include "agent/logger.h"

#include <cmath>
#include <ctime>

#include "core/env.h"

namespace resmeter {
namespace {

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// RFC 3339 UTC with milliseconds.
std::string Timestamp(double unix_seconds) {
  double whole = std::floor(unix_seconds);
  time_t t = static_cast<time_t>(whole);
  int ms = static_cast<int>((unix_seconds - whole) * 1000);
  if (ms > 999) ms = 999;
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

// A logfmt value: bare when it is a simple token, else a JSON-quoted string.
std::string LogfmtValue(const nlohmann::json& v) {
  std::string text = v.is_string() ? v.get<std::string>() : v.dump();
  bool bare = !text.empty();
  for (unsigned char c : text) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) {
      bare = false;
      break;
    }
  }
  return bare ? text : nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void Logger::SetLevel(const std::string& level) {
  LogLevel l = LogLevel::kInfo;
  if (level == "debug") l = LogLevel::kDebug;
  if (level == "warn") l = LogLevel::kWarn;
  if (level == "error") l = LogLevel::kError;
  level_.store(static_cast<int>(l));
}

std::string Logger::Format(LogLevel level, double unix_seconds, const std::string& msg,
                           const LogFields& fields) const {
  if (json_.load()) {
    nlohmann::ordered_json j;
    j["ts"] = Timestamp(unix_seconds);
    j["level"] = LevelName(level);
    j["msg"] = msg;
    for (const auto& [k, v] : fields) j[k] = v;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line =
      "ts=" + Timestamp(unix_seconds) + " level=" + LevelName(level) + " msg=" + LogfmtValue(msg);
  for (const auto& [k, v] : fields) line += " " + k + "=" + LogfmtValue(v);
  return line;
}

void Logger::Log(LogLevel level, const std::string& msg, const LogFields& fields) {
  if (!Enabled(level)) return;
  std::string line = Format(level, DefaultEnv()->WallSeconds(), msg, fields) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace resmeter
