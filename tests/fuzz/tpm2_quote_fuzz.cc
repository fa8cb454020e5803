// libFuzzer target: the TPM 2.0 quote verifier on arbitrary marshaled
// structures: TPM2B_PUBLIC (the AK, also through Tpm2AkPem), TPMS_ATTEST and
// TPMT_SIGNATURE, with reported PCR values, with and without expected user
// data and a PCR policy. Must never crash or read out of bounds.
//
// Input layout (so mutations reach each structure): one flags byte (bits 0-1:
// PCR bank sha1/sha256/sha384; bit 2: expect user data; bit 3: PCR policy),
// then attest, signature and ak_public, each a 2-byte big-endian length and
// its bytes, then PCR values of the bank's size for PCRs 0, 1, ... (at most 24).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "reporter/tpm2_quote_verifier.h"

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
  auto v = resmeter::Tpm2QuoteVerifier(policy).Verify(input);
  if (v.ok()) (void)v->ToJson().dump();
  (void)resmeter::Tpm2AkPem(input.ak_public);
  return 0;
}
