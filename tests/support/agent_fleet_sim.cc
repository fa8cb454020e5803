#include "support/agent_fleet_sim.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "agent/agent_state.h"
#include "agent/config.h"
#include "agent/http_api.h"
#include "agent/http_server.h"
#include "agent/metrics_exporter.h"
#include "attester/evidence_claim.h"
#include "core/env.h"
#include "core/strings.h"
#include "jose/key_origin.h"
#include "jose/signing_key.h"
#include "ledger/ledger_index.h"
#include "ledger/ledger_writer.h"
#include "report/report.h"

namespace resmeter {

const char* SimBehaviorName(SimBehavior b) {
  switch (b) {
    case SimBehavior::kHonest:
      return "honest";
    case SimBehavior::kFork:
      return "fork";
    case SimBehavior::kRollback:
      return "rollback";
    case SimBehavior::kTamper:
      return "tamper";
    case SimBehavior::kDead:
      return "dead";
    case SimBehavior::kSlowloris:
      return "slowloris";
    case SimBehavior::kGarbage:
      return "garbage";
    case SimBehavior::kHuge:
      return "huge";
    case SimBehavior::kWrongContentType:
      return "wrong_content_type";
    case SimBehavior::kWrongKey:
      return "wrong_key";
  }
  return "?";
}

namespace {

double Wall() { return DefaultEnv()->WallSeconds(); }

Config SimConfig() {
  Config c = DefaultConfig();
  c.global.Set("evidence.backend", "none");
  c.global.Set("api.ledger_rate_per_minute", 60000.0);
  c.global.Set("api.ledger_burst", int64_t{10000});
  c.global.Set("api.attest_rate_per_minute", 6000.0);
  c.global.Set("api.attest_burst", int64_t{1000});
  c.global.Set("api.attest_client_rate_per_minute", 6000.0);
  c.global.Set("api.attest_client_burst", int64_t{1000});
  c.global.Set("api.ledger_max_lines", int64_t{2000});
  return c;
}

// One ledger: its writer (absent while "restored and silent") and its read index.
struct SimLedger {
  std::string dir;
  std::shared_ptr<SigningKey> key;
  std::unique_ptr<LedgerWriter> writer;
  LedgerIndex index;
  double last_end = 0;
};

Status OpenLedger(SimLedger& l, const Config& config) {
  RESMETER_ASSIGN_OR_RETURN(l.key, SigningKey::Generate(kAlgEdDSA));
  LedgerWriterOptions wo;
  wo.dir = l.dir;
  wo.sync = false;
  const Options global = config.global;
  wo.collect_evidence = [global](const std::string& kid, const std::string& nonce) {
    return CollectEvidenceClaim(global, kid, nonce);
  };
  wo.epoch_evidence.allow_none = true;
  const double now = Wall();
  RESMETER_ASSIGN_OR_RETURN(l.writer, LedgerWriter::Open(wo, l.key, LedgerClock{now, true, ""}));
  l.last_end = now;
  return l.index.Build(l.dir);
}

Status AppendPeriod(SimLedger& l) {
  if (!l.writer) return Status::Ok();
  const double now = Wall();
  LedgerUsage u;
  u.start_unix_seconds = l.last_end;
  u.end_unix_seconds = now;
  const double len = now - l.last_end;
  u.vcpu_delivered_seconds = 4 * len * 0.98;
  u.vcpu_stolen_seconds = 4 * len * 0.02;
  u.memory_gib_seconds = 16 * len;
  u.gpu_seconds = 0;
  u.time_trusted = true;
  RESMETER_RETURN_IF_ERROR(l.writer->AppendUsage(u).status());
  l.last_end = now;
  return l.index.Extend();
}

// Copies the ledger files (not LOCK) of `from` into a new directory `to`.
void CopyLedgerFiles(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  fs::create_directories(to);
  fs::permissions(to, fs::perms::owner_all);
  for (const auto& e : fs::directory_iterator(from)) {
    const std::string name = e.path().filename();
    if (StartsWith(name, "ledger-"))
      fs::copy_file(e.path(), fs::path(to) / name, fs::copy_options::overwrite_existing);
  }
}

}  // namespace

struct SimAgent {
  size_t index = 0;
  SimBehavior behavior = SimBehavior::kHonest;
  std::mutex mu;
  SimLedger main, clone, snapshot;
  bool forked = false, rolled_back = false, snapshot_taken = false, misbehaving = false;
  double resume_at = 0;
  std::atomic<uint64_t> served{0};
  std::unique_ptr<AgentState> state;
  std::unique_ptr<MetricsExporter> exporter;
  std::unique_ptr<HttpApi> api;
  std::unique_ptr<HttpServer> own_server;  // dead agent
  int own_port = 0;
  nlohmann::json identity;
  std::shared_ptr<SigningKey> forger;  // wrong-key agent: the provider's key

  Result<std::string> Read(uint64_t from, size_t max_lines) {
    std::lock_guard<std::mutex> lock(mu);
    SimLedger* l = &main;
    // Each request answers from one of the two histories, picked by a
    // well-mixed bit of the request count (not its parity, which a
    // collector's page pattern could lock onto).
    if (forked && ((served++ * 0x9E3779B97F4A7C15ull) >> 63) == 1) l = &clone;
    if (rolled_back) l = &snapshot;
    RESMETER_ASSIGN_OR_RETURN(std::string text, l->index.Read(from, max_lines));
    if (behavior == SimBehavior::kTamper) {
      // Seq 3's delivered vCPU-seconds grow by half: the signature no longer covers the line.
      const std::string key = "\"seq\":3,";
      size_t at = text.find(key);
      if (at != std::string::npos) {
        const size_t v = text.find("\"vcpu_delivered_seconds\":", at);
        const size_t eol = text.find('\n', at);
        if (v != std::string::npos && v < eol) text.insert(v + 25, "9");
      }
    }
    if (behavior == SimBehavior::kWrongKey && misbehaving && !text.empty() && l->writer) {
      // One more statement after the head: linked, but signed by a key no epoch declared.
      const size_t last_start = text.rfind('\n', text.size() - 2);
      const std::string last = text.substr(last_start == std::string::npos ? 0 : last_start + 1);
      LedgerStatement s;
      s.seq = l->writer->last_seq() + 1;
      s.prev = LedgerLineHash(std::string_view(last).substr(0, last.size() - 1));
      s.kind = LedgerKind::kUsage;
      s.kid = forger->Thumbprint();
      s.start_unix_seconds = l->last_end;
      s.end_unix_seconds = l->last_end + 0.1;
      s.vcpu_delivered_seconds = 1000;
      s.time_trusted = true;
      auto forged = SealLedgerStatement(s, *forger);
      if (forged.ok() && text.find("\"seq\":" + std::to_string(s.seq - 1) + ",") != std::string::npos)
        text += *forged + "\n";
    }
    return text;
  }
};

struct AgentFleetSim::Impl {
  AgentFleetSimOptions o;
  Config config = SimConfig();
  std::vector<std::unique_ptr<SimAgent>> agents;
  HttpServer server;
  int slow_fd = -1, slow_port = 0;
  std::thread ticker, slowloris;
  std::atomic<bool> stop{false};
  double started = 0;
  std::atomic<uint64_t> written{0};

  HttpResponse Route(const HttpRequest& req) {
    // /a/<i>/rest
    if (!StartsWith(req.path, "/a/")) return JsonError(404, "simulator: /a/<index>/...");
    const size_t slash = req.path.find('/', 3);
    auto i = ParseUint64(req.path.substr(3, slash == std::string::npos ? std::string::npos : slash - 3));
    if (!i || *i >= agents.size()) return JsonError(404, "simulator: no such agent");
    SimAgent& a = *agents[*i];
    HttpRequest inner = req;
    inner.path = slash == std::string::npos ? "/" : req.path.substr(slash);
    bool misbehaving = false;
    {
      std::lock_guard<std::mutex> lock(a.mu);
      misbehaving = a.misbehaving;
    }
    if (misbehaving && inner.path == "/v1/ledger") {
      if (a.behavior == SimBehavior::kGarbage) {
        HttpResponse r;
        r.content_type = "application/jsonl";
        std::mt19937 rng(static_cast<unsigned>(a.served++));
        for (int k = 0; k < 4096; ++k) r.body += static_cast<char>(rng() % 256);
        r.body += "\n";
        return r;
      }
      if (a.behavior == SimBehavior::kHuge) {
        HttpResponse r;
        r.content_type = "application/jsonl";
        r.body.assign(24u << 20, 'x');
        return r;
      }
      if (a.behavior == SimBehavior::kWrongContentType) {
        HttpResponse r;
        r.content_type = "text/html";
        r.body = "<html>maintenance</html>\n";
        return r;
      }
    }
    return a.api->Handle(inner);
  }

  Status StartAgent(size_t i) {
    auto a = std::make_unique<SimAgent>();
    a->index = i;
    a->behavior = i < o.behaviors.size() ? o.behaviors[i] : SimBehavior::kHonest;
    const std::string base = o.dir + "/agent-" + std::to_string(i);
    std::filesystem::create_directories(base);
    std::filesystem::permissions(base, std::filesystem::perms::owner_all);
    a->main.dir = base + "/ledger";
    a->clone.dir = base + "/clone";
    a->snapshot.dir = base + "/snapshot";
    RESMETER_RETURN_IF_ERROR(OpenLedger(a->main, config));
    if (a->behavior == SimBehavior::kWrongKey) {
      RESMETER_ASSIGN_OR_RETURN(a->forger, SigningKey::Generate(kAlgEdDSA));
    }
    // The agent's identity: its ledger's first epoch key, with "none" evidence bound to it.
    AgentIdentity id;
    id.kid = a->main.key->Thumbprint();
    id.alg = a->main.key->algorithm();
    id.ueid = UeidForThumbprint(id.kid);
    id.jwk = a->main.key->PublicJwk();
    RESMETER_ASSIGN_OR_RETURN(id.evidence, CollectEvidenceClaim(config.global, id.kid, std::string()));
    a->identity = {{"kid", id.kid},
                   {"alg", id.alg},
                   {"ueid", id.ueid},
                   {"jwk", id.jwk},
                   {"key_origin", "ephemeral"},
                   {"iat", static_cast<int64_t>(Wall())},
                   {"evidence", id.evidence}};
    a->state = std::make_unique<AgentState>(std::move(id), Wall());
    a->exporter = std::make_unique<MetricsExporter>(a->state.get());
    HttpApi::Deps d;
    d.state = a->state.get();
    d.exporter = a->exporter.get();
    d.env = DefaultEnv();
    SimAgent* raw = a.get();
    const Options global = config.global;
    d.attest = [raw, global](const std::string& nonce_hex, const std::vector<std::string>&,
                             double) -> Result<SignedReport> {
      std::shared_ptr<SigningKey> key;
      {
        std::lock_guard<std::mutex> lock(raw->mu);
        key = raw->rolled_back && raw->snapshot.key ? raw->snapshot.key : raw->main.key;
      }
      ReportInputs in;
      in.nonce_hex = nonce_hex;
      in.issued_at_unix_seconds = Wall();
      in.validity_seconds = 600;
      in.key_origin = std::string(kKeyOriginEphemeral);
      in.live = false;
      in.not_live_reasons = {"simulator"};
      const std::string nonce_bytes = HexDecode(nonce_hex).value_or("");
      RESMETER_ASSIGN_OR_RETURN(in.evidence, CollectEvidenceClaim(global, key->Thumbprint(), nonce_bytes));
      SignedReport r;
      RESMETER_ASSIGN_OR_RETURN(r.token, SignReport(in, *key));
      r.digest_hex = LedgerLineHash(r.token);
      return r;
    };
    d.ledger = [raw](uint64_t from, size_t max_lines) { return raw->Read(from, max_lines); };
    a->api = std::make_unique<HttpApi>(d, std::make_shared<const Config>(config));
    if (a->behavior == SimBehavior::kDead) {
      a->own_server = std::make_unique<HttpServer>();
      HttpServerOptions so;
      so.listen = "127.0.0.1:0";
      so.threads = 2;
      so.max_connections_per_client = 64;
      so.max_body_bytes = 4096;
      SimAgent* agent = raw;
      RESMETER_RETURN_IF_ERROR(a->own_server->Start(so, [agent](const HttpRequest& req) {
        HttpRequest inner = req;
        const size_t slash = req.path.find('/', 3);
        inner.path = slash == std::string::npos ? "/" : req.path.substr(slash);
        return agent->api->Handle(inner);
      }));
      a->own_port = a->own_server->port();
    }
    agents.push_back(std::move(a));
    return Status::Ok();
  }

  void Tick() {
    const double now = Wall();
    const double t = now - started;
    for (auto& ap : agents) {
      SimAgent& a = *ap;
      std::unique_ptr<HttpServer> to_stop;
      {
        std::lock_guard<std::mutex> lock(a.mu);
        if (a.behavior == SimBehavior::kRollback && !a.snapshot_taken && t >= o.misbehave_at_seconds / 2) {
          CopyLedgerFiles(a.main.dir, a.snapshot.dir);
          a.snapshot_taken = true;
        }
        if (t >= o.misbehave_at_seconds && !a.misbehaving) {
          a.misbehaving = true;
          if (a.behavior == SimBehavior::kDead) to_stop = std::move(a.own_server);
          if (a.behavior == SimBehavior::kFork) {
            CopyLedgerFiles(a.main.dir, a.clone.dir);
            if (OpenLedger(a.clone, config).ok()) a.forked = true;
          }
          if (a.behavior == SimBehavior::kRollback && a.snapshot_taken) {
            // Restored: the snapshot's files, no writer until the VM "boots" again.
            if (a.snapshot.index.Build(a.snapshot.dir).ok()) {
              a.rolled_back = true;
              a.resume_at = now + o.rollback_quiet_seconds;
              a.main.writer.reset();
            }
          }
        }
        if (a.rolled_back && !a.snapshot.writer && now >= a.resume_at) (void)OpenLedger(a.snapshot, config);
        if (a.behavior != SimBehavior::kDead || !a.misbehaving) {
          if (AppendPeriod(a.main).ok() && a.main.writer) ++written;
        }
        if (a.forked) (void)AppendPeriod(a.clone);
        if (a.rolled_back) (void)AppendPeriod(a.snapshot);
      }
      if (to_stop) to_stop->Stop();
    }
  }

  void SlowlorisLoop() {
    std::vector<std::pair<int, double>> conns;
    while (!stop) {
      pollfd p{slow_fd, POLLIN, 0};
      if (::poll(&p, 1, 200) > 0) {
        const int c = ::accept4(slow_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c >= 0) conns.emplace_back(c, Wall());
      }
      // One byte of a never-ending header to each open connection.
      static const char kHead[] = "HTTP/1.1 200 OK\r\nContent-Type: application/jsonl\r\nX-Slow: ";
      for (auto it = conns.begin(); it != conns.end();) {
        const size_t k = static_cast<size_t>((Wall() - it->second) / 0.2);
        const char c = k < sizeof kHead - 1 ? kHead[k] : 'z';
        if (::send(it->first, &c, 1, MSG_NOSIGNAL) < 0 || Wall() - it->second > 120) {
          ::close(it->first);
          it = conns.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& [fd, t] : conns) ::close(fd);
  }
};

AgentFleetSim::AgentFleetSim(AgentFleetSimOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->o = std::move(options);
}
AgentFleetSim::~AgentFleetSim() { Stop(); }

Status AgentFleetSim::Start() {
  Impl& m = *impl_;
  std::filesystem::create_directories(m.o.dir);
  for (size_t i = 0; i < m.o.agents; ++i) RESMETER_RETURN_IF_ERROR(m.StartAgent(i));
  HttpServerOptions so;
  so.listen = "127.0.0.1:0";
  so.threads = m.o.http_threads;
  // Every agent's clients come from 127.0.0.1: a per-client cap means
  // nothing here, and its scan of this process's thousands of ledger file
  // descriptors per connection was the bench's bottleneck (agent/http_server.h).
  so.max_connections_per_client = 0;
  so.listen_backlog = 1024;
  so.max_body_bytes = 4096;
  so.web_config_file = m.o.web_config_file;
  RESMETER_RETURN_IF_ERROR(m.server.Start(so, [&m](const HttpRequest& req) { return m.Route(req); }));
  m.slow_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(m.slow_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(m.slow_fd, 64) != 0)
    return Status::IOError("simulator: cannot listen for the slowloris agent");
  socklen_t len = sizeof addr;
  ::getsockname(m.slow_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  m.slow_port = ntohs(addr.sin_port);
  m.started = Wall();
  m.ticker = std::thread([&m] {
    while (!m.stop) {
      m.Tick();
      std::this_thread::sleep_for(std::chrono::duration<double>(m.o.period_seconds));
    }
  });
  m.slowloris = std::thread([&m] { m.SlowlorisLoop(); });
  return Status::Ok();
}

void AgentFleetSim::Stop() {
  Impl& m = *impl_;
  if (m.stop.exchange(true)) return;
  if (m.ticker.joinable()) m.ticker.join();
  if (m.slowloris.joinable()) m.slowloris.join();
  if (m.slow_fd >= 0) ::close(m.slow_fd);
  m.server.Stop();
  for (auto& a : m.agents)
    if (a->own_server) a->own_server->Stop();
}

std::string AgentFleetSim::Url(size_t i) const {
  const SimAgent& a = *impl_->agents.at(i);
  if (a.behavior == SimBehavior::kSlowloris) return "http://127.0.0.1:" + std::to_string(impl_->slow_port);
  if (a.behavior == SimBehavior::kDead)
    return "http://127.0.0.1:" + std::to_string(a.own_port) + "/a/" + std::to_string(i);
  return std::string(impl_->server.tls() ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(impl_->server.port()) + "/a/" + std::to_string(i);
}

nlohmann::json AgentFleetSim::Identity(size_t i) const { return impl_->agents.at(i)->identity; }
SimBehavior AgentFleetSim::behavior(size_t i) const { return impl_->agents.at(i)->behavior; }
size_t AgentFleetSim::size() const { return impl_->agents.size(); }
uint64_t AgentFleetSim::statements_written() const { return impl_->written.load(); }

}  // namespace resmeter
