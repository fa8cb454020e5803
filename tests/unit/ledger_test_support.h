// Test helpers for the ledger v2 tests: SEV-SNP evidence from a chain the
// tests mint (so genuine epochs pass appraisal without development mode),
// audit options that trust that chain, and finding lookups. Not thread-safe.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>

#include "evidence/evidence.h"
#include "ledger/ledger_audit.h"
#include "ledger/ledger_writer.h"
#include "jose/signing_key.h"
#include "support/temp_dir.h"
#include "snp_test_chain.h"

namespace resmeter {

// The audit time the tests use (after every generated period).
inline constexpr double kLedgerTestAuditTime = 2'000'000'000;

class LedgerEvidence {
 public:
  // Mints a chain and writes its anchor into `anchors_dir` (created).
  explicit LedgerEvidence(const std::string& anchors_dir)
      : chain_(std::make_shared<testing::SnpTestChain>("Ledger")), dir_(anchors_dir) {
    ::mkdir(dir_.c_str(), 0700);
    std::ofstream(dir_ + "/amd_ask_ark_test.pem") << chain_->AnchorPem();
  }
  // Evidence bound to SHA-512(kid || nonce), as an agent in a SEV-SNP guest collects it.
  std::function<Result<nlohmann::json>(const std::string&, const std::string&)> Collector() const {
    auto chain = chain_;
    return [chain](const std::string& kid, const std::string& nonce) -> Result<nlohmann::json> {
      testing::SyntheticSnpReport f;
      f.report_data = ComputeUserData(kid, nonce);
      return nlohmann::json{{"type", "sev-snp"},
                            {"report", Base64Encode(chain->SignReport(f))},
                            {"vcek", Base64Encode(chain->VcekDer())}};
    };
  }
  // Evidence options trusting the minted chain (the writer's recovery
  // appraises epochs with them); `allow_dev`: accept "none" evidence.
  EvidenceVerifyOptions VerifyOptions(bool allow_dev = false) const {
    EvidenceVerifyOptions o;
    o.trust_anchors_dir = dir_;
    o.allow_none = allow_dev;
    return o;
  }
  // Audit options trusting the minted chain; `allow_dev`: accept "none" evidence.
  LedgerAuditOptions Options(bool allow_dev = false) const {
    LedgerAuditOptions o;
    o.evidence = VerifyOptions(allow_dev);
    o.now_unix_seconds = kLedgerTestAuditTime;
    o.threads = 2;
    return o;
  }

 private:
  std::shared_ptr<testing::SnpTestChain> chain_;
  std::string dir_;
};

// Every finding, one per line, for failure messages.
inline std::string DescribeFindings(const LedgerAuditResult& r) {
  std::string s;
  for (const auto& f : r.findings)
    s += f.kind + " [" + std::to_string(f.seq) + ".." + std::to_string(f.seq_end) + "]: " + f.message + "\n";
  return s;
}

// The first finding of `kind`, or a failure.
inline LedgerFinding FindFinding(const LedgerAuditResult& r, const std::string& kind) {
  for (const auto& f : r.findings) {
    if (f.kind == kind) return f;
  }
  ADD_FAILURE() << "no '" << kind << "' finding in:\n" << DescribeFindings(r);
  return {};
}

// Whether some finding is of `kind`.
inline bool HasFinding(const LedgerAuditResult& r, const std::string& kind) {
  for (const auto& f : r.findings) {
    if (f.kind == kind) return true;
  }
  return false;
}

// A ledger directory in a temp dir whose epochs carry SEV-SNP test evidence,
// and a writer opened with a fresh key per start, as the agent does. The
// writer and recovery tests derive their fixtures from it.
class LedgerWriterFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    evidence_ = std::make_unique<LedgerEvidence>(tmp_.path() + "/anchors");
    options_.dir = tmp_.path() + "/ledger";
    options_.collect_evidence = evidence_->Collector();
    options_.epoch_evidence = evidence_->VerifyOptions();
  }
  // Opens the writer with a fresh key, as every agent start does.
  std::unique_ptr<LedgerWriter> Open(double now) {
    key_ = *SigningKey::Generate(kAlgEdDSA);
    auto w = LedgerWriter::Open(options_, key_, LedgerClock{now, true, ""});
    EXPECT_TRUE(w.ok()) << w.status().message();
    return w.ok() ? std::move(*w) : nullptr;
  }
  // Appends n one-minute periods from `t`; returns the end time.
  double Append(LedgerWriter& w, int n, double t) {
    for (int i = 0; i < n; ++i, t += 60) {
      LedgerUsage u{{t, t + 60, 117.6, 2.4, 960, 0}, true, "", ""};
      auto seq = w.AppendUsage(u);
      EXPECT_TRUE(seq.ok()) << seq.status().message();
    }
    return t;
  }

  TempDir tmp_;
  std::unique_ptr<LedgerEvidence> evidence_;
  std::shared_ptr<SigningKey> key_;
  LedgerWriterOptions options_;
};

}  // namespace resmeter
