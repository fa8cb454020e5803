// Tests of configfs-tsm collection against a test double: a directory tree and
// a thread that plays the kernel (creates an entry's attributes on mkdir and
// answers an inblob write with an outblob signed by a test SNP chain).
#include "attester/evidence_configfs_tsm.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/strings.h"
#include "attester/evidence_detector.h"
#include "evidence/evidence_sev_snp.h"
#include "evidence/evidence_verifier.h"
#include "snp_test_chain.h"

namespace resmeter {
namespace {

namespace fs = std::filesystem;

// Writes a file atomically (temp + rename), as the kernel's attribute would appear.
void Publish(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f << data;
  }
  ::rename(tmp.c_str(), path.c_str());
}

class FakeTsmKernel {
 public:
  enum class Mode { kNormal, kRacing, kNoProvider };
  FakeTsmKernel(std::string root, const testing::SnpTestChain* chain, Mode mode)
      : root_(std::move(root)), chain_(chain), mode_(mode), thread_([this] { Run(); }) {}
  ~FakeTsmKernel() {
    stop_ = true;
    thread_.join();
  }
  int answered() const { return answered_count_; }

 private:
  // Polls the root every millisecond, like a kernel reacting to mkdir and writes.
  void Run() {
    while (!stop_) {
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(root_, ec)) {
        std::string dir = entry.path().string();
        if (!initialized_.count(dir)) {
          Publish(dir + "/generation", "0\n");
          Publish(dir + "/auxblob", "");
          if (mode_ != Mode::kNoProvider) Publish(dir + "/provider", "sev_guest\n");
          Publish(dir + "/inblob", "");  // last: the collector waits for it
          initialized_.insert(dir);
        } else if (!answered_.count(dir)) {
          struct stat st;
          if (::stat((dir + "/inblob").c_str(), &st) != 0 || st.st_size != 64) continue;
          std::ifstream f(dir + "/inblob", std::ios::binary);
          std::stringstream ss;
          ss << f.rdbuf();
          testing::SyntheticSnpReport report;
          report.report_data = ss.str();
          // Racing: another writer's inblob write landed too (generation 2).
          Publish(dir + "/generation", mode_ == Mode::kRacing ? "2\n" : "1\n");
          Publish(dir + "/auxblob", chain_->CertTable());
          Publish(dir + "/outblob", chain_->SignReport(report));
          answered_.insert(dir);
          ++answered_count_;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  std::string root_;
  const testing::SnpTestChain* chain_;
  Mode mode_;
  std::atomic<bool> stop_{false};
  std::atomic<int> answered_count_{0};
  std::set<std::string> initialized_, answered_;
  std::thread thread_;
};

class ConfigfsTsmTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { chain_ = new testing::SnpTestChain("Tsm"); }
  static void TearDownTestSuite() {
    delete chain_;
    chain_ = nullptr;
  }
  void SetUp() override {
    char tmpl[] = "/tmp/resmeter-tsm-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }
  bool RootEmpty() const { return fs::is_empty(root_); }
  ConfigfsTsmBackend Backend() const {
    ConfigfsTsmOptions options;
    options.root = root_;
    options.wait_seconds = 10;  // generous: the double polls every millisecond
    return ConfigfsTsmBackend(options);
  }
  static testing::SnpTestChain* chain_;
  std::string root_;
};
testing::SnpTestChain* ConfigfsTsmTest::chain_ = nullptr;

TEST_F(ConfigfsTsmTest, collects_an_snp_report_that_verifies_against_the_test_chain) {
  FakeTsmKernel kernel(root_, chain_, FakeTsmKernel::Mode::kNormal);
  std::string user_data = ComputeUserData("thumbprint", "nonce");
  ConfigfsTsmBackend backend = Backend();
  auto j = backend.Collect(user_data);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["type"], "sev-snp");
  EXPECT_EQ((*j)["provider"], "sev_guest");
  EXPECT_EQ((*j)["generation"], 1);
  EXPECT_EQ((*j)["user_data"], HexEncode(user_data));
  EXPECT_EQ(backend.type(), EvidenceType::kSevSnp);
  EXPECT_TRUE(RootEmpty()) << "entry not removed";

  auto report = Base64Decode((*j)["report"].get<std::string>());
  auto aux = Base64Decode((*j)["auxblob"].get<std::string>());
  ASSERT_TRUE(report && aux);
  auto vcek = VcekFromCertTable(*aux);
  ASSERT_TRUE(vcek.ok()) << vcek.status().ToString();
  SevSnpInput in;
  in.report = *report;
  in.vcek = *vcek;
  in.chain = chain_->ChainPem();
  in.expected_report_data = user_data;
  auto v = SevSnpVerifier({chain_->ChainPem()}, {}).Verify(in);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  in.expected_report_data = ComputeUserData("thumbprint", "other nonce");
  EXPECT_FALSE(SevSnpVerifier({chain_->ChainPem()}, {}).Verify(in).ok());
}

TEST_F(ConfigfsTsmTest, racing_generation_is_rejected_and_entry_removed) {
  FakeTsmKernel kernel(root_, chain_, FakeTsmKernel::Mode::kRacing);
  auto j = Backend().Collect(ComputeUserData("thumbprint", "nonce"));
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("generation raced"), std::string::npos) << j.status().ToString();
  EXPECT_EQ(kernel.answered(), 1);
  EXPECT_TRUE(RootEmpty()) << "entry not removed after the race";
}

TEST_F(ConfigfsTsmTest, missing_provider_fails_and_entry_removed) {
  FakeTsmKernel kernel(root_, chain_, FakeTsmKernel::Mode::kNoProvider);
  auto j = Backend().Collect(ComputeUserData("thumbprint", "nonce"));
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), Status::Code::kNotFound);
  EXPECT_NE(j.status().message().find("provider is missing"), std::string::npos) << j.status().ToString();
  EXPECT_EQ(kernel.answered(), 0);
  EXPECT_TRUE(RootEmpty());
}

TEST_F(ConfigfsTsmTest, probe_reports_the_provider_type) {
  FakeTsmKernel kernel(root_, chain_, FakeTsmKernel::Mode::kNormal);
  ConfigfsTsmBackend backend = Backend();
  auto type = backend.Probe();
  ASSERT_TRUE(type.ok()) << type.status().ToString();
  EXPECT_EQ(*type, EvidenceType::kSevSnp);
  EXPECT_TRUE(RootEmpty());
}

TEST_F(ConfigfsTsmTest, absent_root_and_bad_user_data) {
  ConfigfsTsmOptions options;
  options.root = root_ + "/absent";
  auto j = ConfigfsTsmBackend(options).Collect(std::string(64, '\0'));
  EXPECT_EQ(j.status().code(), Status::Code::kNotSupported);
  EXPECT_EQ(Backend().Collect("short").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(EvidenceTypeForTsmProvider("tdx_guest").value(), EvidenceType::kTdx);
  EXPECT_FALSE(EvidenceTypeForTsmProvider("arm_cca_guest").ok());
}

TEST_F(ConfigfsTsmTest, auto_detection_picks_configfs_tsm_and_the_bound_evidence_verifies) {
  FakeTsmKernel kernel(root_, chain_, FakeTsmKernel::Mode::kNormal);
  EvidenceSettings settings;
  settings.tsm.root = root_;
  settings.tsm.wait_seconds = 10;
  settings.tpm.tcti = "device:" + root_ + "/no-tpm";
  auto detection = DetectEvidenceBackend(settings);
  ASSERT_TRUE(detection.ok()) << detection.status().ToString();
  EXPECT_EQ(detection->backend->type(), EvidenceType::kSevSnp);
  EXPECT_EQ(detection->ToJson()["selected"], "sev-snp");
  const std::string nonce = "0123456789abcdef";
  auto evidence = CollectBoundEvidence(*detection, "kid-thumbprint", nonce);
  ASSERT_TRUE(evidence.ok()) << evidence.status().ToString();

  // Verify through the dispatch, with the test chain as the only AMD anchor.
  std::string anchors = root_ + "-anchors";
  fs::create_directories(anchors);
  std::ofstream(anchors + "/amd_ask_ark_test.pem") << chain_->ChainPem();
  EvidenceVerifyOptions options;
  options.trust_anchors_dir = anchors;
  auto v = VerifyEvidenceJson(*evidence, ComputeUserData("kid-thumbprint", nonce), options);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  v = VerifyEvidenceJson(*evidence, ComputeUserData("kid-thumbprint", "another nonce"), options);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("sev-snp: report_data:"), std::string::npos);
  fs::remove_all(anchors);
}

TEST_F(ConfigfsTsmTest, detection_without_backends_falls_back_to_none_with_reasons) {
  EvidenceSettings settings;
  settings.tsm.root = root_ + "/absent";
  settings.tpm.tcti = "device:" + root_ + "/no-tpm";
  auto detection = DetectEvidenceBackend(settings);
  ASSERT_TRUE(detection.ok());
  EXPECT_EQ(detection->backend->type(), EvidenceType::kNone);
  auto evidence = CollectBoundEvidence(*detection, "kid", "");
  ASSERT_TRUE(evidence.ok());
  EXPECT_EQ((*evidence)["type"], "none");
  EXPECT_NE((*evidence)["reason"].get<std::string>().find("no-tpm"), std::string::npos);
  EXPECT_EQ((*evidence)["detection"]["probes"].size(), 2u);
  EvidenceVerifyOptions options;
  auto v = VerifyEvidenceJson(*evidence, ComputeUserData("kid", ""), options);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("none: trusted:"), std::string::npos);
  options.allow_none = true;
  EXPECT_TRUE(VerifyEvidenceJson(*evidence, ComputeUserData("kid", ""), options).ok());
  EXPECT_FALSE(VerifyEvidenceJson(*evidence, ComputeUserData("other kid", ""), options).ok());

  settings.backend = "tpm2";
  EXPECT_EQ(DetectEvidenceBackend(settings).status().code(), Status::Code::kNotSupported);
  settings.backend = "sev-snp";
  EXPECT_EQ(DetectEvidenceBackend(settings).status().code(), Status::Code::kNotSupported);
  settings.backend = "none";
  EXPECT_EQ(DetectEvidenceBackend(settings)->backend->type(), EvidenceType::kNone);
}

TEST(EvidenceTest, user_data_is_sha512_of_thumbprint_then_nonce) {
  std::string u = ComputeUserData("abc", std::string("\x01\x02", 2));
  EXPECT_EQ(u.size(), kUserDataSize);
  EXPECT_EQ(u, ComputeUserData("abc\x01\x02", ""));
  EXPECT_NE(u, ComputeUserData("abc", std::string("\x01\x03", 2)));
  EXPECT_EQ(Base64Decode(Base64Encode("hello!?")).value(), "hello!?");
  EXPECT_FALSE(Base64Decode("a*b=").has_value());
}

}  // namespace
}  // namespace resmeter
