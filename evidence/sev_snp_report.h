// SevSnpReport: the AMD SEV-SNP attestation report (ATTESTATION_REPORT,
// SEV-SNP firmware ABI specification, table "ATTESTATION_REPORT Structure"),
// 1184 bytes, parsed into named fields. Parsing checks only the size and the
// reserved-must-be-zero rules that do not depend on the version; meaning
// (version, algorithm, signature, policy) is checked by evidence_sev_snp.h.
//
// A plain value type; safe to share between threads once built.
#pragma once

#include <nlohmann/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace resmeter {

// TCB_VERSION: security patch levels of the firmware components. The byte
// layout differs between Milan/Genoa and Turin (CPUID family 0x1A).
struct SnpTcbVersion {
  uint64_t raw = 0;
  uint8_t fmc = 0;  // Turin only
  uint8_t boot_loader = 0;
  uint8_t tee = 0;
  uint8_t snp = 0;
  uint8_t microcode = 0;
  // Decodes `raw` with the Milan/Genoa layout, or Turin's when `turin`.
  static SnpTcbVersion Decode(uint64_t raw, bool turin);
  // True when every component is >= the same component of `min`.
  bool AtLeast(const SnpTcbVersion& min) const;
  nlohmann::json ToJson() const;
};

struct SevSnpReport {
  static constexpr size_t kSize = 0x4A0;          // 1184
  static constexpr size_t kSignedSize = 0x2A0;    // bytes 0x000..0x29F are signed
  static constexpr size_t kSignatureOffset = 0x2A0;
  static constexpr size_t kSignatureComponentSize = 72;  // R, S little-endian, zero padded
  static constexpr uint64_t kPolicyDebugBit = 1ull << 19;

  uint32_t version = 0;           // 0x000
  uint32_t guest_svn = 0;         // 0x004
  uint64_t policy = 0;            // 0x008 guest policy
  std::string family_id;          // 0x010, 16 bytes
  std::string image_id;           // 0x020, 16 bytes
  uint32_t vmpl = 0;              // 0x030
  uint32_t signature_algo = 0;    // 0x034, 1 = ECDSA P-384 with SHA-384
  SnpTcbVersion current_tcb;      // 0x038
  uint64_t platform_info = 0;     // 0x040
  uint32_t signer_info = 0;       // 0x048: author_key_en bit 0, mask_chip_key bit 1, signing_key bits 4:2
  std::string report_data;        // 0x050, 64 bytes (the user data)
  std::string measurement;        // 0x090, 48 bytes
  std::string host_data;          // 0x0C0, 32 bytes
  std::string id_key_digest;      // 0x0E0, 48 bytes
  std::string author_key_digest;  // 0x110, 48 bytes
  std::string report_id;          // 0x140, 32 bytes
  std::string report_id_ma;       // 0x160, 32 bytes
  SnpTcbVersion reported_tcb;     // 0x180
  uint8_t cpuid_fam_id = 0;       // 0x188 (version >= 3)
  uint8_t cpuid_mod_id = 0;       // 0x189
  uint8_t cpuid_step = 0;         // 0x18A
  std::string chip_id;            // 0x1A0, 64 bytes
  SnpTcbVersion committed_tcb;    // 0x1E0
  uint8_t current_build = 0, current_minor = 0, current_major = 0;        // 0x1E8..0x1EA
  uint8_t committed_build = 0, committed_minor = 0, committed_major = 0;  // 0x1EC..0x1EE
  SnpTcbVersion launch_tcb;       // 0x1F0
  uint64_t launch_mit_vector = 0;   // 0x1F8 (version >= 5)
  uint64_t current_mit_vector = 0;  // 0x200 (version >= 5)
  std::string signature_r;        // 0x2A0, 72 bytes little-endian
  std::string signature_s;        // 0x2E8, 72 bytes little-endian
  std::string raw;                // all 1184 bytes

  // Parses exactly kSize bytes; Corruption naming the size otherwise.
  static Result<SevSnpReport> Parse(std::string_view bytes);
  // The signed area, bytes 0x000..0x29F.
  std::string_view SignedBytes() const { return std::string_view(raw).substr(0, kSignedSize); }
  bool debug_allowed() const { return (policy & kPolicyDebugBit) != 0; }
  // 0 = VCEK, 1 = VLEK, 7 = none.
  uint32_t signing_key() const { return (signer_info >> 2) & 7; }
  // True for a Turin-layout TCB (CPUID family 0x1A, report version >= 3).
  bool turin_layout() const { return version >= 3 && cpuid_fam_id == 0x1A; }
  // All fields, binary ones as lowercase hex.
  nlohmann::json ToJson() const;
};

}  // namespace resmeter
