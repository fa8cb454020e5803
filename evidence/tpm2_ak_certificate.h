// TPM attestation-key (AK) certification: whether an AK certificate ties the
// key that signed a TPM quote to a CA the verifier trusts. A restricted
// signing key is only as trustworthy as the claim that it lives in a TPM; its
// attributes can be typed into a public area by anyone, so the quote verifier
// accepts an AK only when an X.509 certificate for exactly that key chains to
// a TPM CA in <trust_anchors_dir>/tpm2/*.pem (a cloud's vTPM AK CA, or a
// privacy CA that certified the AK after credential activation against the
// TPM's EK certificate).
//
// Checked: the chain (leaf, then the intermediates given) ends in one of the
// trusted CAs (a trusted CA may itself be an intermediate), every certificate
// is valid at the check time, every issuer is a CA (basicConstraints CA:TRUE,
// keyCertSign when it has key usage), the leaf is not a CA and may sign
// (digitalSignature when it has key usage), and the leaf's public key equals
// the AK. Not checked: revocation (no CRL or OCSP), certificate policies, EKU.
//
// Stateless functions; Tpm2AkTrust is a plain value. Safe from several threads.
#pragma once

#include <openssl/evp.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace resmeter {

// The TPM CAs a verifier trusts for AK certificates, and when to check.
struct Tpm2AkTrust {
  std::string anchors_dir;           // <trust_anchors_dir>/tpm2, named in messages
  std::vector<std::string> ca_pems;  // one entry per file; a file may hold several certificates
  std::optional<time_t> at;          // check time; nullopt: now
};

// Loads <trust_anchors_dir>/tpm2/*.pem. A missing or empty directory gives no
// CAs (verification then fails naming the directory); IOError when a file
// cannot be read, Corruption naming a file that holds no PEM certificate.
Result<Tpm2AkTrust> LoadTpm2AkTrust(const std::string& trust_anchors_dir, std::optional<time_t> at);

// Reads certificates given as a PEM bundle or one DER certificate and returns
// each one's DER. Corruption naming `what` when there is none or the bytes are malformed.
Result<std::vector<std::string>> CertificatesToDer(std::string_view bytes, std::string_view what);

// Verifies that `ak_cert_der` (with the intermediates `chain_der`, DER each)
// certifies `ak` under one of trust's CAs (the checks in the file comment).
// VerifyFailed with a one-line reason; on success `fields` gets ak_cert_subject,
// ak_cert_issuer, ak_cert_not_after and ak_ca (the trusted CA's subject).
Status VerifyAkCertificate(const Tpm2AkTrust& trust, const std::string& ak_cert_der,
                           const std::vector<std::string>& chain_der, EVP_PKEY* ak, nlohmann::json* fields);

// Sets the evidence's ak_cert (and ak_chain when `chain_bytes` is not empty)
// from certificate files' bytes (PEM or DER): the first certificate of
// `cert_bytes` is the leaf, any further ones and those of `chain_bytes` the
// intermediates. Corruption naming the file role when they do not parse.
Status AttachAkCertificate(nlohmann::json* evidence, std::string_view cert_bytes,
                           std::string_view chain_bytes);

}  // namespace resmeter
