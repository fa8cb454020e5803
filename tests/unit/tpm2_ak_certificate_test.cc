// TPM AK certification (issue #15 item 1): a quote signed by a key made in
// software with TPM-looking attributes must not verify as tpm2 evidence unless
// a certificate for exactly that key chains to a TPM CA in
// <anchors>/tpm2/*.pem. Certificates and quotes are minted here with OpenSSL.
#include "evidence/tpm2_ak_certificate.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "evidence/evidence_verifier.h"
#include "support/temp_dir.h"
#include "support/tpm2_software_quote.h"

namespace resmeter {
namespace {

using testing::CertPem;
using testing::MintCert;
using testing::NewP256Key;

// A root CA -> intermediate CA -> AK leaf chain for a software AK, and its evidence.
class Tpm2AkCertificate : public ::testing::Test {
 protected:
  void SetUp() override {
    root_key_ = NewP256Key();
    mid_key_ = NewP256Key();
    ak_key_ = NewP256Key();
    root_ = MintCert(root_key_.get(), "Test TPM Root CA", root_key_.get(), nullptr, true);
    mid_ = MintCert(mid_key_.get(), "Test AK CA", root_key_.get(), root_.get(), true);
    user_data_ = ComputeUserData("thumbprint", "nonce");
    evidence_ = testing::SoftwareQuoteEvidence(ak_key_.get(), user_data_);
    SetCert(MintCert(ak_key_.get(), "AK", mid_key_.get(), mid_.get(), false).get(), {mid_.get()});
    options_.trust_anchors_dir = dir_.path();
  }
  // Puts `leaf` and `chain` into the evidence.
  void SetCert(X509* leaf, const std::vector<X509*>& chain) {
    evidence_["ak_cert"] = Base64Encode(CertificateDer(leaf));
    evidence_["ak_chain"] = nlohmann::json::array();
    for (X509* c : chain) evidence_["ak_chain"].push_back(Base64Encode(CertificateDer(c)));
  }
  // Writes `pem` as <anchors>/tpm2/<name>.
  void Anchor(const std::string& name, const std::string& pem) {
    std::filesystem::create_directories(dir_.path() + "/tpm2");
    std::ofstream(dir_.path() + "/tpm2/" + name) << pem;
  }
  Result<EvidenceVerdict> Verify() { return VerifyEvidenceJson(evidence_, user_data_, options_); }
  // Expects a REJECTED tpm2 ak_certificate verdict whose message contains `text`.
  void ExpectRejected(const std::string& text) {
    auto v = Verify();
    ASSERT_FALSE(v.ok()) << "accepted: " << v->ToJson().dump();
    EXPECT_EQ(v.status().code(), Status::Code::kVerifyFailed) << v.status().ToString();
    EXPECT_NE(v.status().message().find("tpm2: ak_certificate: "), std::string::npos) << v.status().message();
    EXPECT_NE(v.status().message().find(text), std::string::npos) << v.status().message();
  }
  // Expects a Corruption (exit 2 on the CLI) naming `member`.
  void ExpectMalformed(const std::string& member) {
    auto v = Verify();
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.status().code(), Status::Code::kCorruption) << v.status().ToString();
    EXPECT_NE(v.status().message().find(member), std::string::npos) << v.status().message();
    EXPECT_EQ(v.status().message().find('\n'), std::string::npos);
  }

  TempDir dir_;
  EvpPkeyPtr root_key_, mid_key_, ak_key_;
  X509Ptr root_, mid_;
  std::string user_data_;
  nlohmann::json evidence_;
  EvidenceVerifyOptions options_;
};

TEST_F(Tpm2AkCertificate, certified_ak_is_accepted) {
  Anchor("root.pem", CertPem(root_.get()));
  auto v = Verify();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->checks, (std::vector<std::string>{"ak_public", "ak_certificate", "attest", "signature",
                                                 "qualifying_data", "pcr_selection", "pcr_digest"}));
  EXPECT_EQ(v->fields["ak_ca"], "CN=Test TPM Root CA");
  EXPECT_EQ(v->fields["ak_cert_issuer"], "CN=Test AK CA");
}

TEST_F(Tpm2AkCertificate, a_trusted_intermediate_is_enough) {
  Anchor("ak-ca.pem", CertPem(mid_.get()));
  evidence_.erase("ak_chain");
  auto v = Verify();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->fields["ak_ca"], "CN=Test AK CA");
}

TEST_F(Tpm2AkCertificate, no_anchor_dir_names_the_missing_anchor) {
  // The quote, signature and binding are all fine: only the anchor is missing.
  ExpectRejected("no trusted TPM CA in " + dir_.path() + "/tpm2 (see README \"TPM 2.0 evidence\")");
  Anchor("README.md", "not a certificate, ignored");
  ExpectRejected("no trusted TPM CA in " + dir_.path() + "/tpm2");
}

TEST_F(Tpm2AkCertificate, software_key_without_certificate_is_rejected) {
  Anchor("root.pem", CertPem(root_.get()));
  evidence_.erase("ak_cert");
  evidence_.erase("ak_chain");
  ExpectRejected("no ak_cert");
}

TEST_F(Tpm2AkCertificate, certificate_for_another_key_is_rejected) {
  Anchor("root.pem", CertPem(root_.get()));
  EvpPkeyPtr other = NewP256Key();
  SetCert(MintCert(other.get(), "AK", mid_key_.get(), mid_.get(), false).get(), {mid_.get()});
  ExpectRejected("is not the AK");
}

TEST_F(Tpm2AkCertificate, self_made_certificate_from_an_untrusted_ca_is_rejected) {
  Anchor("root.pem", CertPem(root_.get()));
  EvpPkeyPtr rogue_key = NewP256Key();
  X509Ptr rogue = MintCert(rogue_key.get(), "Test TPM Root CA", rogue_key.get(), nullptr, true);  // same name
  SetCert(MintCert(ak_key_.get(), "AK", rogue_key.get(), rogue.get(), false).get(), {rogue.get()});
  ExpectRejected("not certified by a trusted TPM CA");
  // Self-signed by the AK itself.
  SetCert(MintCert(ak_key_.get(), "AK", ak_key_.get(), nullptr, false).get(), {});
  ExpectRejected("not certified by a trusted TPM CA");
}

TEST_F(Tpm2AkCertificate, validity_is_checked_at_the_check_time) {
  Anchor("root.pem", CertPem(root_.get()));
  SetCert(MintCert(ak_key_.get(), "AK", mid_key_.get(), mid_.get(), false, -7200, -3600).get(), {mid_.get()});
  ExpectRejected("certificate has expired");
  SetCert(MintCert(ak_key_.get(), "AK", mid_key_.get(), mid_.get(), false, -3600, 86400).get(), {mid_.get()});
  ASSERT_TRUE(Verify().ok());
  options_.at = std::time(nullptr) + 10 * 86400;  // after the leaf expires
  ExpectRejected("certificate has expired");
  options_.at = std::time(nullptr) - 86400;  // before any certificate was valid
  ExpectRejected("not yet valid");
}

TEST_F(Tpm2AkCertificate, chain_constraints_and_key_usage_are_checked) {
  Anchor("root.pem", CertPem(root_.get()));
  // An intermediate that is not a CA cannot issue the AK certificate.
  EvpPkeyPtr leafy_key = NewP256Key();
  X509Ptr leafy = MintCert(leafy_key.get(), "Not A CA", root_key_.get(), root_.get(), false);
  SetCert(MintCert(ak_key_.get(), "AK", leafy_key.get(), leafy.get(), false).get(), {leafy.get()});
  ExpectRejected("not certified by a trusted TPM CA");
  // The AK certificate must not be a CA certificate.
  SetCert(MintCert(ak_key_.get(), "AK", mid_key_.get(), mid_.get(), true).get(), {mid_.get()});
  ExpectRejected("is a CA certificate");
  // With key usage, it must allow signing.
  SetCert(MintCert(ak_key_.get(), "AK", mid_key_.get(), mid_.get(), false, -3600, 86400,
                   "critical,keyEncipherment")
              .get(),
          {mid_.get()});
  ExpectRejected("lacks digitalSignature");
  // Without key usage it passes.
  SetCert(MintCert(ak_key_.get(), "AK", mid_key_.get(), mid_.get(), false, -3600, 86400, "").get(),
          {mid_.get()});
  EXPECT_TRUE(Verify().ok());
}

TEST_F(Tpm2AkCertificate, malformed_certificates_are_input_errors) {
  Anchor("root.pem", CertPem(root_.get()));
  evidence_["ak_cert"] = "%%%";
  ExpectMalformed("ak_cert is not base64");
  evidence_["ak_cert"] = Base64Encode("\x30\x82\x01 not DER");
  ExpectMalformed("ak_cert");
  evidence_["ak_cert"] = Base64Encode(CertificateDer(mid_.get()) + "x");
  ExpectMalformed("trailing bytes");
  evidence_["ak_cert"] = Base64Encode(CertPem(mid_.get()));
  ExpectMalformed("want base64 DER");
  SetCert(MintCert(ak_key_.get(), "AK", mid_key_.get(), mid_.get(), false).get(), {mid_.get()});
  evidence_["ak_chain"] = "not a list";
  ExpectMalformed("ak_chain is not a list");
  evidence_["ak_chain"] = nlohmann::json::array({Base64Encode(CertificateDer(mid_.get())), 7});
  ExpectMalformed("ak_chain[1] is not base64");
  evidence_["ak_chain"] = nlohmann::json::array({Base64Encode("garbage")});
  ExpectMalformed("ak_chain[0]");
}

TEST_F(Tpm2AkCertificate, unreadable_anchor_file_is_an_error) {
  Anchor("bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  auto v = Verify();
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().code(), Status::Code::kVerifyFailed);
  EXPECT_NE(v.status().message().find("bad.pem"), std::string::npos) << v.status().message();
}

TEST_F(Tpm2AkCertificate, attach_takes_a_pem_bundle_leaf_first) {
  X509Ptr leaf = MintCert(ak_key_.get(), "AK", mid_key_.get(), mid_.get(), false);
  nlohmann::json j = {{"type", "tpm2"}};
  ASSERT_TRUE(AttachAkCertificate(&j, CertPem(leaf.get()) + CertPem(mid_.get()), "").ok());
  EXPECT_EQ(j["ak_cert"], Base64Encode(CertificateDer(leaf.get())));
  ASSERT_EQ(j["ak_chain"].size(), 1u);
  ASSERT_TRUE(
      AttachAkCertificate(&j, CertificateDer(leaf.get()), CertPem(mid_.get()) + CertPem(root_.get())).ok());
  EXPECT_EQ(j["ak_chain"].size(), 2u);
  Status bad = AttachAkCertificate(&j, "junk", "");
  EXPECT_EQ(bad.code(), Status::Code::kCorruption);
  EXPECT_NE(bad.message().find("AK certificate"), std::string::npos) << bad.message();
}

}  // namespace
}  // namespace resmeter
