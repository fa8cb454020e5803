// Tests of the TDX quote parser and verifier on the real Sapphire Rapids quote.
#include "evidence/evidence_tdx.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/strings.h"

namespace resmeter {
namespace {

const std::string kQuote = std::string(RESMETER_SOURCE_DIR) + "/tests/data/tdx/quote-v4-spr.dat";
const std::string kRoot = std::string(RESMETER_SOURCE_DIR) + "/configs/trust-anchors/intel_sgx_root_ca.pem";
constexpr time_t kAt = 1735689600;  // 2025-01-01T00:00:00Z

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TdxInput RealInput() {
  TdxInput in;
  in.quote = ReadAll(kQuote);
  in.at = kAt;
  return in;
}

TEST(TdxQuoteTest, parses_the_real_quote) {
  auto q = TdxQuote::Parse(ReadAll(kQuote));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->header.version, 4);
  EXPECT_EQ(q->header.att_key_type, 2);
  EXPECT_EQ(q->header.tee_type, 0x81u);
  EXPECT_EQ(q->cert_data_type, 6);
  EXPECT_EQ(q->pck_cert_data_type, 5);
  EXPECT_EQ(q->qe_auth_data.size(), 32u);
  EXPECT_EQ(q->quote_size, 4935u);
  EXPECT_EQ(q->trailing_bytes, 39u);  // "extra bytes(only for testing purpose)" appended by its source
  nlohmann::json j = q->ToJson();
  EXPECT_EQ(j["td_report"]["rtmr"].size(), 4u);
}

TEST(TdxQuoteTest, truncations_are_corruption_not_crashes) {
  std::string quote = ReadAll(kQuote);
  for (size_t n : {0, 10, 48, 631, 700, 1100, 1200, 4934}) {
    auto q = TdxQuote::Parse(std::string_view(quote).substr(0, n));
    EXPECT_EQ(q.status().code(), Status::Code::kCorruption) << n;
  }
}

TEST(TdxVerifierTest, real_quote_passes_signature_and_chain_checks) {
  TdxVerifier verifier(ReadAll(kRoot), {});
  auto v = verifier.Verify(RealInput());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  for (const char* check : {"header", "pck_root_trusted", "pck_chain", "qe_report_signature", "qe_report_binding",
                            "quote_signature", "td_debug"}) {
    EXPECT_NE(std::find(v->checks.begin(), v->checks.end(), check), v->checks.end()) << check;
  }
  ASSERT_FALSE(v->not_checked.empty());
  EXPECT_TRUE(StartsWith(v->not_checked[1], "tcb_status"));
}

TEST(TdxVerifierTest, report_data_and_mrtd_policy) {
  auto q = TdxQuote::Parse(ReadAll(kQuote));
  ASSERT_TRUE(q.ok());
  TdxInput in = RealInput();
  in.expected_report_data = q->body.report_data;
  TdxPolicy policy;
  policy.allowed_mr_td = {HexEncode(q->body.mr_td)};
  policy.rtmr[0] = HexEncode(q->body.rtmr[0]);
  EXPECT_TRUE(TdxVerifier(ReadAll(kRoot), policy).Verify(in).ok());

  in.expected_report_data = std::string(64, '\x11');
  auto v = TdxVerifier(ReadAll(kRoot), policy).Verify(in);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("tdx: report_data:"), std::string::npos) << v.status().message();

  in.expected_report_data.reset();
  policy.allowed_mr_td = {std::string(96, 'a')};
  v = TdxVerifier(ReadAll(kRoot), policy).Verify(in);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("tdx: mr_td:"), std::string::npos);

  policy.allowed_mr_td.clear();
  policy.rtmr[2] = std::string(96, 'b');
  v = TdxVerifier(ReadAll(kRoot), policy).Verify(in);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("tdx: rtmr:"), std::string::npos);
}

TEST(TdxVerifierTest, tee_tcb_svn_minimum_per_byte) {
  auto q = TdxQuote::Parse(ReadAll(kQuote));
  ASSERT_TRUE(q.ok());
  TdxPolicy policy;
  policy.min_tee_tcb_svn = q->body.tee_tcb_svn;  // equal: passes
  auto v = TdxVerifier(ReadAll(kRoot), policy).Verify(RealInput());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_NE(std::find(v->checks.begin(), v->checks.end(), "tee_tcb_svn"), v->checks.end());

  std::string higher = q->body.tee_tcb_svn;
  higher[1] = static_cast<char>(static_cast<uint8_t>(higher[1]) + 1);  // one component newer than the quote's
  policy.min_tee_tcb_svn = higher;
  v = TdxVerifier(ReadAll(kRoot), policy).Verify(RealInput());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("tdx: tee_tcb_svn:"), std::string::npos) << v.status().message();
}

TEST(TdxVerifierTest, wrong_root_fails) {
  std::string amd = ReadAll(std::string(RESMETER_SOURCE_DIR) + "/configs/trust-anchors/amd_ask_ark_milan.pem");
  auto v = TdxVerifier(amd, {}).Verify(RealInput());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("pck_root_trusted"), std::string::npos) << v.status().message();
}

// Every byte of header, TD report, signatures, attestation key, QE report and
// QE auth data is flipped; in the PCK chain's PEM text (about 3.7 kB of base64
// whose every change alters a certificate) every 3rd byte and the last 64.
TEST(TdxVerifierTest, every_single_byte_flip_in_the_quote_fails) {
  TdxVerifier verifier(ReadAll(kRoot), {});
  TdxInput base = RealInput();
  auto q = TdxQuote::Parse(base.quote);
  ASSERT_TRUE(q.ok());
  std::vector<size_t> survivors;
  size_t pem_start = q->quote_size - q->pck_chain_pem.size();
  size_t flips = 0;
  for (size_t i = 0; i < q->quote_size; ++i) {
    if (i >= pem_start && i + 64 < q->quote_size && (i - pem_start) % 3 != 0) continue;
    ++flips;
    TdxInput in = base;
    in.quote[i] = static_cast<char>(in.quote[i] ^ 0x01);
    if (verifier.Verify(in).ok()) survivors.push_back(i);
  }
  EXPECT_GT(flips, pem_start + 1000);
  EXPECT_TRUE(survivors.empty()) << survivors.size() << " flips verified, first at " << survivors.front();
}

}  // namespace
}  // namespace resmeter
