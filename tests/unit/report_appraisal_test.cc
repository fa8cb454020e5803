// AppraiseReport: one verdict over key source, nonce, policy and evidence,
// whose JSON, human line and exit code always agree; and the attacks it
// closes: reports from fixture trees, a swapped cnf.jwk, a foreign ueid.
#include "report/report_appraisal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/strings.h"
#include "report/ear.h"
#include "evidence/evidence.h"
#include "jose/jws.h"
#include "jose/key_origin.h"
#include "report/report.h"
#include "jose/signing_key.h"
#include "snp_test_chain.h"

namespace resmeter {
namespace {

namespace fs = std::filesystem;
constexpr double kNow = 1'800'000'000;
constexpr const char* kNonce = "0123456789abcdef";

enum class Evidence { kSnp, kBad, kNone };

// A throw-away AMD-like chain and its trust-anchor directory, shared by the suite.
class AppraisalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    chain_ = new testing::SnpTestChain("Appraisal");
    anchors_ =
        new std::string(fs::temp_directory_path() / ("resmeter-appraisal-" + std::to_string(::getpid())));
    fs::create_directories(*anchors_);
    std::ofstream(*anchors_ + "/amd_ask_ark_test.pem") << chain_->ChainPem();
  }
  static void TearDownTestSuite() {
    fs::remove_all(*anchors_);
    delete anchors_;
    delete chain_;
  }

  // The evidence claim of a report signed by `kid` with `nonce_hex`.
  static nlohmann::json EvidenceClaim(Evidence kind, const std::string& kid, const std::string& nonce_hex) {
    const std::string user_data = ComputeUserData(kid, *HexDecode(nonce_hex));
    if (kind == Evidence::kNone) {
      return {{"type", "none"}, {"reason", "no TEE"}, {"user_data", HexEncode(user_data)}};
    }
    testing::SyntheticSnpReport fields;
    // kBad: a genuine SNP report, but bound to other data than this key and nonce.
    fields.report_data = kind == Evidence::kSnp ? user_data : ComputeUserData("another-kid", "");
    return {{"type", "sev-snp"},
            {"report", Base64Encode(chain_->SignReport(fields))},
            {"vcek", Base64Encode(chain_->VcekDer())}};
  }

  // A report signed by `key`, claiming `cnf_key` (default: itself).
  static std::string Report(const SigningKey& key, Evidence evidence, const std::string& nonce_hex = kNonce,
                            bool live = true, const Signer* cnf_key = nullptr) {
    ReportInputs in;
    in.issued_at_unix_seconds = kNow;
    in.validity_seconds = 600;
    if (!nonce_hex.empty()) in.nonce_hex = nonce_hex;
    in.submods["cpu.topology"] = {{"status", "ok"}, {"claims", {{"threads", 16}}}};
    in.time = {{"trusted", true}};
    in.evidence = EvidenceClaim(evidence, key.Thumbprint(), nonce_hex);
    in.key_origin = kKeyOriginEphemeral;
    in.live = live;
    if (!live) in.not_live_reasons = {"proc_root=/fixtures/proc", "sys_root=/fixtures/sys"};
    nlohmann::ordered_json claims = BuildReportClaims(in, key);
    if (cnf_key != nullptr) claims["cnf"] = {{"jwk", cnf_key->PublicJwk()}};
    return *key.SignCompact(claims.dump());
  }

  static AppraisalInputs Inputs() {
    AppraisalInputs in;
    in.now_unix_seconds = kNow + 1;
    in.evidence.trust_anchors_dir = *anchors_;
    return in;
  }

  static testing::SnpTestChain* chain_;
  static std::string* anchors_;
};
testing::SnpTestChain* AppraisalTest::chain_ = nullptr;
std::string* AppraisalTest::anchors_ = nullptr;

// Every rendering of a verdict tells the same story.
void ExpectRenderingsAgree(const Verdict& v, const std::string& row) {
  const nlohmann::json j = v.ToJson();
  const bool accepted = j["verdict"] == "ACCEPTED";
  EXPECT_EQ(accepted, v.Line() == "ACCEPTED") << row;
  EXPECT_EQ(accepted, StartsWith(v.Line(), "ACCEPTED")) << row;
  EXPECT_EQ(!accepted, StartsWith(v.Line(), "REJECTED: ")) << row;
  EXPECT_EQ(accepted, v.ExitCode() == 0) << row;
  EXPECT_EQ(accepted, j["reasons"].empty()) << row;
  for (const auto& reason : j["reasons"]) {
    EXPECT_NE(v.Line().find(reason.get<std::string>()), std::string::npos) << row;
  }
}

struct Row {
  const char* key_source;  // "cnf", "key", "key-other", "identity", "identity-other"
  const char* nonce;       // "none", "expected", "wrong"
  const char* policy;      // "none", "pass", "fail"
  Evidence evidence;
  bool allow_dev;
  int want_exit;
  const char* want_failed;  // a check that must fail ("" when none)
};

const Row kRows[] = {
    {"cnf", "none", "none", Evidence::kSnp, false, 0, ""},
    {"cnf", "expected", "pass", Evidence::kSnp, false, 0, ""},
    {"cnf", "wrong", "none", Evidence::kSnp, false, 1, "nonce"},
    {"cnf", "none", "fail", Evidence::kSnp, false, 1, "policy.cpu.vcpus"},
    {"cnf", "none", "none", Evidence::kBad, false, 1, "evidence"},
    {"cnf", "none", "none", Evidence::kNone, false, 1, "evidence"},
    {"cnf", "none", "none", Evidence::kNone, true, 0, ""},
    {"cnf", "expected", "pass", Evidence::kNone, true, 0, ""},
    {"key", "none", "none", Evidence::kSnp, false, 0, ""},
    {"key", "expected", "fail", Evidence::kSnp, false, 1, "policy.cpu.vcpus"},
    {"key", "none", "none", Evidence::kNone, false, 1, "evidence"},
    {"key", "wrong", "pass", Evidence::kNone, true, 1, "nonce"},
    {"key-other", "none", "none", Evidence::kSnp, false, 1, "key"},
    {"key-other", "expected", "pass", Evidence::kNone, true, 1, "key"},
    {"identity", "none", "none", Evidence::kSnp, false, 0, ""},
    {"identity", "expected", "pass", Evidence::kSnp, false, 0, ""},
    {"identity", "none", "fail", Evidence::kNone, true, 1, "policy.cpu.vcpus"},
    {"identity", "none", "none", Evidence::kNone, false, 1, "identity.evidence"},
    {"identity", "none", "none", Evidence::kBad, false, 1, "evidence"},
    {"identity-other", "none", "none", Evidence::kSnp, false, 1, "key"},
    {"key-malformed", "none", "none", Evidence::kSnp, false, 2, "key_source"},
    {"identity-malformed", "none", "none", Evidence::kSnp, false, 2, "key_source"},
};

TEST_F(AppraisalTest, every_combination_gives_one_consistent_verdict) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  auto other = *SigningKey::Generate(kAlgES384);
  const Policy pass = *ParsePolicy("name: p\nclaims:\n  - cpu.vcpus: {min: 8}\n", "pass.yaml");
  const Policy fail = *ParsePolicy("name: f\nclaims:\n  - cpu.vcpus: {min: 64}\n", "fail.yaml");
  for (const Row& row : kRows) {
    const std::string name = std::string(row.key_source) + "/" + row.nonce + "/" + row.policy + "/" +
                             std::to_string(static_cast<int>(row.evidence)) + (row.allow_dev ? "/dev" : "");
    const std::string token = Report(*key, row.evidence);
    AppraisalInputs in = Inputs();
    in.allow_dev_evidence = row.allow_dev;
    const std::string ks = row.key_source;
    // The identity document's own evidence: SNP bound to its key without a nonce, or none.
    auto identity_of = [&](const SigningKey& k) {
      Evidence e = row.evidence == Evidence::kNone ? Evidence::kNone : Evidence::kSnp;
      return nlohmann::json{{"jwk", k.PublicJwk()}, {"evidence", EvidenceClaim(e, k.Thumbprint(), "")}}
          .dump();
    };
    if (ks == "key") in.key_jwk = key->PublicJwk().dump();
    if (ks == "key-other") in.key_jwk = other->PublicJwk().dump();
    if (ks == "key-malformed") in.key_jwk = "{\"kty\": \"OKP\"";
    if (ks == "identity") in.identity_json = identity_of(*key);
    if (ks == "identity-other") in.identity_json = identity_of(*other);
    if (ks == "identity-malformed") in.identity_json = "[1, 2]";
    if (std::string(row.nonce) == "expected") in.expected_nonce_hex = kNonce;
    if (std::string(row.nonce) == "wrong") in.expected_nonce_hex = "00000000000000000000";
    if (std::string(row.policy) == "pass") in.policy = &pass;
    if (std::string(row.policy) == "fail") in.policy = &fail;

    const Verdict v = AppraiseReport(token, in);
    EXPECT_EQ(v.ExitCode(), row.want_exit) << name << ": " << v.Line();
    ExpectRenderingsAgree(v, name);
    if (*row.want_failed != '\0') {
      bool found = false;
      for (const Check& c : v.checks()) {
        found |= c.name == row.want_failed &&
                 (c.outcome == CheckOutcome::kFailed || c.outcome == CheckOutcome::kError);
      }
      EXPECT_TRUE(found) << name << ": no failed check '" << row.want_failed << "' in " << v.Line();
    }
  }
}

TEST_F(AppraisalTest, report_from_fixture_roots_is_rejected_unless_allowed) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  const std::string token = Report(*key, Evidence::kSnp, kNonce, /*live=*/false);
  AppraisalInputs in = Inputs();
  Verdict v = AppraiseReport(token, in);
  EXPECT_EQ(v.ExitCode(), 1);
  EXPECT_NE(v.Line().find("live: not live (proc_root=/fixtures/proc, sys_root=/fixtures/sys)"),
            std::string::npos)
      << v.Line();
  in.allow_fixture_roots = true;
  v = AppraiseReport(token, in);
  EXPECT_EQ(v.Line(), "ACCEPTED");
  EXPECT_EQ(v.ToJson()["checks"][0]["name"], "key_source");
  bool warned = false;
  for (const Check& c : v.checks()) warned |= c.name == "live" && c.outcome == CheckOutcome::kWarning;
  EXPECT_TRUE(warned);
}

TEST_F(AppraisalTest, a_signed_newline_cannot_forge_the_verdict_line) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  ReportInputs in;
  in.issued_at_unix_seconds = kNow;
  in.evidence = EvidenceClaim(Evidence::kSnp, key->Thumbprint(), "");
  in.key_origin = "x\nACCEPTED";
  in.not_live_reasons = {"proc_root=/x\nACCEPTED\n"};
  const Verdict v = AppraiseReport(*SignReport(in, *key), Inputs());
  EXPECT_EQ(v.ExitCode(), 1);
  EXPECT_EQ(v.Line().find('\n'), std::string::npos) << v.Line();
  EXPECT_NE(v.Line().find("proc_root=/x\\x0aACCEPTED\\x0a"), std::string::npos) << v.Line();
}

TEST_F(AppraisalTest, a_report_that_does_not_say_it_is_live_is_rejected) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  ReportInputs in;
  in.issued_at_unix_seconds = kNow;
  in.evidence = EvidenceClaim(Evidence::kSnp, key->Thumbprint(), "");
  in.key_origin = kKeyOriginEphemeral;
  nlohmann::ordered_json claims = BuildReportClaims(in, *key);
  claims.erase("live");
  const Verdict v = AppraiseReport(*key->SignCompact(claims.dump()), Inputs());
  EXPECT_EQ(v.ExitCode(), 1);
  EXPECT_NE(v.Line().find("live: the report does not say"), std::string::npos) << v.Line();
}

TEST_F(AppraisalTest, swapped_cnf_jwk_is_rejected) {
  // Signed by B (whose evidence binds B), but cnf names C: a verifier using
  // cnf would check the signature with C and fail; one pinning B must see
  // that cnf lies.
  auto b = *SigningKey::Generate(kAlgEdDSA);
  auto c = *SigningKey::Generate(kAlgEdDSA);
  const std::string token = Report(*b, Evidence::kSnp, kNonce, true, c.get());
  Verdict v = AppraiseReport(token, Inputs());
  EXPECT_EQ(v.ExitCode(), 1) << v.Line();
  EXPECT_NE(v.Line().find("key: wrong key"), std::string::npos) << v.Line();

  AppraisalInputs pinned = Inputs();
  pinned.key_jwk = b->PublicJwk().dump();
  v = AppraiseReport(token, pinned);
  EXPECT_EQ(v.ExitCode(), 1);
  EXPECT_NE(v.Line().find("cnf: cnf.jwk is kid " + c->Thumbprint() + " but the report was signed by kid " +
                          b->Thumbprint()),
            std::string::npos)
      << v.Line();
}

TEST_F(AppraisalTest, ueid_of_another_agent_is_rejected) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  ReportInputs in;
  in.issued_at_unix_seconds = kNow;
  in.evidence = EvidenceClaim(Evidence::kSnp, key->Thumbprint(), "");
  in.key_origin = kKeyOriginEphemeral;
  in.live = true;
  nlohmann::ordered_json claims = BuildReportClaims(in, *key);
  claims["ueid"] = UeidForThumbprint("another-agent");
  const Verdict v = AppraiseReport(*key->SignCompact(claims.dump()), Inputs());
  EXPECT_EQ(v.ExitCode(), 1);
  EXPECT_NE(v.Line().find("ueid: ueid '" + UeidForThumbprint("another-agent") + "' is not the one"),
            std::string::npos)
      << v.Line();
}

TEST_F(AppraisalTest, hostile_member_types_are_rejected_never_thrown_on) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  ReportInputs in;
  in.issued_at_unix_seconds = kNow;
  in.evidence = EvidenceClaim(Evidence::kSnp, key->Thumbprint(), "");
  nlohmann::ordered_json claims = BuildReportClaims(in, *key);
  claims["ueid"] = 7;
  claims["key_origin"] = nlohmann::json::array();
  claims["live"] = "yes";
  claims["not_live_reasons"] = "x";
  claims["time"] = {1, 2};
  claims["submods"] = {{"cpu.topology", 5}};
  AppraisalInputs pinned = Inputs();
  pinned.key_jwk = key->PublicJwk().dump();
  for (int cnf_kind = 0; cnf_kind < 3; ++cnf_kind) {
    if (cnf_kind == 1) claims["cnf"] = 5;
    if (cnf_kind == 2) claims["cnf"] = {{"jwk", "not a jwk"}};
    const std::string token = *key->SignCompact(claims.dump());
    ReportAppraisal a = AppraiseReportDetailed(token, pinned);
    EXPECT_EQ(a.verdict.ExitCode(), 1) << a.verdict.Line();
    for (const char* name : {"ueid", "key_origin", "live"}) {
      EXPECT_NE(a.verdict.Line().find(std::string(name) + ": "), std::string::npos) << a.verdict.Line();
    }
    EXPECT_NO_THROW(BuildEar(a, {kNow, "", ""}).dump());
    // Without a pin the report's own cnf decides; a broken one is an input error.
    EXPECT_EQ(AppraiseReport(token, Inputs()).ExitCode(), cnf_kind == 0 ? 1 : 2);
  }
}

TEST_F(AppraisalTest, key_origin_file_is_rejected_by_default) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  ReportInputs in;
  in.issued_at_unix_seconds = kNow;
  in.evidence = EvidenceClaim(Evidence::kSnp, key->Thumbprint(), "");
  in.key_origin = kKeyOriginFile;
  in.live = true;
  const Verdict v = AppraiseReport(*SignReport(in, *key), Inputs());
  EXPECT_EQ(v.ExitCode(), 1);
  EXPECT_NE(v.Line().find("key_origin: 'file' is not accepted"), std::string::npos) << v.Line();
}

TEST_F(AppraisalTest, input_errors_exit_2_and_tampering_exits_1) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  const std::string token = Report(*key, Evidence::kSnp);
  EXPECT_EQ(AppraiseReport(token.substr(0, 40), Inputs()).ExitCode(), 2);
  EXPECT_EQ(AppraiseReport("", Inputs()).ExitCode(), 2);
  AppraisalInputs unreadable = Inputs();
  unreadable.input_errors.push_back("--key: cannot open k.jwk");
  const Verdict v = AppraiseReport(token, unreadable);
  EXPECT_EQ(v.ExitCode(), 2);
  EXPECT_EQ(v.Line(), "REJECTED: input: --key: cannot open k.jwk");
  // One payload character changed: the signature no longer holds (cnf still parses).
  std::string tampered = token;
  const size_t i = tampered.find('.') + 8;
  tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
  const Verdict t = AppraiseReport(tampered, Inputs());
  EXPECT_NE(t.ExitCode(), 0) << t.Line();
}

TEST_F(AppraisalTest, ear_maps_the_verdict_to_trust_vectors) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  const Policy fail = *ParsePolicy("name: f\nclaims:\n  - cpu.vcpus: {min: 64}\n", "fail.yaml");
  AppraisalInputs in = Inputs();
  ReportAppraisal ok = AppraiseReportDetailed(Report(*key, Evidence::kSnp), in);
  ASSERT_TRUE(ok.verdict.accepted()) << ok.verdict.Line();
  nlohmann::ordered_json ear = BuildEar(ok, {kNow, "policy:test", ""});
  EXPECT_EQ(ear["eat_profile"], kEarProfile);
  EXPECT_EQ(ear["submods"]["attester"]["ear.status"], "affirming");
  EXPECT_EQ(ear["submods"]["attester"]["ear.trustworthiness-vector"]["hardware"], ar4si::kAffirming);
  EXPECT_EQ(ear["submods"]["attester"]["ear.trustworthiness-vector"]["instance-identity"], ar4si::kAffirming);
  EXPECT_EQ(ear["submods"]["cpu.topology"]["ear.status"], "affirming");

  in.policy = &fail;
  ReportAppraisal failed = AppraiseReportDetailed(Report(*key, Evidence::kSnp), in);
  ear = BuildEar(failed, {kNow, "policy:f", ""});
  EXPECT_EQ(ear["submods"]["cpu.topology"]["ear.status"], "contraindicated");
  EXPECT_EQ(ear["submods"]["attester"]["ear.status"], "contraindicated");

  in.policy = nullptr;
  in.allow_dev_evidence = true;
  ReportAppraisal dev = AppraiseReportDetailed(Report(*key, Evidence::kNone), in);
  ear = BuildEar(dev, {kNow, "", ""});
  EXPECT_EQ(ear["submods"]["attester"]["ear.trustworthiness-vector"]["hardware"], ar4si::kNoClaim);
  EXPECT_EQ(ear["submods"]["attester"]["ear.trustworthiness-vector"]["instance-identity"], ar4si::kNoClaim);
  EXPECT_EQ(EarTierName(99), std::string("contraindicated"));
  EXPECT_EQ(EarTierName(32), std::string("warning"));
  EXPECT_EQ(EarTierName(0), std::string("none"));
}

}  // namespace
}  // namespace resmeter
