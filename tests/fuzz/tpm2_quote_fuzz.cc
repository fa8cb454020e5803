// libFuzzer target: the TPM 2.0 quote verifier on arbitrary marshaled
// structures: TPM2B_PUBLIC (the AK, also through Tpm2AkPem), TPMS_ATTEST and
// TPMT_SIGNATURE, with reported PCR values, with and without expected user
// data and a PCR policy. Must never crash or read out of bounds.
//
// With flag bit 4, an AK certificate and one chain certificate (DER) follow
// ak_public: they go through the evidence JSON reader (malformed DER must be
// an error, never a crash) and, when they parse, the AK certificate check
// with the leaf itself as the trusted CA (so chain building, key comparison
// and the constraint checks all run on mutated certificates).
//
// Input layout (so mutations reach each structure): one flags byte (bits 0-1:
// PCR bank sha1/sha256/sha384; bit 2: expect user data; bit 3: PCR policy;
// bit 4: certificates), then attest, signature and ak_public, each a 2-byte
// big-endian length and its bytes, then (bit 4) ak_cert and ak_chain[0] the
// same way, then PCR values of the bank's size for PCRs 0, 1, ... (at most 24).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "evidence/evidence.h"
#include "evidence/tpm2_quote_verifier.h"

namespace {

// Takes a length-prefixed blob off the front of `in`; false when too short.
bool TakeBlob(std::string_view* in, std::string* out) {
  if (in->size() < 2) return false;
  size_t n = (static_cast<size_t>(static_cast<uint8_t>((*in)[0])) << 8) | static_cast<uint8_t>((*in)[1]);
  in->remove_prefix(2);
  if (in->size() < n) return false;
  *out = std::string(in->substr(0, n));
  in->remove_prefix(n);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.empty()) return 0;
  const uint8_t flags = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  resmeter::Tpm2Input input;
  if (!TakeBlob(&in, &input.attest) || !TakeBlob(&in, &input.signature) || !TakeBlob(&in, &input.ak_public)) {
    return 0;
  }
  std::string ak_cert, chain_cert;
  if ((flags & 16) && (!TakeBlob(&in, &ak_cert) || !TakeBlob(&in, &chain_cert))) return 0;
  static const char* kBanks[] = {"sha1", "sha256", "sha384", "md5"};
  static const size_t kSizes[] = {20, 32, 48, 16};
  input.pcr_bank = kBanks[flags & 3];
  const size_t pcr_bytes = kSizes[flags & 3];
  for (int i = 0; i < 24 && in.size() >= pcr_bytes; ++i) {
    input.pcrs[i] = std::string(in.substr(0, pcr_bytes));
    in.remove_prefix(pcr_bytes);
  }
  if (flags & 4) input.expected_user_data = std::string(64, '\x5a');

  resmeter::Tpm2Policy policy;
  if (flags & 8) policy.pcrs[0] = std::string(2 * pcr_bytes, '0');
  resmeter::Tpm2AkTrust trust;
  trust.anchors_dir = "fuzz/tpm2";
  if (flags & 16) {
    nlohmann::json j = {{"attest", resmeter::Base64Encode(input.attest)},
                        {"signature", resmeter::Base64Encode(input.signature)},
                        {"ak_public", resmeter::Base64Encode(input.ak_public)},
                        {"pcr_bank", "sha256"},
                        {"pcrs", nlohmann::json::object()},
                        {"ak_cert", resmeter::Base64Encode(ak_cert)},
                        {"ak_chain", nlohmann::json::array({resmeter::Base64Encode(chain_cert)})}};
    auto parsed = resmeter::Tpm2InputFromJson(j);
    if (!parsed.ok()) return 0;
    input.ak_cert = parsed->ak_cert;
    input.ak_chain = parsed->ak_chain;
    auto pem = resmeter::CertificatesToDer(ak_cert, "fuzz");
    if (pem.ok()) trust.ca_pems.push_back(ak_cert);  // DER also parses as an anchor here
  }
  auto v = resmeter::Tpm2QuoteVerifier(policy, trust).Verify(input);
  if (v.ok()) (void)v->ToJson().dump();
  (void)resmeter::Tpm2QuoteVerifier(policy).SelfCheck(input);
  (void)resmeter::Tpm2AkPem(input.ak_public);
  return 0;
}
