// End-to-end: the ledger's time axis with a real TSA. The TSA is OpenSSL's
// `openssl ts -reply` behind a small HTTP front end written here
// (tests/support/test_http_server.h), with a CA and TSA certificate made by
// the test (tests/support/test_tsa.h). Checks:
//  - `resmeter agent` with 1 s periods and a stamp every 5 statements writes
//    timestamp statements; `resmeter ledger audit` is ACCEPTED with
//    time-checked hours; with the anchors of another CA it is REJECTED
//    (chain) and without any TSA anchor the time is only unchecked;
//  - a ledger written by a clock 10 minutes fast (signed and stamped as the
//    agent would, through the same TSA) is REJECTED with the bracket finding;
//  - TSAs that answer garbage, too slowly or not at all never stop metering:
//    the ledger grows, the audit is ACCEPTED with only unchecked time;
//  - reports: `resmeter probe` with the same TSA signs a report carrying its
//    token, which `resmeter verify` ACCEPTS (and REJECTS with another CA as
//    the TSA anchor); with TSAs answering garbage or not at all the probe
//    still writes its report, at once, each TSA's reason in it.
// Wall time: about 22 s (two agent runs of ~6 s, each stopped with SIGTERM).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/base64url.h"
#include "core/strings.h"
#include "jose/signing_key.h"
#include "ledger/ledger_writer.h"
#include "support/shell_command.h"
#include "support/temp_dir.h"
#include "support/test_http_server.h"
#include "support/test_tsa.h"
#include "tsa/tsa_client.h"

namespace resmeter {
namespace {

// `openssl ts -reply` answering one request per call, in `dir`.
TestHttpReply OpensslTsReply(const std::string& dir, const std::string& query) {
  static std::atomic<int> n{0};
  const std::string q = dir + "/q" + std::to_string(++n) + ".tsq";
  const std::string r = q + ".tsr";
  std::ofstream(q, std::ios::binary) << query;
  const int rc = RunShellCommand("openssl ts -reply -config " + dir + "/openssl-ts.cnf -queryfile " + q +
                                 " -out " + r + " 2>>" + dir + "/openssl.err");
  if (rc != 0) return TestHttpReply{.status = 500, .body = "openssl ts failed"};
  return TestHttpReply{.body = SlurpFile(r)};
}

class TsaLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RunShellCommand("openssl version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl CLI";
    tsa_dir_ = tmp_.path() + "/tsa";
    anchors_ = tmp_.path() + "/anchors";
    std::filesystem::create_directories(tsa_dir_);
    std::filesystem::create_directories(anchors_ + "/tsa");
    tsa_.WriteFiles(tsa_dir_);
    std::ofstream(anchors_ + "/tsa/test-ca.pem") << tsa_.CaPem();
    server_ = std::make_unique<TestHttpServer>(
        [dir = tsa_dir_](const std::string& body) { return OpensslTsReply(dir, body); });
  }

  // Runs `resmeter agent` with `tsa_yaml` (the time.tsa list) for about
  // `seconds`, then SIGTERM; returns its exit status and fills log_.
  int RunAgent(const std::string& state, const std::string& tsa_yaml, double seconds) {
    const std::string config = tmp_.path() + "/agent.yaml";
    std::ofstream(config) << "ledger:\n  period_seconds: 1\n"
                          << "agent:\n  listen: 127.0.0.1:0\n  light_interval_seconds: 1\n"
                          << "  heavy_interval_seconds: 0\n"
                          << "time:\n  tsa_every_statements: 5\n  tsa_timeout_seconds: 1\n  tsa: " << tsa_yaml
                          << "\n";
    const std::string log = tmp_.path() + "/agent.log";
    pid_t pid = fork();
    if (pid == 0) {
      freopen(log.c_str(), "w", stderr);
      execl(RESMETER_BINARY, RESMETER_BINARY, "--config", config.c_str(), "--state-dir", state.c_str(),
            "agent", static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    kill(pid, SIGTERM);
    int status = 0;
    // Stop waits at most one TSA timeout (1 s) per TSA for the last stamp; 30 s is generous.
    for (int i = 0; i < 300 && waitpid(pid, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (waitpid(pid, &status, WNOHANG) == 0 && kill(pid, 0) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ADD_FAILURE() << "the agent did not stop within 30 s of SIGTERM";
    }
    log_ = SlurpFile(log);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // `resmeter ledger audit DIR --json` with `anchors` (trust-anchor dir).
  nlohmann::json Audit(const std::string& ledger, const std::string& anchors, int* code) {
    std::string out;
    *code = RunShellCommand(std::string(RESMETER_BINARY) + " ledger audit " + ledger + " --anchors " +
                                anchors + " --allow-dev-evidence --json 2>/dev/null",
                            &out);
    auto j = nlohmann::json::parse(out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << out;
    return j;
  }

  static std::string Findings(const nlohmann::json& audit) {
    std::string s;
    for (const auto& f : audit.value("findings", nlohmann::json::array()))
      s += f.value("kind", "") + ": " + f.value("message", "") + "\n";
    return s;
  }

  TempDir tmp_;
  TestTsa tsa_;
  std::string tsa_dir_, anchors_;
  std::unique_ptr<TestHttpServer> server_;
  std::string log_;
};

TEST_F(TsaLedgerTest, AgentStampsTheLedgerAndTheAuditChecksItsTime) {
  const std::string state = tmp_.path() + "/state";
  const int rc = RunAgent(state, "[{name: test-tsa, url: \"" + server_->Url() + "\"}]", 7.5);
  EXPECT_EQ(rc, 0) << log_;
  EXPECT_NE(log_.find("ledger timestamp appended"), std::string::npos) << log_;
  EXPECT_GE(server_->requests(), 2) << "the epoch, every 5 statements, and at stop";

  int code = 0;
  nlohmann::json audit = Audit(state + "/ledger", anchors_, &code);
  EXPECT_EQ(code, 0) << audit.dump(1);
  EXPECT_EQ(audit.value("verdict", ""), "ACCEPTED") << Findings(audit);
  const nlohmann::json& t = audit["time_axis"];
  std::cout << "time axis of the agent's ledger: " << t.dump() << "\n";
  EXPECT_GE(t.value("tokens_verified", 0), 2) << t.dump();
  EXPECT_GT(t.value("time_checked_hours", 0.0), 0.0) << t.dump();
  EXPECT_EQ(t.value("tokens_rejected", -1), 0) << t.dump();

  // The same ledger with another CA as the TSA anchor: every token fails its chain.
  const std::string other = tmp_.path() + "/other-anchors";
  std::filesystem::create_directories(other + "/tsa");
  std::ofstream(other + "/tsa/other.pem") << TestTsa(TestTsa::Options{.name = "other"}).CaPem();
  audit = Audit(state + "/ledger", other, &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(audit.value("verdict", ""), "REJECTED");
  EXPECT_NE(Findings(audit).find("chain: TSA certificate"), std::string::npos) << Findings(audit);

  // No TSA anchor at all: nothing to check the tokens with; the time is unchecked, not rejected.
  const std::string none = tmp_.path() + "/no-anchors";
  std::filesystem::create_directories(none);
  audit = Audit(state + "/ledger", none, &code);
  EXPECT_EQ(code, 0) << Findings(audit);
  EXPECT_EQ(audit["time_axis"].value("time_checked_hours", -1.0), 0.0);
}

TEST_F(TsaLedgerTest, AClockTenMinutesFastIsRejectedWithTheBracketFinding) {
  // Written as the agent writes it, with a clock 600 s ahead, and stamped by
  // the same TSA at its (true) time.
  const double now = static_cast<double>(time(nullptr));
  const double clock = now + 600;
  LedgerWriterOptions o;
  o.dir = tmp_.path() + "/fast";
  auto key = *SigningKey::Generate(kAlgEdDSA);
  auto w = LedgerWriter::Open(o, key, LedgerClock{clock, true, ""});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto stamp_head = [&] {
    auto stamp =
        RequestTimestamp({"test-tsa", server_->Url()}, *HexDecode((*w)->head()), {.timeout_seconds = 5});
    ASSERT_TRUE(stamp.ok()) << stamp.status().ToString() << SlurpFile(tsa_dir_ + "/openssl.err");
    LedgerTimestampFields f{(*w)->last_seq(), (*w)->head(), "test-tsa", stamp->nonce_hex,
                            Base64UrlEncode(stamp->token_der)};
    ASSERT_TRUE((*w)->AppendTimestamp(f).ok());
  };
  stamp_head();
  double t = clock;
  for (int i = 0; i < 6; ++i, t += 1) {
    if (i == 5) stamp_head();
    ASSERT_TRUE((*w)->AppendUsage(LedgerUsage{{t, t + 1, 1, 0, 1, 0}, true, "", ""}).ok());
  }
  stamp_head();
  ASSERT_TRUE((*w)->Close().ok());

  int code = 0;
  // --allow-dev-evidence: the writer has no TEE evidence; periods end in the
  // audit's future too (600 s ahead), which is its own finding.
  nlohmann::json audit = Audit(o.dir, anchors_, &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(audit.value("verdict", ""), "REJECTED");
  bool bracket = false;
  for (const auto& f : audit["findings"]) {
    if (f.value("kind", "") != "time_bracket" || bracket) continue;
    bracket = true;                               // the first names the first statement outside its bracket
    EXPECT_EQ(f.value("seq", 0), 3) << f.dump();  // epoch 1, timestamp 2, first usage 3
    EXPECT_NE(f.value("message", "").find("ran fast"), std::string::npos) << f.dump();
  }
  EXPECT_TRUE(bracket) << Findings(audit);
  bool time_reason = false;
  for (const auto& r : audit["reasons"]) time_reason |= r.get<std::string>().rfind("ledger.time", 0) == 0;
  EXPECT_TRUE(time_reason) << audit["reasons"].dump();
}

// `resmeter probe` (meter `time` only: fast, and no chronyd needed) with
// `tsa_yaml` as time.tsa; returns its exit code, fills log_.
int Probe(const std::string& config_dir, const std::string& tsa_yaml, const std::string& anchors,
          const std::string& out, std::string* log) {
  const std::string config = config_dir + "/probe.yaml";
  std::ofstream(config) << "evidence:\n  backend: none\n  trust_anchors_dir: " << anchors << "\n"
                        << "time:\n  tsa_timeout_seconds: 2\n  tsa: " << tsa_yaml << "\n";
  return RunShellCommand(std::string(RESMETER_BINARY) + " --config " + config + " --state-dir " + config_dir +
                             "/probe-state probe --only time -o " + out + " 2>&1",
                         log);
}

// `resmeter verify REPORT --json` with the trust anchors `anchors`.
nlohmann::json Verify(const std::string& config_dir, const std::string& report, const std::string& anchors,
                      int* code) {
  const std::string config = config_dir + "/verify.yaml";
  std::ofstream(config) << "evidence:\n  trust_anchors_dir: " << anchors << "\n";
  std::string out;
  *code = RunShellCommand(std::string(RESMETER_BINARY) + " --config " + config + " verify " + report +
                              " --allow-dev-evidence --json 2>/dev/null",
                          &out);
  auto j = nlohmann::json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << out;
  return j;
}

const nlohmann::json* FindCheck(const nlohmann::json& verdict, const std::string& name) {
  if (!verdict.contains("checks") || !verdict["checks"].is_array()) return nullptr;
  for (const auto& c : verdict["checks"])
    if (c.value("name", "") == name) return &c;
  return nullptr;
}

TEST_F(TsaLedgerTest, ProbeReportCarriesATokenThatVerifyAccepts) {
  const std::string report = tmp_.path() + "/report.jws";
  std::string log;
  ASSERT_EQ(Probe(tmp_.path(), "[{name: test-tsa, url: \"" + server_->Url() + "\"}]", anchors_, report, &log),
            0)
      << log;
  int code = 0;
  nlohmann::json v = Verify(tmp_.path(), report, anchors_, &code);
  EXPECT_EQ(code, 0) << v.dump(1);
  EXPECT_EQ(v.value("verdict", ""), "ACCEPTED") << v.dump(1);
  const nlohmann::json* c = FindCheck(v, "timestamp[test-tsa]");
  ASSERT_NE(c, nullptr) << v.dump(1);
  EXPECT_EQ(c->value("outcome", ""), "passed") << c->dump();
  std::cout << "report token: " << c->value("detail", "") << "\n";

  // Another CA as the TSA anchor: the token's chain fails, the report is REJECTED.
  const std::string other = tmp_.path() + "/other-anchors";
  std::filesystem::create_directories(other + "/tsa");
  std::ofstream(other + "/tsa/other.pem") << TestTsa(TestTsa::Options{.name = "other"}).CaPem();
  v = Verify(tmp_.path(), report, other, &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(v.value("verdict", ""), "REJECTED");
  c = FindCheck(v, "timestamp[test-tsa]");
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c->value("detail", "").find("chain:"), std::string::npos) << c->dump();
}

TEST_F(TsaLedgerTest, ProbeWithFailingTsasStillWritesItsReportAtOnce) {
  TestHttpServer garbage([](const std::string&) { return TestHttpReply{.body = "\x30\x03garbage"}; });
  int dead_port = 0;
  {
    TestHttpServer gone([](const std::string&) { return TestHttpReply{}; });
    dead_port = gone.port();
  }
  const std::string report = tmp_.path() + "/report.jws";
  std::string log;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(Probe(tmp_.path(),
                  "[\"garbage=" + garbage.Url() + "\", \"dead=http://127.0.0.1:" + std::to_string(dead_port) +
                      "/tsa\"]",
                  anchors_, report, &log),
            0)
      << log;
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "probe with failing TSAs took " << took << " s\n";
  // Both TSAs are asked in parallel; OpenSSL retries a refused connect until the 2 s timeout.
  EXPECT_LT(took, 15.0) << "bounded by one TSA timeout (2 s; 15 s: a loaded machine)";
  int code = 0;
  nlohmann::json v = Verify(tmp_.path(), report, anchors_, &code);
  EXPECT_EQ(code, 0) << v.dump(1);
  const nlohmann::json* c = FindCheck(v, "timestamp");
  ASSERT_NE(c, nullptr) << v.dump(1);
  EXPECT_EQ(c->value("outcome", ""), "not_applicable");
  const std::string detail = c->value("detail", "");
  EXPECT_NE(detail.find("not present"), std::string::npos) << detail;
  EXPECT_NE(detail.find("garbage: "), std::string::npos) << detail;
  EXPECT_NE(detail.find("dead: "), std::string::npos) << detail;
}

TEST_F(TsaLedgerTest, TsasThatFailNeverStopMetering) {
  TestHttpServer garbage([](const std::string&) { return TestHttpReply{.body = "\x30\x03garbage"}; });
  TestHttpServer slow([](const std::string&) { return TestHttpReply{.body = "late", .delay_seconds = 60}; });
  int dead_port = 0;
  {
    TestHttpServer gone([](const std::string&) { return TestHttpReply{}; });
    dead_port = gone.port();
  }
  const std::string state = tmp_.path() + "/state";
  const int rc = RunAgent(state,
                          "[\"garbage=" + garbage.Url() + "\", \"slow=" + slow.Url() +
                              "\", \"dead=http://127.0.0.1:" + std::to_string(dead_port) + "/tsa\"]",
                          6);
  EXPECT_EQ(rc, 0) << log_;
  EXPECT_NE(log_.find("TSA did not stamp the ledger"), std::string::npos) << log_;
  // Metering went on: at least 4 of the ~6 one-second periods were appended.
  size_t appended = 0;
  for (size_t at = 0; (at = log_.find("ledger statement appended", at)) != std::string::npos; ++at)
    ++appended;
  EXPECT_GE(appended, 4u) << log_;

  int code = 0;
  nlohmann::json audit = Audit(state + "/ledger", anchors_, &code);
  EXPECT_EQ(code, 0) << Findings(audit);
  EXPECT_EQ(audit["time_axis"].value("tokens", -1), 0);
  EXPECT_EQ(audit["time_axis"].value("time_checked_hours", -1.0), 0.0);
  EXPECT_GT(audit["time_axis"].value("time_unchecked_hours", 0.0), 0.0);
}

}  // namespace
}  // namespace resmeter
