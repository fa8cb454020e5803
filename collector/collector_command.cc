// `resmeter collector`: the marketplace's fleet collector daemon
// (collector/collector.h). SIGTERM/SIGINT stop it cleanly (leases given back
// at once); a killed collector's agents move to the others once its leases expire.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "agent/commands.h"
#include "agent/http_server.h"
#include "agent/logger.h"
#include "collector/collector.h"
#include "collector/collector_api.h"
#include "core/safe_dir.h"
#include "policy/policy_evidence.h"

namespace resmeter {
namespace {

struct CollectorArgs {
  std::string listen, database, name;
  std::vector<std::string> agents;
  double duration_seconds = 0;
};

Result<std::shared_ptr<CollectorSettings>> SettingsFromConfig(const Config& config,
                                                              const CollectorArgs& args) {
  const Options& g = config.global;
  auto s = std::make_shared<CollectorSettings>();
  s->name = !args.name.empty() ? args.name : g.String("collector.name");
  if (s->name.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    s->name = std::string(host) + ":" + std::to_string(::getpid());
  }
  s->database = !args.database.empty() ? args.database : g.String("collector.database");
  s->state_dir = g.String("state_dir");
  s->agent_urls = g.Strings("collector.agents");
  for (const auto& a : args.agents) s->agent_urls.push_back(a);
  s->pull_interval_seconds = g.Double("collector.pull_interval_seconds");
  s->attest_interval_seconds = g.Double("collector.attest_interval_seconds");
  s->jitter_ratio = g.Double("collector.jitter_ratio");
  s->slow_seconds = g.Double("collector.slow_seconds");
  s->fetch.connect_timeout_seconds = g.Double("collector.connect_timeout_seconds");
  s->fetch.deadline_seconds = g.Double("collector.fetch_deadline_seconds");
  s->fetch.max_response_bytes = static_cast<size_t>(g.Int("collector.max_response_bytes"));
  AgentTlsOptions tls;
  tls.ca_file = g.String("collector.agent_ca_file");
  tls.client_cert_file = g.String("collector.agent_client_cert_file");
  tls.client_key_file = g.String("collector.agent_client_key_file");
  RESMETER_ASSIGN_OR_RETURN(s->fetch.tls, AgentTlsContext::Create(tls));
  s->fetch.basic_auth_user = g.String("collector.agent_basic_auth_user");
  const std::string password_file = g.String("collector.agent_basic_auth_password_file");
  if (!password_file.empty()) {
    if (s->fetch.basic_auth_user.empty())
      return Status::InvalidArgument(
          "collector.agent_basic_auth_password_file is set but collector.agent_basic_auth_user is empty");
    std::ifstream in(password_file);
    if (!in)
      return Status::InvalidArgument("collector.agent_basic_auth_password_file: cannot read " +
                                     password_file);
    std::getline(in, s->fetch.basic_auth_password);
    if (!s->fetch.basic_auth_password.empty() && s->fetch.basic_auth_password.back() == '\r')
      s->fetch.basic_auth_password.pop_back();
  }
  s->workers = static_cast<int>(g.Int("collector.workers"));
  s->lease_ttl_seconds = g.Double("collector.lease_ttl_seconds");
  s->allow_dev_evidence = g.Bool("collector.allow_dev_evidence");
  s->allow_fixture_roots = g.Bool("collector.allow_fixture_roots");
  EvidenceVerifyOptions base;
  base.trust_anchors_dir = g.String("evidence.trust_anchors_dir");
  base.allow_none = s->allow_dev_evidence;
  const std::string policy_file = g.String("collector.policy");
  if (!policy_file.empty()) {
    RESMETER_ASSIGN_OR_RETURN(Policy p, LoadPolicyFile(policy_file));
    s->policy = std::move(p);
  }
  const Policy* policy = s->policy ? &*s->policy : nullptr;
  s->evidence = EvidenceOptionsFromPolicy(policy, base);
  if (!base.trust_anchors_dir.empty()) {
    auto tsa = TsaAnchors::LoadDir(base.trust_anchors_dir + "/tsa");
    if (!tsa.ok()) return tsa.status().WithContext("TSA anchors");
    s->tsa_anchors = std::move(*tsa);
  }
  s->accepted_key_origins = AcceptedKeyOrigins(policy);
  return s;
}

int RunCollector(const CliGlobals& globals, const CollectorArgs& args) {
  Logger log;
  auto config = globals.LoadConfig();
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  auto settings = SettingsFromConfig(*config, args);
  if (!settings.ok()) return Fail(kExitUsage, settings.status().message());
  const std::string& db = (*settings)->database;
  if (db.empty()) {  // the default SQLite file lives in the state directory: ours alone
    auto dir = SafeDir::Open((*settings)->state_dir, 0700);
    if (!dir.ok()) return Fail(kExitUsage, "state_dir: " + dir.status().message());
  }
  auto store = CollectorStore::Open(db, (*settings)->state_dir);
  if (!store.ok()) return Fail(kExitUsage, "collector database: " + store.status().message());

  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Collector collector(*settings, std::move(*store));
  CollectorApi api(&collector);
  HttpServer server;
  HttpServerOptions so;
  so.listen = !args.listen.empty() ? args.listen : config->global.String("collector.listen");
  so.threads = static_cast<int>(config->global.Int("collector.http_threads"));
  so.max_body_bytes = 1024 * 1024;  // identity documents carry certificate chains
  so.max_connections_per_client = 16;
  so.web_config_file = config->global.String("collector.web_config_file");
  if (Status s = server.Start(so, [&api](const HttpRequest& req) { return api.Handle(req); }); !s.ok())
    return Fail(kExitUsage, s.message());
  if (Status s = collector.Start(); !s.ok()) {
    server.Stop();
    return Fail(kExitUsage, "collector: " + s.message());
  }
  log.Info("collector started",
           {{"name", (*settings)->name},
            {"port", server.port()},
            {"database", collector.store().backend()},
            {"agents_configured", static_cast<int64_t>((*settings)->agent_urls.size())}});
  if (args.duration_seconds > 0) {
    timespec ts{
        static_cast<time_t>(args.duration_seconds),
        static_cast<long>((args.duration_seconds - static_cast<time_t>(args.duration_seconds)) * 1e9)};
    siginfo_t info;
    (void)sigtimedwait(&signals, &info, &ts);
  } else {
    int sig = 0;
    while (sigwait(&signals, &sig) != 0) {
    }
  }
  log.Info("collector stopping", {{"name", (*settings)->name}});
  server.Stop();
  collector.Stop(true);
  return kExitOk;
}

}  // namespace

void RegisterCollectorCommand(CLI::App& app, CliGlobals& globals, int* exit_code) {
  auto args = std::make_shared<CollectorArgs>();
  auto* cmd = app.add_subcommand(
      "collector",
      "run a marketplace collector: pull, audit and store the ledgers and reports of many agents");
  cmd->add_option("--listen", args->listen, "host:port of its HTTP server (default collector.listen)");
  cmd->add_option("--database", args->database,
                  "sqlite:PATH or postgresql://... (default collector.database; empty: SQLite in state_dir)");
  cmd->add_option("--name", args->name, "this collector's name in leases and events (default hostname:pid)");
  cmd->add_option("--agent", args->agents,
                  "an agent base URL to admit (repeatable; added to collector.agents)");
  cmd->add_option("--duration", args->duration_seconds,
                  "stop after this many seconds (default: until SIGTERM)");
  cmd->callback([&globals, exit_code, args]() { *exit_code = RunCollector(globals, *args); });
}

}  // namespace resmeter
