// Tests of the SEV-SNP report parser and verifier: the real Milan report with
// its VCEK and AMD's chain, byte flips, wrong chains, a test-minted chain,
// policy and user-data failures.
#include "evidence/evidence_sev_snp.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/strings.h"
#include "snp_test_chain.h"

namespace resmeter {
namespace {

const std::string kData = std::string(RESMETER_SOURCE_DIR) + "/tests/data/sev-snp/";
const std::string kAnchors = std::string(RESMETER_SOURCE_DIR) + "/configs/trust-anchors/";
constexpr time_t kAt = 1735689600;  // 2025-01-01T00:00:00Z, inside every real certificate's validity

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string RealReportData() { return std::string("\x01\x02\x03\x04\x05", 5) + std::string(59, '\0'); }

class SevSnpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { chain_ = new testing::SnpTestChain("Test"); }
  static void TearDownTestSuite() {
    delete chain_;
    chain_ = nullptr;
  }
  SevSnpInput RealInput() const {
    SevSnpInput in;
    in.report = ReadAll(kData + "milan-report.bin");
    in.vcek = ReadAll(kData + "milan-vcek.der");
    in.expected_report_data = RealReportData();
    in.at = kAt;
    return in;
  }
  SevSnpVerifier Shipped(SevSnpPolicy policy = {}) const {
    auto anchors = LoadAmdTrustAnchors(kAnchors);
    EXPECT_TRUE(anchors.ok()) << anchors.status().ToString();
    return SevSnpVerifier(*anchors, std::move(policy));
  }
  SevSnpVerifier TestAnchored(SevSnpPolicy policy = {}) const {
    return SevSnpVerifier({chain_->ChainPem()}, std::move(policy));
  }
  SevSnpInput SyntheticInput(const testing::SyntheticSnpReport& f) const {
    SevSnpInput in;
    in.report = chain_->SignReport(f);
    in.vcek = chain_->VcekDer();
    in.chain = chain_->ChainPem();
    in.expected_report_data = f.report_data;
    return in;
  }
  static SevSnpPolicy DebugOk() {
    SevSnpPolicy p;
    p.allow_debug = true;
    return p;
  }
  static testing::SnpTestChain* chain_;
};
testing::SnpTestChain* SevSnpTest::chain_ = nullptr;

TEST_F(SevSnpTest, parses_every_field_of_the_real_report) {
  auto r = SevSnpReport::Parse(ReadAll(kData + "milan-report.bin"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 2u);
  EXPECT_EQ(r->signature_algo, 1u);
  // Policy 0xb0000 sets bits 16 (SMT), 17 (reserved, must be 1) and 19: per
  // the SNP ABI bit 19 is DEBUG, so this guest's policy allows debugging
  // (the test-vector README says otherwise; the ABI spec wins).
  EXPECT_EQ(r->policy, 0xb0000u);
  EXPECT_TRUE(r->debug_allowed());
  EXPECT_EQ(r->vmpl, 0u);
  EXPECT_EQ(r->report_data, RealReportData());
  EXPECT_TRUE(StartsWith(HexEncode(r->measurement), "b07af962"));
  EXPECT_TRUE(EndsWith(HexEncode(r->measurement), "e4872b01"));
  nlohmann::json j = r->ToJson();
  EXPECT_EQ(j["report_data"], HexEncode(RealReportData()));
  EXPECT_TRUE(j.contains("chip_id"));
  EXPECT_TRUE(j.contains("reported_tcb"));
}

TEST_F(SevSnpTest, parse_rejects_wrong_size) {
  EXPECT_FALSE(SevSnpReport::Parse(std::string(1183, '\0')).ok());
  EXPECT_FALSE(SevSnpReport::Parse(std::string(1185, '\0')).ok());
}

TEST_F(SevSnpTest, real_report_verifies_with_its_vcek_and_the_milan_chain) {
  // Every cryptographic and binding check passes; the default policy then
  // refuses the debug-enabled guest policy, so allow debug to see it pass.
  auto strict = Shipped().Verify(RealInput());
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("sev-snp: policy_debug:"), std::string::npos);
  auto v = Shipped(DebugOk()).Verify(RealInput());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->fields["ark"], "ARK-Milan");
  for (const char* check : {"version", "signature_algo", "ark_trusted", "vcek_chain", "vcek_tcb", "signature",
                            "report_data", "policy_debug"}) {
    EXPECT_NE(std::find(v->checks.begin(), v->checks.end(), check), v->checks.end()) << check;
  }
  // The explicit Milan chain file gives the same result.
  SevSnpInput in = RealInput();
  in.chain = ReadAll(kAnchors + "amd_ask_ark_milan.pem");
  EXPECT_TRUE(Shipped(DebugOk()).Verify(in).ok());
}

TEST_F(SevSnpTest, real_report_passes_measurement_tcb_and_vmpl_policy) {
  auto parsed = SevSnpReport::Parse(ReadAll(kData + "milan-report.bin"));
  ASSERT_TRUE(parsed.ok());
  SevSnpPolicy policy = DebugOk();
  policy.allowed_measurements = {"00", HexEncode(parsed->measurement)};
  policy.min_reported_tcb = parsed->reported_tcb;
  policy.max_vmpl = 0;
  EXPECT_TRUE(Shipped(policy).Verify(RealInput()).ok());

  policy.allowed_measurements = {std::string(96, '0')};
  auto v = Shipped(policy).Verify(RealInput());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("measurement:"), std::string::npos) << v.status().message();

  policy.allowed_measurements.clear();
  SnpTcbVersion high = parsed->reported_tcb;
  high.microcode = 255;
  policy.min_reported_tcb = high;
  v = Shipped(policy).Verify(RealInput());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("reported_tcb:"), std::string::npos) << v.status().message();
}

TEST_F(SevSnpTest, host_data_pin_passes_on_the_reports_value_and_fails_on_another) {
  auto parsed = SevSnpReport::Parse(ReadAll(kData + "milan-report.bin"));
  ASSERT_TRUE(parsed.ok());
  SevSnpPolicy policy = DebugOk();
  policy.host_data = HexEncode(parsed->host_data);
  auto v = Shipped(policy).Verify(RealInput());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_NE(std::find(v->checks.begin(), v->checks.end(), "host_data"), v->checks.end());

  std::string other = parsed->host_data;
  other[31] = static_cast<char>(other[31] ^ 0x01);
  policy.host_data = HexEncode(other);
  v = Shipped(policy).Verify(RealInput());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("sev-snp: host_data:"), std::string::npos) << v.status().message();
}

TEST_F(SevSnpTest, every_single_byte_flip_in_signed_area_or_signature_fails) {
  SevSnpVerifier verifier = Shipped(DebugOk());
  SevSnpInput base = RealInput();
  base.expected_report_data.reset();  // so only the signature protects REPORT_DATA
  int failures = 0;
  for (size_t i = 0; i < SevSnpReport::kSize; ++i) {
    SevSnpInput in = base;
    in.report[i] = static_cast<char>(in.report[i] ^ 0x01);
    auto v = verifier.Verify(in);
    EXPECT_FALSE(v.ok()) << "flip at byte " << i << " verified";
    failures += v.ok() ? 0 : 1;
  }
  EXPECT_EQ(failures, static_cast<int>(SevSnpReport::kSize));
}

TEST_F(SevSnpTest, wrong_chain_fails) {
  SevSnpInput in = RealInput();
  in.chain = ReadAll(kAnchors + "amd_ask_ark_genoa.pem");
  auto v = Shipped(DebugOk()).Verify(in);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("vcek_chain:"), std::string::npos) << v.status().message();

  in.chain = chain_->ChainPem();  // a chain whose ARK AMD never shipped
  v = Shipped().Verify(in);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("ark_trusted:"), std::string::npos) << v.status().message();

  // The real report signed by AMD is refused when only the test root is trusted.
  EXPECT_FALSE(TestAnchored().Verify(RealInput()).ok());
}

TEST_F(SevSnpTest, wrong_vcek_fails_signature) {
  SevSnpInput in = RealInput();
  in.vcek = chain_->VcekDer();
  in.chain = chain_->ChainPem();
  auto v = TestAnchored().Verify(in);
  ASSERT_FALSE(v.ok());
}

TEST_F(SevSnpTest, test_minted_report_passes_only_against_its_chain) {
  testing::SyntheticSnpReport f;
  f.report_data = ComputeUserData("thumbprint", "nonce");
  SevSnpInput in = SyntheticInput(f);
  auto v = TestAnchored().Verify(in);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  auto shipped = Shipped().Verify(in);
  ASSERT_FALSE(shipped.ok());
  EXPECT_NE(shipped.status().message().find("ark_trusted:"), std::string::npos);
  testing::SnpTestChain other("Other");
  EXPECT_FALSE(SevSnpVerifier({other.ChainPem()}, {}).Verify(in).ok());
}

TEST_F(SevSnpTest, debug_policy_fails_with_its_own_message) {
  testing::SyntheticSnpReport f;
  f.policy |= SevSnpReport::kPolicyDebugBit;
  auto v = TestAnchored().Verify(SyntheticInput(f));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Status::Code::kVerifyFailed);
  EXPECT_NE(v.status().message().find("sev-snp: policy_debug:"), std::string::npos) << v.status().message();
  SevSnpPolicy lax;
  lax.allow_debug = true;
  EXPECT_TRUE(TestAnchored(lax).Verify(SyntheticInput(f)).ok());
}

TEST_F(SevSnpTest, wrong_user_data_fails_with_its_own_message) {
  testing::SyntheticSnpReport f;
  f.report_data = ComputeUserData("thumbprint", "nonce-1");
  SevSnpInput in = SyntheticInput(f);
  in.expected_report_data = ComputeUserData("thumbprint", "nonce-2");
  auto v = TestAnchored().Verify(in);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("sev-snp: report_data:"), std::string::npos) << v.status().message();
}

TEST_F(SevSnpTest, vmpl_policy_and_expired_chain) {
  testing::SyntheticSnpReport f;
  f.vmpl = 2;
  SevSnpPolicy policy;
  policy.max_vmpl = 0;
  auto v = TestAnchored(policy).Verify(SyntheticInput(f));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("vmpl:"), std::string::npos);
  SevSnpInput in = SyntheticInput(testing::SyntheticSnpReport{});
  in.at = kAt - 10 * 365 * 86400L;  // before the test certificates were minted
  v = TestAnchored().Verify(in);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("vcek_chain:"), std::string::npos) << v.status().message();
}

TEST_F(SevSnpTest, vcek_is_found_in_a_certificate_table) {
  auto vcek = VcekFromCertTable(chain_->CertTable());
  ASSERT_TRUE(vcek.ok()) << vcek.status().ToString();
  EXPECT_EQ(*vcek, chain_->VcekDer());
  EXPECT_EQ(VcekFromCertTable(std::string(48, '\0')).status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace resmeter
