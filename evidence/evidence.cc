#include "evidence/evidence.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cctype>

namespace resmeter {

std::string EvidenceTypeName(EvidenceType type) {
  switch (type) {
    case EvidenceType::kNone: return "none";
    case EvidenceType::kSevSnp: return "sev-snp";
    case EvidenceType::kTdx: return "tdx";
    case EvidenceType::kTpm2: return "tpm2";
  }
  return "none";
}

Result<EvidenceType> ParseEvidenceType(std::string_view name) {
  if (name == "none") return EvidenceType::kNone;
  if (name == "sev-snp") return EvidenceType::kSevSnp;
  if (name == "tdx") return EvidenceType::kTdx;
  if (name == "tpm2") return EvidenceType::kTpm2;
  return Status::InvalidArgument("evidence type '" + std::string(name) +
                                 "' is not one of none, sev-snp, tdx, tpm2");
}

std::string ComputeUserData(std::string_view thumbprint, std::string_view nonce) {
  std::string input;
  input.reserve(thumbprint.size() + nonce.size());
  input.append(thumbprint);
  input.append(nonce);
  std::string out(SHA512_DIGEST_LENGTH, '\0');
  SHA512(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
         reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

nlohmann::json EvidenceVerdict::ToJson() const {
  return {{"type", type}, {"checks", checks}, {"not_checked", not_checked}, {"fields", fields}};
}

Status CheckFailed(std::string_view type, std::string_view check, std::string_view detail) {
  return Status::VerifyFailed(std::string(type) + ": " + std::string(check) + ": " + std::string(detail));
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(n);
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=') return std::nullopt;
  }
  std::string out(3 * (text.size() / 4), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace resmeter
