#include <gtest/gtest.h>

#include "core/base64url.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "report/report.h"
#include "report/report_verifier.h"
#include "jose/signing_key.h"

namespace resmeter {
namespace {

constexpr double kNow = 1'800'000'000;

std::string MakeReport(const SigningKey& key, std::optional<std::string> nonce = std::nullopt) {
  ReportInputs in;
  in.issued_at_unix_seconds = kNow;
  in.validity_seconds = 600;
  in.nonce_hex = nonce;
  in.submods["cpu.time"] = {{"status", "ok"}, {"claims", {{"delivered_vcpu_seconds", 1.5}}}};
  auto token = SignReport(in, key);
  EXPECT_TRUE(token.ok()) << token.status().message();
  return *token;
}

ReportVerifyOptions At(double now) {
  ReportVerifyOptions o;
  o.now_unix_seconds = now;
  return o;
}

TEST(base64url_test, round_trips_and_rejects_padding_and_noncanonical) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(s)), s);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(Base64UrlDecode("Zg==").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());  // low bits set: not canonical
  EXPECT_FALSE(Base64UrlDecode("a").has_value());
}

TEST(jwk_test, rfc7638_thumbprint_example) {
  // RFC 8037 appendix A.3: thumbprint of the Ed25519 example key.
  nlohmann::json jwk = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}};
  EXPECT_EQ(*JwkThumbprint(jwk), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

TEST(jwk_test, rejects_private_and_malformed_keys) {
  EXPECT_FALSE(PublicKey::FromJwk({{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AAAA"}}).ok());
  EXPECT_FALSE(PublicKey::FromJwk({{"kty", "RSA"}}).ok());
  EXPECT_FALSE(PublicKey::FromJwk(nlohmann::json::array()).ok());
  auto key = *SigningKey::Generate(kAlgEdDSA);
  nlohmann::json with_d = key->PublicJwk();
  with_d["d"] = "secret";
  EXPECT_FALSE(PublicKey::FromJwk(with_d).ok());
  // An EC point off the curve.
  auto ec = *SigningKey::Generate(kAlgES384);
  nlohmann::json bent = ec->PublicJwk();
  std::string y = *Base64UrlDecode(bent["y"].get<std::string>());
  y[47] ^= 1;
  bent["y"] = Base64UrlEncode(y);
  EXPECT_FALSE(PublicKey::FromJwk(bent).ok());
}

class ReportSigningTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ReportSigningTest, signed_report_verifies_with_public_jwk) {
  auto key = *SigningKey::Generate(GetParam());
  auto pub = *PublicKey::FromJwk(key->PublicJwk());
  const std::string token = MakeReport(*key, "0011223344556677");
  auto v = VerifyReport(token, *pub, At(kNow + 1));
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_TRUE(v->valid) << v->failure;
  EXPECT_EQ(v->header["alg"], GetParam());
  EXPECT_EQ(v->header["kid"], key->Thumbprint());
  EXPECT_EQ(v->claims["eat_nonce"], "0011223344556677");
  EXPECT_EQ(v->claims["exp"], static_cast<int64_t>(kNow) + 600);
  EXPECT_EQ(v->claims["ueid"], UeidForThumbprint(key->Thumbprint()));
  EXPECT_EQ(v->claims["submods"]["cpu.time"]["claims"]["delivered_vcpu_seconds"], 1.5);
}

TEST_P(ReportSigningTest, every_single_byte_flip_in_payload_or_signature_is_invalid) {
  auto key = *SigningKey::Generate(GetParam());
  auto pub = *PublicKey::FromJwk(key->PublicJwk());
  const std::string token = MakeReport(*key);
  const size_t payload_start = token.find('.') + 1;
  for (size_t i = payload_start; i < token.size(); ++i) {
    if (token[i] == '.') continue;
    std::string bad = token;
    bad[i] ^= 0x01;
    auto v = VerifyReport(bad, *pub, At(kNow));
    ASSERT_TRUE(v.ok()) << "byte " << i << ": " << v.status().message();
    EXPECT_FALSE(v->valid) << "byte " << i;
    EXPECT_NE(v->failure.find("bad signature"), std::string::npos) << v->failure;
  }
}

INSTANTIATE_TEST_SUITE_P(algorithms, ReportSigningTest, ::testing::Values(kAlgEdDSA, kAlgES384));

TEST(report_verifier_test, wrong_key_expired_and_nonce_each_have_their_own_message) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  auto other = *SigningKey::Generate(kAlgEdDSA);
  auto pub = *PublicKey::FromJwk(key->PublicJwk());
  auto other_pub = *PublicKey::FromJwk(other->PublicJwk());
  const std::string token = MakeReport(*key, "aabbccddeeff0011");

  auto wrong = *VerifyReport(token, *other_pub, At(kNow));
  EXPECT_FALSE(wrong.valid);
  EXPECT_EQ(wrong.failure.rfind("wrong key", 0), 0u) << wrong.failure;

  auto expired = *VerifyReport(token, *pub, At(kNow + 600 + 61));
  EXPECT_FALSE(expired.valid);
  EXPECT_EQ(expired.failure.rfind("expired at", 0), 0u) << expired.failure;
  EXPECT_TRUE(VerifyReport(token, *pub, At(kNow + 600 + 59))->valid);  // within the skew

  ReportVerifyOptions o = At(kNow);
  o.expected_nonce_hex = "aabbccddeeff0012";
  auto nonce = *VerifyReport(token, *pub, o);
  EXPECT_FALSE(nonce.valid);
  EXPECT_EQ(nonce.failure.rfind("nonce mismatch", 0), 0u) << nonce.failure;
}

TEST(report_verifier_test, rejects_alg_none_and_unconfigured_algorithms) {
  auto key = *SigningKey::Generate(kAlgES384);
  auto pub = *PublicKey::FromJwk(key->PublicJwk());
  const std::string token = MakeReport(*key);
  const std::string rest = token.substr(token.find('.'));
  const std::string none = Base64UrlEncode(R"({"alg":"none","kid":")" + key->Thumbprint() + "\"}") + rest;
  auto v = *VerifyReport(none, *pub, At(kNow));
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.failure.find("'none' is never accepted"), std::string::npos);
  ReportVerifyOptions only_eddsa = At(kNow);
  only_eddsa.allowed_algorithms = {kAlgEdDSA};
  auto not_allowed = *VerifyReport(token, *pub, only_eddsa);
  EXPECT_FALSE(not_allowed.valid);
  EXPECT_NE(not_allowed.failure.find("not allowed"), std::string::npos);
}

TEST(report_verifier_test, truncated_or_garbage_input_is_unusable) {
  auto key = *SigningKey::Generate(kAlgEdDSA);
  auto pub = *PublicKey::FromJwk(key->PublicJwk());
  const std::string token = MakeReport(*key);
  for (size_t len : {size_t{0}, size_t{10}, token.size() / 2, token.size() - 5}) {
    auto v = VerifyReport(token.substr(0, len), *pub, At(kNow));
    EXPECT_FALSE(v.ok()) << "length " << len;
  }
  EXPECT_FALSE(VerifyReport("a.b.c.d", *pub, At(kNow)).ok());
  EXPECT_FALSE(VerifyReport("!!!.e30.AAAA", *pub, At(kNow)).ok());
}

TEST(report_test, nonce_must_be_hex_of_8_to_64_bytes) {
  EXPECT_EQ(*NormalizeNonceHex("00AABBCCDDEEFF11"), "00aabbccddeeff11");
  EXPECT_FALSE(NormalizeNonceHex("0011").ok());
  EXPECT_FALSE(NormalizeNonceHex("xyz").ok());
  EXPECT_FALSE(NormalizeNonceHex(std::string(130, 'a')).ok());
}

}  // namespace
}  // namespace resmeter
