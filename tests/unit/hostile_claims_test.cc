// Printing and evidence parsing of claims with hostile shapes (found by the
// fuzz targets in tests/fuzz/): wrong member types must neither throw nor
// reach undefined behaviour.
#include <gtest/gtest.h>

#include <sstream>

#include "cli/summary_table.h"
#include "evidence/evidence_verifier.h"
#include "evidence/tpm2_quote_verifier.h"
#include "cli/time_format.h"

namespace resmeter {
namespace {

TEST(HostileClaims, submods_table_tolerates_wrong_member_types) {
  auto submods = nlohmann::json::parse(
      R"({"a": {"status": 1, "duration_seconds": "x", "reason": 2, "findings": [1, {"code": 3}]}, "b": [1], "c": 5})");
  std::ostringstream out;
  EXPECT_NO_THROW(PrintSubmodsTable(out, submods));
  EXPECT_NE(out.str().find("a                    ?"), std::string::npos) << out.str();
  EXPECT_NO_THROW(PrintSubmodsTable(out, nlohmann::json::array({1, 2})));
}

TEST(HostileClaims, trust_lines_tolerate_wrong_member_types) {
  auto claims = nlohmann::json::parse(
      R"({"time": {"trusted": "yes", "source": 1, "server": "s", "stratum": 1e300, "nts_authenticated": 0},
          "evidence": {"type": 5}})");
  std::ostringstream out;
  EXPECT_NO_THROW(PrintTrustLines(out, claims));
  EXPECT_NE(out.str().find("untrusted (?: unauthenticated server s, stratum 1e+300)"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("evidence  ?"), std::string::npos) << out.str();
}

TEST(HostileClaims, tpm2_evidence_with_non_string_bank_is_corruption) {
  auto j =
      nlohmann::json::parse(R"({"attest": "", "signature": "", "ak_public": "", "pcr_bank": 7, "pcrs": {}})");
  auto in = Tpm2InputFromJson(j);
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.status().message().find("pcr_bank"), std::string::npos);
}

TEST(HostileClaims, none_evidence_with_non_string_reason_fails_cleanly) {
  auto v = VerifyEvidenceJson(nlohmann::json::parse(R"({"type": "none", "reason": 42})"), std::nullopt, {});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("no reason"), std::string::npos) << v.status().message();
}

}  // namespace
}  // namespace resmeter
