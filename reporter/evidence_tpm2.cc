#include "reporter/evidence_tpm2.h"

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "core/strings.h"
#include "reporter/tpm2_quote_verifier.h"

namespace resmeter {
namespace {

constexpr TPM2_HANDLE kEkCertRsa = 0x01c00002;
constexpr TPM2_HANDLE kEkCertEcc = 0x01c0000a;

// "step: tss2 error text".
Status TssError(const std::string& step, TSS2_RC rc) {
  return Status::IOError("tpm2: " + step + ": " + Tss2_RC_Decode(rc));
}

// An open TCTI + ESAPI context, closed on destruction.
class Session {
 public:
  ~Session() {
    if (esys_ != nullptr) {
      for (ESYS_TR h : flush_) Esys_FlushContext(esys_, h);
      Esys_Finalize(&esys_);
    }
    if (tcti_ != nullptr) Tss2_TctiLdr_Finalize(&tcti_);
  }
  // Connects to the TPM named by the TCTI configuration.
  Status Open(const std::string& tcti) {
    TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti.c_str(), &tcti_);
    if (rc != TSS2_RC_SUCCESS) {
      return Status::NotSupported("tpm2: TCTI '" + tcti + "' did not open: " + Tss2_RC_Decode(rc));
    }
    rc = Esys_Initialize(&esys_, tcti_, nullptr);
    if (rc != TSS2_RC_SUCCESS) return TssError("Esys_Initialize", rc);
    return Status::Ok();
  }
  ESYS_CONTEXT* esys() { return esys_; }
  void FlushLater(ESYS_TR handle) { flush_.push_back(handle); }

 private:
  TSS2_TCTI_CONTEXT* tcti_ = nullptr;
  ESYS_CONTEXT* esys_ = nullptr;
  std::vector<ESYS_TR> flush_;
};

// Creates the AK primary under the endorsement hierarchy; returns its handle and public area.
Status CreateAk(Session& s, ESYS_TR* ak, std::string* ak_public) {
  TPM2B_SENSITIVE_CREATE sensitive = {};
  TPM2B_PUBLIC tmpl = {};
  TPMT_PUBLIC& p = tmpl.publicArea;
  p.type = TPM2_ALG_ECC;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                       TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
  p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  p.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
  p.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  TPM2B_DATA outside = {};
  TPML_PCR_SELECTION creation_pcrs = {};
  TPM2B_PUBLIC* out_public = nullptr;
  TPM2B_CREATION_DATA* creation_data = nullptr;
  TPM2B_DIGEST* creation_hash = nullptr;
  TPMT_TK_CREATION* ticket = nullptr;
  TSS2_RC rc = Esys_CreatePrimary(s.esys(), ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                  &sensitive, &tmpl, &outside, &creation_pcrs, ak, &out_public, &creation_data,
                                  &creation_hash, &ticket);
  if (rc != TSS2_RC_SUCCESS) return TssError("CreatePrimary (AK, endorsement hierarchy)", rc);
  s.FlushLater(*ak);
  uint8_t buf[sizeof(TPM2B_PUBLIC)];
  size_t off = 0;
  rc = Tss2_MU_TPM2B_PUBLIC_Marshal(out_public, buf, sizeof(buf), &off);
  Esys_Free(out_public);
  Esys_Free(creation_data);
  Esys_Free(creation_hash);
  Esys_Free(ticket);
  if (rc != TSS2_RC_SUCCESS) return TssError("marshal AK public", rc);
  ak_public->assign(reinterpret_cast<char*>(buf), off);
  return Status::Ok();
}

// Builds the PCR selection of one bank.
Result<TPML_PCR_SELECTION> Selection(const std::string& bank, const std::vector<int>& pcrs) {
  TPML_PCR_SELECTION sel = {};
  sel.count = 1;
  TPMS_PCR_SELECTION& ps = sel.pcrSelections[0];
  if (bank == "sha1") {
    ps.hash = TPM2_ALG_SHA1;
  } else if (bank == "sha256") {
    ps.hash = TPM2_ALG_SHA256;
  } else if (bank == "sha384") {
    ps.hash = TPM2_ALG_SHA384;
  } else {
    return Status::InvalidArgument("tpm2: pcr bank '" + bank + "' is not sha1, sha256 or sha384");
  }
  ps.sizeofSelect = 3;
  for (int i : pcrs) {
    if (i < 0 || i > 23) return Status::InvalidArgument("tpm2: PCR index " + std::to_string(i) + " is not 0..23");
    ps.pcrSelect[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  }
  return sel;
}

// Reads the selected PCRs (PCR_Read returns at most 8 per call).
Result<std::map<int, std::string>> ReadPcrs(Session& s, TPML_PCR_SELECTION want) {
  std::map<int, std::string> values;
  for (int round = 0; round < 8; ++round) {
    bool any = false;
    for (int b = 0; b < 24; ++b) any = any || (want.pcrSelections[0].pcrSelect[b / 8] & (1u << (b % 8)));
    if (!any) break;
    UINT32 counter = 0;
    TPML_PCR_SELECTION* got = nullptr;
    TPML_DIGEST* digests = nullptr;
    TSS2_RC rc = Esys_PCR_Read(s.esys(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want, &counter, &got, &digests);
    if (rc != TSS2_RC_SUCCESS) return TssError("PCR_Read", rc);
    uint32_t d = 0;
    for (int b = 0; got->count > 0 && b < got->pcrSelections[0].sizeofSelect * 8; ++b) {
      if (got->pcrSelections[0].pcrSelect[b / 8] & (1u << (b % 8))) {
        if (d < digests->count) {
          values[b].assign(reinterpret_cast<const char*>(digests->digests[d].buffer), digests->digests[d].size);
        }
        ++d;
        want.pcrSelections[0].pcrSelect[b / 8] &= static_cast<uint8_t>(~(1u << (b % 8)));
      }
    }
    bool progressed = got->count > 0 && d > 0;
    Esys_Free(got);
    Esys_Free(digests);
    if (!progressed) return Status::IOError("tpm2: PCR_Read returned none of the requested PCRs (bank disabled?)");
  }
  return values;
}

// Reads the EK certificate from NV when the TPM has one; "" otherwise.
Result<std::string> ReadEkCert(Session& s) {
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* cap = nullptr;
  TSS2_RC rc = Esys_GetCapability(s.esys(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                  TPM2_HR_NV_INDEX, TPM2_MAX_CAP_HANDLES, &more, &cap);
  if (rc != TSS2_RC_SUCCESS) return TssError("GetCapability (NV indices)", rc);
  TPM2_HANDLE index = 0;
  for (uint32_t i = 0; i < cap->data.handles.count; ++i) {
    TPM2_HANDLE h = cap->data.handles.handle[i];
    if (h == kEkCertEcc || (h == kEkCertRsa && index == 0)) index = h;
  }
  Esys_Free(cap);
  if (index == 0) return std::string();
  ESYS_TR nv = ESYS_TR_NONE;
  rc = Esys_TR_FromTPMPublic(s.esys(), index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv);
  if (rc != TSS2_RC_SUCCESS) return TssError("TR_FromTPMPublic (EK certificate index)", rc);
  TPM2B_NV_PUBLIC* pub = nullptr;
  rc = Esys_NV_ReadPublic(s.esys(), nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, nullptr);
  if (rc != TSS2_RC_SUCCESS) return TssError("NV_ReadPublic (EK certificate)", rc);
  uint16_t size = pub->nvPublic.dataSize;
  Esys_Free(pub);
  std::string cert;
  while (cert.size() < size) {
    uint16_t chunk = static_cast<uint16_t>(std::min<size_t>(512, size - cert.size()));
    TPM2B_MAX_NV_BUFFER* data = nullptr;
    rc = Esys_NV_Read(s.esys(), nv, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, chunk,
                      static_cast<uint16_t>(cert.size()), &data);
    if (rc != TSS2_RC_SUCCESS) return TssError("NV_Read (EK certificate)", rc);
    cert.append(reinterpret_cast<const char*>(data->buffer), data->size);
    Esys_Free(data);
  }
  Esys_TR_Close(s.esys(), &nv);
  return cert;
}

}  // namespace

Result<std::string> Tpm2Backend::Probe() {
  Session s;
  RESMETER_RETURN_IF_ERROR(s.Open(options_.tcti));
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* cap = nullptr;
  TSS2_RC rc = Esys_GetCapability(s.esys(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
                                  TPM2_PT_MANUFACTURER, 1, &more, &cap);
  if (rc != TSS2_RC_SUCCESS) return Status::NotSupported("tpm2: no TPM answers: " + std::string(Tss2_RC_Decode(rc)));
  uint32_t m = cap->data.tpmProperties.count > 0 ? cap->data.tpmProperties.tpmProperty[0].value : 0;
  Esys_Free(cap);
  std::string id;
  for (int shift = 24; shift >= 0; shift -= 8) {
    char c = static_cast<char>((m >> shift) & 0xff);
    if (c != '\0') id.push_back(c);
  }
  return std::string(Trim(id));
}

Result<nlohmann::json> Tpm2Backend::Collect(const std::string& user_data) {
  if (user_data.size() != kUserDataSize) {
    return Status::InvalidArgument("tpm2: user data is " + std::to_string(user_data.size()) + " bytes, want 64");
  }
  RESMETER_ASSIGN_OR_RETURN(TPML_PCR_SELECTION sel, Selection(options_.pcr_bank, options_.pcrs));
  Session s;
  RESMETER_RETURN_IF_ERROR(s.Open(options_.tcti));
  ESYS_TR ak = ESYS_TR_NONE;
  std::string ak_public;
  RESMETER_RETURN_IF_ERROR(CreateAk(s, &ak, &ak_public));
  TPM2B_DATA qualifying = {};
  qualifying.size = static_cast<UINT16>(user_data.size());
  std::memcpy(qualifying.buffer, user_data.data(), user_data.size());
  TPMT_SIG_SCHEME scheme = {};
  scheme.scheme = TPM2_ALG_NULL;  // the AK's own scheme (ECDSA-SHA256)
  Status last = Status::IOError("tpm2: no quote attempt");
  for (int attempt = 0; attempt < 3; ++attempt) {
    TPM2B_ATTEST* quoted = nullptr;
    TPMT_SIGNATURE* signature = nullptr;
    TSS2_RC rc = Esys_Quote(s.esys(), ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qualifying, &scheme, &sel,
                            &quoted, &signature);
    if (rc != TSS2_RC_SUCCESS) return TssError("Quote", rc);
    std::string attest(reinterpret_cast<const char*>(quoted->attestationData), quoted->size);
    uint8_t buf[sizeof(TPMT_SIGNATURE)];
    size_t off = 0;
    rc = Tss2_MU_TPMT_SIGNATURE_Marshal(signature, buf, sizeof(buf), &off);
    Esys_Free(quoted);
    Esys_Free(signature);
    if (rc != TSS2_RC_SUCCESS) return TssError("marshal signature", rc);
    RESMETER_ASSIGN_OR_RETURN(auto pcrs, ReadPcrs(s, sel));
    Tpm2Input in{attest, std::string(reinterpret_cast<char*>(buf), off), ak_public, options_.pcr_bank, pcrs,
                 user_data};
    // Self-check; a PCR extended between Quote and PCR_Read shows as pcr_digest.
    Result<EvidenceVerdict> check = Tpm2QuoteVerifier({}).Verify(in);
    if (!check.ok()) {
      last = check.status();
      continue;
    }
    RESMETER_ASSIGN_OR_RETURN(std::string ak_pem, Tpm2AkPem(ak_public));
    RESMETER_ASSIGN_OR_RETURN(std::string ek_cert, ReadEkCert(s));
    nlohmann::json values = nlohmann::json::object();
    for (const auto& [index, value] : pcrs) values[std::to_string(index)] = HexEncode(value);
    nlohmann::json j = {{"type", "tpm2"},
                        {"user_data", HexEncode(user_data)},
                        {"qualifying_data", "user_data"},
                        {"attest", Base64Encode(in.attest)},
                        {"signature", Base64Encode(in.signature)},
                        {"ak_public", Base64Encode(ak_public)},
                        {"ak_pem", ak_pem},
                        {"pcr_bank", options_.pcr_bank},
                        {"pcrs", values}};
    if (!ek_cert.empty()) j["ek_cert"] = Base64Encode(ek_cert);
    return j;
  }
  return last.WithContext("tpm2: quote did not match the PCRs after 3 attempts");
}

}  // namespace resmeter
