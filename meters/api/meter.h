// Meter: the interface every measurement implements, and the plain data it
// returns.
//
// A meter measures one thing (cpu.time, disk.io, ...) and returns a
// MeterResult: a status, claims (JSON numbers/strings whose names carry their
// unit: _bytes, _seconds, _hz, _bps, _ratio), the conditions under which it
// measured, and findings (claims that disagree with what the platform says).
// The framework (meters/registry/runner.h), not the meter, times each call, enforces
// its timeout and catches exceptions. A meter never prints, never signs, and
// touches the OS only through ctx.env and the roots in ctx.
//
// Threading: Measure() runs on a framework thread; a meter may start its own
// threads but must join them before returning and must poll
// ctx.cancelled() in long loops.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/option_spec.h"
#include "core/signer.h"

namespace resmeter {

enum class MeterKind { kLight, kHeavy };
enum class MeterStatus { kOk, kUnavailable, kFailed };

const char* MeterKindName(MeterKind kind);
const char* MeterStatusName(MeterStatus status);

// A disagreement between what the platform reports and what was measured,
// or another noteworthy observation. Codes are stable snake_case strings.
struct Finding {
  std::string code;      // e.g. "memory_total_mismatch", "throttled"
  std::string message;   // one human line
  nlohmann::json details = nlohmann::json::object();  // reported/measured values
};
nlohmann::json FindingToJson(const Finding& f);

struct MeterResult {
  MeterStatus status = MeterStatus::kFailed;
  std::string reason;  // why unavailable/failed; empty when ok
  nlohmann::json claims = nlohmann::json::object();
  nlohmann::json conditions = nlohmann::json::object();
  std::vector<Finding> findings;
  double duration_seconds = 0;  // set by the framework

  static MeterResult Ok() { MeterResult r; r.status = MeterStatus::kOk; return r; }
  static MeterResult Unavailable(std::string why) {
    MeterResult r; r.status = MeterStatus::kUnavailable; r.reason = std::move(why); return r;
  }
  static MeterResult Failed(std::string why) {
    MeterResult r; r.status = MeterStatus::kFailed; r.reason = std::move(why); return r;
  }
};
// The submod object of a report: {status, reason?, claims, conditions, duration_seconds, findings}.
nlohmann::json MeterResultToJson(const MeterResult& r);

// What a meter may use. Built by the framework for each call.
struct MeterContext {
  Env* env = nullptr;
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
  Options options;  // this meter's validated options (see MeterInfo::options)
  std::shared_ptr<std::atomic<bool>> cancel_flag = std::make_shared<std::atomic<bool>>(false);
  double deadline_monotonic_seconds = 0;  // env->MonotonicSeconds() value of the timeout
  std::function<void(const std::string&)> progress;  // optional; may be empty
  const Signer* signer = nullptr;  // the agent's key, for meters whose peers co-sign; may be null
  std::string state_dir;           // where a meter may keep state between runs (e.g. last GPU UUIDs)
  Options global;                  // the global config, for meters configured by a shared section (time.*)

  std::string Proc(const std::string& rel) const { return proc_root + "/" + rel; }
  std::string Sys(const std::string& rel) const { return sys_root + "/" + rel; }
  bool cancelled() const { return cancel_flag->load(std::memory_order_relaxed); }
  void Progress(const std::string& what) const { if (progress) progress(what); }
};

class Meter {
 public:
  virtual ~Meter() = default;
  // Measures once. Returns ok/unavailable/failed; never throws on purpose.
  virtual MeterResult Measure(MeterContext& ctx) = 0;
};

}  // namespace resmeter
