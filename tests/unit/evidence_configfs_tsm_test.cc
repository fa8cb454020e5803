// Tests of configfs-tsm collection against a test double: a directory tree and
// a thread that plays the kernel (creates an entry's attributes on mkdir and
// answers an inblob write with an outblob signed by a test SNP chain).
#include "reporter/evidence_configfs_tsm.h"

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
#include "reporter/evidence_sev_snp.h"
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

}  // namespace
}  // namespace resmeter
