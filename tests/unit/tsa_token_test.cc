// RFC 3161 tokens (tsa/): requests, parsing, offline verification against
// anchors, and the HTTP client against a loopback TSA that answers well,
// with garbage, slowly or not at all. Tokens come from tests/support/test_tsa.h.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "support/temp_dir.h"
#include "support/test_http_server.h"
#include "support/test_tsa.h"
#include "tsa/timestamp_request.h"
#include "tsa/timestamp_token.h"
#include "tsa/timestamp_verifier.h"
#include "tsa/tsa_anchors.h"
#include "tsa/tsa_client.h"

namespace resmeter {
namespace {

std::string Sha256Of(const std::string& text) {
  unsigned char d[32];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d);
  return std::string(reinterpret_cast<char*>(d), 32);
}

TsaAnchors AnchorsOf(const std::string& pem) {
  auto a = TsaAnchors::FromPem(pem, "test");
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  return a.ok() ? *a : TsaAnchors();
}

constexpr char kNonce[] = "1122334455667788";

TEST(TimestampRequest, CarriesImprintNonceAndCertReq) {
  auto req = MakeTimestampRequest(Sha256Of("x"));
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  EXPECT_EQ(req->nonce_hex.size(), 16u);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(req->der.data());
  TS_REQ* parsed = d2i_TS_REQ(nullptr, &p, static_cast<long>(req->der.size()));
  ASSERT_NE(parsed, nullptr);
  EXPECT_EQ(TS_REQ_get_cert_req(parsed), 1);
  EXPECT_NE(TS_REQ_get_nonce(parsed), nullptr);
  TS_REQ_free(parsed);
  auto other = MakeTimestampRequest(Sha256Of("x"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->nonce_hex, req->nonce_hex) << "nonces must be fresh";
  EXPECT_FALSE(MakeTimestampRequest("short").ok());
}

TEST(TimestampVerifier, AcceptsAGoodTokenAndReadsItsTime) {
  TestTsa tsa;
  const std::string hash = Sha256Of("statement 5");
  const double t = std::floor(static_cast<double>(time(nullptr))) + 0.25;
  const std::string token = tsa.Token(hash, kNonce, t);
  auto v = VerifyTimestampToken(token, {hash, kNonce}, AnchorsOf(tsa.CaPem()));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_NEAR(v->info.gen_time_unix_seconds, t, 1e-6);
  EXPECT_EQ(v->info.nonce_hex, kNonce);
  EXPECT_EQ(v->info.imprint_algorithm, "SHA256");
  EXPECT_NEAR(v->info.accuracy_seconds, 1.0, 1e-9);
  EXPECT_EQ(v->info.policy_oid, "1.3.6.1.4.1.99999.1");
  EXPECT_EQ(v->signer_subject, "CN=test-tsa");
}

TEST(TimestampVerifier, RejectsAnotherImprint) {
  TestTsa tsa;
  const std::string token = tsa.Token(Sha256Of("a"), kNonce, time(nullptr));
  auto v = VerifyTimestampToken(token, {Sha256Of("b"), kNonce}, AnchorsOf(tsa.CaPem()));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Status::Code::kVerifyFailed);
  EXPECT_EQ(v.status().message().rfind("imprint:", 0), 0u) << v.status().message();
}

TEST(TimestampVerifier, RejectsAnotherNonceOrNone) {
  TestTsa tsa;
  const std::string hash = Sha256Of("a");
  auto v = VerifyTimestampToken(tsa.Token(hash, "99", time(nullptr)), {hash, kNonce}, AnchorsOf(tsa.CaPem()));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message().rfind("nonce:", 0), 0u) << v.status().message();
  v = VerifyTimestampToken(tsa.Token(hash, "", time(nullptr)), {hash, kNonce}, AnchorsOf(tsa.CaPem()));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("nonce: the token carries none"), std::string::npos)
      << v.status().message();
}

TEST(TimestampVerifier, RejectsAnUntrustedChain) {
  TestTsa tsa;
  TestTsa other(TestTsa::Options{.name = "other"});
  const std::string hash = Sha256Of("a");
  auto v =
      VerifyTimestampToken(tsa.Token(hash, kNonce, time(nullptr)), {hash, kNonce}, AnchorsOf(other.CaPem()));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message().rfind("chain:", 0), 0u) << v.status().message();
  EXPECT_NE(v.status().message().find("local issuer"), std::string::npos) << v.status().message();
  v = VerifyTimestampToken(tsa.Token(hash, kNonce, time(nullptr)), {hash, kNonce}, TsaAnchors());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("no TSA trust anchors"), std::string::npos);
}

TEST(TimestampVerifier, ChecksCertificateValidityAtTheStampedTime) {
  // The TSA certificate expired a minute ago: a token stamped now fails, one
  // stamped while it was valid still verifies (tokens outlive certificates).
  TestTsa tsa(TestTsa::Options{.tsa_not_before_seconds = -7200, .tsa_not_after_seconds = -60});
  const std::string hash = Sha256Of("a");
  const double now = time(nullptr);
  auto v = VerifyTimestampToken(tsa.Token(hash, kNonce, now), {hash, kNonce}, AnchorsOf(tsa.CaPem()));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("chain:"), std::string::npos);
  EXPECT_NE(v.status().message().find("certificate has expired"), std::string::npos) << v.status().message();
  v = VerifyTimestampToken(tsa.Token(hash, kNonce, now - 3600), {hash, kNonce}, AnchorsOf(tsa.CaPem()));
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  // Stamped before the certificate was valid.
  v = VerifyTimestampToken(tsa.Token(hash, kNonce, now - 3 * 3600), {hash, kNonce}, AnchorsOf(tsa.CaPem()));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("not yet valid"), std::string::npos) << v.status().message();
}

TEST(TimestampVerifier, RejectsATamperedToken) {
  TestTsa tsa;
  const std::string hash = Sha256Of("a");
  std::string token = tsa.Token(hash, kNonce, time(nullptr));
  token[token.size() - 10] ^= 0x01;  // inside the signature value
  auto v = VerifyTimestampToken(token, {hash, kNonce}, AnchorsOf(tsa.CaPem()));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message().rfind("signature:", 0), 0u) << v.status().ToString();
}

TEST(TimestampVerifier, AcceptsAPinnedTsaCertificate) {
  TestTsa tsa;
  const std::string hash = Sha256Of("a");
  auto v = VerifyTimestampToken(tsa.Token(hash, kNonce, time(nullptr)), {hash, kNonce},
                                AnchorsOf(tsa.TsaCertPem()));
  EXPECT_TRUE(v.ok()) << v.status().ToString();
}

TEST(TimestampToken, RejectsGarbageWithOneLine) {
  for (const std::string& bad :
       {std::string(), std::string("garbage"), std::string("\x30\x03\x02\x01\x01", 5),
        std::string(kMaxTimestampTokenBytes + 1, '\x30')}) {
    auto t = ParseTimestampToken(bad);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), Status::Code::kCorruption);
    EXPECT_EQ(t.status().message().find('\n'), std::string::npos);
  }
  TestTsa tsa;
  std::string token = tsa.Token(Sha256Of("a"), kNonce, time(nullptr));
  EXPECT_FALSE(ParseTimestampToken(token + "x").ok()) << "trailing bytes";
  EXPECT_FALSE(ParseTimestampToken(token.substr(0, token.size() / 2)).ok());
  EXPECT_FALSE(TimestampTokenFromResponse("nope").ok());
}

TEST(TsaAnchors, LoadsPemFilesAndRejectsBadOnes) {
  TempDir dir;
  TestTsa tsa;
  auto missing = TsaAnchors::LoadDir(dir.path() + "/absent");
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->empty());
  std::ofstream(dir.path() + "/root.pem") << tsa.CaPem();
  std::ofstream(dir.path() + "/ignored.txt") << "not an anchor";
  auto loaded = TsaAnchors::LoadDir(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->size(), 1u);
  std::ofstream(dir.path() + "/bad.pem") << "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  auto bad = TsaAnchors::LoadDir(dir.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.pem"), std::string::npos) << bad.status().message();
}

// The HTTP client against a loopback TSA.
class TsaClientTest : public ::testing::Test {
 protected:
  TestTsa tsa_;
};

TEST_F(TsaClientTest, GetsATokenThatVerifies) {
  TestHttpServer server([&](const std::string& body) {
    return TestHttpReply{.body = tsa_.Reply(body, static_cast<double>(time(nullptr)))};
  });
  const std::string hash = Sha256Of("head");
  auto stamp = RequestTimestamp({"loop", server.Url()}, hash, {.timeout_seconds = 5});
  ASSERT_TRUE(stamp.ok()) << stamp.status().ToString();
  EXPECT_EQ(stamp->tsa, "loop");
  auto v = VerifyTimestampToken(stamp->token_der, {hash, stamp->nonce_hex}, AnchorsOf(tsa_.CaPem()));
  EXPECT_TRUE(v.ok()) << v.status().ToString();
}

TEST_F(TsaClientTest, GarbageSlowDeadAndRefusingTsasFailWithOneLine) {
  const std::string hash = Sha256Of("head");
  {
    TestHttpServer server([](const std::string&) { return TestHttpReply{.body = "\x30\x02garbage"}; });
    auto stamp = RequestTimestamp({"garbage", server.Url()}, hash, {.timeout_seconds = 2});
    ASSERT_FALSE(stamp.ok());
    EXPECT_NE(stamp.status().message().find("garbage"), std::string::npos) << stamp.status().message();
  }
  {
    TestHttpServer server([](const std::string&) { return TestHttpReply{.status = 500, .body = "oops"}; });
    EXPECT_FALSE(RequestTimestamp({"error", server.Url()}, hash, {.timeout_seconds = 2}).ok());
  }
  {
    TestHttpServer server([](const std::string&) { return TestHttpReply{.hang_up = true}; });
    EXPECT_FALSE(RequestTimestamp({"hangup", server.Url()}, hash, {.timeout_seconds = 2}).ok());
  }
  {
    // Answers after 30 s; the 1 s timeout must end the wait (bound: 5 s on a loaded machine).
    TestHttpServer server(
        [](const std::string&) { return TestHttpReply{.body = "late", .delay_seconds = 30}; });
    const auto started = std::chrono::steady_clock::now();
    auto stamp = RequestTimestamp({"slow", server.Url()}, hash, {.timeout_seconds = 1});
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ASSERT_FALSE(stamp.ok());
    EXPECT_LT(waited, 5.0);
    EXPECT_NE(stamp.status().message().find("slow"), std::string::npos);
  }
  {
    // Nothing listens on the port of a stopped server.
    int port = 0;
    {
      TestHttpServer server([](const std::string&) { return TestHttpReply{}; });
      port = server.port();
    }
    // (OpenSSL retries a refused connect until the timeout: 1 s here.)
    auto stamp = RequestTimestamp({"dead", "http://127.0.0.1:" + std::to_string(port) + "/"}, hash,
                                  {.timeout_seconds = 1});
    ASSERT_FALSE(stamp.ok());
    EXPECT_EQ(stamp.status().message().find('\n'), std::string::npos);
  }
  {
    // A valid reply for another request (a TSA or proxy replaying an old answer).
    TestHttpServer server([&](const std::string&) {
      return TestHttpReply{.body = tsa_.Reply(MakeTimestampRequest(Sha256Of("old"))->der, time(nullptr))};
    });
    auto stamp = RequestTimestamp({"replay", server.Url()}, hash, {.timeout_seconds = 2});
    ASSERT_FALSE(stamp.ok());
    EXPECT_EQ(stamp.status().code(), Status::Code::kVerifyFailed);
    EXPECT_NE(stamp.status().message().find("another hash"), std::string::npos) << stamp.status().message();
  }
  EXPECT_FALSE(CheckTsaUrl("https://tsa.example/").ok());
  EXPECT_FALSE(CheckTsaUrl("ftp://x").ok());
  EXPECT_TRUE(CheckTsaUrl("http://tsa.example:8080/tsr").ok());
}

}  // namespace
}  // namespace resmeter
