// SnpTestChain: a throw-away AMD-like certificate chain minted by the tests
// (ARK -> ASK -> VCEK) and a signer of synthetic SEV-SNP reports.
//
// ARK, ASK and VCEK are ECDSA P-384 keys; certificates are signed with
// ECDSA-SHA384. AMD's real ARK/ASK are RSA-4096 with RSA-PSS, which the real
// Milan chain in tests/data already exercises; RSA key generation is too slow
// (seconds on a loaded machine) for every test process, so the minted chain
// uses ECDSA (MakeCert still signs RSA issuers with RSA-PSS SHA-384, salt 48).
// The VCEK carries AMD's TCB (blSPL, teeSPL, snpSPL, ucodeSPL) and
// hwID extensions. Certificates are valid from one day ago for one year.
// Not thread-safe; tests build one and read it.
#pragma once

#include <string>

#include "evidence/evidence_crypto.h"

namespace resmeter::testing {

struct SyntheticSnpReport {
  std::string report_data = std::string(64, '\0');
  uint64_t policy = 0x30000;  // SMT allowed, reserved bit 17, debug off
  std::string measurement = std::string(48, '\x5a');
  uint32_t vmpl = 0;
  uint8_t boot_loader = 3, tee = 0, snp = 8, microcode = 115;
  std::string chip_id = std::string(64, '\x42');
};

class SnpTestChain {
 public:
  // Mints a fresh chain; `tag` goes into the common names (ARK-<tag>, SEV-<tag>).
  explicit SnpTestChain(const std::string& tag = "Test");

  // ASK then ARK, PEM (like AMD's cert_chain).
  std::string ChainPem() const;
  // The ARK alone, PEM (a trust anchor file body).
  std::string AnchorPem() const { return ChainPem(); }
  std::string VcekDer() const;
  std::string VcekPem() const;
  // A 1184-byte version-2 report with `fields`, signed by the VCEK (R, S little-endian).
  std::string SignReport(const SyntheticSnpReport& fields) const;
  // An SNP certificate table holding the VCEK (as in configfs-tsm's auxblob).
  std::string CertTable() const;

 private:
  EvpPkeyPtr ark_key_, ask_key_, vcek_key_;
  X509Ptr ark_, ask_, vcek_;
};

}  // namespace resmeter::testing
