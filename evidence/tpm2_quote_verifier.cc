#include "evidence/tpm2_quote_verifier.h"

#include <openssl/pem.h>
#include <tss2/tss2_mu.h>

#include <algorithm>

#include "core/strings.h"
#include "evidence/evidence_crypto.h"

namespace resmeter {
namespace {

constexpr char kType[] = "tpm2";

// The TPM hash algorithm id of a bank name, or 0.
TPM2_ALG_ID BankAlg(const std::string& bank) {
  if (bank == "sha1") return TPM2_ALG_SHA1;
  if (bank == "sha256") return TPM2_ALG_SHA256;
  if (bank == "sha384") return TPM2_ALG_SHA384;
  return 0;
}

// The OpenSSL digest of a TPM hash algorithm, or nullptr.
const EVP_MD* Md(TPM2_ALG_ID alg) {
  switch (alg) {
    case TPM2_ALG_SHA1:
      return EVP_sha1();
    case TPM2_ALG_SHA256:
      return EVP_sha256();
    case TPM2_ALG_SHA384:
      return EVP_sha384();
    case TPM2_ALG_SHA512:
      return EVP_sha512();
    default:
      return nullptr;
  }
}

// Unmarshals the TPM2B_PUBLIC and builds its EC key.
Result<EvpPkeyPtr> AkKey(const std::string& ak_public, TPMT_PUBLIC* out) {
  TPM2B_PUBLIC pub = {};
  size_t offset = 0;
  if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(reinterpret_cast<const uint8_t*>(ak_public.data()), ak_public.size(),
                                     &offset, &pub) != TSS2_RC_SUCCESS ||
      offset != ak_public.size()) {
    return Status::Corruption("AK public is not a marshaled TPM2B_PUBLIC");
  }
  *out = pub.publicArea;
  if (pub.publicArea.type != TPM2_ALG_ECC) return Status::Corruption("AK is not an ECC key");
  const TPMS_ECC_POINT& p = pub.publicArea.unique.ecc;
  const char* curve = nullptr;
  size_t len = 0;
  switch (pub.publicArea.parameters.eccDetail.curveID) {
    case TPM2_ECC_NIST_P256:
      curve = "P-256";
      len = 32;
      break;
    case TPM2_ECC_NIST_P384:
      curve = "P-384";
      len = 48;
      break;
    default:
      return Status::Corruption("AK curve is neither P-256 nor P-384");
  }
  if (p.x.size > len || p.y.size > len) return Status::Corruption("AK point coordinates too long");
  // Left-pad coordinates to the field size.
  std::string x(len - p.x.size, '\0'), y(len - p.y.size, '\0');
  x.append(reinterpret_cast<const char*>(p.x.buffer), p.x.size);
  y.append(reinterpret_cast<const char*>(p.y.buffer), p.y.size);
  return EcPublicKeyFromXY(curve, x, y);
}

// The DER SubjectPublicKeyInfo of a key.
std::string SpkiDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

Result<EvidenceVerdict> Tpm2QuoteVerifier::Verify(const Tpm2Input& in) const { return Run(in, true); }

Result<EvidenceVerdict> Tpm2QuoteVerifier::SelfCheck(const Tpm2Input& in) const { return Run(in, false); }

Result<EvidenceVerdict> Tpm2QuoteVerifier::Run(const Tpm2Input& in, bool certify) const {
  EvidenceVerdict v;
  v.type = kType;
  TPMT_PUBLIC ak = {};
  Result<EvpPkeyPtr> key = AkKey(in.ak_public, &ak);
  if (!key.ok()) return CheckFailed(kType, "ak_public", key.status().message());
  const TPMA_OBJECT want = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                           TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
  if ((ak.objectAttributes & want) != want || (ak.objectAttributes & TPMA_OBJECT_DECRYPT) != 0) {
    return CheckFailed(
        kType, "ak_public",
        "AK attributes 0x" +
            HexEncode(std::string{
                static_cast<char>(ak.objectAttributes >> 24), static_cast<char>(ak.objectAttributes >> 16),
                static_cast<char>(ak.objectAttributes >> 8), static_cast<char>(ak.objectAttributes)}) +
            " lack fixedTPM|fixedParent|sensitiveDataOrigin|restricted|sign");
  }
  v.checks.push_back("ak_public");
  if (certify) {
    Status cert = VerifyAkCertificate(trust_, in.ak_cert, in.ak_chain, key->get(), &v.fields);
    if (cert.code() == Status::Code::kCorruption) return cert.WithContext("tpm2 evidence");
    if (!cert.ok()) return CheckFailed(kType, "ak_certificate", cert.message());
    v.checks.push_back("ak_certificate");
  }
  std::string ak_fingerprint = HexEncode(Sha256(SpkiDer(key->get())));
  if (!policy_.allowed_ak_sha256.empty()) {
    if (std::find(policy_.allowed_ak_sha256.begin(), policy_.allowed_ak_sha256.end(), ak_fingerprint) ==
        policy_.allowed_ak_sha256.end()) {
      return CheckFailed(kType, "ak_pinned", "AK " + ak_fingerprint + " is not in the allowed list");
    }
    v.checks.push_back("ak_pinned");
  }

  TPMS_ATTEST attest = {};
  size_t offset = 0;
  if (Tss2_MU_TPMS_ATTEST_Unmarshal(reinterpret_cast<const uint8_t*>(in.attest.data()), in.attest.size(),
                                    &offset, &attest) != TSS2_RC_SUCCESS ||
      offset != in.attest.size()) {
    return CheckFailed(kType, "attest", "quoted bytes are not a marshaled TPMS_ATTEST");
  }
  if (attest.magic != TPM2_GENERATED_VALUE)
    return CheckFailed(kType, "attest", "magic is not TPM_GENERATED_VALUE");
  if (attest.type != TPM2_ST_ATTEST_QUOTE)
    return CheckFailed(kType, "attest", "type is not TPM_ST_ATTEST_QUOTE");
  v.checks.push_back("attest");

  TPMT_SIGNATURE sig = {};
  offset = 0;
  if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(reinterpret_cast<const uint8_t*>(in.signature.data()),
                                       in.signature.size(), &offset, &sig) != TSS2_RC_SUCCESS ||
      offset != in.signature.size()) {
    return CheckFailed(kType, "signature", "not a marshaled TPMT_SIGNATURE");
  }
  if (sig.sigAlg != TPM2_ALG_ECDSA)
    return CheckFailed(kType, "signature", "signature algorithm is not ECDSA");
  const EVP_MD* md = Md(sig.signature.ecdsa.hash);
  if (md == nullptr) return CheckFailed(kType, "signature", "unsupported signature hash");
  std::string r(reinterpret_cast<const char*>(sig.signature.ecdsa.signatureR.buffer),
                sig.signature.ecdsa.signatureR.size);
  std::string s(reinterpret_cast<const char*>(sig.signature.ecdsa.signatureS.buffer),
                sig.signature.ecdsa.signatureS.size);
  if (Status st = VerifyEcdsaRaw(key->get(), md, in.attest, r, s); !st.ok()) {
    return CheckFailed(kType, "signature", st.message() + " over the TPMS_ATTEST with the AK");
  }
  v.checks.push_back("signature");

  std::string extra(reinterpret_cast<const char*>(attest.extraData.buffer), attest.extraData.size);
  if (in.expected_user_data) {
    if (extra != *in.expected_user_data) {
      return CheckFailed(kType, "qualifying_data",
                         "extraData " + HexEncode(extra.substr(0, 8)) +
                             "... does not match the expected user data " +
                             HexEncode(in.expected_user_data->substr(0, 8)) + "...");
    }
    v.checks.push_back("qualifying_data");
  } else {
    v.not_checked.push_back("qualifying_data: no expected user data given");
  }

  const TPML_PCR_SELECTION& sel = attest.attested.quote.pcrSelect;
  TPM2_ALG_ID bank = BankAlg(in.pcr_bank);
  std::vector<int> selected;
  for (uint32_t i = 0; i < sel.count; ++i) {
    const TPMS_PCR_SELECTION& ps = sel.pcrSelections[i];
    if (ps.hash != bank)
      return CheckFailed(kType, "pcr_selection", "quote selects a bank other than " + in.pcr_bank);
    for (int b = 0; b < ps.sizeofSelect * 8; ++b) {
      if (ps.pcrSelect[b / 8] & (1u << (b % 8))) selected.push_back(b);
    }
  }
  std::sort(selected.begin(), selected.end());
  std::vector<int> reported;
  for (const auto& [index, value] : in.pcrs) reported.push_back(index);
  if (selected != reported) {
    return CheckFailed(kType, "pcr_selection",
                       "quote selects " + std::to_string(selected.size()) + " PCRs, the evidence reports " +
                           std::to_string(reported.size()));
  }
  v.checks.push_back("pcr_selection");
  std::string concat;
  for (const auto& [index, value] : in.pcrs) concat += value;
  std::string digest(EVP_MAX_MD_SIZE, '\0');
  unsigned int dlen = 0;
  EVP_Digest(concat.data(), concat.size(), reinterpret_cast<unsigned char*>(digest.data()), &dlen, md,
             nullptr);
  digest.resize(dlen);
  const TPM2B_DIGEST& quoted = attest.attested.quote.pcrDigest;
  if (digest != std::string(reinterpret_cast<const char*>(quoted.buffer), quoted.size)) {
    return CheckFailed(kType, "pcr_digest", "the quoted PCR digest does not match the reported PCR values");
  }
  v.checks.push_back("pcr_digest");
  for (const auto& [index, hex] : policy_.pcrs) {
    auto it = in.pcrs.find(index);
    if (it == in.pcrs.end() || HexEncode(it->second) != hex) {
      return CheckFailed(kType, "pcr_policy", "PCR " + std::to_string(index) + " is not the expected " + hex);
    }
  }
  if (!policy_.pcrs.empty()) v.checks.push_back("pcr_policy");
  if (certify) v.not_checked.push_back("ak_certificate revocation: no CRL or OCSP checking");

  nlohmann::json pcrs = nlohmann::json::object();
  for (const auto& [index, value] : in.pcrs) pcrs[std::to_string(index)] = HexEncode(value);
  v.fields.update(nlohmann::json{
      {"ak_sha256", ak_fingerprint},
      {"qualified_signer", HexEncode(std::string(reinterpret_cast<const char*>(attest.qualifiedSigner.name),
                                                 attest.qualifiedSigner.size))},
      {"extra_data", HexEncode(extra)},
      {"clock", attest.clockInfo.clock},
      {"reset_count", attest.clockInfo.resetCount},
      {"restart_count", attest.clockInfo.restartCount},
      {"safe", attest.clockInfo.safe == 1},
      {"firmware_version", attest.firmwareVersion},
      {"pcr_bank", in.pcr_bank},
      {"pcrs", pcrs},
      {"pcr_digest", HexEncode(digest)}});
  return v;
}

Result<EvpPkeyPtr> Tpm2AkPublicKey(const std::string& ak_public) {
  TPMT_PUBLIC ak = {};
  return AkKey(ak_public, &ak);
}

Result<std::string> Tpm2AkPem(const std::string& ak_public) {
  TPMT_PUBLIC ak = {};
  RESMETER_ASSIGN_OR_RETURN(EvpPkeyPtr key, AkKey(ak_public, &ak));
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

Result<Tpm2Input> Tpm2InputFromJson(const nlohmann::json& j) {
  Tpm2Input in;
  auto blob = [&](const char* name, std::string* out) -> Status {
    if (!j.contains(name) || !j[name].is_string())
      return Status::Corruption(std::string("tpm2 evidence: missing ") + name);
    std::optional<std::string> bytes = Base64Decode(j[name].get<std::string>());
    if (!bytes) return Status::Corruption(std::string("tpm2 evidence: ") + name + " is not base64");
    *out = std::move(*bytes);
    return Status::Ok();
  };
  RESMETER_RETURN_IF_ERROR(blob("attest", &in.attest));
  RESMETER_RETURN_IF_ERROR(blob("signature", &in.signature));
  RESMETER_RETURN_IF_ERROR(blob("ak_public", &in.ak_public));
  if (j.contains("ak_cert")) {
    RESMETER_RETURN_IF_ERROR(blob("ak_cert", &in.ak_cert));
    RESMETER_RETURN_IF_ERROR(CertificatesToDer(in.ak_cert, "tpm2 evidence: ak_cert").status());
    if (in.ak_cert.find("-----BEGIN") != std::string::npos) {
      return Status::Corruption("tpm2 evidence: ak_cert is PEM inside base64, want base64 DER");
    }
  }
  if (j.contains("ak_chain")) {
    if (!j["ak_chain"].is_array()) return Status::Corruption("tpm2 evidence: ak_chain is not a list");
    for (size_t i = 0; i < j["ak_chain"].size(); ++i) {
      const nlohmann::json& item = j["ak_chain"][i];
      std::string what = "tpm2 evidence: ak_chain[" + std::to_string(i) + "]";
      std::optional<std::string> der =
          item.is_string() ? Base64Decode(item.get<std::string>()) : std::nullopt;
      if (!der) return Status::Corruption(what + " is not base64");
      if (der->find("-----BEGIN") != std::string::npos) return Status::Corruption(what + " is not DER");
      RESMETER_RETURN_IF_ERROR(CertificatesToDer(*der, what).status());
      in.ak_chain.push_back(std::move(*der));
    }
  }
  // Checked before reading: value() throws on a non-string member.
  if (j.contains("pcr_bank") && !j["pcr_bank"].is_string())
    return Status::Corruption("tpm2 evidence: pcr_bank is not a string");
  in.pcr_bank = j.value("pcr_bank", "sha256");
  if (BankAlg(in.pcr_bank) == 0) return Status::Corruption("tpm2 evidence: pcr_bank '" + in.pcr_bank + "'");
  if (!j.contains("pcrs") || !j["pcrs"].is_object()) return Status::Corruption("tpm2 evidence: missing pcrs");
  for (const auto& [key, value] : j["pcrs"].items()) {
    std::optional<int64_t> index = ParseInt64(key);
    std::optional<std::string> raw = value.is_string() ? HexDecode(value.get<std::string>()) : std::nullopt;
    if (!index || *index < 0 || *index > 23 || !raw) {
      return Status::Corruption("tpm2 evidence: pcrs entry '" + key + "' is not index -> hex");
    }
    in.pcrs[static_cast<int>(*index)] = *raw;
  }
  return in;
}

}  // namespace resmeter
