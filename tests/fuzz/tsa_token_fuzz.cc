// libFuzzer target: RFC 3161 time-stamp tokens and TSA replies (tsa/). The
// input is tried as a TimeStampResp (unwrapped to its token) and as a
// TimeStampToken: parsed, then verified against the fixed anchor
// tests/fuzz/tsa-anchor.pem with the token's own imprint and nonce as the
// expectation, so mutated tokens reach the chain and signature checks.
// Must never crash, leak or read out of bounds; bad input is a Status.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "tsa/timestamp_token.h"
#include "tsa/timestamp_verifier.h"
#include "tsa/tsa_anchors.h"

namespace {

const resmeter::TsaAnchors& Anchors() {
  static const resmeter::TsaAnchors anchors = [] {
    std::ifstream in(std::string(RESMETER_FUZZ_DIR) + "/tsa-anchor.pem");
    std::stringstream pem;
    pem << in.rdbuf();
    auto loaded = resmeter::TsaAnchors::FromPem(pem.str(), "tsa-anchor.pem");
    return loaded.ok() ? *loaded : resmeter::TsaAnchors();
  }();
  return anchors;
}

void TryToken(std::string_view der) {
  auto info = resmeter::ParseTimestampToken(der);
  if (!info.ok()) return;
  std::string nonce = info->nonce_hex;
  (void)resmeter::VerifyTimestampToken(der, {info->imprint, nonce}, Anchors());
  (void)resmeter::VerifyTimestampToken(der, {std::string(32, '\0'), ""}, Anchors());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto token = resmeter::TimestampTokenFromResponse(input);
  if (token.ok()) TryToken(*token);
  TryToken(input);
  return 0;
}
