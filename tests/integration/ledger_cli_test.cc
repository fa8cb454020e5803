// End-to-end: `resmeter ledger audit` on generated v2 ledgers: the verdict
// line and exit codes, text, JSON and CSV output, tamper findings, the
// identity pin and input errors.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "evidence/evidence.h"
#include "ledger/ledger_files.h"
#include "jose/signing_key.h"
#include "support/ledger_generator.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

// 2023-11-14T22:00:00Z: an hour boundary in the past (periods after the audit time are findings).
constexpr double kStart = 1'699'999'200;

struct CliResult {
  int code = -1;
  std::string out, err;
};

class LedgerCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = *SigningKey::Generate(kAlgEdDSA);
    dir_ = tmp_.path() + "/ledger";
    LedgerGeneratorOptions g;
    g.dir = dir_;
    g.start_unix_seconds = kStart;
    g.usage_statements = 150;  // 2.5 hours of one-minute periods
    g.restarts = 1;
    g.untrusted_from = 10;
    g.untrusted_to = 15;
    g.max_file_bytes = 16 * 1024;
    ASSERT_TRUE(GenerateLedger(g, key_).ok());
    // The identity document of the ledger's (first) epoch key, development evidence.
    identity_ = tmp_.path() + "/identity.json";
    const nlohmann::json none = {{"type", "none"},
                                 {"user_data", HexEncode(ComputeUserData(key_->Thumbprint(), ""))},
                                 {"trusted", false},
                                 {"reason", "development mode: test"}};
    std::ofstream(identity_) << nlohmann::json({{"jwk", key_->PublicJwk()},
                                                {"kid", key_->Thumbprint()},
                                                {"key_origin", "ephemeral"},
                                                {"evidence", none}})
                                    .dump();
  }
  CliResult Run(const std::string& args) {
    const std::string out = tmp_.path() + "/out", err = tmp_.path() + "/err";
    const std::string cmd = std::string(RESMETER_BINARY) + " " + args + " > " + out + " 2> " + err;
    int status = std::system(cmd.c_str());
    CliResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = SlurpFile(out);
    r.err = SlurpFile(err);
    return r;
  }
  // The last line of a text.
  static std::string LastLine(const std::string& text) {
    std::string t = text;
    while (!t.empty() && t.back() == '\n') t.pop_back();
    return t.substr(t.rfind('\n') + 1);
  }

  TempDir tmp_;
  std::shared_ptr<SigningKey> key_;
  std::string dir_, identity_;
};

TEST_F(LedgerCliTest, clean_ledger_prints_the_bill_and_ends_accepted) {
  auto r = Run("ledger audit " + dir_ + " --allow-dev-evidence --identity " + identity_);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(LastLine(r.out), "ACCEPTED") << r.out;
  EXPECT_NE(r.out.find("delivered vCPU-hours"), std::string::npos);
  EXPECT_NE(r.out.find("9.800"), std::string::npos) << r.out;       // 150 min x 4 vCPUs x 0.98
  EXPECT_NE(r.out.find("seq 12..16"), std::string::npos) << r.out;  // the untrusted period
  EXPECT_NE(r.out.find("epochs: 2"), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(LedgerCliTest, development_evidence_is_rejected_by_default) {
  auto r = Run("ledger audit " + dir_);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_EQ(LastLine(r.out).rfind("REJECTED: ledger.epochs.evidence", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("--allow-dev-evidence"), std::string::npos) << r.out;
}

TEST_F(LedgerCliTest, json_and_csv_outputs) {
  auto r = Run("ledger audit " + dir_ + " --allow-dev-evidence --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "ACCEPTED");
  EXPECT_TRUE(j["reasons"].empty());
  EXPECT_NEAR(j["bill"]["delivered_vcpu_hours"].get<double>(), 9.8, 1e-9);
  EXPECT_EQ(j["epochs"].size(), 2u);
  EXPECT_TRUE(j["bill"]["policy_violation_hours"].is_null());

  r = Run("ledger audit " + dir_ + " --allow-dev-evidence --csv --from 2023-11-14T22:30:00Z --to 1700002800");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("hour,statements,metered_hours,delivered_vcpu_hours,", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\n2023-11-14T22:00:00Z,30,0.500000,1.960000,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\ntotal,30,0.500000,1.960000,"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "ACCEPTED\n");
}

TEST_F(LedgerCliTest, tampering_exits_1_naming_the_seq) {
  auto files = *ListLedgerFiles(dir_);
  auto lines = ReadLines(files[1]);
  ASSERT_GT(lines.size(), 5u);
  const std::string victim = lines[3];
  lines.erase(lines.begin() + 3);
  WriteLines(files[1], lines);
  const std::string seq = victim.substr(
      victim.find("\"seq\":") + 6, victim.find(',', victim.find("\"seq\":")) - victim.find("\"seq\":") - 6);
  auto r = Run("ledger audit " + dir_ + " --allow-dev-evidence --identity " + identity_);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("seq " + seq + " missing"), std::string::npos) << r.out;
  EXPECT_EQ(LastLine(r.out).rfind("REJECTED: ledger.chain: 1 problem", 0), 0u) << r.out;
}

TEST_F(LedgerCliTest, identity_with_garbage_evidence_rejects_the_ledger) {
  const std::string garbage = tmp_.path() + "/garbage.json";
  std::ofstream(garbage) << nlohmann::json(
                                {{"jwk", key_->PublicJwk()},
                                 {"evidence", {{"type", "sev-snp"}, {"report", "bm90IGEgcmVwb3J0"}}}})
                                .dump();
  auto r = Run("ledger audit " + dir_ + " --allow-dev-evidence --identity " + garbage);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_EQ(LastLine(r.out).rfind("REJECTED: identity.evidence", 0), 0u) << r.out;
  // A valid identity of a key that signed none of the epochs.
  auto other = *SigningKey::Generate(kAlgEdDSA);
  const std::string stranger = tmp_.path() + "/stranger.json";
  std::ofstream(stranger) << nlohmann::json(
                                 {{"jwk", other->PublicJwk()},
                                  {"evidence",
                                   {{"type", "none"},
                                    {"user_data", HexEncode(ComputeUserData(other->Thumbprint(), ""))},
                                    {"reason", "development mode: test"}}}})
                                 .dump();
  r = Run("ledger audit " + dir_ + " --allow-dev-evidence --identity " + stranger);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(LastLine(r.out).find("identity.pin"), std::string::npos) << r.out;
}

TEST_F(LedgerCliTest, unusable_input_exits_2_with_one_line) {
  const std::string jwk = tmp_.path() + "/agent.jwk";
  std::ofstream(jwk) << key_->PublicJwk().dump();
  const std::string no_evidence = tmp_.path() + "/no-evidence.json";
  std::ofstream(no_evidence) << nlohmann::json({{"jwk", key_->PublicJwk()}}).dump();
  const std::string not_json = tmp_.path() + "/not.json";
  std::ofstream(not_json) << "{\"jwk\":";
  for (const std::string& args : {
           "ledger audit " + dir_ + " --policy p.yaml",
           "ledger audit " + tmp_.path() + "/nothing",
           "ledger audit " + dir_ + " --identity " + jwk,
           "ledger audit " + dir_ + " --identity " + no_evidence,
           "ledger audit " + dir_ + " --identity " + not_json,
           "ledger audit " + dir_ + " --json --csv",
           "ledger audit " + dir_ + " --from yesterday",
           "ledger audit " + jwk,
       }) {
    auto r = Run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
  }
  EXPECT_NE(Run("ledger audit " + dir_ + " --policy p.yaml").err.find("cannot open"), std::string::npos);
  std::ofstream(tmp_.path() + "/bad.yaml") << "claims:\n  - cpu.vcpu: {min: 4}\n";
  auto r = Run("ledger audit " + dir_ + " --policy " + tmp_.path() + "/bad.yaml");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("bad.yaml:2: unknown claim 'cpu.vcpu'"), std::string::npos) << r.err;
}

TEST_F(LedgerCliTest, policy_lists_violations_per_period_and_bills_the_hours) {
  const std::string policy = tmp_.path() + "/policy.yaml";
  std::ofstream(policy) << "time: {require_trusted: true}\n"
                           "claims:\n"
                           "  - cpu.vcpus: {min: 4}\n"
                           "  - memory.total_gib: {min: 16}\n"
                           "  - disk.rand_read_iops: {min: 1000, queue_depth: 32}\n";
  auto r =
      Run("ledger audit " + dir_ + " --allow-dev-evidence --identity " + identity_ + " --policy " + policy);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("1 violation"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("seq 12..16"), std::string::npos) << r.out;  // the untrusted period
  EXPECT_NE(r.out.find("time.trusted: required trusted, measured untrusted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not assessable from the ledger: disk.rand_read_iops[qd=32]"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("policy not met hours"), std::string::npos);
  EXPECT_NE(r.out.find("0.083"), std::string::npos) << r.out;  // 5 one-minute periods
  EXPECT_EQ(LastLine(r.out).rfind("REJECTED: policy:", 0), 0u) << r.out;

  r = Run("ledger audit " + dir_ + " --allow-dev-evidence --policy " + policy + " --json");
  ASSERT_EQ(r.code, 1) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "REJECTED");
  EXPECT_NEAR(j["bill"]["policy_violation_hours"].get<double>(), 5.0 / 60, 1e-6);
  EXPECT_FALSE(j["policy"]["passed"].get<bool>());
  ASSERT_EQ(j["policy"]["violations"].size(), 1u);
  EXPECT_EQ(j["policy"]["violations"][0]["first_seq"], 12);

  std::ofstream(policy) << "claims:\n  - cpu.vcpus: {min: 4}\n  - gpu.count: {equals: 1}\n";
  r = Run("ledger audit " + dir_ + " --allow-dev-evidence --policy " + policy);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("met in every period"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace resmeter
