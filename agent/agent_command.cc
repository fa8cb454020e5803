// `resmeter agent`: the daemon. Signals: SIGTERM/SIGINT stop gracefully
// (the current ledger statement is finished), SIGHUP reloads the config,
// SIGUSR1 runs the heavy meters now. Logs go to stderr (log.format).
#include <pthread.h>
#include <signal.h>

#include "agent/agent_runtime.h"
#include "agent/commands.h"

namespace resmeter {
namespace {

int RunAgent(const CliGlobals& globals) {
  Logger log;
  auto config = globals.LoadConfig();
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  // An unsafe state directory is refused before anything starts (one line, exit 2).
  if (Status s = AgentRuntime::CheckStateDirectory(*config); !s.ok()) return Fail(kExitUsage, s.message());

  // Every thread started from here on inherits the blocked mask, so only
  // sigwait below sees these signals.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  AgentRuntime runtime(&log, DefaultEnv());
  Status s = runtime.Start(*config);
  if (!s.ok()) {
    log.Error("cannot start", {{"error", s.message()}});
    return Fail(kExitUsage, s.message());
  }
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      auto next = globals.LoadConfig();
      if (!next.ok()) {
        runtime.state()->RecordReload(false);
        log.Error("config reload failed; keeping the running config", {{"error", next.status().message()}});
        continue;
      }
      runtime.Reload(*next);
    } else if (sig == SIGUSR1) {
      log.Info("heavy run requested", {{"signal", "SIGUSR1"}});
      runtime.RequestHeavy();
    } else {
      log.Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      break;
    }
  }
  runtime.Stop();
  return kExitOk;
}

}  // namespace

void RegisterAgentCommand(CLI::App& app, CliGlobals& globals, int* exit_code) {
  auto* cmd = app.add_subcommand("agent", "run the daemon: scheduler, /metrics, HTTP API, usage ledger");
  cmd->callback([&globals, exit_code]() { *exit_code = RunAgent(globals); });
}

}  // namespace resmeter
