// End-to-end: `resmeter identity` with a TPM 2.0 (swtpm on loopback) produces
// a quote that `resmeter verify --identity` and `resmeter evidence verify`
// accept, and evidence for a different nonce is rejected. Also the real
// SEV-SNP and TDX vectors through `resmeter evidence verify` and its exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/shell_command.h"
#include "swtpm_process.h"

namespace resmeter {
namespace {

const std::string kBin = RESMETER_BINARY;
const std::string kSrc = RESMETER_SOURCE_DIR;

// Where the last command's stderr goes (per process: ctest runs tests in parallel).
std::string ErrPath() { return "/tmp/resmeter-evidence-cli-" + std::to_string(::getpid()) + ".err"; }

// Removes this process's stderr capture at exit.
struct ErrCleanup {
  ~ErrCleanup() { std::remove(ErrPath().c_str()); }
} g_err_cleanup;

// Runs a shell command; returns its exit status and (optionally) stdout.
int Sh(const std::string& cmd, std::string* out = nullptr) {
  return RunShellCommand(cmd + " 2>" + ErrPath(), out);
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Stderr() { return ReadAll(ErrPath()); }

TEST(EvidenceCli, real_snp_and_tdx_vectors_and_exit_codes) {
  std::string snp =
      kBin + " evidence verify --anchors " + kSrc + "/configs/trust-anchors --at 2025-01-01T00:00:00Z";
  std::string files = " --report " + kSrc + "/tests/data/sev-snp/milan-report.bin --vcek " + kSrc +
                      "/tests/data/sev-snp/milan-vcek.der";
  std::string out;
  // The real report's guest policy allows debugging: the default policy refuses it by name.
  EXPECT_EQ(Sh(snp + " --type sev-snp" + files, &out), 1);
  EXPECT_NE(out.find("REJECTED: evidence: "), std::string::npos) << out;
  EXPECT_NE(out.find("policy_debug"), std::string::npos) << out;
  EXPECT_EQ(Sh(snp + " --type sev-snp --allow-debug --json" + files, &out), 0) << Stderr();
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["verdict"], "ACCEPTED");
  EXPECT_EQ(j["evidence"]["type"], "sev-snp");
  EXPECT_EQ(j["evidence"]["fields"]["vmpl"], 0);
  EXPECT_EQ(Sh(snp + " --type sev-snp --allow-debug --report-data " + std::string(128, '0') + files, &out),
            1);
  EXPECT_NE(out.find("report_data"), std::string::npos) << out;
  EXPECT_EQ(Sh(snp + " --type sev-snp --allow-debug --report /nonexistent --vcek /nonexistent"), 2);
  EXPECT_EQ(Sh(snp + " --type tdx --quote " + kSrc + "/tests/data/tdx/quote-v4-spr.dat", &out), 0)
      << Stderr();
  EXPECT_NE(out.find("quote_signature"), std::string::npos);
  EXPECT_EQ(Sh(snp + " --type tdx --quote " + kSrc + "/tests/data/sev-snp/milan-report.bin"), 2);
}

class EvidenceCliTpm : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!tpm_.Start(&why)) GTEST_SKIP() << "skipped: " << why;
    dir_ = tpm_.state_dir() + "/cli";
    ASSERT_EQ(Sh("mkdir -p " + dir_), 0);
    base_ = kBin + " --state-dir " + dir_ +
            "/state --set evidence.backend=tpm2 --set evidence.tpm_tcti=" + tpm_.Tcti();
  }
  testing::SwtpmProcess tpm_;
  std::string dir_, base_;
};

TEST_F(EvidenceCliTpm, identity_quote_verifies_and_other_keys_quote_is_rejected) {
  const std::string n1 = "00112233445566778899aabbccddeeff";
  // Agent keys are ephemeral: a probe writes its report and its key's identity together.
  ASSERT_EQ(Sh(base_ + " probe -o " + dir_ + "/r.jws --identity-out " + dir_ + "/id1.json >/dev/null"), 0)
      << Stderr();
  ASSERT_EQ(Sh(base_ + " probe --only cpu.time -o " + dir_ + "/r2.jws --identity-out " + dir_ +
               "/id2.json >/dev/null"),
            0)
      << Stderr();
  auto id1 = nlohmann::json::parse(ReadAll(dir_ + "/id1.json"));
  EXPECT_EQ(id1["evidence"]["type"], "tpm2");
  EXPECT_EQ(id1["key_origin"], "ephemeral");
  EXPECT_FALSE(id1.contains("nonce"));

  // `resmeter verify` refuses a report with this identity: a bare swtpm's AK has
  // no AK certificate (evidence_tpm2_test.cc covers an enrolled, certified AK).
  std::string out;
  EXPECT_EQ(Sh(base_ + " verify " + dir_ + "/r.jws --identity " + dir_ + "/id1.json", &out), 1) << Stderr();
  EXPECT_NE(out.find("tpm2: ak_certificate"), std::string::npos) << out;
  EXPECT_EQ(Sh(base_ + " evidence verify --identity " + dir_ + "/id1.json", &out), 1) << Stderr();
  EXPECT_NE(out.find("tpm2: ak_certificate"), std::string::npos) << out;
  EXPECT_EQ(Sh(base_ + " evidence verify --identity " + dir_ + "/id1.json --nonce " + n1), 1);

  // A quote made for another key, presented with this key, is rejected.
  nlohmann::json forged = id1;
  forged["evidence"] = nlohmann::json::parse(ReadAll(dir_ + "/id2.json"))["evidence"];
  std::ofstream(dir_ + "/forged.json") << forged.dump();
  EXPECT_EQ(Sh(base_ + " verify " + dir_ + "/r.jws --identity " + dir_ + "/forged.json"), 1);
  EXPECT_EQ(Sh(base_ + " evidence verify --type tpm2 --evidence " + dir_ + "/forged.json --report-data " +
               std::string(128, 'a')),
            1);
  // A nonce-bound identity needs the running agent (POST /v1/attest).
  EXPECT_EQ(Sh(base_ + " identity --nonce " + n1), 2);
  EXPECT_NE(Stderr().find("POST /v1/attest"), std::string::npos) << Stderr();
}

TEST(EvidenceCli, none_evidence_in_this_vm_is_reported_and_refused_by_default) {
  char tmpl[] = "/tmp/resmeter-none-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  // No configfs-tsm root and no TPM device at these paths: auto detection falls back to none.
  std::string base = kBin + " --state-dir " + dir + "/state --set evidence.configfs_tsm_root=" + dir +
                     "/no-tsm --set evidence.tpm_tcti=device:" + dir + "/no-tpm";
  // No agent ran: `identity` has nothing to print; a probe writes its key's identity.
  EXPECT_EQ(Sh(base + " identity"), 2);
  EXPECT_NE(Stderr().find("start `resmeter agent`"), std::string::npos) << Stderr();
  ASSERT_EQ(
      Sh(base + " probe --only cpu.time -o " + dir + "/r.jws --identity-out " + dir + "/id.json >/dev/null"),
      0)
      << Stderr();
  auto id = nlohmann::json::parse(ReadAll(dir + "/id.json"));
  EXPECT_EQ(id["evidence"]["type"], "none");
  EXPECT_NE(id["evidence"]["reason"].get<std::string>().find("no-tpm"), std::string::npos);
  std::string out;
  EXPECT_EQ(Sh(base + " evidence verify --identity " + dir + "/id.json", &out), 1);
  EXPECT_NE(out.find("REJECTED: evidence: none: trusted"), std::string::npos) << out;
  EXPECT_EQ(Sh(base + " evidence verify --identity " + dir + "/id.json --allow-none"), 0) << Stderr();
  // A required backend that is absent is an error.
  EXPECT_EQ(Sh(base + " --set evidence.backend=tpm2 probe --only cpu.time --identity-out " + dir + "/x.json"),
            2);
  Sh("rm -rf " + dir);
}

}  // namespace
}  // namespace resmeter
