// Integration test of TPM 2.0 evidence: a real swtpm on loopback produces a
// quote bound to the user data; resmeter's quote checks and tpm2_checkquote
// both accept it, and a quote for another nonce is rejected.
//
// AK certification (issue #15 item 1): the test manufactures a swtpm with an
// EK certificate from its own EK CA, then acts as an attestation (privacy) CA:
// it checks the EK certificate, proves by credential activation that the AK
// lives in the TPM holding that EK, and only then issues the AK certificate
// under its AK CA. A genuine quote verifies with the AK CA in the anchors; the
// same quote without the anchor, and a quote by a software key with TPM
// attributes and a self-made certificate, are rejected. Driven with Debian
// 12's swtpm 0.7.1 (swtpm_setup --create-ek-cert, swtpm_localca) and
// tpm2-tools 5.4 (makecredential -G rsa with the certified EK's PEM key,
// activatecredential under a PolicySecret(endorsement) session).
#include "attester/evidence_tpm2.h"

#include <gtest/gtest.h>
#include <tss2/tss2_tpm2_types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/strings.h"
#include "evidence/tpm2_quote_verifier.h"
#include "support/temp_dir.h"
#include "support/tpm2_software_quote.h"
#include "swtpm_process.h"
#include "support/shell_command.h"

namespace resmeter {
namespace {

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
}

class Tpm2EvidenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!tpm_.Start(&why)) GTEST_SKIP() << "skipped: " << why;
  }
  Tpm2Backend Backend() {
    Tpm2Options options;
    options.tcti = tpm_.Tcti();
    return Tpm2Backend(options);
  }
  // Runs tpm2_checkquote on the evidence with qualification `qual`; returns its exit status.
  int CheckQuote(const nlohmann::json& j, const std::string& qual, std::string* output) {
    std::string dir = tpm_.state_dir() + "/checkquote";
    std::filesystem::create_directories(dir);
    WriteFile(dir + "/ak.pem", j["ak_pem"].get<std::string>());
    WriteFile(dir + "/quote.msg", *Base64Decode(j["attest"].get<std::string>()));
    WriteFile(dir + "/quote.sig", *Base64Decode(j["signature"].get<std::string>()));
    // The PCR file in tpm2-tools' serialized format (what tpm2_quote -o writes):
    // TPML_PCR_SELECTION, a uint32 count of digest lists (1), then TPML_DIGEST,
    // each as the in-memory tss2 struct. The plain "values" format with -l is
    // not used: tpm2-tools 5.4 fails it for 8 or more PCRs (tpm2-tools #3542).
    TPML_PCR_SELECTION sel = {};
    sel.count = 1;
    sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
    sel.pcrSelections[0].sizeofSelect = 3;
    TPML_DIGEST digests = {};
    for (const auto& [index, hex] : j["pcrs"].items()) {  // keys "0".."7" sort in index order
      int i = std::stoi(index);
      sel.pcrSelections[0].pcrSelect[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
      std::string value = *HexDecode(hex.get<std::string>());
      TPM2B_DIGEST& d = digests.digests[digests.count++];
      d.size = static_cast<UINT16>(value.size());
      std::memcpy(d.buffer, value.data(), value.size());
    }
    uint32_t lists = 1;
    std::string pcrs(reinterpret_cast<const char*>(&sel), sizeof(sel));
    pcrs.append(reinterpret_cast<const char*>(&lists), sizeof(lists));
    pcrs.append(reinterpret_cast<const char*>(&digests), sizeof(digests));
    WriteFile(dir + "/pcrs.bin", pcrs);
    std::string cmd = "tpm2_checkquote -u " + dir + "/ak.pem -m " + dir + "/quote.msg -s " + dir +
                      "/quote.sig -f " + dir + "/pcrs.bin -g sha256 -q " + HexEncode(qual) + " >" + dir +
                      "/out.txt 2>&1";
    int rc = std::system(cmd.c_str());
    std::ifstream out(dir + "/out.txt");
    std::stringstream ss;
    ss << out.rdbuf();
    *output = ss.str();
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  testing::SwtpmProcess tpm_;
};

TEST_F(Tpm2EvidenceTest, probe_finds_the_software_tpm) {
  auto id = Backend().Probe();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_FALSE(id->empty());
}

TEST_F(Tpm2EvidenceTest, quote_verifies_and_other_nonce_is_rejected) {
  std::string user_data = ComputeUserData("thumbprint", "nonce-1");
  auto start = std::chrono::steady_clock::now();
  auto j = Backend().Collect(user_data);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  std::printf("tpm2 collect (AK create + quote + PCR read) took %.3f s\n", seconds);
  EXPECT_EQ((*j)["type"], "tpm2");
  EXPECT_EQ((*j)["pcrs"].size(), 8u);
  EXPECT_FALSE(j->contains("ek_cert"));  // a bare swtpm has no EK certificate

  auto in = Tpm2InputFromJson(*j);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  in->expected_user_data = user_data;
  auto v = Tpm2QuoteVerifier({}).SelfCheck(*in);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->checks, (std::vector<std::string>{"ak_public", "attest", "signature", "qualifying_data",
                                                 "pcr_selection", "pcr_digest"}));
  // A genuine quote still does not verify without a certificate tying its AK to a TPM.
  v = Tpm2QuoteVerifier({}).Verify(*in);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("tpm2: ak_certificate:"), std::string::npos) << v.status().message();

  in->expected_user_data = ComputeUserData("thumbprint", "nonce-2");
  v = Tpm2QuoteVerifier({}).SelfCheck(*in);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("tpm2: qualifying_data:"), std::string::npos) << v.status().message();

  // A reported PCR value that differs from what was quoted.
  in->expected_user_data = user_data;
  in->pcrs[0][0] = static_cast<char>(in->pcrs[0][0] ^ 1);
  v = Tpm2QuoteVerifier({}).SelfCheck(*in);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("tpm2: pcr_digest:"), std::string::npos) << v.status().message();
}

TEST_F(Tpm2EvidenceTest, same_tpm_gives_the_same_ak_and_pinning_works) {
  auto a = Backend().Collect(ComputeUserData("t", "1"));
  auto b = Backend().Collect(ComputeUserData("t", "2"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)["ak_public"], (*b)["ak_public"]);
  auto in = Tpm2InputFromJson(*a);
  ASSERT_TRUE(in.ok());
  Tpm2Policy policy;
  policy.allowed_ak_sha256 = {std::string(64, '0')};
  auto v = Tpm2QuoteVerifier(policy).SelfCheck(*in);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("ak_pinned"), std::string::npos);
}

TEST_F(Tpm2EvidenceTest, tpm2_checkquote_cross_check) {
  if (::access("/usr/bin/tpm2_checkquote", X_OK) != 0)
    GTEST_SKIP() << "skipped: tpm2_checkquote not installed";
  std::string user_data = ComputeUserData("thumbprint", "nonce-1");
  // Extend PCR 7 first so the quoted PCR digest covers a non-zero value.
  std::string extend =
      "tpm2_pcrextend -T '" + tpm_.Tcti() + "' 7:sha256=" + std::string(64, 'a') + " >/dev/null";
  ASSERT_EQ(std::system(extend.c_str()), 0) << extend;
  auto j = Backend().Collect(user_data);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_NE((*j)["pcrs"]["7"], std::string(64, '0'));
  std::string out;
  EXPECT_EQ(CheckQuote(*j, user_data, &out), 0) << "tpm2_checkquote rejected resmeter's quote:\n" << out;
  EXPECT_NE(CheckQuote(*j, ComputeUserData("thumbprint", "nonce-2"), &out), 0)
      << "tpm2_checkquote accepted a different nonce:\n"
      << out;
  EXPECT_NE(out.find("nonce"), std::string::npos) << out;
}

// Runs a shell command; returns its exit status, stdout+stderr in `out`.
int RunShell(const std::string& cmd, std::string* out = nullptr) { return RunShellCommand(cmd + " 2>&1", out); }

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A public key as SubjectPublicKeyInfo PEM.
std::string PublicKeyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

// A swtpm manufactured with an EK certificate from the test's EK CA, and the
// test's AK CA (the attestation CA that certifies AKs after activation).
class Tpm2EnrolledTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/bin/tpm2_makecredential", X_OK) != 0)
      GTEST_SKIP() << "skipped: tpm2-tools not installed";
    ek_ca_key_ = testing::NewP256Key();
    ek_ca_ = testing::MintCert(ek_ca_key_.get(), "resmeter test EK CA", ek_ca_key_.get(), nullptr, true);
    ak_ca_key_ = testing::NewP256Key();
    ak_ca_ = testing::MintCert(ak_ca_key_.get(), "resmeter test AK CA", ak_ca_key_.get(), nullptr, true);
    std::string why;
    if (::access("/usr/bin/swtpm", X_OK) != 0 || ::access("/usr/bin/swtpm_setup", X_OK) != 0) {
      GTEST_SKIP() << "skipped: swtpm or swtpm_setup (swtpm, swtpm-tools) is not installed";
    }
    ASSERT_TRUE(
        tpm_.StartManufactured(testing::KeyPem(ek_ca_key_.get()), testing::CertPem(ek_ca_.get()), &why))
        << why;
    work_ = tmp_.path();
    anchors_ = work_ + "/anchors";
    std::filesystem::create_directories(anchors_ + "/tpm2");
    std::filesystem::create_directories(work_ + "/empty-anchors");
    WriteFile(anchors_ + "/tpm2/test-ak-ca.pem", testing::CertPem(ak_ca_.get()));
  }
  std::string Tools() const { return "TPM2TOOLS_TCTI='" + tpm_.Tcti() + "' "; }
  Tpm2Backend Backend(const std::string& ak_cert_file = "") {
    Tpm2Options options;
    options.tcti = tpm_.Tcti();
    options.ak_cert_file = ak_cert_file;
    return Tpm2Backend(options);
  }
  // The attestation CA's side of credential activation: encrypts a fresh
  // secret to the certified EK public key (PEM) bound to the AK name (hex);
  // then, in the TPM, recreates the AK from resmeter's template, loads the
  // EK and activates. True when the TPM gave back the secret.
  bool ActivateCredential(const std::string& ek_pub_pem, const std::string& ak_name_hex, std::string* log) {
    const std::string d = work_ + "/activate";
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    WriteFile(d + "/ek.pem", ek_pub_pem);
    std::string secret = Sha256(ak_name_hex + std::to_string(::getpid()) + std::to_string(++activations_));
    WriteFile(d + "/secret.bin", secret);
    const std::string t = Tools();
    // Objects stay loaded without a resource manager: flush after each step (swtpm holds 3).
    const std::string script =
        "set -e; cd " + d + "; " + "tpm2_makecredential -Q -T none -G rsa -u ek.pem -s secret.bin -n " +
        ak_name_hex + " -o cred.bin; " + t +
        "tpm2_createprimary -Q -C e -G ecc256:ecdsa-sha256:null -g sha256 -a "
        "'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign' -c ak.ctx; " +
        t + "tpm2_flushcontext -t; " + t + "tpm2_createek -Q -c ek.ctx -G rsa; " + t +
        "tpm2_flushcontext -t; " + t + "tpm2_startauthsession --policy-session -S session.ctx; " + t +
        "tpm2_policysecret -Q -S session.ctx -c e; " + "rc=0; " + t +
        "tpm2_activatecredential -Q -c ak.ctx -C ek.ctx -i cred.bin -o recovered.bin -P session:session.ctx "
        "|| rc=$?; " +
        t + "tpm2_flushcontext session.ctx; " + t + "tpm2_flushcontext -t; exit $rc";
    WriteFile(d + "/activate.sh", script + "\n");
    int rc = RunShell("bash " + d + "/activate.sh", log);
    return rc == 0 && Slurp(d + "/recovered.bin") == secret;
  }
  // The TPM object name of a marshaled TPM2B_PUBLIC: nameAlg (SHA-256) || SHA-256(TPMT_PUBLIC).
  static std::string AkNameHex(const std::string& ak_public) {
    return "000b" + HexEncode(Sha256(ak_public.substr(2)));
  }

  TempDir tmp_;
  testing::SwtpmProcess tpm_;
  EvpPkeyPtr ek_ca_key_, ak_ca_key_;
  X509Ptr ek_ca_, ak_ca_;
  std::string work_, anchors_;
  int activations_ = 0;
};

TEST_F(Tpm2EnrolledTest, attestation_ca_enrolls_the_ak_and_only_certified_quotes_verify) {
  auto start = std::chrono::steady_clock::now();
  const std::string user_data = ComputeUserData("thumbprint", "nonce-1");
  auto j = Backend().Collect(user_data);
  ASSERT_TRUE(j.ok()) << j.status().ToString();

  // 1. The EK certificate the collector read from NV chains to the EK CA.
  ASSERT_TRUE(j->contains("ek_cert")) << "the manufactured swtpm has an EK certificate in NV";
  auto ek = ParseCertificates(*Base64Decode((*j)["ek_cert"].get<std::string>()), "ek_cert");
  ASSERT_TRUE(ek.ok()) << ek.status().ToString();
  ASSERT_TRUE(VerifyCertificateChain((*ek)[0].get(), {}, ek_ca_.get(), std::nullopt).ok());
  const std::string ek_pub_pem = PublicKeyPem(X509_get0_pubkey((*ek)[0].get()));

  // 2. Credential activation: only the TPM holding that EK and this AK recovers the secret.
  const std::string ak_public = *Base64Decode((*j)["ak_public"].get<std::string>());
  std::string log;
  ASSERT_TRUE(ActivateCredential(ek_pub_pem, AkNameHex(ak_public), &log)) << log;
  // A software key's name: the TPM holds no such object, activation fails.
  EvpPkeyPtr soft = testing::NewP256Key();
  EXPECT_FALSE(ActivateCredential(ek_pub_pem, AkNameHex(testing::SoftwareAkPublic(soft.get())), &log)) << log;

  // 3. Activation passed: the attestation CA certifies the AK.
  auto ak_key = Tpm2AkPublicKey(ak_public);
  ASSERT_TRUE(ak_key.ok());
  X509Ptr ak_cert = testing::MintCert(ak_key->get(), "resmeter AK", ak_ca_key_.get(), ak_ca_.get(), false);
  const std::string ak_cert_path = work_ + "/ak-cert.pem";
  WriteFile(ak_cert_path, testing::CertPem(ak_cert.get()));
  double enroll_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("tpm2 enrollment (collect + EK check + 2 credential activations + AK cert) took %.3f s\n",
              enroll_s);

  // 4. The collector attaches it; the genuine quote is ACCEPTED with the AK CA as anchor.
  auto certified = Backend(ak_cert_path).Collect(user_data);
  ASSERT_TRUE(certified.ok()) << certified.status().ToString();
  ASSERT_TRUE(certified->contains("ak_cert"));
  WriteFile(work_ + "/ev.json", certified->dump());
  WriteFile(work_ + "/ev-bare.json", j->dump());
  const std::string verify = std::string(RESMETER_BINARY) + " evidence verify --type tpm2 --report-data " +
                             HexEncode(user_data) + " ";
  std::string out;
  EXPECT_EQ(RunShell(verify + "--evidence " + work_ + "/ev.json --anchors " + anchors_, &out), 0) << out;
  EXPECT_NE(out.find("ak_certificate"), std::string::npos) << out;
  EXPECT_NE(out.find("resmeter test AK CA"), std::string::npos) << out;
  // The certificate given on the command line instead.
  EXPECT_EQ(RunShell(verify + "--evidence " + work_ + "/ev-bare.json --ak-cert " + ak_cert_path +
                         " --anchors " + anchors_,
                     &out),
            0)
      << out;

  // The same certificate published in an NV index, as cloud vTPMs do, read by the collector.
  const std::string der_path = work_ + "/ak-cert.der";
  WriteFile(der_path, CertificateDer(ak_cert.get()));
  std::string nv_log;
  ASSERT_EQ(RunShell(Tools() + "tpm2_nvdefine 0x01c10100 -C o -s " +
                         std::to_string(CertificateDer(ak_cert.get()).size()) +
                         " -a 'ownerwrite|ownerread|authread|no_da' && " + Tools() +
                         "tpm2_nvwrite 0x01c10100 -C o -i " + der_path,
                     &nv_log),
            0)
      << nv_log;
  Tpm2Options nv_options;
  nv_options.tcti = tpm_.Tcti();
  nv_options.ak_cert_nv_index = 0x01c10100;
  auto from_nv = Tpm2Backend(nv_options).Collect(user_data);
  ASSERT_TRUE(from_nv.ok()) << from_nv.status().ToString();
  EXPECT_EQ((*from_nv)["ak_cert"], Base64Encode(CertificateDer(ak_cert.get())));

  // 5. The same quote with the anchor removed: REJECTED, naming the missing anchor.
  EXPECT_EQ(RunShell(verify + "--evidence " + work_ + "/ev.json --anchors " + work_ + "/empty-anchors", &out),
            1)
      << out;
  EXPECT_NE(out.find("tpm2: ak_certificate: no trusted TPM CA in " + work_ + "/empty-anchors/tpm2"),
            std::string::npos)
      << out;
  // Without any certificate: REJECTED.
  EXPECT_EQ(RunShell(verify + "--evidence " + work_ + "/ev-bare.json --anchors " + anchors_, &out), 1) << out;
  EXPECT_NE(out.find("tpm2: ak_certificate: the evidence has no ak_cert"), std::string::npos) << out;

  // 6. A software key with TPM attributes and a self-made certificate: REJECTED.
  nlohmann::json forged = testing::SoftwareQuoteEvidence(soft.get(), user_data);
  X509Ptr self_made = testing::MintCert(soft.get(), "resmeter AK", soft.get(), nullptr, false);
  forged["ak_cert"] = Base64Encode(CertificateDer(self_made.get()));
  WriteFile(work_ + "/forged.json", forged.dump());
  EXPECT_EQ(RunShell(verify + "--evidence " + work_ + "/forged.json --anchors " + anchors_, &out), 1) << out;
  EXPECT_NE(out.find("tpm2: ak_certificate: not certified by a trusted TPM CA"), std::string::npos) << out;
  // ... or the genuine AK certificate pasted onto the software quote: the key differs.
  EXPECT_EQ(RunShell(verify + "--evidence " + work_ + "/forged.json --ak-cert " + ak_cert_path +
                         " --anchors " + anchors_,
                     &out),
            1)
      << out;
  EXPECT_NE(out.find("is not the AK"), std::string::npos) << out;

  // 7. Malformed certificate input: one line, exit 2.
  WriteFile(work_ + "/junk.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(RunShell(verify + "--evidence " + work_ + "/ev-bare.json --ak-cert " + work_ +
                         "/junk.pem --anchors " + anchors_,
                     &out),
            2)
      << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  nlohmann::json bad = *certified;
  bad["ak_chain"] = nlohmann::json::array({"bm90IERFUg=="});
  WriteFile(work_ + "/bad.json", bad.dump());
  EXPECT_EQ(RunShell(verify + "--evidence " + work_ + "/bad.json --anchors " + anchors_, &out), 2) << out;
  EXPECT_NE(out.find("ak_chain[0]"), std::string::npos) << out;

  // The collector refuses a configured certificate for another key.
  WriteFile(work_ + "/other-cert.pem", testing::CertPem(self_made.get()));
  auto wrong = Backend(work_ + "/other-cert.pem").Collect(user_data);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("not this TPM's attestation key"), std::string::npos)
      << wrong.status().message();
}

TEST_F(Tpm2EnrolledTest, identity_document_with_certified_ak_verifies) {
  // Enrollment as above, then the agent's own identity document through the CLI.
  auto j = Backend().Collect(ComputeUserData("t", "n"));
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  auto ek = ParseCertificates(*Base64Decode((*j)["ek_cert"].get<std::string>()), "ek_cert");
  ASSERT_TRUE(ek.ok() && VerifyCertificateChain((*ek)[0].get(), {}, ek_ca_.get(), std::nullopt).ok());
  const std::string ek_pub_pem = PublicKeyPem(X509_get0_pubkey((*ek)[0].get()));
  const std::string ak_public = *Base64Decode((*j)["ak_public"].get<std::string>());
  std::string log;
  ASSERT_TRUE(ActivateCredential(ek_pub_pem, AkNameHex(ak_public), &log)) << log;
  auto ak_key = Tpm2AkPublicKey(ak_public);
  ASSERT_TRUE(ak_key.ok());
  X509Ptr ak_cert = testing::MintCert(ak_key->get(), "resmeter AK", ak_ca_key_.get(), ak_ca_.get(), false);
  WriteFile(work_ + "/ak-cert.der", CertificateDer(ak_cert.get()));  // DER works as well as PEM

  const std::string base = std::string(RESMETER_BINARY) + " --state-dir " + work_ +
                           "/state --set evidence.backend=tpm2 --set evidence.tpm_tcti=" + tpm_.Tcti() +
                           " --set evidence.tpm2.ak_cert_file=" + work_ + "/ak-cert.der";
  const std::string n1 = "00112233445566778899aabbccddeeff";
  std::string out;
  // Agent keys are ephemeral: each probe makes a key and writes its report and identity together.
  ASSERT_EQ(RunShell(base + " probe --only cpu.time -o " + work_ + "/r1.jws --identity-out " + work_ + "/id1.json",
                     &out),
            0)
      << out;
  ASSERT_EQ(RunShell(base + " probe --only cpu.time -o " + work_ + "/r2.jws --identity-out " + work_ + "/id2.json",
                     &out),
            0)
      << out;
  auto id1 = nlohmann::json::parse(Slurp(work_ + "/id1.json"));
  EXPECT_TRUE(id1["evidence"].contains("ak_cert"));
  EXPECT_EQ(RunShell(base + " evidence verify --type tpm2 --identity " + work_ + "/id1.json --anchors " + anchors_,
                     &out),
            0)
      << out;
  // The whole report: its TPM evidence certified by the buyer's AK CA, so ACCEPTED (dev evidence not needed).
  EXPECT_EQ(RunShell(base + " --set evidence.trust_anchors_dir=" + anchors_ + " verify " + work_ +
                         "/r1.jws --identity " + work_ + "/id1.json",
                     &out),
            0)
      << out;
  EXPECT_NE(out.find("\nACCEPTED\n"), std::string::npos) << out;
  // A nonce the identity was not made for: REJECTED.
  EXPECT_EQ(RunShell(base + " evidence verify --identity " + work_ + "/id1.json --nonce " + n1 + " --anchors " +
                         anchors_,
                     &out),
            1)
      << out;
  // Anchor removed: REJECTED.
  EXPECT_EQ(RunShell(base + " evidence verify --identity " + work_ + "/id1.json --anchors " + work_ +
                         "/empty-anchors",
                     &out),
            1)
      << out;
  EXPECT_NE(out.find("tpm2: ak_certificate: no trusted TPM CA"), std::string::npos) << out;
  // A certified quote made for another key is still rejected by the binding.
  nlohmann::json forged = id1;
  forged["evidence"] = nlohmann::json::parse(Slurp(work_ + "/id2.json"))["evidence"];
  WriteFile(work_ + "/forged.json", forged.dump());
  EXPECT_EQ(
      RunShell(base + " evidence verify --identity " + work_ + "/forged.json --anchors " + anchors_, &out), 1)
      << out;
  EXPECT_NE(out.find("tpm2: qualifying_data"), std::string::npos) << out;
}

}  // namespace
}  // namespace resmeter
