// A policy's evidence pins reach the verifiers: each pin is written in a
// policy file, parsed, turned into verifier options by
// EvidenceOptionsFromPolicy and checked against real SEV-SNP and TDX
// evidence (tests/data/); a value the evidence does not have fails.
#include "policy/policy_evidence.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/strings.h"
#include "evidence/evidence.h"
#include "evidence/evidence_verifier.h"
#include "jose/key_origin.h"
#include "snp_test_chain.h"

namespace resmeter {
namespace {

const std::string kSource = RESMETER_SOURCE_DIR;
constexpr time_t kAt = 1735689600;  // 2025-01-01T00:00:00Z, inside every real certificate's validity

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Policy ParseOrDie(const std::string& yaml) {
  auto p = ParsePolicy(yaml, "p.yaml");
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *p : Policy{};
}

// Verifies `evidence` with the options `policy_yaml` asks for; "" when it
// verifies, else the failure message.
std::string VerifyUnder(const std::string& policy_yaml, const nlohmann::json& evidence,
                        const std::optional<std::string>& user_data, const std::string& anchors_dir,
                        EvidenceVerdict* verdict = nullptr, std::optional<time_t> at = kAt) {
  const Policy p = ParseOrDie(policy_yaml);
  EvidenceVerifyOptions base;
  base.trust_anchors_dir = anchors_dir;
  base.at = at;
  auto v = VerifyEvidenceJson(evidence, user_data, EvidenceOptionsFromPolicy(&p, base));
  if (v.ok() && verdict != nullptr) *verdict = *v;
  return v.ok() ? "" : v.status().message();
}

bool HasCheck(const EvidenceVerdict& v, const std::string& check) {
  return std::find(v.checks.begin(), v.checks.end(), check) != v.checks.end();
}

class SnpPinsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    report_ = ReadAll(kSource + "/tests/data/sev-snp/milan-report.bin");
    auto parsed = SevSnpReport::Parse(report_);
    ASSERT_TRUE(parsed.ok());
    parsed_ = *parsed;
    evidence_ = {{"type", "sev-snp"},
                 {"report", Base64Encode(report_)},
                 {"vcek", Base64Encode(ReadAll(kSource + "/tests/data/sev-snp/milan-vcek.der"))}};
  }
  // The real report's REPORT_DATA.
  static std::string UserData() { return std::string("\x01\x02\x03\x04\x05", 5) + std::string(59, '\0'); }
  // A policy accepting sev-snp with `pins` (YAML lines under "  sev-snp:").
  static std::string PolicyWith(const std::string& pins) {
    return "evidence:\n  accept: [sev-snp]\n  sev-snp:\n    allow_debug: true\n" + pins;
  }
  std::string Verify(const std::string& yaml, EvidenceVerdict* v = nullptr) const {
    return VerifyUnder(yaml, evidence_, UserData(), kSource + "/configs/trust-anchors", v);
  }
  std::string Tcb(int microcode_delta) const {
    const SnpTcbVersion& t = parsed_.reported_tcb;
    return "    min_reported_tcb: {bootloader: " + std::to_string(t.boot_loader) +
           ", tee: " + std::to_string(t.tee) + ", snp: " + std::to_string(t.snp) +
           ", microcode: " + std::to_string(t.microcode + microcode_delta) + "}\n";
  }

  std::string report_;
  SevSnpReport parsed_;
  nlohmann::json evidence_;
};

TEST_F(SnpPinsTest, every_pin_of_the_real_report_passes) {
  EvidenceVerdict v;
  const std::string yaml =
      PolicyWith("    measurement: [" + HexEncode(parsed_.measurement) +
                 "]\n    host_data: " + HexEncode(parsed_.host_data) + "\n" + Tcb(0) + "    max_vmpl: 0\n");
  ASSERT_EQ(Verify(yaml, &v), "");
  for (const char* check : {"measurement", "host_data", "reported_tcb", "vmpl", "policy_debug"}) {
    EXPECT_TRUE(HasCheck(v, check)) << check;
  }
}

TEST_F(SnpPinsTest, a_pin_the_report_does_not_meet_fails) {
  std::string other_measurement = parsed_.measurement;
  other_measurement[0] = static_cast<char>(other_measurement[0] ^ 1);
  EXPECT_EQ(Verify(PolicyWith("    measurement: [" + HexEncode(other_measurement) + "]\n"))
                .rfind("sev-snp: measurement:", 0),
            0u);
  // The measurements shorthand pins the verifier too (per type and for any type).
  EXPECT_EQ(VerifyUnder("evidence:\n  accept: [sev-snp]\n  sev-snp: {allow_debug: true}\n  measurements: [" +
                            HexEncode(other_measurement) + "]\n",
                        evidence_, UserData(), kSource + "/configs/trust-anchors")
                .rfind("sev-snp: measurement:", 0),
            0u);
  std::string other_host_data = parsed_.host_data;
  other_host_data[5] = static_cast<char>(other_host_data[5] ^ 0x40);
  EXPECT_EQ(Verify(PolicyWith("    host_data: " + HexEncode(other_host_data) + "\n"))
                .rfind("sev-snp: host_data:", 0),
            0u);
  EXPECT_EQ(Verify(PolicyWith(Tcb(1))).rfind("sev-snp: reported_tcb:", 0), 0u);
  // allow_debug defaults to false: this guest's policy allows debugging.
  EXPECT_EQ(VerifyUnder("evidence:\n  accept: [sev-snp]\n", evidence_, UserData(),
                        kSource + "/configs/trust-anchors")
                .rfind("sev-snp: policy_debug:", 0),
            0u);
}

// VMPL: the real report runs at VMPL 0, so a guest at VMPL 2 is minted with a
// test chain (valid from now on, so checked now) installed as the only AMD anchor.
TEST(SnpVmplPinTest, a_report_above_max_vmpl_fails) {
  testing::SnpTestChain chain("Test");
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "policy_evidence_anchors";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "amd_ask_ark_test.pem") << chain.ChainPem();
  testing::SyntheticSnpReport fields;
  fields.vmpl = 2;
  const nlohmann::json evidence = {{"type", "sev-snp"},
                                   {"report", Base64Encode(chain.SignReport(fields))},
                                   {"vcek", Base64Encode(chain.VcekDer())}};
  EXPECT_EQ(VerifyUnder("evidence:\n  accept: [sev-snp]\n  sev-snp: {max_vmpl: 2}\n", evidence,
                        fields.report_data, dir.string(), nullptr, std::nullopt),
            "");
  EXPECT_EQ(VerifyUnder("evidence:\n  accept: [sev-snp]\n  sev-snp: {max_vmpl: 1}\n", evidence,
                        fields.report_data, dir.string(), nullptr, std::nullopt)
                .rfind("sev-snp: vmpl:", 0),
            0u);
}

class TdxPinsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string quote = ReadAll(kSource + "/tests/data/tdx/quote-v4-spr.dat");
    auto q = TdxQuote::Parse(quote);
    ASSERT_TRUE(q.ok());
    body_ = q->body;
    evidence_ = {{"type", "tdx"}, {"quote", Base64Encode(quote)}};
  }
  std::string Verify(const std::string& pins, EvidenceVerdict* v = nullptr) const {
    return VerifyUnder("evidence:\n  accept: [tdx]\n  tdx:\n" + pins, evidence_, body_.report_data,
                       kSource + "/configs/trust-anchors", v);
  }
  // `hex` with its first byte changed.
  static std::string Other(const std::string& raw) {
    std::string s = raw;
    s[0] = static_cast<char>(s[0] ^ 1);
    return HexEncode(s);
  }
  TdxReportBody body_;
  nlohmann::json evidence_;
};

TEST_F(TdxPinsTest, every_pin_of_the_real_quote_passes) {
  std::string pins = "    mr_td: [" + HexEncode(body_.mr_td) +
                     "]\n    min_tee_tcb_svn: " + HexEncode(body_.tee_tcb_svn) + "\n    allow_debug: false\n";
  for (int i = 0; i < 4; ++i) pins += "    rtmr" + std::to_string(i) + ": " + HexEncode(body_.rtmr[i]) + "\n";
  EvidenceVerdict v;
  ASSERT_EQ(Verify(pins, &v), "");
  for (const char* check : {"mr_td", "rtmr", "tee_tcb_svn", "td_debug"})
    EXPECT_TRUE(HasCheck(v, check)) << check;
}

TEST_F(TdxPinsTest, a_pin_the_quote_does_not_meet_fails) {
  EXPECT_EQ(Verify("    mr_td: " + Other(body_.mr_td) + "\n").rfind("tdx: mr_td:", 0), 0u);
  for (int i = 0; i < 4; ++i) {
    const std::string e = Verify("    rtmr" + std::to_string(i) + ": " + Other(body_.rtmr[i]) + "\n");
    EXPECT_EQ(e.rfind("tdx: rtmr: RTMR" + std::to_string(i), 0), 0u) << e;
  }
  std::string higher = body_.tee_tcb_svn;
  higher[0] = static_cast<char>(static_cast<uint8_t>(higher[0]) + 1);
  EXPECT_EQ(Verify("    min_tee_tcb_svn: " + HexEncode(higher) + "\n").rfind("tdx: tee_tcb_svn:", 0), 0u);
}

TEST(TpmPinsTest, pcrs_and_ak_reach_the_quote_verifiers_policy) {
  const std::string pcr = std::string(64, 'a');
  const Policy p = ParseOrDie("evidence:\n  accept: [tpm2]\n  tpm2:\n    pcrs: {0: " + pcr + ", 7: " +
                              std::string(64, 'B') + "}\n    ak_sha256: [" + std::string(64, 'c') + "]\n");
  const EvidenceVerifyOptions o = EvidenceOptionsFromPolicy(&p, {});
  EXPECT_EQ(o.tpm.pcrs, (std::map<int, std::string>{{0, pcr}, {7, std::string(64, 'b')}}));
  EXPECT_EQ(o.tpm.allowed_ak_sha256, std::vector<std::string>{std::string(64, 'c')});
}

TEST(PolicyEvidenceOptionsTest, base_is_kept_where_the_policy_says_nothing) {
  EvidenceVerifyOptions base;
  base.trust_anchors_dir = "/anchors";
  base.at = 42;
  base.tdx.allowed_mr_td = {"x"};
  EXPECT_EQ(EvidenceOptionsFromPolicy(nullptr, base).tdx.allowed_mr_td, std::vector<std::string>{"x"});
  const Policy p = ParseOrDie("evidence: {accept: [tdx]}\n");
  const EvidenceVerifyOptions o = EvidenceOptionsFromPolicy(&p, base);
  EXPECT_EQ(o.trust_anchors_dir, "/anchors");
  EXPECT_EQ(o.at, 42);
  EXPECT_TRUE(o.tdx.allowed_mr_td.empty());  // the policy's (no) pins replace the base's
}

TEST(PolicyEvidenceOptionsTest, key_origins) {
  EXPECT_EQ(AcceptedKeyOrigins(nullptr), std::vector<std::string>{std::string(kKeyOriginEphemeral)});
  const Policy none = ParseOrDie("evidence: {accept: [tdx]}\n");
  EXPECT_EQ(AcceptedKeyOrigins(&none), std::vector<std::string>{"ephemeral"});
  const Policy listed = ParseOrDie("evidence: {accept: [tdx], key_origins: [ephemeral]}\n");
  EXPECT_EQ(AcceptedKeyOrigins(&listed), std::vector<std::string>{"ephemeral"});
}

}  // namespace
}  // namespace resmeter
