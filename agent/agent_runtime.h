// AgentRuntime: the modules of `resmeter agent` and the order in which they
// start and stop, written down once:
//
//   start: ephemeral signing key (in memory; identity.json published) ->
//          state -> exporter -> usage ledger (recovery and epoch statement)
//          -> scheduler thread -> HTTP server
//   stop:  HTTP server (finishes requests in flight) -> scheduler (finishes
//          the meter running now) -> usage ledger (appends the statement of
//          the current partial period, then a shutdown checkpoint)
//
// Reload applies a new config to the scheduler, the API and the log; keys
// read only at start (agent.listen, agent.http_threads, api.max_*_bytes,
// api.request_timeout_seconds, ledger.*, state_dir, paths.*) are logged as
// needing a restart when they changed.
//
// Thread-compatible: Start, Reload, RequestHeavy and Stop are called from the
// one thread that handles signals.
#pragma once

#include <memory>
#include <string>

#include "agent/agent_state.h"
#include "agent/config.h"
#include "agent/http_api.h"
#include "agent/http_server.h"
#include "agent/logger.h"
#include "agent/metrics_exporter.h"
#include "agent/scheduler.h"
#include "agent/usage_accountant.h"
#include "agent/usage_recorder.h"
#include "core/env.h"
#include "jose/signing_key.h"

namespace resmeter {

class AgentRuntime {
 public:
  AgentRuntime(Logger* log, Env* env) : log_(log), env_(env) {}
  ~AgentRuntime();  // stops
  AgentRuntime(const AgentRuntime&) = delete;
  AgentRuntime& operator=(const AgentRuntime&) = delete;

  // OK when the state directory (created 0700 when missing) and, with the
  // ledger on, its ledger/ subdirectory are safe to use (core/safe_dir.h:
  // not a symlink, our uid, not group/other-writable; no symlinked ledger
  // file, LOCK or cut file). PermissionDenied naming the path and the mode,
  // owner or link otherwise. Start() calls it first.
  static Status CheckStateDirectory(const Config& config);
  // Generates this start's key and starts every module.
  // Errors name what failed (key, ledger, listen address).
  Status Start(const Config& config);
  // Applies a new config (SIGHUP).
  void Reload(const Config& config);
  // Runs the heavy meters as soon as possible (SIGUSR1).
  void RequestHeavy();
  // Stops every module in order. Idempotent.
  void Stop();

  int port() const { return server_ ? server_->port() : 0; }
  AgentState* state() { return state_.get(); }

 private:
  Logger* log_;
  Env* env_;
  std::shared_ptr<const Config> config_;
  std::shared_ptr<SigningKey> key_;
  std::unique_ptr<AgentState> state_;
  std::unique_ptr<MetricsExporter> exporter_;
  std::unique_ptr<UsageAccountant> accountant_;
  std::unique_ptr<UsageRecorder> recorder_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<HttpApi> api_;
  std::unique_ptr<HttpServer> server_;
  bool stopped_ = false;
};

}  // namespace resmeter
