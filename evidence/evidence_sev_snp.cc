#include "evidence/evidence_sev_snp.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/strings.h"
#include "evidence/evidence_crypto.h"

namespace resmeter {
namespace {

constexpr char kType[] = "sev-snp";

// The DER content of the extension with dotted OID `oid`, or nullopt.
std::optional<std::string> ExtensionValue(X509* cert, const char* oid) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
  int idx = X509_get_ext_by_OBJ(cert, obj, -1);
  ASN1_OBJECT_free(obj);
  if (idx < 0) return std::nullopt;
  ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<size_t>(ASN1_STRING_length(data)));
}

// Decodes a DER INTEGER extension value; nullopt when it is not one.
std::optional<int64_t> DerInteger(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ASN1_INTEGER* i = d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(der.size()));
  if (i == nullptr) return std::nullopt;
  int64_t v = 0;
  int ok = ASN1_INTEGER_get_int64(&v, i);
  ASN1_INTEGER_free(i);
  return ok == 1 ? std::optional<int64_t>(v) : std::nullopt;
}

// Checks the VCEK's TCB (blSPL, teeSPL, snpSPL, ucodeSPL, fmcSPL) and hwID extensions.
Status CheckVcekTcb(X509* vcek, const SevSnpReport& r) {
  struct Spl {
    const char* oid;
    const char* name;
    uint8_t value;
  };
  const Spl spls[] = {{"1.3.6.1.4.1.3704.1.3.1", "blSPL", r.reported_tcb.boot_loader},
                      {"1.3.6.1.4.1.3704.1.3.2", "teeSPL", r.reported_tcb.tee},
                      {"1.3.6.1.4.1.3704.1.3.3", "snpSPL", r.reported_tcb.snp},
                      {"1.3.6.1.4.1.3704.1.3.8", "ucodeSPL", r.reported_tcb.microcode},
                      {"1.3.6.1.4.1.3704.1.3.9", "fmcSPL", r.reported_tcb.fmc}};
  for (const Spl& spl : spls) {
    std::optional<std::string> der = ExtensionValue(vcek, spl.oid);
    if (!der) {
      if (spl.value == 0 && std::string_view(spl.name) == "fmcSPL") continue;  // pre-Turin VCEKs
      return CheckFailed(kType, "vcek_tcb", std::string("VCEK lacks the ") + spl.name + " extension");
    }
    std::optional<int64_t> v = DerInteger(*der);
    if (!v || *v != spl.value) {
      return CheckFailed(kType, "vcek_tcb",
                         std::string("VCEK ") + spl.name + " " + (v ? std::to_string(*v) : "?") +
                             " != REPORTED_TCB " + std::to_string(spl.value));
    }
  }
  if ((r.signer_info & 2) == 0) {  // MASK_CHIP_KEY clear: CHIP_ID is real
    std::optional<std::string> der = ExtensionValue(vcek, "1.3.6.1.4.1.3704.1.4");
    if (!der) return CheckFailed(kType, "vcek_tcb", "VCEK lacks the hwID extension");
    // hwID is an OCTET STRING holding the 64-byte chip id (some VCEKs carry it raw).
    std::string hwid = *der;
    if (hwid.size() == 66 && static_cast<uint8_t>(hwid[0]) == 0x04 && hwid[1] == 64) hwid = hwid.substr(2);
    if (hwid != r.chip_id) return CheckFailed(kType, "vcek_tcb", "VCEK hwID does not match CHIP_ID");
  }
  return Status::Ok();
}

// Formats an offset as 0xNNN.
std::string HexOffset(size_t off) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%03zX", off);
  return buf;
}

}  // namespace

SevSnpVerifier::SevSnpVerifier(std::vector<std::string> anchor_chains, SevSnpPolicy policy)
    : policy_(std::move(policy)) {
  for (const std::string& pem : anchor_chains) {
    Result<std::vector<X509Ptr>> certs = ParseCertificates(pem, "AMD trust anchor");
    if (!certs.ok()) {
      anchor_status_ = certs.status();
      return;
    }
    for (const X509Ptr& c : *certs) {
      if (X509_check_issued(c.get(), c.get()) == X509_V_OK) ark_ders_.push_back(CertificateDer(c.get()));
    }
    anchors_.push_back(std::move(certs).value());
  }
}

Result<EvidenceVerdict> SevSnpVerifier::Verify(const SevSnpInput& in) const {
  RESMETER_RETURN_IF_ERROR(anchor_status_);
  RESMETER_ASSIGN_OR_RETURN(SevSnpReport r, SevSnpReport::Parse(in.report));
  EvidenceVerdict v;
  v.type = kType;
  if (r.version < 2 || r.version > 5) {
    return CheckFailed(kType, "version", "report version " + std::to_string(r.version) + " is not 2..5");
  }
  v.checks.push_back("version");
  if (r.signature_algo != 1) {
    return CheckFailed(kType, "signature_algo",
                       "algorithm " + std::to_string(r.signature_algo) + " is not 1 (ECDSA P-384 SHA-384)");
  }
  v.checks.push_back("signature_algo");
  if (r.signing_key() != 0) {
    return CheckFailed(kType, "signing_key",
                       "signing key " + std::to_string(r.signing_key()) + " is not 0 (VCEK); VLEK unsupported");
  }
  v.checks.push_back("signing_key");

  RESMETER_ASSIGN_OR_RETURN(std::vector<X509Ptr> vcek_certs, ParseCertificates(in.vcek, "VCEK"));
  X509* vcek = vcek_certs.front().get();
  std::string vcek_issuer;
  if (X509_NAME* issuer = X509_get_issuer_name(vcek)) {
    int idx = X509_NAME_get_index_by_NID(issuer, NID_commonName, -1);
    if (idx >= 0) {
      ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(issuer, idx));
      vcek_issuer.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
    }
  }
  // The chain: given, or the shipped one whose ASK issued this VCEK.
  std::vector<X509Ptr> given;
  const std::vector<X509Ptr>* chain = nullptr;
  if (!in.chain.empty()) {
    RESMETER_ASSIGN_OR_RETURN(given, ParseCertificates(in.chain, "ASK/ARK chain"));
    chain = &given;
  } else {
    for (const std::vector<X509Ptr>& certs : anchors_) {
      if (CertificateCommonName(certs.front().get()) == vcek_issuer) chain = &certs;
    }
    if (chain == nullptr) {
      return CheckFailed(kType, "ark_trusted", "no shipped AMD chain has an ASK named '" + vcek_issuer + "'");
    }
  }
  X509* ark = nullptr;
  std::vector<X509*> intermediates;
  for (const X509Ptr& c : *chain) {
    if (X509_check_issued(c.get(), c.get()) == X509_V_OK) {
      ark = c.get();
    } else {
      intermediates.push_back(c.get());
    }
  }
  if (ark == nullptr) return CheckFailed(kType, "ark_trusted", "the chain has no self-signed ARK");
  std::string ark_der = CertificateDer(ark);
  if (std::find(ark_ders_.begin(), ark_ders_.end(), ark_der) == ark_ders_.end()) {
    return CheckFailed(kType, "ark_trusted", "ARK '" + CertificateCommonName(ark) + "' is not a shipped AMD root");
  }
  v.checks.push_back("ark_trusted");
  if (Status s = VerifyCertificateChain(vcek, intermediates, ark, in.at); !s.ok()) {
    return CheckFailed(kType, "vcek_chain", s.message());
  }
  v.checks.push_back("vcek_chain");

  EVP_PKEY* key = X509_get0_pubkey(vcek);
  char group[64] = {0};
  size_t group_len = 0;
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
      EVP_PKEY_get_group_name(key, group, sizeof(group), &group_len) != 1 ||
      std::string_view(group) != "secp384r1") {
    return CheckFailed(kType, "vcek_key", "VCEK key is not ECDSA P-384");
  }
  v.checks.push_back("vcek_key");
  RESMETER_RETURN_IF_ERROR(CheckVcekTcb(vcek, r));
  v.checks.push_back("vcek_tcb");

  if (Status s = VerifyEcdsaRaw(key, EVP_sha384(), r.SignedBytes(), ReverseBytes(r.signature_r),
                                ReverseBytes(r.signature_s));
      !s.ok()) {
    return CheckFailed(kType, "signature", s.message() + " over bytes 0x000..0x29F with the VCEK");
  }
  v.checks.push_back("signature");
  for (size_t i = SevSnpReport::kSignatureOffset + 2 * SevSnpReport::kSignatureComponentSize;
       i < SevSnpReport::kSize; ++i) {
    if (r.raw[i] != 0) return CheckFailed(kType, "signature_reserved", "byte " + HexOffset(i) + " is not zero");
  }
  v.checks.push_back("signature_reserved");

  if (in.expected_report_data) {
    if (r.report_data != *in.expected_report_data) {
      return CheckFailed(kType, "report_data",
                         "REPORT_DATA " + HexEncode(r.report_data.substr(0, 8)) +
                             "... does not match the expected user data " +
                             HexEncode(in.expected_report_data->substr(0, 8)) + "...");
    }
    v.checks.push_back("report_data");
  } else {
    v.not_checked.push_back("report_data: no expected user data given");
  }
  if (r.debug_allowed() && !policy_.allow_debug) {
    return CheckFailed(kType, "policy_debug", "guest policy allows debugging (bit 19 set), which policy forbids");
  }
  v.checks.push_back("policy_debug");
  if (!policy_.allowed_measurements.empty()) {
    std::string m = HexEncode(r.measurement);
    if (std::find(policy_.allowed_measurements.begin(), policy_.allowed_measurements.end(), m) ==
        policy_.allowed_measurements.end()) {
      return CheckFailed(kType, "measurement", "MEASUREMENT " + m + " is not in the allowed list");
    }
    v.checks.push_back("measurement");
  }
  if (policy_.host_data) {
    if (HexEncode(r.host_data) != *policy_.host_data) {
      return CheckFailed(kType, "host_data",
                         "HOST_DATA " + HexEncode(r.host_data) + " is not the pinned " + *policy_.host_data);
    }
    v.checks.push_back("host_data");
  }
  if (policy_.min_reported_tcb) {
    if (!r.reported_tcb.AtLeast(*policy_.min_reported_tcb)) {
      return CheckFailed(kType, "reported_tcb",
                         "REPORTED_TCB " + r.reported_tcb.ToJson().dump() + " is below the minimum " +
                             policy_.min_reported_tcb->ToJson().dump());
    }
    v.checks.push_back("reported_tcb");
  }
  if (policy_.max_vmpl) {
    if (r.vmpl > *policy_.max_vmpl) {
      return CheckFailed(kType, "vmpl",
                         "VMPL " + std::to_string(r.vmpl) + " exceeds the maximum " + std::to_string(*policy_.max_vmpl));
    }
    v.checks.push_back("vmpl");
  }
  v.not_checked.push_back("crl: AMD certificate revocation lists not consulted");
  v.fields = r.ToJson();
  v.fields["vcek_issuer"] = vcek_issuer;
  v.fields["ark"] = CertificateCommonName(ark);
  return v;
}

Result<std::vector<std::string>> LoadAmdTrustAnchors(const std::string& dir) {
  std::vector<std::string> paths;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (StartsWith(name, "amd_ask_ark_") && EndsWith(name, ".pem")) paths.push_back(entry.path().string());
  }
  if (ec) return Status::NotFound("trust anchors: " + dir + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  if (paths.empty()) return Status::NotFound("trust anchors: no amd_ask_ark_*.pem in " + dir);
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    if (!f) return Status::IOError("trust anchors: cannot read " + p);
    out.push_back(ss.str());
  }
  return out;
}

Result<std::string> VcekFromCertTable(std::string_view table) {
  // Entries: 16-byte GUID (RFC 4122 byte order), u32 offset, u32 length (little-endian);
  // an all-zero entry ends the table.
  static const unsigned char kVcekGuid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                              0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
  auto u32 = [&](size_t off) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(table[off + i])) << (8 * i);
    return v;
  };
  for (size_t off = 0; off + 24 <= table.size(); off += 24) {
    std::string_view guid = table.substr(off, 16);
    if (guid.find_first_not_of('\0') == std::string_view::npos) break;
    if (std::equal(guid.begin(), guid.end(), reinterpret_cast<const char*>(kVcekGuid))) {
      uint32_t o = u32(off + 16), len = u32(off + 20);
      if (o > table.size() || len > table.size() - o) {
        return Status::Corruption("sev-snp certificate table: VCEK entry points outside the table");
      }
      return std::string(table.substr(o, len));
    }
  }
  return Status::NotFound("sev-snp certificate table: no VCEK entry");
}

}  // namespace resmeter
