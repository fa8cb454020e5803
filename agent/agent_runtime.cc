#include "agent/agent_runtime.h"

#include <unistd.h>

#include "agent/commands.h"
#include "core/safe_dir.h"
#include "attester/evidence_claim.h"
#include "jose/key_origin.h"
#include "jose/key_store.h"
#include "ledger/ledger_files.h"
#include "report/report.h"
#include "timesource/time_claim.h"

namespace resmeter {
namespace {

HttpServerOptions ServerOptions(const Config& c) {
  HttpServerOptions o;
  o.listen = c.global.String("agent.listen");
  o.threads = static_cast<int>(c.global.Int("agent.http_threads"));
  o.max_body_bytes = static_cast<size_t>(c.global.Int("api.max_body_bytes"));
  o.max_header_bytes = static_cast<size_t>(c.global.Int("api.max_header_bytes"));
  o.request_timeout_seconds = c.global.Double("api.request_timeout_seconds");
  o.request_deadline_seconds = c.global.Double("agent.http_request_deadline_seconds");
  o.max_connections_per_client = static_cast<size_t>(c.global.Int("agent.http_max_connections_per_client"));
  o.listen_backlog = static_cast<int>(c.global.Int("agent.http_listen_backlog"));
  o.web_config_file = c.global.String("agent.web_config_file");
  return o;
}

// Keys read only at start.
constexpr const char* kRestartKeys[] = {"agent.listen",
                                        "agent.http_threads",
                                        "api.max_body_bytes",
                                        "api.max_header_bytes",
                                        "api.request_timeout_seconds",
                                        "agent.http_request_deadline_seconds",
                                        "agent.http_max_connections_per_client",
                                        "agent.http_listen_backlog",
                                        "agent.web_config_file",
                                        "ledger.enabled",
                                        "ledger.period_seconds",
                                        "ledger.max_file_bytes",
                                        "ledger.checkpoint_every",
                                        "state_dir",
                                        "paths.proc_root",
                                        "paths.sys_root"};

}  // namespace

AgentRuntime::~AgentRuntime() { Stop(); }

Status AgentRuntime::CheckStateDirectory(const Config& config) {
  const std::string state_dir = config.global.String("state_dir");
  auto dir = SafeDir::Open(state_dir, 0700);
  if (!dir.ok()) return dir.status().WithContext("state_dir");
  if (!config.global.Bool("ledger.enabled")) return Status::Ok();
  auto ledger = dir->OpenSubdir("ledger", 0700);
  if (!ledger.ok()) return ledger.status().WithContext("ledger");
  return CheckLedgerDirEntries(*ledger);
}

Status AgentRuntime::Start(const Config& config) {
  config_ = std::make_shared<const Config>(config);
  log_->SetFormat(config.global.String("log.format"));
  log_->SetLevel(config.global.String("log.level"));
  const std::string state_dir = config.global.String("state_dir");
  // The state directory must be ours alone (0700-style, our uid, no symlink).
  RESMETER_RETURN_IF_ERROR(CheckStateDirectory(config));
  auto safe_state_dir = SafeDir::Open(state_dir, 0700);
  if (!safe_state_dir.ok()) return safe_state_dir.status().WithContext("state_dir");

  // A fresh key in memory at every start (key_origin "ephemeral"): a key
  // file in the state directory is never read.
  std::optional<std::string> planted;
  auto key = GenerateEphemeralKey(state_dir, config.global.String("report.algorithm"), &planted);
  if (!key.ok()) return key.status().WithContext("signing key");
  key_ = *key;
  if (planted) {
    log_->Warn(
        "ignoring a key file in the state directory: agent keys are ephemeral, generated in memory at each "
        "start",
        {{"path", *planted}});
  }

  AgentIdentity id;
  id.kid = key_->Thumbprint();
  id.alg = key_->algorithm();
  id.ueid = UeidForThumbprint(id.kid);
  id.jwk = key_->PublicJwk();
  // The identity's evidence binds the key with no nonce (user data SHA-512(kid)).
  auto evidence = CollectEvidenceClaim(config.global, id.kid, std::string());
  if (!evidence.ok()) return evidence.status().WithContext("evidence");
  id.evidence = std::move(*evidence);
  const double started = env_->WallSeconds();
  // Publish the identity document (public) for `resmeter identity` and buyers.
  const nlohmann::json doc =
      BuildIdentityDocument(*key_, std::string(kKeyOriginEphemeral), id.evidence, started, std::string());
  if (Status s = safe_state_dir->WriteFileAtomically(kIdentityDocumentFile, doc.dump(2) + "\n", 0644);
      !s.ok()) {
    return s.WithContext("identity document");
  }
  state_ = std::make_unique<AgentState>(std::move(id), started);
  exporter_ = std::make_unique<MetricsExporter>(state_.get());

  if (config.global.Bool("ledger.enabled")) {
    accountant_ = std::make_unique<UsageAccountant>(env_, config.global.String("paths.proc_root"),
                                                    static_cast<double>(::sysconf(_SC_CLK_TCK)));
    UsageRecorder::Deps rd;
    rd.state = state_.get();
    rd.log = log_;
    rd.env = env_;
    rd.signer = key_;
    rd.accountant = accountant_.get();
    // Each epoch statement carries evidence bound to the ledger head.
    rd.collect_evidence = [start_config = config_](const std::string& kid, const std::string& nonce) {
      return CollectEvidenceClaim(start_config->global, kid, nonce);
    };
    // Recovery appraises earlier epochs with the agent's own verifier options;
    // "none" evidence only when this agent runs without a TEE (development mode).
    rd.epoch_evidence.trust_anchors_dir = config.global.String("evidence.trust_anchors_dir");
    const nlohmann::json& own = state_->identity().evidence;
    rd.epoch_evidence.allow_none = own.is_object() && own.contains("type") && own["type"] == "none";
    AgentState* state = state_.get();
    std::shared_ptr<const Config> start_config = config_;
    Env* env = env_;
    rd.time_claim = [state, start_config, env]() {
      nlohmann::json claim = state->TimeClaim();
      return claim.is_object() ? claim : CurrentTimeClaim(start_config->global, env->WallSeconds());
    };
    auto recorder = UsageRecorder::Open(rd, config);
    if (!recorder.ok()) return recorder.status();
    recorder_ = std::move(*recorder);
  }

  Scheduler::Deps sd;
  sd.state = state_.get();
  sd.log = log_;
  sd.env = env_;
  sd.key = key_;
  if (accountant_) {
    UsageAccountant* acc = accountant_.get();
    sd.on_runs = [acc](const std::vector<MeterRun>& runs, double) { acc->OnRuns(runs); };
  }
  scheduler_ = std::make_unique<Scheduler>(sd, config_);

  HttpApi::Deps ad;
  ad.state = state_.get();
  ad.exporter = exporter_.get();
  ad.env = env_;
  Scheduler* scheduler = scheduler_.get();
  ad.attest = [scheduler](const std::string& nonce, const std::vector<std::string>& heavy, double wait) {
    return scheduler->Attest(nonce, heavy, wait);
  };
  if (recorder_) {
    UsageRecorder* rec = recorder_.get();
    ad.ledger = [rec](uint64_t from, size_t max_lines) { return rec->Read(from, max_lines); };
  }
  api_ = std::make_unique<HttpApi>(ad, config_);

  scheduler_->Start();
  if (recorder_) recorder_->Start();
  server_ = std::make_unique<HttpServer>();
  HttpApi* api = api_.get();
  Status s =
      server_->Start(ServerOptions(config), [api](const HttpRequest& req) { return api->Handle(req); });
  if (!s.ok()) {
    Stop();
    return s;
  }
  log_->Info("agent started", {{"listen", config.global.String("agent.listen")},
                               {"port", server_->port()},
                               {"kid", key_->Thumbprint()},
                               {"state_dir", state_dir},
                               {"config", config.source}});
  return Status::Ok();
}

void AgentRuntime::Reload(const Config& config) {
  auto next = std::make_shared<const Config>(config);
  for (const char* key : kRestartKeys) {
    if (config_->global.json().value(key, nlohmann::json()) !=
        next->global.json().value(key, nlohmann::json())) {
      log_->Warn("config key changed; it takes effect at the next restart", {{"key", key}});
    }
  }
  log_->SetFormat(config.global.String("log.format"));
  log_->SetLevel(config.global.String("log.level"));
  if (scheduler_) scheduler_->UpdateConfig(next);
  if (api_) api_->UpdateConfig(next);
  config_ = next;
  if (state_) state_->RecordReload(true);
  log_->Info("config reloaded", {{"config", config.source}});
}

void AgentRuntime::RequestHeavy() {
  if (scheduler_) scheduler_->RequestHeavy();
}

void AgentRuntime::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (server_) server_->Stop();
  if (scheduler_) scheduler_->Stop();
  if (recorder_) recorder_->Stop();
  if (state_) log_->Info("agent stopped");
}

}  // namespace resmeter
