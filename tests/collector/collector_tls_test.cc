// The collector pulling agents over TLS (collector/agent_tls_context.h,
// collector/http_fetch.h) against the agent's own HTTP server with a web
// config (agent/web_config.h), with certificates made here by openssl:
//   - HttpFetch: the right CA, client certificate and password answer 200;
//     a wrong password 401; no client certificate, another CA, a certificate
//     for another host, a plain-HTTP agent behind an https:// URL: each a
//     VerifyFailed naming why; a listener that never does the handshake is
//     cut off at the deadline;
//   - the collector following simulated agents served over TLS with mutual
//     TLS and basic auth ingests their ledgers and accepts their reports; a
//     collector with another CA records a "tls" event per agent and stores
//     nothing from them.
// ~15 s.
#include <crypt.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "agent/http_server.h"
#include "collector/collector.h"
#include "collector/http_fetch.h"
#include "support/agent_fleet_sim.h"
#include "support/shell_command.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

// ca, rogue_ca; server (IP:127.0.0.1) and other_host (DNS:agent.example)
// signed by ca; client (ca) and rogue_client (rogue_ca). Empty on success.
std::string MakeCertificates(const std::string& dir) {
  const std::string script = R"(set -e
cd ")" + dir + R"("
for ca in ca rogue_ca; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $ca.key -subj "/CN=$ca" -days 2 -out $ca.crt 2>/dev/null
done
mk() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $1.key -subj "/CN=$3" -out $1.csr 2>/dev/null
  if [ -n "$4" ]; then printf 'subjectAltName=%s\n' "$4" > $1.ext; else : > $1.ext; fi
  openssl x509 -req -in $1.csr -CA $2.crt -CAkey $2.key -CAcreateserial -days 2 -extfile $1.ext -out $1.crt 2>/dev/null
}
mk server ca 127.0.0.1 IP:127.0.0.1
mk other_host ca agent.example DNS:agent.example
mk client ca collector ""
mk rogue_client rogue_ca collector ""
)";
  const std::string file = dir + "/make.sh";
  std::ofstream(file) << script;
  std::string out;
  if (RunShellCommand("bash " + file + " 2>&1", &out) != 0) return "openssl failed: " + out;
  return "";
}

std::string Bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt)) return "";
  crypt_data data{};
  const char* h = crypt_r(password.c_str(), salt, &data);
  return h ? h : "";
}

// A web config: TLS with `cert`, client certificates required and verified
// against ca.crt, user "collector" with `password` on /v1/.
std::string WriteWebConfig(const std::string& dir, const std::string& cert, const std::string& password) {
  const std::string file = dir + "/web-" + cert + ".yml";
  std::ofstream(file) << "tls_server_config:\n  cert_file: " << cert << ".crt\n  key_file: " << cert
                      << ".key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"
                      << "basic_auth_users:\n  collector: '" << Bcrypt(password) << "'\nauth_paths: [/v1/]\n";
  return file;
}

std::shared_ptr<const AgentTlsContext> Context(const std::string& dir, const std::string& ca,
                                               const std::string& client) {
  AgentTlsOptions o;
  o.ca_file = dir + "/" + ca + ".crt";
  if (!client.empty()) {
    o.client_cert_file = dir + "/" + client + ".crt";
    o.client_key_file = dir + "/" + client + ".key";
  }
  auto c = AgentTlsContext::Create(o);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : nullptr;
}

class CollectorTls : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RunShellCommand("command -v openssl >/dev/null") != 0) GTEST_SKIP() << "openssl is not installed";
    const std::string why = MakeCertificates(dir_.path());
    ASSERT_TRUE(why.empty()) << why;
  }
  TempDir dir_;
};

HttpServer::Handler Echo() {
  return [](const HttpRequest& req) {
    HttpResponse r;
    r.content_type = "text/plain";
    r.body = "hello " + req.user;
    return r;
  };
}

TEST_F(CollectorTls, FetchVerifiesTheAgentAndShowsItsCredentials) {
  const std::string d = dir_.path();
  HttpServer server;
  HttpServerOptions so;
  so.listen = "127.0.0.1:0";
  so.max_connections_per_client = 64;
  so.web_config_file = WriteWebConfig(d, "server", "s3cret");
  ASSERT_TRUE(server.Start(so, Echo()).ok());
  ASSERT_TRUE(server.tls());
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port());
  HttpFetchOptions o;
  o.connect_timeout_seconds = 2;
  o.deadline_seconds = 5;
  o.tls = Context(d, "ca", "client");
  o.basic_auth_user = "collector";
  o.basic_auth_password = "s3cret";

  auto good = HttpFetch(url, "GET", "/v1/x", "", "", o);
  ASSERT_TRUE(good.ok()) << good.status().message();
  EXPECT_EQ(good->status, 200);
  EXPECT_EQ(good->body, "hello collector");

  HttpFetchOptions wrong_password = o;
  wrong_password.basic_auth_password = "guess";
  auto denied = HttpFetch(url, "GET", "/v1/x", "", "", wrong_password);
  ASSERT_TRUE(denied.ok()) << denied.status().message();
  EXPECT_EQ(denied->status, 401);

  // Credentials never go out in clear text: an http:// URL gets no Authorization header.
  HttpServer plain;
  HttpServerOptions po;
  po.listen = "127.0.0.1:0";
  ASSERT_TRUE(plain.Start(po, Echo()).ok());
  const std::string plain_url = "http://127.0.0.1:" + std::to_string(plain.port());
  auto clear = HttpFetch(plain_url, "GET", "/v1/x", "", "", o);
  ASSERT_TRUE(clear.ok()) << clear.status().message();
  EXPECT_EQ(clear->body, "hello ");

  struct Case {
    const char* what;
    std::shared_ptr<const AgentTlsContext> tls;
    std::string url;
    const char* message;
  };
  const std::vector<Case> refused = {
      {"no client certificate", Context(d, "ca", ""), url, "certificate required"},
      {"a client certificate from another CA", Context(d, "ca", "rogue_client"), url, "unknown ca"},
      {"another CA", Context(d, "rogue_ca", "client"), url, "server certificate rejected"},
      {"a plain-HTTP agent", o.tls, "https://127.0.0.1:" + std::to_string(plain.port()), "TLS handshake"},
  };
  for (const Case& c : refused) {
    HttpFetchOptions co = o;
    co.tls = c.tls;
    auto r = HttpFetch(c.url, "GET", "/v1/x", "", "", co);
    ASSERT_FALSE(r.ok()) << c.what << ": answered " << r->status;
    EXPECT_EQ(r.status().code(), Status::Code::kVerifyFailed) << c.what << ": " << r.status().message();
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.what << ": " << r.status().message();
  }

  // A certificate for another host (DNS:agent.example) at 127.0.0.1.
  HttpServer other;
  so.web_config_file = WriteWebConfig(d, "other_host", "s3cret");
  ASSERT_TRUE(other.Start(so, Echo()).ok());
  auto mismatch = HttpFetch("https://127.0.0.1:" + std::to_string(other.port()), "GET", "/v1/x", "", "", o);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), Status::Code::kVerifyFailed);
  EXPECT_NE(mismatch.status().message().find("IP address mismatch"), std::string::npos)
      << mismatch.status().message();

  // A listener that accepts (in the kernel) but never shakes hands: cut off at the deadline.
  const int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(silent, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len);
  HttpFetchOptions quick = o;
  quick.deadline_seconds = 1;
  const auto t0 = std::chrono::steady_clock::now();
  auto stalled =
      HttpFetch("https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), "GET", "/", "", "", quick);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(silent);
  ASSERT_FALSE(stalled.ok());
  EXPECT_EQ(stalled.status().code(), Status::Code::kDeadlineExceeded) << stalled.status().message();
  EXPECT_LT(took, 3.0);

  // https:// needs a TLS context; bad client settings are one clear error.
  HttpFetchOptions none = o;
  none.tls = nullptr;
  EXPECT_EQ(HttpFetch(url, "GET", "/", "", "", none).status().code(), Status::Code::kInvalidArgument);
  AgentTlsOptions half;
  half.client_cert_file = d + "/client.crt";
  EXPECT_FALSE(AgentTlsContext::Create(half).ok());
  AgentTlsOptions mismatched;
  mismatched.client_cert_file = d + "/client.crt";
  mismatched.client_key_file = d + "/rogue_client.key";
  auto bad_key = AgentTlsContext::Create(mismatched);
  ASSERT_FALSE(bad_key.ok());
  EXPECT_NE(bad_key.status().message().find("does not match"), std::string::npos)
      << bad_key.status().message();
  AgentTlsOptions missing;
  missing.ca_file = d + "/nope.crt";
  EXPECT_FALSE(AgentTlsContext::Create(missing).ok());
}

std::shared_ptr<CollectorSettings> Settings(const std::string& name, const std::string& state_dir,
                                            std::shared_ptr<const AgentTlsContext> tls) {
  auto s = std::make_shared<CollectorSettings>();
  s->name = name;
  s->state_dir = state_dir;
  s->pull_interval_seconds = 0.5;
  s->attest_interval_seconds = 1;
  s->fetch.connect_timeout_seconds = 1;
  s->fetch.deadline_seconds = 2;
  s->fetch.tls = std::move(tls);
  s->fetch.basic_auth_user = "collector";
  s->fetch.basic_auth_password = "s3cret";
  s->workers = 4;
  s->allow_dev_evidence = true;
  s->allow_fixture_roots = true;
  s->evidence.allow_none = true;
  return s;
}

TEST_F(CollectorTls, CollectorIngestsTlsAgentsAndRecordsAWrongCa) {
  const std::string d = dir_.path();
  AgentFleetSimOptions so;
  so.dir = d + "/sim";
  so.agents = 4;
  so.period_seconds = 0.2;
  so.misbehave_at_seconds = 1e9;
  so.web_config_file = WriteWebConfig(d, "server", "s3cret");
  AgentFleetSim sim(so);
  ASSERT_TRUE(sim.Start().ok());
  ASSERT_EQ(sim.Url(0).rfind("https://", 0), 0u) << sim.Url(0);

  TempDir good_dir, rogue_dir;
  auto good_store = CollectorStore::Open("", good_dir.path());
  auto rogue_store = CollectorStore::Open("", rogue_dir.path());
  ASSERT_TRUE(good_store.ok() && rogue_store.ok());
  Collector good(Settings("good", good_dir.path(), Context(d, "ca", "client")), std::move(*good_store));
  Collector rogue(Settings("rogue", rogue_dir.path(), Context(d, "rogue_ca", "client")),
                  std::move(*rogue_store));
  // Admitted through their /v1/identity over mutual TLS; the wrong CA cannot even fetch it.
  std::vector<CollectorAgent> agents;
  for (size_t i = 0; i < sim.size(); ++i) {
    auto a = good.AdmitUrl(sim.Url(i), "config");
    ASSERT_TRUE(a.ok()) << a.status().message();
    agents.push_back(*a);
  }
  auto refused = rogue.AdmitUrl(sim.Url(0), "config");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("certificate"), std::string::npos) << refused.status().message();
  // ... so it is told about them the other way (POST /v1/agents), and must still not ingest.
  std::vector<CollectorAgent> rogue_agents;
  for (size_t i = 0; i < sim.size(); ++i)
    rogue_agents.push_back(*rogue.Admit(sim.Identity(i), sim.Url(i), "api"));
  ASSERT_TRUE(good.Start().ok());
  ASSERT_TRUE(rogue.Start().ok());
  std::this_thread::sleep_for(std::chrono::seconds(5));
  good.Stop(true);
  rogue.Stop(true);
  sim.Stop();

  for (size_t i = 0; i < agents.size(); ++i) {
    auto last = good.store().LastSeq(agents[i].id);
    ASSERT_TRUE(last.ok());
    EXPECT_GE(*last, 5u) << "agent " << i << " not pulled over TLS";
    auto events = good.store().Events(agents[i].id, 1000);
    ASSERT_TRUE(events.ok());
    bool accepted = false;
    for (const auto& e : *events) {
      EXPECT_NE(e.severity, "error") << "agent " << i << ": " << e.kind << ": " << e.detail;
      accepted |= e.kind == "verdict" && e.severity == "info";
    }
    EXPECT_TRUE(accepted) << "agent " << i << ": no ACCEPTED report over TLS";

    auto rogue_last = rogue.store().LastSeq(rogue_agents[i].id);
    ASSERT_TRUE(rogue_last.ok());
    EXPECT_EQ(*rogue_last, 0u) << "agent " << i << ": ingested despite an unverified certificate";
    auto rogue_events = rogue.store().Events(rogue_agents[i].id, 1000);
    ASSERT_TRUE(rogue_events.ok());
    bool tls_event = false;
    for (const auto& e : *rogue_events) {
      if (e.kind != "tls") continue;
      tls_event = true;
      EXPECT_NE(e.detail.find("server certificate rejected"), std::string::npos) << e.detail;
    }
    EXPECT_TRUE(tls_event) << "agent " << i << ": no tls event";
  }
}

}  // namespace
}  // namespace resmeter
