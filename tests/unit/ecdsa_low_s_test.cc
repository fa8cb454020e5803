#include "jose/ecdsa_low_s.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>

#include "core/base64url.h"
#include "core/strings.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "jose/signing_key.h"

namespace resmeter {
namespace {

constexpr const char* kOrderHex =
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973";

// r || (n - s): the malleable twin of a raw ES384 signature.
std::string FlipS(const std::string& raw) {
  BIGNUM* n = nullptr;
  BN_hex2bn(&n, kOrderHex);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 48, 48, nullptr);
  BIGNUM* flipped = BN_new();
  BN_sub(flipped, n, s);
  std::string out = raw;
  BN_bn2binpad(flipped, reinterpret_cast<unsigned char*>(out.data()) + 48, 48);
  BN_free(n);
  BN_free(s);
  BN_free(flipped);
  return out;
}

TEST(ecdsa_low_s_test, signed_tokens_are_low_s_and_their_high_s_twin_is_rejected) {
  auto key = *SigningKey::Generate(kAlgES384);
  auto pub = *PublicKey::FromJwk(key->PublicJwk());
  int high_seen = 0;
  for (int i = 0; i < 16; ++i) {
    const std::string token = *key->SignCompact("{\"i\":" + std::to_string(i) + "}");
    auto parsed = *ParseJws(token);
    ASSERT_FALSE(*EcdsaP384IsHighS(parsed.signature)) << "token " << i << " was signed high-S";
    ASSERT_TRUE(pub->Verify(parsed.signing_input, parsed.signature).ok());
    // The twin (r, n-s) is a mathematically valid ECDSA signature: only the low-S rule rejects it.
    const std::string twin = FlipS(parsed.signature);
    ASSERT_NE(twin, parsed.signature);
    high_seen += *EcdsaP384IsHighS(twin) ? 1 : 0;
    Status st = pub->Verify(parsed.signing_input, twin);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("not low-S"), std::string::npos) << st.message();
    // And normalising the twin gives back the original signature.
    EXPECT_EQ(*EcdsaP384ToLowS(twin), parsed.signature);
  }
  EXPECT_EQ(high_seen, 16);
}

TEST(ecdsa_low_s_test, wrong_size_is_an_error) {
  EXPECT_FALSE(EcdsaP384IsHighS(std::string(95, '\1')).ok());
  EXPECT_FALSE(EcdsaP384ToLowS(std::string(97, '\1')).ok());
  // s = n - 1 is high; s = 1 is low.
  std::string raw(96, '\0');
  raw[95] = 1;
  EXPECT_FALSE(*EcdsaP384IsHighS(raw));
  EXPECT_TRUE(*EcdsaP384IsHighS(FlipS(raw)));
}

}  // namespace
}  // namespace resmeter
