#include "jose/ecdsa_low_s.h"

#include <openssl/bn.h>

#include <memory>

namespace resmeter {
namespace {

constexpr size_t kP384Bytes = 48;
// The order n of the P-384 group (FIPS 186-4 D.1.2.4).
constexpr const char* kP384OrderHex =
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973";

using BnPtr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

BnPtr Order() {
  BIGNUM* n = nullptr;
  BN_hex2bn(&n, kP384OrderHex);
  return BnPtr(n, &BN_free);
}

// s from r||s, or null when the size is wrong.
BnPtr S(const std::string& raw) {
  if (raw.size() != 2 * kP384Bytes) return BnPtr(nullptr, &BN_free);
  return BnPtr(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + kP384Bytes, kP384Bytes, nullptr),
      &BN_free);
}

// True when s > n/2 (i.e. 2s > n).
bool High(const BIGNUM* s, const BIGNUM* n) {
  BnPtr twice(BN_new(), &BN_free);
  return twice && BN_lshift1(twice.get(), s) == 1 && BN_cmp(twice.get(), n) > 0;
}

}  // namespace

Result<bool> EcdsaP384IsHighS(const std::string& raw_signature) {
  BnPtr s = S(raw_signature);
  BnPtr n = Order();
  if (!s || !n) {
    return Status::InvalidArgument("ES384 signature must be 96 bytes, got " +
                                   std::to_string(raw_signature.size()));
  }
  return High(s.get(), n.get());
}

Result<std::string> EcdsaP384ToLowS(const std::string& raw_signature) {
  BnPtr s = S(raw_signature);
  BnPtr n = Order();
  if (!s || !n) {
    return Status::InvalidArgument("ES384 signature must be 96 bytes, got " +
                                   std::to_string(raw_signature.size()));
  }
  if (!High(s.get(), n.get())) return raw_signature;
  BnPtr low(BN_new(), &BN_free);
  if (!low || BN_sub(low.get(), n.get(), s.get()) != 1) return Status::IOError("ES384 low-S: BN_sub failed");
  std::string out = raw_signature;
  if (BN_bn2binpad(low.get(), reinterpret_cast<unsigned char*>(out.data()) + kP384Bytes, kP384Bytes) !=
      static_cast<int>(kP384Bytes)) {
    return Status::IOError("ES384 low-S: s does not fit 48 bytes");
  }
  return out;
}

}  // namespace resmeter
