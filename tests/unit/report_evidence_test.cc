// Appraisal of a report's evidence claim: "none" is development mode when it
// binds the signing key and nonce, and fails when it binds another key.
#include "evidence/report_evidence.h"

#include <gtest/gtest.h>

#include "core/strings.h"
#include "evidence/evidence.h"
#include "jose/signing_key.h"

namespace resmeter {
namespace {

nlohmann::json ClaimsBoundTo(const std::string& thumbprint, const std::string& nonce_hex) {
  const std::string user_data = HexEncode(ComputeUserData(thumbprint, *HexDecode(nonce_hex)));
  nlohmann::json claims = {
      {"evidence", {{"type", "none"}, {"reason", "no TEE here"}, {"user_data", user_data}}}};
  if (!nonce_hex.empty()) claims["eat_nonce"] = nonce_hex;
  return claims;
}

TEST(report_evidence_test, none_bound_to_the_key_is_development_mode) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  const EvidenceAppraisal a = AppraiseReportEvidence(ClaimsBoundTo(key->Thumbprint(), "0123456789abcdef"),
                                                     key->Thumbprint(), EvidenceVerifyOptions{});
  EXPECT_EQ(a.status, EvidenceAppraisalStatus::kDevelopment) << a.detail;
  EXPECT_FALSE(a.trusted());
  EXPECT_EQ(a.type, "none");
  EXPECT_EQ(a.detail, "no TEE here");
  EXPECT_EQ(a.ToJson()["status"], "development");
  EXPECT_NE(a.Describe().find("development mode, not trusted"), std::string::npos);
}

TEST(report_evidence_test, evidence_bound_to_another_key_or_nonce_fails) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  auto other = *SigningKey::Generate(kAlgEdDSA);
  EvidenceAppraisal a = AppraiseReportEvidence(ClaimsBoundTo(other->Thumbprint(), ""), key->Thumbprint(), {});
  EXPECT_EQ(a.status, EvidenceAppraisalStatus::kFailed);
  EXPECT_NE(a.detail.find("user_data"), std::string::npos) << a.detail;

  nlohmann::json claims = ClaimsBoundTo(key->Thumbprint(), "0123456789abcdef");
  claims["eat_nonce"] = "0123456789abcdee";
  a = AppraiseReportEvidence(claims, key->Thumbprint(), {});
  EXPECT_EQ(a.status, EvidenceAppraisalStatus::kFailed);
}

TEST(report_evidence_test, missing_or_malformed_evidence) {
  EvidenceAppraisal a = AppraiseReportEvidence(nlohmann::json::object(), "kid", {});
  EXPECT_NE(a.status, EvidenceAppraisalStatus::kVerified);
  EXPECT_EQ(a.detail, "the report has no evidence claim");
  a = AppraiseReportEvidence({{"evidence", {{"type", "sev-snp"}, {"report", "!!"}}}}, "kid", {});
  EXPECT_EQ(a.status, EvidenceAppraisalStatus::kFailed);
  EXPECT_EQ(a.type, "sev-snp");
  a = AppraiseReportEvidence({{"evidence", {{"type", "sgx"}}}}, "kid", {});
  EXPECT_EQ(a.status, EvidenceAppraisalStatus::kFailed);
}

}  // namespace
}  // namespace resmeter
