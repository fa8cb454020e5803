#include "evidence/sev_snp_report.h"

#include <cstring>

#include "core/strings.h"

namespace resmeter {
namespace {

// Little-endian integer of N bytes at `off`.
template <typename T>
T Le(std::string_view b, size_t off) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<uint8_t>(b[off + i])) << (8 * i);
  return v;
}

std::string Bytes(std::string_view b, size_t off, size_t len) { return std::string(b.substr(off, len)); }

}  // namespace

SnpTcbVersion SnpTcbVersion::Decode(uint64_t raw, bool turin) {
  SnpTcbVersion t;
  t.raw = raw;
  auto byte = [raw](int i) { return static_cast<uint8_t>(raw >> (8 * i)); };
  if (turin) {
    t.fmc = byte(0);
    t.boot_loader = byte(1);
    t.tee = byte(2);
    t.snp = byte(3);
  } else {
    t.boot_loader = byte(0);
    t.tee = byte(1);
    t.snp = byte(6);
  }
  t.microcode = byte(7);
  return t;
}

bool SnpTcbVersion::AtLeast(const SnpTcbVersion& min) const {
  return fmc >= min.fmc && boot_loader >= min.boot_loader && tee >= min.tee && snp >= min.snp &&
         microcode >= min.microcode;
}

nlohmann::json SnpTcbVersion::ToJson() const {
  return {{"raw", raw},       {"fmc", fmc}, {"boot_loader", boot_loader}, {"tee", tee},
          {"snp", snp},       {"microcode", microcode}};
}

Result<SevSnpReport> SevSnpReport::Parse(std::string_view b) {
  if (b.size() != kSize) {
    return Status::Corruption("sev-snp report: size " + std::to_string(b.size()) + " bytes, want " +
                              std::to_string(kSize));
  }
  SevSnpReport r;
  r.raw = std::string(b);
  r.version = Le<uint32_t>(b, 0x000);
  r.guest_svn = Le<uint32_t>(b, 0x004);
  r.policy = Le<uint64_t>(b, 0x008);
  r.family_id = Bytes(b, 0x010, 16);
  r.image_id = Bytes(b, 0x020, 16);
  r.vmpl = Le<uint32_t>(b, 0x030);
  r.signature_algo = Le<uint32_t>(b, 0x034);
  r.platform_info = Le<uint64_t>(b, 0x040);
  r.signer_info = Le<uint32_t>(b, 0x048);
  r.report_data = Bytes(b, 0x050, 64);
  r.measurement = Bytes(b, 0x090, 48);
  r.host_data = Bytes(b, 0x0C0, 32);
  r.id_key_digest = Bytes(b, 0x0E0, 48);
  r.author_key_digest = Bytes(b, 0x110, 48);
  r.report_id = Bytes(b, 0x140, 32);
  r.report_id_ma = Bytes(b, 0x160, 32);
  if (r.version >= 3) {
    r.cpuid_fam_id = static_cast<uint8_t>(b[0x188]);
    r.cpuid_mod_id = static_cast<uint8_t>(b[0x189]);
    r.cpuid_step = static_cast<uint8_t>(b[0x18A]);
  }
  bool turin = r.turin_layout();
  r.current_tcb = SnpTcbVersion::Decode(Le<uint64_t>(b, 0x038), turin);
  r.reported_tcb = SnpTcbVersion::Decode(Le<uint64_t>(b, 0x180), turin);
  r.chip_id = Bytes(b, 0x1A0, 64);
  r.committed_tcb = SnpTcbVersion::Decode(Le<uint64_t>(b, 0x1E0), turin);
  r.current_build = static_cast<uint8_t>(b[0x1E8]);
  r.current_minor = static_cast<uint8_t>(b[0x1E9]);
  r.current_major = static_cast<uint8_t>(b[0x1EA]);
  r.committed_build = static_cast<uint8_t>(b[0x1EC]);
  r.committed_minor = static_cast<uint8_t>(b[0x1ED]);
  r.committed_major = static_cast<uint8_t>(b[0x1EE]);
  r.launch_tcb = SnpTcbVersion::Decode(Le<uint64_t>(b, 0x1F0), turin);
  if (r.version >= 5) {
    r.launch_mit_vector = Le<uint64_t>(b, 0x1F8);
    r.current_mit_vector = Le<uint64_t>(b, 0x200);
  }
  r.signature_r = Bytes(b, kSignatureOffset, kSignatureComponentSize);
  r.signature_s = Bytes(b, kSignatureOffset + kSignatureComponentSize, kSignatureComponentSize);
  return r;
}

nlohmann::json SevSnpReport::ToJson() const {
  return {{"version", version},
          {"guest_svn", guest_svn},
          {"policy", policy},
          {"policy_debug_allowed", debug_allowed()},
          {"family_id", HexEncode(family_id)},
          {"image_id", HexEncode(image_id)},
          {"vmpl", vmpl},
          {"signature_algo", signature_algo},
          {"current_tcb", current_tcb.ToJson()},
          {"platform_info", platform_info},
          {"author_key_en", (signer_info & 1) != 0},
          {"mask_chip_key", (signer_info & 2) != 0},
          {"signing_key", signing_key()},
          {"report_data", HexEncode(report_data)},
          {"measurement", HexEncode(measurement)},
          {"host_data", HexEncode(host_data)},
          {"id_key_digest", HexEncode(id_key_digest)},
          {"author_key_digest", HexEncode(author_key_digest)},
          {"report_id", HexEncode(report_id)},
          {"report_id_ma", HexEncode(report_id_ma)},
          {"reported_tcb", reported_tcb.ToJson()},
          {"cpuid_fam_id", cpuid_fam_id},
          {"cpuid_mod_id", cpuid_mod_id},
          {"cpuid_step", cpuid_step},
          {"chip_id", HexEncode(chip_id)},
          {"committed_tcb", committed_tcb.ToJson()},
          {"current_version", std::to_string(current_major) + "." + std::to_string(current_minor) + "." +
                                  std::to_string(current_build)},
          {"committed_version", std::to_string(committed_major) + "." + std::to_string(committed_minor) +
                                    "." + std::to_string(committed_build)},
          {"launch_tcb", launch_tcb.ToJson()},
          {"launch_mit_vector", launch_mit_vector},
          {"current_mit_vector", current_mit_vector},
          {"signature_r", HexEncode(signature_r)},
          {"signature_s", HexEncode(signature_s)}};
}

}  // namespace resmeter
