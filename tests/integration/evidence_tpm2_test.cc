// Integration test of TPM 2.0 evidence: a real swtpm on loopback produces a
// quote bound to the user data; resmeter's verifier and tpm2_checkquote both
// accept it, and a quote for another nonce is rejected.
#include "reporter/evidence_tpm2.h"

#include <gtest/gtest.h>
#include <tss2/tss2_tpm2_types.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/strings.h"
#include "reporter/tpm2_quote_verifier.h"
#include "swtpm_process.h"

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
                      "/quote.sig -f " + dir + "/pcrs.bin -g sha256 -q " + HexEncode(qual) +
                      " >" + dir + "/out.txt 2>&1";
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
  auto v = Tpm2QuoteVerifier({}).Verify(*in);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->checks, (std::vector<std::string>{"ak_public", "attest", "signature", "qualifying_data",
                                                  "pcr_selection", "pcr_digest"}));

  in->expected_user_data = ComputeUserData("thumbprint", "nonce-2");
  v = Tpm2QuoteVerifier({}).Verify(*in);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("tpm2: qualifying_data:"), std::string::npos) << v.status().message();

  // A reported PCR value that differs from what was quoted.
  in->expected_user_data = user_data;
  in->pcrs[0][0] = static_cast<char>(in->pcrs[0][0] ^ 1);
  v = Tpm2QuoteVerifier({}).Verify(*in);
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
  auto v = Tpm2QuoteVerifier(policy).Verify(*in);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("ak_pinned"), std::string::npos);
}

TEST_F(Tpm2EvidenceTest, tpm2_checkquote_cross_check) {
  if (::access("/usr/bin/tpm2_checkquote", X_OK) != 0) GTEST_SKIP() << "skipped: tpm2_checkquote not installed";
  std::string user_data = ComputeUserData("thumbprint", "nonce-1");
  // Extend PCR 7 first so the quoted PCR digest covers a non-zero value.
  std::string extend = "tpm2_pcrextend -T '" + tpm_.Tcti() + "' 7:sha256=" + std::string(64, 'a') + " >/dev/null";
  ASSERT_EQ(std::system(extend.c_str()), 0) << extend;
  auto j = Backend().Collect(user_data);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_NE((*j)["pcrs"]["7"], std::string(64, '0'));
  std::string out;
  EXPECT_EQ(CheckQuote(*j, user_data, &out), 0) << "tpm2_checkquote rejected resmeter's quote:\n" << out;
  EXPECT_NE(CheckQuote(*j, ComputeUserData("thumbprint", "nonce-2"), &out), 0)
      << "tpm2_checkquote accepted a different nonce:\n" << out;
  EXPECT_NE(out.find("nonce"), std::string::npos) << out;
}

}  // namespace
}  // namespace resmeter
