#include "attester/evidence_tpm2.h"

#include <openssl/x509.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "core/strings.h"
#include "evidence/evidence_crypto.h"
#include "evidence/tpm2_ak_certificate.h"
#include "evidence/tpm2_ak_template.h"
#include "evidence/tpm2_quote_verifier.h"

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
  tmpl.publicArea = ResmeterAkPublicTemplate();
  TPM2B_DATA outside = {};
  TPML_PCR_SELECTION creation_pcrs = {};
  TPM2B_PUBLIC* out_public = nullptr;
  TPM2B_CREATION_DATA* creation_data = nullptr;
  TPM2B_DIGEST* creation_hash = nullptr;
  TPMT_TK_CREATION* ticket = nullptr;
  TSS2_RC rc = Esys_CreatePrimary(s.esys(), ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                  ESYS_TR_NONE, &sensitive, &tmpl, &outside, &creation_pcrs, ak, &out_public,
                                  &creation_data, &creation_hash, &ticket);
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
    if (i < 0 || i > 23)
      return Status::InvalidArgument("tpm2: PCR index " + std::to_string(i) + " is not 0..23");
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
    TSS2_RC rc =
        Esys_PCR_Read(s.esys(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want, &counter, &got, &digests);
    if (rc != TSS2_RC_SUCCESS) return TssError("PCR_Read", rc);
    uint32_t d = 0;
    for (int b = 0; got->count > 0 && b < got->pcrSelections[0].sizeofSelect * 8; ++b) {
      if (got->pcrSelections[0].pcrSelect[b / 8] & (1u << (b % 8))) {
        if (d < digests->count) {
          values[b].assign(reinterpret_cast<const char*>(digests->digests[d].buffer),
                           digests->digests[d].size);
        }
        ++d;
        want.pcrSelections[0].pcrSelect[b / 8] &= static_cast<uint8_t>(~(1u << (b % 8)));
      }
    }
    bool progressed = got->count > 0 && d > 0;
    Esys_Free(got);
    Esys_Free(digests);
    if (!progressed)
      return Status::IOError("tpm2: PCR_Read returned none of the requested PCRs (bank disabled?)");
  }
  return values;
}

// True when the TPM has the NV index `index`.
Result<bool> HasNvIndex(Session& s, TPM2_HANDLE index) {
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* cap = nullptr;
  TSS2_RC rc = Esys_GetCapability(s.esys(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES, index,
                                  1, &more, &cap);
  if (rc != TSS2_RC_SUCCESS) return TssError("GetCapability (NV indices)", rc);
  bool found = cap->data.handles.count > 0 && cap->data.handles.handle[0] == index;
  Esys_Free(cap);
  return found;
}

// Reads all of NV index `index` (authorized by the index itself, or the owner
// when only the owner may read it); `what` names it in errors.
Result<std::string> ReadNvIndex(Session& s, TPM2_HANDLE index, const std::string& what) {
  ESYS_TR nv = ESYS_TR_NONE;
  TSS2_RC rc = Esys_TR_FromTPMPublic(s.esys(), index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv);
  if (rc != TSS2_RC_SUCCESS) return TssError("TR_FromTPMPublic (" + what + ")", rc);
  TPM2B_NV_PUBLIC* pub = nullptr;
  rc = Esys_NV_ReadPublic(s.esys(), nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    Esys_TR_Close(s.esys(), &nv);
    return TssError("NV_ReadPublic (" + what + ")", rc);
  }
  uint16_t size = pub->nvPublic.dataSize;
  bool owner_only = (pub->nvPublic.attributes & TPMA_NV_AUTHREAD) == 0 &&
                    (pub->nvPublic.attributes & TPMA_NV_OWNERREAD) != 0;
  Esys_Free(pub);
  ESYS_TR auth = owner_only ? ESYS_TR_RH_OWNER : nv;
  std::string data;
  while (data.size() < size) {
    uint16_t chunk = static_cast<uint16_t>(std::min<size_t>(512, size - data.size()));
    TPM2B_MAX_NV_BUFFER* part = nullptr;
    rc = Esys_NV_Read(s.esys(), auth, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, chunk,
                      static_cast<uint16_t>(data.size()), &part);
    if (rc != TSS2_RC_SUCCESS) {
      Esys_TR_Close(s.esys(), &nv);
      return TssError("NV_Read (" + what + ")", rc);
    }
    data.append(reinterpret_cast<const char*>(part->buffer), part->size);
    Esys_Free(part);
  }
  Esys_TR_Close(s.esys(), &nv);
  return data;
}

// Reads the EK certificate from NV when the TPM has one; "" otherwise.
Result<std::string> ReadEkCert(Session& s) {
  for (TPM2_HANDLE index : {kEkCertEcc, kEkCertRsa}) {
    RESMETER_ASSIGN_OR_RETURN(bool present, HasNvIndex(s, index));
    if (present) return ReadNvIndex(s, index, "EK certificate");
  }
  return std::string();
}

// The first DER certificate of NV data, which may be padded after it.
Result<std::string> FirstDerCertificate(const std::string& data, const std::string& what) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(data.size()));
  if (cert == nullptr) return Status::Corruption(what + ": not a DER certificate: " + OpenSslError());
  std::string der = CertificateDer(cert);
  X509_free(cert);
  return der;
}

// Reads a whole file; IOError naming the config key.
Result<std::string> ReadConfigFile(const std::string& key, const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  if (!f) return Status::IOError("tpm2: " + key + ": cannot read " + path);
  return ss.str();
}

// Adds ak_cert/ak_chain to the evidence from the configured source; checks the certificate is for
// `ak_public`.
Status AttachConfiguredAkCertificate(Session& s, const Tpm2Options& o, const std::string& ak_public,
                                     nlohmann::json* j) {
  std::string source, cert_bytes, chain_bytes;
  if (!o.ak_cert_file.empty()) {
    source = "evidence.tpm2.ak_cert_file " + o.ak_cert_file;
    RESMETER_ASSIGN_OR_RETURN(cert_bytes, ReadConfigFile("evidence.tpm2.ak_cert_file", o.ak_cert_file));
  } else if (o.ak_cert_nv_index != 0) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08x", o.ak_cert_nv_index);
    source = std::string("evidence.tpm2.ak_cert_nv_index ") + hex;
    RESMETER_ASSIGN_OR_RETURN(bool present, HasNvIndex(s, o.ak_cert_nv_index));
    if (!present) return Status::NotFound("tpm2: " + source + ": the TPM has no such NV index");
    RESMETER_ASSIGN_OR_RETURN(std::string nv, ReadNvIndex(s, o.ak_cert_nv_index, "AK certificate"));
    RESMETER_ASSIGN_OR_RETURN(cert_bytes, FirstDerCertificate(nv, "tpm2: " + source));
  } else {
    return Status::Ok();  // no AK certificate configured: verifiers will reject the quote
  }
  if (!o.ak_chain_file.empty()) {
    RESMETER_ASSIGN_OR_RETURN(chain_bytes, ReadConfigFile("evidence.tpm2.ak_chain_file", o.ak_chain_file));
  }
  RESMETER_RETURN_IF_ERROR(AttachAkCertificate(j, cert_bytes, chain_bytes).WithContext("tpm2: " + source));
  RESMETER_ASSIGN_OR_RETURN(EvpPkeyPtr ak, Tpm2AkPublicKey(ak_public));
  RESMETER_ASSIGN_OR_RETURN(std::vector<X509Ptr> leaf,
                            ParseCertificates(*Base64Decode((*j)["ak_cert"].get<std::string>()), source));
  if (EVP_PKEY_eq(X509_get0_pubkey(leaf[0].get()), ak.get()) != 1) {
    ClearOpenSslErrors();
    return Status::InvalidArgument(
        "tpm2: " + source +
        ": the certificate's key is not this TPM's attestation key (resmeter's AK is "
        "an ECC P-256 primary in the endorsement hierarchy from a fixed template)");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> Tpm2Backend::Probe() {
  Session s;
  RESMETER_RETURN_IF_ERROR(s.Open(options_.tcti));
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* cap = nullptr;
  TSS2_RC rc = Esys_GetCapability(s.esys(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
                                  TPM2_PT_MANUFACTURER, 1, &more, &cap);
  if (rc != TSS2_RC_SUCCESS)
    return Status::NotSupported("tpm2: no TPM answers: " + std::string(Tss2_RC_Decode(rc)));
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
    return Status::InvalidArgument("tpm2: user data is " + std::to_string(user_data.size()) +
                                   " bytes, want 64");
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
    TSS2_RC rc = Esys_Quote(s.esys(), ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qualifying, &scheme,
                            &sel, &quoted, &signature);
    if (rc != TSS2_RC_SUCCESS) return TssError("Quote", rc);
    std::string attest(reinterpret_cast<const char*>(quoted->attestationData), quoted->size);
    uint8_t buf[sizeof(TPMT_SIGNATURE)];
    size_t off = 0;
    rc = Tss2_MU_TPMT_SIGNATURE_Marshal(signature, buf, sizeof(buf), &off);
    Esys_Free(quoted);
    Esys_Free(signature);
    if (rc != TSS2_RC_SUCCESS) return TssError("marshal signature", rc);
    RESMETER_ASSIGN_OR_RETURN(auto pcrs, ReadPcrs(s, sel));
    Tpm2Input in;
    in.attest = attest;
    in.signature = std::string(reinterpret_cast<char*>(buf), off);
    in.ak_public = ak_public;
    in.pcr_bank = options_.pcr_bank;
    in.pcrs = pcrs;
    in.expected_user_data = user_data;
    // Self-check; a PCR extended between Quote and PCR_Read shows as pcr_digest.
    Result<EvidenceVerdict> check = Tpm2QuoteVerifier({}).SelfCheck(in);
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
    RESMETER_RETURN_IF_ERROR(AttachConfiguredAkCertificate(s, options_, ak_public, &j));
    return j;
  }
  return last.WithContext("tpm2: quote did not match the PCRs after 3 attempts");
}

}  // namespace resmeter
